/** Learning-rate schedulers: their lr sequences against closed forms computed here, PyTorch's chaining, state dicts, bad input. */
import { describe, expect, it } from 'vitest';
import { optim, tensor, ValueError } from '../../src/index.js';

const sgd = (lr = 1, groups = 1) =>
  new optim.SGD(
    Array.from({ length: groups }, (_, i) => ({ params: [tensor([1], { requiresGrad: true })], lr: lr * (i + 1) })),
    { lr, momentum: 0.9 },
  );

/** lr of group 0 at epochs 0..n−1 (epoch 0 is set by the constructor). */
function lrs(opt: optim.Optimizer, sched: { step(): void }, n: number, group = 0): number[] {
  const out = [opt.paramGroups[group]!.lr];
  for (let e = 1; e < n; e++) {
    sched.step();
    out.push(opt.paramGroups[group]!.lr);
  }
  return out;
}
const close = (got: number[], want: number[], tol = 1e-12) => {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    if (Math.abs(g - want[i]!) > tol * Math.max(1, Math.abs(want[i]!)))
      throw new Error(`epoch ${i}: got ${g}, want ${want[i]}`);
  });
};
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('lr sequences equal the closed forms', () => {
  it('StepLR: base·γ^⌊e/stepSize⌋', () => {
    const opt = sgd(0.5),
      s = new optim.StepLR(opt, { stepSize: 3, gamma: 0.1 });
    close(
      lrs(opt, s, 20),
      range(20).map((e) => 0.5 * 0.1 ** Math.floor(e / 3)),
    );
  });
  it('MultiStepLR: base·γ^(milestones ≤ e), a repeated milestone counting twice', () => {
    const opt = sgd(2),
      s = new optim.MultiStepLR(opt, { milestones: [7, 2, 7], gamma: 0.5 });
    close(
      lrs(opt, s, 12),
      range(12).map((e) => 2 * 0.5 ** [2, 7, 7].filter((m) => m <= e).length),
    );
  });
  it('ExponentialLR: base·γ^e', () => {
    const opt = sgd(0.3),
      s = new optim.ExponentialLR(opt, { gamma: 0.9 });
    close(
      lrs(opt, s, 50),
      range(50).map((e) => 0.3 * 0.9 ** e),
    );
  });
  it('CosineAnnealingLR: ηmin + (base − ηmin)(1 + cos(πe/T))/2, also past T (PyTorch continues the cosine)', () => {
    const opt = sgd(0.1),
      s = new optim.CosineAnnealingLR(opt, { tMax: 10, etaMin: 0.001 });
    close(
      lrs(opt, s, 35),
      range(35).map((e) => 0.001 + ((0.1 - 0.001) * (1 + Math.cos((Math.PI * e) / 10))) / 2),
    );
  });
  it('CosineAnnealingLR reaches exactly ηmin = 0 at T', () => {
    const opt = sgd(0.1),
      s = new optim.CosineAnnealingLR(opt, { tMax: 4 });
    expect(lrs(opt, s, 5)[4]).toBe(0);
  });
  it('LinearLR warmup: base·(s + (e_f − s)·min(e, n)/n)', () => {
    const opt = sgd(0.6),
      s = new optim.LinearLR(opt, { startFactor: 0.1, endFactor: 1, totalIters: 4 });
    close(
      lrs(opt, s, 8),
      range(8).map((e) => 0.6 * (0.1 + (0.9 * Math.min(e, 4)) / 4)),
    );
  });
  it('LinearLR defaults: startFactor 1/3 over 5 iterations', () => {
    const opt = sgd(0.3),
      s = new optim.LinearLR(opt);
    close(lrs(opt, s, 7), [0.1, 0.14, 0.18, 0.22, 0.26, 0.3, 0.3]);
  });
  it('LambdaLR: base·λ(e), one λ per group', () => {
    const opt = sgd(1, 2);
    const s = new optim.LambdaLR(opt, { lrLambda: [(e) => 1 / (e + 1), (e) => 0.95 ** e] });
    const g1: number[] = [opt.paramGroups[1]!.lr];
    const g0 = [opt.paramGroups[0]!.lr];
    for (let e = 1; e < 6; e++) {
      s.step();
      g0.push(opt.paramGroups[0]!.lr);
      g1.push(opt.paramGroups[1]!.lr);
    }
    close(
      g0,
      range(6).map((e) => 1 / (e + 1)),
    );
    close(
      g1,
      range(6).map((e) => 2 * 0.95 ** e),
    );
  });
  it('each scheduler’s closedFormLr agrees with its recursive step', () => {
    const makers: ((o: optim.Optimizer) => optim.LRScheduler)[] = [
      (o) => new optim.StepLR(o, { stepSize: 4, gamma: 0.3 }),
      (o) => new optim.ExponentialLR(o, { gamma: 0.97 }),
      (o) => new optim.CosineAnnealingLR(o, { tMax: 7, etaMin: 0.01 }),
      (o) => new optim.LinearLR(o, { startFactor: 0.2, totalIters: 9 }),
      (o) => new optim.MultiStepLR(o, { milestones: [3, 6] }),
    ];
    for (const make of makers) {
      const opt = sgd(0.7, 2),
        s = make(opt);
      for (let e = 0; e < 25; e++) {
        close(s.getLastLr(), s.closedFormLr()!);
        s.step();
      }
    }
  });
});

describe('OneCycleLR', () => {
  it('rises from maxLr/25 to maxLr over pctStart·T steps, anneals to maxLr/25/1e4, cycles momentum inversely (cosine)', () => {
    const T = 20,
      maxLr = 0.4;
    const opt = sgd(0.01),
      s = new optim.OneCycleLR(opt, { maxLr, totalSteps: T });
    const got: number[] = [],
      mom: number[] = [];
    for (let t = 0; t < T; t++) {
      if (t > 0) s.step();
      got.push(opt.paramGroups[0]!.lr);
      mom.push(opt.paramGroups[0]!.momentum);
    }
    const lo = maxLr / 25,
      end = lo / 1e4,
      up = 0.3 * T - 1;
    const cosAnneal = (a: number, b: number, p: number) => b + ((a - b) / 2) * (Math.cos(Math.PI * p) + 1);
    const want = range(T).map((t) =>
      t <= up ? cosAnneal(lo, maxLr, t / up) : cosAnneal(maxLr, end, (t - up) / (T - 1 - up)),
    );
    close(got, want);
    expect(got[0]).toBeCloseTo(0.016, 15);
    expect(got[up]).toBeCloseTo(maxLr, 15);
    expect(got[T - 1]).toBeCloseTo(end, 15);
    expect(mom[0]).toBeCloseTo(0.95, 15);
    expect(mom[up]).toBeCloseTo(0.85, 15);
    expect(mom[T - 1]).toBeCloseTo(0.95, 15);
    expect(() => {
      s.step();
      s.step();
    }).toThrow(/total steps is 20/);
  });
  it('linear strategy, three phases, and beta1 cycling for Adam', () => {
    const p = tensor([1], { requiresGrad: true });
    const opt = new optim.Adam([p], { lr: 1 });
    const s = new optim.OneCycleLR(opt, {
      maxLr: 1,
      epochs: 2,
      stepsPerEpoch: 5,
      annealStrategy: 'linear',
      threePhase: true,
      pctStart: 0.3,
    });
    // phases end at 2, 4, 9: 0.04 → 1 → 0.04 → 4e-6
    const want = [
      0.04,
      0.52,
      1,
      0.52,
      0.04,
      0.04 + (4e-6 - 0.04) * (1 / 5),
      0.04 + (4e-6 - 0.04) * (2 / 5),
      0.04 + (4e-6 - 0.04) * (3 / 5),
      0.04 + (4e-6 - 0.04) * (4 / 5),
      4e-6,
    ];
    close(lrs(opt, s, 10), want);
    expect(opt.paramGroups[0]!.betas[0]).toBeCloseTo(0.95, 15);
    expect(opt.paramGroups[0]!.betas[1]).toBe(0.999);
  });
  it('needs totalSteps or epochs and stepsPerEpoch, and an optimizer with momentum when cycling it', () => {
    expect(() => new optim.OneCycleLR(sgd(), { maxLr: 1 })).toThrow(/totalSteps/);
    const ada = new optim.Adagrad([tensor([1], { requiresGrad: true })]);
    expect(() => new optim.OneCycleLR(ada, { maxLr: 1, totalSteps: 10 })).toThrow(/cycleMomentum: false/);
    expect(() => new optim.OneCycleLR(ada, { maxLr: 1, totalSteps: 10, cycleMomentum: false })).not.toThrow();
  });
});

describe('ReduceLROnPlateau', () => {
  it('reduces after more than `patience` epochs without relative improvement, then waits `cooldown`', () => {
    const opt = sgd(1),
      s = new optim.ReduceLROnPlateau(opt, { patience: 2, factor: 0.5, cooldown: 1 });
    const metrics = [10, 9, 9, 9, 9, 9, 9, 9, 9, 9, 8];
    const got = metrics.map((m) => (s.step(m), opt.paramGroups[0]!.lr));
    // Calls 0-based: best 9 at call 1; bad at calls 2, 3, 4 → after the third (> patience 2) reduce to 0.5 and
    // start a cooldown of 1, which zeroes the bad count at call 5; bad again at 6, 7, 8 → 0.25 at call 8; 8 improves.
    expect(got).toEqual([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]);
  });
  it('threshold: an improvement smaller than rel 1e-4 does not count; mode max; minLr', () => {
    const opt = sgd(1),
      s = new optim.ReduceLROnPlateau(opt, { mode: 'max', patience: 0, factor: 0.1, minLr: 0.05 });
    s.step(1);
    s.step(1.00005); // < 1·(1 + 1e-4): not better → reduce
    expect(opt.paramGroups[0]!.lr).toBeCloseTo(0.1, 15);
    s.step(0.5);
    expect(opt.paramGroups[0]!.lr).toBe(0.05);
    s.step(0.4);
    expect(opt.paramGroups[0]!.lr).toBe(0.05);
  });
  it('rejects factor ≥ 1 and bad modes', () => {
    expect(() => new optim.ReduceLROnPlateau(sgd(), { factor: 1 })).toThrow(/factor.*got 1/);
    expect(() => new optim.ReduceLROnPlateau(sgd(), { mode: 'up' as 'min' })).toThrow(/mode/);
  });
});

describe('SequentialLR', () => {
  it('linear warmup then exponential decay, the second scheduler restarting at epoch 0 at the milestone', () => {
    const opt = sgd(1);
    const warm = new optim.LinearLR(opt, { startFactor: 0.25, totalIters: 3 });
    const decay = new optim.ExponentialLR(opt, { gamma: 0.5 });
    const s = new optim.SequentialLR(opt, { schedulers: [warm, decay], milestones: [3] });
    close(lrs(opt, s, 7), [0.25, 0.5, 0.75, 1, 0.5, 0.25, 0.125]);
  });
  it('warmup then cosine', () => {
    const opt = sgd(0.1);
    const s = new optim.SequentialLR(opt, {
      schedulers: [
        new optim.LinearLR(opt, { startFactor: 0.5, totalIters: 2 }),
        new optim.CosineAnnealingLR(opt, { tMax: 4 }),
      ],
      milestones: [2],
    });
    const want = [0.05, 0.075, ...range(5).map((e) => (0.1 * (1 + Math.cos((Math.PI * e) / 4))) / 2)];
    close(lrs(opt, s, 7), want);
  });
  it('checks milestones and optimizers', () => {
    const opt = sgd(1),
      other = sgd(1);
    const a = new optim.LinearLR(opt),
      b = new optim.ExponentialLR(other, { gamma: 0.5 });
    expect(() => new optim.SequentialLR(opt, { schedulers: [a, b], milestones: [3] })).toThrow(/different optimizer/);
    expect(() => new optim.SequentialLR(opt, { schedulers: [a], milestones: [3] })).toThrow(/expected 0 milestone/);
  });
});

describe('state dicts resume a schedule exactly', () => {
  const makers: [
    string,
    (o: optim.Optimizer) => {
      step(): void;
      stateDict(): optim.SchedulerStateDict;
      loadStateDict(s: optim.SchedulerStateDict): void;
    },
  ][] = [
    ['StepLR', (o) => new optim.StepLR(o, { stepSize: 3, gamma: 0.7 })],
    ['MultiStepLR', (o) => new optim.MultiStepLR(o, { milestones: [2, 9] })],
    ['ExponentialLR', (o) => new optim.ExponentialLR(o, { gamma: 0.93 })],
    ['CosineAnnealingLR', (o) => new optim.CosineAnnealingLR(o, { tMax: 6, etaMin: 0.01 })],
    ['LinearLR', (o) => new optim.LinearLR(o, { totalIters: 8 })],
    ['LambdaLR', (o) => new optim.LambdaLR(o, { lrLambda: (e) => 1 / Math.sqrt(e + 1) })],
    ['OneCycleLR', (o) => new optim.OneCycleLR(o, { maxLr: 0.5, totalSteps: 30 })],
    [
      'SequentialLR',
      (o) =>
        new optim.SequentialLR(o, {
          schedulers: [new optim.LinearLR(o, { totalIters: 3 }), new optim.CosineAnnealingLR(o, { tMax: 9 })],
          milestones: [4],
        }),
    ],
  ];
  for (const [name, make] of makers) {
    it(name, () => {
      const o1 = sgd(0.2, 2),
        s1 = make(o1);
      const ref: number[][] = [];
      for (let e = 0; e < 14; e++) s1.step(), ref.push(o1.paramGroups.map((g) => g.lr));
      const o2 = sgd(0.2, 2),
        s2 = make(o2);
      for (let e = 0; e < 6; e++) s2.step();
      const saved = JSON.stringify({ opt: o2.stateDict(), sched: s2.stateDict() });
      const o3 = sgd(0.2, 2),
        s3 = make(o3);
      const { opt, sched } = JSON.parse(saved);
      o3.loadStateDict(opt);
      s3.loadStateDict(sched);
      const got: number[][] = [];
      for (let e = 6; e < 14; e++) s3.step(), got.push(o3.paramGroups.map((g) => g.lr));
      expect(got).toEqual(ref.slice(6));
    });
  }
  it('ReduceLROnPlateau', () => {
    const metrics = [5, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3];
    const o1 = sgd(1),
      s1 = new optim.ReduceLROnPlateau(o1, { patience: 1 });
    const ref = metrics.map((m) => (s1.step(m), o1.paramGroups[0]!.lr));
    const o2 = sgd(1),
      s2 = new optim.ReduceLROnPlateau(o2, { patience: 1 });
    metrics.slice(0, 4).forEach((m) => s2.step(m));
    const o3 = sgd(1),
      s3 = new optim.ReduceLROnPlateau(o3, { patience: 1 });
    o3.loadStateDict(JSON.parse(JSON.stringify(o2.stateDict())));
    s3.loadStateDict(JSON.parse(JSON.stringify(s2.stateDict())));
    expect(metrics.slice(4).map((m) => (s3.step(m), o3.paramGroups[0]!.lr))).toEqual(ref.slice(4));
  });
  it('refuses a state dict from another scheduler', () => {
    const o = sgd();
    const sd = new optim.StepLR(o, { stepSize: 2 }).stateDict();
    expect(() => new optim.ExponentialLR(sgd(), { gamma: 0.5 }).loadStateDict(sd)).toThrow(ValueError);
    expect(() => new optim.ExponentialLR(sgd(), { gamma: 0.5 }).loadStateDict(sd)).toThrow(/from scheduler "StepLR"/);
  });
});

describe('bad scheduler options', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['StepLR stepSize 0', () => new optim.StepLR(sgd(), { stepSize: 0 }), /stepSize.*got 0/],
    ['StepLR gamma NaN', () => new optim.StepLR(sgd(), { stepSize: 1, gamma: NaN }), /gamma.*NaN/],
    ['CosineAnnealingLR tMax 0', () => new optim.CosineAnnealingLR(sgd(), { tMax: 0 }), /tMax/],
    ['LinearLR startFactor 0', () => new optim.LinearLR(sgd(), { startFactor: 0 }), /startFactor.*got 0/],
    ['LinearLR endFactor 2', () => new optim.LinearLR(sgd(), { endFactor: 2 }), /endFactor.*got 2/],
    ['MultiStepLR milestone -1', () => new optim.MultiStepLR(sgd(), { milestones: [-1] }), /milestones\[0\]/],
    [
      'LambdaLR wrong count',
      () => new optim.LambdaLR(sgd(1, 2), { lrLambda: [() => 1] }),
      /one function per param group \(2\)/,
    ],
    [
      'OneCycleLR pctStart 2',
      () => new optim.OneCycleLR(sgd(), { maxLr: 1, totalSteps: 5, pctStart: 2 }),
      /pctStart.*got 2/,
    ],
  ];
  for (const [what, f, re] of cases) it(what, () => (expect(f).toThrow(ValueError), expect(f).toThrow(re)));
});

describe('schedulers drive the optimizer', () => {
  it('the step after scheduler.step() uses the new lr', () => {
    const p = tensor([0], { dtype: 'float64', requiresGrad: true });
    const opt = new optim.GD([p], { lr: 1 });
    const s = new optim.StepLR(opt, { stepSize: 1, gamma: 0.5 });
    for (let e = 0; e < 3; e++) {
      p.grad = tensor([1], { dtype: 'float64' });
      opt.step();
      s.step();
    }
    expect(p.data[0]).toBe(-(1 + 0.5 + 0.25));
  });
});
