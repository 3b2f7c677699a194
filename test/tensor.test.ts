import { describe, expect, it } from 'vitest';
import { arange, eye, full, linspace, ones, tensor, zeros, Tensor } from '../src/index.js';

describe('Tensor creation', () => {
  it('takes nested arrays, with float32 default and float64 on request', () => {
    const x = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(x.shape).toEqual([2, 2]);
    expect(x.dtype).toBe('float32');
    expect(x.data).toBeInstanceOf(Float32Array);
    expect(x.toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    const y = tensor([[1, 2]], { dtype: 'float64', requiresGrad: true });
    expect(y.data).toBeInstanceOf(Float64Array);
    expect(y.requiresGrad).toBe(true);
  });
  it('takes typed arrays with a shape, without copying', () => {
    const buf = new Float64Array(6);
    const t = tensor(buf, { shape: [2, 3] });
    expect(t.dtype).toBe('float64');
    expect(t.data).toBe(buf);
  });
  it('makes scalars and empty tensors', () => {
    expect(tensor(5).shape).toEqual([]);
    expect(tensor(5).item()).toBe(5);
    expect(zeros([0, 3]).size).toBe(0);
    expect(() => ones([2]).item()).toThrow(/2 elements, expected exactly 1/);
  });
  it('has the creation helpers', () => {
    expect(arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(eye(2, 3).toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    expect(full([2], 7, { dtype: 'int32' }).toArray()).toEqual([7, 7]);
  });
  it('reshape shares storage; detach cuts history but shares values', () => {
    const x = tensor([1, 2, 3, 4], { requiresGrad: true });
    const y = x.reshape([2, 2]);
    expect(y.data).toBe(x.data);
    const d = y.mul(2).detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.node).toBeNull();
  });
  it('casts between dtypes; to() with the same dtype is a no-op', () => {
    const x = tensor([1.5, -2.5]);
    expect(x.to('float32')).toBe(x);
    expect(x.to('float64').data).toBeInstanceOf(Float64Array);
    expect(x.to('int32').toArray()).toEqual([1, -2]);
  });
  it('argmax returns int32 indices, first on ties', () => {
    const x = tensor([
      [1, 5, 5],
      [7, 0, 7],
    ]);
    const a = x.argmax(1);
    expect(a.dtype).toBe('int32');
    expect(a.toArray()).toEqual([1, 0]);
    expect(x.argmax().item()).toBe(3);
    expect(x.argmin(0, true).toArray()).toEqual([[0, 1, 0]]);
  });
  it('max/min propagate NaN like PyTorch', () => {
    expect(Number.isNaN(tensor([1, NaN, 3]).max().item())).toBe(true);
    expect(Number.isNaN(tensor([1, NaN, 3]).min().item())).toBe(true);
  });
  it('prints', () => {
    expect(String(tensor([1, 2]))).toBe('tensor([1., 2.], shape=[2], dtype=float32)');
    expect(new Tensor(new Float32Array(1), []).ndim).toBe(0);
  });
});

describe('int32 tensors', () => {
  it('compare, add and reduce exactly (accuracy without leaving tensors)', () => {
    const pred = tensor([
      [0.1, 0.9],
      [0.8, 0.2],
      [0.3, 0.7],
    ]).argmax(1);
    const labels = tensor([1, 1, 1], { dtype: 'int32' });
    const hits = pred.eq(labels);
    expect(hits.dtype).toBe('int32');
    expect(hits.sum().item()).toBe(2);
    expect(
      tensor(
        [
          [-5, -7],
          [-1, -9],
        ],
        { dtype: 'int32' },
      )
        .max(0)
        .toArray(),
    ).toEqual([-1, -7]);
    expect(
      tensor(
        [
          [5, 7],
          [1, 9],
        ],
        { dtype: 'int32' },
      )
        .min(1)
        .toArray(),
    ).toEqual([5, 1]);
    expect(() => hits.div(2)).toThrow(/div: expected a float tensor, got int32/);
  });
});
