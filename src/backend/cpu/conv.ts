/**
 * Convolution and pooling kernels over plain typed arrays (NCHW, row-major). float32 goes to the
 * WebAssembly kernels of ../wasm/conv.ts when they are on; what follows each such call is the
 * TypeScript reference they are tested against: im2col + the packed GEMM, the column matrix built
 * once per call and multiplied by the weight through the matmul kernel's transpose flags, so no
 * transposed copy of anything is made.
 */
import type { TypedArray } from '../../dtype.js';
import type { Shape } from '../../shape.js';
import type { ConvGeom, PoolGeom } from '../backend.js';
import * as K from './kernels.js';
import { wasmEnabled } from './mode.js';
import * as W from '../wasm/index.js';
import * as WC from '../wasm/conv.js';

export type { ConvGeom, PoolGeom } from '../backend.js';

type Ctor = new (n: number) => TypedArray;
const make = (like: TypedArray, n: number): TypedArray => new (like.constructor as Ctor)(n);
/** Whether the WebAssembly kernels (../wasm/conv.ts, tested against these) take the call: float32 and enabled. */
const wasm32 = (...a: (TypedArray | null)[]): boolean =>
  wasmEnabled() && a.every((v) => v === null || v instanceof Float32Array);
type F = Float32Array;

/** out = op(a) @ op(b) with broadcast batch dims, through the fastest kernel that takes it. */
export function gemm(
  a: TypedArray,
  as: Shape,
  b: TypedArray,
  bs: Shape,
  out: TypedArray,
  os: Shape,
  ta: boolean,
  tb: boolean,
): void {
  const f32 = a instanceof Float32Array && b instanceof Float32Array && out instanceof Float32Array;
  if (f32 && wasmEnabled() && W.matmul(a, as, b, bs, out, os, ta, tb)) return;
  K.matmul(a, as, b, bs, out, os, ta, tb);
}

/** col [N, C·kh·kw, Ho·Wo] from x [N, C, H, W]; zero where the window is off the input. */
export function im2col(x: TypedArray, g: ConvGeom, col: TypedArray): void {
  const { n: N, c: C, h: H, w: Wd, kh, kw, ho, wo, sh, sw, ph, pw, dh, dw } = g;
  const L = ho * wo;
  let r = 0;
  for (let b = 0; b < N; b++) {
    for (let c = 0; c < C; c++) {
      const xb = (b * C + c) * H * Wd;
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++, r++) {
          const base = r * L;
          // Output columns whose input column lies inside [0, W).
          const off = j * dw - pw;
          const lo = off >= 0 ? 0 : Math.min(wo, Math.ceil(-off / sw));
          const hi = Math.max(lo, Math.min(wo, Math.floor((Wd - 1 - off) / sw) + 1));
          for (let oh = 0; oh < ho; oh++) {
            const ih = oh * sh - ph + i * dh;
            const o = base + oh * wo;
            if (ih < 0 || ih >= H) {
              col.fill(0, o, o + wo);
              continue;
            }
            const xr = xb + ih * Wd + off;
            for (let ow = 0; ow < lo; ow++) col[o + ow] = 0;
            if (sw === 1) for (let ow = lo; ow < hi; ow++) col[o + ow] = x[xr + ow]!;
            else for (let ow = lo; ow < hi; ow++) col[o + ow] = x[xr + ow * sw]!;
            for (let ow = hi; ow < wo; ow++) col[o + ow] = 0;
          }
        }
      }
    }
  }
}

/** The adjoint of im2col: x [N, C, H, W] (zeroed here) += col scattered back to the input positions. */
export function col2im(col: TypedArray, g: ConvGeom, x: TypedArray): void {
  const { n: N, c: C, h: H, w: Wd, kh, kw, ho, wo, sh, sw, ph, pw, dh, dw } = g;
  const L = ho * wo;
  x.fill(0);
  let r = 0;
  for (let b = 0; b < N; b++) {
    for (let c = 0; c < C; c++) {
      const xb = (b * C + c) * H * Wd;
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++, r++) {
          const base = r * L;
          const off = j * dw - pw;
          const lo = off >= 0 ? 0 : Math.min(wo, Math.ceil(-off / sw));
          const hi = Math.max(lo, Math.min(wo, Math.floor((Wd - 1 - off) / sw) + 1));
          for (let oh = 0; oh < ho; oh++) {
            const ih = oh * sh - ph + i * dh;
            if (ih < 0 || ih >= H) continue;
            const o = base + oh * wo;
            const xr = xb + ih * Wd + off;
            for (let ow = lo; ow < hi; ow++) x[xr + ow * sw] = x[xr + ow * sw]! + col[o + ow]!;
          }
        }
      }
    }
  }
}

/** y [N, O, Ho, Wo] = conv(x, w [O, C/groups, kh, kw]) + bias[O]; `keep` receives the im2col matrix. */
export function conv2d(
  x: TypedArray,
  w: TypedArray,
  g: ConvGeom,
  o: number,
  bias: TypedArray | null = null,
  keep: ((col: TypedArray) => void) | null = null,
): TypedArray {
  const fast = wasm32(x, w, bias) ? WC.conv2d(x as F, w as F, bias as F | null, g, o) : null;
  if (fast) return fast;
  const G = g.groups,
    kg = (g.c / G) * g.kh * g.kw,
    L = g.ho * g.wo;
  const col = make(x, g.n * g.c * g.kh * g.kw * L);
  im2col(x, g, col);
  const y = make(x, g.n * o * L);
  // [1, G, O/G, kg] @ [N, G, kg, L] → [N, G, O/G, L]
  gemm(w, [1, G, o / G, kg], col, [g.n, G, kg, L], y, [g.n, G, o / G, L], false, false);
  if (bias) {
    for (let b = 0, r = 0; b < g.n; b++) {
      for (let c = 0; c < o; c++, r += L) {
        const v = bias[c]!;
        for (let i = r; i < r + L; i++) y[i] = y[i]! + v;
      }
    }
  }
  keep?.(col);
  return y;
}

/** x [N, C, H, W] = convᵀ(y [N, O, Ho, Wo], w): the adjoint of conv2d in its input. */
export function conv2dInput(y: TypedArray, w: TypedArray, g: ConvGeom, o: number): TypedArray {
  const fast = wasm32(y, w) ? WC.conv2dInput(y as F, w as F, g, o) : null;
  if (fast) return fast;
  const G = g.groups,
    kg = (g.c / G) * g.kh * g.kw,
    L = g.ho * g.wo;
  const col = make(y, g.n * g.c * g.kh * g.kw * L);
  // [1, G, kg, O/G] (w read transposed) @ [N, G, O/G, L] → [N, G, kg, L]
  gemm(w, [1, G, o / G, kg], y, [g.n, G, o / G, L], col, [g.n, G, kg, L], true, false);
  const x = make(y, g.n * g.c * g.h * g.w);
  col2im(col, g, x);
  return x;
}

/** gw [O, C/groups, kh, kw] = Σₙ gy[n] · im2col(x)[n]ᵀ: the adjoint of conv2d in its weight. */
export function conv2dWeight(
  x: TypedArray,
  gy: TypedArray,
  g: ConvGeom,
  o: number,
  cached: TypedArray | null = null,
): TypedArray {
  const fast = wasm32(x, gy) ? WC.conv2dWeight(x as F, gy as F, g, o) : null;
  if (fast) return fast;
  const G = g.groups,
    kg = (g.c / G) * g.kh * g.kw,
    L = g.ho * g.wo;
  let col = cached;
  if (col === null || col.length !== g.n * g.c * g.kh * g.kw * L) {
    col = make(x, g.n * g.c * g.kh * g.kw * L);
    im2col(x, g, col);
  }
  const per = make(x, g.n * o * kg);
  // [N, G, O/G, L] @ [N, G, kg, L]ᵀ → [N, G, O/G, kg], then the sum over N.
  gemm(gy, [g.n, G, o / G, L], col, [g.n, G, kg, L], per, [g.n, G, o / G, kg], false, true);
  if (g.n === 1) return per;
  const gw = per.subarray(0, o * kg);
  const m = o * kg;
  for (let b = 1; b < g.n; b++) {
    const off = b * m;
    for (let i = 0; i < m; i++) gw[i] = gw[i]! + per[off + i]!;
  }
  return gw.slice();
}

/**
 * Max pooling: the flat index (within its H·W plane) of each window's maximum, first on ties,
 * and NaN-propagating as PyTorch (a NaN wins). Padding never wins.
 */
export function maxPoolIndices(x: TypedArray, g: PoolGeom): Int32Array {
  const fast = wasm32(x) ? WC.maxPool(x as F, g) : null;
  if (fast) pooled.set(fast.idx, { x, val: fast.val });
  if (fast) return fast.idx;
  const { planes, h: H, w: Wd, kh, kw, ho, wo, sh, sw, ph, pw, dh, dw } = g;
  const out = new Int32Array(planes * ho * wo);
  let k = 0;
  for (let p = 0; p < planes; p++) {
    const xb = p * H * Wd;
    for (let oh = 0; oh < ho; oh++) {
      const h0 = oh * sh - ph;
      for (let ow = 0; ow < wo; ow++, k++) {
        const w0 = ow * sw - pw;
        let best = -1,
          bv = -Infinity;
        if (h0 >= 0 && w0 >= 0 && h0 + (kh - 1) * dh < H && w0 + (kw - 1) * dw < Wd) {
          // Window inside the plane: no bounds checks.
          for (let i = 0; i < kh; i++) {
            const r = (h0 + i * dh) * Wd + w0;
            for (let j = 0; j < kw; j++) {
              const q = r + j * dw,
                v = x[xb + q]!;
              if (best < 0 || v > bv || (v !== v && bv === bv)) {
                best = q;
                bv = v;
              }
            }
          }
          out[k] = best;
          continue;
        }
        for (let i = 0; i < kh; i++) {
          const ih = h0 + i * dh;
          if (ih < 0 || ih >= H) continue;
          for (let j = 0; j < kw; j++) {
            const iw = w0 + j * dw;
            if (iw < 0 || iw >= Wd) continue;
            const v = x[xb + ih * Wd + iw]!;
            if (best < 0 || v > bv || (v !== v && bv === bv)) {
              best = ih * Wd + iw;
              bv = v;
            }
          }
        }
        out[k] = best;
      }
    }
  }
  return out;
}

/** The winners' values of a WebAssembly max pool by its index array, for the gather that follows it (once). */
const pooled = new WeakMap<Int32Array, { x: TypedArray; val: Float32Array }>();
/** out[p, k] = x[p, idx[p, k]] over planes of `hw` values (the values at pooling winners). */
export function planeGather(x: TypedArray, idx: Int32Array, hw: number, per: number, out: TypedArray): void {
  const hit = pooled.get(idx);
  if (hit) pooled.delete(idx);
  if (hit && hit.x === x && hit.val.length === out.length) {
    out.set(hit.val);
    return;
  }
  if (wasm32(x, out) && WC.planeGather(x as F, idx, hw, per, out as F)) return;
  const planes = idx.length / per;
  for (let p = 0, k = 0; p < planes; p++) {
    const b = p * hw;
    for (let j = 0; j < per; j++, k++) out[k] = x[b + idx[k]!]!;
  }
}
/** The adjoint of planeGather: out (zeroed) [p, idx[p, k]] += g[p, k]. */
export function planeScatter(g: TypedArray, idx: Int32Array, hw: number, per: number, out: TypedArray): void {
  if (wasm32(g, out) && WC.planeScatter(g as F, idx, hw, per, out as F)) return;
  const planes = idx.length / per;
  out.fill(0);
  for (let p = 0, k = 0; p < planes; p++) {
    const b = p * hw;
    for (let j = 0; j < per; j++, k++) {
      const q = b + idx[k]!;
      out[q] = out[q]! + g[k]!;
    }
  }
}
