// tapegrad WebAssembly kernels (AssemblyScript, 128-bit SIMD).
// Memory is owned by the JS loader: every pointer here is a byte offset it chose.
// No allocation, no strings, no data segments: the module can be instantiated once per
// thread over one shared memory without re-initialising anything.

// ---- GEMM ---------------------------------------------------------------------------
// C[m,n] (+)= A[m,k] @ B[k,n], A(i,p) at a + 4*(i*ars + p*acs), B(p,j) at b + 4*(p*brs + j*bcs).
// Goto-style: B blocks (KC x NC) packed into 8-wide panels, A blocks (MC x KC) packed into
// 4-row strips, a 4x8 register tile (8 f32x4 accumulators + 2 B vectors + 4 A splats).
// Why 4x8 and not 5x8: V8's TurboFan schedules every load of the loop body first, so all A
// splats and B vectors are live together with the accumulators (plus one temporary for the
// product when there is no fused multiply-add). 4x8 needs 8 + 6 + 1 = 15 xmm registers, exactly
// what V8 allocates; 5x8 needs 18 and spills two accumulators, which puts a store-to-load
// round trip on their dependency chains (measured 2026-11-29: 16.5 vs 25-27 GFLOP/s plain,
// 41 with relaxed madd).

export const MR: i32 = 4;
export const NR: i32 = 8;
export const KC: i32 = 256;
export const MC: i32 = 128;
export const NC: i32 = 1024;
/** Bytes of packing scratch one thread needs: A block, B block, one edge tile. */
export const PACK_BYTES: i32 = (MC * KC + KC * NC + MR * NR) * 4;

@inline function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** The micro-kernel: a 4x8 tile of C over kc steps. A separate function so V8 tiers it up early. */
function micro(kc: i32, ap: usize, bp: usize, cp: usize, ldc: usize, first: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  // One induction variable: the loop ends on the A pointer (kc >= 1).
  const end = ap + <usize>kc * 16;
  do {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = fma(a, b0, c00); c01 = fma(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = fma(a, b0, c10); c11 = fma(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = fma(a, b0, c20); c21 = fma(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = fma(a, b0, c30); c31 = fma(a, b1, c31);
    ap += 16;
    bp += 32;
  } while (ap < end);
  if (!first) {
    c00 = f32x4.add(c00, v128.load(cp)); c01 = f32x4.add(c01, v128.load(cp, 16)); cp += ldc;
    c10 = f32x4.add(c10, v128.load(cp)); c11 = f32x4.add(c11, v128.load(cp, 16)); cp += ldc;
    c20 = f32x4.add(c20, v128.load(cp)); c21 = f32x4.add(c21, v128.load(cp, 16)); cp += ldc;
    c30 = f32x4.add(c30, v128.load(cp)); c31 = f32x4.add(c31, v128.load(cp, 16));
    cp -= 3 * ldc;
  }
  v128.store(cp, c00); v128.store(cp, c01, 16); cp += ldc;
  v128.store(cp, c10); v128.store(cp, c11, 16); cp += ldc;
  v128.store(cp, c20); v128.store(cp, c21, 16); cp += ldc;
  v128.store(cp, c30); v128.store(cp, c31, 16);
}

/** Stores the 4x4 transpose of rows r0..r3 (4 floats each) as 4 vectors `step` bytes apart from dst. */
@inline function storeT4(dst: usize, step: usize, r0: v128, r1: v128, r2: v128, r3: v128): void {
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5), t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(dst + step, i32x4.shuffle(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * step, i32x4.shuffle(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * step, i32x4.shuffle(t1, t3, 2, 3, 6, 7));
}

/** Packs rows [i0, i0+mc) x cols [p0, p0+kc) of A into 4-row strips, k-major, zero-padded. */
function packA(dst: usize, a: usize, ars: i32, acs: i32, i0: i32, mc: i32, p0: i32, kc: i32): void {
  for (let s = 0; s < mc; s += MR) {
    const rows = min(MR, mc - s);
    const base = a + (<usize>(i0 + s) * ars + <usize>p0 * acs) * 4;
    if (rows == MR && acs == 1) {
      // Rows contiguous in k (A not transposed): 4x4 transposes, then the odd columns.
      const r1 = <usize>ars * 4;
      let src = base;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        storeT4(dst, 16, v128.load(src), v128.load(src + r1), v128.load(src + 2 * r1), v128.load(src + 3 * r1));
        src += 16;
        dst += 64;
      }
      for (; p < kc; p++) {
        store<f32>(dst, load<f32>(src));
        store<f32>(dst, load<f32>(src + r1), 4);
        store<f32>(dst, load<f32>(src + 2 * r1), 8);
        store<f32>(dst, load<f32>(src + 3 * r1), 12);
        src += 4;
        dst += 16;
      }
    } else if (rows == MR && ars == 1) {
      // A transposed: the strip's 4 values at each k are contiguous.
      const step = <usize>acs * 4;
      let src = base;
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(src));
        src += step;
        dst += 16;
      }
    } else if (rows == MR) {
      const r1 = <usize>ars * 4;
      const step = <usize>acs * 4;
      let src = base;
      for (let p = 0; p < kc; p++) {
        store<f32>(dst, load<f32>(src));
        store<f32>(dst, load<f32>(src + r1), 4);
        store<f32>(dst, load<f32>(src + 2 * r1), 8);
        store<f32>(dst, load<f32>(src + 3 * r1), 12);
        src += step;
        dst += 16;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let r = 0; r < MR; r++) {
          store<f32>(dst, r < rows ? load<f32>(base + (<usize>r * ars + <usize>p * acs) * 4) : 0);
          dst += 4;
        }
      }
    }
  }
}

/** Packs rows [p0, p0+kc) x cols [j0, j0+nc) of B into 8-wide panels, zero-padded. */
function packB(dst: usize, b: usize, brs: i32, bcs: i32, p0: i32, kc: i32, j0: i32, nc: i32): void {
  for (let s = 0; s < nc; s += NR) {
    const cols = min(NR, nc - s);
    const base = b + (<usize>p0 * brs + <usize>(j0 + s) * bcs) * 4;
    if (cols == NR && bcs == 1) {
      let src = base;
      const step = <usize>brs * 4;
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += step;
        dst += 32;
      }
    } else if (cols == NR && brs == 1) {
      // Columns contiguous in k (B transposed, a weight as nn.Linear stores it): two 4x4 transposes per 4 k.
      const c1 = <usize>bcs * 4;
      let src = base;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        storeT4(dst, 32, v128.load(src), v128.load(src + c1), v128.load(src + 2 * c1), v128.load(src + 3 * c1));
        const s4 = src + 4 * c1;
        storeT4(dst + 16, 32, v128.load(s4), v128.load(s4 + c1), v128.load(s4 + 2 * c1), v128.load(s4 + 3 * c1));
        src += 16;
        dst += 128;
      }
      for (; p < kc; p++) {
        let q = src;
        for (let c = 0; c < NR; c++) { store<f32>(dst, load<f32>(q)); dst += 4; q += c1; }
        src += 4;
      }
    } else if (cols == NR) {
      const c1 = <usize>bcs * 4;
      const step = <usize>brs * 4;
      let src = base;
      for (let p = 0; p < kc; p++) {
        let q = src;
        for (let c = 0; c < NR; c++) { store<f32>(dst, load<f32>(q)); dst += 4; q += c1; }
        src += step;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let c = 0; c < NR; c++) {
          store<f32>(dst, c < cols ? load<f32>(base + (<usize>p * brs + <usize>c * bcs) * 4) : 0);
          dst += 4;
        }
      }
    }
  }
}

/**
 * Rows [r0, r1) x columns [c0, c1) of C = op(A) @ op(B), C row-major with n columns. C need not
 * be zeroed. `pack` is this thread's scratch of PACK_BYTES.
 */
export function gemm(
  a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32, c: usize,
  m: i32, k: i32, n: i32, r0: i32, r1: i32, c0: i32, c1: i32, pack: usize,
): void {
  const pa = pack;
  const pb = pack + <usize>(MC * KC) * 4;
  const tile = pb + <usize>(KC * NC) * 4;
  const ldc = <usize>n * 4;
  if (k == 0) {
    for (let i = r0; i < r1; i++) memory.fill(c + <usize>i * ldc + <usize>c0 * 4, 0, <usize>(c1 - c0) * 4);
    return;
  }
  for (let jc = c0; jc < c1; jc += NC) {
    const nc = min(NC, c1 - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const first = pc == 0;
      packB(pb, b, brs, bcs, pc, kc, jc, nc);
      for (let ic = r0; ic < r1; ic += MC) {
        const mc = min(MC, r1 - ic);
        packA(pa, a, ars, acs, ic, mc, pc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bp = pb + <usize>jr * kc * 4;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const ap = pa + <usize>ir * kc * 4;
            const cp = c + <usize>(ic + ir) * ldc + <usize>(jc + jr) * 4;
            if (mr == MR && nr == NR) {
              micro(kc, ap, bp, cp, ldc, first);
            } else {
              micro(kc, ap, bp, tile, NR * 4, true);
              for (let r = 0; r < mr; r++) {
                for (let q = 0; q < nr; q++) {
                  const dst = cp + <usize>r * ldc + <usize>q * 4;
                  const v = load<f32>(tile + <usize>(r * NR + q) * 4);
                  store<f32>(dst, first ? v : load<f32>(dst) + v);
                }
              }
            }
          }
        }
      }
    }
  }
}

// ---- elementwise --------------------------------------------------------------------
// Binary op codes: 0 add, 1 sub, 2 mul, 3 div, 4 maximum, 5 minimum;
// comparisons, 1 or 0 (relu's backward is g · (x > 0)): 6 gt, 7 ge, 8 lt, 9 le, 10 eq, 11 ne.
// Unary op codes: 0 neg, 1 abs, 2 sqrt, 3 relu, 4 exp, 5 sigmoid.

@inline function vbin(op: i32, x: v128, y: v128): v128 {
  switch (op) {
    case 0: return f32x4.add(x, y);
    case 1: return f32x4.sub(x, y);
    case 2: return f32x4.mul(x, y);
    case 3: return f32x4.div(x, y);
    case 4: return v128.bitselect(x, y, v128.or(f32x4.gt(x, y), f32x4.ne(x, x)));
    case 5: return v128.bitselect(x, y, v128.or(f32x4.lt(x, y), f32x4.ne(x, x)));
    case 6: return v128.and(f32x4.gt(x, y), f32x4.splat(1));
    case 7: return v128.and(f32x4.ge(x, y), f32x4.splat(1));
    case 8: return v128.and(f32x4.lt(x, y), f32x4.splat(1));
    case 9: return v128.and(f32x4.le(x, y), f32x4.splat(1));
    case 10: return v128.and(f32x4.eq(x, y), f32x4.splat(1));
    default: return v128.and(f32x4.ne(x, y), f32x4.splat(1));
  }
}
@inline function sbin(op: i32, x: f32, y: f32): f32 {
  switch (op) {
    case 0: return x + y;
    case 1: return x - y;
    case 2: return x * y;
    case 3: return x / y;
    case 4: return x > y || x != x ? x : y;
    case 5: return x < y || x != x ? x : y;
    case 6: return x > y ? 1 : 0;
    case 7: return x >= y ? 1 : 0;
    case 8: return x < y ? 1 : 0;
    case 9: return x <= y ? 1 : 0;
    case 10: return x == y ? 1 : 0;
    default: return x != y ? 1 : 0;
  }
}

/**
 * out[r*C + c] = op(A[r*ar + c*ac], B[r*br + c*bc]) for r < R, c < C, where ac, bc are 0 or 1
 * (same shape, scalar, row-broadcast bias and column broadcast all land here).
 */
export function binary(op: i32, a: usize, ar: i32, ac: i32, b: usize, br: i32, bc: i32, o: usize, R: i32, C: i32): void {
  // add, sub, mul and div get loops of their own (the op a constant after inlining, no switch per vector).
  switch (op) {
    case 0: binaryLoops(0, a, ar, ac, b, br, bc, o, R, C); break;
    case 1: binaryLoops(1, a, ar, ac, b, br, bc, o, R, C); break;
    case 2: binaryLoops(2, a, ar, ac, b, br, bc, o, R, C); break;
    case 3: binaryLoops(3, a, ar, ac, b, br, bc, o, R, C); break;
    default: binaryLoops(op, a, ar, ac, b, br, bc, o, R, C);
  }
}
@inline function binaryLoops(op: i32, a: usize, ar: i32, ac: i32, b: usize, br: i32, bc: i32, o: usize, R: i32, C: i32): void {
  const n4 = C & ~3;
  for (let r = 0; r < R; r++) {
    const pa = a + <usize>r * ar * 4, pb = b + <usize>r * br * 4, po = o + <usize>r * C * 4;
    let c = 0;
    if (ac == 1 && bc == 1) {
      for (; c + 8 <= C; c += 8) {
        const q = <usize>c * 4;
        v128.store(po + q, vbin(op, v128.load(pa + q), v128.load(pb + q)));
        v128.store(po + q, vbin(op, v128.load(pa + q, 16), v128.load(pb + q, 16)), 16);
      }
      for (; c < n4; c += 4) {
        const q = <usize>c * 4;
        v128.store(po + q, vbin(op, v128.load(pa + q), v128.load(pb + q)));
      }
      for (; c < C; c++) {
        const q = <usize>c * 4;
        store<f32>(po + q, sbin(op, load<f32>(pa + q), load<f32>(pb + q)));
      }
    } else if (ac == 1) {
      const ys = load<f32>(pb);
      const y = f32x4.splat(ys);
      for (; c + 8 <= C; c += 8) {
        const q = <usize>c * 4;
        v128.store(po + q, vbin(op, v128.load(pa + q), y));
        v128.store(po + q, vbin(op, v128.load(pa + q, 16), y), 16);
      }
      for (; c < n4; c += 4) { const q = <usize>c * 4; v128.store(po + q, vbin(op, v128.load(pa + q), y)); }
      for (; c < C; c++) { const q = <usize>c * 4; store<f32>(po + q, sbin(op, load<f32>(pa + q), ys)); }
    } else if (bc == 1) {
      const xs = load<f32>(pa);
      const x = f32x4.splat(xs);
      for (; c + 8 <= C; c += 8) {
        const q = <usize>c * 4;
        v128.store(po + q, vbin(op, x, v128.load(pb + q)));
        v128.store(po + q, vbin(op, x, v128.load(pb + q, 16)), 16);
      }
      for (; c < n4; c += 4) { const q = <usize>c * 4; v128.store(po + q, vbin(op, x, v128.load(pb + q))); }
      for (; c < C; c++) { const q = <usize>c * 4; store<f32>(po + q, sbin(op, xs, load<f32>(pb + q))); }
    } else {
      const v = sbin(op, load<f32>(pa), load<f32>(pb));
      const vv = f32x4.splat(v);
      for (; c < n4; c += 4) v128.store(po + <usize>c * 4, vv);
      for (; c < C; c++) store<f32>(po + <usize>c * 4, v);
    }
  }
}

// exp for f32x4: x = k*ln2 + r, |r| <= ln2/2, degree-6 polynomial, 2^k by exponent bits.
// Max error ~1.5 ulp over the float range; overflow to inf, underflow to 0, NaN kept.
// The polynomial constants of vexp and vphi, four lanes each, as a static table: a load (often folded
// into the arithmetic instruction) is cheaper than V8 rematerialising a v128.const in every iteration.
const VK: usize = memory.data<f32>([88.72284, 88.72284, 88.72284, 88.72284, -103.97208, -103.97208, -103.97208, -103.97208, 1.44269504, 1.44269504, 1.44269504, 1.44269504, 12582912.0, 12582912.0, 12582912.0, 12582912.0, 0.693145752, 0.693145752, 0.693145752, 0.693145752, 1.42860677e-6, 1.42860677e-6, 1.42860677e-6, 1.42860677e-6, 1.0 / 720.0, 1.0 / 720.0, 1.0 / 720.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 120.0, 1.0 / 120.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 24.0, 1.0 / 24.0, 1.0 / 24.0, 1.0 / 6.0, 1.0 / 6.0, 1.0 / 6.0, 1.0 / 6.0, 0.5, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0, Infinity, Infinity, Infinity, Infinity, 0, 0, 0, 0, 0.70710678, 0.70710678, 0.70710678, 0.70710678, 1, 1, 1, 1, 0.17087277, 0.17087277, 0.17087277, 0.17087277, -0.82215223, -0.82215223, -0.82215223, -0.82215223, 1.48851587, 1.48851587, 1.48851587, 1.48851587, -1.13520398, -1.13520398, -1.13520398, -1.13520398, 0.27886807, 0.27886807, 0.27886807, 0.27886807, -0.18628806, -0.18628806, -0.18628806, -0.18628806, 0.09678418, 0.09678418, 0.09678418, 0.09678418, 0.37409196, 0.37409196, 0.37409196, 0.37409196, 1.00002368, 1.00002368, 1.00002368, 1.00002368, -1.26551223, -1.26551223, -1.26551223, -1.26551223]);
@inline function kc(i: i32): v128 {
  return v128.load(VK + (<usize>i << 4));
}

/** e^xc for xc already clamped to [lo, hi]: x = k·ln2 + r, a degree-6 polynomial in r, 2^k by exponent bits. */
@inline function vexpCore(xc: v128): v128 {
  // Round to nearest even by the 1.5·2^23 shifter: its low mantissa bits are then the integer k.
  const shifted = f32x4.add(f32x4.mul(xc, kc(2)), kc(3));
  const k = f32x4.sub(shifted, kc(3));
  let r = f32x4.sub(xc, f32x4.mul(k, kc(4)));
  r = f32x4.sub(r, f32x4.mul(k, kc(5)));
  let p = kc(6);
  p = fma(p, r, kc(7));
  p = fma(p, r, kc(8));
  p = fma(p, r, kc(9));
  p = fma(p, r, kc(10));
  p = fma(p, r, kc(11));
  p = fma(p, r, kc(11));
  // 2^k split in two factors so k in [-150, 128] never overflows the exponent field.
  const ki = i32x4.sub(shifted, i32x4.splat(0x4b400000));
  const k1 = i32x4.shr_s(ki, 1);
  const k2 = i32x4.sub(ki, k1);
  const s1 = i32x4.shl(i32x4.add(k1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(k2, i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

@inline function vexp(x: v128): v128 {
  const hi = kc(0);
  const lo = kc(1);
  // pmin/pmax are single instructions (min/max's NaN rules cost several); NaN is restored below.
  // Lanes below lo (−∞: masked softmax entries) compute e^0 and are replaced by 0 at the end: run
  // through, they would produce subnormal intermediates, which cost a microcode assist each (a causal
  // softmax ran 2.4× slower).
  const under = f32x4.lt(x, lo);
  const xc = v128.andnot(f32x4.pmin(f32x4.pmax(x, lo), hi), under);
  let y = vexpCore(xc);
  // Exact over/underflow and NaN passthrough.
  y = v128.bitselect(kc(12), y, f32x4.gt(x, hi));
  y = v128.bitselect(kc(13), y, under);
  return v128.bitselect(x, y, f32x4.ne(x, x));
}

/** vexp for x ≤ 0 or NaN (no overflow to guard, NaN propagates through the arithmetic): fewer steps. */
@inline function vexpNeg(x: v128): v128 {
  const under = f32x4.lt(x, kc(1));
  return v128.andnot(vexpCore(v128.andnot(x, under)), under);
}

@inline function vun(op: i32, x: v128): v128 {
  switch (op) {
    case 0: return f32x4.neg(x);
    case 1: return f32x4.abs(x);
    case 2: return f32x4.sqrt(x);
    case 3: return v128.bitselect(x, f32x4.splat(0), v128.or(f32x4.gt(x, f32x4.splat(0)), f32x4.ne(x, x)));
    case 4: return vexp(x);
    default: {
      // sigmoid: 1/(1+e^-|x|) for x >= 0, e^x/(1+e^x) below (no overflow, keeps small values exact).
      const e = vexp(f32x4.neg(f32x4.abs(x)));
      const d = f32x4.add(f32x4.splat(1), e);
      const pos = f32x4.div(f32x4.splat(1), d);
      const neg = f32x4.div(e, d);
      return v128.bitselect(pos, neg, f32x4.ge(x, f32x4.splat(0)));
    }
  }
}

/** out[i] = op(x[i]) for i < n. */
export function unary(op: i32, x: usize, o: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const q = <usize>i * 4;
    v128.store(o + q, vun(op, v128.load(x + q)));
    v128.store(o + q, vun(op, v128.load(x + q, 16)), 16);
  }
  for (; i + 4 <= n; i += 4) {
    const q = <usize>i * 4;
    v128.store(o + q, vun(op, v128.load(x + q)));
  }
  if (i < n) {
    // Tail through a zero-padded vector so scalar and vector paths agree bit for bit.
    let t = f32x4.splat(0);
    for (let j = 0; j < n - i; j++) t = f32x4.replace_lane(t, 0, load<f32>(x + <usize>(i + j) * 4)), t = rot(t);
    // rot applied (n-i) times; rotate back so lanes are in order
    for (let j = n - i; j < 4; j++) t = rot(t);
    const y = vun(op, t);
    for (let j = 0; j < n - i; j++) store<f32>(o + <usize>(i + j) * 4, lane(y, j));
  }
}
@inline function rot(t: v128): v128 { return i32x4.shuffle(t, t, 1, 2, 3, 0); }
@inline function lane(v: v128, j: i32): f32 {
  switch (j) {
    case 0: return f32x4.extract_lane(v, 0);
    case 1: return f32x4.extract_lane(v, 1);
    case 2: return f32x4.extract_lane(v, 2);
    default: return f32x4.extract_lane(v, 3);
  }
}

// ---- reductions ---------------------------------------------------------------------

/** out[r] = sum of x[r*C .. r*C+C), accumulated in float64 (like the reference kernel). */
export function sumRows(x: usize, o: usize, R: i32, C: i32): void {
  for (let r = 0; r < R; r++) {
    const p = x + <usize>r * C * 4;
    let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
    let c = 0;
    for (; c + 8 <= C; c += 8) {
      const v0 = v128.load(p + <usize>c * 4), v1 = v128.load(p + <usize>c * 4, 16);
      s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v0));
      s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(v0, v0, 2, 3, 0, 1)));
      s2 = f64x2.add(s2, f64x2.promote_low_f32x4(v1));
      s3 = f64x2.add(s3, f64x2.promote_low_f32x4(i32x4.shuffle(v1, v1, 2, 3, 0, 1)));
    }
    const s = f64x2.add(f64x2.add(s0, s1), f64x2.add(s2, s3));
    let acc = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
    for (; c < C; c++) acc += <f64>load<f32>(p + <usize>c * 4);
    store<f32>(o + <usize>r * 4, <f32>acc);
  }
}

/**
 * o[j] (+)= sum over r < R of x[r*C + j], in row order, accumulated in float64: `o` holds C
 * doubles (the caller rounds them to float32 once at the end), so the error does not grow with R
 * (a float32 accumulator gave 105891.84 for 2^20 × 0.1).
 */
export function sumCols(x: usize, o: usize, R: i32, C: i32, accumulate: bool): void {
  const n4 = C & ~3;
  if (!accumulate) memory.fill(o, 0, <usize>C * 8);
  for (let r = 0; r < R; r++) {
    const p = x + <usize>r * C * 4;
    let c = 0;
    for (; c < n4; c += 4) {
      const v = v128.load(p + <usize>c * 4);
      const q = o + <usize>c * 8;
      v128.store(q, f64x2.add(v128.load(q), f64x2.promote_low_f32x4(v)));
      v128.store(q, f64x2.add(v128.load(q, 16), f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1))), 16);
    }
    for (; c < C; c++) {
      const q = o + <usize>c * 8;
      store<f64>(q, load<f64>(q) + <f64>load<f32>(p + <usize>c * 4));
    }
  }
}

// ---- optimizer updates --------------------------------------------------------------

/**
 * Adam / AdamW over n float32 values in place, in the operation order of PyTorch's
 * single-tensor Adam (and src/optim/updates.ts): g = ±g; p *= decay (AdamW); g += wd*p (Adam);
 * m = lerp(m, g, 1-b1); v = b2*v + (1-b2)*g*g; p += (-stepSize*m) / (sqrt(v)/bc2sqrt + eps).
 * lerp(a, b, w) = w < 0.5 ? a + w*(b-a) : b - (b-a)*(1-w), as ATen computes it.
 */
export function adam(
  p: usize, g: usize, m: usize, v: usize, n: i32,
  stepSize: f32, w1: f32, ow1: f32, b2: f32, w2: f32, eps: f32, bc2sqrt: f32, wd: f32, decay: f32, sign: f32,
): void {
  const lowW = w1 < 0.5;
  const W1 = f32x4.splat(w1), OW1 = f32x4.splat(ow1), B2 = f32x4.splat(b2), W2 = f32x4.splat(w2);
  const EPS = f32x4.splat(eps), NS = f32x4.splat(-stepSize), BC = f32x4.splat(bc2sqrt);
  const WD = f32x4.splat(wd), DEC = f32x4.splat(decay), SG = f32x4.splat(sign);
  const useWd = wd != 0, useDec = decay != 1, neg = sign != 1;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const q = <usize>i * 4;
    let pv = v128.load(p + q), gv = v128.load(g + q);
    if (neg) gv = f32x4.mul(gv, SG);
    if (useDec) pv = f32x4.mul(pv, DEC);
    if (useWd) gv = f32x4.add(gv, f32x4.mul(WD, pv));
    const m0 = v128.load(m + q);
    const d = f32x4.sub(gv, m0);
    const mv = lowW ? f32x4.add(m0, f32x4.mul(W1, d)) : f32x4.sub(gv, f32x4.mul(d, OW1));
    const vv = f32x4.add(f32x4.mul(v128.load(v + q), B2), f32x4.mul(f32x4.mul(W2, gv), gv));
    const den = f32x4.add(f32x4.div(f32x4.sqrt(vv), BC), EPS);
    v128.store(p + q, f32x4.add(pv, f32x4.div(f32x4.mul(NS, mv), den)));
    v128.store(m + q, mv);
    v128.store(v + q, vv);
  }
  for (; i < n; i++) {
    const q = <usize>i * 4;
    let pv = load<f32>(p + q), gv = load<f32>(g + q) * sign;
    if (useDec) pv = pv * decay;
    if (useWd) gv = gv + wd * pv;
    const m0 = load<f32>(m + q);
    const mv = lowW ? m0 + w1 * (gv - m0) : gv - (gv - m0) * ow1;
    const vv = load<f32>(v + q) * b2 + w2 * gv * gv;
    const den = sqrt<f32>(vv) / bc2sqrt + eps;
    store<f32>(p + q, pv + (-stepSize * mv) / den);
    store<f32>(m + q, mv);
    store<f32>(v + q, vv);
  }
}

/**
 * SGD in place, in the order of PyTorch / src/optim/updates.ts: g = ±g + wd*p;
 * buf = first ? g : buf*momentum + (1-dampening)*g; g = nesterov ? g + momentum*buf : buf; p += -lr*g.
 * With momentum 0 the buffer is neither read nor written.
 */
export function sgd(
  p: usize, g: usize, buf: usize, n: i32,
  lr: f32, momentum: f32, dampening: f32, wd: f32, nesterov: bool, first: bool, sign: f32,
): void {
  const damp: f32 = 1 - dampening;
  for (let i = 0; i < n; i++) {
    const q = <usize>i * 4;
    const pv = load<f32>(p + q);
    let d = load<f32>(g + q) * sign;
    if (wd != 0) d = d + wd * pv;
    if (momentum != 0) {
      const b = first ? d : load<f32>(buf + q) * momentum + damp * d;
      store<f32>(buf + q, b);
      d = nesterov ? d + momentum * b : b;
    }
    store<f32>(p + q, pv + -lr * d);
  }
}

// ---- fused composites: GELU, softmax ------------------------------------------------

// Φ(x) through erfc(z) = t·e^(−z²)·R(t), z = |x|/√2, t = 1/(1 + z/2): R(t) = erfcx(z)/t is smooth on
// (0, 1] (0.2821 at t → 0, 1 at t = 1) and fitted by a degree-10 polynomial (weighted Chebyshev fit
// to scipy's erfcx, relative error < 3e-7 in float32), so the tails keep their relative accuracy and
// GELU′ reuses e^(−z²) = e^(−x²/2) for φ(x): one exp per value in either direction. The polynomial
// is evaluated by Estrin's scheme (depth 5, not Horner's 10) and the loop runs four independent
// vectors, so the kernel is throughput- rather than latency-bound. VG holds R/2's coefficients
// c0..c10, then 1/√2, 1/√(2π), 12.
const VG: usize = memory.data<f32>([0.141047403216362, 0.141047403216362, 0.141047403216362, 0.141047403216362, 0.14104688167572021, 0.14104688167572021, 0.14104688167572021, 0.14104688167572021, 0.12344228476285934, 0.12344228476285934, 0.12344228476285934, 0.12344228476285934, 0.08765798807144165, 0.08765798807144165, 0.08765798807144165, 0.08765798807144165, 0.046731218695640564, 0.046731218695640564, 0.046731218695640564, 0.046731218695640564, -0.029605679214000702, -0.029605679214000702, -0.029605679214000702, -0.029605679214000702, 0.06608851999044418, 0.06608851999044418, 0.06608851999044418, 0.06608851999044418, -0.2274869978427887, -0.2274869978427887, -0.2274869978427887, -0.2274869978427887, 0.246847465634346, 0.246847465634346, 0.246847465634346, 0.246847465634346, -0.11736679822206497, -0.11736679822206497, -0.11736679822206497, -0.11736679822206497, 0.021597716957330704, 0.021597716957330704, 0.021597716957330704, 0.021597716957330704, 0.70710678, 0.70710678, 0.70710678, 0.70710678, 0.39894228, 0.39894228, 0.39894228, 0.39894228, 12, 12, 12, 12]);
@inline function gc(i: i32): v128 {
  return v128.load(VG + (<usize>i << 4));
}
/** t·R(t)/2 = erfc(z)/2 / e^(−z²) for z = |x|/√2 ≥ 0. */
@inline function vhalfTR(z: v128): v128 {
  const t = f32x4.div(kc(15), f32x4.add(kc(15), f32x4.mul(z, kc(10))));
  const t2 = f32x4.mul(t, t);
  const t4 = f32x4.mul(t2, t2);
  const t8 = f32x4.mul(t4, t4);
  const a = fma(fma(gc(3), t, gc(2)), t2, fma(gc(1), t, gc(0)));
  const b = fma(fma(gc(7), t, gc(6)), t2, fma(gc(5), t, gc(4)));
  const c = fma(gc(10), t2, fma(gc(9), t, gc(8)));
  return f32x4.mul(t, fma(c, t8, fma(b, t4, a)));
}
// mode: bit 0 = tanh form, bit 1 = backward (o = g · GELU′(x)); otherwise o = GELU(x).
@inline function vgelu(mode: i32, x: v128, g: v128): v128 {
  if (mode & 1) {
    const x2 = f32x4.mul(x, x);
    const u = f32x4.mul(f32x4.mul(x, f32x4.add(f32x4.splat(1), f32x4.mul(x2, f32x4.splat(0.044715)))), f32x4.splat(0.7978845608));
    const s = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), vexp(f32x4.mul(u, f32x4.splat(-2)))));
    if (!(mode & 2)) return f32x4.mul(x, s);
    const du = f32x4.mul(f32x4.add(f32x4.splat(1), f32x4.mul(x2, f32x4.splat(0.134145))), f32x4.splat(0.7978845608));
    const oms = f32x4.sub(f32x4.splat(1), s);
    const d = f32x4.add(s, f32x4.mul(f32x4.mul(f32x4.mul(f32x4.add(x, x), s), oms), du));
    return f32x4.mul(g, d);
  }
  // z is capped at 12 (e^(−144) is 0 in float32 either way) so that t⁸ never goes subnormal (slow).
  const z = f32x4.pmin(f32x4.abs(f32x4.mul(x, gc(11))), gc(13));
  const e = vexpNeg(f32x4.neg(f32x4.mul(z, z))); // e^(−x²/2)
  const half = f32x4.mul(e, vhalfTR(z)); // erfc(z)/2
  const phi = v128.bitselect(f32x4.sub(kc(15), half), half, f32x4.ge(x, kc(13)));
  if (!(mode & 2)) return f32x4.mul(x, phi);
  return f32x4.mul(g, fma(x, f32x4.mul(e, gc(12)), phi));
}

/** o[i] = GELU(x[i]) or g[i]·GELU′(x[i]) (see vgelu's mode), i < n. */
export function gelu(mode: i32, x: usize, g: usize, o: usize, n: i32): void {
  let i = 0;
  // Four independent vectors per iteration: the polynomial and exp chains are long.
  if (mode & 2) {
    for (; i + 16 <= n; i += 16) {
      const q = <usize>i * 4;
      const y0 = vgelu(mode, v128.load(x + q), v128.load(g + q));
      const y1 = vgelu(mode, v128.load(x + q, 16), v128.load(g + q, 16));
      const y2 = vgelu(mode, v128.load(x + q, 32), v128.load(g + q, 32));
      const y3 = vgelu(mode, v128.load(x + q, 48), v128.load(g + q, 48));
      v128.store(o + q, y0);
      v128.store(o + q, y1, 16);
      v128.store(o + q, y2, 32);
      v128.store(o + q, y3, 48);
    }
  } else {
    for (; i + 16 <= n; i += 16) {
      const q = <usize>i * 4;
      const y0 = vgelu(mode, v128.load(x + q), f32x4.splat(0));
      const y1 = vgelu(mode, v128.load(x + q, 16), f32x4.splat(0));
      const y2 = vgelu(mode, v128.load(x + q, 32), f32x4.splat(0));
      const y3 = vgelu(mode, v128.load(x + q, 48), f32x4.splat(0));
      v128.store(o + q, y0);
      v128.store(o + q, y1, 16);
      v128.store(o + q, y2, 32);
      v128.store(o + q, y3, 48);
    }
  }
  for (; i + 4 <= n; i += 4) {
    const q = <usize>i * 4;
    v128.store(o + q, vgelu(mode, v128.load(x + q), mode & 2 ? v128.load(g + q) : f32x4.splat(0)));
  }
  for (; i < n; i++) {
    const q = <usize>i * 4;
    const y = vgelu(mode, f32x4.splat(load<f32>(x + q)), mode & 2 ? f32x4.splat(load<f32>(g + q)) : f32x4.splat(0));
    store<f32>(o + q, f32x4.extract_lane(y, 0));
  }
}

/** log(s) for finite s > 0 in float64: exponent split and the atanh series on [1, 2) (error < 1e-9). */
function logPos(s: f64): f64 {
  const bits = reinterpret<u64>(s);
  const e = <i32>((bits >> 52) & 0x7ff) - 1023;
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);
  let k = <f64>e;
  if (m > 1.41421356) { m *= 0.5; k += 1; }
  const z = (m - 1) / (m + 1), z2 = z * z;
  let p = 1.0 / 15.0;
  p = p * z2 + 1.0 / 13.0; p = p * z2 + 1.0 / 11.0; p = p * z2 + 1.0 / 9.0; p = p * z2 + 1.0 / 7.0;
  p = p * z2 + 1.0 / 5.0; p = p * z2 + 1.0 / 3.0; p = p * z2 + 1.0;
  return k * 0.6931471805599453 + 2 * z * p;
}

/** Softmax (log = 0) or logSoftmax (log = 1) over each of R contiguous rows of C values. */
export function softmaxRows(x: usize, o: usize, R: i32, C: i32, log: i32): void {
  const n4 = C & ~3;
  for (let r = 0; r < R; r++) {
    const px = x + <usize>r * C * 4, po = o + <usize>r * C * 4;
    let mv = f32x4.splat(-Infinity);
    let c = 0;
    // pmax is one instruction (max's NaN rules cost several); a NaN it drops still reaches the sum
    // through its exp, so the row comes out all NaN either way.
    for (; c < n4; c += 4) mv = f32x4.pmax(mv, v128.load(px + <usize>c * 4));
    let m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
    for (; c < C; c++) m = max(m, load<f32>(px + <usize>c * 4));
    if (m == Infinity || m == -Infinity) m = 0;
    const M = f32x4.splat(m);
    let sv = f64x2.splat(0);
    let s: f64 = 0;
    for (c = 0; c < n4; c += 4) {
      const e = vexp(f32x4.sub(v128.load(px + <usize>c * 4), M));
      if (!log) v128.store(po + <usize>c * 4, e);
      sv = f64x2.add(sv, f64x2.add(f64x2.promote_low_f32x4(e), f64x2.promote_low_f32x4(i32x4.shuffle(e, e, 2, 3, 0, 1))));
    }
    for (; c < C; c++) {
      const e = f32x4.extract_lane(vexp(f32x4.splat(load<f32>(px + <usize>c * 4) - m)), 0);
      if (!log) store<f32>(po + <usize>c * 4, e);
      s += <f64>e;
    }
    s += f64x2.extract_lane(sv, 0) + f64x2.extract_lane(sv, 1);
    if (log) {
      const lse = <f32>(<f64>m + (s != s ? s : s == 0 ? -Infinity : logPos(s)));
      const L = f32x4.splat(lse);
      for (c = 0; c < n4; c += 4) v128.store(po + <usize>c * 4, f32x4.sub(v128.load(px + <usize>c * 4), L));
      for (; c < C; c++) store<f32>(po + <usize>c * 4, load<f32>(px + <usize>c * 4) - lse);
    } else {
      const inv = f32x4.splat(<f32>(1 / s));
      for (c = 0; c < n4; c += 4) v128.store(po + <usize>c * 4, f32x4.mul(v128.load(po + <usize>c * 4), inv));
      for (; c < C; c++) store<f32>(po + <usize>c * 4, <f32>(<f64>load<f32>(po + <usize>c * 4) / s));
    }
  }
}

// ---- Schedule-Free AdamW and LAMB (issue 14) ----------------------------------------------

/**
 * Schedule-Free AdamW over n float32 values in place (no inner momentum), in the order of
 * adamwScheduleFreeUpdate in src/optim/updates.ts: v = b2*v + (1-b2)*g*g; u = g / (sqrt(v/bc2) + eps);
 * u += wd*y; y = lerp(y, z, c); y += a*u (a = lr*(b1*(1-c) - 1)); z -= lr*u.
 */
export function adamwScheduleFree(
  y: usize, g: usize, z: usize, v: usize, n: i32,
  c: f32, a: f32, lr: f32, b2: f32, w2: f32, bc2: f32, eps: f32, wd: f32,
): void {
  const lowC = abs<f32>(c) < 0.5, oc: f32 = 1 - c;
  const C = f32x4.splat(c), OC = f32x4.splat(oc), A = f32x4.splat(a), LR = f32x4.splat(lr), B2 = f32x4.splat(b2);
  const W2 = f32x4.splat(w2), BC = f32x4.splat(bc2), EPS = f32x4.splat(eps), WD = f32x4.splat(wd);
  const useWd = wd != 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const q = <usize>i * 4;
    const gv = v128.load(g + q), yv = v128.load(y + q), zv = v128.load(z + q);
    const vv = f32x4.add(f32x4.mul(v128.load(v + q), B2), f32x4.mul(f32x4.mul(W2, gv), gv));
    let u = f32x4.div(gv, f32x4.add(f32x4.sqrt(f32x4.div(vv, BC)), EPS));
    if (useWd) u = f32x4.add(u, f32x4.mul(WD, yv));
    const d = f32x4.sub(zv, yv);
    const l = lowC ? f32x4.add(yv, f32x4.mul(C, d)) : f32x4.sub(zv, f32x4.mul(d, OC));
    v128.store(y + q, f32x4.add(l, f32x4.mul(A, u)));
    v128.store(z + q, f32x4.sub(zv, f32x4.mul(LR, u)));
    v128.store(v + q, vv);
  }
  for (; i < n; i++) {
    const q = <usize>i * 4;
    const gv = load<f32>(g + q), yv = load<f32>(y + q), zv = load<f32>(z + q);
    const vv = load<f32>(v + q) * b2 + w2 * gv * gv;
    let u = gv / (sqrt<f32>(vv / bc2) + eps);
    if (useWd) u = u + wd * yv;
    const l = lowC ? yv + c * (zv - yv) : zv - (zv - yv) * oc;
    store<f32>(y + q, l + a * u);
    store<f32>(z + q, zv - lr * u);
    store<f32>(v + q, vv);
  }
}

/** Σ x² over n float32 values, accumulated in f64 (the trust ratio's ‖θ‖²). */
export function sumSquares(x: usize, n: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const v = <f64>load<f32>(x + <usize>i * 4);
    s += v * v;
  }
  return s;
}

/**
 * LAMB's first pass over n float32 values: m = w1*g + b1*m; v = w2*(g*g) + b2*v (optax's order), and
 * returns Σ u² in f64 for u = m/bc1 / (sqrt(v/bc2 + epsRoot) + eps) + wd*p.
 */
export function lambMoments(
  p: usize, g: usize, m: usize, v: usize, n: i32,
  w1: f32, b1: f32, w2: f32, b2: f32, bc1: f32, bc2: f32, eps: f32, epsRoot: f32, wd: f32,
): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const q = <usize>i * 4;
    const gv = load<f32>(g + q);
    const mv = w1 * gv + b1 * load<f32>(m + q);
    const vv = w2 * (gv * gv) + b2 * load<f32>(v + q);
    store<f32>(m + q, mv);
    store<f32>(v + q, vv);
    let u = mv / bc1 / (sqrt<f32>(vv / bc2 + epsRoot) + eps);
    if (wd != 0) u = u + wd * load<f32>(p + q);
    s += <f64>u * <f64>u;
  }
  return s;
}

/** LAMB's second pass: p += nlr * (u * tr), u recomputed from the stored m, v as in lambMoments. */
export function lambApply(
  p: usize, m: usize, v: usize, n: i32, bc1: f32, bc2: f32, eps: f32, epsRoot: f32, wd: f32, nlr: f32, tr: f32,
): void {
  for (let i = 0; i < n; i++) {
    const q = <usize>i * 4;
    const pv = load<f32>(p + q);
    let u = load<f32>(m + q) / bc1 / (sqrt<f32>(load<f32>(v + q) / bc2 + epsRoot) + eps);
    if (wd != 0) u = u + wd * pv;
    store<f32>(p + q, pv + nlr * (u * tr));
  }
}

// ---- convolution and pooling (issue 12) -----------------------------------------------------
export {
  im2col, col2im, addBias, transposeBatched, maxPool, planeScatter, planeGather, padPlanes, convDirect,
  convTask,
} from './conv';

// ---- Muon and Adafactor (issue 14): assembly/optim.ts ---------------------------------
export * from './optim';

// Layer / RMS normalisation rows (norm.ts).
export { layerNormRows, layerNormBackRows } from './norm';

// Strided copy (strided.ts).
export { stridedCopy4, stridedWrite4, zero } from './strided';
