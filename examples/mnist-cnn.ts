/**
 * A LeNet-ish CNN on the MNIST digits shipped by the `mnist` package (the same split as
 * examples/mnist.ts: 2,000 test digits): conv 1→8 3×3 pad 1, ReLU, max-pool 2, conv 8→16 3×3
 * pad 1, ReLU, max-pool 2, flatten, linear 784→10, trained with Adam. Optional augmentation:
 * random shifts of up to ±2 pixels (`--shift 2`). Prints a progress bar per epoch and writes
 *   cnn-loss.svg        training loss and test accuracy against epochs
 *   cnn.safetensors     the trained weights (a state dict, loadable by name into the same model)
 *
 *   npx tsx examples/mnist-cnn.ts [--epochs 8] [--batch-size 32] [--lr 2e-3] [--shift 1] [--seed 0] [--out out/]
 *                                 [--quick]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DataLoader,
  datasets,
  manualSeed,
  nn,
  noGrad,
  optim,
  saveSafetensors,
  Tensor,
  Generator,
} from '../src/index.js';
import { lineChartSvg } from './lib/plot.js';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string' },
    'batch-size': { type: 'string' },
    lr: { type: 'string' },
    shift: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    quick: { type: 'boolean' },
    smoke: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  console.log(
    'usage: npx tsx examples/mnist-cnn.ts [--epochs N] [--batch-size B] [--lr η] [--shift PIXELS] [--seed S]\n' +
      '       [--out DIR] [--quick]',
  );
  process.exit(0);
}
function num(name: string, v: string | undefined, dflt: number, check: (x: number) => boolean, what: string): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (!check(x)) {
    console.error(`mnist-cnn: --${name} must be ${what}, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return x;
}
const quick = (args.quick ?? false) || (args.smoke ?? false);
const epochs = num('epochs', args.epochs, quick ? 1 : 8, (x) => Number.isInteger(x) && x > 0, 'a positive integer');
const batchSize = num('batch-size', args['batch-size'], 32, (x) => Number.isInteger(x) && x > 0, 'a positive integer');
const lr = num('lr', args.lr, 2e-3, (x) => x > 0, 'a positive number');
const maxShift = num('shift', args.shift, 1, (x) => Number.isInteger(x) && x >= 0 && x <= 4, 'an integer in 0..4');
const seed = num('seed', args.seed, 0, (x) => Number.isSafeInteger(x) && x >= 0, 'a non-negative integer');
const outDir = resolve(args.out ?? 'out');

const data = quick ? datasets.mnistDigits({ trainPerDigit: 60, testPerDigit: 20 }) : datasets.mnistDigits();
const nTrain = data.train.x.shape[0]!,
  nTest = data.test.x.shape[0]!;
const toImages = (x: Tensor): Tensor => x.reshape([x.shape[0]!, 1, 28, 28]);
console.log(`MNIST digits (npm 'mnist'): ${nTrain} train / ${nTest} test images, 1×28×28`);

manualSeed(seed);
const model = new nn.Sequential(
  new nn.Conv2d(1, 8, 3, { padding: 1 }),
  new nn.ReLU(),
  new nn.MaxPool2d(2),
  new nn.Conv2d(8, 16, 3, { padding: 1 }),
  new nn.ReLU(),
  new nn.MaxPool2d(2),
  new nn.Flatten(),
  new nn.Linear(16 * 7 * 7, 10),
);
console.log(
  `${model.toString()}\n${model.numParameters()} parameters; Adam lr ${lr}, batch ${batchSize},` +
    ` ${epochs} epoch(s), ` +
    `augmentation: ${maxShift ? `random shifts up to ±${maxShift} px` : 'none'}, seed ${seed}` +
    `${quick ? ' (--quick)' : ''}\n`,
);
const opt = new optim.Adam(model.parameters(), { lr });
// A step schedule: the second half of the epochs runs at 0.3 × lr.
const sched = new optim.StepLR(opt, { stepSize: Math.max(1, Math.ceil(epochs / 2)), gamma: 0.3 });

/** Shifts each image by a random (dy, dx) in [−s, s]², filling with 0 (the background). */
const rng = new Generator(seed + 1);
function shiftBatch(x: Tensor, s: number): Tensor {
  if (s === 0) return x;
  const src = x.data as Float32Array,
    n = x.shape[0]!;
  const out = new Float32Array(src.length);
  for (let i = 0; i < n; i++) {
    const dy = Math.floor(rng.uniform() * (2 * s + 1)) - s,
      dx = Math.floor(rng.uniform() * (2 * s + 1)) - s;
    const base = i * 784;
    for (let r = 0; r < 28; r++) {
      const sr = r - dy;
      if (sr < 0 || sr >= 28) continue;
      for (let c = 0; c < 28; c++) {
        const sc = c - dx;
        if (sc >= 0 && sc < 28) out[base + r * 28 + c] = src[base + sr * 28 + sc]!;
      }
    }
  }
  return new Tensor(out, x.shape);
}
function accuracy(): number {
  model.eval();
  let hits = 0;
  noGrad(() => {
    for (let s = 0; s < nTest; s += 500) {
      const e = Math.min(nTest, s + 500);
      const pred = model.forward(toImages(data.test.x.slice([[s, e]]))).argmax(1).data,
        y = data.test.y.data;
      for (let i = 0; i < e - s; i++) if (pred[i] === y[s + i]) hits++;
    }
  });
  model.train();
  return hits / nTest;
}

const tty = process.stderr.isTTY === true;
const loader = new DataLoader(data.train.x, data.train.y, { batchSize, shuffle: true, seed });
const lossCurve: [number, number][] = [],
  accCurve: [number, number][] = [];
const t0 = performance.now();
let steps = 0,
  testAcc = 0;
for (let epoch = 1; epoch <= epochs; epoch++) {
  const te = performance.now();
  let seen = 0,
    lossSum = 0,
    win = 0,
    winN = 0;
  const window = Math.max(1, Math.round(loader.length / 10));
  for (const [xb, yb] of loader) {
    const loss = nn.crossEntropy(model.forward(toImages(shiftBatch(xb, maxShift))), yb);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    const l = loss.item(),
      b = yb.shape[0]!;
    steps++;
    seen += b;
    lossSum += l * b;
    win += l;
    if (++winN === window) {
      lossCurve.push([epoch - 1 + seen / nTrain, win / winN]);
      win = winN = 0;
    }
    if (tty) {
      const f = seen / nTrain,
        w = 20,
        filled = Math.round(f * w);
      process.stderr.write(
        `\r  epoch ${epoch}/${epochs} [${'█'.repeat(filled)}${'·'.repeat(w - filled)}]` +
          ` ${(100 * f).toFixed(0).padStart(3)}%` +
          `  loss ${(lossSum / seen).toFixed(4)}  ${((seen * 1000) / (performance.now() - te)).toFixed(0)}` +
          ` images/s\x1b[K`,
      );
    }
  }
  sched.step();
  testAcc = accuracy();
  accCurve.push([epoch, 1 - testAcc]);
  if (tty) process.stderr.write('\r\x1b[K');
  console.log(
    `  epoch ${epoch}/${epochs}  train loss ${(lossSum / seen).toFixed(4)}  test accuracy` +
      ` ${(100 * testAcc).toFixed(2)}%  ` +
      `${((seen * 1000) / (performance.now() - te)).toFixed(0)} images/s ` +
      ` ${((performance.now() - te) / 1000).toFixed(1)} s`,
  );
}
const wall = (performance.now() - t0) / 1000;
console.log(`\n| model | epochs | steps | augmentation | test accuracy | wall time |\n|:--|--:|--:|:--|--:|--:|`);
const aug = maxShift ? `shift ±${maxShift}` : 'none';
console.log(
  `| LeNet-ish CNN | ${epochs} | ${steps} | ${aug} | ${(100 * testAcc).toFixed(2)}% | ${wall.toFixed(1)} s |`,
);
if (!quick) console.log(`target ≥ 96.5% on the ${nTest} test digits: ${testAcc >= 0.965 ? 'met' : 'NOT met'}`);

mkdirSync(outDir, { recursive: true });
const svg = await lineChartSvg({
  title: `MNIST LeNet-ish CNN (seed ${seed}): training loss and test error`,
  xLabel: 'epoch',
  yLabel: 'loss / error rate',
  logY: true,
  series: [
    { name: 'training loss (window mean)', points: lossCurve },
    { name: 'test error rate', points: accCurve },
  ],
});
writeFileSync(join(outDir, 'cnn-loss.svg'), svg);
await saveSafetensors(join(outDir, 'cnn.safetensors'), model.stateDict(), {
  testAccuracy: String(testAcc),
  epochs: String(epochs),
});
console.log(`wrote ${join(outDir, 'cnn-loss.svg')}\nwrote ${join(outDir, 'cnn.safetensors')}`);
