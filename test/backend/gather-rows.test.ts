/**
 * The row gather / scatter-add fast path (axis 0, index with the input's trailing shape: Embedding's
 * indexSelect and its gradient) against a naive loop, with rows that repeat one table row and rows that
 * mix rows; and gradients through it (gradcheck, float64).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gatherRows, rowsFit, scatterAddRows } from '../../src/backend/cpu/gather.js';
import { gather, gradcheck, gradgradcheck, indexSelect, scatterAdd, Tensor } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';

const case_ = fc
  .record({
    d: fc.integer({ min: 1, max: 6 }),
    n: fc.integer({ min: 0, max: 6 }),
    rest: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 2 }),
    mixed: fc.boolean(),
    f64: fc.boolean(),
  })
  .chain((c) => {
    const row = c.rest.reduce((a, b) => a * b, 1);
    return fc.record({
      c: fc.constant(c),
      picks: fc.array(fc.integer({ min: 0, max: c.d - 1 }), { minLength: c.n * row, maxLength: c.n * row }),
      rowPick: fc.array(fc.integer({ min: 0, max: c.d - 1 }), { minLength: c.n, maxLength: c.n }),
    });
  });

describe('row gather / scatterAdd along axis 0', () => {
  it('matches the naive loop (kernels and ops, float32 and float64)', () => {
    fc.assert(
      fc.property(case_, ({ c, picks, rowPick }) => {
        const row = c.rest.reduce((a, b) => a * b, 1);
        const idx = Int32Array.from(picks, (p, i) => (c.mixed ? p : rowPick[Math.floor(i / row)]!));
        const xs = [c.d, ...c.rest],
          is = [c.n, ...c.rest];
        expect(rowsFit(xs, 0, is)).toBe(true);
        const Arr = (v: ArrayLike<number>): Float32Array | Float64Array =>
          c.f64 ? Float64Array.from(v) : Float32Array.from(v);
        const seq = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));
        const x = Arr(seq(c.d * row, (i) => i * 0.5 - 3));
        const want = Arr(seq(idx.length, (p) => x[idx[p]! * row + (p % row)]!));
        const got = Arr(new Float64Array(idx.length));
        gatherRows(x, c.d, idx, got, row);
        expect(Array.from(got)).toEqual(Array.from(want));
        const xt = new Tensor(x, xs),
          it_ = new Tensor(idx, is);
        expect(Array.from(gather(xt, 0, it_).data)).toEqual(Array.from(want));
        const src = Arr(seq(idx.length, (i) => 1 + i * 0.25));
        const acc = new Float64Array(c.d * row);
        idx.forEach((j, p) => {
          acc[j * row + (p % row)]! += src[p]!;
        });
        const out = Arr(new Float64Array(c.d * row));
        scatterAddRows(src, c.d, idx, out, row);
        expect(Array.from(out)).toEqual(Array.from(Arr(acc)));
        const st = scatterAdd(xs, 0, it_, new Tensor(src, is));
        expect(Array.from(st.data)).toEqual(Array.from(Arr(acc)));
      }),
      { numRuns: 150 },
    );
  });

  it('does not take shapes it does not fit', () => {
    expect(rowsFit([3, 4], 1, [3, 4])).toBe(false);
    expect(rowsFit([3, 4], 0, [2, 3])).toBe(false);
    expect(rowsFit([3, 4], 0, [2])).toBe(false);
    expect(rowsFit([], 0, [])).toBe(false);
    // a smaller index off the axis takes the generic path and stays right
    const x = new Tensor(Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2]);
    expect(Array.from(gather(x, 0, new Tensor(Int32Array.from([2, 0]), [2, 1])).data)).toEqual([5, 1]);
  });

  it('refuses out-of-range indices (both the fast check and the kernel)', () => {
    const x = new Tensor(Float32Array.from([1, 2, 3, 4]), [2, 2]);
    expect(() => gather(x, 0, new Tensor(Int32Array.from([0, 2, 1, 1]), [2, 2]))).toThrow(/out of range/);
    expect(() => gather(x, 0, new Tensor(Int32Array.from([0, -1, 1, 1]), [2, 2]))).toThrow(/out of range/);
    expect(() => gatherRows(new Float32Array(4), 2, Int32Array.from([0, 5]), new Float32Array(2), 2)).toThrow(
      /gather: index 5 is out of range for axis 0 of size 2/,
    );
    expect(() => scatterAddRows(new Float32Array(2), 2, Int32Array.from([7, 0]), new Float32Array(4), 2)).toThrow(
      /scatterAdd: index 7 is out of range/,
    );
  });

  it('gradcheck: indexSelect and Embedding through the row path (float64)', () => {
    const w = new Tensor(
      Float64Array.from({ length: 12 }, (_, i) => Math.sin(i)),
      [4, 3],
    ).requiresGrad_();
    const idx = [3, 0, 3, 1, 2];
    expect(gradcheck((t) => indexSelect(t, 0, idx).mul(indexSelect(t, 0, idx)), [w]).ok).toBe(true);
    expect(gradgradcheck((t) => indexSelect(t, 0, idx).mul(indexSelect(t, 0, idx)), [w]).ok).toBe(true);
    const g = new Tensor(Int32Array.from([1, 0, 2, 2, 3, 0, 1, 1, 0, 3, 2, 1]), [4, 3]);
    expect(gradcheck((t) => gather(t, 0, g).mul(gather(t, 0, g)), [w]).ok).toBe(true);
    const e = new nn.Embedding(4, 3, { dtype: 'float64' });
    const ix = new Tensor(Int32Array.from([1, 3, 3, 0]), [2, 2]);
    const y = e.forward(ix);
    y.mul(y).sum().backward();
    const want = new Float64Array(12);
    [1, 3, 3, 0].forEach((j) => {
      for (let k = 0; k < 3; k++) want[j * 3 + k]! += 2 * e.weight.data[j * 3 + k]!;
    });
    const gw = Array.from(e.weight.grad!.data);
    gw.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
  });
});
