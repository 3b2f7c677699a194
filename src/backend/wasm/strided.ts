/**
 * The strided copy behind permute, expand and slice (float32 or int32, bit for bit) in WebAssembly:
 * short contiguous runs (a head's 16 values in an attention permute) cost a JavaScript loop several
 * nanoseconds a value; the SIMD loop copies them 4 at a time. Long runs stay in JavaScript
 * (`TypedArray.set` is a memcpy), as do float64 and tiny copies.
 */
import { Buf, type BufferView } from '../buffer.js';
import { sizeOf, type Shape } from '../../shape.js';
import { alloc, F32, f32Index, I32, K, reset, SCRATCH_LIMIT } from './runtime.js';
import { limits, residentAddress, residentBlock, settle } from './storage.js';

interface StridedExports {
  stridedCopy4(x: number, o: number, d0: number, d1: number, d2: number, n: number, ...s: number[]): void;
  stridedWrite4(x: number, o: number, d0: number, d1: number, d2: number, n: number, ...s: number[]): void;
  zero(p: number, bytes: number): void;
}
const KS = K as unknown as StridedExports;

/**
 * out = x read through the loops [d0, d1, d2, n, s0, s1, s2, s3] (element strides) from `base`;
 * false (nothing written) when the JavaScript copy should run instead.
 */
export function stridedCopy(
  x: Float32Array | Int32Array,
  base: number,
  loops: readonly number[],
  out: Float32Array | Int32Array,
  force = false,
): boolean {
  const [d0, d1, d2, n, s0, s1, s2, s3] = loops as [number, number, number, number, number, number, number, number];
  if (out.length === 0) return true;
  if (!force && (n >= 256 || out.length < 2048)) return false;
  // the span of x the loops read, from base
  const hi = (d0 - 1) * s0 + (d1 - 1) * s1 + (d2 - 1) * s2 + (n - 1) * s3;
  if ((hi + 1 + out.length) * 4 > SCRATCH_LIMIT || s0 < 0 || s1 < 0 || s2 < 0 || s3 < 0) return false;
  reset();
  const px = alloc(hi + 1),
    po = alloc(out.length);
  const bits = (a: Float32Array | Int32Array): Int32Array => new Int32Array(a.buffer, a.byteOffset, a.length);
  I32.set(bits(x).subarray(base, base + hi + 1), px / 4);
  KS.stridedCopy4(px, po, d0, d1, d2, n, s0, s1, s2, s3);
  bits(out).set(I32.subarray(po / 4, po / 4 + out.length));
  return true;
}

/**
 * In place over x (float32, in a resident block), into a new resident block of shape `os`: x read through
 * the loops from `base` (permute, expand, slice), or with `scatter` the block zeroed and x written through
 * the loops from `base` (sliceScatter). Null when x is not resident or a stride is negative.
 */
export function stridedResident(
  x: BufferView,
  base: number,
  loops: readonly number[],
  os: Shape,
  scatter = false,
): Buf | null {
  const px = residentAddress(x),
    n = sizeOf(os);
  if (px < 0 || n === 0 || !limits.resident) return null;
  const [d0, d1, d2, m, s0, s1, s2, s3] = loops as [number, number, number, number, number, number, number, number];
  if (s0 < 0 || s1 < 0 || s2 < 0 || s3 < 0) return null;
  const { buf, p } = residentBlock(n);
  if (scatter) {
    KS.zero(p, n * 4); // F32.fill on a shared memory measured 8× slower (33 against 4 µs for 98k values)
    KS.stridedWrite4(px, p + base * 4, d0, d1, d2, m, s0, s1, s2, s3);
  } else KS.stridedCopy4(px + base * 4, p, d0, d1, d2, m, s0, s1, s2, s3);
  settle();
  return new Buf(buf, os, 'float32');
}
