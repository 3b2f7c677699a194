/**
 * Issue 14's optimizers against transcriptions of torch.optim's code (reference-new.ts): float64
 * trajectories identical bit for bit over 60 steps on several configurations; convergence on small
 * problems; and a state dict taken mid-run (through JSON) that continues exactly like the uninterrupted run.
 */
import { describe, expect, it } from 'vitest';
import { optim, tensor, type Tensor } from '../../src/index.js';
import {
  torchAdadelta,
  torchAdafactor,
  torchASGD,
  torchLBFGS,
  torchMuon,
  torchRAdam,
  torchRprop,
  type TorchStep,
} from './reference-new.js';

const STEPS = 60;
/** A coupled, non-quadratic gradient field on any number of coordinates (sign changes for Rprop). */
const gradField = (th: number[]): number[] =>
  th.map((x, i) => 4 * x ** 3 - th[(i + 1) % th.length]! + 0.3 * Math.sin(3 * x + i) - 0.05 * (i % 3));
const start = (n: number): number[] => Array.from({ length: n }, (_, i) => 0.9 * Math.cos(1.7 * i + 0.3) + 0.05 * i);
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

type Make = (ps: Tensor[]) => optim.Optimizer;
/** Runs ours on one float64 parameter per shape; the gradient field is over all coordinates together. */
function runOurs(
  shapes: number[][],
  make: Make,
  steps = STEPS,
  onStep?: (opt: optim.Optimizer, ps: Tensor[]) => void,
): number[][] {
  const n = shapes.reduce((s, sh) => s + size(sh), 0),
    th = start(n);
  let o = 0;
  const ps = shapes.map((sh) => {
    const p = tensor(th.slice(o, o + size(sh)), { dtype: 'float64', requiresGrad: true })
      .reshape(sh)
      .detach()
      .requiresGrad_();
    o += size(sh);
    return p;
  });
  const opt = make(ps);
  const path: number[][] = [];
  for (let t = 0; t < steps; t++) {
    const flat = ps.flatMap((p) => [...p.data]),
      g = gradField(flat);
    let k = 0;
    for (const p of ps) {
      p.grad = tensor(g.slice(k, k + p.size), { dtype: 'float64' }).reshape(p.shape);
      k += p.size;
    }
    opt.step();
    path.push(ps.flatMap((p) => [...p.data]));
    onStep?.(opt, ps);
  }
  return path;
}
/** The reference: one TorchStep per parameter (torch.optim loops over parameters independently). */
function runTorch(shapes: number[][], refs: TorchStep[], steps = STEPS): number[][] {
  const n = shapes.reduce((s, sh) => s + size(sh), 0);
  let th = start(n);
  const path: number[][] = [];
  for (let t = 1; t <= steps; t++) {
    const g = gradField(th);
    let o = 0;
    const next: number[] = [];
    shapes.forEach((sh, j) => {
      next.push(...refs[j]!(th.slice(o, o + size(sh)), g.slice(o, o + size(sh)), t));
      o += size(sh);
    });
    th = next;
    path.push(th);
  }
  return path;
}
function expectIdentical(name: string, ours: number[][], want: number[][]): number {
  let worst = 0;
  for (let t = 0; t < want.length; t++) {
    for (let i = 0; i < want[t]!.length; i++) {
      const a = ours[t]![i]!,
        b = want[t]![i]!;
      if (!Object.is(a, b)) throw new Error(`${name}: step ${t + 1} coordinate ${i}: ours ${a} vs PyTorch order ${b}`);
      worst = Math.max(worst, Math.abs(a - b));
    }
  }
  expect(ours.at(-1)!.every(Number.isFinite)).toBe(true);
  expect(ours.at(-1)!.some((x, i) => x !== start(ours.at(-1)!.length)[i])).toBe(true);
  return worst;
}

type Case = [name: string, shapes: number[][], make: Make, refs: () => TorchStep[]];
const vec = [[4], [3]];
const cases: Case[] = [
  ['RAdam', vec, (p) => new optim.RAdam(p, { lr: 0.05 }), () => [torchRAdam({ lr: 0.05 }), torchRAdam({ lr: 0.05 })]],
  [
    'RAdam betas [0.3, 0.9] (rectified from step 6; lerp’s second branch)',
    vec,
    (p) => new optim.RAdam(p, { lr: 0.03, betas: [0.3, 0.9], eps: 1e-6 }),
    () => [0, 1].map(() => torchRAdam({ lr: 0.03, betas: [0.3, 0.9], eps: 1e-6 })),
  ],
  [
    'RAdam L2 + maximize',
    vec,
    (p) => new optim.RAdam(p, { lr: 0.02, weightDecay: 0.3, maximize: true, betas: [0.9, 0.95] }),
    () => [0, 1].map(() => torchRAdam({ lr: 0.02, weightDecay: 0.3, maximize: true, betas: [0.9, 0.95] })),
  ],
  [
    'RAdamW (decoupledWeightDecay)',
    vec,
    (p) => new optim.RAdam(p, { lr: 0.05, weightDecay: 0.2, decoupledWeightDecay: true, betas: [0.8, 0.9] }),
    () => [0, 1].map(() => torchRAdam({ lr: 0.05, weightDecay: 0.2, decoupled: true, betas: [0.8, 0.9] })),
  ],
  ['Adadelta', vec, (p) => new optim.Adadelta(p), () => [torchAdadelta({}), torchAdadelta({})]],
  [
    'Adadelta rho 0.3 + wd + maximize + eps',
    vec,
    (p) => new optim.Adadelta(p, { lr: 0.5, rho: 0.3, weightDecay: 0.1, eps: 1e-4, maximize: true }),
    () => [0, 1].map(() => torchAdadelta({ lr: 0.5, rho: 0.3, weightDecay: 0.1, eps: 1e-4, maximize: true })),
  ],
  ['Rprop', vec, (p) => new optim.Rprop(p), () => [torchRprop({}), torchRprop({})]],
  [
    'Rprop etas + stepSizes',
    vec,
    (p) => new optim.Rprop(p, { lr: 0.05, etas: [0.3, 1.5], stepSizes: [1e-3, 0.2] }),
    () => [0, 1].map(() => torchRprop({ lr: 0.05, etas: [0.3, 1.5], stepSizes: [1e-3, 0.2] })),
  ],
  [
    'Rprop maximize',
    vec,
    (p) => new optim.Rprop(p, { lr: 0.02, maximize: true }),
    () => [0, 1].map(() => torchRprop({ lr: 0.02, maximize: true })),
  ],
  ['ASGD', vec, (p) => new optim.ASGD(p, { lr: 0.01 }), () => [torchASGD({ lr: 0.01 }), torchASGD({ lr: 0.01 })]],
  [
    'ASGD averaging from t0 = 10, lambd, alpha, wd',
    vec,
    (p) => new optim.ASGD(p, { lr: 0.02, lambd: 0.05, alpha: 0.6, t0: 10, weightDecay: 0.1 }),
    () => [0, 1].map(() => torchASGD({ lr: 0.02, lambd: 0.05, alpha: 0.6, t0: 10, weightDecay: 0.1 })),
  ],
  [
    'ASGD maximize',
    vec,
    (p) => new optim.ASGD(p, { lr: 0.002, maximize: true, t0: 30 }),
    () => [0, 1].map(() => torchASGD({ lr: 0.002, maximize: true, t0: 30 })),
  ],
  [
    'Adafactor: a matrix [3,4] and a vector [5]',
    [[3, 4], [5]],
    (p) => new optim.Adafactor(p),
    () => [torchAdafactor([3, 4], {}), torchAdafactor([5], {})],
  ],
  [
    'Adafactor: 3-D [2,3,2] and a scalar [], wd + maximize',
    [[2, 3, 2], []],
    (p) => new optim.Adafactor(p, { lr: 0.05, weightDecay: 0.1, maximize: true }),
    () => [
      torchAdafactor([2, 3, 2], { lr: 0.05, weightDecay: 0.1, maximize: true }),
      torchAdafactor([], { lr: 0.05, weightDecay: 0.1, maximize: true }),
    ],
  ],
  [
    'Adafactor eps [1e-3, 1e-2], d 1.5, beta2Decay −0.5 (the clipping and both floors bind)',
    [[4, 2], [3]],
    (p) => new optim.Adafactor(p, { lr: 0.2, eps: [1e-3, 1e-2], d: 1.5, beta2Decay: -0.5 }),
    () => [
      torchAdafactor([4, 2], { lr: 0.2, eps: [1e-3, 1e-2], d: 1.5, beta2Decay: -0.5 }),
      torchAdafactor([3], { lr: 0.2, eps: [1e-3, 1e-2], d: 1.5, beta2Decay: -0.5 }),
    ],
  ],
  [
    'Muon: wide [3,4] and tall [4,3], defaults',
    [
      [3, 4],
      [4, 3],
    ],
    (p) => new optim.Muon(p, { lr: 0.02 }),
    () => [torchMuon(3, 4, { lr: 0.02 }), torchMuon(4, 3, { lr: 0.02 })],
  ],
  [
    'Muon without nesterov, matchRmsAdamW, wd 0',
    [
      [2, 5],
      [5, 2],
    ],
    (p) => new optim.Muon(p, { lr: 0.01, nesterov: false, adjustLrFn: 'matchRmsAdamW', weightDecay: 0 }),
    () => [
      torchMuon(2, 5, { lr: 0.01, nesterov: false, adjustLrFn: 'matchRmsAdamW', weightDecay: 0 }),
      torchMuon(5, 2, { lr: 0.01, nesterov: false, adjustLrFn: 'matchRmsAdamW', weightDecay: 0 }),
    ],
  ],
  [
    'Muon momentum 0.6, 3 Newton–Schulz steps, other coefficients',
    [[3, 3]],
    (p) =>
      new optim.Muon(p, {
        lr: 0.03,
        momentum: 0.6,
        nsSteps: 3,
        nsCoefficients: [2, -1.5, 0.5],
        adjustLrFn: 'original',
      }),
    () => [
      torchMuon(3, 3, { lr: 0.03, momentum: 0.6, nsSteps: 3, nsCoefficients: [2, -1.5, 0.5], adjustLrFn: 'original' }),
    ],
  ],
];

const worstDiffs: Record<string, number> = {};
describe('float64 trajectories equal torch.optim’s operation order bit for bit (issue 14)', () => {
  for (const [name, shapes, make, refs] of cases) {
    it(`${name}: ${STEPS} steps, identical doubles`, () => {
      worstDiffs[name] = expectIdentical(name, runOurs(shapes, make), runTorch(shapes, refs()));
    });
  }
  it('ASGD: the average ax is identical too', () => {
    const refs = [0, 1].map(() => torchASGD({ lr: 0.02, t0: 5, lambd: 0.01 }));
    runTorch(vec, refs);
    let ax: number[] = [];
    runOurs(
      vec,
      (p) => new optim.ASGD(p, { lr: 0.02, t0: 5, lambd: 0.01 }),
      STEPS,
      (opt, ps) => (ax = ps.flatMap((p) => [...(opt.state.get(p)!['ax'] as Float64Array)])),
    );
    const want = refs.flatMap((r) => r.ax());
    expect(ax.length).toBe(7);
    ax.forEach((x, i) => expect(Object.is(x, want[i])).toBe(true));
  });
});

// ---- L-BFGS: step(closure) over a flat vector ---------------------------------------------------
/** Extended Rosenbrock in 4 coordinates, its gradient written out. */
const rosen = (x: number[]): [number, number[]] => {
  let f = 0;
  const g = x.map(() => 0);
  for (let i = 0; i < x.length; i += 2) {
    const a = 1 - x[i]!,
      b = x[i + 1]! - x[i]! * x[i]!;
    f += a * a + 100 * b * b;
    g[i] = -2 * a - 400 * x[i]! * b;
    g[i + 1] = 200 * b;
  }
  return [f, g];
};
const x0 = [-1.2, 1, -0.5, 0.8];
function lbfgsOurs(o: Partial<optim.LBFGSOptions>, steps: number, fn = rosen) {
  const ps = [
    tensor(x0.slice(0, 3), { dtype: 'float64', requiresGrad: true }),
    tensor(x0.slice(3), { dtype: 'float64', requiresGrad: true }),
  ];
  const opt = new optim.LBFGS(ps, o);
  const path: number[][] = [],
    losses: number[] = [];
  let evals = 0;
  const closure = () => {
    evals++;
    opt.zeroGrad();
    const [f, g] = fn([...ps[0]!.data, ...ps[1]!.data]);
    ps[0]!.grad = tensor(g.slice(0, 3), { dtype: 'float64' });
    ps[1]!.grad = tensor(g.slice(3), { dtype: 'float64' });
    return tensor(f, { dtype: 'float64' });
  };
  for (let t = 0; t < steps; t++) {
    losses.push(opt.step(closure).item());
    path.push([...ps[0]!.data, ...ps[1]!.data]);
  }
  return { path, losses, evals, opt, ps, closure };
}
function lbfgsTorch(o: Parameters<typeof torchLBFGS>[0], steps: number) {
  const step = torchLBFGS(o),
    x = [...x0];
  const path: number[][] = [],
    losses: number[] = [];
  let evals = 0;
  const closure = (v: number[]) => (evals++, rosen(v));
  for (let t = 0; t < steps; t++) {
    losses.push(step(x, closure));
    path.push([...x]);
  }
  return { path, losses, evals };
}
const lbfgsCases: [string, Partial<optim.LBFGSOptions>][] = [
  ['fixed steps lr 0.05, maxIter 3, historySize 3 (the history shifts)', { lr: 0.05, maxIter: 3, historySize: 3 }],
  ['strongWolfe, maxIter 2, historySize 4', { lineSearchFn: 'strongWolfe', maxIter: 2, historySize: 4 }],
  [
    'strongWolfe, maxIter 4, maxEval 5 (the line search is cut short)',
    { lineSearchFn: 'strongWolfe', maxIter: 4, maxEval: 5, historySize: 10 },
  ],
  ['strongWolfe, defaults (converges, then returns at the first evaluation)', { lineSearchFn: 'strongWolfe' }],
];
describe('LBFGS equals torch.optim.LBFGS’s step bit for bit (issue 14)', () => {
  for (const [name, o] of lbfgsCases) {
    it(`${name}: ${STEPS} steps`, () => {
      const ours = lbfgsOurs(o, STEPS),
        want = lbfgsTorch(o, STEPS);
      worstDiffs[`LBFGS ${name}`] = expectIdentical(`LBFGS ${name}`, ours.path, want.path);
      expect(ours.losses).toEqual(want.losses);
      expect(ours.evals).toBe(want.evals);
      expect(ours.evals).toBeGreaterThan(STEPS);
    });
  }
});

describe('convergence (issue 14)', () => {
  // 0.5·Σ cᵢ(xᵢ − tᵢ)², condition number 16, through autograd.
  const c = [1, 4, 0.25],
    target = [1, -2, 3];
  const quadratic = (x: Tensor) =>
    x
      .sub(tensor(target, { dtype: x.dtype }))
      .square()
      .mul(tensor(c, { dtype: x.dtype }))
      .sum()
      .mul(0.5);
  const quad: [string, Make, number][] = [
    ['RAdam', (p) => new optim.RAdam(p, { lr: 0.1 }), 400],
    ['RAdamW', (p) => new optim.RAdam(p, { lr: 0.1, decoupledWeightDecay: true, weightDecay: 1e-4 }), 400],
    ['Adadelta', (p) => new optim.Adadelta(p, { lr: 1 }), 3000],
    ['Rprop', (p) => new optim.Rprop(p), 200],
    ['ASGD', (p) => new optim.ASGD(p, { lr: 0.2 }), 300],
    ['Adafactor', (p) => new optim.Adafactor(p, { lr: 0.1 }), 500],
  ];
  for (const [name, make, steps] of quad) {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`${name} ${dtype}: a quadratic, to within 0.05 of the minimum`, () => {
        const x = tensor([0, 0, 0], { dtype, requiresGrad: true });
        const opt = make([x]);
        const f0 = quadratic(x).item();
        for (let i = 0; i < steps; i++) {
          opt.zeroGrad();
          quadratic(x).backward();
          opt.step();
        }
        expect(Math.hypot(...target.map((t, i) => x.data[i]! - t))).toBeLessThan(0.05);
        expect(quadratic(x).item()).toBeLessThan(f0 * 1e-3);
      });
    }
  }
  it('Adafactor and Muon: least squares ‖AW − B‖² for a 4×3 matrix W (factored moments; orthogonalised steps)', () => {
    const A = tensor(
      [
        [1, 0.5, 0, 0.2],
        [0, 1, 0.3, 0],
        [0.1, 0, 1, 0.4],
        [0.2, 0.1, 0, 1],
        [0.5, 0.5, 0.5, 0.5],
      ],
      { dtype: 'float64' },
    );
    const Wstar = tensor(
      [
        [1, -1, 0.5],
        [0.3, 0.8, -0.2],
        [-0.6, 0.1, 1],
        [0.2, 0.4, -0.9],
      ],
      { dtype: 'float64' },
    );
    const B = A.matmul(Wstar);
    for (const make of [
      (p: Tensor[]) => new optim.Adafactor(p, { lr: 0.05 }),
      (p: Tensor[]) => new optim.Muon(p, { lr: 0.02, weightDecay: 0 }),
    ]) {
      const W = tensor(new Float64Array(12), { shape: [4, 3], dtype: 'float64', requiresGrad: true });
      const opt = make([W]);
      const loss = () => A.matmul(W).sub(B).square().sum();
      const l0 = loss().item();
      let l = l0;
      for (let i = 0; i < 600; i++) {
        opt.zeroGrad();
        const li = loss();
        li.backward();
        opt.step();
        l = li.item();
      }
      expect(l).toBeLessThan(l0 * 1e-3);
    }
  });
  it('LBFGS with strongWolfe solves the 4-D Rosenbrock function in a few steps; fixed steps get there too', () => {
    const sw = lbfgsOurs({ lineSearchFn: 'strongWolfe' }, 10);
    // It stops when the loss changes by < toleranceChange (1e-9), as PyTorch's does.
    sw.path.at(-1)!.forEach((x) => expect(Math.abs(x - 1)).toBeLessThan(1e-4));
    expect(rosen(sw.path.at(-1)!)[0]).toBeLessThan(1e-9);
    expect(sw.evals).toBeLessThan(200);
    const fixed = lbfgsOurs({ lr: 0.2, maxIter: 50 }, 20);
    expect(rosen(fixed.path.at(-1)!)[0]).toBeLessThan(1e-6);
  });
});

describe('LBFGS through autograd, in both dtypes', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    for (const lineSearchFn of [null, 'strongWolfe'] as const) {
      it(`${dtype}, lineSearchFn ${String(lineSearchFn)}: an ill-conditioned quadratic over two parameters`, () => {
        const a = tensor([0, 0], { dtype, requiresGrad: true }),
          b = tensor([[0], [0]], { dtype, requiresGrad: true });
        const c = tensor([1, 10], { dtype }),
          t = tensor([1, -2], { dtype });
        const f = () => a.sub(t).square().mul(c).sum().add(b.sub(3).square().sum().mul(0.5));
        const opt = new optim.LBFGS([a, b], { lineSearchFn, lr: lineSearchFn === null ? 0.05 : 1 });
        for (let k = 0; k < 10; k++) opt.step(() => (opt.zeroGrad(), f().backward(), f()));
        expect(f().item()).toBeLessThan(1e-4);
        expect(opt.state.get(a)!.funcEvals).toBeGreaterThan(10);
        expect(opt.state.get(b)).toBeUndefined();
      });
    }
  }
});

describe('a state dict taken mid-run continues exactly like the uninterrupted run (issue 14)', () => {
  const rows: [string, number[][], Make][] = [
    ['RAdam', vec, (p) => new optim.RAdam(p, { lr: 0.05, decoupledWeightDecay: true, weightDecay: 0.1 })],
    ['Adadelta', vec, (p) => new optim.Adadelta(p, { rho: 0.5 })],
    ['Rprop', vec, (p) => new optim.Rprop(p, { lr: 0.05 })],
    ['ASGD', vec, (p) => new optim.ASGD(p, { lr: 0.02, t0: 3 })],
    ['Adafactor', [[2, 3, 2], [3]], (p) => new optim.Adafactor(p, { lr: 0.05 })],
    ['Muon', [[3, 4]], (p) => new optim.Muon(p, { lr: 0.02 })],
  ];
  for (const [name, shapes, make] of rows) {
    it(`${name}: 20 steps, JSON round trip of the state dict into a fresh optimizer, 20 more`, () => {
      const full = runOurs(shapes, make, 40);
      let sd: optim.OptimizerStateDict | undefined,
        at: number[] = [];
      runOurs(
        shapes,
        make,
        20,
        (opt, ps) => (
          (sd = JSON.parse(JSON.stringify(opt.stateDict())) as optim.OptimizerStateDict),
          (at = ps.flatMap((p) => [...p.data]))
        ),
      );
      // Resume: parameters at step 20, a fresh optimizer loaded with the state dict.
      let o = 0;
      const ps = shapes.map((sh) => {
        const p = tensor(at.slice(o, o + size(sh)), { dtype: 'float64', requiresGrad: true })
          .reshape(sh)
          .detach()
          .requiresGrad_();
        o += size(sh);
        return p;
      });
      const opt = make(ps);
      opt.loadStateDict(sd!);
      for (let t = 20; t < 40; t++) {
        const g = gradField(ps.flatMap((p) => [...p.data]));
        let k = 0;
        for (const p of ps)
          (p.grad = tensor(g.slice(k, k + p.size), { dtype: 'float64' }).reshape(p.shape)), (k += p.size);
        opt.step();
        expect(ps.flatMap((p) => [...p.data])).toEqual(full[t]);
      }
    });
  }
  it('LBFGS: the history survives the round trip', () => {
    const o = { lineSearchFn: 'strongWolfe' as const, maxIter: 2, historySize: 3 };
    const full = lbfgsOurs(o, 12);
    const half = lbfgsOurs(o, 6);
    const sd = JSON.parse(JSON.stringify(half.opt.stateDict())) as optim.OptimizerStateDict;
    const again = lbfgsOurs(o, 0);
    half.ps.forEach((p, i) => again.ps[i]!.data.set(p.data));
    again.opt.loadStateDict(sd);
    for (let t = 6; t < 12; t++) {
      again.opt.step(again.closure);
      expect([...again.ps[0]!.data, ...again.ps[1]!.data]).toEqual(full.path[t]);
    }
  });
});

describe('the bit-for-bit checks can tell operation orders apart, and Newton–Schulz orthogonalises', () => {
  it('RAdam with bc2Sqrt / (√v + ε) instead of PyTorch’s reciprocal(√v + ε)·bc2Sqrt leaves the trajectory (by rounding only)', () => {
    const [b1, b2, lr, eps] = [0.9, 0.999, 0.05, 1e-8];
    const variant = (): TorchStep => {
      let m: number[] = [],
        v: number[] = [];
      return (th, g, t) => {
        if (t === 1) (m = th.map(() => 0)), (v = th.map(() => 0));
        const bc1 = 1 - b1 ** t,
          bc2 = 1 - b2 ** t,
          rhoInf = 2 / (1 - b2) - 1,
          rhoT = rhoInf - (2 * t * b2 ** t) / bc2;
        const rect = (((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) ** 0.5;
        return th.map((x, i) => {
          m[i] = m[i]! + (1 - b1) * (g[i]! - m[i]!);
          v[i] = v[i]! * b2 + (1 - b2) * g[i]! * g[i]!;
          const mh = m[i]! / bc1;
          return rhoT > 5 ? x - mh * lr * (bc2 ** 0.5 / (Math.sqrt(v[i]!) + eps)) * rect : x - mh * lr;
        });
      };
    };
    const ours = runOurs(vec, (p) => new optim.RAdam(p, { lr }));
    const other = runTorch(vec, [variant(), variant()]);
    expect(ours.some((row, t) => row.some((x, i) => x !== other[t]![i]))).toBe(true);
    ours.forEach((row, t) => row.forEach((x, i) => expect(Math.abs(x - other[t]![i]!)).toBeLessThan(1e-12)));
  });
  it('Adafactor with Σg²/n instead of PyTorch’s norm(g)²/n leaves the trajectory (by rounding only)', () => {
    const ours = runOurs([[3, 4]], (p) => new optim.Adafactor(p, { lr: 0.05 }));
    expect(ours).toEqual(runTorch([[3, 4]], [torchAdafactor([3, 4], { lr: 0.05 })]));
    const other = runTorch(
      [[3, 4]],
      [torchAdafactor([3, 4], { lr: 0.05 }, (v) => v.reduce((s, x) => s + x * x, 0) / v.length)],
    );
    expect(ours.some((row, t) => row.some((x, i) => x !== other[t]![i]))).toBe(true);
    ours.forEach((row, t) => row.forEach((x, i) => expect(Math.abs(x - other[t]![i]!)).toBeLessThan(1e-12)));
  });
  it('newtonSchulz with the cubic coefficients (1.5, −0.5, 0) converges to the orthogonal polar factor (wide and tall)', () => {
    for (const [r, c] of [
      [3, 5],
      [5, 3],
    ] as const) {
      const G = Float64Array.from({ length: r * c }, (_, i) => Math.sin(1.3 * i + 0.4) + (i % (c + 1) === 0 ? 1 : 0));
      const O = optim.newtonSchulz(G, r, c, { nsCoefficients: [1.5, -0.5, 0], nsSteps: 60, eps: 1e-7 });
      const k = Math.min(r, c);
      // O Oᵀ (wide) or Oᵀ O (tall) is the k×k identity.
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < k; j++) {
          let s = 0;
          for (let l = 0; l < Math.max(r, c); l++)
            s += r <= c ? O[i * c + l]! * O[j * c + l]! : O[l * c + i]! * O[l * c + j]!;
          expect(Math.abs(s - (i === j ? 1 : 0))).toBeLessThan(1e-10);
        }
      }
      // The quintic default leaves singular values spread around 1 (Jordan: roughly U(0.5, 1.5)), not exactly 1.
      const Q = optim.newtonSchulz(G, r, c, { nsCoefficients: [3.4445, -4.775, 2.0315], nsSteps: 5, eps: 1e-7 });
      const fro2 = [...Q].reduce((s, x) => s + x * x, 0);
      expect(fro2 / k).toBeGreaterThan(0.5 ** 2);
      expect(fro2 / k).toBeLessThan(1.5 ** 2);
    }
  });
});
