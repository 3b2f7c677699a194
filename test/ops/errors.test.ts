import { describe, expect, it } from 'vitest';
import {
  concat,
  DTypeError,
  IndexError,
  ShapeError,
  tensor,
  zeros,
  ones,
  TapegradError,
  crossEntropy,
  ValueError,
} from '../../src/index.js';

describe('bad input gives a clear TapegradError naming the op and shapes', () => {
  it('broadcasting failures', () => {
    expect(() => zeros([2, 3]).add(zeros([4, 3]))).toThrow(ShapeError);
    expect(() => zeros([2, 3]).add(zeros([4, 3]))).toThrow(
      'add: shapes [2,3] and [4,3] cannot be broadcast: dimension 4 ≠ 2 at axis -2',
    );
  });
  it('matmul inner dimensions', () => {
    expect(() => zeros([2, 3]).matmul(zeros([4, 5]))).toThrow(
      'matmul: shapes [2,3] and [4,5] are incompatible: inner dimensions 3 ≠ 4',
    );
    expect(() => zeros([2, 2, 3]).matmul(zeros([3, 3, 1]))).toThrow(
      /matmul \(batch dimensions\): shapes \[2\] and \[3\] cannot be broadcast/,
    );
  });
  it('axes out of range', () => {
    expect(() => zeros([2, 3]).sum(2)).toThrow(IndexError);
    expect(() => zeros([2, 3]).sum(2)).toThrow(
      'sum: axis 2 is out of range for a tensor of rank 2 (expected -2 ≤ axis < 2)',
    );
    expect(() => zeros([2, 3]).permute([0, 0])).toThrow(/not a permutation/);
  });
  it('mixed dtypes without an explicit cast', () => {
    const a = zeros([2], { dtype: 'float64' }),
      b = zeros([2]);
    expect(() => a.add(b)).toThrow(DTypeError);
    expect(() => a.add(b)).toThrow(/add: dtypes float64 and float32 differ; cast one explicitly/);
    expect(a.add(b.to('float64')).dtype).toBe('float64');
    expect(() => concat([a, b])).toThrow(/concat: dtypes/);
  });
  it('int32 tensors in float ops', () => {
    expect(() => tensor([1, 2], { dtype: 'int32' }).exp()).toThrow(/exp: expected a float tensor, got int32/);
    expect(() => tensor([1], { dtype: 'int32', requiresGrad: true })).toThrow(DTypeError);
  });
  it('reshape sizes', () => {
    expect(() => zeros([2, 3]).reshape([4, 2])).toThrow(
      'reshape: cannot reshape [2,3] (6 elements) to [4,2] (8 elements)',
    );
    expect(() => zeros([2, 3]).reshape([-1, -1])).toThrow(/at most one -1/);
  });
  it('ragged arrays and wrong typed-array sizes', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(/ragged/);
    expect(() => tensor(new Float32Array(5), { shape: [2, 3] })).toThrow(/5 elements but shape \[2,3\] needs 6/);
  });
  it('gather indices out of range', () => {
    expect(() => ones([2, 3]).gather(1, tensor([[3], [0]], { dtype: 'int32' }))).toThrow(
      /gather: index 3 is out of range for axis 1 of size 3/,
    );
  });
  it('losses check targets', () => {
    expect(() => crossEntropy(zeros([2, 3]), [0, 3])).toThrow(ValueError);
    expect(() => crossEntropy(zeros([2, 3]), [0])).toThrow(/targets must have shape \[2\]/);
  });
  it('everything thrown is a TapegradError', () => {
    try {
      zeros([2]).matmul(zeros([3]));
    } catch (e) {
      expect(e).toBeInstanceOf(TapegradError);
    }
  });
});

describe('softplus and BCE at exactly 0', () => {
  it("softplus'(0) = 1/2 and BCE-with-logits' gradient at a 0 logit is σ(0) − t", async () => {
    const { binaryCrossEntropyWithLogits: bce, tensor: t } = await import('../../src/index.js');
    const x = t([0, 0], { dtype: 'float64', requiresGrad: true });
    x.softplus().sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([0.5, 0.5]);
    x.zeroGrad();
    bce(x, t([1, 0], { dtype: 'float64' }), 'sum').backward();
    expect(Array.from(x.grad!.data)).toEqual([-0.5, 0.5]);
    expect(t([0], { dtype: 'float64' }).softplus().item()).toBe(Math.LN2);
  });
});
