/**
 * The WebAssembly convolution and pooling kernels (src/backend/wasm/conv.ts) against the TypeScript
 * reference kernels of src/backend/cpu/conv.ts (run with WebAssembly off, the oracle) on random
 * geometries: odd sizes, stride, padding, dilation, groups; one and two threads.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import * as R from '../../src/backend/cpu/conv.js';
import * as Kr from '../../src/backend/cpu/kernels.js';
import { enableWasm } from '../../src/backend/cpu/mode.js';
import type { ConvGeom, PoolGeom } from '../../src/backend/backend.js';
import * as W from '../../src/backend/wasm/index.js';
import * as WC from '../../src/backend/wasm/conv.js';

function rnd(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}
/** The reference kernel's result: WebAssembly off while it runs. */
function ref<T>(f: () => T): T {
  enableWasm(false);
  try {
    return f();
  } finally {
    enableWasm(true);
  }
}
function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): string | null {
  if (a.length !== b.length) return `length ${a.length} ≠ ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i]! - b[i]!) <= tol * (1 + Math.abs(b[i]!)))) return `at ${i}: wasm ${a[i]} vs reference ${b[i]}`;
  }
  return null;
}

const outLen = (n: number, k: number, s: number, p: number, d: number): number =>
  Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
/** Random conv geometries with at least one output position. */
const convGeom = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    cg: fc.integer({ min: 1, max: 3 }),
    og: fc.integer({ min: 1, max: 5 }),
    groups: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 1, max: 13 }),
    w: fc.integer({ min: 1, max: 13 }),
    kh: fc.integer({ min: 1, max: 4 }),
    kw: fc.integer({ min: 1, max: 4 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 3 }),
    ph: fc.integer({ min: 0, max: 2 }),
    pw: fc.integer({ min: 0, max: 2 }),
    dh: fc.integer({ min: 1, max: 2 }),
    dw: fc.integer({ min: 1, max: 2 }),
    seed: fc.integer(),
  })
  .map((r) => {
    const g: ConvGeom = {
      n: r.n,
      c: r.cg * r.groups,
      h: r.h,
      w: r.w,
      kh: r.kh,
      kw: r.kw,
      ho: outLen(r.h, r.kh, r.sh, r.ph, r.dh),
      wo: outLen(r.w, r.kw, r.sw, r.pw, r.dw),
      sh: r.sh,
      sw: r.sw,
      ph: r.ph,
      pw: r.pw,
      dh: r.dh,
      dw: r.dw,
      groups: r.groups,
    };
    return { g, o: r.og * r.groups, seed: r.seed };
  })
  .filter(({ g }) => g.ho >= 1 && g.wo >= 1);

afterAll(() => {
  W.setNumThreads(Math.min(2, 4));
  W.setWasmThresholds({ parallelFlops: 1e7 });
});

describe('wasm conv kernels vs the reference', () => {
  for (const threads of [1, 2]) {
    it(`conv2d, its input gradient and its weight gradient (${threads} thread${threads > 1 ? 's' : ''})`, () => {
      W.setNumThreads(threads);
      W.setWasmThresholds({ parallelFlops: 0 });
      if (threads > 1) expect(W.startThreads(20_000)).toBe(threads);
      fc.assert(
        fc.property(convGeom, fc.boolean(), ({ g, o, seed }, withBias) => {
          const kg = (g.c / g.groups) * g.kh * g.kw,
            L = g.ho * g.wo;
          const x = rnd(g.n * g.c * g.h * g.w, seed),
            w = rnd(o * kg, seed + 1),
            b = withBias ? rnd(o, seed + 2) : null,
            gy = rnd(g.n * o * L, seed + 3);
          const tol = 1e-5 * Math.sqrt(kg * g.n * L);
          const where = `geometry ${JSON.stringify(g)}, O ${o}`;
          const y = WC.conv2d(x, w, b, g, o);
          expect(
            close(
              y!,
              ref(() => R.conv2d(x, w, g, o, b)),
              tol,
            ),
            where,
          ).toBeNull();
          const gx = WC.conv2dInput(gy, w, g, o);
          expect(
            close(
              gx!,
              ref(() => R.conv2dInput(gy, w, g, o)),
              tol,
            ),
            where,
          ).toBeNull();
          const gw = WC.conv2dWeight(x, gy, g, o);
          expect(
            close(
              gw!,
              ref(() => R.conv2dWeight(x, gy, g, o)),
              tol,
            ),
            where,
          ).toBeNull();
          // The dispatching entry points take the WebAssembly path for float32.
          expect(close(R.conv2d(x, w, g, o, b), y!, 0)).toBeNull();
        }),
        { numRuns: 120 },
      );
    });
  }
  it('the LeNet shapes of bench/lib/cnn.ts, threaded (one GEMM over all N·L columns in the weight gradient)', () => {
    W.setNumThreads(2);
    W.setWasmThresholds({ parallelFlops: 0 });
    for (const [c, h, o] of [
      [1, 28, 8],
      [8, 14, 16],
    ] as const) {
      const g: ConvGeom = {
        n: 32,
        c,
        h,
        w: h,
        kh: 3,
        kw: 3,
        ho: h,
        wo: h,
        sh: 1,
        sw: 1,
        ph: 1,
        pw: 1,
        dh: 1,
        dw: 1,
        groups: 1,
      };
      const x = rnd(32 * c * h * h, c),
        w = rnd(o * c * 9, o),
        gy = rnd(32 * o * h * h, h);
      const tol = 1e-5 * Math.sqrt(c * 9 * 32 * h * h);
      expect(
        close(
          WC.conv2d(x, w, null, g, o)!,
          ref(() => R.conv2d(x, w, g, o)),
          tol,
        ),
      ).toBeNull();
      expect(
        close(
          WC.conv2dInput(gy, w, g, o)!,
          ref(() => R.conv2dInput(gy, w, g, o)),
          tol,
        ),
      ).toBeNull();
      expect(
        close(
          WC.conv2dWeight(x, gy, g, o)!,
          ref(() => R.conv2dWeight(x, gy, g, o)),
          tol,
        ),
      ).toBeNull();
    }
  });
});

it('the LeNet shapes give the same bits on one and two threads (conv, both gradients, pooling)', () => {
  W.setWasmThresholds({ parallelFlops: 0 });
  W.setNumThreads(2);
  expect(W.startThreads(20_000)).toBe(2);
  for (const [c, h, o] of [
    [1, 28, 8],
    [8, 14, 16],
  ] as const) {
    const g: ConvGeom = {
      n: 32,
      c,
      h,
      w: h,
      kh: 3,
      kw: 3,
      ho: h,
      wo: h,
      sh: 1,
      sw: 1,
      ph: 1,
      pw: 1,
      dh: 1,
      dw: 1,
      groups: 1,
    };
    const pg: PoolGeom = {
      planes: 32 * o,
      h,
      w: h,
      kh: 2,
      kw: 2,
      ho: h / 2,
      wo: h / 2,
      sh: 2,
      sw: 2,
      ph: 0,
      pw: 0,
      dh: 1,
      dw: 1,
    };
    const x = rnd(32 * c * h * h, c + 7),
      w = rnd(o * c * 9, o + 7),
      b = rnd(o, 3),
      gy = rnd(32 * o * h * h, h + 7);
    const all = (): Float32Array[] => {
      const idx = WC.maxPoolIndicesAt(gy, pg)!;
      const per = pg.ho * pg.wo;
      return [
        WC.conv2d(x, w, b, g, o)!,
        WC.conv2dInput(gy, w, g, o)!,
        WC.conv2dWeight(x, gy, g, o)!,
        new Float32Array(idx.buffer),
        WC.planeGatherAt(gy, idx, h * h, per, false) as Float32Array,
        WC.planeScatterAt(rnd(idx.length, 5), idx, h * h, per, gy.length, false) as Float32Array,
      ];
    };
    W.setNumThreads(1);
    const one = all();
    W.setNumThreads(2);
    const two = all();
    one.forEach((a, i) => expect(Buffer.from(two[i]!.buffer).equals(Buffer.from(a.buffer)), `result ${i}`).toBe(true));
  }
});

/** Pooling geometries; `quad` forces the 2×2 stride-2 unpadded windows of the vectorised path. */
const poolGeomOf = (quad: boolean) =>
  fc
    .record({
      planes: fc.integer({ min: 1, max: 5 }),
      h: fc.integer({ min: quad ? 2 : 1, max: quad ? 23 : 13 }),
      w: fc.integer({ min: quad ? 2 : 1, max: quad ? 23 : 13 }),
      kh: quad ? fc.constant(2) : fc.integer({ min: 1, max: 4 }),
      kw: quad ? fc.constant(2) : fc.integer({ min: 1, max: 4 }),
      sh: quad ? fc.constant(2) : fc.integer({ min: 1, max: 3 }),
      sw: quad ? fc.constant(2) : fc.integer({ min: 1, max: 3 }),
      ph: quad ? fc.constant(0) : fc.integer({ min: 0, max: 2 }),
      pw: quad ? fc.constant(0) : fc.integer({ min: 0, max: 2 }),
      dh: quad ? fc.constant(1) : fc.integer({ min: 1, max: 2 }),
      dw: quad ? fc.constant(1) : fc.integer({ min: 1, max: 2 }),
      seed: fc.integer(),
      special: fc.constantFrom('none', 'ties', 'nan'),
    })
    .map((r): { g: PoolGeom; seed: number; special: string } => ({
      g: {
        planes: r.planes,
        h: r.h,
        w: r.w,
        kh: r.kh,
        kw: r.kw,
        ho: outLen(r.h, r.kh, r.sh, Math.min(r.ph, r.kh >> 1), r.dh),
        wo: outLen(r.w, r.kw, r.sw, Math.min(r.pw, r.kw >> 1), r.dw),
        sh: r.sh,
        sw: r.sw,
        ph: Math.min(r.ph, r.kh >> 1),
        pw: Math.min(r.pw, r.kw >> 1),
        dh: r.dh,
        dw: r.dw,
      },
      seed: r.seed,
      special: r.special,
    }))
    .filter(({ g }) => g.ho >= 1 && g.wo >= 1);

describe('wasm max pooling vs the reference', () => {
  it.each([
    ['any window', false],
    ['2×2 stride 2 (vectorised)', true],
  ])('winner indices and values (first on ties, a NaN wins), gather and scatter: %s', (_name, quad) => {
    fc.assert(
      fc.property(poolGeomOf(quad), ({ g, seed, special }) => {
        const x = rnd(g.planes * g.h * g.w, seed);
        // Ties: few distinct values; NaNs: a sprinkle of them.
        if (special === 'ties') x.forEach((v, i) => (x[i] = Math.round(v * 2)));
        if (special === 'nan') x.forEach((v, i) => (x[i] = v > 0.7 ? NaN : v));
        const fast = WC.maxPool(x, g)!;
        const idx = ref(() => R.maxPoolIndices(x, g));
        // A window wholly in the padding (dilation can make one) has no winner (−1) in both kernels.
        expect(Array.from(fast.idx)).toEqual(Array.from(idx));
        fc.pre(!idx.includes(-1));
        expect(Array.from(fast.idx)).toEqual(Array.from(idx));
        const per = g.ho * g.wo,
          hw = g.h * g.w;
        const vals = new Float32Array(idx.length);
        ref(() => R.planeGather(x, idx, hw, per, vals));
        expect(Array.from(fast.val)).toEqual(Array.from(vals));
        const got = new Float32Array(idx.length);
        expect(WC.planeGather(x, idx, hw, per, got)).toBe(true);
        expect(Array.from(got)).toEqual(Array.from(vals));
        // Through the dispatching kernels: the gather after a WebAssembly max pool takes its values,
        // and only for the same input.
        const viaPool = new Float32Array(idx.length);
        R.planeGather(x, R.maxPoolIndices(x, g), hw, per, viaPool);
        expect(Array.from(viaPool)).toEqual(Array.from(vals));
        const other = rnd(x.length, seed + 5),
          otherVals = new Float32Array(idx.length),
          otherRef = new Float32Array(idx.length);
        R.planeGather(other, R.maxPoolIndices(x, g), hw, per, otherVals);
        ref(() => R.planeGather(other, idx, hw, per, otherRef));
        expect(Array.from(otherVals)).toEqual(Array.from(otherRef));
        const gr = rnd(idx.length, seed + 1),
          s1 = new Float32Array(x.length).fill(NaN),
          s2 = new Float32Array(x.length);
        expect(WC.planeScatter(gr, idx, hw, per, s1)).toBe(true);
        ref(() => R.planeScatter(gr, idx, hw, per, s2));
        expect(Array.from(s1)).toEqual(Array.from(s2));
      }),
      { numRuns: 300 },
    );
  });
});

describe('wasm comparisons (relu backward is g · (x > 0)) vs the reference', () => {
  const ops = ['gt', 'ge', 'lt', 'le', 'eq', 'ne'] as const;
  it('agree bitwise with ties, NaN and −0, same shape and broadcast', () => {
    W.forceWasm(true);
    try {
      fc.assert(
        fc.property(
          fc.constantFrom(...ops),
          fc.integer({ min: 1, max: 9 }),
          fc.integer({ min: 1, max: 40 }),
          fc.constantFrom('same', 'scalar', 'row', 'column'),
          fc.integer(),
          (op, r, c, how, seed) => {
            // Few distinct values, so ties are common; a NaN and a −0 among them.
            const vals = (n: number, s: number) =>
              rnd(n, s).map((v, i) => (i % 11 === 3 ? NaN : i % 7 === 2 ? -0 : Math.round(v * 2)));
            const os = [r, c];
            const bs = how === 'same' ? os : how === 'scalar' ? [] : how === 'row' ? [1, c] : [r, 1];
            const a = vals(r * c, seed),
              b = vals(
                bs.reduce((p, q) => p * q, 1),
                seed + 1,
              );
            const o1 = new Float32Array(r * c),
              o2 = new Float32Array(r * c);
            expect(W.binary(op, a, os, b, bs, o1, os)).toBe(true);
            ref(() => Kr.binary(op, a, os, b, bs, o2, os));
            expect(Array.from(o1)).toEqual(Array.from(o2));
          },
        ),
        { numRuns: 300 },
      );
    } finally {
      W.forceWasm(false);
    }
  });
});
