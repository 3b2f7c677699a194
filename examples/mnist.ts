/**
 * The main job (`npm run demo`): a 784-128-10 MLP on the MNIST digits shipped by the `mnist`
 * package, trained with the seed's three methods side by side (full-batch gradient descent,
 * mini-batch SGD, plain and with momentum, and Adam) from the same initial weights. Prints a
 * progress bar per epoch and a final table, and writes into the output folder:
 *   loss-curves.svg          training loss against epochs for every method
 *   best-model.safetensors   a checkpoint (weights + optimizer + RNG state) of the best model
 *
 *   npx tsx examples/mnist.ts [--epochs 5] [--batch-size 32] [--lr η] [--seed 0] [--out out/] [--quick]
 *   further flags: --methods gd,sgd,momentum,adam  --hidden 128  --lr-gd/--lr-sgd/--lr-momentum/--lr-adam
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DataLoader, datasets, manualSeed, nn, noGrad, optim, saveCheckpoint, type Tensor } from '../src/index.js';
import { lineChartSvg } from './lib/plot.js';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string' },
    'batch-size': { type: 'string' },
    lr: { type: 'string' },
    'lr-gd': { type: 'string' },
    'lr-sgd': { type: 'string' },
    'lr-momentum': { type: 'string' },
    'lr-adam': { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    methods: { type: 'string' },
    hidden: { type: 'string' },
    quick: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  console.log('usage: npx tsx examples/mnist.ts [--epochs N] [--batch-size B] [--lr η] [--seed S] [--out DIR] [--quick]\n' +
    '       [--methods gd,sgd,momentum,adam] [--hidden H] [--lr-gd η] [--lr-sgd η] [--lr-momentum η] [--lr-adam η]');
  process.exit(0);
}
function num(name: string, v: string | undefined, dflt: number, check: (x: number) => boolean, what: string): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (!check(x)) {
    console.error(`mnist: --${name} must be ${what}, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return x;
}
const posInt = (x: number): boolean => Number.isInteger(x) && x > 0;
const posNum = (x: number): boolean => Number.isFinite(x) && x > 0;

const quick = args.quick ?? false;
const epochs = num('epochs', args.epochs, quick ? 2 : 5, posInt, 'a positive integer');
const batchSize = num('batch-size', args['batch-size'], 32, posInt, 'a positive integer');
const seed = num('seed', args.seed, 0, (x) => Number.isSafeInteger(x) && x >= 0, 'a non-negative integer');
const hidden = num('hidden', args.hidden, 128, posInt, 'a positive integer');
const outDir = resolve(args.out ?? 'out');
const lrAll = args.lr === undefined ? undefined : num('lr', args.lr, 0, posNum, 'a positive number');

type MethodId = 'gd' | 'sgd' | 'momentum' | 'adam';
interface Method {
  id: MethodId;
  label: string;
  lr: number;
  /** null: the whole training set in one batch. */
  batchSize: number | null;
  make(params: nn.Parameter[], lr: number): optim.Optimizer;
}
// Learning rates tuned once on seed 0 and checked on seeds 1–3 (batch 32): momentum and Adam reach
// 93–94.5% test accuracy in 5 epochs. GD gets the same 5 passes over the data, i.e. 5 steps.
const ALL: Method[] = [
  { id: 'gd', label: 'GD (full batch)', lr: 1, batchSize: null, make: (p, lr) => new optim.GD(p, { lr }) },
  { id: 'sgd', label: 'SGD', lr: 0.1, batchSize, make: (p, lr) => new optim.SGD(p, { lr }) },
  { id: 'momentum', label: 'SGD + momentum 0.9', lr: 0.05, batchSize, make: (p, lr) => new optim.SGD(p, { lr, momentum: 0.9 }) },
  { id: 'adam', label: 'Adam', lr: 2e-3, batchSize, make: (p, lr) => new optim.Adam(p, { lr }) },
];
const wanted = (args.methods ?? 'gd,sgd,momentum,adam').split(',').map((s) => s.trim());
for (const w of wanted) {
  if (!ALL.some((m) => m.id === w)) {
    console.error(`mnist: unknown method ${JSON.stringify(w)} in --methods (choose from ${ALL.map((m) => m.id).join(', ')})`);
    process.exit(2);
  }
}
const methods = ALL.filter((m) => wanted.includes(m.id)).map((m) => ({
  ...m,
  lr: num(`lr-${m.id}`, args[`lr-${m.id}`], lrAll ?? m.lr, posNum, 'a positive number'),
}));

// ---- data -----------------------------------------------------------------------------------
// The documented split (see datasets.mnistDigits): the last 200 images of each digit are test.
const data = quick ? datasets.mnistDigits({ trainPerDigit: 100, testPerDigit: 50 }) : datasets.mnistDigits();
const nTrain = data.train.x.shape[0]!, nTest = data.test.x.shape[0]!;
console.log(`MNIST digits (npm 'mnist'): ${nTrain} train / ${nTest} test images, 28×28 → 784 floats in [0, 1]`);
console.log(`model 784-${hidden}-10 MLP (ReLU), cross-entropy; ${epochs} epoch(s), batch size ${batchSize}, seed ${seed}${quick ? ' (--quick)' : ''}\n`);

/** Number of rows where argmax(logits) equals the label. */
function correct(logits: Tensor, labels: Tensor): number {
  const pred = logits.argmax(1).data, y = labels.data;
  let c = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) c++;
  return c;
}
function evaluate(model: nn.Module & { forward(x: Tensor): Tensor }): number {
  model.eval();
  const acc = noGrad(() => correct(model.forward(data.test.x), data.test.y)) / nTest;
  model.train();
  return acc;
}

// ---- progress -------------------------------------------------------------------------------
const tty = process.stderr.isTTY === true;
const fmtTime = (ms: number): string => (ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${((ms % 60_000) / 1000).toFixed(0)} s`);
let lastDraw = 0;
function bar(epoch: number, frac: number, loss: number, acc: number, rate: number): void {
  const now = performance.now();
  if (!tty || (now - lastDraw < 100 && frac < 1)) return;
  lastDraw = now;
  const width = 16, filled = Math.round(frac * width);
  const line = `  epoch ${epoch}/${epochs} [${'█'.repeat(filled)}${'·'.repeat(width - filled)}] ${(100 * frac).toFixed(0).padStart(3)}%` +
    `  loss ${loss.toFixed(4)}  acc ${(100 * acc).toFixed(1)}%  ${rate.toFixed(0)} samples/s`;
  process.stderr.write(`\r${line.slice(0, (process.stderr.columns || 120) - 1)}\x1b[K`);
}

// ---- training -------------------------------------------------------------------------------
interface Result {
  method: Method;
  steps: number;
  trainLoss: number;
  testAcc: number;
  ms: number;
  curve: [number, number][];
  model: nn.Sequential;
  opt: optim.Optimizer;
}
const results: Result[] = [];
for (const m of methods) {
  manualSeed(seed); // every method starts from the same weights
  const model = new nn.Sequential(new nn.Linear(784, hidden), new nn.ReLU(), new nn.Linear(hidden, 10));
  const opt = m.make(model.parameters(), m.lr);
  const bs = m.batchSize ?? nTrain;
  // Same seed for every mini-batch method, so they see the same batches in the same order.
  const loader = new DataLoader(data.train.x, data.train.y, { batchSize: bs, shuffle: m.batchSize !== null, seed });
  const curve: [number, number][] = [];
  // Mini-batch losses are noisy: the curve shows the mean over windows of ~1/20 epoch. Step i's loss is
  // measured before its update, at epoch (i−1)/len, so a window is drawn at its mean position.
  const at = (): number => (steps - (winN + 1) / 2) / loader.length;
  const window = Math.max(1, Math.round(loader.length / 20));
  let win = 0, winN = 0, steps = 0, trainLoss = NaN;
  const t0 = performance.now();
  console.log(`${m.label}  (lr ${m.lr}${m.batchSize === null ? `, one step per epoch on all ${nTrain} images` : `, ${loader.length} steps per epoch`})`);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const te = performance.now();
    let seen = 0, lossSum = 0, hits = 0;
    for (const [xb, yb] of loader) {
      const logits = model.forward(xb);
      const loss = nn.crossEntropy(logits, yb);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      const l = loss.item(), b = yb.shape[0]!;
      steps++;
      seen += b;
      lossSum += l * b;
      hits += correct(logits, yb);
      win += l;
      if (++winN === window) {
        curve.push([at(), win / winN]);
        win = winN = 0;
      }
      bar(epoch, seen / nTrain, lossSum / seen, hits / seen, (seen * 1000) / (performance.now() - te));
    }
    if (winN > 0) curve.push([at(), win / winN]), (win = winN = 0);
    trainLoss = lossSum / seen;
    const rate = (seen * 1000) / (performance.now() - te);
    const testAcc = evaluate(model);
    if (tty) process.stderr.write('\r\x1b[K');
    console.log(`  epoch ${epoch}/${epochs}  train loss ${trainLoss.toFixed(4)}  train acc ${(100 * hits / seen).toFixed(1)}%  ` +
      `test acc ${(100 * testAcc).toFixed(2)}%  ${rate.toFixed(0)} samples/s  ${fmtTime(performance.now() - te)}`);
  }
  const ms = performance.now() - t0;
  results.push({ method: m, steps, trainLoss, testAcc: evaluate(model), ms, curve, model, opt });
}

// ---- report ---------------------------------------------------------------------------------
const rows = [
  ['method', 'lr', 'epochs', 'steps', 'train loss', 'test accuracy', 'wall time'],
  ...results.map((r) => [r.method.label, String(r.method.lr), String(epochs), String(r.steps), r.trainLoss.toFixed(4), `${(100 * r.testAcc).toFixed(2)}%`, fmtTime(r.ms)]),
];
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
const line = (r: string[]): string => `| ${r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join(' | ')} |`;
console.log(`\n${line(rows[0]!)}\n|${widths.map((w, c) => (c === 0 ? ':' : '-') + '-'.repeat(w) + (c === 0 ? '-' : ':')).join('|')}|`);
for (const r of rows.slice(1)) console.log(line(r));

mkdirSync(outDir, { recursive: true });
const svg = await lineChartSvg({
  title: `MNIST 784-${hidden}-10 MLP: training loss (seed ${seed})`,
  xLabel: 'epoch',
  yLabel: 'cross-entropy loss',
  logY: true,
  series: results.map((r) => ({ name: `${r.method.label}, lr ${r.method.lr}`, points: r.curve })),
});
const svgPath = join(outDir, 'loss-curves.svg');
writeFileSync(svgPath, svg);

const best = results.reduce((a, b) => (b.testAcc > a.testAcc ? b : a));
const ckptPath = join(outDir, 'best-model.safetensors');
await saveCheckpoint(ckptPath, {
  model: best.model,
  optimizer: best.opt,
  step: best.steps,
  extra: { method: best.method.id, lr: best.method.lr, epochs, batchSize, seed, hidden, testAccuracy: best.testAcc },
});
console.log(`\nbest: ${best.method.label} (${(100 * best.testAcc).toFixed(2)}% test accuracy)`);
console.log(`wrote ${svgPath}\nwrote ${ckptPath}`);
if (!quick) {
  for (const r of results.filter((x) => x.method.id === 'adam' || x.method.id === 'momentum')) {
    console.log(`target ≥ 92% within 5 epochs, ${r.method.label}: ${r.testAcc >= 0.92 && epochs <= 5 ? 'met' : 'NOT met'}`);
  }
}
