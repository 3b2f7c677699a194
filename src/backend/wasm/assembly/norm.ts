// Layer / RMS normalisation over contiguous rows (float32, SIMD), for the layerNorm primitive
// (src/ops/norm-fused.ts). Row statistics accumulate in f64 lanes; values are f32.

/** Horizontal sum of two f64 lanes. */
@inline function hsum(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}
/** Adds the four f32 lanes of x to the two f64 lanes of acc. */
@inline function acc4(acc: v128, x: v128): v128 {
  return f64x2.add(acc, f64x2.add(f64x2.promote_low_f32x4(x), f64x2.promote_low_f32x4(i32x4.shuffle(x, x, 2, 3, 0, 1))));
}
// The statistics of the last row rowStats saw (globals are per instance, so per thread).
let rowMean: f64 = 0,
  rowRstd: f64 = 0;
/** Mean (0 when rms) and 1/√(var + eps) of one row of C values at p; var is mean((x − mean)²). */
@inline function rowStats(p: usize, C: i32, eps: f64, rms: i32): void {
  const n4 = C & ~3;
  let mu: f64 = 0;
  if (!rms) {
    let sv = f64x2.splat(0);
    let c = 0;
    for (; c < n4; c += 4) sv = acc4(sv, v128.load(p + <usize>c * 4));
    let s = hsum(sv);
    for (; c < C; c++) s += <f64>load<f32>(p + <usize>c * 4);
    mu = s / <f64>C;
  }
  const M = f32x4.splat(<f32>mu);
  let qv = f64x2.splat(0);
  let c = 0;
  for (; c < n4; c += 4) {
    const d = f32x4.sub(v128.load(p + <usize>c * 4), M);
    qv = acc4(qv, f32x4.mul(d, d));
  }
  let q = hsum(qv);
  for (; c < C; c++) {
    const d = <f64>load<f32>(p + <usize>c * 4) - mu;
    q += d * d;
  }
  rowMean = mu;
  rowRstd = 1 / Math.sqrt(q / <f64>C + eps);
}

/**
 * o = (x − mean)·r (·w + b) per row of C, r = 1/√(var + eps); `rms`: no mean. w, b: C values or 0 (absent).
 */
export function layerNormRows(x: usize, w: usize, b: usize, o: usize, R: i32, C: i32, eps: f64, rms: i32): void {
  const n4 = C & ~3;
  for (let r = 0; r < R; r++) {
    const px = x + <usize>r * C * 4, po = o + <usize>r * C * 4;
    rowStats(px, C, eps, rms);
    const mu = <f32>rowMean, rs = <f32>rowRstd;
    const M = f32x4.splat(mu), S = f32x4.splat(rs);
    let c = 0;
    for (; c < n4; c += 4) {
      const q = <usize>c * 4;
      let y = f32x4.mul(f32x4.sub(v128.load(px + q), M), S);
      if (w) y = f32x4.mul(y, v128.load(w + q));
      if (b) y = f32x4.add(y, v128.load(b + q));
      v128.store(po + q, y);
    }
    for (; c < C; c++) {
      const q = <usize>c * 4;
      let y = (load<f32>(px + q) - mu) * rs;
      if (w) y *= load<f32>(w + q);
      if (b) y += load<f32>(b + q);
      store<f32>(po + q, y);
    }
  }
}

/** o = r·(g − mean(g) − x̂·mean(g·x̂)) per row of C (`rms`: without the mean(g) term), x̂ = (x − mean)·r. */
export function layerNormBackRows(g: usize, x: usize, o: usize, R: i32, C: i32, eps: f64, rms: i32): void {
  const n4 = C & ~3;
  for (let r = 0; r < R; r++) {
    const px = x + <usize>r * C * 4, pg = g + <usize>r * C * 4, po = o + <usize>r * C * 4;
    rowStats(px, C, eps, rms);
    const mu = <f32>rowMean, rs = <f32>rowRstd;
    const M = f32x4.splat(mu), S = f32x4.splat(rs);
    let gv = f64x2.splat(0), hv = f64x2.splat(0);
    let c = 0;
    for (; c < n4; c += 4) {
      const q = <usize>c * 4;
      const gg = v128.load(pg + q);
      gv = acc4(gv, gg);
      hv = acc4(hv, f32x4.mul(gg, f32x4.mul(f32x4.sub(v128.load(px + q), M), S)));
    }
    let gs = hsum(gv), hs = hsum(hv);
    for (; c < C; c++) {
      const q = <usize>c * 4;
      const gg = <f64>load<f32>(pg + q);
      gs += gg;
      hs += gg * <f64>((load<f32>(px + q) - mu) * rs);
    }
    const gm = f32x4.splat(rms ? 0 : <f32>(gs / <f64>C)), hm = f32x4.splat(<f32>(hs / <f64>C));
    for (c = 0; c < n4; c += 4) {
      const q = <usize>c * 4;
      const xh = f32x4.mul(f32x4.sub(v128.load(px + q), M), S);
      v128.store(po + q, f32x4.mul(S, f32x4.sub(f32x4.sub(v128.load(pg + q), gm), f32x4.mul(xh, hm))));
    }
    const gm1 = f32x4.extract_lane(gm, 0), hm1 = f32x4.extract_lane(hm, 0);
    for (; c < C; c++) {
      const q = <usize>c * 4;
      const xh = (load<f32>(px + q) - mu) * rs;
      store<f32>(po + q, rs * (load<f32>(pg + q) - gm1 - xh * hm1));
    }
  }
}
