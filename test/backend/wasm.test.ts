/**
 * Every WebAssembly kernel against the reference kernel (the oracle) on random shapes:
 * odd sizes, transposes, batch broadcasting, broadcast patterns, threads on and off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as Kr from '../../src/backend/cpu/kernels.js';
import * as W from '../../src/backend/wasm/index.js';
import { gemmParts } from '../../src/backend/wasm/runtime.js';
import { adamUpdate, sgdUpdate, type AdamOptions } from '../../src/optim/updates.js';
import { broadcastShapes, sizeOf } from '../../src/shape.js';
import type { BinaryOp, UnaryOp } from '../../src/backend/backend.js';

/** A deterministic float32 array from a seed (tests only; src/ never uses Math.random). */
function rnd(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}
const same = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && !(a[i] === 0 && b[i] === 0)) return false;
  return a.length === b.length;
};
function close(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol: number): string | null {
  if (a.length !== b.length) return `length ${a.length} ≠ ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!,
      y = b[i]!;
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (x === y) continue;
    if (!(Math.abs(x - y) <= atol + rtol * Math.abs(y))) return `at ${i}: wasm ${x} vs reference ${y}`;
  }
  return null;
}

beforeAll(() => W.forceWasm(true));
afterAll(() => {
  W.forceWasm(false);
  W.setNumThreads(Math.min(2, 4));
  W.setWasmThresholds({ parallelFlops: 1e7 });
});

const dim = fc.integer({ min: 1, max: 23 });
// Batch dims for a and b that broadcast against each other (each entry is the dim or 1, or absent).
const batchPair = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.constantFrom('both', 'a1', 'b1', 'aNone')), { maxLength: 2 })
  .map((ds) => {
    const a: number[] = [],
      b: number[] = [];
    let aDrop = false;
    ds.forEach(([d, how], i) => {
      if (how === 'aNone' && i === 0) {
        aDrop = true;
        b.push(d);
        return;
      }
      a.push(how === 'a1' ? 1 : d);
      b.push(how === 'b1' ? 1 : d);
    });
    void aDrop;
    return [a, b] as const;
  });

describe('wasm matmul vs reference', () => {
  for (const threads of [1, 2]) {
    it(`matches on random shapes, transposes and batch broadcasting (${threads} thread${threads > 1 ? 's' : ''})`, () => {
      W.setNumThreads(threads);
      W.setWasmThresholds({ parallelFlops: 0 });
      if (threads > 1) expect(W.startThreads(20_000)).toBe(threads);
      fc.assert(
        fc.property(
          dim,
          dim,
          dim,
          fc.boolean(),
          fc.boolean(),
          batchPair,
          fc.integer(),
          (m, k, n, ta, tb, [ba, bb], seed) => {
            const as = [...ba, ...(ta ? [k, m] : [m, k])],
              bs = [...bb, ...(tb ? [n, k] : [k, n])];
            const os = [...broadcastShapes('t', ba, bb), m, n];
            const a = rnd(sizeOf(as), seed),
              b = rnd(sizeOf(bs), seed + 1);
            const o1 = new Float32Array(sizeOf(os)).fill(NaN),
              o2 = new Float32Array(sizeOf(os));
            expect(W.matmul(a, as, b, bs, o1, os, ta, tb)).toBe(true);
            Kr.matmul(a, as, b, bs, o2, os, ta, tb);
            const err = close(o1, o2, 2e-6 * Math.sqrt(k) + 1e-6, 1e-5);
            if (err) throw new Error(`a ${JSON.stringify(as)} b ${JSON.stringify(bs)} ta=${ta} tb=${tb}: ${err}`);
          },
        ),
        { numRuns: 150 },
      );
    });
  }

  it('is bitwise identical on one and two threads (row and column parts), at sizes that cross every block edge', () => {
    W.setWasmThresholds({ parallelFlops: 0 });
    for (const [m, k, n] of [
      [131, 263, 1031],
      [1, 300, 9],
      [257, 1, 17],
      [64, 513, 64],
      [24, 258, 2100],
      [3, 0, 400],
    ] as const) {
      for (const [ta, tb] of [
        [false, false],
        [false, true],
        [true, false],
        [true, true],
      ] as const) {
        const as = ta ? [k, m] : [m, k],
          bs = tb ? [n, k] : [k, n];
        const a = rnd(m * k, m),
          b = rnd(k * n, n);
        const outs = [1, 2].map((t) => {
          W.setNumThreads(t);
          if (t > 1) W.startThreads(20_000);
          const o = new Float32Array(m * n).fill(NaN);
          W.matmul(a, as, b, bs, o, [m, n], ta, tb);
          return o;
        });
        expect(same(outs[0]!, outs[1]!)).toBe(true);
        const ref = new Float32Array(m * n);
        Kr.matmul(a, as, b, bs, ref, [m, n], ta, tb);
        expect(close(outs[0]!, ref, 2e-6 * Math.sqrt(k) + 1e-6, 1e-5)).toBeNull();
      }
    }
  });

  it('splits a product into row parts or column parts, whichever packs less again', () => {
    expect(gemmParts(128, 512, 1)).toEqual([[0, 128, 0, 512]]);
    expect(gemmParts(1024, 1024, 2)).toEqual([
      [0, 256, 0, 1024],
      [256, 512, 0, 1024],
      [512, 768, 0, 1024],
      [768, 1024, 0, 1024],
    ]);
    expect(gemmParts(128, 784, 2)).toEqual([
      [0, 128, 0, 200],
      [0, 128, 200, 400],
      [0, 128, 400, 600],
      [0, 128, 600, 784],
    ]);
    expect(gemmParts(8, 30, 2)).toEqual([[0, 8, 0, 30]]); // too small to split
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 1, max: 8 }),
        (m, n, t) => {
          const parts = gemmParts(m, n, t);
          expect(parts.length).toBeLessThanOrEqual(2 * t);
          // the parts tile the product exactly, in order
          let covered = 0;
          for (const [r0, r1, c0, c1] of parts) {
            expect(r1 > r0 && c1 > c0).toBe(true);
            covered += (r1 - r0) * (c1 - c0);
            if (parts.length > 1) expect(r1 - r0 === m || c1 - c0 === n).toBe(true);
          }
          expect(covered).toBe(m * n);
        },
      ),
    );
  });

  it('handles k = 0 (zeros) and empty outputs', () => {
    const o = new Float32Array(6).fill(7);
    expect(W.matmul(new Float32Array(0), [2, 0], new Float32Array(0), [0, 3], o, [2, 3], false, false)).toBe(true);
    expect(Array.from(o)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(W.matmul(new Float32Array(0), [0, 4], rnd(12, 1), [4, 3], new Float32Array(0), [0, 3], false, false)).toBe(
      true,
    );
  });
});

// Shapes that broadcast to `out`: each operand dim is the out dim or 1 (or dropped from the front).
const operand = (os: number[]) =>
  fc.tuple(
    fc.integer({ min: 0, max: os.length }),
    fc.array(fc.boolean(), { minLength: os.length, maxLength: os.length }),
  );
const bshape = fc
  .array(fc.integer({ min: 1, max: 9 }), { minLength: 0, maxLength: 4 })
  .chain((os) => fc.tuple(fc.constant(os), operand(os), operand(os)));

describe('wasm elementwise vs reference', () => {
  const binOps: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'];
  it('binary ops agree bitwise under broadcasting (same shape, scalar, row, column, general)', () => {
    fc.assert(
      fc.property(bshape, fc.constantFrom(...binOps), fc.integer(), ([os, [da, ka], [db, kb]], op, seed) => {
        const mk = (drop: number, keep: boolean[]) => os.slice(drop).map((d, i) => (keep[i + drop] ? d : 1));
        const as = mk(da, ka),
          bs = mk(db, kb);
        const out = broadcastShapes('t', as, bs);
        const a = rnd(sizeOf(as), seed),
          b = rnd(sizeOf(bs), seed + 7);
        if (sizeOf(bs) > 2) {
          b[1] = 0;
          b[2] = NaN;
        }
        if (sizeOf(as) > 3) a[3] = -0;
        const o1 = new Float32Array(sizeOf(out)),
          o2 = new Float32Array(sizeOf(out));
        const handled = W.binary(op, a, as, b, bs, o1, out);
        Kr.binary(op, a, as, b, bs, o2, out);
        if (handled && !same(o1, o2))
          throw new Error(`${op} ${JSON.stringify(as)} ${JSON.stringify(bs)}: ${close(o1, o2, 0, 0)}`);
      }),
      { numRuns: 400 },
    );
  });

  it('takes the fast paths the cpu backend needs (bias rows, softmax columns, scalars, long rows)', () => {
    const cases: [number[], number[]][] = [
      [[64, 128], [128]],
      [
        [64, 10],
        [64, 1],
      ],
      [[3, 5], []],
      [[100003], [100003]],
      [
        [7, 1, 5],
        [7, 3, 5],
      ],
    ];
    for (const [as, bs] of cases) {
      const out = broadcastShapes('t', as, bs);
      const a = rnd(sizeOf(as), 3),
        b = rnd(sizeOf(bs), 4);
      const o1 = new Float32Array(sizeOf(out)),
        o2 = new Float32Array(sizeOf(out));
      const handled = W.binary('sub', a, as, b, bs, o1, out);
      Kr.binary('sub', a, as, b, bs, o2, out);
      if (as.length < 3) expect(handled).toBe(true); // [7,1,5] vs [7,3,5] needs three dims: reference
      if (handled) expect(same(o1, o2)).toBe(true);
    }
  });

  const exact: UnaryOp[] = ['neg', 'abs', 'sqrt', 'relu'];
  it('unary ops: neg/abs/sqrt/relu bitwise, exp/sigmoid within a few ulp, specials kept', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.integer(),
        fc.constantFrom(...exact, 'exp', 'sigmoid' as UnaryOp),
        (n, seed, op) => {
          const x = rnd(n, seed, 30);
          const specials = [0, -0, NaN, Infinity, -Infinity, 88.7, 89, -87.5, -104, -120, 1e-30];
          for (let i = 0; i < Math.min(n, specials.length); i++) x[i] = specials[i]!;
          const o1 = new Float32Array(n),
            o2 = new Float32Array(n);
          expect(W.unary(op, x, o1)).toBe(true);
          Kr.unary(op, x, o2);
          if (exact.includes(op)) {
            if (!same(o1, o2)) throw new Error(`${op}: ${close(o1, o2, 0, 0)}`);
          } else {
            const err = close(o1, o2, 1e-37, 4e-7);
            if (err) throw new Error(`${op}: ${err}`);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('wasm sum vs reference', () => {
  it('sums over trailing, leading and middle axis blocks (others fall back)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 }),
        fc.integer(),
        fc.integer({ min: 1, max: 15 }),
        (xs, seed, mask) => {
          const axes = xs.map((_, i) => i).filter((i) => (mask >> i) & 1);
          if (axes.length === 0) return;
          const x = rnd(sizeOf(xs), seed);
          const os = xs.map((d, i) => (axes.includes(i) ? 1 : d));
          const o1 = new Float32Array(sizeOf(os)),
            o2 = new Float32Array(sizeOf(os));
          const handled = W.sum(x, xs, axes, o1);
          Kr.REDUCE.sum(x, xs, axes, o2);
          const n = sizeOf(xs) / sizeOf(os);
          if (handled) {
            const err = close(o1, o2, 1e-6 * n, 1e-6);
            if (err) throw new Error(`${JSON.stringify(xs)} axes ${axes}: ${err}`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('column sums (bias gradients) are bitwise equal to the reference', () => {
    const x = rnd(128 * 37, 9);
    const o1 = new Float32Array(37),
      o2 = new Float32Array(37);
    expect(W.sum(x, [128, 37], [0], o1)).toBe(true);
    Kr.REDUCE.sum(x, [128, 37], [0], o2);
    expect(same(o1, o2)).toBe(true);
  });
});

describe('wasm optimizer updates vs src/optim/updates.ts', () => {
  it('adam / adamw over several steps', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer(),
        fc.constantFrom(0, 0.01),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom(0.9, 0.3),
        (n, seed, wd, decoupled, maximize, beta1) => {
          const h: AdamOptions = {
            lr: 1e-2,
            betas: [beta1, 0.999],
            eps: 1e-8,
            weightDecay: wd,
            decoupledWeightDecay: decoupled,
            amsgrad: false,
            maximize,
          };
          const p1 = rnd(n, seed),
            p2 = p1.slice();
          const m1 = new Float32Array(n),
            v1 = new Float32Array(n),
            m2 = new Float32Array(n),
            v2 = new Float32Array(n);
          for (let step = 1; step <= 3; step++) {
            const g = rnd(n, seed + step);
            W.adamStep(p1, g, m1, v1, h, step);
            adamUpdate(p2, g, m2, v2, null, h, step);
          }
          for (const [a, b] of [
            [p1, p2],
            [m1, m2],
            [v1, v2],
          ] as const) {
            const err = close(a, b, 1e-6, 1e-5);
            if (err) throw new Error(err);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('sgd with and without momentum / nesterov', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.integer(),
        fc.constantFrom(0, 0.9),
        fc.boolean(),
        fc.constantFrom(0, 0.01),
        fc.boolean(),
        (n, seed, momentum, nesterov, wd, maximize) => {
          const h = { lr: 0.1, momentum, dampening: 0, nesterov: nesterov && momentum > 0, weightDecay: wd, maximize };
          const p1 = rnd(n, seed),
            p2 = p1.slice();
          const b1 = momentum ? new Float32Array(n) : null,
            b2 = momentum ? new Float32Array(n) : null;
          for (let step = 0; step < 3; step++) {
            const g = rnd(n, seed + step + 1);
            W.sgdStep(p1, g, b1, h, step === 0);
            sgdUpdate(p2, g, b2, h, step === 0);
          }
          const err = close(p1, p2, 1e-6, 1e-5);
          if (err) throw new Error(err);
        },
      ),
      { numRuns: 60 },
    );
  });
});
