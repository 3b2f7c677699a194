/**
 * ConstantLR, PolynomialLR, CosineAnnealingWarmRestarts, CyclicLR, ChainedScheduler against
 * statement-by-statement transcriptions of torch/optim/lr_scheduler.py (pytorch/pytorch main,
 * 2.9/2.10-era: `_is_initial`, `_initial_step`, CyclicLR setting group["lr"] = base_lr before
 * super().__init__), compared bit for bit; and the chainable form against the closed form.
 */
import { describe, expect, it } from 'vitest';
import { optim, tensor, ValueError } from '../../src/index.js';

const sgd = (lrs: number[], momentum = 0.9) =>
  new optim.SGD(
    lrs.map((lr) => ({ params: [tensor([1], { requiresGrad: true })], lr })),
    { lr: lrs[0]!, momentum },
  );
const groupLrs = (opt: optim.Optimizer) => opt.paramGroups.map((g) => g.lr);

/** Python's group dicts, and LRScheduler's _initial_step / step / _update_lr, for the transcriptions. */
interface PyGroup {
  lr: number;
  initial_lr?: number;
  momentum?: number;
  betas?: [number, number];
}
abstract class PyScheduler {
  last_epoch = -1;
  _step_count = 0;
  _is_initial = false;
  base_lrs: number[];
  constructor(readonly groups: PyGroup[]) {
    for (const g of groups) if (g.initial_lr === undefined) g.initial_lr = g.lr; // setdefault
    this.base_lrs = groups.map((g) => g.initial_lr!);
  }
  _initial_step() {
    this._step_count = 0;
    this._is_initial = true;
    this.step();
    this._is_initial = false;
  }
  abstract get_lr(): number[];
  step() {
    this._step_count += 1;
    this.last_epoch += 1;
    this.get_lr().forEach((lr, i) => (this.groups[i]!.lr = lr));
  }
}

class PyConstantLR extends PyScheduler {
  constructor(
    g: PyGroup[],
    readonly factor = 1.0 / 3,
    readonly total_iters = 5,
  ) {
    super(g);
    this._initial_step();
  }
  get_lr() {
    if (this.last_epoch === 0) return this.groups.map((g) => g.lr * this.factor);
    if (this.last_epoch !== this.total_iters) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * (1.0 / this.factor));
  }
}
class PyPolynomialLR extends PyScheduler {
  constructor(
    g: PyGroup[],
    readonly total_iters = 5,
    readonly power = 1.0,
  ) {
    super(g);
    this._initial_step();
  }
  get_lr() {
    if (this._is_initial || this.last_epoch > this.total_iters) return this.groups.map((g) => g.lr);
    const decay_factor =
      ((1.0 - this.last_epoch / this.total_iters) / (1.0 - (this.last_epoch - 1) / this.total_iters)) ** this.power;
    return this.groups.map((g) => g.lr * decay_factor);
  }
}
class PyWarmRestarts extends PyScheduler {
  T_i: number;
  T_cur: number;
  constructor(
    g: PyGroup[],
    readonly T_0: number,
    readonly T_mult = 1,
    readonly eta_min = 0.0,
  ) {
    super(g);
    this.T_i = T_0;
    this.T_cur = this.last_epoch;
    this._initial_step();
  }
  get_lr() {
    return this.base_lrs.map(
      (b) => this.eta_min + ((b - this.eta_min) * (1 + Math.cos((Math.PI * this.T_cur) / this.T_i))) / 2,
    );
  }
  override step(epoch?: number) {
    if (epoch === undefined && this.last_epoch < 0) epoch = 0;
    if (epoch === undefined) {
      epoch = this.last_epoch + 1;
      this.T_cur = this.T_cur + 1;
      if (this.T_cur >= this.T_i) {
        this.T_cur = this.T_cur % this.T_i;
        this.T_i = this.T_i * this.T_mult;
      }
    } else if (epoch >= this.T_0) {
      if (this.T_mult === 1) this.T_cur = epoch % this.T_0;
      else {
        const n = Math.trunc(Math.log((epoch / this.T_0) * (this.T_mult - 1) + 1) / Math.log(this.T_mult));
        this.T_cur = epoch - (this.T_0 * (this.T_mult ** n - 1)) / (this.T_mult - 1);
        this.T_i = this.T_0 * this.T_mult ** n;
      }
    } else {
      this.T_i = this.T_0;
      this.T_cur = epoch;
    }
    this.last_epoch = Math.floor(epoch);
    this.get_lr().forEach((lr, i) => (this.groups[i]!.lr = lr));
  }
}
class PyCyclicLR extends PyScheduler {
  max_lrs: number[];
  total_size: number;
  step_ratio: number;
  scale_mode: 'cycle' | 'iterations';
  base_momentums: number[];
  max_momentums: number[];
  constructor(
    g: PyGroup[],
    base_lr: number[],
    max_lr: number[],
    step_size_up = 2000,
    step_size_down: number | null = null,
    readonly mode = 'triangular',
    readonly gamma = 1.0,
    readonly cycle_momentum = true,
    base_momentum = 0.8,
    max_momentum = 0.9,
    readonly use_beta1 = false,
  ) {
    base_lr.forEach((lr, i) => (g[i]!.lr = lr)); // before super().__init__ in PyTorch
    super(g);
    this.max_lrs = max_lr;
    const up = step_size_up,
      down = step_size_down ?? up;
    this.total_size = up + down;
    this.step_ratio = up / this.total_size;
    this.scale_mode = mode === 'exp_range' ? 'iterations' : 'cycle';
    this.base_momentums = g.map(() => base_momentum);
    this.max_momentums = g.map(() => max_momentum);
    if (cycle_momentum) {
      g.forEach((grp, i) => {
        if (use_beta1) grp.betas = [this.max_momentums[i]!, grp.betas![1]];
        else grp.momentum = this.max_momentums[i]!;
      });
    }
    this._initial_step();
    this.base_lrs = base_lr;
  }
  scale_fn(x: number) {
    if (this.mode === 'triangular') return 1.0;
    if (this.mode === 'triangular2') return 1 / 2.0 ** (x - 1);
    return this.gamma ** x;
  }
  get_lr() {
    const cycle = Math.floor(1 + this.last_epoch / this.total_size);
    const x = 1.0 + this.last_epoch / this.total_size - cycle;
    const scale_factor = x <= this.step_ratio ? x / this.step_ratio : (x - 1) / (this.step_ratio - 1);
    const lrs = this.base_lrs.map((base_lr, i) => {
      const base_height = (this.max_lrs[i]! - base_lr) * scale_factor;
      return this.scale_mode === 'cycle'
        ? base_lr + base_height * this.scale_fn(cycle)
        : base_lr + base_height * this.scale_fn(this.last_epoch);
    });
    if (this.cycle_momentum) {
      this.groups.forEach((grp, i) => {
        const base_height = (this.max_momentums[i]! - this.base_momentums[i]!) * scale_factor;
        const m =
          this.scale_mode === 'cycle'
            ? this.max_momentums[i]! - base_height * this.scale_fn(cycle)
            : this.max_momentums[i]! - base_height * this.scale_fn(this.last_epoch);
        if (this.use_beta1) grp.betas = [m, grp.betas![1]];
        else grp.momentum = m;
      });
    }
    return lrs;
  }
}
class PyExponentialLR extends PyScheduler {
  constructor(
    g: PyGroup[],
    readonly gamma: number,
  ) {
    super(g);
    this._initial_step();
  }
  get_lr() {
    if (this._is_initial) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
  }
}

/** Steps ours and the transcription n times; every group's lr (and momentum) must be bit-identical. */
function lockstep(
  opt: optim.Optimizer,
  ours: { step(): void },
  groups: PyGroup[],
  ref: { step(): void },
  n: number,
  momentum: 'momentum' | 'beta1' | null = null,
): number[][] {
  const seq: number[][] = [];
  for (let e = 0; e < n; e++) {
    if (e > 0) ours.step(), ref.step();
    expect(groupLrs(opt)).toEqual(groups.map((g) => g.lr));
    const mine = opt.paramGroups as unknown as { momentum: number; betas: number[] }[];
    if (momentum === 'momentum') expect(mine.map((g) => g.momentum)).toEqual(groups.map((g) => g.momentum));
    if (momentum === 'beta1') expect(mine.map((g) => g.betas)).toEqual(groups.map((g) => g.betas));
    seq.push(groupLrs(opt));
  }
  return seq;
}
const maxRel = (a: number[], b: number[]) =>
  Math.max(...a.map((x, i) => Math.abs(x - b[i]!) / Math.max(1e-300, Math.abs(b[i]!))));

describe('new schedulers equal PyTorch’s code bit for bit', () => {
  it('ConstantLR (defaults, and factor 0.25 over 7 epochs), two groups', () => {
    for (const [factor, T] of [
      [undefined, undefined],
      [0.25, 7],
    ] as const) {
      const opt = sgd([0.37, 0.05]);
      const s = new optim.ConstantLR(opt, factor === undefined ? {} : { factor, totalIters: T });
      const g: PyGroup[] = [{ lr: 0.37 }, { lr: 0.05 }];
      const seq = lockstep(opt, s, g, new PyConstantLR(g, factor ?? 1 / 3, T ?? 5), 15);
      expect(seq[0]![0]).toBe(0.37 * (factor ?? 1 / 3));
      // the closed form (base·(factor + [e ≥ T]·(1 − factor))) agrees to rounding
      const T_ = T ?? 5,
        f = factor ?? 1 / 3;
      expect(
        maxRel(
          seq.map((l) => l[0]!),
          seq.map((_, e) => 0.37 * (f + (e >= T_ ? 1 : 0) * (1 - f))),
        ),
      ).toBeLessThan(1e-15);
    }
  });
  it('PolynomialLR (power 1, 0.9, 2.5), continued past totalIters', () => {
    for (const [T, p] of [
      [5, 1.0],
      [11, 0.9],
      [6, 2.5],
    ] as const) {
      const opt = sgd([0.05, 0.2]);
      const s = new optim.PolynomialLR(opt, { totalIters: T, power: p });
      const g: PyGroup[] = [{ lr: 0.05 }, { lr: 0.2 }];
      const seq = lockstep(opt, s, g, new PyPolynomialLR(g, T, p), 2 * T);
      expect(seq[T]![0]).toBe(0);
      const closed = seq.map((_, e) => 0.05 * (1 - Math.min(T, e) / T) ** p);
      seq.forEach((l, e) => expect(Math.abs(l[0]! - closed[e]!)).toBeLessThan(1e-16));
      s.stepAt(3);
      expect(opt.paramGroups[0]!.lr).toBe(0.05 * (1.0 - 3 / T) ** p);
    }
  });
  it('CosineAnnealingWarmRestarts (tMult 1 and 2, etaMin), step() and fractional stepAt(epoch)', () => {
    for (const [T0, mult, lo] of [
      [5, 1, 0],
      [3, 2, 0.001],
      [4, 3, 0.01],
    ] as const) {
      const opt = sgd([0.1, 0.3]);
      const s = new optim.CosineAnnealingWarmRestarts(opt, { t0: T0, tMult: mult, etaMin: lo });
      const g: PyGroup[] = [{ lr: 0.1 }, { lr: 0.3 }];
      const ref = new PyWarmRestarts(g, T0, mult, lo);
      const seq = lockstep(opt, s, g, ref, 40);
      // restarts at T0, T0(1 + mult), …: lr back to base there
      expect(seq[T0]![0]).toBe(0.1);
      if (mult > 1) expect(seq[T0 + T0 * mult]![0]).toBe(0.1);
      for (const epoch of [0.5, 2.25, 7.75, 13, 26.5]) {
        s.stepAt(epoch);
        ref.step(epoch);
        expect(groupLrs(opt)).toEqual(g.map((x) => x.lr));
      }
      s.step(), ref.step();
      expect(groupLrs(opt)).toEqual(g.map((x) => x.lr));
    }
  });
  it('CyclicLR triangular / triangular2 / exp_range, uneven up/down, momentum cycled inversely', () => {
    const cases = [
      { mode: 'triangular', up: 4, down: undefined, gamma: 1 },
      { mode: 'triangular2', up: 3, down: 5, gamma: 1 },
      { mode: 'exp_range', up: 5, down: 2, gamma: 0.97 },
    ] as const;
    for (const c of cases) {
      const opt = sgd([0.9, 0.9]);
      const s = new optim.CyclicLR(opt, {
        baseLr: [0.01, 0.02],
        maxLr: [0.1, 0.5],
        stepSizeUp: c.up,
        stepSizeDown: c.down,
        mode: c.mode,
        gamma: c.gamma,
      });
      const g: PyGroup[] = [{ lr: 0.9 }, { lr: 0.9 }];
      const ref = new PyCyclicLR(g, [0.01, 0.02], [0.1, 0.5], c.up, c.down ?? null, c.mode, c.gamma);
      const seq = lockstep(opt, s, g, ref, 40, 'momentum');
      expect(seq[0]).toEqual([0.01, 0.02]);
      expect(seq[c.up]![0]).toBeCloseTo(c.mode === 'exp_range' ? 0.01 + 0.09 * c.gamma ** c.up : 0.1, 15);
    }
  });
  it('CyclicLR on Adam cycles betas[0]; cycleMomentum: false leaves momentum alone', () => {
    const opt = new optim.Adam([tensor([1], { requiresGrad: true })], { lr: 1e-3, betas: [0.9, 0.99] });
    const s = new optim.CyclicLR(opt, {
      baseLr: 0.001,
      maxLr: 0.006,
      stepSizeUp: 3,
      baseMomentum: 0.85,
      maxMomentum: 0.95,
    });
    const g: PyGroup[] = [{ lr: 1e-3, betas: [0.9, 0.99] }];
    lockstep(
      opt,
      s,
      g,
      new PyCyclicLR(g, [0.001], [0.006], 3, null, 'triangular', 1, true, 0.85, 0.95, true),
      12,
      'beta1',
    );
    const opt2 = sgd([0.1]);
    new optim.CyclicLR(opt2, { baseLr: 0.001, maxLr: 0.006, cycleMomentum: false }).step();
    expect((opt2.paramGroups[0] as unknown as { momentum: number }).momentum).toBe(0.9);
    expect(
      () => new optim.CyclicLR(new optim.Adagrad([tensor([1], { requiresGrad: true })]), { baseLr: 0.1, maxLr: 1 }),
    ).toThrow(/cycleMomentum: false/);
  });
  it('CyclicLR custom scaleFn with scaleMode iterations', () => {
    const opt = sgd([0.1]);
    const s = new optim.CyclicLR(opt, {
      baseLr: 0.1,
      maxLr: 1,
      stepSizeUp: 2,
      scaleFn: (x) => 1 / (1 + x),
      scaleMode: 'iterations',
      cycleMomentum: false,
    });
    const got = [opt.paramGroups[0]!.lr];
    for (let e = 1; e < 8; e++) s.step(), got.push(opt.paramGroups[0]!.lr);
    const want = got.map((_, e) => {
      const cycle = Math.floor(1 + e / 4),
        x = 1.0 + e / 4 - cycle;
      const sf = x <= 0.5 ? x / 0.5 : (x - 1) / (0.5 - 1);
      return 0.1 + (1 - 0.1) * sf * (1 / (1 + e));
    });
    expect(got).toEqual(want);
  });
  it('ChainedScheduler: ConstantLR × ExponentialLR as in PyTorch’s docstring (0.05, 0.045, …, 0.06078 at 20)', () => {
    const opt = sgd([0.05]);
    const s = new optim.ChainedScheduler([
      new optim.ConstantLR(opt, { factor: 0.1, totalIters: 20 }),
      new optim.ExponentialLR(opt, { gamma: 0.9 }),
    ]);
    const g: PyGroup[] = [{ lr: 0.05 }];
    const refs = [new PyConstantLR(g, 0.1, 20), new PyExponentialLR(g, 0.9)];
    const seq = lockstep(opt, s, g, { step: () => refs.forEach((r) => r.step()) }, 30);
    // ConstantLR's initial step scales by 0.1 (PyTorch's docstring lists 0.05 at epoch 0, but its own code gives 0.005)
    expect(seq[0]![0]).toBeCloseTo(0.005, 15);
    expect(seq[19]![0]).toBeCloseTo(0.05 * 0.1 * 0.9 ** 19, 15);
    expect(seq[20]![0]).toBeCloseTo(0.05 * 0.9 ** 20, 15);
    expect(s.getLastLr()).toEqual(groupLrs(opt));
  });
  it('SequentialLR with ConstantLR then PolynomialLR restarts the second through its closed form', () => {
    const opt = sgd([0.2]);
    const s = new optim.SequentialLR(opt, {
      schedulers: [
        new optim.ConstantLR(opt, { factor: 0.5, totalIters: 3 }),
        new optim.PolynomialLR(opt, { totalIters: 4, power: 2 }),
      ],
      milestones: [3],
    });
    const got = [opt.paramGroups[0]!.lr];
    for (let e = 1; e < 10; e++) s.step(), got.push(opt.paramGroups[0]!.lr);
    // ConstantLR: 0.1, 0.1, 0.1; at 3 _update_lr(0) → closed form base·(1 − 0/4)² = 0.2; then chainable
    const want = [0.1, 0.1, 0.1, 0.2];
    let lr = 0.2;
    for (let k = 1; k < 7; k++) {
      if (k <= 4) lr = lr * ((1.0 - k / 4) / (1.0 - (k - 1) / 4)) ** 2;
      want.push(lr);
    }
    expect(got).toEqual(want);
  });
});

describe('state dicts and options', () => {
  it('stateDict → loadStateDict resumes each scheduler on the same sequence (through JSON)', () => {
    const makers: ((o: optim.Optimizer) => optim.LRScheduler)[] = [
      (o) => new optim.ConstantLR(o, { factor: 0.2, totalIters: 6 }),
      (o) => new optim.PolynomialLR(o, { totalIters: 9, power: 1.5 }),
      (o) => new optim.CosineAnnealingWarmRestarts(o, { t0: 3, tMult: 2, etaMin: 0.01 }),
      (o) => new optim.CyclicLR(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 3, mode: 'exp_range', gamma: 0.9 }),
      (o) =>
        new optim.ChainedScheduler([
          new optim.ConstantLR(o, { factor: 0.5, totalIters: 4 }),
          new optim.ExponentialLR(o, { gamma: 0.8 }),
        ]),
    ];
    for (const make of makers) {
      const a = sgd([0.3]),
        sa = make(a);
      for (let i = 0; i < 5; i++) sa.step();
      const sd = JSON.parse(JSON.stringify(sa.stateDict()));
      const b = sgd([0.3]),
        sb = make(b);
      sb.loadStateDict(sd);
      b.paramGroups[0]!.lr = a.paramGroups[0]!.lr;
      const mom = (o: optim.Optimizer) => o.paramGroups[0] as unknown as { momentum: number };
      mom(b).momentum = mom(a).momentum;
      for (let i = 0; i < 12; i++) {
        sa.step(), sb.step();
        expect(b.paramGroups[0]!.lr).toBe(a.paramGroups[0]!.lr);
      }
      expect(() => sb.loadStateDict({ ...sd, scheduler: 'StepLR' })).toThrow(ValueError);
    }
  });
  it('options are checked and unknown keys refused', () => {
    const opt = sgd([0.1]);
    expect(() => new optim.ConstantLR(opt, { factor: 1.5 })).toThrow(/factor must be/);
    expect(() => new optim.ConstantLR(opt, { totalIter: 3 } as never)).toThrow(
      /unknown option totalIter \(known: factor, totalIters\)/,
    );
    expect(() => new optim.PolynomialLR(opt, { totalIters: 0 })).toThrow(/totalIters/);
    expect(() => new optim.CosineAnnealingWarmRestarts(opt, { t0: 0 })).toThrow(/t0/);
    expect(() => new optim.CosineAnnealingWarmRestarts(opt, { t0: 2, tMult: 1.5 })).toThrow(/tMult/);
    expect(() => new optim.CyclicLR(opt, { baseLr: [0.1, 0.2], maxLr: 1 })).toThrow(/one per param group \(1\)/);
    expect(() => new optim.CyclicLR(opt, { baseLr: 0.1, maxLr: 1, mode: 'tri' as never })).toThrow(/mode/);
    const other = sgd([0.1]);
    expect(() => new optim.ChainedScheduler([new optim.ConstantLR(opt), new optim.ConstantLR(other)])).toThrow(
      /different optimizer/,
    );
    expect(() => new optim.ChainedScheduler([])).toThrow(/non-empty/);
  });
});
