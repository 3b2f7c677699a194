/** The CPU strided copy / write (permute, expand, slice, sliceScatter) against a naive index walk, any rank. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stridedCopy, stridedWrite } from '../../src/backend/cpu/kernels.js';

/** Flat offsets base + Σ idx·stride over `shape`, in row-major order. */
function offsets(shape: readonly number[], strides: readonly number[], base: number): number[] {
  const out: number[] = [];
  const n = shape.reduce((a, b) => a * b, 1);
  for (let f = 0; f < n; f++) {
    let rem = f,
      o = base;
    for (let d = shape.length - 1; d >= 0; d--) {
      o += (rem % shape[d]!) * strides[d]!;
      rem = Math.floor(rem / shape[d]!);
    }
    out.push(o);
  }
  return out;
}
const geometry = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 6 }).chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    // a stride per axis: 0 (broadcast) or a multiple that keeps offsets distinct enough to matter
    strides: fc.tuple(...shape.map(() => fc.integer({ min: 0, max: 40 }))),
    base: fc.integer({ min: 0, max: 5 }),
  }),
);

describe('strided copy and write', () => {
  it('stridedCopy reads what a naive walk reads (merged axes, broadcasts, any rank)', () => {
    fc.assert(
      fc.property(geometry, ({ shape, strides, base }) => {
        const offs = offsets(shape, strides, base);
        const x = Float64Array.from({ length: Math.max(0, ...offs) + 1 }, (_, i) => i * 1.5 + 1);
        const out = new Float64Array(offs.length);
        stridedCopy(x, base, strides, out, shape);
        expect(Array.from(out)).toEqual(offs.map((o) => x[o]!));
      }),
      { numRuns: 300 },
    );
  });
  it('stridedCopy: long contiguous rows (the block-copy path) under a permuted outer axis', () => {
    const shape = [3, 2, 300],
      strides = [300, 900, 1];
    const offs = offsets(shape, strides, 2);
    const x = Float64Array.from({ length: Math.max(...offs) + 1 }, (_, i) => i);
    const out = new Float64Array(offs.length);
    stridedCopy(x, 2, strides, out, shape);
    expect(Array.from(out)).toEqual(offs.map((o) => x[o]!));
  });
  it('stridedWrite writes where a naive walk writes (distinct targets: a permutation-like stride set)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 6 }),
        fc.integer({ min: 0, max: 3 }),
        (shape, base) => {
          // distinct targets: the strides of a random axis order of a contiguous layout
          const order = shape.map((_, i) => i).sort((a, b) => ((a * 7 + shape.length) % 5) - ((b * 7) % 5));
          const strides = new Array<number>(shape.length).fill(0);
          let s = 1;
          for (const ax of [...order].reverse()) (strides[ax] = s), (s *= shape[ax]!);
          const offs = offsets(shape, strides, base);
          const src = Float64Array.from({ length: offs.length }, (_, i) => i + 0.25);
          const out = new Float64Array(Math.max(0, ...offs) + 1);
          stridedWrite(src, shape, out, base, strides);
          const want = new Float64Array(out.length);
          offs.forEach((o, i) => (want[o] = src[i]!));
          expect(Array.from(out)).toEqual(Array.from(want));
        },
      ),
      { numRuns: 300 },
    );
  });
});
