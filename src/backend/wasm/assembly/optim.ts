// Muon and Adafactor update kernels (issue 14), exported from kernels.ts.
// Each computes in f64 and rounds to f32 where src/optim/updates.ts stores into a Float32Array,
// in the same order, so these passes are bit-identical to the reference update over float32.
// Muon's Newton–Schulz matmuls are the GEMM of kernels.ts (f32) and are not.

/** ATen's lerp(a, b, w): two formulas, split at |w| < 0.5 (as `lerp` in src/optim/updates.ts). */
@inline function lerp64(a: f64, b: f64, w: f64): f64 {
  return abs<f64>(w) < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w);
}

/** Two f32 at p as an f64x2. */
@inline function load2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}
/** Rounds an f64x2 to f32 and back (the reference's store into a Float32Array). */
@inline function round2(v: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(v));
}
/** Stores an f64x2 as two f32 at p. */
@inline function store2(p: usize, v: v128): void {
  v128.store64_lane(p, f32x4.demote_f64x2_zero(v), 0);
}

/**
 * Muon's momentum over an R×C matrix: buf = lerp(buf, g, w); u = nesterov ? lerp(g, buf, mom) : buf,
 * written to x in row-major R×C, or transposed (C×R) when `transpose`.
 */
export function muonMomentum(
  g: usize, buf: usize, x: usize, R: i32, C: i32, w: f64, mom: f64, nesterov: bool, transpose: bool,
): void {
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) {
      const q = <usize>(r * C + c) * 4;
      const gv = <f64>load<f32>(g + q);
      const b = <f32>lerp64(<f64>load<f32>(buf + q), gv, w);
      store<f32>(buf + q, b);
      const u = nesterov ? <f32>lerp64(gv, <f64>b, mom) : b;
      store<f32>(x + (transpose ? <usize>(c * R + r) * 4 : q), u);
    }
  }
}

/** x = x / d over n values, the division in f64 (the reference divides doubles). */
export function divideBy(x: usize, n: i32, d: f64): void {
  for (let i = 0; i < n; i++) {
    const q = x + <usize>i * 4;
    store<f32>(q, <f32>(<f64>load<f32>(q) / d));
  }
}

/** y = alpha*x + beta*y over n float32 values (a Newton–Schulz combination step), f32 SIMD. */
export function axpby(x: usize, y: usize, n: i32, alpha: f32, beta: f32): void {
  const A = f32x4.splat(alpha), B = f32x4.splat(beta);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const q = <usize>i * 4;
    v128.store(y + q, f32x4.add(f32x4.mul(A, v128.load(x + q)), f32x4.mul(B, v128.load(y + q))));
  }
  for (; i < n; i++) {
    const q = <usize>i * 4;
    store<f32>(y + q, alpha * load<f32>(x + q) + beta * load<f32>(y + q));
  }
}

/**
 * Muon's apply over an R×C matrix: p = p*decay; p = p + nlr*o, o read from x in row-major R×C or
 * transposed (C×R) when `transpose`; two f32 roundings, as the reference stores twice.
 */
export function muonApply(p: usize, x: usize, R: i32, C: i32, decay: f64, nlr: f64, transpose: bool): void {
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) {
      const q = <usize>(r * C + c) * 4;
      const o = <f64>load<f32>(x + (transpose ? <usize>(c * R + r) * 4 : q));
      const pd = <f64>(<f32>(<f64>load<f32>(p + q) * decay));
      store<f32>(p + q, <f32>(pd + nlr * o));
    }
  }
}

/**
 * Adafactor's statistics of an R×C gradient block: rows[r] = Σ_c g² (in
 * column order) and cols[c] = Σ_r g² (in row order), both f64 (the sign of g does not matter).
 */
export function adafactorSquares(g: usize, R: i32, C: i32, rows: usize, cols: usize): void {
  for (let c = 0; c < C; c++) store<f64>(cols + <usize>c * 8, 0);
  for (let r = 0; r < R; r++) {
    const gr = g + <usize>(r * C) * 4;
    let s: f64 = 0;
    let c = 0;
    // Two columns at a time: the column sums in f64x2 lanes, the row sum still in column order.
    for (; c + 2 <= C; c += 2) {
      const v = load2(gr + <usize>c * 4);
      const v2 = f64x2.mul(v, v);
      s += f64x2.extract_lane(v2, 0);
      s += f64x2.extract_lane(v2, 1);
      const q = cols + <usize>c * 8;
      v128.store(q, f64x2.add(v128.load(q), v2));
    }
    for (; c < C; c++) {
      const v = <f64>load<f32>(gr + <usize>c * 4);
      const v2 = v * v;
      s += v2;
      const q = cols + <usize>c * 8;
      store<f64>(q, load<f64>(q) + v2);
    }
    store<f64>(rows + <usize>r * 8, s);
  }
}

/**
 * Adafactor's factored update of an R×C block: u = (1/√max(f32(rowVar·colVar/rowMean), floor))·sign·g,
 * stored to u as f32; returns acc + Σ u² (in order).
 */
export function adafactorFactored(
  g: usize, rowVar: usize, colVar: usize, u: usize, R: i32, C: i32, rowMean: f64, floor: f64, sign: f64, acc: f64,
): f64 {
  let s = acc;
  const RM = f64x2.splat(rowMean), FL = f64x2.splat(floor), SG = f64x2.splat(sign), ONE = f64x2.splat(1);
  for (let r = 0; r < R; r++) {
    const rv = <f64>load<f32>(rowVar + <usize>r * 4), RV = f64x2.splat(rv);
    const base = <usize>(r * C) * 4;
    let c = 0;
    // The same f64 operations two lanes at a time (IEEE: lane results equal the scalar ones), ΣU² in order.
    for (; c + 2 <= C; c += 2) {
      const q = base + <usize>c * 4;
      const vh = round2(f64x2.div(f64x2.mul(RV, load2(colVar + <usize>c * 4)), RM));
      const uv = round2(f64x2.mul(f64x2.div(ONE, f64x2.sqrt(f64x2.max(vh, FL))), f64x2.mul(SG, load2(g + q))));
      store2(u + q, uv);
      const u2 = f64x2.mul(uv, uv);
      s += f64x2.extract_lane(u2, 0);
      s += f64x2.extract_lane(u2, 1);
    }
    for (; c < C; c++) {
      const q = base + <usize>c * 4;
      const vh = <f64>(<f32>((rv * <f64>load<f32>(colVar + <usize>c * 4)) / rowMean));
      const uv = <f32>((1 / sqrt<f64>(max<f64>(vh, floor))) * (sign * <f64>load<f32>(g + q)));
      store<f32>(u + q, uv);
      const u64 = <f64>uv;
      s += u64 * u64;
    }
  }
  return s;
}

/**
 * Adafactor's unfactored update over n values: v = lerp(v, g², w); u = (1/√max(v, floor))·g with
 * g = sign·grad, stored to u; returns Σ u² (in order).
 */
export function adafactorVector(g: usize, v: usize, u: usize, n: i32, w: f64, floor: f64, sign: f64): f64 {
  let s: f64 = 0;
  const low = abs<f64>(w) < 0.5;
  const W = f64x2.splat(w), OW = f64x2.splat(1 - w), FL = f64x2.splat(floor), SG = f64x2.splat(sign);
  const ONE = f64x2.splat(1);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const q = <usize>i * 4;
    const gv = f64x2.mul(SG, load2(g + q)),
      a = load2(v + q),
      b = f64x2.mul(gv, gv);
    const d = f64x2.sub(b, a);
    const vv = round2(low ? f64x2.add(a, f64x2.mul(W, d)) : f64x2.sub(b, f64x2.mul(d, OW)));
    store2(v + q, vv);
    const uv = round2(f64x2.mul(f64x2.div(ONE, f64x2.sqrt(f64x2.max(vv, FL))), gv));
    store2(u + q, uv);
    const u2 = f64x2.mul(uv, uv);
    s += f64x2.extract_lane(u2, 0);
    s += f64x2.extract_lane(u2, 1);
  }
  for (; i < n; i++) {
    const q = <usize>i * 4;
    const gv = sign * <f64>load<f32>(g + q);
    const vv = <f32>lerp64(<f64>load<f32>(v + q), gv * gv, w);
    store<f32>(v + q, vv);
    const uv = <f32>((1 / sqrt<f64>(max<f64>(<f64>vv, floor))) * gv);
    store<f32>(u + q, uv);
    const u64 = <f64>uv;
    s += u64 * u64;
  }
  return s;
}

/** Adafactor's apply: p = p*decay (when decay ≠ 1), then p = p + s*u; two f32 roundings, as the reference. */
export function adafactorApply(p: usize, u: usize, n: i32, decay: f64, s: f64): void {
  const dec = decay != 1;
  const DEC = f64x2.splat(decay), S = f64x2.splat(s);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const q = <usize>i * 4;
    let pv = load2(p + q);
    if (dec) pv = round2(f64x2.mul(pv, DEC));
    store2(p + q, f64x2.add(pv, f64x2.mul(S, load2(u + q))));
  }
  for (; i < n; i++) {
    const q = <usize>i * 4;
    let pv = <f64>load<f32>(p + q);
    if (dec) pv = <f64>(<f32>(pv * decay));
    store<f32>(p + q, <f32>(pv + s * <f64>load<f32>(u + q)));
  }
}
