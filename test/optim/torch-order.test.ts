/**
 * Bit-for-bit agreement, in float64, between the library's updates and transcriptions of PyTorch's
 * `_single_tensor_*` functions in PyTorch's own operation order (reference.ts, `torch*`).
 * The textbook comparison in steps.test.ts checks the mathematics to 1e-12; this checks the
 * floating-point operation order, which is what the claim "equals PyTorch" rests on.
 */
import { describe, expect, it } from 'vitest';
import { optim, tensor, type Tensor } from '../../src/index.js';
import {
  runRef,
  torchAdagrad,
  torchAdam,
  torchAdamax,
  torchLion,
  torchNAdam,
  torchRMSprop,
  torchSGD,
  type Grad,
} from './reference.js';

const gradField: Grad = ([a, b, c, d]) => [
  4 * a! ** 3 - b!,
  2 * b! + Math.sin(a!),
  0.05 * c! - 0.3,
  1e-3 * Math.cos(7 * d!) - 2e-4,
];
const theta0 = [0.7, -1.3, 2.5, 0.01];
const STEPS = 60;

function runOurs(make: (p: Tensor[]) => optim.Optimizer): number[][] {
  const p = tensor(theta0, { dtype: 'float64', requiresGrad: true });
  const opt = make([p]);
  const path: number[][] = [];
  for (let t = 0; t < STEPS; t++) {
    p.grad = tensor(gradField([...p.data]), { dtype: 'float64' });
    opt.step();
    path.push([...p.data]);
  }
  return path;
}

type Case = [
  name: string,
  make: (p: Tensor[]) => optim.Optimizer,
  ref: () => (th: number[], g: number[], t: number) => number[],
];
const cases: Case[] = [
  ['SGD', (p) => new optim.SGD(p, { lr: 0.03 }), () => torchSGD({ lr: 0.03 })],
  [
    'SGD momentum+dampening+wd',
    (p) => new optim.SGD(p, { lr: 0.03, momentum: 0.8, dampening: 0.3, weightDecay: 0.1 }),
    () => torchSGD({ lr: 0.03, momentum: 0.8, dampening: 0.3, weightDecay: 0.1 }),
  ],
  [
    'SGD nesterov+maximize',
    (p) => new optim.SGD(p, { lr: 0.01, momentum: 0.9, nesterov: true, maximize: true }),
    () => torchSGD({ lr: 0.01, momentum: 0.9, nesterov: true, maximize: true }),
  ],
  ['Adam', (p) => new optim.Adam(p, { lr: 0.05 }), () => torchAdam({ lr: 0.05 })],
  [
    'Adam betas (lerp’s second branch: 1−β1 ≥ 0.5)',
    (p) => new optim.Adam(p, { lr: 0.05, betas: [0.3, 0.9], eps: 1e-6 }),
    () => torchAdam({ lr: 0.05, betas: [0.3, 0.9], eps: 1e-6 }),
  ],
  [
    'Adam L2+amsgrad+maximize',
    (p) => new optim.Adam(p, { lr: 0.02, weightDecay: 0.3, amsgrad: true, maximize: true }),
    () => torchAdam({ lr: 0.02, weightDecay: 0.3, amsgrad: true, maximize: true }),
  ],
  [
    'AdamW',
    (p) => new optim.AdamW(p, { lr: 0.05, weightDecay: 0.3 }),
    () => torchAdam({ lr: 0.05, weightDecay: 0.3, decoupled: true }),
  ],
  [
    'AdamW amsgrad',
    (p) => new optim.AdamW(p, { lr: 0.05, amsgrad: true }),
    () => torchAdam({ lr: 0.05, weightDecay: 1e-2, amsgrad: true, decoupled: true }),
  ],
  ['RMSprop', (p) => new optim.RMSprop(p, { lr: 0.01 }), () => torchRMSprop({ lr: 0.01 })],
  [
    'RMSprop centered+momentum+wd+maximize',
    (p) =>
      new optim.RMSprop(p, { lr: 0.005, alpha: 0.9, centered: true, momentum: 0.9, weightDecay: 0.1, maximize: true }),
    () => torchRMSprop({ lr: 0.005, alpha: 0.9, centered: true, momentum: 0.9, weightDecay: 0.1, maximize: true }),
  ],
  [
    'RMSprop alpha 0.3 (lerp’s second branch)',
    (p) => new optim.RMSprop(p, { lr: 0.01, alpha: 0.3, centered: true }),
    () => torchRMSprop({ lr: 0.01, alpha: 0.3, centered: true }),
  ],
  [
    'Adagrad lrDecay+wd+init',
    (p) => new optim.Adagrad(p, { lr: 0.1, lrDecay: 0.05, weightDecay: 0.1, initialAccumulatorValue: 0.2 }),
    () => torchAdagrad({ lr: 0.1, lrDecay: 0.05, weightDecay: 0.1, initialAccumulatorValue: 0.2 }),
  ],
  [
    'Adamax wd+maximize',
    (p) => new optim.Adamax(p, { lr: 0.05, weightDecay: 0.1, maximize: true }),
    () => torchAdamax({ lr: 0.05, weightDecay: 0.1, maximize: true }),
  ],
  ['NAdam', (p) => new optim.NAdam(p, { lr: 0.05 }), () => torchNAdam({ lr: 0.05 })],
  [
    'NAdam L2+momentumDecay',
    (p) => new optim.NAdam(p, { lr: 0.05, weightDecay: 0.1, momentumDecay: 0.01 }),
    () => torchNAdam({ lr: 0.05, weightDecay: 0.1, momentumDecay: 0.01 }),
  ],
  [
    'NAdam decoupled+maximize',
    (p) => new optim.NAdam(p, { lr: 0.05, weightDecay: 0.1, decoupledWeightDecay: true, maximize: true }),
    () => torchNAdam({ lr: 0.05, weightDecay: 0.1, decoupledWeightDecay: true, maximize: true }),
  ],
  ['Lion', (p) => new optim.Lion(p, { lr: 0.01, weightDecay: 0.5 }), () => torchLion({ lr: 0.01, weightDecay: 0.5 })],
];

describe('float64 trajectories equal PyTorch’s operation order bit for bit', () => {
  for (const [name, make, ref] of cases) {
    it(`${name}: ${STEPS} steps, identical doubles`, () => {
      const ours = runOurs(make);
      const want = runRef(theta0, gradField, STEPS, ref());
      for (let t = 0; t < STEPS; t++) {
        for (let i = 0; i < theta0.length; i++) {
          if (!Object.is(ours[t]![i], want[t]![i]))
            throw new Error(
              `${name}: step ${t + 1} coordinate ${i}: ours ${ours[t]![i]} vs PyTorch order ${want[t]![i]}`,
            );
        }
      }
      expect(ours[STEPS - 1]!.every((x, i) => x !== theta0[i])).toBe(true);
    });
  }
});

describe('the bit-for-bit check can tell operation orders apart', () => {
  it('Adam with CUDA’s addcdiv order θ + s·(m/d), or with √(v/bc2) instead of √v/√bc2, leaves the CPU-order trajectory', () => {
    const variant = (kind: 'cudaAddcdiv' | 'sqrtOfRatio') => {
      const [b1, b2, lr, eps] = [0.9, 0.999, 0.05, 1e-8];
      let m: number[] = [],
        v: number[] = [];
      return (th: number[], g: number[], t: number): number[] => {
        if (t === 1) (m = th.map(() => 0)), (v = th.map(() => 0));
        const bc1 = 1 - b1 ** t,
          bc2 = 1 - b2 ** t,
          s = lr / bc1;
        return th.map((x, i) => {
          m[i] = m[i]! + (1 - b1) * (g[i]! - m[i]!);
          v[i] = v[i]! * b2 + (1 - b2) * g[i]! * g[i]!;
          if (kind === 'cudaAddcdiv') return x + -s * (m[i]! / (Math.sqrt(v[i]!) / Math.sqrt(bc2) + eps));
          return x + (-s * m[i]!) / (Math.sqrt(v[i]! / bc2) + eps);
        });
      };
    };
    const ours = runOurs((p) => new optim.Adam(p, { lr: 0.05 }));
    for (const kind of ['cudaAddcdiv', 'sqrtOfRatio'] as const) {
      const other = runRef(theta0, gradField, STEPS, variant(kind));
      const differs = ours.some((row, t) => row.some((x, i) => x !== other[t]![i]));
      expect(differs).toBe(true);
      // …while agreeing to far better than the 1e-12 the textbook comparison allows.
      ours.forEach((row, t) =>
        row.forEach((x, i) => expect(Math.abs(x - other[t]![i]!)).toBeLessThan(1e-12 * Math.max(1, Math.abs(x)))),
      );
    }
  });
});
