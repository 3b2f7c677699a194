/**
 * optim.swa against torch/optim/swa_utils.py (pytorch/pytorch main): AveragedModel's SWA default
 * (get_swa_avg_fn on CPU), get_ema_multi_avg_fn (torch._foreach_lerp_), use_buffers, update_bn
 * (reset, momentum=None → cumulative average, train mode restored), SWALR's get_lr, transcribed.
 */
import { describe, expect, it } from 'vitest';
import { manualSeed, nn, optim, Tensor, tensor, ValueError, zeros } from '../../src/index.js';
import { rnd } from '../helpers.js';

const makeNet = () =>
  new nn.Sequential(
    new nn.Linear(3, 4, { dtype: 'float64' }),
    new nn.Tanh(),
    new nn.Linear(4, 2, { dtype: 'float64' }),
  );
const flat = (m: { parameters(): Tensor[] }) => m.parameters().flatMap((p) => [...p.data]);
const atenLerp = (a: number, b: number, w: number) => (Math.abs(w) < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w));

/** Moves a net's weights to a new random point (as a training step would). */
function jiggle(net: nn.Module, seed: number) {
  net.parameters().forEach((p, i) => p.data.set(rnd(p.shape, seed * 31 + i).data));
}

describe('AveragedModel', () => {
  it('default SWA: avg + (cur − avg)/(n + 1) bit for bit, and the arithmetic mean to rounding', () => {
    const net = makeNet();
    const swa = new optim.AveragedModel(net, { module: makeNet });
    let ref: number[] = [];
    const seen: number[][] = [];
    for (let k = 0; k < 7; k++) {
      jiggle(net, k + 1);
      swa.updateParameters(net);
      const cur = flat(net);
      seen.push(cur);
      // update_parameters: copy at n_averaged == 0, else get_swa_avg_fn: averaged + (current − averaged)/(n + 1)
      ref = k === 0 ? [...cur] : ref.map((a, i) => a + (cur[i]! - a) / (k + 1));
      expect(flat(swa)).toEqual(ref);
    }
    expect(swa.nAveraged).toBe(7);
    const mean = seen[0]!.map((_, i) => seen.reduce((s, v) => s + v[i]!, 0) / seen.length);
    const worst = Math.max(...flat(swa).map((v, i) => Math.abs(v - mean[i]!)));
    expect(worst).toBeLessThan(1e-15);
    // forward runs the averaged weights
    const x = rnd([2, 3], 99).detach();
    const other = makeNet();
    other.loadStateDict(swa.module.stateDict());
    expect([...swa.forward(x).data]).toEqual([...other.forward(x).data]);
  });
  it('EMA: getEmaMultiAvgFn = lerp(ema, cur, 1 − decay) as _foreach_lerp_; getEmaAvgFn = decay·ema + (1 − decay)·cur', () => {
    for (const decay of [0.9, 0.3]) {
      // 1 − decay on both sides of ATen's 0.5 split
      const net = makeNet();
      const ema = new optim.AveragedModel(net, { module: makeNet(), multiAvgFn: optim.getEmaMultiAvgFn(decay) });
      const ema2 = new optim.AveragedModel(net, { module: makeNet(), avgFn: optim.getEmaAvgFn(decay) });
      let ref: number[] = [],
        ref2: number[] = [];
      for (let k = 0; k < 6; k++) {
        jiggle(net, 50 + k);
        ema.updateParameters(net);
        ema2.updateParameters(net);
        const cur = flat(net);
        ref = k === 0 ? [...cur] : ref.map((a, i) => atenLerp(a, cur[i]!, 1 - decay));
        ref2 = k === 0 ? [...cur] : ref2.map((a, i) => a * decay + cur[i]! * (1 - decay));
        expect(flat(ema)).toEqual(ref);
        expect(flat(ema2)).toEqual(ref2);
      }
      expect(Math.max(...ref.map((v, i) => Math.abs(v - ref2[i]!)))).toBeLessThan(1e-15);
    }
  });
  it('getSwaMultiAvgFn equals the default SWA to rounding; options are checked', () => {
    const net = makeNet();
    const a = new optim.AveragedModel(net, { module: makeNet }),
      b = new optim.AveragedModel(net, { module: makeNet, multiAvgFn: optim.getSwaMultiAvgFn() });
    for (let k = 0; k < 5; k++) jiggle(net, 70 + k), a.updateParameters(net), b.updateParameters(net);
    const fa = flat(a),
      fb = flat(b);
    expect(Math.max(...fa.map((v, i) => Math.abs(v - fb[i]!)))).toBeLessThan(1e-15);
    expect(
      () =>
        new optim.AveragedModel(net, {
          module: makeNet,
          avgFn: optim.getSwaAvgFn(),
          multiAvgFn: optim.getSwaMultiAvgFn(),
        }),
    ).toThrow(/only one/);
    expect(() => new optim.AveragedModel(net, { module: net })).toThrow(/separate copy/);
    expect(() => new optim.AveragedModel(net, { module: () => new nn.Sequential(new nn.Linear(3, 2)) })).toThrow(
      /architecture/,
    );
    expect(() => new optim.AveragedModel(net, { module: makeNet, use_buffers: true } as never)).toThrow(
      /unknown option use_buffers/,
    );
    expect(() => optim.getEmaMultiAvgFn(1.5)).toThrow(/decay/);
  });
  it('stateDict / loadStateDict carry the average and nAveraged', () => {
    const net = makeNet();
    const a = new optim.AveragedModel(net, { module: makeNet });
    for (let k = 0; k < 3; k++) jiggle(net, 90 + k), a.updateParameters(net);
    const b = new optim.AveragedModel(net, { module: makeNet });
    b.loadStateDict(a.stateDict());
    expect(b.nAveraged).toBe(3);
    expect(flat(b)).toEqual(flat(a));
    jiggle(net, 95);
    a.updateParameters(net), b.updateParameters(net);
    expect(flat(b)).toEqual(flat(a));
    expect(() => b.loadStateDict({})).toThrow(ValueError);
  });
});

/**
 * A hand-made batch norm with PyTorch's fields and _BatchNorm's update rule (used until
 * nn.BatchNorm lands): training mode normalises by the batch statistics and updates
 * running = (1 − f)·running + f·batch, f = momentum, or 1/numBatchesTracked when momentum is null;
 * the running variance uses the unbiased batch variance.
 */
class TinyBN extends nn.Module {
  runningMean: Tensor;
  runningVar: Tensor;
  numBatchesTracked = zeros([], { dtype: 'int32' });
  momentum: number | null = 0.1;
  constructor(readonly features: number) {
    super();
    this.runningMean = zeros([features], { dtype: 'float64' });
    this.runningVar = zeros([features], { dtype: 'float64' }).add(1);
  }
  override buffers(): Tensor[] {
    return [this.runningMean, this.runningVar, this.numBatchesTracked];
  }
  forward(x: Tensor): Tensor {
    const n = x.shape[0]!;
    if (!this.training) return x.sub(this.runningMean).div(this.runningVar.add(1e-5).sqrt());
    const mean = x.mean(0),
      v = x.sub(mean).square().mean(0);
    this.numBatchesTracked.data[0] = this.numBatchesTracked.data[0]! + 1;
    const f = this.momentum === null ? 1 / this.numBatchesTracked.data[0]! : this.momentum;
    const rm = this.runningMean.data,
      rv = this.runningVar.data;
    for (let j = 0; j < this.features; j++) {
      rm[j] = (1 - f) * rm[j]! + f * mean.data[j]!;
      rv[j] = (1 - f) * rv[j]! + f * v.data[j]! * (n / (n - 1));
    }
    return x.sub(mean).div(v.add(1e-5).sqrt());
  }
}
class BNNet extends nn.Module {
  lin = new nn.Linear(3, 2, { dtype: 'float64' });
  bn = new TinyBN(2);
  forward(x: Tensor): Tensor {
    return this.bn.forward(this.lin.forward(x));
  }
  override buffers(): Tensor[] {
    return this.bn.buffers();
  }
}

describe('updateBn', () => {
  it('resets the statistics, recomputes them as the cumulative average of one pass; restores momentum and mode', () => {
    manualSeed(1);
    const net = new BNNet();
    net.bn.runningMean.data.fill(7); // stale statistics
    net.eval();
    const batches = [0, 1, 2].map((i) => rnd([5, 3], 200 + i).detach());
    const loader = batches.map((x) => [x, tensor([0])] as const); // (input, target) pairs, as a DataLoader yields
    optim.updateBn(loader, net);
    expect(net.training).toBe(false);
    expect(net.bn.momentum).toBe(0.1);
    expect(net.bn.numBatchesTracked.data[0]).toBe(3);
    // momentum=None: after k batches running = mean of the k batch statistics (cumulative average)
    const hs = batches.map((x) => net.lin.forward(x));
    for (let j = 0; j < 2; j++) {
      const want = hs.reduce((s, h) => s + h.mean(0).data[j]!, 0) / 3;
      expect(net.bn.runningMean.data[j]).toBeCloseTo(want, 14);
      const wantVar = hs.reduce((s, h) => s + h.sub(h.mean(0)).square().mean(0).data[j]! * (5 / 4), 0) / 3;
      expect(net.bn.runningVar.data[j]).toBeCloseTo(wantVar, 14);
    }
  });
  it('on an AveragedModel: buffers copied without useBuffers, averaged with it; updateBn on its module', () => {
    manualSeed(2);
    const net = new BNNet();
    const avg = new optim.AveragedModel(net, { module: () => new BNNet() });
    const avgB = new optim.AveragedModel(net, { module: () => new BNNet(), useBuffers: true });
    const mk = (seed: number) => rnd([4, 3], seed).detach();
    net.forward(mk(1));
    avg.updateParameters(net), avgB.updateParameters(net);
    const first = [...net.bn.runningMean.data];
    net.forward(mk(2));
    avg.updateParameters(net), avgB.updateParameters(net);
    expect([...avg.module.bn.runningMean.data]).toEqual([...net.bn.runningMean.data]); // copied
    const second = [...net.bn.runningMean.data];
    expect([...avgB.module.bn.runningMean.data]).toEqual(first.map((a, i) => a + (second[i]! - a) / 2)); // averaged
    optim.updateBn([mk(3), mk(4)], avg);
    expect(avg.module.bn.numBatchesTracked.data[0]).toBe(2);
    optim.updateBn([mk(3)], new nn.Sequential(new nn.Linear(3, 3))); // no batch norm: nothing to do
  });
});

/** SWALR.get_lr transcribed; `lr` is group["lr"] as the previous step left it. */
function pySwalr(
  base: number,
  swaLr: number,
  annealEpochs: number,
  strategy: 'cos' | 'linear',
  n: number,
  lrBefore?: (e: number, lr: number) => number,
) {
  const f = strategy === 'cos' ? (t: number) => (1 - Math.cos(Math.PI * t)) / 2 : (t: number) => t;
  const init = (lr: number, swa: number, alpha: number) => (alpha === 1 ? swa : (lr - alpha * swa) / (1 - alpha));
  const out: number[] = [];
  let lr = base;
  for (let stepCount = 1; stepCount <= n; stepCount++) {
    if (lrBefore) lr = lrBefore(stepCount, lr);
    let step = stepCount - 1;
    if (annealEpochs === 0) step = Math.max(1, step);
    const prevAlpha = f(Math.max(0, Math.min(1, (step - 1) / Math.max(1, annealEpochs))));
    const prevLr = init(lr, swaLr, prevAlpha);
    const alpha = f(Math.max(0, Math.min(1, step / Math.max(1, annealEpochs))));
    lr = swaLr * alpha + prevLr * (1 - alpha);
    out.push(lr);
  }
  return out;
}

describe('SWALR', () => {
  it('anneals to swaLr (cos and linear, 0, 1 and 5 epochs) bit for bit', () => {
    for (const strategy of ['cos', 'linear'] as const) {
      for (const annealEpochs of [0, 1, 5]) {
        const opt = new optim.SGD([tensor([1], { requiresGrad: true })], { lr: 0.5 });
        const s = new optim.SWALR(opt, { swaLr: 0.05, annealEpochs, annealStrategy: strategy });
        const got = [opt.paramGroups[0]!.lr];
        for (let i = 1; i < 10; i++) s.step(), got.push(opt.paramGroups[0]!.lr);
        expect(got).toEqual(pySwalr(0.5, 0.05, annealEpochs, strategy, 10));
        expect(got[9]).toBeCloseTo(0.05, 15);
      }
    }
  });
  it('after another scheduler: starts from the lr it left (chainable), per-group swaLr, state dict', () => {
    const opt = new optim.SGD(
      [
        { params: [tensor([1], { requiresGrad: true })], lr: 0.4 },
        { params: [tensor([1], { requiresGrad: true })], lr: 0.2 },
      ],
      { lr: 0.4 },
    );
    const cos = new optim.CosineAnnealingLR(opt, { tMax: 10 });
    for (let i = 0; i < 4; i++) cos.step();
    const left = opt.paramGroups.map((g) => g.lr);
    const s = new optim.SWALR(opt, { swaLr: [0.01, 0.02], annealEpochs: 3, annealStrategy: 'linear' });
    for (let i = 0; i < 2; i++) s.step();
    const a = pySwalr(left[0]!, 0.01, 3, 'linear', 3),
      b = pySwalr(left[1]!, 0.02, 3, 'linear', 3);
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([a[2], b[2]]);
    const sd = JSON.parse(JSON.stringify(s.stateDict()));
    const s2 = new optim.SWALR(opt, { swaLr: 0.3 });
    s2.loadStateDict(sd);
    expect(s2.swaLrs).toEqual([0.01, 0.02]);
    expect(() => new optim.SWALR(opt, { swaLr: 0.1, annealStrategy: 'exp' as never })).toThrow(/annealStrategy/);
    expect(() => new optim.SWALR(opt, { swaLr: [0.1] })).toThrow(/one per param group \(2\)/);
  });
});
