/**
 * The CPU strided copy / write (permute, expand, slice, sliceScatter) against a naive index walk, any
 * rank; and the WebAssembly strided copy (float32 and int32, bit for bit) against the reference.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { merge4, stridedCopy, stridedWrite } from '../../src/backend/cpu/kernels.js';
import * as WS from '../../src/backend/wasm/strided.js';

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

describe('WebAssembly strided copy', () => {
  it('equals the reference copy for float32 and int32 (runs of any length, broadcasts, offsets)', () => {
    fc.assert(
      fc.property(geometry, fc.boolean(), ({ shape, strides, base }, ints) => {
        const m = merge4(shape, strides);
        if (!m) return;
        const offs = offsets(shape, strides, base);
        const len = Math.max(0, ...offs) + 1;
        const x = ints
          ? Int32Array.from({ length: len }, (_, i) => i * 7 - 3)
          : Float32Array.from({ length: len }, (_, i) => i * 1.5 - 2);
        const want = ints ? new Int32Array(offs.length) : new Float32Array(offs.length);
        const got = ints ? new Int32Array(offs.length) : new Float32Array(offs.length);
        stridedCopy(x, base, strides, want, shape);
        expect(WS.stridedCopy(x, base, m, got, true)).toBe(true);
        expect(Array.from(got)).toEqual(Array.from(want));
      }),
      { numRuns: 300 },
    );
  });
  it('permute, expand and slice of tensors large enough to take the WebAssembly path', async () => {
    const { randn, tensor } = await import('../../src/index.js');
    const x = randn([16, 32, 4, 16]);
    const p = x.permute([0, 2, 1, 3]);
    for (const [b, t, h, e] of [
      [3, 7, 2, 5],
      [15, 31, 3, 15],
    ] as const)
      expect(p.data[((b * 4 + h) * 32 + t) * 16 + e]).toBe(x.data[((b * 32 + t) * 4 + h) * 16 + e]);
    const idx = tensor(Int32Array.from({ length: 512 }, (_, i) => (i * 5) % 83)).reshape([512, 1]);
    const ex = idx.expand([512, 64]);
    expect(ex.data[300 * 64 + 17]).toBe((300 * 5) % 83);
    const s = x.reshape([512, 64]).slice([null, [16, 48]]);
    expect(s.shape).toEqual([512, 32]);
    expect(s.data[100 * 32 + 3]).toBe(x.data[100 * 64 + 19]);
  });
});
