/**
 * The fused layerNorm primitive (ops/norm-fused.ts, reached through layerNorm, rmsNorm and groupNorm)
 * against the composites it replaces: values, gradients and Hessian-vector products in float64; and the
 * float32 WebAssembly row kernels against the float64 reference kernels (tails, chunking, affine).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchNorm, grad, groupNorm, layerNorm, rmsNorm, Tensor, tensor, tuning } from '../../src/index.js';
import type { BufferView } from '../../src/backend/buffer.js';
import { layerNormComposite, rmsNormComposite } from '../../src/ops/fused-oracles.js';
import * as N from '../../src/backend/cpu/norm.js';
import * as WN from '../../src/backend/wasm/norm.js';
import { rnd } from '../helpers.js';

const closeArr = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void => {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  expect(worst).toBeLessThanOrEqual(tol);
};
/** Compares f and its oracle at x (with parameters ps): value, gradient in every input, Hessian-vector product. */
function agree(f: (...t: Tensor[]) => Tensor, oracle: (...t: Tensor[]) => Tensor, xs: Tensor[], seed: number): void {
  closeArr(f(...xs).data, oracle(...xs).data, 1e-13);
  const argnums = xs.map((_, i) => i);
  const loss =
    (h: (...t: Tensor[]) => Tensor) =>
    (...t: Tensor[]) =>
      h(...t)
        .pow(3)
        .sum();
  const g1 = grad(loss(f), { argnums })(...xs) as Tensor[];
  const g2 = grad(loss(oracle), { argnums })(...xs) as Tensor[];
  g1.forEach((g, i) => closeArr(g.data, g2[i]!.data, 1e-12));
  const vs = xs.map((x, i) => rnd(x.shape, seed + 10 + i));
  const hvp = (h: (...t: Tensor[]) => Tensor): Tensor[] =>
    grad(
      (...t: Tensor[]) => {
        const gs = grad(loss(h), { argnums, createGraph: true })(...t) as Tensor[];
        return gs.map((g, i) => g.mul(vs[i]!).sum()).reduce((a, b) => a.add(b));
      },
      { argnums },
    )(...xs) as Tensor[];
  const h1 = hvp(f),
    h2 = hvp(oracle);
  h1.forEach((h, i) => closeArr(h.data, h2[i]!.data, 1e-10));
}

describe('layerNorm primitive equals its composite (float64: value, gradient, Hessian-vector product)', () => {
  it('layerNorm, no affine, one and two normalised dims', () => {
    agree(
      (x) => layerNorm(x, 5),
      (x) => layerNormComposite(x, 1),
      [rnd([3, 5], 1)],
      1,
    );
    agree(
      (x) => layerNorm(x, [2, 3]),
      (x) => layerNormComposite(x, 2),
      [rnd([2, 2, 3], 2)],
      2,
    );
  });
  it('layerNorm with weight and bias (eps 1e-3)', () => {
    agree(
      (x, w, b) => layerNorm(x, 4, { weight: w, bias: b, eps: 1e-3 }),
      (x, w, b) => layerNormComposite(x, 1, 1e-3, w, b),
      [rnd([2, 3, 4], 3), rnd([4], 4), rnd([4], 5)],
      3,
    );
  });
  it('layerNorm with only a bias, and with only a weight', () => {
    agree(
      (x, b) => layerNorm(x, 3, { bias: b }),
      (x, b) => layerNormComposite(x, 1, 1e-5, undefined, b),
      [rnd([4, 3], 6), rnd([3], 7)],
      6,
    );
    agree(
      (x, w) => layerNorm(x, 3, { weight: w }),
      (x, w) => layerNormComposite(x, 1, 1e-5, w),
      [rnd([4, 3], 8), rnd([3], 9)],
      8,
    );
  });
  it('rmsNorm with and without weight', () => {
    agree(
      (x) => rmsNorm(x, 6, { eps: 1e-4 }),
      (x) => rmsNormComposite(x, 1, 1e-4),
      [rnd([2, 6], 10)],
      10,
    );
    agree(
      (x, w) => rmsNorm(x, [2, 3], { weight: w, eps: 1e-4 }),
      (x, w) => rmsNormComposite(x, 2, 1e-4, w),
      [rnd([3, 2, 3], 11), rnd([2, 3], 12)],
      11,
    );
  });
  it('groupNorm equals per-group layer normalisation with a per-channel affine', () => {
    const oracle = (x: Tensor, w: Tensor, b: Tensor): Tensor =>
      layerNormComposite(x.reshape([2, 3, -1]), 1)
        .reshape(x.shape)
        .mul(w.reshape([1, 6, 1]))
        .add(b.reshape([1, 6, 1]));
    agree(
      (x, w, b) => groupNorm(x, 3, { weight: w, bias: b }),
      oracle,
      [rnd([2, 6, 2], 13), rnd([6], 14), rnd([6], 15)],
      13,
    );
  });
});

const f32 = (n: number, seed: number, scale = 1): Float32Array => {
  const t = rnd([n], seed);
  return Float32Array.from(t.data, (v) => v * scale);
};
describe('batchNorm in training runs the fused rows over [C, N·H·W]', () => {
  // the composite it replaced: statistics over every axis but the channels
  const oracle = (x: Tensor, w: Tensor, b: Tensor): Tensor => {
    const axes = [0, 2, 3];
    const d = x.sub(x.mean(axes, true));
    const view = [1, x.shape[1]!, 1, 1];
    return d.div(d.mul(d).mean(axes, true).add(1e-5).sqrt()).mul(w.reshape(view)).add(b.reshape(view));
  };
  it('equals the composite (value, gradients, Hessian-vector product) and updates the running statistics', () => {
    agree(
      (x, w, b) => batchNorm(x, null, null, { weight: w, bias: b, training: true }),
      oracle,
      [rnd([3, 2, 2, 3], 16), rnd([2], 17), rnd([2], 18)],
      16,
    );
    const x = rnd([3, 2, 2, 3], 19);
    const rm = tensor([0.5, -1], { dtype: 'float64' }),
      rv = tensor([2, 0.5], { dtype: 'float64' });
    batchNorm(x, rm, rv, { training: true, momentum: 0.2 });
    for (let c = 0; c < 2; c++) {
      const vals: number[] = [];
      for (let n = 0; n < 3; n++) for (let k = 0; k < 6; k++) vals.push(x.data[n * 12 + c * 6 + k]!);
      const m = vals.reduce((a, b) => a + b, 0) / 18;
      const v = vals.reduce((a, b) => a + (b - m) ** 2, 0) / 17;
      expect(rm.data[c]).toBeCloseTo(0.8 * [0.5, -1][c]! + 0.2 * m, 12);
      expect(rv.data[c]).toBeCloseTo(0.8 * [2, 0.5][c]! + 0.2 * v, 12);
    }
  });
});

/**
 * A kernel input over `a`: a host tensor, or (resident) the same values in a resident WebAssembly
 * block (`mul(1)` is exact), which the kernels read in place.
 */
function input(a: Float32Array, shape: number[], resident: boolean): BufferView {
  const t = new Tensor(a, shape);
  if (!resident) return t;
  tuning.setWasmMemoryLimits({ minResidentElements: 0 });
  const r = t.mul(1);
  tuning.setWasmMemoryLimits('default');
  if (a.length >= 64) expect(r.deviceBuffer?.device).toBe('wasm');
  return r;
}
const run = (r: { data: ArrayLike<number> } | null): ArrayLike<number> => {
  expect(r).not.toBeNull();
  return r!.data;
};

describe('WebAssembly layerNorm row kernels equal the float64 reference', () => {
  it('forward and backward, any row length (tails), affine or not, layer or rms, host or resident inputs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 37 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 1000 }),
        fc.boolean(),
        (rows, n, rms, hasW, hasB, seed, res) => {
          const x = f32(rows * n, seed, 3),
            g = f32(rows * n, seed + 1),
            w = hasW ? f32(n, seed + 2) : null,
            b = hasB ? f32(n, seed + 3) : null;
          const want = new Float64Array(rows * n);
          const [xv, gv] = [input(x, [rows, n], res), input(g, [rows, n], res)],
            wv = w && input(w, [n], res),
            bv = b && input(b, [n], res);
          N.layerNorm(x, w, b, n, 1e-5, rms, want);
          closeArr(run(WN.layerNorm(xv, wv, bv, n, 1e-5, rms)), want, 2e-5);
          N.layerNormBackward(g, x, n, 1e-5, rms, want);
          const got = run(WN.layerNormBackward(gv, xv, n, 1e-5, rms));
          // the input gradient scales with 1/σ: compare relative to the row's largest value
          closeArr(got, want, 1e-4 * (1 + Math.max(...want.map(Math.abs))));
        },
      ),
      { numRuns: 60 },
    );
  });
  it('streams many rows through the scratch in chunks (and rows longer than a chunk)', () => {
    for (const [rows, n] of [
      [700, 64],
      [3, 20000],
    ] as const) {
      for (const res of [false, true]) {
        const x = f32(rows * n, rows, 2),
          g = f32(rows * n, n),
          w = f32(n, 5),
          b = f32(n, 6);
        const want = new Float64Array(rows * n);
        const xv = input(x, [rows, n], res),
          gv = input(g, [rows, n], res);
        N.layerNorm(x, w, b, n, 1e-5, false, want);
        closeArr(run(WN.layerNorm(xv, input(w, [n], res), input(b, [n], res), n, 1e-5, false)), want, 2e-5);
        N.layerNormBackward(g, x, n, 1e-5, false, want);
        closeArr(run(WN.layerNormBackward(gv, xv, n, 1e-5, false)), want, 2e-4);
      }
    }
  });
  it('float32 layerNorm through the public API matches float64 (the WebAssembly path)', () => {
    const x = rnd([8, 64], 21),
      w = rnd([64], 22),
      b = rnd([64], 23);
    const y64 = layerNorm(x, 64, { weight: w, bias: b });
    const y32 = layerNorm(x.to('float32'), 64, { weight: w.to('float32'), bias: b.to('float32') });
    closeArr(y32.data, y64.data, 1e-5);
    const gx = (t: Tensor) =>
      grad((u: Tensor) =>
        layerNorm(u, 64)
          .mul(rnd([8, 64], 24).to(u.dtype))
          .sum(),
      )(t) as Tensor;
    closeArr(gx(x.to('float32')).data, gx(x).data, 1e-4);
  });
  it('a constant row normalises to zeros (variance 0, eps keeps it finite)', () => {
    const y = layerNorm(new Tensor(new Float32Array(16).fill(3), [2, 8]), 8);
    expect(Array.from(y.data)).toEqual(new Array(16).fill(0));
  });
});
