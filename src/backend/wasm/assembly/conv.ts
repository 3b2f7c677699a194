// Convolution and pooling helpers (issue 12): im2col / col2im into and out of WebAssembly memory, so the
// column matrix is built, multiplied (by kernels.ts's gemm) and scattered back without leaving it;
// the bias epilogue, the batched transpose the weight gradient needs, and max pooling (winner index and
// value in one pass) with its scatter-add adjoint. Same geometry and semantics as src/backend/cpu/conv.ts.
// Pointers are byte offsets chosen by the JS side (src/backend/wasm/conv.ts).
import { gemm } from './kernels';

/** dst[0, n) = src[0, n) (float32), four lanes at a time. */
@inline function copyRun(dst: usize, src: usize, n: i32): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) v128.store(dst + <usize>k * 4, v128.load(src + <usize>k * 4));
  for (; k < n; k++) store<f32>(dst + <usize>k * 4, load<f32>(src + <usize>k * 4));
}
/** dst[0, n) += src[0, n) (float32). */
@inline function addRun(dst: usize, src: usize, n: i32): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const q = <usize>k * 4;
    v128.store(dst + q, f32x4.add(v128.load(dst + q), v128.load(src + q)));
  }
  for (; k < n; k++) {
    const q = <usize>k * 4;
    store<f32>(dst + q, load<f32>(dst + q) + load<f32>(src + q));
  }
}
/** First output column whose input column (ow·s + off) is ≥ 0. */
@inline function loCol(off: i32, s: i32, wo: i32): i32 {
  return off >= 0 ? 0 : min(wo, (-off + s - 1) / s);
}
/** One past the last output column whose input column is < W. */
@inline function hiCol(off: i32, s: i32, wo: i32, W: i32, lo: i32): i32 {
  const span = W - 1 - off;
  return span < 0 ? lo : max(lo, min(wo, span / s + 1));
}

/**
 * im2col of one image x [C, H, W]: row r = (c, i, j) of length ho·wo at col + r·ldc floats,
 * zero where the window is off the input.
 */
export function im2col(
  x: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32, ho: i32, wo: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, col: usize, ldc: i32,
): void {
  let r = 0;
  for (let c = 0; c < C; c++) {
    const xc = x + <usize>c * H * W * 4;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++, r++) {
        const row = col + <usize>r * ldc * 4;
        const off = j * dw - pw;
        const lo = loCol(off, sw, wo), hi = hiCol(off, sw, wo, W, lo);
        for (let oh = 0; oh < ho; oh++) {
          const ih = oh * sh - ph + i * dh;
          const o = row + <usize>oh * wo * 4;
          if (ih < 0 || ih >= H) {
            memory.fill(o, 0, <usize>wo * 4);
            continue;
          }
          const xr = xc + <usize>(ih * W) * 4;
          for (let ow = 0; ow < lo; ow++) store<f32>(o + <usize>ow * 4, 0);
          if (sw == 1) copyRun(o + <usize>lo * 4, xr + <usize>(lo + off) * 4, hi - lo);
          else for (let ow = lo; ow < hi; ow++) store<f32>(o + <usize>ow * 4, load<f32>(xr + <usize>(ow * sw + off) * 4));
          for (let ow = hi; ow < wo; ow++) store<f32>(o + <usize>ow * 4, 0);
        }
      }
    }
  }
}

/** The adjoint of im2col for one image: x [C, H, W] (zeroed here) += the rows of col scattered back. */
export function col2im(
  col: usize, ldc: i32, C: i32, H: i32, W: i32, kh: i32, kw: i32, ho: i32, wo: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, x: usize,
): void {
  memory.fill(x, 0, <usize>C * H * W * 4);
  let r = 0;
  for (let c = 0; c < C; c++) {
    const xc = x + <usize>c * H * W * 4;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++, r++) {
        const row = col + <usize>r * ldc * 4;
        const off = j * dw - pw;
        const lo = loCol(off, sw, wo), hi = hiCol(off, sw, wo, W, lo);
        for (let oh = 0; oh < ho; oh++) {
          const ih = oh * sh - ph + i * dh;
          if (ih < 0 || ih >= H) continue;
          const o = row + <usize>oh * wo * 4;
          const xr = xc + <usize>(ih * W) * 4;
          if (sw == 1) addRun(xr + <usize>(lo + off) * 4, o + <usize>lo * 4, hi - lo);
          else {
            for (let ow = lo; ow < hi; ow++) {
              const q = xr + <usize>(ow * sw + off) * 4;
              store<f32>(q, load<f32>(q) + load<f32>(o + <usize>ow * 4));
            }
          }
        }
      }
    }
  }
}

/** y [N, O, L] += bias[O] along each row of L. */
export function addBias(y: usize, bias: usize, N: i32, O: i32, L: i32): void {
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const b = load<f32>(bias + <usize>o * 4), bv = f32x4.splat(b);
      const p = y + (<usize>(n * O + o) * L) * 4;
      let k = 0;
      for (; k + 4 <= L; k += 4) v128.store(p + <usize>k * 4, f32x4.add(v128.load(p + <usize>k * 4), bv));
      for (; k < L; k++) store<f32>(p + <usize>k * 4, load<f32>(p + <usize>k * 4) + b);
    }
  }
}

/** dst [B, C, R] = src [B, R, C] transposed per batch, in 8×8 blocks. */
export function transposeBatched(src: usize, dst: usize, B: i32, R: i32, C: i32): void {
  for (let b = 0; b < B; b++) {
    const s = src + <usize>b * R * C * 4, d = dst + <usize>b * R * C * 4;
    for (let r0 = 0; r0 < R; r0 += 8) {
      const r1 = min(R, r0 + 8);
      for (let c0 = 0; c0 < C; c0 += 8) {
        const c1 = min(C, c0 + 8);
        for (let r = r0; r < r1; r++) {
          for (let c = c0; c < c1; c++) store<f32>(d + <usize>(c * R + r) * 4, load<f32>(s + <usize>(r * C + c) * 4));
        }
      }
    }
  }
}

/**
 * Max pooling over `planes` planes of H×W: idx (int32, flat within the plane) and val of each window's
 * maximum, first on ties, a NaN wins; padding never wins (idx −1 if a window holds no input).
 */
export function maxPool(
  x: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32, ho: i32, wo: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, idx: usize, val: usize,
): void {
  let k: usize = 0;
  // 2×2 windows at stride 2 without padding: four windows per step, branch-free.
  const quad = kh == 2 && kw == 2 && sh == 2 && sw == 2 && dh == 1 && dw == 1 && ph == 0 && pw == 0;
  for (let p = 0; p < planes; p++) {
    const xb = x + <usize>p * H * W * 4;
    for (let oh = 0; oh < ho; oh++) {
      const h0 = oh * sh - ph;
      let ow = 0;
      if (quad && h0 + 1 < H && wo >= 4 && 2 * wo <= W) {
        // Four windows per step; the last step is moved back to end at wo (rewriting a few winners).
        const r0 = xb + <usize>(h0 * W) * 4, r1 = r0 + <usize>W * 4;
        const one = i32x4.splat(1), down = i32x4.splat(W);
        const k0 = k;
        for (;;) {
          if (ow + 4 > wo) ow = wo - 4;
          const q = i32x4.add(i32x4.splat(h0 * W + 2 * ow), i32x4(0, 2, 4, 6));
          const a0 = v128.load(r0 + <usize>ow * 8), a1 = v128.load(r0 + <usize>ow * 8, 16);
          const b0 = v128.load(r1 + <usize>ow * 8), b1 = v128.load(r1 + <usize>ow * 8, 16);
          let best = i32x4.shuffle(a0, a1, 0, 2, 4, 6);
          let bi = q;
          const c1 = i32x4.shuffle(a0, a1, 1, 3, 5, 7);
          let m = takes(c1, best);
          best = v128.bitselect(c1, best, m);
          bi = v128.bitselect(i32x4.add(q, one), bi, m);
          const c2 = i32x4.shuffle(b0, b1, 0, 2, 4, 6);
          m = takes(c2, best);
          best = v128.bitselect(c2, best, m);
          bi = v128.bitselect(i32x4.add(q, down), bi, m);
          const c3 = i32x4.shuffle(b0, b1, 1, 3, 5, 7);
          m = takes(c3, best);
          best = v128.bitselect(c3, best, m);
          bi = v128.bitselect(i32x4.add(i32x4.add(q, down), one), bi, m);
          const at = k0 + <usize>ow;
          v128.store(idx + at * 4, bi);
          v128.store(val + at * 4, best);
          ow += 4;
          if (ow >= wo) break;
        }
        k = k0 + <usize>wo;
        continue;
      }
      for (; ow < wo; ow++, k++) {
        const w0 = ow * sw - pw;
        let best = -1, bv: f32 = -Infinity;
        if (kh == 2 && kw == 2 && dh == 1 && dw == 1 && h0 >= 0 && w0 >= 0 && h0 + 1 < H && w0 + 1 < W) {
          // The common 2×2 window inside the plane, unrolled.
          const q = h0 * W + w0;
          const a = xb + <usize>q * 4;
          best = q;
          bv = load<f32>(a);
          let v = load<f32>(a, 4);
          if (v > bv || (v != v && bv == bv)) { best = q + 1; bv = v; }
          v = load<f32>(a + <usize>W * 4);
          if (v > bv || (v != v && bv == bv)) { best = q + W; bv = v; }
          v = load<f32>(a + <usize>W * 4, 4);
          if (v > bv || (v != v && bv == bv)) { best = q + W + 1; bv = v; }
        } else {
          for (let i = 0; i < kh; i++) {
            const ih = h0 + i * dh;
            if (ih < 0 || ih >= H) continue;
            for (let j = 0; j < kw; j++) {
              const iw = w0 + j * dw;
              if (iw < 0 || iw >= W) continue;
              const v = load<f32>(xb + <usize>(ih * W + iw) * 4);
              if (best < 0 || v > bv || (v != v && bv == bv)) {
                best = ih * W + iw;
                bv = v;
              }
            }
          }
        }
        store<i32>(idx + k * 4, best);
        store<f32>(val + k * 4, bv);
      }
    }
  }
}

/** Lanes where candidate c replaces the running best b: c > b, or c is NaN and b is not. */
@inline function takes(c: v128, b: v128): v128 {
  return v128.or(f32x4.gt(c, b), v128.and(f32x4.ne(c, c), f32x4.eq(b, b)));
}

/** out [planes, hw] = 0, then out[p, idx[p, k]] += g[p, k] for k < per (the adjoint of the gather). */
export function planeScatter(g: usize, idx: usize, planes: i32, per: i32, hw: i32, out: usize): void {
  memory.fill(out, 0, <usize>planes * hw * 4);
  let k: usize = 0;
  for (let p = 0; p < planes; p++) {
    const ob = out + <usize>p * hw * 4;
    for (let j = 0; j < per; j++, k++) {
      const q = ob + <usize>load<i32>(idx + k * 4) * 4;
      store<f32>(q, load<f32>(q) + load<f32>(g + k * 4));
    }
  }
}

/** out[p, k] = x[p, idx[p, k]] for k < per over planes of hw values (the values at pooling winners). */
export function planeGather(x: usize, idx: usize, planes: i32, per: i32, hw: i32, out: usize): void {
  let k: usize = 0;
  for (let p = 0; p < planes; p++) {
    const xb = x + <usize>p * hw * 4;
    for (let j = 0; j < per; j++, k++) store<f32>(out + k * 4, load<f32>(xb + <usize>load<i32>(idx + k * 4) * 4));
  }
}

// ---- direct convolution (stride 1) for few taps per output: no column matrix ----------------------
// With C/groups·kh·kw small (the first layer of a CNN: 1·3·3), a GEMM over the column matrix is all packing
// and edges. At stride 1 an output plane laid out with the padded input's row length Wp is a 1-D
// convolution of the flat padded plane: output f reads input f + i·dh·Wp + j·dw. So each output plane is
// computed sixteen lanes at a time over its whole flat length (the Wp − wo columns past each row are
// computed and dropped), and the weight gradient is a flat dot product per tap (nine taps per pass).

/** xp [P planes of PS floats]: x [P, H, W] placed at row ph, column pw of a Wp-wide grid, zero elsewhere. */
export function padPlanes(x: usize, P: i32, H: i32, W: i32, ph: i32, pw: i32, Hp: i32, Wp: i32, PS: i32, xp: usize): void {
  memory.fill(xp, 0, <usize>P * PS * 4);
  const n = min(W, Wp - pw), rows = min(H, Hp - ph);
  if (n <= 0) return;
  for (let p = 0; p < P; p++) {
    for (let r = 0; r < rows; r++) {
      copyRun(xp + (<usize>p * PS + <usize>((r + ph) * Wp + pw)) * 4, x + <usize>((p * H + r) * W) * 4, n);
    }
  }
}

/**
 * y [N, O, ho, wo] = bias + Σ over the group's channels and taps of w · xp shifted, from the padded planes
 * of padPlanes (PS floats each, rows of Wp). `row` is scratch of F floats (F a multiple of 16, ≥ ho·Wp).
 */
export function convDirect(
  xp: usize, w: usize, bias: usize, hasBias: bool, y: usize, N: i32, C: i32, O: i32, G: i32,
  Wp: i32, PS: i32, F: i32, kh: i32, kw: i32, ho: i32, wo: i32, dh: i32, dw: i32, row: usize,
): void {
  convDirectRange(xp, w, bias, hasBias, y, 0, N, C, O, G, Wp, PS, F, kh, kw, ho, wo, dh, dw, row);
}
/** convDirect for images [n0, n1). */
function convDirectRange(
  xp: usize, w: usize, bias: usize, hasBias: bool, y: usize, n0: i32, n1: i32, C: i32, O: i32, G: i32,
  Wp: i32, PS: i32, F: i32, kh: i32, kw: i32, ho: i32, wo: i32, dh: i32, dw: i32, row: usize,
): void {
  const cg = C / G, og = O / G, taps = cg * kh * kw;
  for (let n = n0; n < n1; n++) {
    for (let o = 0; o < O; o++) {
      const wt = w + <usize>(o * taps) * 4;
      const b: f32 = hasBias ? load<f32>(bias + <usize>o * 4) : 0;
      const xg = xp + <usize>(n * C + (o / og) * cg) * PS * 4;
      for (let f = 0; f < F; f += 16) {
        let a0 = f32x4.splat(b), a1 = a0, a2 = a0, a3 = a0;
        let t = 0;
        for (let c = 0; c < cg; c++) {
          for (let i = 0; i < kh; i++) {
            const src0 = xg + (<usize>c * PS + <usize>(i * dh * Wp + f)) * 4;
            for (let j = 0; j < kw; j++, t++) {
              const wv = f32x4.splat(load<f32>(wt + <usize>t * 4));
              const q = src0 + <usize>(j * dw) * 4;
              a0 = f32x4.add(a0, f32x4.mul(wv, v128.load(q)));
              a1 = f32x4.add(a1, f32x4.mul(wv, v128.load(q, 16)));
              a2 = f32x4.add(a2, f32x4.mul(wv, v128.load(q, 32)));
              a3 = f32x4.add(a3, f32x4.mul(wv, v128.load(q, 48)));
            }
          }
        }
        const d = row + <usize>f * 4;
        v128.store(d, a0); v128.store(d, a1, 16); v128.store(d, a2, 32); v128.store(d, a3, 48);
      }
      const yp = y + <usize>((n * O + o) * ho * wo) * 4;
      for (let oh = 0; oh < ho; oh++) copyRun(yp + <usize>(oh * wo) * 4, row + <usize>(oh * Wp) * 4, wo);
    }
  }
}

/**
 * gw [O, C/G, kh, kw] = Σₙ Σ_f g[n, o, f] · xp[n, c, f + i·dh·Wp + j·dw] (convDirect's adjoint in w) for
 * output channels [o0, o1), g [N, O, ho, wo] read as rows of Wp (spread into `buf`, F floats, per (n, o)).
 * A 3×3 kernel's nine taps share each loaded gradient vector; `acc` holds 4 lanes per (o, tap), summed over n
 * in order, so the result does not depend on how the channels are split.
 */
function convDirectWeightRange(
  xp: usize, gy: usize, gw: usize, acc: usize, N: i32, C: i32, O: i32, G: i32, Wp: i32, PS: i32, F: i32,
  kh: i32, kw: i32, dh: i32, dw: i32, ho: i32, wo: i32, o0: i32, o1: i32, buf: usize,
): void {
  const cg = C / G, og = O / G, taps = cg * kh * kw;
  memory.fill(acc + <usize>(o0 * taps) * 16, 0, <usize>((o1 - o0) * taps) * 16);
  memory.fill(buf, 0, <usize>F * 4);
  for (let n = 0; n < N; n++) {
    for (let o = o0; o < o1; o++) {
      // The gradient plane on rows of Wp, zero past each row's wo values (the gaps stay zero).
      const gp = gy + <usize>((n * O + o) * ho * wo) * 4;
      for (let oh = 0; oh < ho; oh++) copyRun(buf + <usize>(oh * Wp) * 4, gp + <usize>(oh * wo) * 4, wo);
      const xg = xp + <usize>(n * C + (o / og) * cg) * PS * 4;
      const ab = acc + <usize>(o * taps) * 16;
      let t = 0;
      if (kh == 3 && kw == 3 && dw == 1) {
        // One channel's 3×3 taps per pass: three row pointers with the column taps at fixed offsets.
        const end = buf + <usize>F * 4, rs = <usize>(dh * Wp) * 4;
        for (; t < taps; t += 9) {
          let x0 = xg + <usize>(t / 9) * PS * 4, x1 = x0 + rs, x2 = x1 + rs;
          let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0;
          for (let gq = buf; gq < end; gq += 16) {
            const g = v128.load(gq);
            a0 = f32x4.add(a0, f32x4.mul(g, v128.load(x0)));
            a1 = f32x4.add(a1, f32x4.mul(g, v128.load(x0, 4)));
            a2 = f32x4.add(a2, f32x4.mul(g, v128.load(x0, 8)));
            a3 = f32x4.add(a3, f32x4.mul(g, v128.load(x1)));
            a4 = f32x4.add(a4, f32x4.mul(g, v128.load(x1, 4)));
            a5 = f32x4.add(a5, f32x4.mul(g, v128.load(x1, 8)));
            a6 = f32x4.add(a6, f32x4.mul(g, v128.load(x2)));
            a7 = f32x4.add(a7, f32x4.mul(g, v128.load(x2, 4)));
            a8 = f32x4.add(a8, f32x4.mul(g, v128.load(x2, 8)));
            x0 += 16;
            x1 += 16;
            x2 += 16;
          }
          const d = ab + <usize>t * 16;
          v128.store(d, f32x4.add(v128.load(d), a0));
          v128.store(d, f32x4.add(v128.load(d, 16), a1), 16);
          v128.store(d, f32x4.add(v128.load(d, 32), a2), 32);
          v128.store(d, f32x4.add(v128.load(d, 48), a3), 48);
          v128.store(d, f32x4.add(v128.load(d, 64), a4), 64);
          v128.store(d, f32x4.add(v128.load(d, 80), a5), 80);
          v128.store(d, f32x4.add(v128.load(d, 96), a6), 96);
          v128.store(d, f32x4.add(v128.load(d, 112), a7), 112);
          v128.store(d, f32x4.add(v128.load(d, 128), a8), 128);
        }
      }
      for (; t < taps; t++) {
        const p = xg + tapOff(t, kh, kw, PS, Wp, dh, dw);
        let a = f32x4.splat(0);
        for (let f = 0; f < F; f += 4) {
          const q = <usize>f * 4;
          a = f32x4.add(a, f32x4.mul(v128.load(buf + q), v128.load(p + q)));
        }
        const d = ab + <usize>t * 16;
        v128.store(d, f32x4.add(v128.load(d), a));
      }
    }
  }
  for (let o = o0; o < o1; o++) {
    for (let t = 0; t < taps; t++) {
      const a = v128.load(acc + <usize>(o * taps + t) * 16);
      const sum = f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1) + f32x4.extract_lane(a, 2) +
        f32x4.extract_lane(a, 3);
      store<f32>(gw + <usize>(o * taps + t) * 4, sum);
    }
  }
}
/** Byte offset of tap t = (c, i, j) in the padded planes. */
function tapOff(t: i32, kh: i32, kw: i32, PS: i32, Wp: i32, dh: i32, dw: i32): usize {
  const c = t / (kh * kw), r = t - c * kh * kw, i = r / kw, j = r - i * kw;
  return (<usize>c * PS + <usize>(i * dh * Wp + j * dw)) * 4;
}

// ---- tasks for the thread pool (runtime.ts TASK_CONV) -----------------------------------------
// One task covers a contiguous range [lo, hi) of images, output channels or planes; its arguments are
// Int32 words at `prm` (written by conv.ts), `slot` picks its own scratch, `pack` is its thread's GEMM
// packing scratch. A range's results never depend on the ranges the other tasks got.

@inline function arg(prm: usize, k: i32): i32 {
  return load<i32>(prm + <usize>k * 4);
}
export function convTask(id: i32, prm: usize, lo: i32, hi: i32, slot: i32, pack: usize): void {
  if (id == 0) {
    // Direct conv: [xp, w, bias, hasBias, y, C, O, G, Wp, PS, F, kh, kw, ho, wo, dh, dw, row]
    const F = arg(prm, 10);
    convDirectRange(
      <usize>arg(prm, 0), <usize>arg(prm, 1), <usize>arg(prm, 2), arg(prm, 3) != 0, <usize>arg(prm, 4), lo, hi,
      arg(prm, 5), arg(prm, 6), arg(prm, 7), arg(prm, 8), arg(prm, 9), F, arg(prm, 11), arg(prm, 12),
      arg(prm, 13), arg(prm, 14), arg(prm, 15), arg(prm, 16), <usize>arg(prm, 17) + <usize>slot * F * 4,
    );
  } else if (id == 1) {
    // Direct weight gradient: [xp, gy, gw, acc, N, C, O, G, Wp, PS, F, kh, kw, dh, dw, ho, wo, buf]
    const F = arg(prm, 10);
    convDirectWeightRange(
      <usize>arg(prm, 0), <usize>arg(prm, 1), <usize>arg(prm, 2), <usize>arg(prm, 3), arg(prm, 4), arg(prm, 5),
      arg(prm, 6), arg(prm, 7), arg(prm, 8), arg(prm, 9), F, arg(prm, 11), arg(prm, 12), arg(prm, 13),
      arg(prm, 14), arg(prm, 15), arg(prm, 16), lo, hi, <usize>arg(prm, 17) + <usize>slot * F * 4,
    );
  } else if (id == 2 || id == 3) {
    // im2col conv (2: forward, im2col + GEMM + bias) or its input gradient (3: GEMM + col2im), per image:
    // [x, w, bias, hasBias, y, C, H, W, kh, kw, ho, wo, sh, sw, ph, pw, dh, dw, O, G, col]
    const C = arg(prm, 5), H = arg(prm, 6), W = arg(prm, 7), kh = arg(prm, 8), kw = arg(prm, 9);
    const ho = arg(prm, 10), wo = arg(prm, 11), sh = arg(prm, 12), sw = arg(prm, 13), ph = arg(prm, 14);
    const pw = arg(prm, 15), dh = arg(prm, 16), dw = arg(prm, 17), O = arg(prm, 18), G = arg(prm, 19);
    const L = ho * wo, ck = C * kh * kw, kg = ck / G, og = O / G;
    const col = <usize>arg(prm, 20) + <usize>slot * ck * L * 4;
    const x = <usize>arg(prm, 0), w = <usize>arg(prm, 1), y = <usize>arg(prm, 4);
    for (let n = lo; n < hi; n++) {
      const xn = x + <usize>(n * C * H * W) * 4, yn = y + <usize>(n * O * L) * 4;
      if (id == 2) {
        im2col(xn, C, H, W, kh, kw, ho, wo, sh, sw, ph, pw, dh, dw, col, L);
        for (let q = 0; q < G; q++) {
          gemm(w + <usize>(q * og * kg) * 4, kg, 1, col + <usize>(q * kg * L) * 4, L, 1, yn + <usize>(q * og * L) * 4,
            og, kg, L, 0, og, 0, L, pack);
        }
        if (arg(prm, 3) != 0) addBias(yn, <usize>arg(prm, 2), 1, O, L);
      } else {
        // Here x is the output gradient [N, O, L] and y the input gradient [N, C, H, W].
        const gyn = x + <usize>(n * O * L) * 4, gxn = y + <usize>(n * C * H * W) * 4;
        for (let q = 0; q < G; q++) {
          gemm(w + <usize>(q * og * kg) * 4, 1, kg, gyn + <usize>(q * og * L) * 4, L, 1, col + <usize>(q * kg * L) * 4,
            kg, og, L, 0, kg, 0, L, pack);
        }
        col2im(col, L, C, H, W, kh, kw, ho, wo, sh, sw, ph, pw, dh, dw, gxn);
      }
    }
  } else if (id == 4) {
    // Weight-gradient operands per image: col [ck, N·L] (columns n·L..) and gyᵀ per image [L, O]:
    // [x, gy, col, gyt, C, H, W, kh, kw, ho, wo, sh, sw, ph, pw, dh, dw, O, N]
    const C = arg(prm, 4), H = arg(prm, 5), W = arg(prm, 6), kh = arg(prm, 7), kw = arg(prm, 8);
    const ho = arg(prm, 9), wo = arg(prm, 10), O = arg(prm, 17), N = arg(prm, 18), L = ho * wo;
    for (let n = lo; n < hi; n++) {
      im2col(<usize>arg(prm, 0) + <usize>(n * C * H * W) * 4, C, H, W, kh, kw, ho, wo, arg(prm, 11), arg(prm, 12),
        arg(prm, 13), arg(prm, 14), arg(prm, 15), arg(prm, 16), <usize>arg(prm, 2) + <usize>(n * L) * 4, N * L);
      const off = <usize>(n * O * L) * 4;
      transposeBatched(<usize>arg(prm, 1) + off, <usize>arg(prm, 3) + off, 1, O, L);
    }
  } else if (id == 5) {
    // Max pool of planes [lo, hi): [x, H, W, kh, kw, ho, wo, sh, sw, ph, pw, dh, dw, idx, val]
    const H = arg(prm, 1), W = arg(prm, 2), ho = arg(prm, 5), wo = arg(prm, 6);
    const xo = <usize>(lo * H * W) * 4, oo = <usize>(lo * ho * wo) * 4;
    maxPool(<usize>arg(prm, 0) + xo, hi - lo, H, W, arg(prm, 3), arg(prm, 4), ho, wo, arg(prm, 7), arg(prm, 8),
      arg(prm, 9), arg(prm, 10), arg(prm, 11), arg(prm, 12), <usize>arg(prm, 13) + oo, <usize>arg(prm, 14) + oo);
  } else if (id == 6 || id == 7) {
    // Gather (6) or scatter (7) of planes [lo, hi): [src, idx, per, hw, out]
    const per = arg(prm, 2), hw = arg(prm, 3);
    const io = <usize>(lo * per) * 4, xo = <usize>(lo * hw) * 4;
    if (id == 6) planeGather(<usize>arg(prm, 0) + xo, <usize>arg(prm, 1) + io, hi - lo, per, hw, <usize>arg(prm, 4) + io);
    else planeScatter(<usize>arg(prm, 0) + io, <usize>arg(prm, 1) + io, hi - lo, per, hw, <usize>arg(prm, 4) + xo);
  }
}
