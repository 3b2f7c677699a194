/**
 * The optimizer zoo: the same models on the same MNIST digits, trained with every optimizer in `optim`, from
 * the same initial weights and the same mini-batches. Two tasks:
 *   mlp  the demo's 784-128-10 MLP, each optimizer at a small learning-rate grid (three values around its usual lr);
 *   cnn  the LeNet-ish CNN of examples/mnist-cnn.ts (examples/lib/lenet.ts), each optimizer at the lr that was
 *        best for the MLP (does the tuned lr transfer?), or with --cnn-grid at the same three-point grid.
 * For each optimizer it reports its best lr: steps and wall time until the training loss (a running mean over
 * 20 steps) first reaches the target, the best final loss, and test accuracy; as a markdown table per task and
 * a plot of the loss curves (optimizer-zoo.svg for the MLP, optimizer-zoo-cnn.svg for the CNN).
 *
 *   npx tsx examples/optimizer-zoo.ts [--task mlp|cnn|all] [--epochs 2] [--train-per-digit 500] [--target 0.5]
 *                                     [--cnn-grid] [--seed 0] [--only name,name] [--out out/]
 *   npx tsx examples/optimizer-zoo.ts --smoke     (tiny, both tasks: 100 images, a few steps; --quick is the same)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DataLoader, datasets, manualSeed, nn, noGrad, optim, Tensor } from '../src/index.js';
import { lenet } from './lib/lenet.js';
import { lineChartSvg } from './lib/plot.js';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string' },
    'train-per-digit': { type: 'string' },
    target: { type: 'string' },
    seed: { type: 'string' },
    only: { type: 'string' },
    task: { type: 'string' },
    'cnn-grid': { type: 'boolean' },
    out: { type: 'string' },
    smoke: { type: 'boolean' },
    quick: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  console.log(
    'usage: npx tsx examples/optimizer-zoo.ts [--task mlp|cnn|all] [--epochs N] [--train-per-digit K] [--target L]\n' +
      '       [--cnn-grid] [--seed S] [--only name,name] [--out DIR] [--smoke]',
  );
  process.exit(0);
}
function num(name: string, v: string | undefined, dflt: number, ok: (x: number) => boolean, what: string): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (!ok(x)) {
    console.error(`optimizer-zoo: --${name} must be ${what}, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return x;
}
const smoke = (args.smoke ?? false) || (args.quick ?? false);
const posInt = (x: number) => Number.isInteger(x) && x > 0;
const epochs = num('epochs', args.epochs, smoke ? 1 : 2, posInt, 'a positive integer');
const perDigit = num('train-per-digit', args['train-per-digit'], smoke ? 10 : 500, posInt, 'a positive integer');
const target = num('target', args.target, smoke ? 2.2 : 0.5, (x) => Number.isFinite(x) && x > 0, 'a positive number');
const seed = num('seed', args.seed, 0, (x) => Number.isSafeInteger(x) && x >= 0, 'a non-negative integer');
const outDir = resolve(args.out ?? 'out');
const task = args.task ?? 'all';
if (!['mlp', 'cnn', 'all'].includes(task)) {
  console.error(`optimizer-zoo: --task must be mlp, cnn or all, got ${JSON.stringify(task)}`);
  process.exit(2);
}
const batchSize = 32,
  hidden = 128,
  WINDOW = smoke ? 2 : 20;

/** What the loop needs: an optimizer, or two stepped together (Muon + AdamW). */
interface Stepper {
  step(): unknown;
  zeroGrad(): void;
  train?(): void;
  eval?(): void;
}
type Make = (p: nn.Parameter[], lr: number) => Stepper;
/**
 * Each optimizer with three learning rates a factor ~3 apart, placed (after a first run) so that the best
 * one is inside the grid where possible: the usual default, and larger ones, since the budget is short.
 */
const ZOO: { name: string; lrs: number[]; make: Make }[] = [
  { name: 'GD', lrs: [0.1, 0.3, 1], make: (p, lr) => new optim.GD(p, { lr }) },
  { name: 'SGD + momentum 0.9', lrs: [0.03, 0.1, 0.3], make: (p, lr) => new optim.SGD(p, { lr, momentum: 0.9 }) },
  { name: 'Adam', lrs: [1e-3, 3e-3, 1e-2], make: (p, lr) => new optim.Adam(p, { lr }) },
  { name: 'AdamW (wd 0.01)', lrs: [1e-3, 3e-3, 1e-2], make: (p, lr) => new optim.AdamW(p, { lr }) },
  { name: 'RMSprop', lrs: [1e-3, 3e-3, 1e-2], make: (p, lr) => new optim.RMSprop(p, { lr }) },
  { name: 'Adagrad', lrs: [1e-2, 3e-2, 1e-1], make: (p, lr) => new optim.Adagrad(p, { lr }) },
  { name: 'NAdam', lrs: [2e-3, 6e-3, 2e-2], make: (p, lr) => new optim.NAdam(p, { lr }) },
  { name: 'Lion', lrs: [1e-4, 3e-4, 1e-3], make: (p, lr) => new optim.Lion(p, { lr }) },
  { name: 'SGDScheduleFree', lrs: [0.3, 1, 3], make: (p, lr) => new optim.SGDScheduleFree(p, { lr }) },
  { name: 'AdamWScheduleFree', lrs: [2.5e-3, 8e-3, 2.5e-2], make: (p, lr) => new optim.AdamWScheduleFree(p, { lr }) },
  { name: 'Prodigy', lrs: [0.3, 1, 3], make: (p, lr) => new optim.Prodigy(p, { lr }) },
  { name: 'Lamb', lrs: [3e-3, 1e-2, 3e-2], make: (p, lr) => new optim.Lamb(p, { lr }) },
  { name: 'Lars', lrs: [1, 3, 10], make: (p, lr) => new optim.Lars(p, { lr }) },
];
// torch.optim's other methods. LBFGS is left out: it needs full-batch closures, not mini-batches.
ZOO.push(
  { name: 'RAdam', lrs: [1e-3, 3e-3, 1e-2], make: (p, lr) => new optim.RAdam(p, { lr }) },
  { name: 'Adadelta', lrs: [0.3, 1, 3], make: (p, lr) => new optim.Adadelta(p, { lr }) },
  { name: 'Adafactor', lrs: [3e-3, 1e-2, 3e-2], make: (p, lr) => new optim.Adafactor(p, { lr }) },
  { name: 'ASGD', lrs: [0.03, 0.1, 0.3], make: (p, lr) => new optim.ASGD(p, { lr }) },
  { name: 'Rprop (a full-batch method)', lrs: [1e-3, 3e-3, 1e-2], make: (p, lr) => new optim.Rprop(p, { lr }) },
  // Muon takes the hidden layers' weights; the output layer and the biases go to AdamW (lr 3e-3),
  // as torch.optim.Muon's documentation recommends.
  { name: 'Muon + AdamW', lrs: [0.01, 0.03, 0.1], make: (p, lr) => muonAndAdamW(p, lr) },
);
/**
 * The lr of each optimizer's grid that was best for the MLP (the table in docs/optimizers.md, 2026-12-01):
 * the CNN task's lr without --cnn-grid.
 */
const MLP_BEST: Record<string, number> = {
  GD: 0.3,
  'SGD + momentum 0.9': 0.1,
  Adam: 1e-2,
  'AdamW (wd 0.01)': 1e-2,
  RMSprop: 3e-3,
  Adagrad: 3e-2,
  NAdam: 6e-3,
  Lion: 1e-3,
  SGDScheduleFree: 1,
  AdamWScheduleFree: 2.5e-2,
  Prodigy: 1,
  Lamb: 3e-2,
  Lars: 10,
  RAdam: 1e-2,
  Adadelta: 3,
  Adafactor: 3e-2,
  ASGD: 0.3,
  'Rprop (a full-batch method)': 1e-2,
  'Muon + AdamW': 0.1,
};
/**
 * Muon on the hidden layers' weights (every ≥ 2-D parameter but the last, the output layer), AdamW on the rest.
 * A convolution kernel [out, in, kh, kw] goes to Muon as the [out, in·kh·kw] matrix over the same storage, as
 * Keller Jordan's reference flattens conv filters; its gradient is viewed the same way before each step.
 */
function muonAndAdamW(p: nn.Parameter[], lr: number): Stepper {
  const hidden = p.filter((q) => q.shape.length >= 2).slice(0, -1);
  const views = hidden.map((q) => new nn.Parameter(q, [q.shape[0]!, q.size / q.shape[0]!]));
  const muon = new optim.Muon(views, { lr }),
    adamw = new optim.AdamW(
      p.filter((q) => !hidden.includes(q)),
      { lr: 3e-3 },
    );
  return {
    step() {
      hidden.forEach((q, i) => (views[i]!.grad = q.grad && new Tensor(q.grad.data, views[i]!.shape)));
      muon.step();
      adamw.step();
    },
    zeroGrad() {
      for (const q of hidden) q.grad = null;
      muon.zeroGrad();
      adamw.zeroGrad();
    },
  };
}
const only = args.only?.split(',').map((s) => s.trim());
const zoo = only ? ZOO.filter((z) => only.includes(z.name)) : ZOO;

const data = datasets.mnistDigits({ trainPerDigit: perDigit, testPerDigit: smoke ? 10 : 200 });
const nTrain = data.train.x.shape[0]!,
  nTest = data.test.x.shape[0]!;

interface Run {
  name: string;
  lr: number;
  stepsToTarget: number | null;
  msToTarget: number | null;
  finalLoss: number;
  testAcc: number;
  ms: number;
  curve: [number, number][];
}
interface Task {
  key: 'mlp' | 'cnn';
  title: string;
  model: () => nn.Sequential;
  input: (x: Tensor) => Tensor;
  grid: { name: string; lrs: number[]; make: Make }[];
  svg: string;
}
const images = (x: Tensor): Tensor => x.reshape([x.shape[0]!, 1, 28, 28]);
const tasks: Task[] = [
  {
    key: 'mlp',
    title: `MNIST 784-${hidden}-10 MLP`,
    model: () => new nn.Sequential(new nn.Linear(784, hidden), new nn.ReLU(), new nn.Linear(hidden, 10)),
    input: (x) => x,
    grid: smoke ? zoo.map((z) => ({ ...z, lrs: [z.lrs[1]!] })) : zoo,
    svg: 'optimizer-zoo.svg',
  },
  {
    key: 'cnn',
    title: 'MNIST LeNet-ish CNN (examples/mnist-cnn.ts)',
    model: lenet,
    input: images,
    grid: args['cnn-grid'] && !smoke ? zoo : zoo.map((z) => ({ ...z, lrs: [MLP_BEST[z.name] ?? z.lrs[1]!] })),
    svg: 'optimizer-zoo-cnn.svg',
  },
];

function accuracy(model: nn.Sequential, input: (x: Tensor) => Tensor): number {
  model.eval();
  let c = 0;
  noGrad(() => {
    for (let s = 0; s < nTest; s += 500) {
      const e = Math.min(nTest, s + 500);
      const pred = model.forward(input(data.test.x.slice([[s, e]]))).argmax(1).data,
        y = data.test.y.data;
      for (let i = 0; i < e - s; i++) if (pred[i] === y[s + i]) c++;
    }
  });
  model.train();
  return c / nTest;
}

function train(t: Task, z: Task['grid'][number], lr: number): Run {
  manualSeed(seed);
  const model = t.model();
  const opt = z.make(model.parameters(), lr);
  opt.train?.();
  const loader = new DataLoader(data.train.x, data.train.y, { batchSize, shuffle: true, seed });
  const recent: number[] = [],
    curve: [number, number][] = [];
  let steps = 0,
    stepsToTarget: number | null = null,
    msToTarget: number | null = null,
    mean = NaN;
  const t0 = performance.now();
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const [xb, yb] of loader as Iterable<[Tensor, Tensor]>) {
      const loss = nn.crossEntropy(model.forward(t.input(xb)), yb);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      steps++;
      recent.push(loss.item());
      if (recent.length > WINDOW) recent.shift();
      mean = recent.reduce((a, b) => a + b, 0) / recent.length;
      if (steps % WINDOW === 0) curve.push([steps, mean]);
      if (stepsToTarget === null && recent.length === WINDOW && mean <= target) {
        stepsToTarget = steps;
        msToTarget = performance.now() - t0;
      }
    }
  }
  const ms = performance.now() - t0;
  opt.eval?.(); // Schedule-Free: evaluate at the average x
  const testAcc = accuracy(model, t.input);
  return { name: z.name, lr, stepsToTarget, msToTarget, finalLoss: mean, testAcc, ms, curve };
}

// The best lr of each optimizer: the fewest steps to the target, then the lowest final loss.
const better = (a: Run, b: Run) =>
  a.stepsToTarget !== null && (b.stepsToTarget === null || a.stepsToTarget < b.stepsToTarget)
    ? a
    : b.stepsToTarget !== null && (a.stepsToTarget === null || b.stepsToTarget < a.stepsToTarget)
      ? b
      : a.finalLoss <= b.finalLoss
        ? a
        : b;

mkdirSync(outDir, { recursive: true });
for (const t of tasks.filter((t) => task === 'all' || task === t.key)) {
  console.log(
    `optimizer zoo: ${t.title}, ${nTrain} train / ${nTest} test images, batch ${batchSize}, ${epochs} epoch(s), ` +
      `target train loss ${target} (mean of ${WINDOW} steps), seed ${seed}${smoke ? ' (--smoke)' : ''}` +
      (t.key === 'cnn' && t.grid.every((z) => z.lrs.length === 1) ? ", each optimizer at the MLP's best lr" : ''),
  );
  const runs: Run[] = [];
  for (const z of t.grid) {
    for (const lr of z.lrs) {
      const r = train(t, z, lr);
      runs.push(r);
      console.log(
        `  ${z.name.padEnd(20)} lr ${String(lr).padEnd(7)} final loss ${r.finalLoss.toFixed(4)}  ` +
          `test ${(100 * r.testAcc).toFixed(1)}%  to target: ${r.stepsToTarget ?? '—'} steps  ${(r.ms / 1000).toFixed(1)} s`,
      );
    }
  }
  const best = t.grid.map((z) => runs.filter((r) => r.name === z.name).reduce(better));
  const rows = [
    [
      'optimizer',
      'best lr (of grid)',
      `steps to loss ${target}`,
      'time to target',
      'final loss',
      'best final loss (any lr)',
      'test accuracy',
    ],
    ...best.map((r) => [
      r.name,
      `${r.lr} (${t.grid.find((z) => z.name === r.name)!.lrs.join(', ')})`,
      r.stepsToTarget === null ? 'not reached' : String(r.stepsToTarget),
      r.msToTarget === null ? '—' : `${(r.msToTarget / 1000).toFixed(1)} s`,
      r.finalLoss.toFixed(4),
      Math.min(...runs.filter((x) => x.name === r.name).map((x) => x.finalLoss)).toFixed(4),
      `${(100 * r.testAcc).toFixed(2)}%`,
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    `| ${r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join(' | ')} |`;
  console.log(
    `\n${t.title}: ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'unknown CPU'} ` +
      `(${cpus().length} threads), Node ${process.version}`,
  );
  console.log(
    `${line(rows[0]!)}\n|${widths.map((w, c) => (c === 0 ? ':' : '-') + '-'.repeat(w) + (c === 0 ? '-' : ':')).join('|')}|`,
  );
  for (const r of rows.slice(1)) console.log(line(r));

  const svg = await lineChartSvg({
    title: `Optimizer zoo: ${t.title} training loss at each optimizer's best lr (seed ${seed})`,
    xLabel: 'step',
    yLabel: `cross-entropy (mean of ${WINDOW} steps)`,
    logY: true,
    series: best.map((r) => ({ name: `${r.name}, lr ${r.lr}`, points: r.curve })),
  });
  const svgPath = join(outDir, t.svg);
  writeFileSync(svgPath, svg);
  console.log(`\nwrote ${svgPath}\n`);
}
