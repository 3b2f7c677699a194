/**
 * GPU memory in a plain synchronous training loop (no tidy, no dispose, never yields):
 * prints live textures and RSS at a few steps. `xvfb-run -a npx tsx bench/gpu-memory.ts [steps]`.
 */
import { nn, optim, randn, setBackend, tuning, manualSeed, tensor } from '../src/index.js';

const { gpuStats } = tuning;

const steps = Number(process.argv[2] ?? 1500);
setBackend('gpu');
manualSeed(0);
const model = new nn.Sequential(new nn.Linear(64, 64), new nn.ReLU(), new nn.Linear(64, 10));
const opt = new optim.SGD(model.parameters(), { lr: 0.01 });
const x = randn([32, 64]);
const y = tensor(
  Array.from({ length: 32 }, (_, i) => i % 10),
  { dtype: 'int32' },
);
const rows: string[] = [];
for (let s = 0; s <= steps; s++) {
  opt.zeroGrad();
  const loss = nn.crossEntropy(model.forward(x), y);
  loss.backward();
  opt.step();
  if (s % 250 === 0 || s === steps) {
    rows.push(
      `step ${s}: liveTextures ${gpuStats().liveTextures}, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB, loss ${loss.item().toFixed(4)}`,
    );
  }
}
console.log(rows.join('\n'));
setBackend('cpu');
