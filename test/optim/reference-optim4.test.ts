/**
 * Schedule-Free SGD/AdamW, Prodigy, LAMB and LARS against statement-by-statement float64 transcriptions
 * of their reference code (reference-optim4.ts): bit-identical over 60 steps on several configurations,
 * across two parameter tensors, through a mid-run JSON state-dict round trip, and (Schedule-Free) through
 * eval()/train() swaps; plus convergence.
 */
import { describe, expect, it } from 'vitest';
import { optim, tensor, type Tensor } from '../../src/index.js';
import {
  refAdamWScheduleFree,
  refLamb,
  refLars,
  refProdigy,
  refSGDScheduleFree,
  type RefStep,
  type SFRef,
  type Vec,
} from './reference-optim4.js';

// Two tensors (4 and 3 values) under one coupled, non-convex gradient field.
const field = (x: Vec): Vec => {
  const [a, b, c, d, e, f, g] = x as [number, number, number, number, number, number, number];
  return [
    4 * a ** 3 - b,
    2 * b + Math.sin(a),
    0.05 * c - 0.3,
    1e-3 * Math.cos(7 * d) - 2e-4,
    e - 0.5 * f,
    3 * f + a,
    Math.tanh(g) + 0.1,
  ];
};
const start: Vec[] = [
  [0.7, -1.3, 2.5, 0.01],
  [0.4, -0.2, 1.5],
];
const STEPS = 60,
  MID = 30;
const gradsOf = (ps: Vec[]): Vec[] => {
  const g = field(ps.flat());
  return [g.slice(0, 4), g.slice(4)];
};

type Opt = optim.Optimizer & { train?: () => void; eval?: () => void };
type Make = (ps: Tensor[]) => Opt;

/** Runs ours for STEPS steps; at MID the optimizer is rebuilt from a JSON copy of its state dict. */
function runOurs(make: Make, swapAt?: number): { path: Vec[][]; evalAt?: Vec[] } {
  let ps = start.map((v) => tensor(v, { dtype: 'float64', requiresGrad: true }));
  let opt = make(ps);
  opt.train?.();
  const path: Vec[][] = [];
  let evalAt: Vec[] | undefined;
  for (let t = 1; t <= STEPS; t++) {
    const gs = gradsOf(ps.map((p) => [...p.data]));
    ps.forEach((p, j) => (p.grad = tensor(gs[j]!, { dtype: 'float64' })));
    opt.step();
    if (t === swapAt) {
      opt.eval!();
      evalAt = ps.map((p) => [...p.data]);
      opt.train!();
    }
    if (t === MID) {
      const sd = JSON.parse(JSON.stringify(opt.stateDict())) as optim.OptimizerStateDict;
      ps = ps.map((p) => tensor([...p.data], { dtype: 'float64', requiresGrad: true }));
      opt = make(ps);
      opt.loadStateDict(sd);
    }
    path.push(ps.map((p) => [...p.data]));
  }
  return { path, evalAt };
}
function runRef(step: RefStep, sf?: SFRef, swapAt?: number): { path: Vec[][]; evalAt?: Vec[] } {
  const ps = start.map((v) => [...v]);
  sf?.train(ps);
  const path: Vec[][] = [];
  let evalAt: Vec[] | undefined;
  for (let t = 1; t <= STEPS; t++) {
    step(ps, gradsOf(ps));
    if (t === swapAt) {
      sf!.eval(ps);
      evalAt = ps.map((p) => [...p]);
      sf!.train(ps);
    }
    path.push(ps.map((p) => [...p]));
  }
  return { path, evalAt };
}
/** The largest |ours − reference| (0 when bit-identical), throwing at the first differing double. */
function compare(name: string, ours: Vec[][], want: Vec[][]): void {
  ours.forEach((row, t) =>
    row.forEach((v, j) =>
      v.forEach((x, i) => {
        if (!Object.is(x, want[t]![j]![i]))
          throw new Error(`${name}: step ${t + 1} tensor ${j}[${i}]: ours ${x} vs reference ${want[t]![j]![i]}`);
      }),
    ),
  );
  expect(ours[ours.length - 1]!.flat().every((x, i) => x !== start.flat()[i])).toBe(true);
}

type Case = [name: string, make: Make, ref: () => RefStep | SFRef];
const isSF = (r: RefStep | SFRef): r is SFRef => typeof r === 'object';
const cases: Case[] = [
  ['SGDScheduleFree', (p) => new optim.SGDScheduleFree(p, { lr: 0.05 }), () => refSGDScheduleFree({ lr: 0.05 })],
  [
    'SGDScheduleFree warmup+wd+r+weightLrPower',
    (p) =>
      new optim.SGDScheduleFree(p, {
        lr: 0.03,
        momentum: 0.7,
        weightDecay: 0.1,
        warmupSteps: 10,
        r: 0.5,
        weightLrPower: 1.5,
      }),
    () =>
      refSGDScheduleFree({ lr: 0.03, momentum: 0.7, weightDecay: 0.1, warmupSteps: 10, r: 0.5, weightLrPower: 1.5 }),
  ],
  [
    'SGDScheduleFree momentum 0.3 (lerp’s second branch on eval)',
    (p) => new optim.SGDScheduleFree(p, { lr: 0.02, momentum: 0.3 }),
    () => refSGDScheduleFree({ lr: 0.02, momentum: 0.3 }),
  ],
  ['AdamWScheduleFree', (p) => new optim.AdamWScheduleFree(p, { lr: 0.05 }), () => refAdamWScheduleFree({ lr: 0.05 })],
  [
    'AdamWScheduleFree warmup+wd+r',
    (p) =>
      new optim.AdamWScheduleFree(p, {
        lr: 0.05,
        betas: [0.8, 0.99],
        weightDecay: 0.2,
        warmupSteps: 7,
        r: 1,
        weightLrPower: 0,
      }),
    () =>
      refAdamWScheduleFree({ lr: 0.05, betas: [0.8, 0.99], weightDecay: 0.2, warmupSteps: 7, r: 1, weightLrPower: 0 }),
  ],
  [
    'AdamWScheduleFree innerMomentum+eps',
    (p) => new optim.AdamWScheduleFree(p, { lr: 0.02, innerMomentum: 0.9, eps: 1e-4, warmupSteps: 5 }),
    () => refAdamWScheduleFree({ lr: 0.02, innerMomentum: 0.9, eps: 1e-4, warmupSteps: 5 }),
  ],
  ['Prodigy', (p) => new optim.Prodigy(p), () => refProdigy({})],
  [
    'Prodigy bias correction+safeguard+dCoef+growthRate',
    (p) =>
      new optim.Prodigy(p, { useBiasCorrection: true, safeguardWarmup: true, dCoef: 0.5, growthRate: 1.05, d0: 1e-3 }),
    () => refProdigy({ useBiasCorrection: true, safeguardWarmup: true, dCoef: 0.5, growthRate: 1.05, d0: 1e-3 }),
  ],
  [
    'Prodigy decoupled wd, beta3',
    (p) => new optim.Prodigy(p, { weightDecay: 0.1, beta3: 0.9, lr: 0.5 }),
    () => refProdigy({ weightDecay: 0.1, beta3: 0.9, lr: 0.5 }),
  ],
  [
    'Prodigy coupled wd, no first moment',
    (p) => new optim.Prodigy(p, { weightDecay: 0.1, decouple: false, betas: [0, 0.99] }),
    () => refProdigy({ weightDecay: 0.1, decouple: false, betas: [0, 0.99] }),
  ],
  [
    'Prodigy two groups (one frozen at lr 0, eps/d0 per group)',
    (p) => new optim.Prodigy([{ params: [p[0]!] }, { params: [p[1]!], eps: 1e-6, weightDecay: 0.05 }], { d0: 1e-4 }),
    () =>
      refProdigy({ d0: 1e-4 }, [{ params: [0] }, { params: [1], opts: { eps: 1e-6, weightDecay: 0.05, d0: 1e-4 } }]),
  ],
  ['Lamb', (p) => new optim.Lamb(p, { lr: 0.02 }), () => refLamb({ lr: 0.02 })],
  [
    'Lamb wd+epsRoot+betas',
    (p) => new optim.Lamb(p, { lr: 0.05, betas: [0.3, 0.9], weightDecay: 0.1, epsRoot: 1e-8, eps: 1e-3 }),
    () => refLamb({ lr: 0.05, b1: 0.3, b2: 0.9, weightDecay: 0.1, epsRoot: 1e-8, eps: 1e-3 }),
  ],
  ['Lars', (p) => new optim.Lars(p, { lr: 1 }), () => refLars({ lr: 1 })],
  [
    'Lars wd+nesterov+eps+trustCoefficient',
    (p) =>
      new optim.Lars(p, {
        lr: 0.5,
        weightDecay: 0.01,
        nesterov: true,
        eps: 1e-3,
        trustCoefficient: 0.01,
        momentum: 0.8,
      }),
    () => refLars({ lr: 0.5, weightDecay: 0.01, nesterov: true, eps: 1e-3, trustCoefficient: 0.01, momentum: 0.8 }),
  ],
  [
    'Lars without the trust ratio',
    (p) => new optim.Lars(p, { lr: 0.01, trustRatio: false }),
    () => refLars({ lr: 0.01, trustRatioMask: false }),
  ],
];

describe('float64 trajectories equal the reference code bit for bit (60 steps, state dict round trip at 30)', () => {
  for (const [name, make, ref] of cases) {
    it(name, () => {
      const r = ref();
      const swapAt = isSF(r) ? 17 : undefined;
      const ours = runOurs(make, swapAt);
      const want = isSF(r) ? runRef(r.step, r, swapAt) : runRef(r);
      compare(name, ours.path, want.path);
      if (swapAt !== undefined) compare(`${name} eval()`, [ours.evalAt!], [want.evalAt!]);
    });
  }
  it('Prodigy two groups: the frozen group really is frozen and d is shared', () => {
    const ps = start.map((v) => tensor(v, { dtype: 'float64', requiresGrad: true }));
    const opt = new optim.Prodigy([{ params: [ps[0]!] }, { params: [ps[1]!], lr: 0 }]);
    for (let t = 0; t < 20; t++) {
      const gs = gradsOf(ps.map((p) => [...p.data]));
      ps.forEach((p, j) => (p.grad = tensor(gs[j]!, { dtype: 'float64' })));
      opt.step();
    }
    expect([...ps[1]!.data]).toEqual(start[1]);
    expect(opt.estimate.d).toBeGreaterThan(1e-6);
    expect(opt.estimate.k).toBe(20);
  });
});

describe('the comparison can tell operation orders apart', () => {
  it('Lamb with the trust ratio applied after the lr scaling differs in the last bits only', () => {
    const ours = runOurs((p) => new optim.Lamb(p, { lr: 0.05, weightDecay: 0.1 })).path;
    const base = refLamb({ lr: 0.05, weightDecay: 0.1 });
    // Reordered variant: θ + u·(−lr·r) instead of θ + (−lr)·(u·r).
    const ps = start.map((v) => [...v]);
    let differs = false;
    const m = ps.map((p) => p.map(() => 0)),
      v = ps.map((p) => p.map(() => 0));
    for (let t = 1; t <= STEPS; t++) {
      const gs = gradsOf(ps);
      ps.forEach((p, j) => {
        const u = p.map((_, i) => {
          m[j]![i] = 0.1 * gs[j]![i]! + 0.9 * m[j]![i]!;
          v[j]![i] = 0.001 * (gs[j]![i]! * gs[j]![i]!) + 0.999 * v[j]![i]!;
          return m[j]![i]! / (1 - 0.9 ** t) / (Math.sqrt(v[j]![i]! / (1 - 0.999 ** t)) + 1e-6) + 0.1 * p[i]!;
        });
        const nrm = (x: Vec) => Math.sqrt(x.reduce((s, y) => s + y * y, 0));
        const r = nrm(p) / nrm(u);
        p.forEach((x, i) => (p[i] = x + u[i]! * (-0.05 * r)));
      });
      ps.forEach((p, j) =>
        p.forEach((x, i) => {
          if (x !== ours[t - 1]![j]![i]) differs = true;
          expect(Math.abs(x - ours[t - 1]![j]![i]!)).toBeLessThan(1e-12);
        }),
      );
    }
    expect(differs).toBe(true);
    expect(typeof base).toBe('function');
  });
});

describe('Schedule-Free modes', () => {
  it('step() in eval mode is refused; eval()/train() are idempotent and inverse', () => {
    const p = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const opt = new optim.AdamWScheduleFree([p], { lr: 0.1 });
    p.grad = tensor([1, -1], { dtype: 'float64' });
    expect(() => opt.step()).toThrow(/eval mode; call opt.train\(\)/);
    opt.train();
    for (let i = 0; i < 5; i++) opt.step();
    const y = [...p.data];
    opt.eval();
    opt.eval();
    const x = [...p.data];
    expect(x).not.toEqual(y);
    opt.train();
    opt.train();
    [...p.data].forEach((v, i) => expect(v).toBeCloseTo(y[i]!, 14));
    expect(() => new optim.SGDScheduleFree([p], { momentum: 1 })).toThrow(
      /momentum must be a finite number > 0 and < 1/,
    );
  });
  it('a state dict saved in eval mode loads into eval mode', () => {
    const p = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const opt = new optim.SGDScheduleFree([p], { lr: 0.1 });
    opt.train();
    p.grad = tensor([1, -1], { dtype: 'float64' });
    opt.step();
    opt.eval();
    const other = new optim.SGDScheduleFree([tensor([...p.data], { dtype: 'float64', requiresGrad: true })]);
    other.train();
    other.loadStateDict(JSON.parse(JSON.stringify(opt.stateDict())));
    expect(other.trainMode).toBe(false);
  });
  it('Prodigy refuses a state dict without its estimate, and a bad estimate, changing nothing', () => {
    const p = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const opt = new optim.Prodigy([p]);
    p.grad = tensor([1, -1], { dtype: 'float64' });
    opt.step();
    const sd = opt.stateDict();
    const { prodigy: _e, ...without } = sd;
    expect(() => opt.loadStateDict(without)).toThrow(/estimate under key prodigy/);
    expect(() => opt.loadStateDict({ ...sd, prodigy: { ...sd.prodigy, d: -1 } })).toThrow(
      /prodigy.d must be a positive number/,
    );
    expect(opt.stateDict()).toEqual(sd);
  });
});

// 0.5·Σ cᵢ(xᵢ − tᵢ)² through autograd, both float dtypes; and Rosenbrock.
const c = [1, 4, 0.25],
  target = [1, -2, 3];
const quadratic = (x: Tensor) =>
  x
    .sub(tensor(target, { dtype: x.dtype }))
    .square()
    .mul(tensor(c, { dtype: x.dtype }))
    .sum()
    .mul(0.5);
const conv: [string, (p: Tensor[]) => Opt, number][] = [
  ['SGDScheduleFree', (p) => new optim.SGDScheduleFree(p, { lr: 0.3 }), 300],
  ['AdamWScheduleFree', (p) => new optim.AdamWScheduleFree(p, { lr: 0.1 }), 500],
  ['Prodigy', (p) => new optim.Prodigy(p), 500],
  ['Lamb', (p) => new optim.Lamb(p, { lr: 0.01 }), 2000],
  ['Lars', (p) => new optim.Lars(p, { lr: 20, momentum: 0.9 }), 2000],
];
describe('convergence on a quadratic (autograd, both float dtypes)', () => {
  for (const [name, make, steps] of conv) {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`${name} ${dtype}`, () => {
        const x = tensor([0.5, 0.5, 0.5], { dtype, requiresGrad: true });
        const opt = make([x]);
        opt.train?.();
        const startLoss = quadratic(x).item();
        for (let i = 0; i < steps; i++) {
          opt.zeroGrad();
          quadratic(x).backward();
          opt.step();
        }
        opt.eval?.();
        expect(Math.hypot(...target.map((t, i) => x.data[i]! - t))).toBeLessThan(0.05);
        expect(quadratic(x).item()).toBeLessThan(startLoss * 1e-3);
      });
    }
  }
});

describe('bad options are refused with named messages', () => {
  const p = () => [tensor([1, 2], { requiresGrad: true })];
  const bad: [string, () => unknown, RegExp][] = [
    [
      'SF unknown key',
      () => new optim.AdamWScheduleFree(p(), { momentum: 0.9 } as never),
      /AdamWScheduleFree: unknown option momentum \(known: lr, betas, eps, weightDecay, warmupSteps, r, weightLrPower, innerMomentum/,
    ],
    [
      'SF warmupSteps',
      () => new optim.SGDScheduleFree(p(), { warmupSteps: 1.5 }),
      /SGDScheduleFree: option warmupSteps must be an integer >= 0, got 1.5/,
    ],
    [
      'Prodigy beta3',
      () => new optim.Prodigy(p(), { beta3: 1 }),
      /Prodigy: option beta3 must be a finite number >= 0 and < 1, got 1/,
    ],
    [
      'Prodigy growthRate',
      () => new optim.Prodigy(p(), { growthRate: 0 }),
      /Prodigy: option growthRate must be a finite number > 0, got 0/,
    ],
    ['Prodigy d0', () => new optim.Prodigy(p(), { d0: 0 }), /Prodigy: option d0 must be a finite number > 0, got 0/],
    [
      'Lamb epsRoot',
      () => new optim.Lamb(p(), { epsRoot: -1 }),
      /Lamb: option epsRoot must be a finite number >= 0, got -1/,
    ],
    [
      'Lars nesterov',
      () => new optim.Lars(p(), { nesterov: true, momentum: 0 }),
      /Lars: .*option nesterov requires momentum > 0/,
    ],
    [
      'Lars trustCoefficient',
      () => new optim.Lars(p(), { trustCoefficient: 0 }),
      /Lars: option trustCoefficient must be a finite number > 0, got 0/,
    ],
  ];
  for (const [name, f, msg] of bad) it(name, () => expect(f).toThrow(msg));
  it('Prodigy refuses groups with different non-zero lrs at step time, as the reference does', () => {
    const [a, b] = [tensor([1], { requiresGrad: true }), tensor([2], { requiresGrad: true })];
    const opt = new optim.Prodigy([{ params: [a] }, { params: [b], lr: 0.5 }]);
    a.grad = tensor([1]);
    b.grad = tensor([1]);
    expect(() => opt.step()).toThrow(/param group 1 has lr 0.5; Prodigy allows only the largest lr \(1\) or 0/);
  });
});
