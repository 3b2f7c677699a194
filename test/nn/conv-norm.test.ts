import { describe, expect, it } from 'vitest';
import {
  nn,
  batchNorm,
  layerNorm,
  groupNorm,
  rmsNorm,
  gradcheck,
  gradgradcheck,
  tensor,
  zeros,
  Generator,
  noGrad,
  type Tensor,
} from '../../src/index.js';
import { rnd } from '../helpers.js';
import { conv2dRef } from '../ops/conv-oracle.js';

const close = (a: Tensor, b: Tensor, tol = 1e-9): void => {
  expect(a.shape).toEqual(b.shape);
  for (let i = 0; i < a.size; i++)
    expect(Math.abs(a.data[i]! - b.data[i]!)).toBeLessThan(tol * (1 + Math.abs(b.data[i]!)));
};
const ok = (r: { ok: boolean; maxAbsError: number }): void => expect(r.ok, `max error ${r.maxAbsError}`).toBe(true);
const maxAbs = (t: Tensor): number => Math.max(...Array.from(t.data, Math.abs));

describe('conv layers', () => {
  it('Conv2d: PyTorch layout and init bounds, forward = conv2d', () => {
    const c = new nn.Conv2d(4, 6, 3, { padding: 1, groups: 2, generator: new Generator(1), dtype: 'float64' });
    expect(c.weight.shape).toEqual([6, 2, 3, 3]);
    expect(c.bias!.shape).toEqual([6]);
    const bound = 1 / Math.sqrt(2 * 9);
    expect(maxAbs(c.weight)).toBeLessThanOrEqual(bound);
    expect(maxAbs(c.weight)).toBeGreaterThan(0.9 * bound);
    expect(maxAbs(c.bias!)).toBeLessThanOrEqual(bound);
    const x = rnd([2, 4, 5, 5], 1);
    close(c.forward(x), conv2dRef(x, c.weight, c.bias, { padding: [1, 1], groups: 2 }));
    expect(Object.keys(c.stateDict())).toEqual(['weight', 'bias']);
    expect(() => new nn.Conv2d(3, 4, 3, { groups: 2 })).toThrow('Conv2d: inChannels 3 must be divisible by groups 2');
    expect(() => new nn.Conv2d(3, 4, 3, { pad: 1 } as object)).toThrow(/Conv2d: unknown option 'pad'/);
  });
  it('Conv1d, ConvTranspose2d shapes and init', () => {
    expect(new nn.Conv1d(3, 5, 4, { bias: false }).forward(zeros([2, 3, 10])).shape).toEqual([2, 5, 7]);
    const t = new nn.ConvTranspose2d(4, 6, 3, {
      stride: 2,
      padding: 1,
      outputPadding: 1,
      groups: 2,
      generator: new Generator(2),
    });
    expect(t.weight.shape).toEqual([4, 3, 3, 3]);
    expect(t.bias!.shape).toEqual([6]);
    expect(maxAbs(t.weight)).toBeLessThanOrEqual(1 / Math.sqrt(27));
    expect(t.forward(zeros([1, 4, 5, 5])).shape).toEqual([1, 6, 10, 10]);
  });
  it('pooling modules and a LeNet-ish stack train end to end', () => {
    const net = new nn.Sequential(
      new nn.Conv2d(1, 4, 3, { padding: 1 }),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Conv2d(4, 4, 3, { padding: 1 }),
      new nn.BatchNorm2d(4),
      new nn.ReLU(),
      new nn.AvgPool2d(2),
      new nn.AdaptiveAvgPool2d(1),
      new nn.Flatten(),
      new nn.Linear(4, 2),
    );
    const x = rnd([4, 1, 8, 8], 3, 'any', 'float32').detach();
    const y = nn.crossEntropy(net.forward(x), [0, 1, 0, 1]);
    y.backward();
    expect(net.parameters().every((p) => p.grad !== null && Number.isFinite(p.grad.data[0]!))).toBe(true);
    expect(Object.keys(net.stateDict())).toContain('4.runningMean');
    expect(new nn.MaxPool1d(2).forward(zeros([1, 2, 6])).shape).toEqual([1, 2, 3]);
  });
});

describe('batchNorm', () => {
  it('training: batch statistics, running stats updated with momentum and the unbiased variance', () => {
    const x = rnd([4, 3, 2, 2], 1);
    const rm = zeros([3], { dtype: 'float64' }),
      rv = zeros([3], { dtype: 'float64' }).add(1);
    const y = batchNorm(x, rm, rv, { training: true, momentum: 0.25 });
    const mean = x.mean([0, 2, 3]),
      v = x.var([0, 2, 3], false, 0),
      vu = x.var([0, 2, 3]);
    close(y, x.sub(mean.reshape([1, 3, 1, 1])).div(v.add(1e-5).sqrt().reshape([1, 3, 1, 1])));
    close(rm, mean.mul(0.25));
    close(rv, vu.mul(0.25).add(0.75));
    // eval mode uses the running statistics
    const w = rnd([3], 2),
      b = rnd([3], 3);
    const e = batchNorm(x, rm, rv, { weight: w, bias: b });
    close(
      e,
      x
        .sub(rm.reshape([1, 3, 1, 1]))
        .div(rv.add(1e-5).sqrt().reshape([1, 3, 1, 1]))
        .mul(w.reshape([1, 3, 1, 1]))
        .add(b.reshape([1, 3, 1, 1])),
    );
  });
  it('gradcheck in training and eval, to second order', () => {
    const x = rnd([3, 2, 3], 4),
      w = rnd([2], 5),
      b = rnd([2], 6);
    ok(
      gradcheck(
        (a: Tensor, ww: Tensor, bb: Tensor) => batchNorm(a, null, null, { weight: ww, bias: bb, training: true }),
        [x, w, b],
      ),
    );
    ok(gradgradcheck((a: Tensor, ww: Tensor) => batchNorm(a, null, null, { weight: ww, training: true }), [x, w]));
    const rm = rnd([2], 7).detach(),
      rv = rnd([2], 8, 'pos').detach();
    ok(gradcheck((a: Tensor, ww: Tensor) => batchNorm(a, rm, rv, { weight: ww }), [x, w]));
  });
  it('BatchNorm2d: buffers, numBatchesTracked, momentum null = cumulative average, eval', () => {
    const bn = new nn.BatchNorm2d(2, { momentum: null, dtype: 'float64' });
    expect(Object.keys(bn.stateDict())).toEqual(['weight', 'bias', 'runningMean', 'runningVar', 'numBatchesTracked']);
    const a = rnd([3, 2, 2, 2], 1).detach(),
      b = rnd([3, 2, 2, 2], 2).detach();
    bn.forward(a);
    bn.forward(b);
    expect(bn.numBatchesTracked!.item()).toBe(2);
    close(
      bn.runningMean!,
      a
        .mean([0, 2, 3])
        .add(b.mean([0, 2, 3]))
        .div(2),
    );
    close(
      bn.runningVar!,
      a
        .var([0, 2, 3])
        .add(b.var([0, 2, 3]))
        .div(2),
    );
    bn.eval();
    const before = Float64Array.from(bn.runningMean!.data);
    const y = noGrad(() => bn.forward(a));
    expect(Array.from(bn.runningMean!.data)).toEqual(Array.from(before));
    close(y, a.sub(bn.runningMean!.reshape([1, 2, 1, 1])).div(bn.runningVar!.add(1e-5).sqrt().reshape([1, 2, 1, 1])));
    const c = new nn.BatchNorm2d(2, { dtype: 'float64' });
    c.loadStateDict(bn.stateDict());
    expect(c.numBatchesTracked!.item()).toBe(2);
    expect(() => bn.forward(zeros([2, 3, 1, 1], { dtype: 'float64' }))).toThrow(
      'BatchNorm2d: expected 2 channels (dim 1), got input of shape [2,3,1,1]',
    );
  });
  it('BatchNorm1d with trackRunningStats false always uses batch statistics and has no buffers', () => {
    const bn = new nn.BatchNorm1d(3, { trackRunningStats: false, affine: false, dtype: 'float64' });
    expect(Object.keys(bn.stateDict())).toEqual([]);
    const x = rnd([5, 3], 1).detach();
    bn.eval();
    close(bn.forward(x), x.sub(x.mean(0)).div(x.var(0, false, 0).add(1e-5).sqrt()));
    expect(() => new nn.BatchNorm1d(3).forward(zeros([1, 3]))).toThrow(/expected more than 1 value per channel/);
  });
});

describe('layerNorm / groupNorm / rmsNorm', () => {
  it('layerNorm equals nn.LayerNorm; gradcheck to second order', () => {
    const x = rnd([2, 3, 4], 1);
    const ln = new nn.LayerNorm([3, 4], { dtype: 'float64' });
    ln.weight!.data.set(rnd([3, 4], 2).data);
    close(layerNorm(x, [3, 4], { weight: ln.weight, bias: ln.bias }), ln.forward(x));
    ok(gradgradcheck((a: Tensor, w: Tensor) => layerNorm(a, 4, { weight: w }), [x, rnd([4], 3)]));
  });
  it('groupNorm: one group = layer norm over C,H,W; C groups = instance norm; gradcheck; GroupNorm module', () => {
    const x = rnd([2, 4, 3], 1);
    close(groupNorm(x, 1), layerNorm(x, [4, 3]));
    close(groupNorm(x, 4), layerNorm(x, 3));
    ok(
      gradgradcheck(
        (a: Tensor, w: Tensor, b: Tensor) => groupNorm(a, 2, { weight: w, bias: b }),
        [x, rnd([4], 2), rnd([4], 3)],
      ),
    );
    const g = new nn.GroupNorm(2, 4, { dtype: 'float64' });
    close(g.forward(x), groupNorm(x, 2));
    expect(() => groupNorm(x, 3)).toThrow('groupNorm: 4 channels are not divisible into numGroups=3');
  });
  it('rmsNorm: x / √(mean x² + eps) · w, eps = machine epsilon by default; gradcheck; RMSNorm module', () => {
    const x = tensor([[3, 4]], { dtype: 'float64' });
    close(rmsNorm(x, 2, { eps: 0 }), tensor([[3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5)]], { dtype: 'float64' }));
    ok(gradgradcheck((a: Tensor, w: Tensor) => rmsNorm(a, 3, { weight: w }), [rnd([2, 3], 1), rnd([3], 2)]));
    const m = new nn.RMSNorm(3, { dtype: 'float64' });
    close(m.forward(rnd([2, 3], 1)), rmsNorm(rnd([2, 3], 1), 3));
  });
});

describe('init.orthogonal / init.truncNormal', () => {
  it('orthogonal rows or columns, scaled by gain', () => {
    for (const shape of [
      [5, 3],
      [3, 5],
      [4, 2, 2],
    ]) {
      const t = nn.init.orthogonal(zeros(shape, { dtype: 'float64' }), { gain: 2, generator: new Generator(1) });
      const m = t.reshape([shape[0]!, -1]);
      const gram = shape[0]! >= m.shape[1]! ? m.T.matmul(m) : m.matmul(m.T);
      const k = gram.shape[0]!;
      for (let i = 0; i < k; i++)
        for (let j = 0; j < k; j++) expect(gram.data[i * k + j]!).toBeCloseTo(i === j ? 4 : 0, 10);
    }
    expect(() => nn.init.orthogonal(zeros([3]))).toThrow(/orthogonal: only tensors with 2 or more dimensions/);
  });
  it('truncNormal stays in [a, b] with the truncated moments', () => {
    const t = nn.init.truncNormal(zeros([20000], { dtype: 'float64' }), 1, 2, 0, 3, { generator: new Generator(4) });
    expect(Math.min(...t.data)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...t.data)).toBeLessThanOrEqual(3);
    // Mean of N(1, 2²) truncated to [0, 3]: 1 + 2 (φ(−0.5) − φ(1)) / (Φ(1) − Φ(−0.5)) ≈ 1.4132
    expect(t.mean().item()).toBeCloseTo(1.4132, 1);
    expect(() => nn.init.truncNormal(zeros([2]), 0, 1, 10, 11)).toThrow(/holds under 1e-4/);
  });
});

describe('BatchNorm with optim.updateBn', () => {
  it('recomputes the running statistics as a cumulative average over the loader', async () => {
    const { optim } = await import('../../src/index.js');
    const bn = new nn.BatchNorm1d(2, { dtype: 'float64' });
    const net = new nn.Sequential(bn);
    const a = rnd([4, 2], 1).detach(),
      b = rnd([4, 2], 2).detach();
    optim.updateBn([a, b], net);
    close(bn.runningMean!, a.mean(0).add(b.mean(0)).div(2));
    expect(bn.momentum).toBe(0.1);
    expect(bn.numBatchesTracked!.item()).toBe(2);
  });
});
