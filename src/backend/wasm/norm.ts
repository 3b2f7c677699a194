/**
 * WebAssembly SIMD kernels of the layerNorm primitive (assembly/norm.ts) for float32 rows:
 * layer normalisation (or RMS normalisation) with an optional affine, and its input gradient.
 * Rows are streamed through the scratch in L2-sized chunks, as the other streaming kernels.
 */
import { alloc, F32, f32Index, K, reset, SCRATCH_LIMIT } from './runtime.js';

interface NormExports {
  layerNormRows(x: number, w: number, b: number, o: number, R: number, C: number, eps: number, rms: number): void;
  layerNormBackRows(g: number, x: number, o: number, R: number, C: number, eps: number, rms: number): void;
}
const KN = K as unknown as NormExports;
const CHUNK = 16384;

const put = (src: Float32Array, p: number): void => F32.set(src, f32Index(p));
const view = (p: number, n: number): Float32Array => F32.subarray(f32Index(p), f32Index(p) + n);

/** Streams rows of `n` values: `inputs` are copied in per chunk, `run(ptrs, out, rows)` fills the output. */
function rows(
  inputs: readonly Float32Array[],
  out: Float32Array,
  n: number,
  run: (ptrs: readonly number[], po: number, rows: number) => void,
): boolean {
  const total = out.length;
  if (total === 0 || n === 0) return total === 0;
  if ((inputs.length + 1) * n * 4 > SCRATCH_LIMIT) return false;
  const R = total / n,
    per = Math.max(1, Math.floor(CHUNK / n)),
    c = Math.min(R, per) * n;
  const ptrs = inputs.map(() => alloc(c)),
    po = alloc(c);
  for (let r0 = 0; r0 < R; r0 += per) {
    const k = Math.min(per, R - r0),
      s = r0 * n,
      len = k * n;
    inputs.forEach((a, i) => put(a.subarray(s, s + len), ptrs[i]!));
    run(ptrs, po, k);
    out.set(view(po, len), s);
  }
  return true;
}

/** out = normalise(x) per row of n (layer or RMS), then · w + b where given. */
export function layerNorm(
  x: Float32Array,
  w: Float32Array | null,
  b: Float32Array | null,
  out: Float32Array,
  n: number,
  eps: number,
  rms: boolean,
): boolean {
  reset();
  const pw = w ? alloc(n) : 0,
    pb = b ? alloc(n) : 0;
  if (w) put(w, pw);
  if (b) put(b, pb);
  return rows([x], out, n, ([px], po, k) => KN.layerNormRows(px!, pw, pb, po, k, n, eps, rms ? 1 : 0));
}

/** out = Jᵀg of the normalisation (without affine) at x, per row of n. */
export function layerNormBackward(
  g: Float32Array,
  x: Float32Array,
  out: Float32Array,
  n: number,
  eps: number,
  rms: boolean,
): boolean {
  reset();
  return rows([g, x], out, n, ([pg, px], po, k) => KN.layerNormBackRows(pg!, px!, po, k, n, eps, rms ? 1 : 0));
}
