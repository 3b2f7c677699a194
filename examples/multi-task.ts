/**
 * Multi-task optimization (the seed's "future trend"): one shared linear trunk, two heads, two
 * losses whose gradients conflict on the trunk. Compares summing the task gradients with PCGrad
 * (projecting each task's gradient off the other's when they point against each other).
 *
 *   npx tsx examples/multi-task.ts [--quick] [--out out/] [--seed N]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Generator, noGrad, optim, randn, type Tensor } from '../src/index.js';
import { lineChartSvg } from './lib/plot.js';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean' }, out: { type: 'string' }, seed: { type: 'string' } },
});
const steps = args.quick ? 60 : 400;
const outDir = args.out ?? 'out';
const seed = Number(args.seed ?? 0);

// Data: x ∈ R⁸; task A wants y_A = x·a, task B wants y_B = −x·a + x·b (partly opposed through the shared trunk).
const gen = new Generator(seed);
const n = 256,
  d = 8,
  h = 1;
const x = randn([n, d], { generator: gen });
const a = randn([d, 1], { generator: gen }),
  b = randn([d, 1], { generator: gen });
const yA = noGrad(() => x.matmul(a)),
  yB = noGrad(() => x.matmul(a).neg().add(x.matmul(b).mul(0.5)));

function train(method: 'weighted' | 'pcgrad') {
  const g = new Generator(seed + 1);
  const trunk = randn([d, h], { std: 0.3, generator: g, requiresGrad: true });
  const headA = randn([h, 1], { std: 0.3, generator: g, requiresGrad: true });
  const headB = randn([h, 1], { std: 0.3, generator: g, requiresGrad: true });
  const opt = new optim.Adam([trunk, headA, headB], { lr: 0.01 });
  const hist: { a: [number, number][]; b: [number, number][]; conflicts: number } = { a: [], b: [], conflicts: 0 };
  const pcgGen = new Generator(seed + 2);
  for (let k = 0; k < steps; k++) {
    const z = x.matmul(trunk);
    const lossA: Tensor = z.matmul(headA).sub(yA).square().mean();
    const lossB: Tensor = z.matmul(headB).sub(yB).square().mean();
    hist.a.push([k, lossA.item()]);
    hist.b.push([k, lossB.item()]);
    opt.zeroGrad();
    const r = optim.multiTaskBackward([lossA, lossB], [trunk, headA, headB], { method, generator: pcgGen });
    hist.conflicts += r.conflicts;
    opt.step();
  }
  return hist;
}

const summed = train('weighted'),
  pcgrad = train('pcgrad');
const last = (s: [number, number][]) => s[s.length - 1]![1];
console.log(`two tasks, shared trunk ${d}→${h}, Adam lr 0.01, ${steps} steps`);
console.log('| combination | final loss A | final loss B | A + B | steps with conflicting gradients |');
console.log('|---|---|---|---|---|');
for (const [name, r] of [
  ['sum', summed],
  ['PCGrad', pcgrad],
] as const) {
  console.log(
    `| ${name} | ${last(r.a).toFixed(5)} | ${last(r.b).toFixed(5)} | ${(last(r.a) + last(r.b)).toFixed(5)} | ${r.conflicts} / ${steps} |`,
  );
}
mkdirSync(outDir, { recursive: true });
const svg = await lineChartSvg({
  title: 'Two conflicting tasks: summed gradients vs PCGrad',
  xLabel: 'step',
  yLabel: 'task loss (log scale)',
  logY: true,
  series: [
    { name: 'task A, sum', points: summed.a },
    { name: 'task B, sum', points: summed.b },
    { name: 'task A, PCGrad', points: pcgrad.a },
    { name: 'task B, PCGrad', points: pcgrad.b },
  ],
});
writeFileSync(join(outDir, 'multi-task.svg'), svg);
console.log(`\nwrote ${join(outDir, 'multi-task.svg')}`);
