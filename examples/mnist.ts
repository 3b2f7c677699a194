/**
 * The main job (`npm run demo`): a 784-128-10 MLP on the MNIST digits shipped by the `mnist`
 * package, trained four ways side by side (full-batch gradient descent, mini-batch SGD, plain and
 * with momentum, and Adam) from the same initial weights. Prints a progress bar per epoch and a
 * final table, and writes into the output folder:
 *   loss-curves.svg          training loss against epochs for every method
 *   best-model.safetensors   a checkpoint (weights + optimizer + RNG state) of the best model
 *
 *   npm run demo -- [--epochs 5] [--batch-size 32] [--lr η] [--seed 0] [--out out] [--quick] (--help: all flags)
 * Every flag is checked before any data is loaded: a bad one is one line on stderr and exit code 2.
 */
import { accessSync, constants, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DataLoader, datasets, manualSeed, nn, noGrad, optim, saveCheckpoint, type Tensor } from '../src/index.js';
import { lineChartSvg } from './lib/plot.js';

/** Flags, with their defaults and help lines (`default` is what --help prints). */
const FLAGS = {
  epochs: { type: 'string', arg: 'N', default: '5; 2 with --quick', help: 'passes over the training set' },
  'batch-size': { type: 'string', arg: 'B', default: '32', help: 'mini-batch size of SGD, SGD + momentum and Adam' },
  lr: { type: 'string', arg: 'η', default: 'per method', help: 'one learning rate for every method' },
  'lr-gd': { type: 'string', arg: 'η', default: '1', help: 'learning rate of full-batch GD' },
  'lr-sgd': { type: 'string', arg: 'η', default: '0.1', help: 'learning rate of SGD' },
  'lr-momentum': { type: 'string', arg: 'η', default: '0.05', help: 'learning rate of SGD + momentum 0.9' },
  'lr-adam': { type: 'string', arg: 'η', default: '0.002', help: 'learning rate of Adam' },
  seed: { type: 'string', arg: 'S', default: '0', help: 'initial weights and batch order' },
  out: { type: 'string', arg: 'DIR', default: 'out', help: 'output folder (created if missing)' },
  methods: { type: 'string', arg: 'LIST', default: 'gd,sgd,momentum,adam', help: 'comma-separated subset to train' },
  hidden: { type: 'string', arg: 'H', default: '128', help: 'hidden layer width' },
  quick: { type: 'boolean', arg: '', default: 'off', help: '100 train / 50 test images per digit, 2 epochs' },
  help: { type: 'boolean', arg: '', default: '', help: 'show this help and exit' },
} as const;
type Flag = keyof typeof FLAGS;

function usage(msg: string): never {
  console.error(`mnist: ${msg} (see --help)`);
  process.exit(2);
}
function help(): never {
  const rows = Object.entries(FLAGS).map(([name, f]) => [
    `--${name}${f.arg ? ` ${f.arg}` : ''}${name === 'help' ? ', -h' : ''}`,
    f,
  ]);
  const w = Math.max(...rows.map(([l]) => (l as string).length));
  console.log(
    'usage: npm run demo -- [flags]      (or: npx tsx examples/mnist.ts [flags])\n\n' +
      'Trains a 784-H-10 MLP on the MNIST digits with GD, SGD, SGD + momentum and Adam, then prints a table and\n' +
      'writes DIR/loss-curves.svg and DIR/best-model.safetensors.\n\nflags:',
  );
  for (const [l, f] of rows) {
    const { help: h, default: d } = f as (typeof FLAGS)[Flag];
    console.log(`  ${(l as string).padEnd(w)}  ${h}${d ? ` (default: ${d})` : ''}`);
  }
  process.exit(0);
}

// `npm run demo --quick` (without `--`) hands --quick to npm, which sets npm_config_quick and runs us
// without it: say so rather than start a full run nobody asked for.
for (const name of Object.keys(FLAGS)) {
  if (
    process.env[`npm_config_${name.replace(/-/g, '_')}`] !== undefined &&
    process.env.npm_lifecycle_event === 'demo'
  ) {
    usage(`npm took --${name} as its own option; put flags after --, as in: npm run demo -- --${name}`);
  }
}
// A negative number after a flag that takes a value is that value (parseArgs would call it ambiguous),
// so `--epochs -1` is reported as a bad --epochs rather than as a parse error.
const argv: string[] = [];
for (const a of process.argv.slice(2)) {
  const prev = argv.at(-1);
  const name = prev?.startsWith('--') && !prev.includes('=') ? prev.slice(2) : '';
  if (/^-\d/.test(a) && name in FLAGS && FLAGS[name as Flag].type === 'string') argv[argv.length - 1] = `${prev}=${a}`;
  else argv.push(a);
}
let args: { [K in Flag]?: (typeof FLAGS)[K]['type'] extends 'boolean' ? boolean : string };
try {
  const options = Object.fromEntries(Object.entries(FLAGS).map(([k, f]) => [k, { type: f.type }]));
  options.help = { type: 'boolean', short: 'h' } as never;
  ({ values: args } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }) as never);
} catch (e) {
  const first = (e as Error).message.split(/\. |\n/)[0]!;
  usage(first.charAt(0).toLowerCase() + first.slice(1));
}
if (args.help) help();

function num(name: Flag, v: string | undefined, dflt: number, check: (x: number) => boolean, what: string): number {
  if (v === undefined) return dflt;
  const x = v.trim() === '' ? NaN : Number(v);
  if (!check(x)) usage(`--${name} must be ${what}, got ${JSON.stringify(v)}`);
  return x;
}
const posInt = (x: number): boolean => Number.isSafeInteger(x) && x > 0;
const posNum = (x: number): boolean => Number.isFinite(x) && x > 0;

const quick = args.quick ?? false;
const epochs = num('epochs', args.epochs, quick ? 2 : 5, posInt, 'a positive integer');
const batchSize = num('batch-size', args['batch-size'], 32, posInt, 'a positive integer');
const seed = num('seed', args.seed, 0, (x) => Number.isSafeInteger(x) && x >= 0, 'a non-negative integer');
const hidden = num('hidden', args.hidden, 128, posInt, 'a positive integer');
const lrAll = args.lr === undefined ? undefined : num('lr', args.lr, 0, posNum, 'a positive number');
const outDir = resolve(args.out ?? 'out');
if (args.out !== undefined && args.out.trim() === '') usage('--out must name a folder, got ""');
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
  {
    id: 'momentum',
    label: 'SGD + momentum 0.9',
    lr: 0.05,
    batchSize,
    make: (p, lr) => new optim.SGD(p, { lr, momentum: 0.9 }),
  },
  { id: 'adam', label: 'Adam', lr: 2e-3, batchSize, make: (p, lr) => new optim.Adam(p, { lr }) },
];
const wanted = (args.methods ?? 'gd,sgd,momentum,adam').split(',').map((s) => s.trim());
for (const w of wanted) {
  if (!ALL.some((m) => m.id === w))
    usage(`unknown method ${JSON.stringify(w)} in --methods (choose from ${ALL.map((m) => m.id).join(', ')})`);
}
// Every --lr-* is checked, including those of methods not in --methods.
const lrs = Object.fromEntries(
  ALL.map((m) => [m.id, num(`lr-${m.id}`, args[`lr-${m.id}`], lrAll ?? m.lr, posNum, 'a positive number')]),
);
const methods = ALL.filter((m) => wanted.includes(m.id)).map((m) => ({ ...m, lr: lrs[m.id]! }));

// The output folder is created (or checked) now, not after minutes of training.
try {
  mkdirSync(outDir, { recursive: true });
  if (!statSync(outDir).isDirectory()) throw new Error('not a directory');
  accessSync(outDir, constants.W_OK);
} catch (e) {
  const why =
    (e as NodeJS.ErrnoException).code === 'EEXIST' || (e as NodeJS.ErrnoException).code === 'ENOTDIR'
      ? 'it is a file, not a folder'
      : (e as Error).message.split('\n')[0]!;
  usage(`--out ${JSON.stringify(args.out ?? 'out')} cannot be used as the output folder: ${why}`);
}

// ---- data -----------------------------------------------------------------------------------
// The documented split (see datasets.mnistDigits): the last 200 images of each digit are test.
let data: ReturnType<typeof datasets.mnistDigits>;
try {
  data = quick ? datasets.mnistDigits({ trainPerDigit: 100, testPerDigit: 50 }) : datasets.mnistDigits();
} catch (e) {
  console.error(`mnist: ${(e as Error).message}`);
  process.exit(1);
}
const nTrain = data.train.x.shape[0]!,
  nTest = data.test.x.shape[0]!;
console.log(`MNIST digits (npm 'mnist'): ${nTrain} train / ${nTest} test images, 28×28 → 784 floats in [0, 1]`);
console.log(
  `model 784-${hidden}-10 MLP (ReLU), cross-entropy; ${epochs} epoch(s), batch size ${batchSize}, seed ${seed}${quick ? ' (--quick)' : ''}\n`,
);

/** Number of rows where argmax(logits) equals the label. */
function correct(logits: Tensor, labels: Tensor): number {
  const pred = logits.argmax(1).data,
    y = labels.data;
  let c = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) c++;
  return c;
}
/** Cross-entropy on the whole training set, without recording (the loss GD's next step would measure). */
function fullTrainLoss(model: nn.Module & { forward(x: Tensor): Tensor }): number {
  return noGrad(() => nn.crossEntropy(model.forward(data.train.x), data.train.y).item());
}
function evaluate(model: nn.Module & { forward(x: Tensor): Tensor }): number {
  model.eval();
  const acc = noGrad(() => correct(model.forward(data.test.x), data.test.y)) / nTest;
  model.train();
  return acc;
}

// ---- progress -------------------------------------------------------------------------------
const tty = process.stderr.isTTY === true;
const fmtTime = (ms: number): string =>
  ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${((ms % 60_000) / 1000).toFixed(0)} s`;
let lastDraw = 0;
function bar(epoch: number, frac: number, loss: number, acc: number, rate: number): void {
  const now = performance.now();
  if (!tty || (now - lastDraw < 100 && frac < 1)) return;
  lastDraw = now;
  const width = 16,
    filled = Math.round(frac * width);
  const line =
    `  epoch ${epoch}/${epochs} [${'█'.repeat(filled)}${'·'.repeat(width - filled)}] ${(100 * frac).toFixed(0).padStart(3)}%` +
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
  // Every curve starts with the loss of the initial weights (epoch 0) and ends with the loss on the whole
  // training set after the last step (epoch `epochs`), so all methods span the same epochs.
  const curve: [number, number][] = [[0, fullTrainLoss(model)]];
  // Mini-batch losses are noisy: the curve shows the mean over windows of ~1/20 epoch. Step i's loss is
  // measured before its update, at epoch (i−1)/len, so a window is drawn at its mean position.
  const at = (): number => (steps - (winN + 1) / 2) / loader.length;
  const window = Math.max(1, Math.round(loader.length / 20));
  let win = 0,
    winN = 0,
    steps = 0,
    trainLoss = NaN;
  const t0 = performance.now();
  console.log(
    `${m.label}  (lr ${m.lr}${m.batchSize === null ? `, one step per epoch on all ${nTrain} images` : `, ${loader.length} steps per epoch`})`,
  );
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const te = performance.now();
    let seen = 0,
      lossSum = 0,
      hits = 0;
    for (const [xb, yb] of loader) {
      const logits = model.forward(xb);
      const loss = nn.crossEntropy(logits, yb);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      const l = loss.item(),
        b = yb.shape[0]!;
      steps++;
      seen += b;
      lossSum += l * b;
      hits += correct(logits, yb);
      win += l;
      if (++winN === window) {
        if (at() > 0) curve.push([at(), win / winN]); // GD's first loss is the epoch-0 point already
        win = winN = 0;
      }
      bar(epoch, seen / nTrain, lossSum / seen, hits / seen, (seen * 1000) / (performance.now() - te));
    }
    if (winN > 0) {
      if (at() > 0) curve.push([at(), win / winN]);
      win = winN = 0;
    }
    trainLoss = lossSum / seen;
    const rate = (seen * 1000) / (performance.now() - te);
    const testAcc = evaluate(model);
    if (tty) process.stderr.write('\r\x1b[K');
    console.log(
      `  epoch ${epoch}/${epochs}  train loss ${trainLoss.toFixed(4)}  train acc ${((100 * hits) / seen).toFixed(1)}%  ` +
        `test acc ${(100 * testAcc).toFixed(2)}%  ${rate.toFixed(0)} samples/s  ${fmtTime(performance.now() - te)}`,
    );
  }
  const ms = performance.now() - t0;
  trainLoss = fullTrainLoss(model);
  curve.push([epochs, trainLoss]);
  results.push({ method: m, steps, trainLoss, testAcc: evaluate(model), ms, curve, model, opt });
}

// ---- report ---------------------------------------------------------------------------------
const rows = [
  ['method', 'lr', 'epochs', 'steps', 'train loss', 'test accuracy', 'wall time'],
  ...results.map((r) => [
    r.method.label,
    String(r.method.lr),
    String(epochs),
    String(r.steps),
    r.trainLoss.toFixed(4),
    `${(100 * r.testAcc).toFixed(2)}%`,
    fmtTime(r.ms),
  ]),
];
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
const line = (r: string[]): string =>
  `| ${r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join(' | ')} |`;
console.log(
  `\n${line(rows[0]!)}\n|${widths.map((w, c) => (c === 0 ? ':' : '-') + '-'.repeat(w) + (c === 0 ? '-' : ':')).join('|')}|`,
);
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
    console.log(
      `target ≥ 92% within 5 epochs, ${r.method.label}: ${r.testAcc >= 0.92 && epochs <= 5 ? 'met' : 'NOT met'}`,
    );
  }
}
