/**
 * Reference kernels of the fused primitives (ops/fused.ts), in float64 arithmetic whatever the
 * storage: the oracle for the WebAssembly kernels, and the same math as the composites.
 */
import type { TypedArray } from '../../dtype.js';
import { sizeOf, type Shape } from '../../shape.js';
import { erf } from './kernels.js';

/** Calls f(base, stride, n) for every line along `axis`. */
function lines(shape: Shape, axis: number, f: (base: number, stride: number, n: number) => void): void {
  const n = shape[axis]!,
    inner = sizeOf(shape.slice(axis + 1)),
    outer = sizeOf(shape.slice(0, axis));
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) f(o * n * inner + i, inner, n);
}
/** Max along a line, with an all −∞ (or +∞) line shifted by 0 so it stays finite, as logSumExp does. */
function lineMax(x: TypedArray, b: number, s: number, n: number): number {
  let m = -Infinity;
  for (let j = 0; j < n; j++) {
    const v = x[b + j * s]!;
    if (v > m || v !== v) m = v;
  }
  return m === Infinity || m === -Infinity ? 0 : m;
}

export function softmax(x: TypedArray, shape: Shape, axis: number, out: TypedArray): void {
  lines(shape, axis, (b, s, n) => {
    const m = lineMax(x, b, s, n);
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const e = Math.exp(x[b + j * s]! - m);
      out[b + j * s] = e;
      sum += e;
    }
    for (let j = 0; j < n; j++) out[b + j * s] = out[b + j * s]! / sum;
  });
}
export function logSoftmax(x: TypedArray, shape: Shape, axis: number, out: TypedArray): void {
  lines(shape, axis, (b, s, n) => {
    const m = lineMax(x, b, s, n);
    let sum = 0;
    for (let j = 0; j < n; j++) sum += Math.exp(x[b + j * s]! - m);
    const lse = m + Math.log(sum);
    for (let j = 0; j < n; j++) out[b + j * s] = x[b + j * s]! - lse;
  });
}
/** out[i] = logSumExp(x[i, :]) − x[i, t[i]] for logits [N, C]. */
export function softmaxCrossEntropy(x: TypedArray, n: number, c: number, t: TypedArray, out: TypedArray): void {
  for (let i = 0; i < n; i++) {
    const b = i * c;
    const m = lineMax(x, b, 1, c);
    let sum = 0;
    for (let j = 0; j < c; j++) sum += Math.exp(x[b + j]! - m);
    out[i] = m + Math.log(sum) - x[b + t[i]!]!;
  }
}

const C = Math.sqrt(2 / Math.PI),
  A = 0.044715,
  INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
/** erfc(a) for a ≥ 0: 1 − erf(a) below 2.5, the continued fraction above (no cancellation in the tail). */
function erfcPos(a: number): number {
  if (a < 2.5) return 1 - erf(a);
  let f = a;
  for (let k = 60; k >= 1; k--) f = a + k / 2 / f;
  return Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
}
/** Φ(x) = ½(1 + erf(x/√2)) = ½ erfc(−x/√2), relative accuracy kept for x ≪ 0. */
const Phi = (x: number): number =>
  x >= 0 || x !== x ? 0.5 * (1 + erf(x * Math.SQRT1_2)) : 0.5 * erfcPos(-x * Math.SQRT1_2);
/** σ(2u) = ½(1 + tanh u), u = √(2/π)(x + a x³), written without cancellation. */
const sig2u = (x: number): number => 1 / (1 + Math.exp(-2 * C * (x + A * x * x * x)));

export function gelu(x: TypedArray, tanh: boolean, out: TypedArray): void {
  const n = out.length;
  if (tanh)
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      out[i] = v * sig2u(v);
    }
  else
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      out[i] = v * Phi(v);
    }
}
/** out = g · GELU′(x): Φ(x) + x φ(x), or s + 2x s(1 − s) u′ with s = σ(2u). */
export function geluBackward(g: TypedArray, x: TypedArray, tanh: boolean, out: TypedArray): void {
  const n = out.length;
  if (tanh) {
    for (let i = 0; i < n; i++) {
      const v = x[i]!,
        s = sig2u(v);
      out[i] = g[i]! * (s + 2 * v * s * (1 - s) * C * (1 + 3 * A * v * v));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      out[i] = g[i]! * (Phi(v) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v));
    }
  }
}
