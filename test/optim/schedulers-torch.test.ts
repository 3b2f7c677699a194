/**
 * The schedulers' chainable (recursive) lrs against transcriptions of torch/optim/lr_scheduler.py's
 * `get_lr` (pytorch/pytorch main, 2.9/2.10-era: with `_is_initial` and `SequentialLR._update_lr(0)`),
 * compared bit for bit — the closed forms in schedulers.test.ts only agree to rounding.
 */
import { describe, expect, it } from 'vitest';
import { optim, tensor } from '../../src/index.js';

const sgd = (lr: number) => new optim.SGD([tensor([1], { requiresGrad: true })], { lr, momentum: 0.9 });
const pyMod = (a: number, n: number) => ((a % n) + n) % n;

/** Runs `sched` for n epochs and a PyTorch-order recursion `next(lr, epoch)` from the same start; both lists of lrs. */
function both(
  opt: optim.Optimizer,
  sched: { step(): void },
  n: number,
  next: (lr: number, e: number) => number,
): [number[], number[]] {
  const ours = [opt.paramGroups[0]!.lr],
    torch = [opt.paramGroups[0]!.lr];
  for (let e = 1; e < n; e++) {
    sched.step();
    ours.push(opt.paramGroups[0]!.lr);
    torch.push(next(torch[e - 1]!, e));
  }
  return [ours, torch];
}

describe('chainable lrs equal PyTorch’s get_lr bit for bit', () => {
  it('StepLR: group["lr"] * gamma when last_epoch % step_size == 0', () => {
    const opt = sgd(0.37),
      s = new optim.StepLR(opt, { stepSize: 3, gamma: 0.3 });
    const [a, b] = both(opt, s, 40, (lr, e) => (e % 3 !== 0 ? lr : lr * 0.3));
    expect(a).toEqual(b);
  });
  it('MultiStepLR: group["lr"] * gamma ** milestones[last_epoch] (Counter)', () => {
    const opt = sgd(0.37),
      s = new optim.MultiStepLR(opt, { milestones: [4, 9, 9], gamma: 0.7 });
    const count = (e: number) => [4, 9, 9].filter((m) => m === e).length;
    const [a, b] = both(opt, s, 20, (lr, e) => (count(e) === 0 ? lr : lr * 0.7 ** count(e)));
    expect(a).toEqual(b);
  });
  it('ExponentialLR: group["lr"] * gamma', () => {
    const opt = sgd(0.37),
      s = new optim.ExponentialLR(opt, { gamma: 0.93 });
    const [a, b] = both(opt, s, 60, (lr) => lr * 0.93);
    expect(a).toEqual(b);
  });
  it('CosineAnnealingLR: the recursive ratio, the restart branch at (e − 1 − T) % 2T == 0, continued past T', () => {
    const T = 7,
      lo = 0.002,
      base = 0.37;
    const opt = sgd(base),
      s = new optim.CosineAnnealingLR(opt, { tMax: T, etaMin: lo });
    const [a, b] = both(opt, s, 40, (lr, e) =>
      pyMod(e - 1 - T, 2 * T) === 0
        ? lr + ((base - lo) * (1 - Math.cos(Math.PI / T))) / 2
        : ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (lr - lo) + lo,
    );
    expect(a).toEqual(b);
  });
  it('LinearLR: group["lr"] * (1 + (f − s) / (n·s + (e − 1)·(f − s)))', () => {
    const [sf, ef, n] = [0.13, 0.9, 6];
    const opt = sgd(0.37),
      s = new optim.LinearLR(opt, { startFactor: sf, endFactor: ef, totalIters: n });
    expect(opt.paramGroups[0]!.lr).toBe(0.37 * sf);
    const [a, b] = both(opt, s, 12, (lr, e) => (e > n ? lr : lr * (1.0 + (ef - sf) / (n * sf + (e - 1) * (ef - sf)))));
    expect(a).toEqual(b);
  });
  it('OneCycleLR (cos, two phases): _annealing_cos(start, end, pct) = end + (start − end)/2·(cos(π·pct) + 1)', () => {
    const T = 23,
      maxLr = 0.4,
      pct = 0.25;
    const opt = sgd(0.01),
      s = new optim.OneCycleLR(opt, { maxLr, totalSteps: T, pctStart: pct, divFactor: 10, finalDivFactor: 100 });
    const init = maxLr / 10,
      min = init / 100,
      end1 = pct * T - 1,
      end2 = T - 1;
    const cos = (st: number, en: number, p: number) => en + ((st - en) / 2.0) * (Math.cos(Math.PI * p) + 1);
    const at = (t: number) =>
      t <= end1 ? cos(init, maxLr, (t - 0) / (end1 - 0)) : cos(maxLr, min, (t - end1) / (end2 - end1));
    const mom = (t: number) => (t <= end1 ? cos(0.95, 0.85, t / end1) : cos(0.85, 0.95, (t - end1) / (end2 - end1)));
    for (let t = 0; t < T; t++) {
      if (t > 0) s.step();
      expect(opt.paramGroups[0]!.lr).toBe(at(t));
      expect((opt.paramGroups[0] as unknown as { momentum: number }).momentum).toBe(mom(t));
    }
  });
  it('SequentialLR: LinearLR then CosineAnnealingLR restarted through its closed form at the milestone, then recursive', () => {
    const base = 0.37,
      T = 8,
      M = 4;
    const opt = sgd(base);
    const s = new optim.SequentialLR(opt, {
      schedulers: [
        new optim.LinearLR(opt, { startFactor: 0.25, totalIters: M }),
        new optim.CosineAnnealingLR(opt, { tMax: T }),
      ],
      milestones: [M],
    });
    const want: number[] = [base * 0.25];
    for (let e = 1; e < 20; e++) {
      const lr = want[e - 1]!;
      if (e < M) want.push(lr * (1.0 + 0.75 / (M * 0.25 + (e - 1) * 0.75)));
      else if (e === M)
        want.push(0 + ((base - 0) * (1 + Math.cos((Math.PI * 0) / T))) / 2); // _update_lr(0): closed form
      else {
        const k = e - M; // the cosine's own last_epoch
        want.push(
          pyMod(k - 1 - T, 2 * T) === 0
            ? lr + ((base - 0) * (1 - Math.cos(Math.PI / T))) / 2
            : ((1 + Math.cos((Math.PI * k) / T)) / (1 + Math.cos((Math.PI * (k - 1)) / T))) * (lr - 0) + 0,
        );
      }
    }
    const got = [opt.paramGroups[0]!.lr];
    for (let e = 1; e < 20; e++) s.step(), got.push(opt.paramGroups[0]!.lr);
    expect(got).toEqual(want);
  });
  it('ReduceLROnPlateau: rel/abs thresholds, cooldown, minLr and eps as _is_better / _reduce_lr', () => {
    for (const [mode, thresholdMode] of [
      ['min', 'rel'],
      ['min', 'abs'],
      ['max', 'rel'],
      ['max', 'abs'],
    ] as const) {
      const opt = sgd(1);
      const s = new optim.ReduceLROnPlateau(opt, {
        mode,
        thresholdMode,
        threshold: 0.1,
        patience: 1,
        cooldown: 2,
        factor: 0.5,
        minLr: 0.05,
        eps: 1e-3,
      });
      const metrics = [10, 9.5, 9.2, 9.1, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8].map((x) =>
        mode === 'max' ? -x + 20 : x,
      );
      let best = mode === 'min' ? Infinity : -Infinity,
        bad = 0,
        cool = 0,
        lr = 1;
      const isBetter = (a: number) =>
        mode === 'min'
          ? thresholdMode === 'rel'
            ? a < best * (1.0 - 0.1)
            : a < best - 0.1
          : thresholdMode === 'rel'
            ? a > best * (0.1 + 1.0)
            : a > best + 0.1;
      for (const x of metrics) {
        s.step(x);
        if (isBetter(x)) (best = x), (bad = 0);
        else bad += 1;
        if (cool > 0) (cool -= 1), (bad = 0);
        if (bad > 1) {
          const next = Math.max(lr * 0.5, 0.05);
          if (lr - next > 1e-3) lr = next;
          cool = 2;
          bad = 0;
        }
        expect(opt.paramGroups[0]!.lr).toBe(lr);
      }
      expect(lr).toBeLessThan(1);
    }
  });
});
