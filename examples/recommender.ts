/**
 * Recommendation by matrix factorisation: rating(u, i) ≈ μ + b_u + b_i + p_u · q_i, with the user and
 * item factors p, q and the biases b held in `nn.Embedding`s, trained with Adam on mini-batches.
 *
 * No real ratings set ships on the npm registry, so the ratings are generated: a true rank-5 model
 * with user and item biases plus Gaussian noise σ, observed for a random 10% of the (user, item) pairs,
 * clipped to nothing (so σ is exactly the best test RMSE any model can reach: the noise floor).
 * Reports test RMSE against that floor and against two baselines (global mean; biases only), and
 * writes recommender.svg (train and test RMSE per epoch).
 *
 *   npx tsx examples/recommender.ts [--epochs 20] [--rank 8] [--lambda 0.05] [--seed 0] [--out out/] [--quick]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Generator, manualSeed, nn, noGrad, optim, permutation, Tensor, tensor } from '../src/index.js';
import { lineChartSvg } from './lib/plot.js';
import { fmtTime, Progress } from './lib/progress.js';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string' },
    lambda: { type: 'string' },
    rank: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    quick: { type: 'boolean' },
  },
});
const quick = args.quick ?? false;
const epochs = Number(args.epochs ?? (quick ? 3 : 20));
const rank = Number(args.rank ?? 8);
const seed = Number(args.seed ?? 0);
const outDir = resolve(args.out ?? 'out');
const nUsers = quick ? 200 : 1000,
  nItems = quick ? 300 : 1500,
  trueRank = 5,
  sigma = 0.5,
  density = 0.1;
const batchSize = 1024,
  lambda = Number(args.lambda ?? 0.05);

// ---- generated ratings ------------------------------------------------------------------------
const g = new Generator(seed);
const normal = (): number => g.normalPair()[0];
const P = Array.from({ length: nUsers }, () => Array.from({ length: trueRank }, () => normal() / Math.sqrt(trueRank)));
const Q = Array.from({ length: nItems }, () => Array.from({ length: trueRank }, () => normal() / Math.sqrt(trueRank)));
const bu = Array.from({ length: nUsers }, () => 0.5 * normal()),
  bi = Array.from({ length: nItems }, () => 0.5 * normal());
const mu = 3.5;
const users: number[] = [],
  items: number[] = [],
  ratings: number[] = [];
for (let u = 0; u < nUsers; u++) {
  for (let i = 0; i < nItems; i++) {
    if (g.uniform() >= density) continue;
    const dot = P[u]!.reduce((s, v, k) => s + v * Q[i]![k]!, 0);
    users.push(u);
    items.push(i);
    ratings.push(mu + bu[u]! + bi[i]! + dot + sigma * normal());
  }
}
const order = permutation(ratings.length, g);
const nTest = Math.floor(0.1 * ratings.length);
const split = (idx: number[]): { u: number[]; i: number[]; r: number[] } => ({
  u: idx.map((k) => users[k]!),
  i: idx.map((k) => items[k]!),
  r: idx.map((k) => ratings[k]!),
});
const test = split(order.slice(0, nTest)),
  train = split(order.slice(nTest));
console.log(
  `ratings: ${nUsers} users × ${nItems} items, ${ratings.length} observed (${train.r.length} train, ${test.r.length} test)`,
);
console.log(`truth: rank ${trueRank} + biases, noise σ = ${sigma} (the noise floor for test RMSE)`);

// ---- model ----------------------------------------------------------------------------------------
class MatrixFactorization extends nn.Module<[users: readonly number[], items: readonly number[]], Tensor> {
  readonly userFactors: nn.Embedding;
  readonly itemFactors: nn.Embedding;
  readonly userBias: nn.Embedding;
  readonly itemBias: nn.Embedding;
  readonly globalBias: nn.Parameter;
  constructor(nu: number, ni: number, k: number, mean: number) {
    super();
    this.userFactors = new nn.Embedding(nu, k);
    this.itemFactors = new nn.Embedding(ni, k);
    this.userBias = new nn.Embedding(nu, 1);
    this.itemBias = new nn.Embedding(ni, 1);
    nn.init.normal(this.userFactors.weight, 0, 0.1);
    nn.init.normal(this.itemFactors.weight, 0, 0.1);
    nn.init.constant(this.userBias.weight, 0);
    nn.init.constant(this.itemBias.weight, 0);
    this.globalBias = new nn.Parameter(tensor([mean]));
  }
  forward(u: readonly number[], i: readonly number[]): Tensor {
    const dot = this.userFactors.forward(u).mul(this.itemFactors.forward(i)).sum(-1);
    return dot
      .add(this.userBias.forward(u).reshape([-1]))
      .add(this.itemBias.forward(i).reshape([-1]))
      .add(this.globalBias);
  }
}
const rmse = (pred: Tensor, r: readonly number[]): number => {
  let s = 0;
  pred.data.forEach((p, k) => (s += (p - r[k]!) ** 2));
  return Math.sqrt(s / r.length);
};
const trainMean = train.r.reduce((a, b) => a + b, 0) / train.r.length;

function fit(
  k: number,
  label: string,
): {
  model: MatrixFactorization;
  curve: { train: [number, number][]; test: [number, number][] };
  ms: number;
  cpuMs: number;
} {
  manualSeed(seed);
  const model = new MatrixFactorization(nUsers, nItems, Math.max(k, 1), trainMean);
  if (k === 0) {
    // Biases only: the factors are frozen at zero (an Embedding needs a positive dim, so use 1 and zero it).
    nn.init.constant(model.userFactors.weight, 0);
    nn.init.constant(model.itemFactors.weight, 0);
  }
  const params = k === 0 ? [model.userBias.weight, model.itemBias.weight, model.globalBias] : model.parameters();
  const opt = new optim.Adam(params, { lr: 0.01 });
  const curve = { train: [] as [number, number][], test: [] as [number, number][] };
  const bar = new Progress(label, epochs);
  for (let e = 1; e <= epochs; e++) {
    const perm = permutation(train.r.length);
    for (let s = 0; s < perm.length; s += batchSize) {
      const idx = perm.slice(s, s + batchSize);
      const u = idx.map((q) => train.u[q]!),
        it = idx.map((q) => train.i[q]!);
      const target = tensor(idx.map((q) => train.r[q]!));
      const pred = model.forward(u, it);
      // MSE + λ·mean(|p_u|² + |q_i|²) over the batch: L2 on the factors this batch touches (the usual MF regulariser).
      let loss = nn.mseLoss(pred, target);
      if (k > 0) {
        const reg = model.userFactors.forward(u).square().sum().add(model.itemFactors.forward(it).square().sum());
        loss = loss.add(reg.mul(lambda / idx.length));
      }
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }
    const [trainRmse, testRmse] = noGrad(() => [
      rmse(model.forward(train.u, train.i), train.r),
      rmse(model.forward(test.u, test.i), test.r),
    ]);
    curve.train.push([e, trainRmse]);
    curve.test.push([e, testRmse]);
    bar.update(e, `train RMSE ${trainRmse.toFixed(4)}  test RMSE ${testRmse.toFixed(4)}`);
  }
  const cpuMs = bar.cpuMs();
  return { model, curve, cpuMs, ms: bar.done() };
}

const meanRmse = Math.sqrt(test.r.reduce((s, r) => s + (r - trainMean) ** 2, 0) / test.r.length);
const biases = fit(0, 'biases only  ');
const mf = fit(rank, `rank-${rank} MF   `);
const last = (c: [number, number][]): number => c[c.length - 1]![1];
const best = Math.min(...mf.curve.test.map(([, y]) => y));
console.log('\n| model | test RMSE | ÷ noise floor | wall time (CPU time) |');
console.log('|---|---:|---:|---:|');
console.log(`| global mean | ${meanRmse.toFixed(4)} | ${(meanRmse / sigma).toFixed(3)} | — |`);
console.log(
  `| biases only (${epochs} epochs) | ${last(biases.curve.test).toFixed(4)} | ${(last(biases.curve.test) / sigma).toFixed(3)} | ${fmtTime(biases.ms)} (${fmtTime(biases.cpuMs)}) |`,
);
console.log(
  `| rank-${rank} MF (${epochs} epochs) | ${last(mf.curve.test).toFixed(4)} | ${(last(mf.curve.test) / sigma).toFixed(3)} | ${fmtTime(mf.ms)} (${fmtTime(mf.cpuMs)}) |`,
);
console.log(`| noise floor σ | ${sigma.toFixed(4)} | 1.000 | — |`);
console.log(`best test RMSE over epochs: ${best.toFixed(4)}; parameters: ${mf.model.numParameters()}`);

mkdirSync(outDir, { recursive: true });
writeFileSync(
  join(outDir, 'recommender.svg'),
  await lineChartSvg({
    title: `Matrix factorisation on generated ratings (noise floor σ = ${sigma})`,
    xLabel: 'epoch',
    yLabel: 'RMSE',
    series: [
      { name: `rank-${rank} MF, train`, points: mf.curve.train },
      { name: `rank-${rank} MF, test`, points: mf.curve.test },
      { name: 'biases only, test', points: biases.curve.test },
      {
        name: 'noise floor σ',
        points: [
          [1, sigma],
          [epochs, sigma],
        ],
      },
    ],
  }),
);
console.log(`wrote ${join(outDir, 'recommender.svg')}`);
