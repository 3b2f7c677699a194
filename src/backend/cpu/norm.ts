/**
 * Reference kernels of the layerNorm primitive (ops/norm-fused.ts), in float64 arithmetic whatever
 * the storage: the oracle of the WebAssembly kernels (wasm/norm.ts), the same math as the composite.
 */
import type { TypedArray } from '../../dtype.js';

/** Mean (0 for rms) and 1/√(var + eps) of x[o, o + n). */
function stats(x: TypedArray, o: number, n: number, eps: number, rms: boolean): [number, number] {
  let mu = 0,
    q = 0;
  if (!rms) {
    for (let j = 0; j < n; j++) mu += x[o + j]!;
    mu /= n;
  }
  for (let j = 0; j < n; j++) q += (x[o + j]! - mu) ** 2;
  return [mu, 1 / Math.sqrt(q / n + eps)];
}

export function layerNorm(
  x: TypedArray,
  w: TypedArray | null,
  b: TypedArray | null,
  n: number,
  eps: number,
  rms: boolean,
  out: TypedArray,
): void {
  for (let o = 0; n > 0 && o < x.length; o += n) {
    const [mu, r] = stats(x, o, n, eps, rms);
    for (let j = 0; j < n; j++) out[o + j] = (x[o + j]! - mu) * r * (w ? w[j]! : 1) + (b ? b[j]! : 0);
  }
}
export function layerNormBackward(
  g: TypedArray,
  x: TypedArray,
  n: number,
  eps: number,
  rms: boolean,
  out: TypedArray,
): void {
  for (let o = 0; n > 0 && o < x.length; o += n) {
    const [mu, r] = stats(x, o, n, eps, rms);
    let gm = 0,
      hm = 0;
    for (let j = 0; j < n; j++) {
      gm += g[o + j]!;
      hm += g[o + j]! * (x[o + j]! - mu) * r;
    }
    gm = rms ? 0 : gm / n;
    hm /= n;
    for (let j = 0; j < n; j++) out[o + j] = r * (g[o + j]! - gm - (x[o + j]! - mu) * r * hm);
  }
}
