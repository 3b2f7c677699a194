/**
 * Every optimizer converges (optax style): on an ill-conditioned quadratic through autograd, in
 * float32 and float64, and on the Rosenbrock function from the classic start (−1.2, 1).
 */
import { describe, expect, it } from 'vitest';
import { optim, tensor, type Tensor } from '../../src/index.js';

type Make = (p: Tensor[]) => optim.Optimizer;

// 0.5·Σ cᵢ(xᵢ − tᵢ)², condition number 16.
const c = [1, 4, 0.25],
  target = [1, -2, 3];
const quadratic = (x: Tensor) =>
  x
    .sub(tensor(target, { dtype: x.dtype }))
    .square()
    .mul(tensor(c, { dtype: x.dtype }))
    .sum()
    .mul(0.5);

const quadCases: [string, Make, number][] = [
  ['GD', (p) => new optim.GD(p, { lr: 0.3 }), 300],
  ['SGD momentum', (p) => new optim.SGD(p, { lr: 0.1, momentum: 0.9 }), 300],
  ['SGD nesterov', (p) => new optim.SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true }), 300],
  ['Adam', (p) => new optim.Adam(p, { lr: 0.1 }), 300],
  ['Adam amsgrad', (p) => new optim.Adam(p, { lr: 0.1, amsgrad: true }), 300],
  ['AdamW', (p) => new optim.AdamW(p, { lr: 0.1, weightDecay: 0 }), 300],
  ['RMSprop', (p) => new optim.RMSprop(p, { lr: 0.03 }), 300],
  ['RMSprop centered', (p) => new optim.RMSprop(p, { lr: 0.03, centered: true, momentum: 0.5 }), 300],
  ['Adagrad', (p) => new optim.Adagrad(p, { lr: 1 }), 300],
  ['Adamax', (p) => new optim.Adamax(p, { lr: 0.1 }), 300],
  ['NAdam', (p) => new optim.NAdam(p, { lr: 0.1 }), 300],
  ['Lion', (p) => new optim.Lion(p, { lr: 0.02 }), 1000],
];

const dist = (a: ArrayLike<number>, b: readonly number[]) => Math.hypot(...b.map((bi, i) => a[i]! - bi));

describe('convergence on a quadratic (autograd, both float dtypes)', () => {
  for (const [name, make, steps] of quadCases) {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`${name} ${dtype}`, () => {
        const x = tensor([0, 0, 0], { dtype, requiresGrad: true });
        const opt = make([x]);
        const start = quadratic(x).item();
        for (let i = 0; i < steps; i++) {
          opt.zeroGrad();
          quadratic(x).backward();
          opt.step();
        }
        expect(dist(x.data, target)).toBeLessThan(0.05);
        expect(quadratic(x).item()).toBeLessThan(start * 1e-3);
      });
    }
  }
});

// Rosenbrock f(x, y) = (1 − x)² + 100(y − x²)², minimum at (1, 1). Its gradient is written out
// so the thousands of steps stay fast; autograd is covered by the quadratic above.
const rosenGrad = (x: number, y: number) => [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)];
const rosen = (x: number, y: number) => (1 - x) ** 2 + 100 * (y - x * x) ** 2;
const rosenCases: [string, Make, number, number][] = [
  ['GD', (p) => new optim.GD(p, { lr: 1e-3 }), 20000, 0.01],
  ['SGD momentum', (p) => new optim.SGD(p, { lr: 1e-3, momentum: 0.9 }), 5000, 1e-3],
  ['SGD nesterov', (p) => new optim.SGD(p, { lr: 1e-3, momentum: 0.9, nesterov: true }), 5000, 1e-3],
  ['Adam', (p) => new optim.Adam(p, { lr: 0.02 }), 5000, 1e-3],
  ['AdamW', (p) => new optim.AdamW(p, { lr: 0.02, weightDecay: 0 }), 5000, 1e-3],
  ['RMSprop', (p) => new optim.RMSprop(p, { lr: 1e-3 }), 10000, 0.02],
  ['RMSprop centered', (p) => new optim.RMSprop(p, { lr: 1e-3, centered: true, momentum: 0.5 }), 5000, 0.01],
  ['Adagrad', (p) => new optim.Adagrad(p, { lr: 0.5 }), 10000, 0.02],
  ['Adamax', (p) => new optim.Adamax(p, { lr: 0.05 }), 5000, 0.01],
  ['NAdam', (p) => new optim.NAdam(p, { lr: 0.01 }), 10000, 0.01],
  ['Lion', (p) => new optim.Lion(p, { lr: 1e-3 }), 5000, 0.01],
];

describe('convergence on Rosenbrock from (−1.2, 1)', () => {
  for (const [name, make, steps, tol] of rosenCases) {
    it(`${name} reaches (1, 1) within ${tol} in ${steps} steps`, () => {
      const p = tensor([-1.2, 1], { dtype: 'float64', requiresGrad: true });
      const opt = make([p]);
      for (let i = 0; i < steps; i++) {
        p.grad = tensor(rosenGrad(p.data[0]!, p.data[1]!), { dtype: 'float64' });
        opt.step();
      }
      expect(dist(p.data, [1, 1])).toBeLessThan(tol);
      expect(rosen(p.data[0]!, p.data[1]!)).toBeLessThan(rosen(-1.2, 1) * 1e-3);
    });
  }
});
