import { nn, optim, randn, manualSeed, conv2d, maxPool2d, setNumThreads } from '../src/index.js';
setNumThreads(1);
manualSeed(0);
const model = new nn.Sequential(
  new nn.Conv2d(1, 8, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
  new nn.Conv2d(8, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
  new nn.Flatten(), new nn.Linear(784, 10));
const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
const x = randn([32, 1, 28, 28]); const y = Array.from({ length: 32 }, (_, i) => i % 10);
const time = (name: string, f: () => unknown) => { for (let i = 0; i < 3; i++) f(); const c0 = process.cpuUsage(); for (let i = 0; i < 20; i++) f(); const c = process.cpuUsage(c0); console.log(name.padEnd(20), ((c.user + c.system) / 20e3).toFixed(2), 'ms cpu'); };
time('step', () => { const l = nn.crossEntropy(model.forward(x), y); opt.zeroGrad(); l.backward(); opt.step(); });
time('forward', () => nn.crossEntropy(model.forward(x), y));
const w1 = randn([8, 1, 3, 3]).requiresGrad_(), w2 = randn([16, 8, 3, 3]).requiresGrad_(); const h1 = randn([32, 8, 28, 28]).requiresGrad_(), h2 = randn([32, 8, 14, 14]).requiresGrad_();
const g1 = randn([32, 8, 28, 28]), g2 = randn([32, 16, 14, 14]);
time('conv1 fwd', () => conv2d(x, w1, null, { padding: 1 }));
time('conv1 fwd+bwd(w)', () => conv2d(x, w1, null, { padding: 1 }).backward(g1));
time('conv2 fwd', () => conv2d(h2, w2, null, { padding: 1 }));
time('conv2 fwd+bwd', () => conv2d(h2, w2, null, { padding: 1 }).backward(g2));
time('pool1 fwd', () => maxPool2d(h1, 2));
time('pool1 fwd+bwd', () => maxPool2d(h1, 2).backward(randn([32, 8, 14, 14])));
time('relu fwd+bwd', () => h1.relu().backward(g1));
time('randn 200k', () => randn([32, 8, 14, 14]));
