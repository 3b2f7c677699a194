/** clipGradNorm / clipGradValue against torch.nn.utils semantics, derived by hand. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { optim, tensor, ValueError } from '../../src/index.js';

const withGrad = (g: number[], dtype: 'float32' | 'float64' = 'float64') => {
  const p = tensor(
    g.map(() => 0),
    { dtype, requiresGrad: true },
  );
  p.grad = tensor(g, { dtype });
  return p;
};

describe('clipGradNorm', () => {
  it('returns the total 2-norm over all gradients and scales them by maxNorm/(total + 1e-6)', () => {
    const a = withGrad([3, 0]),
      b = withGrad([0, 4]); // total norm √(3² + 4²) = 5
    const total = optim.clipGradNorm([a, b], 1);
    expect(total).toBe(5);
    const coef = 1 / (5 + 1e-6);
    expect([...a.grad!.data]).toEqual([3 * coef, 0]);
    expect([...b.grad!.data]).toEqual([0, 4 * coef]);
  });
  it('leaves gradients under the limit unchanged (coefficient clamped to 1)', () => {
    const a = withGrad([0.3, -0.4]);
    expect(optim.clipGradNorm([a], 10)).toBeCloseTo(0.5, 15);
    expect([...a.grad!.data]).toEqual([0.3, -0.4]);
  });
  it('normType Infinity uses the largest |g|', () => {
    const a = withGrad([1, -7]),
      b = withGrad([5]);
    expect(optim.clipGradNorm([a, b], 3.5, Infinity)).toBe(7);
    expect(a.grad!.data[1]).toBeCloseTo(-3.5, 5);
  });
  it('normType 1 sums |g|', () => {
    const a = withGrad([1, -2]),
      b = withGrad([3]);
    expect(optim.clipGradNorm([a, b], 100, 1)).toBe(6);
  });
  it('skips parameters without a gradient and returns 0 when none has one', () => {
    const p = tensor([1], { requiresGrad: true });
    expect(optim.clipGradNorm([p], 1)).toBe(0);
    expect(optim.clipGradNorm([p, withGrad([2])], 1)).toBe(2);
  });
  it('after clipping, the norm is at most maxNorm (property, float32 and float64)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 8 }),
        fc.double({ min: 1e-3, max: 10, noNaN: true }),
        fc.constantFrom('float32' as const, 'float64' as const),
        (g, maxNorm, dtype) => {
          const p = withGrad(g, dtype);
          const before = Math.hypot(...p.grad!.data);
          const total = optim.clipGradNorm([p], maxNorm);
          expect(total).toBeCloseTo(before, 3);
          expect(Math.hypot(...p.grad!.data)).toBeLessThanOrEqual(maxNorm * (1 + 1e-6));
        },
      ),
      { numRuns: 100 },
    );
  });
  it('errorIfNonfinite throws on a NaN/Inf norm; otherwise the NaN is returned', () => {
    expect(() => optim.clipGradNorm([withGrad([NaN])], 1, 2, { errorIfNonfinite: true })).toThrow(ValueError);
    expect(optim.clipGradNorm([withGrad([Infinity])], 1)).toBe(Infinity);
  });
  it('rejects a negative maxNorm or normType', () => {
    expect(() => optim.clipGradNorm([withGrad([1])], -1)).toThrow(/maxNorm.*-1/);
    expect(() => optim.clipGradNorm([withGrad([1])], 1, -2)).toThrow(/normType.*-2/);
  });
});

describe('clipGradValue', () => {
  it('clamps every entry into [−c, c]', () => {
    const a = withGrad([-5, 0.5, 3]);
    optim.clipGradValue([a], 1);
    expect([...a.grad!.data]).toEqual([-1, 0.5, 1]);
  });
  it('rejects a negative clip value', () => {
    expect(() => optim.clipGradValue([withGrad([1])], -1)).toThrow(/clipValue.*-1/);
  });
});
