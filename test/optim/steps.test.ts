/**
 * The first steps of every optimizer against textbook reference implementations (reference.ts),
 * in float64 to ~1e-12 relative (the PyTorch-match requirement) and in float32 to float32 rounding.
 */
import { describe, expect, it } from 'vitest';
import { optim, tensor, type Tensor } from '../../src/index.js';
import {
  refAdagrad,
  refAdam,
  refAdamax,
  refLion,
  refNAdam,
  refRMSprop,
  refSGD,
  relErr,
  runRef,
  type Grad,
} from './reference.js';

// A nonlinear gradient field with coordinates of different scales, so every term of every update matters.
const gradField: Grad = ([a, b, c]) => [4 * a! ** 3 - b!, 2 * b! + Math.sin(a!), 0.05 * c! - 0.3];
const theta0 = [0.7, -1.3, 2.5];

type Make = (p: Tensor[]) => optim.Optimizer;
function runOurs(make: Make, steps: number, dtype: 'float32' | 'float64'): number[][] {
  const p = tensor(theta0, { dtype, requiresGrad: true });
  const opt = make([p]);
  const path: number[][] = [];
  for (let t = 0; t < steps; t++) {
    p.grad = tensor(gradField([...p.data]), { dtype });
    opt.step();
    path.push([...p.data]);
  }
  return path;
}

type Case = [name: string, make: Make, ref: () => (th: number[], g: number[], t: number) => number[]];
const cases: Case[] = [
  ['GD', (p) => new optim.GD(p, { lr: 0.05 }), () => refSGD({ lr: 0.05 })],
  [
    'GD weightDecay',
    (p) => new optim.GD(p, { lr: 0.05, weightDecay: 0.1 }),
    () => refSGD({ lr: 0.05, weightDecay: 0.1 }),
  ],
  ['SGD momentum', (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9 }), () => refSGD({ lr: 0.05, momentum: 0.9 })],
  [
    'SGD momentum+dampening',
    (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.8, dampening: 0.3 }),
    () => refSGD({ lr: 0.05, momentum: 0.8, dampening: 0.3 }),
  ],
  [
    'SGD nesterov',
    (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true }),
    () => refSGD({ lr: 0.05, momentum: 0.9, nesterov: true }),
  ],
  [
    'SGD weightDecay+momentum',
    (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.5, weightDecay: 0.2 }),
    () => refSGD({ lr: 0.05, momentum: 0.5, weightDecay: 0.2 }),
  ],
  [
    'SGD maximize',
    (p) => new optim.SGD(p, { lr: 0.01, momentum: 0.5, maximize: true }),
    () => refSGD({ lr: 0.01, momentum: 0.5, maximize: true }),
  ],
  ['Adam', (p) => new optim.Adam(p, { lr: 0.1 }), () => refAdam({ lr: 0.1 })],
  [
    'Adam betas/eps',
    (p) => new optim.Adam(p, { lr: 0.05, betas: [0.7, 0.95], eps: 1e-3 }),
    () => refAdam({ lr: 0.05, betas: [0.7, 0.95], eps: 1e-3 }),
  ],
  [
    'Adam L2 weightDecay',
    (p) => new optim.Adam(p, { lr: 0.1, weightDecay: 0.3 }),
    () => refAdam({ lr: 0.1, weightDecay: 0.3 }),
  ],
  ['Adam amsgrad', (p) => new optim.Adam(p, { lr: 0.1, amsgrad: true }), () => refAdam({ lr: 0.1, amsgrad: true })],
  [
    'Adam maximize',
    (p) => new optim.Adam(p, { lr: 0.01, maximize: true }),
    () => refAdam({ lr: 0.01, maximize: true }),
  ],
  [
    'AdamW',
    (p) => new optim.AdamW(p, { lr: 0.1, weightDecay: 0.3 }),
    () => refAdam({ lr: 0.1, weightDecay: 0.3, decoupled: true }),
  ],
  [
    'AdamW amsgrad',
    (p) => new optim.AdamW(p, { lr: 0.1, amsgrad: true }),
    () => refAdam({ lr: 0.1, weightDecay: 1e-2, amsgrad: true, decoupled: true }),
  ],
  ['RMSprop', (p) => new optim.RMSprop(p, { lr: 0.01 }), () => refRMSprop({ lr: 0.01 })],
  [
    'RMSprop centered',
    (p) => new optim.RMSprop(p, { lr: 0.01, centered: true, alpha: 0.9 }),
    () => refRMSprop({ lr: 0.01, centered: true, alpha: 0.9 }),
  ],
  [
    'RMSprop centered+momentum+wd',
    (p) => new optim.RMSprop(p, { lr: 0.01, centered: true, momentum: 0.9, weightDecay: 0.1 }),
    () => refRMSprop({ lr: 0.01, centered: true, momentum: 0.9, weightDecay: 0.1 }),
  ],
  ['Adagrad', (p) => new optim.Adagrad(p, { lr: 0.1 }), () => refAdagrad({ lr: 0.1 })],
  [
    'Adagrad lrDecay+wd+init',
    (p) => new optim.Adagrad(p, { lr: 0.1, lrDecay: 0.5, weightDecay: 0.1, initialAccumulatorValue: 0.2 }),
    () => refAdagrad({ lr: 0.1, lrDecay: 0.5, weightDecay: 0.1, initialAccumulatorValue: 0.2 }),
  ],
  [
    'Adamax',
    (p) => new optim.Adamax(p, { lr: 0.05, weightDecay: 0.1 }),
    () => refAdamax({ lr: 0.05, weightDecay: 0.1 }),
  ],
  ['NAdam', (p) => new optim.NAdam(p, { lr: 0.05 }), () => refNAdam({ lr: 0.05 })],
  [
    'NAdam wd+momentumDecay',
    (p) => new optim.NAdam(p, { lr: 0.05, weightDecay: 0.1, momentumDecay: 0.01 }),
    () => refNAdam({ lr: 0.05, weightDecay: 0.1, momentumDecay: 0.01 }),
  ],
  ['Lion', (p) => new optim.Lion(p, { lr: 0.01, weightDecay: 0.5 }), () => refLion({ lr: 0.01, weightDecay: 0.5 })],
];

describe('first steps equal the published update equations', () => {
  for (const [name, make, ref] of cases) {
    it(`${name}: float64, 3 steps and a 30-step trajectory to 1e-12`, () => {
      const ours = runOurs(make, 30, 'float64');
      const want = runRef(theta0, gradField, 30, ref());
      for (let t = 0; t < 30; t++) {
        for (let i = 0; i < theta0.length; i++) {
          const tol = t < 3 ? 1e-13 : 1e-12;
          if (relErr(ours[t]![i]!, want[t]![i]!) > tol) {
            throw new Error(`${name}: step ${t + 1} coordinate ${i}: ours ${ours[t]![i]} vs reference ${want[t]![i]}`);
          }
        }
      }
      // The steps really moved the parameters (a test that cannot pass by doing nothing).
      expect(ours[2]!.some((x, i) => x !== theta0[i])).toBe(true);
    });
    it(`${name}: float32, 3 steps to float32 precision`, () => {
      const ours = runOurs(make, 3, 'float32');
      const want = runRef(theta0, gradField, 3, ref());
      for (let t = 0; t < 3; t++)
        for (let i = 0; i < 3; i++) expect(relErr(ours[t]![i]!, want[t]![i]!)).toBeLessThan(1e-5);
    });
  }
});

describe('hand-derived values', () => {
  it('GD on sum(θ²) with lr 0.1 multiplies θ by 0.8 each step: [1,−2] → [0.8,−1.6] → [0.64,−1.28] → [0.512,−1.024]', () => {
    const p = tensor([1, -2], { dtype: 'float64', requiresGrad: true });
    const opt = new optim.GD([p], { lr: 0.1 });
    const expected = [
      [0.8, -1.6],
      [0.64, -1.28],
      [0.512, -1.024],
    ];
    for (const e of expected) {
      opt.zeroGrad();
      p.mul(p).sum().backward();
      opt.step();
      expect([...p.data][0]).toBeCloseTo(e[0]!, 14);
      expect([...p.data][1]).toBeCloseTo(e[1]!, 14);
    }
  });
  it('SGD momentum 0.9 on a constant gradient 1: steps lr·(1, 1.9, 2.71)', () => {
    const p = tensor([0], { dtype: 'float64', requiresGrad: true });
    const opt = new optim.SGD([p], { lr: 0.1, momentum: 0.9 });
    const positions = [-0.1, -0.1 - 0.19, -0.1 - 0.19 - 0.271];
    for (const x of positions) {
      p.grad = tensor([1], { dtype: 'float64' });
      opt.step();
      expect(p.data[0]).toBeCloseTo(x, 14);
    }
  });
  it('SGD dampening 0.5: the first step uses the full gradient, later ones (1−τ)·g', () => {
    const p = tensor([0], { dtype: 'float64', requiresGrad: true });
    const opt = new optim.SGD([p], { lr: 1, momentum: 0.5, dampening: 0.5 });
    // b1 = 1; b2 = 0.5·1 + 0.5·1 = 1; b3 = 1 → θ = −1, −2, −3
    for (const x of [-1, -2, -3]) {
      p.grad = tensor([1], { dtype: 'float64' });
      opt.step();
      expect(p.data[0]).toBe(x);
    }
  });
  it('Nesterov with constant gradient 1, μ = 0.5: steps g + μ·b = 1.5, 1.75, 1.875', () => {
    const p = tensor([0], { dtype: 'float64', requiresGrad: true });
    const opt = new optim.SGD([p], { lr: 1, momentum: 0.5, nesterov: true });
    for (const x of [-1.5, -3.25, -5.125]) {
      p.grad = tensor([1], { dtype: 'float64' });
      opt.step();
      expect(p.data[0]).toBe(x);
    }
  });
  it('Adam’s first step has size lr·|g|/(|g|+ε) whatever the gradient scale (bias correction at work)', () => {
    for (const g of [1e-3, 1, 1e3]) {
      const p = tensor([0], { dtype: 'float64', requiresGrad: true });
      const opt = new optim.Adam([p], { lr: 0.01 });
      p.grad = tensor([g], { dtype: 'float64' });
      opt.step();
      expect(p.data[0]).toBeCloseTo(-0.01 * (g / (g + 1e-8)), 15);
      // Without the correction m₁ = 0.1·g and √v₁ = √0.001·|g| would give a step 0.1/√0.001 ≈ 3.16× larger.
      expect(Math.abs(p.data[0]!)).toBeLessThan(0.0101);
    }
  });
  it('AMSGrad divides by the running max of the raw v, bias-corrected afterwards (PyTorch), so a large early gradient keeps later steps small', () => {
    const run = (amsgrad: boolean) => {
      const p = tensor([0], { dtype: 'float64', requiresGrad: true });
      const opt = new optim.Adam([p], { lr: 0.1, amsgrad, betas: [0, 0.5], eps: 1e-12 });
      const xs: number[] = [];
      for (const g of [10, 0.1, 0.1]) {
        p.grad = tensor([g], { dtype: 'float64' });
        opt.step();
        xs.push(p.data[0]!);
      }
      return xs;
    };
    const plain = run(false),
      ams = run(true);
    // β1 = 0 so m̂ = g. v₁ = 0.5·100 = 50, v₂ = 0.5·50 + 0.5·0.01 = 25.005, v₃ = 0.5·v₂ + 0.005 = 12.5075.
    const v = [50, 25.005, 12.5075],
      bc2 = (t: number) => 1 - 0.5 ** t;
    for (const t of [2, 3]) {
      const dPlain = plain[t - 1]! - plain[t - 2]!,
        dAms = ams[t - 1]! - ams[t - 2]!;
      expect(dPlain).toBeCloseTo((-0.1 * 0.1) / (Math.sqrt(v[t - 1]! / bc2(t)) + 1e-12), 13);
      expect(dAms).toBeCloseTo((-0.1 * 0.1) / (Math.sqrt(50 / bc2(t)) + 1e-12), 13);
      expect(Math.abs(dAms)).toBeLessThan(Math.abs(dPlain));
    }
  });
  it('Adagrad with lrDecay 1: step t uses lr/t', () => {
    const p = tensor([0], { dtype: 'float64', requiresGrad: true });
    const opt = new optim.Adagrad([p], { lr: 1, lrDecay: 1, eps: 1e-300 });
    // g = 1 each step: S = t, step = (1/t)/√t
    let x = 0;
    for (let t = 1; t <= 3; t++) {
      p.grad = tensor([1], { dtype: 'float64' });
      opt.step();
      x -= 1 / t / Math.sqrt(t);
      expect(p.data[0]).toBeCloseTo(x, 14);
    }
  });
});
