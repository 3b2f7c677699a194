import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { broadcastShapes, Generator, Tensor } from '../../src/index.js';

/** A shape and one broadcast-compatible with it (dims dropped on the left or set to 1). */
const shapePair = fc
  .array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 })
  .chain((s) =>
    fc.tuple(
      fc.constant(s),
      fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }),
      fc.integer({ min: 0, max: s.length }),
    ),
  )
  .map(([s, ones, drop]) => [s, s.map((d, i) => (ones[i] ? 1 : d)).slice(drop)] as const);

const filled = (shape: readonly number[], seed: number, dtype: 'float32' | 'float64' = 'float64'): Tensor => {
  const g = new Generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const arr = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) arr[i] = g.uniform() * 2 - 1;
  return new Tensor(arr, shape);
};

describe('shape properties', () => {
  it('broadcasting gradients sum back to each input shape', () => {
    fc.assert(
      fc.property(shapePair, fc.nat(), ([sa, sb], seed) => {
        const a = filled(sa, seed).requiresGrad_(),
          b = filled(sb, seed + 1).requiresGrad_();
        const out = a.mul(b);
        expect(out.shape).toEqual(broadcastShapes('mul', sa, sb));
        out.sum().backward();
        expect(a.grad!.shape).toEqual(sa);
        expect(b.grad!.shape).toEqual(sb);
        // d/db Σ a·b = a summed over b's broadcast axes: the totals agree.
        const total = (t: Tensor): number => Array.from(t.data).reduce((x, y) => x + y, 0);
        expect(total(b.grad!)).toBeCloseTo(total(a) * (out.size / a.size), 9);
        expect(total(a.grad!)).toBeCloseTo(total(b) * (out.size / b.size), 9);
      }),
      { numRuns: 100, seed: 1 },
    );
  });

  it('a.add(b) commutes, bit for bit', () => {
    fc.assert(
      fc.property(shapePair, fc.nat(), ([sa, sb], seed) => {
        const a = filled(sa, seed, 'float32'),
          b = filled(sb, seed + 7, 'float32');
        expect(Array.from(a.add(b).data)).toEqual(Array.from(b.add(a).data));
        expect(a.add(b).shape).toEqual(b.add(a).shape);
      }),
      { numRuns: 100, seed: 2 },
    );
  });

  it('reshape round-trips, and permute then inverse permute is the identity', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }), fc.nat(), (shape, seed) => {
        const x = filled(shape, seed);
        const flat = x.reshape([-1]);
        expect(flat.reshape(shape).toArray()).toEqual(x.toArray());
        const perm = shape.map((_, i) => i).reverse();
        expect(x.permute(perm).permute(perm).toArray()).toEqual(x.toArray());
      }),
      { numRuns: 100, seed: 3 },
    );
  });

  it('sum over all axes equals the sum of per-axis sums, any order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }), fc.nat(), (shape, seed) => {
        const x = filled(shape, seed);
        let y = x;
        for (let a = shape.length - 1; a >= 0; a--) y = y.sum(a);
        expect(y.item()).toBeCloseTo(x.sum().item(), 10);
      }),
      { numRuns: 100, seed: 4 },
    );
  });
});
