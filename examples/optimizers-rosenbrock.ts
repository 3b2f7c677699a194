/**
 * Every optimizer on the Rosenbrock function f(x, y) = (1 − x)² + 100·(y − x²)², from the classic
 * start (−1.2, 1) to the minimum (1, 1) at the end of a long, curved, flat-bottomed valley.
 * Prints a Markdown table (used in docs/optimizers.md) and writes two SVG plots: the loss curves
 * and the paths in the plane.
 *
 *   npx tsx examples/optimizers-rosenbrock.ts [--quick] [--out out/] [--steps K]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { optim, scalar, type Tensor } from '../src/index.js';
import { lineChartSvg, pathChartSvg } from './lib/plot.js';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean' }, out: { type: 'string' }, steps: { type: 'string' } },
});
const steps = Number(args.steps ?? (args.quick ? 300 : 3000));
const outDir = args.out ?? 'out';
const start: [number, number] = [-1.2, 1];

const rosenbrock = (x: Tensor, y: Tensor): Tensor => x.neg().add(1).square().add(y.sub(x.square()).square().mul(100));

// Learning rates picked per optimizer (a fair comparison tunes each; these are the usual defaults scaled to f's curvature).
const configs: { name: string; lr: number; make: (p: Tensor[]) => optim.Optimizer }[] = [
  { name: 'GD', lr: 1e-3, make: (p) => new optim.GD(p, { lr: 1e-3 }) },
  { name: 'SGD momentum 0.9', lr: 1e-3, make: (p) => new optim.SGD(p, { lr: 1e-3, momentum: 0.9 }) },
  { name: 'SGD Nesterov 0.9', lr: 1e-3, make: (p) => new optim.SGD(p, { lr: 1e-3, momentum: 0.9, nesterov: true }) },
  { name: 'Adam', lr: 0.02, make: (p) => new optim.Adam(p, { lr: 0.02 }) },
  { name: 'Adam AMSGrad', lr: 0.02, make: (p) => new optim.Adam(p, { lr: 0.02, amsgrad: true }) },
  { name: 'RMSprop', lr: 1e-3, make: (p) => new optim.RMSprop(p, { lr: 1e-3 }) },
  {
    name: 'RMSprop centered+mom',
    lr: 1e-3,
    make: (p) => new optim.RMSprop(p, { lr: 1e-3, centered: true, momentum: 0.5 }),
  },
  { name: 'Adagrad', lr: 0.5, make: (p) => new optim.Adagrad(p, { lr: 0.5 }) },
  { name: 'Adamax', lr: 0.05, make: (p) => new optim.Adamax(p, { lr: 0.05 }) },
  { name: 'NAdam', lr: 0.01, make: (p) => new optim.NAdam(p, { lr: 0.01 }) },
  { name: 'Lion', lr: 1e-3, make: (p) => new optim.Lion(p, { lr: 1e-3 }) },
];

interface Run {
  name: string;
  lr: number;
  losses: [number, number][];
  path: [number, number][];
  firstBelow: number | null;
  final: number;
  dist: number;
}
const runs: Run[] = [];
for (const c of configs) {
  const x = scalar(start[0], { dtype: 'float64', requiresGrad: true });
  const y = scalar(start[1], { dtype: 'float64', requiresGrad: true });
  const opt = c.make([x, y]);
  const losses: [number, number][] = [];
  const path: [number, number][] = [[x.item(), y.item()]];
  let firstBelow: number | null = null;
  for (let k = 0; k < steps; k++) {
    opt.zeroGrad();
    const loss = rosenbrock(x, y);
    const v = loss.item();
    losses.push([k, v]);
    if (firstBelow === null && v < 1e-3) firstBelow = k;
    loss.backward();
    opt.step();
    path.push([x.item(), y.item()]);
  }
  const final = rosenbrock(x, y).item();
  runs.push({ name: c.name, lr: c.lr, losses, path, firstBelow, final, dist: Math.hypot(x.item() - 1, y.item() - 1) });
}

console.log(`Rosenbrock from (${start.join(', ')}), ${steps} steps, float64\n`);
console.log('| optimizer | lr | final f | distance to (1, 1) | first step with f < 1e-3 |');
console.log('|---|---|---|---|---|');
for (const r of runs) {
  console.log(
    `| ${r.name} | ${r.lr} | ${r.final.toExponential(2)} | ${r.dist.toExponential(2)} | ${r.firstBelow ?? `> ${steps}`} |`,
  );
}

// Plots: thin each series so the SVG stays small.
const thin = <T>(xs: T[], n = 400): T[] =>
  xs.filter((_, i) => i % Math.max(1, Math.floor(xs.length / n)) === 0 || i === xs.length - 1);
mkdirSync(outDir, { recursive: true });
const lossSvg = await lineChartSvg({
  title: `Rosenbrock: f(θ_k) over ${steps} steps`,
  xLabel: 'step k',
  yLabel: 'f(x, y)  (log scale)',
  logY: true,
  series: runs.map((r) => ({ name: r.name, points: thin(r.losses) })),
});
writeFileSync(join(outDir, 'optimizers-rosenbrock-loss.svg'), lossSvg);

// Level sets f = c of the Rosenbrock function: y = x² ± √((c − (1 − x)²)/100).
const contours: [number, number][][] = [];
for (const c of [0.5, 2, 8, 25, 60]) {
  const upper: [number, number][] = [],
    lower: [number, number][] = [];
  for (let i = 0; i <= 400; i++) {
    const x = -2 + (4 * i) / 400,
      r = c - (1 - x) ** 2;
    if (r < 0) continue;
    const d = Math.sqrt(r / 100);
    upper.push([x, x * x + d]);
    lower.push([x, x * x - d]);
  }
  contours.push([...upper, ...lower.reverse(), upper[0]!]);
}
const pathSvg = await pathChartSvg({
  title: 'Paths on Rosenbrock from (−1.2, 1)',
  xLabel: 'x',
  yLabel: 'y',
  series: runs
    .filter((r) => ['GD', 'SGD momentum 0.9', 'Adam', 'RMSprop', 'Adagrad', 'Lion'].includes(r.name))
    .map((r) => ({ name: r.name, points: thin(r.path, 300) })),
  contours,
  marker: { name: 'minimum (1, 1)', point: [1, 1] },
  xDomain: [-2, 2],
  yDomain: [-1, 3],
});
writeFileSync(join(outDir, 'optimizers-rosenbrock-paths.svg'), pathSvg);
console.log(
  `\nwrote ${join(outDir, 'optimizers-rosenbrock-loss.svg')} and ${join(outDir, 'optimizers-rosenbrock-paths.svg')}`,
);
