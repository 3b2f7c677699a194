import { nn, optim, randn, manualSeed, setNumThreads } from '../src/index.js';
setNumThreads(1);
manualSeed(0);
const model = new nn.Sequential(
  new nn.Conv2d(1, 8, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
  new nn.Conv2d(8, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
  new nn.Flatten(), new nn.Linear(784, 10));
const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
const x = randn([32, 1, 28, 28]); const y = Array.from({ length: 32 }, (_, i) => i % 10);
for (let i = 0; i < 60; i++) { const l = nn.crossEntropy(model.forward(x), y); opt.zeroGrad(); l.backward(); opt.step(); }
