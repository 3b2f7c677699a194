/**
 * WebAssembly SIMD kernels of the layerNorm primitive (assembly/norm.ts) for float32 rows:
 * layer normalisation (or RMS normalisation) with an optional affine, and its input gradient.
 * Inputs already resident in WebAssembly memory (storage.ts) are read in place, host inputs are
 * streamed through the scratch in L2-sized chunks; the result is a new resident block where
 * resident storage applies (as in resident.ts), else a host array.
 */
import { Buf, hostBuf, type BufferView } from '../buffer.js';
import { CHUNK, minElements, wasmForced } from './index.js';
import { alloc, F32, f32Index, K, reset, SCRATCH_LIMIT } from './runtime.js';
import { limits, residentAddress, residentBlock, settle, srcOf } from './storage.js';

interface NormExports {
  layerNormRows(x: number, w: number, b: number, o: number, R: number, C: number, eps: number, rms: number): void;
  layerNormBackRows(g: number, x: number, o: number, R: number, C: number, eps: number, rms: number): void;
}
const KN = K as unknown as NormExports;

/** Whether the result is resident: residency on, not tiny, and a large result or a resident input. */
function residentOut(n: number, inputs: readonly BufferView[]): boolean {
  if (!limits.resident || n === 0) return false;
  if (wasmForced()) return true;
  if (n < minElements) return false;
  return n >= limits.minResidentElements || inputs.some((x) => residentAddress(x) >= 0);
}
/** A whole small host input (a gain or bias row) copied to scratch; a resident one: its address. */
function whole(x: BufferView): number {
  const s = srcOf(x);
  if (typeof s === 'number') return s;
  const q = alloc(x.size);
  F32.set(s, f32Index(q));
  return q;
}

/** Streams rows of `n` values of `inputs` (in place when resident) through `run(ptrs, out, rows)`. */
function rows(
  inputs: readonly BufferView[],
  n: number,
  run: (ptrs: readonly number[], po: number, rows: number) => void,
): Buf | null {
  const x = inputs[inputs.length - 1]!,
    total = x.size;
  if (total === 0 || n === 0) return null;
  if ((inputs.length + 1) * n * 4 > SCRATCH_LIMIT) return null;
  const R = total / n,
    per = Math.max(1, Math.floor(CHUNK / n)),
    c = Math.min(R, per) * n;
  const srcs = inputs.map(srcOf);
  const scratch = srcs.map((s) => (typeof s === 'number' ? 0 : alloc(c)));
  const res = residentOut(total, inputs) ? residentBlock(total) : null;
  const host = res ? null : hostBuf(x.shape, 'float32'),
    po = res ? 0 : alloc(c);
  for (let r0 = 0; r0 < R; r0 += per) {
    const k = Math.min(per, R - r0),
      s = r0 * n,
      len = k * n;
    const ptrs = srcs.map((a, i) => {
      if (typeof a === 'number') return a + s * 4;
      F32.set(a.subarray(s, s + len), f32Index(scratch[i]!));
      return scratch[i]!;
    });
    run(ptrs, res ? res.p + s * 4 : po, k);
    if (host) (host.data as Float32Array).set(F32.subarray(f32Index(po), f32Index(po) + len), s);
  }
  if (!res) return host;
  settle();
  return new Buf(res.buf, x.shape, 'float32');
}

/** normalise(x) per row of n (layer or RMS), then · w + b where given. */
export function layerNorm(
  x: BufferView,
  w: BufferView | null,
  b: BufferView | null,
  n: number,
  eps: number,
  rms: boolean,
): Buf | null {
  reset();
  const pw = w ? whole(w) : 0,
    pb = b ? whole(b) : 0;
  return rows([x], n, ([px], po, k) => KN.layerNormRows(px!, pw, pb, po, k, n, eps, rms ? 1 : 0));
}

/** Jᵀg of the normalisation (without affine) at x, per row of n. */
export function layerNormBackward(g: BufferView, x: BufferView, n: number, eps: number, rms: boolean): Buf | null {
  reset();
  return rows([g, x], n, ([pg, px], po, k) => KN.layerNormBackRows(pg!, px!, po, k, n, eps, rms ? 1 : 0));
}
