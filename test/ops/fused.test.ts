/**
 * The fused primitives (ops/fused.ts) against the composites they replace: values and gradients
 * (first and second order) in float64, and the float32 WebAssembly kernels against the float64
 * reference kernels, including tails (odd sizes) and extreme inputs.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossEntropy, gelu, grad, Tensor, tensor } from '../../src/index.js';
import { geluComposite, logSoftmaxComposite, softmaxComposite } from '../../src/ops/fused-oracles.js';
import * as F from '../../src/backend/cpu/fused.js';
import * as W from '../../src/backend/wasm/index.js';
import { crossEntropyComposite, rnd } from '../helpers.js';

type Pair = readonly [string, (x: Tensor) => Tensor, (x: Tensor) => Tensor];
const pairs: Pair[] = [
  ['softmax (last)', (x) => x.softmax(-1), (x) => softmaxComposite(x, -1)],
  ['softmax (first)', (x) => x.softmax(0), (x) => softmaxComposite(x, 0)],
  ['logSoftmax (last)', (x) => x.logSoftmax(-1), (x) => logSoftmaxComposite(x, -1)],
  ['logSoftmax (middle)', (x) => x.logSoftmax(1), (x) => logSoftmaxComposite(x, 1)],
  ['gelu (erf)', (x) => gelu(x), (x) => geluComposite(x)],
  ['gelu (tanh)', (x) => gelu(x, 'tanh'), (x) => geluComposite(x, 'tanh')],
  [
    'crossEntropy',
    (x) => crossEntropy(x.reshape([-1, x.shape.at(-1)!]), [0, 2, 1, 1, 2, 0].slice(0, x.size / x.shape.at(-1)!)),
    (x) =>
      crossEntropyComposite(x.reshape([-1, x.shape.at(-1)!]), [0, 2, 1, 1, 2, 0].slice(0, x.size / x.shape.at(-1)!)),
  ],
  [
    'crossEntropy (label smoothing)',
    (x) =>
      crossEntropy(x.reshape([-1, x.shape.at(-1)!]), [1, 0, 2, 2, 1, 0].slice(0, x.size / x.shape.at(-1)!), {
        labelSmoothing: 0.2,
      }),
    (x) =>
      crossEntropyComposite(x.reshape([-1, x.shape.at(-1)!]), [1, 0, 2, 2, 1, 0].slice(0, x.size / x.shape.at(-1)!), {
        labelSmoothing: 0.2,
      }),
  ],
];
const closeArr = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(b[i]!)));
};

describe('fused primitives equal their composites (float64: value, gradient, Hessian-vector product)', () => {
  for (const [name, fused, comp] of pairs) {
    it(name, () => {
      for (const [shape, seed] of [
        [[2, 3], 1],
        [[3, 2, 3], 2],
      ] as const) {
        const x = rnd(shape, seed);
        closeArr(fused(x).data, comp(x).data, 1e-14);
        const g1 = grad((t: Tensor) => fused(t).pow(2).sum())(x) as Tensor;
        const g2 = grad((t: Tensor) => comp(t).pow(2).sum())(x) as Tensor;
        closeArr(g1.data, g2.data, 1e-13);
        // second order: gradient of (∇f · v)
        const v = rnd(shape, seed + 10);
        const h = (f: (t: Tensor) => Tensor) =>
          grad((t: Tensor) =>
            (grad((u: Tensor) => f(u).pow(2).sum(), { createGraph: true })(t) as Tensor).mul(v).sum(),
          )(x) as Tensor;
        closeArr(h(fused).data, h(comp).data, 1e-12);
      }
    });
  }
  it('refuses bad arguments with the op named', () => {
    expect(() => gelu(tensor([1]), 'fast' as 'tanh')).toThrow(/gelu: approximate must be 'none' or 'tanh'/);
    expect(() => tensor([1, 2], { dtype: 'int32' }).softmax()).toThrow(/softmax: expected a float tensor/);
  });
  it('keeps -inf entries and all -inf rows as the composite does', () => {
    const x = tensor(
      [
        [-Infinity, 0, 1],
        [2, -Infinity, -Infinity],
      ],
      { dtype: 'float64' },
    );
    closeArr(x.softmax(1).data, softmaxComposite(x, 1).data, 1e-15);
    const a = Array.from(x.logSoftmax(1).data),
      b = Array.from(logSoftmaxComposite(x, 1).data);
    a.forEach((v, i) => (Number.isFinite(b[i]) ? expect(v).toBeCloseTo(b[i]!, 14) : expect(v).toBe(b[i])));
    const all = tensor([[-Infinity, -Infinity]], { dtype: 'float64' });
    expect(Array.from(all.logSoftmax(1).data)).toEqual(Array.from(logSoftmaxComposite(all, 1).data));
  });
});

describe('float32 WebAssembly kernels vs the float64 reference kernels', () => {
  beforeAll(() => W.forceWasm(true));
  afterAll(() => W.forceWasm(false));
  const f32 = (n: number, seed: number, scale: number): Float32Array =>
    Float32Array.from(rnd([n], seed).data, (v) => v * scale);
  const ref = (f: (out: Float64Array) => void, n: number): Float64Array => {
    const o = new Float64Array(n);
    f(o);
    return o;
  };
  const within = (got: Float32Array, want: Float64Array, atol: number, rtol: number): void => {
    for (let i = 0; i < got.length; i++) {
      const d = Math.abs(got[i]! - want[i]!);
      if (got[i] !== want[i] && !(d <= atol + rtol * Math.abs(want[i]!)))
        expect.fail(`at ${i}: wasm ${got[i]} vs reference ${want[i]}`);
    }
  };
  it('gelu and geluBackward, both forms, tails and extremes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.nat(),
        fc.constantFrom(1, 4, 12),
        fc.boolean(),
        (n, seed, scale, tanh) => {
          const x = f32(n, seed, scale),
            g = f32(n, seed + 1, 1);
          const x64 = Float64Array.from(x),
            g64 = Float64Array.from(g);
          const y = new Float32Array(n),
            dy = new Float32Array(n);
          expect(W.gelu(x, null, y, tanh)).toBe(true);
          expect(W.gelu(x, g, dy, tanh)).toBe(true);
          within(
            y,
            ref((o) => F.gelu(x64, tanh, o), n),
            1e-30,
            2e-5,
          ); // deep tails: x² rounds in float32
          within(
            dy,
            ref((o) => F.geluBackward(g64, x64, tanh, o), n),
            2e-7,
            4e-6,
          );
        },
      ),
      { numRuns: 60, seed: 5 },
    );
    const ext = Float32Array.from([0, -0, 1e-20, -1e-20, 5, -5, 9, -9, 30, -30, 100, -100, Infinity, NaN]);
    for (const tanh of [false, true]) {
      const y = new Float32Array(ext.length);
      W.gelu(ext, null, y, tanh);
      const want = ref((o) => F.gelu(Float64Array.from(ext), tanh, o), ext.length);
      within(y.subarray(0, 13), want.subarray(0, 13), 1e-37, 2e-5);
      expect(Number.isNaN(y[13]!)).toBe(true);
    }
  });
  it('softmax and logSoftmax rows (last axis), odd widths and large magnitudes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 37 }),
        fc.nat(),
        fc.constantFrom(1, 30),
        (R, C, seed, scale) => {
          const x = f32(R * C, seed, scale),
            x64 = Float64Array.from(x);
          for (const log of [false, true]) {
            const y = new Float32Array(R * C);
            expect(W.softmax(x, [R, C], 1, y, log)).toBe(true);
            const want = ref((o) => (log ? F.logSoftmax : F.softmax)(x64, [R, C], 1, o), R * C);
            within(y, want, log ? 4e-6 * scale : 1e-7, 4e-6);
          }
        },
      ),
      { numRuns: 60, seed: 6 },
    );
    expect(W.softmax(new Float32Array(6), [2, 3], 0, new Float32Array(6), false)).toBe(false);
  });
});
