/**
 * The seed's own example: fit y = 2x + 1 + noise by minimising the mean squared error
 * J(θ) = (1/N) Σ (w·xᵢ + b − yᵢ)² with gradient descent, θ ← θ − η ∇J(θ).
 * First written out by hand with `valueAndGrad`, then with `nn.Linear` and `optim.GD`.
 *
 *   npx tsx examples/linear-regression.ts [--quick] [--seed N] [--lr η] [--steps K]
 */
import { parseArgs } from 'node:util';
import {
  Generator,
  manualSeed,
  nn,
  noGrad,
  optim,
  rand,
  randn,
  scalar,
  valueAndGrad,
  type Tensor,
} from '../src/index.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    out: { type: 'string' },
    seed: { type: 'string' },
    lr: { type: 'string' },
    steps: { type: 'string' },
  },
});
const seed = Number(args.seed ?? 0);
const lr = Number(args.lr ?? 0.1);
const steps = Number(args.steps ?? (args.quick ? 150 : 300));
const n = 200;

// Synthetic data from our seeded RNG: x ~ U(−1, 1), y = 2x + 1 + 0.1·ε, ε ~ N(0, 1).
const gen = new Generator(seed);
const x = rand([n, 1], { low: -1, high: 1, generator: gen });
const y = noGrad(() =>
  x
    .mul(2)
    .add(1)
    .add(randn([n, 1], { std: 0.1, generator: gen })),
);

// Closed-form least squares, for reference.
const xs = Array.from(x.data),
  ys = Array.from(y.data);
const mx = xs.reduce((a, b) => a + b) / n,
  my = ys.reduce((a, b) => a + b) / n;
const wStar = xs.reduce((s, xi, i) => s + (xi - mx) * (ys[i]! - my), 0) / xs.reduce((s, xi) => s + (xi - mx) ** 2, 0);
const bStar = my - wStar * mx;

// 1. Gradient descent written out: θ ← θ − η ∇J(θ).
const J = (w: Tensor, b: Tensor): Tensor => x.mul(w).add(b).sub(y).pow(2).mean();
const valueAndGradJ = valueAndGrad(J, { argnums: [0, 1] });
let w = scalar(0),
  b = scalar(0);
console.log(`1. by hand: θ ← θ − η∇J(θ), η = ${lr}`);
for (let k = 0; k <= steps; k++) {
  const [loss, [gw, gb]] = valueAndGradJ(w, b);
  if (k % Math.max(1, Math.floor(steps / 5)) === 0)
    console.log(
      `   step ${String(k).padStart(5)}  J = ${loss.item().toFixed(6)}  w = ${w.item().toFixed(4)}  b = ${b.item().toFixed(4)}`,
    );
  if (k === steps) break;
  w = noGrad(() => w.sub(gw!.mul(lr)));
  b = noGrad(() => b.sub(gb!.mul(lr)));
}

// 2. The same with a model and an optimizer: nn.Linear(1, 1) and optim.GD.
manualSeed(seed);
const model = new nn.Linear(1, 1);
const opt = new optim.GD(model.parameters(), { lr });
let last = NaN;
for (let k = 0; k < steps; k++) {
  const loss = nn.mseLoss(model.forward(x), y);
  opt.zeroGrad();
  loss.backward();
  opt.step();
  last = loss.item();
}
console.log(`2. nn.Linear + optim.GD after ${steps} steps: J = ${last.toFixed(6)}`);

const fitted = [
  ['by hand', w.item(), b.item()],
  ['optim.GD', model.weight.item(), model.bias!.item()],
  ['least squares', wStar, bStar],
  ['true', 2, 1],
] as const;
console.log('\n   method            w         b');
for (const [name, fw, fb] of fitted)
  console.log(`   ${name.padEnd(14)} ${fw.toFixed(4).padStart(7)}  ${fb.toFixed(4).padStart(8)}`);
for (const [name, fw, fb] of fitted.slice(0, 2)) {
  if (Math.abs(fw - wStar) > 1e-3 || Math.abs(fb - bStar) > 1e-3)
    throw new Error(`${name} did not converge to the least-squares fit`);
}
