/**
 * The fused WebAssembly Muon and Adafactor updates (src/backend/wasm/optim.ts) against the TypeScript
 * reference kernels in src/optim/updates.ts over float32: Adafactor and Muon's momentum, normalisation
 * and apply are bit-identical (Muon with nsSteps 0); Muon's Newton–Schulz steps (f32 GEMM against
 * double dot products) agree to float32 rounding. And their registration through the cpu backend.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { adafactorStep, muonStep } from '../../src/backend/wasm/optim.js';
import * as W from '../../src/backend/wasm/index.js';
import {
  adafactorUpdate,
  getUpdateKernel,
  muonAdjustedLr,
  muonUpdate,
  type AdafactorOptions,
  type MuonOptions,
} from '../../src/optim/updates.js';
import { optim, tensor } from '../../src/index.js';

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
/** The first index where a and b differ by more than atol + rtol·|b| (0, 0: bit-identical), or null. */
function diff(a: ArrayLike<number>, b: ArrayLike<number>, atol = 0, rtol = 0): string | null {
  if (a.length !== b.length) return `length ${a.length} ≠ ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!,
      y = b[i]!;
    if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))) continue;
    if (!(Math.abs(x - y) <= atol + rtol * Math.abs(y))) return `at ${i}: wasm ${x} vs reference ${y}`;
  }
  return null;
}
const check = (pairs: [ArrayLike<number>, ArrayLike<number>][], atol = 0, rtol = 0): void => {
  for (const [a, b] of pairs) {
    const e = diff(a, b, atol, rtol);
    if (e) throw new Error(e);
  }
};

const adafactorShape = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 3000 })).map((s) => [...s]),
  fc.constant([] as number[]),
  fc.tuple(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 70 })).map((s) => [...s]),
  fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 17 }), fc.integer({ min: 1, max: 23 }))
    .map((s) => [...s]),
);

describe('wasm Adafactor vs adafactorUpdate (float32, bit-identical)', () => {
  it('factored (2-D, 3-D) and unfactored (1-D, 0-D) over several steps, weight decay, maximize, eps, d', () => {
    fc.assert(
      fc.property(
        adafactorShape,
        fc.integer(),
        fc.constantFrom(0, 0.1),
        fc.boolean(),
        fc.constantFrom<[number | null, number]>([null, 1e-3], [1e-3, 1e-2]),
        fc.constantFrom(1, 1.5),
        (shape, seed, wd, maximize, eps, d) => {
          const h: AdafactorOptions = { lr: 0.05, beta2Decay: -0.8, eps, d, weightDecay: wd, maximize };
          const n = shape.reduce((a, b) => a * b, 1),
            factored = shape.length >= 2;
          const rows = factored ? n / shape.at(-1)! : 0,
            cols = factored ? n / shape.at(-2)! : 0;
          const p1 = rnd(n, seed),
            p2 = p1.slice();
          const r1 = factored ? new Float32Array(rows) : null,
            r2 = factored ? new Float32Array(rows) : null;
          const c1 = factored ? new Float32Array(cols) : null,
            c2 = factored ? new Float32Array(cols) : null;
          const v1 = factored ? null : new Float32Array(n),
            v2 = factored ? null : new Float32Array(n);
          for (let t = 1; t <= 4; t++) {
            const g = rnd(n, seed + t, t === 2 ? 1e-3 : 1);
            expect(adafactorStep(p1, g, r1, c1, v1, shape, h, t)).toBe(true);
            adafactorUpdate(p2, g, r2, c2, v2, shape, h, t);
          }
          check([[p1, p2]]);
          if (factored)
            check([
              [r1!, r2!],
              [c1!, c2!],
            ]);
          else check([[v1!, v2!]]);
        },
      ),
      { numRuns: 80 },
    );
  });
});

const muonCase = fc.record({
  rows: fc.integer({ min: 1, max: 45 }),
  cols: fc.integer({ min: 1, max: 45 }),
  seed: fc.integer(),
  wd: fc.constantFrom(0, 0.1),
  nesterov: fc.boolean(),
  momentum: fc.constantFrom(0.95, 0.3),
  adjustLrFn: fc.constantFrom<MuonOptions['adjustLrFn']>(null, 'matchRmsAdamW'),
});
type MuonCase = typeof muonCase extends fc.Arbitrary<infer T> ? T : never;
function runMuon(c: MuonCase, nsSteps: number) {
  const h: MuonOptions = {
    lr: 0.02,
    weightDecay: c.wd,
    momentum: c.momentum,
    nesterov: c.nesterov,
    nsCoefficients: [3.4445, -4.775, 2.0315],
    eps: 1e-7,
    nsSteps,
    adjustLrFn: c.adjustLrFn,
  };
  const n = c.rows * c.cols;
  const p1 = rnd(n, c.seed),
    p2 = p1.slice(),
    b1 = new Float32Array(n),
    b2 = new Float32Array(n);
  for (let t = 1; t <= 3; t++) {
    const g = rnd(n, c.seed + t);
    expect(muonStep(p1, g, b1, c.rows, c.cols, h, muonAdjustedLr(h, c.rows, c.cols))).toBe(true);
    muonUpdate(p2, g, b2, c.rows, c.cols, h);
  }
  return { p1, p2, b1, b2 };
}

describe('wasm Muon vs muonUpdate (float32)', () => {
  it('momentum, Nesterov, normalisation, weight decay and apply are bit-identical (nsSteps 0; wide, tall, square)', () => {
    fc.assert(
      fc.property(muonCase, (c) => {
        const { p1, p2, b1, b2 } = runMuon(c, 0);
        check([
          [p1, p2],
          [b1, b2],
        ]);
      }),
      { numRuns: 80 },
    );
  });

  it('with 5 Newton–Schulz steps: the buffer bit-identical, the parameters to float32 rounding', () => {
    fc.assert(
      fc.property(muonCase, (c) => {
        const { p1, p2, b1, b2 } = runMuon(c, 5);
        check([[b1, b2]]);
        check([[p1, p2]], 1e-6, 1e-5);
      }),
      { numRuns: 60 },
    );
  });

  it('a 96×200 matrix (GEMM blocks and edges) agrees with the reference Newton–Schulz', () => {
    const c: MuonCase = { rows: 200, cols: 96, seed: 7, wd: 0.1, nesterov: true, momentum: 0.95, adjustLrFn: null };
    for (const [rows, cols] of [
      [200, 96],
      [96, 200],
    ] as const) {
      const { p1, p2, b1, b2 } = runMuon({ ...c, rows, cols }, 5);
      check([[b1, b2]]);
      check([[p1, p2]], 1e-6, 1e-5);
    }
  });
});

describe('wasm Muon on two threads', () => {
  const threads = W.getNumThreads();
  afterAll(() => {
    W.setNumThreads(threads);
    W.setWasmThresholds({ parallelFlops: 1e7 });
  });
  it('splits the Newton–Schulz GEMMs by rows and gives the same bits as one thread', () => {
    const c: MuonCase = { rows: 70, cols: 150, seed: 3, wd: 0.1, nesterov: true, momentum: 0.95, adjustLrFn: null };
    W.setNumThreads(1);
    const one = runMuon(c, 5);
    W.setNumThreads(2);
    W.setWasmThresholds({ parallelFlops: 0 });
    expect(W.startThreads(20_000)).toBe(2);
    const two = runMuon(c, 5);
    check([
      [two.p1, one.p1],
      [two.b1, one.b1],
    ]);
    check([[two.p1, two.p2]], 1e-6, 1e-5);
  });
});

describe('the cpu backend offers them as fused updates', () => {
  it('float32 through WebAssembly, float64 through the reference', () => {
    expect(getUpdateKernel('muon')).not.toBe(muonUpdate);
    expect(getUpdateKernel('adafactor')).not.toBe(adafactorUpdate);
    for (const dtype of ['float32', 'float64'] as const) {
      const w = tensor(
        [
          [1, -2, 3],
          [0.5, 0.25, -1],
        ],
        { dtype, requiresGrad: true },
      );
      const v = tensor([1, -2, 3], { dtype, requiresGrad: true });
      const muon = new optim.Muon([w], { lr: 0.1 });
      const ada = new optim.Adafactor([v], { lr: 0.1 });
      const gw = [0.5, 0.5, -1, 2, -0.25, 1],
        gv = [0.5, 0.5, -1];
      w.grad = tensor(gw, { dtype }).reshape([2, 3]);
      v.grad = tensor(gv, { dtype });
      muon.step();
      ada.step();
      const qw = Float64Array.from([1, -2, 3, 0.5, 0.25, -1]),
        qv = Float64Array.from([1, -2, 3]);
      muonUpdate(qw, Float64Array.from(gw), new Float64Array(6), 2, 3, muon.paramGroups[0]!);
      adafactorUpdate(qv, Float64Array.from(gv), null, null, new Float64Array(3), [3], ada.paramGroups[0]!, 1);
      [...w.data].forEach((x, i) => expect(x).toBeCloseTo(qw[i]!, dtype === 'float32' ? 5 : 15));
      [...v.data].forEach((x, i) => expect(x).toBeCloseTo(qv[i]!, dtype === 'float32' ? 5 : 15));
    }
  });
});
