/**
 * Convolution and pooling in WebAssembly (float32), over plain typed arrays with the contracts of the
 * reference kernels in src/backend/cpu/conv.ts (the oracle they are tested against). The input is
 * copied into WebAssembly memory once; the column matrix is built there (assembly/conv.ts), multiplied
 * by the packed GEMM of assembly/kernels.ts (one task per image, or per row block, on the worker pool)
 * and scattered back there; only the result is copied out. Each function returns null when the call
 * does not fit the scratch memory (the caller then runs the reference kernel).
 */
import type { ConvGeom, PoolGeom } from '../backend.js';
import { parallelFlops } from './index.js';
import {
  alloc,
  F32,
  I32,
  K,
  PACK,
  reset,
  runTasks,
  SCRATCH_LIMIT,
  setTask,
  TASK_CAP,
  TASK_GEMM,
  threadsAvailable,
} from './runtime.js';

/** The exports of assembly/conv.ts (pointers are byte offsets; see there). */
interface ConvExports {
  im2col(
    x: number,
    C: number,
    H: number,
    W: number,
    kh: number,
    kw: number,
    ho: number,
    wo: number,
    sh: number,
    sw: number,
    ph: number,
    pw: number,
    dh: number,
    dw: number,
    col: number,
    ldc: number,
  ): void;
  col2im(
    col: number,
    ldc: number,
    C: number,
    H: number,
    W: number,
    kh: number,
    kw: number,
    ho: number,
    wo: number,
    sh: number,
    sw: number,
    ph: number,
    pw: number,
    dh: number,
    dw: number,
    x: number,
  ): void;
  addBias(y: number, bias: number, N: number, O: number, L: number): void;
  transposeBatched(src: number, dst: number, B: number, R: number, C: number): void;
  maxPool(
    x: number,
    planes: number,
    H: number,
    W: number,
    kh: number,
    kw: number,
    ho: number,
    wo: number,
    sh: number,
    sw: number,
    ph: number,
    pw: number,
    dh: number,
    dw: number,
    idx: number,
    val: number,
  ): void;
  padPlanes(x: number, P: number, ...geom: number[]): void;
  convDirect(xp: number, w: number, bias: number, hasBias: number, y: number, ...geom: number[]): void;
  spreadRows(g: number, P: number, ho: number, wo: number, Wp: number, F: number, g2: number): void;
  convDirectWeight(xp: number, g2: number, gw: number, ...geom: number[]): void;
  planeScatter(g: number, idx: number, planes: number, per: number, hw: number, out: number): void;
  planeGather(x: number, idx: number, planes: number, per: number, hw: number, out: number): void;
}
const KC = K as unknown as ConvExports;

const put = (src: Float32Array | Int32Array, p: number): void => {
  if (src instanceof Float32Array) F32.set(src, p / 4);
  else I32.set(src, p / 4);
};
const take = (p: number, n: number): Float32Array => F32.slice(p / 4, p / 4 + n);
const fits = (floats: number): boolean => floats * 4 <= SCRATCH_LIMIT;

/** The first geometry arguments of im2col/col2im: C, H, W, kh, kw, ho, wo (strides, pads, dilations follow). */
const geo = (g: ConvGeom): [number, number, number, number, number, number, number] => [
  g.c,
  g.h,
  g.w,
  g.kh,
  g.kw,
  g.ho,
  g.wo,
];

/** Taps per output (C/groups·kh·kw) up to which a stride-1 conv runs directly, without a column matrix. */
const DIRECT_TAPS = 27;
const direct = (g: ConvGeom): boolean => g.sh === 1 && g.sw === 1 && (g.c / g.groups) * g.kh * g.kw <= DIRECT_TAPS;
/**
 * The direct kernels' layout: padded rows of wp floats, hp of them; output planes of f floats (ho·wp
 * rounded up to 16 lanes); padded input planes of ps floats (f plus the farthest tap, so every read is in).
 */
function padded(g: ConvGeom): { hp: number; wp: number; f: number; ps: number } {
  const wp = g.wo + (g.kw - 1) * g.dw,
    hp = g.ho + (g.kh - 1) * g.dh;
  const f = Math.ceil((g.ho * wp) / 16) * 16;
  return { hp, wp, f, ps: f + (g.kh - 1) * g.dh * wp + (g.kw - 1) * g.dw };
}
/** Copies x in and pads it (padPlanes); returns the padded planes' address. */
function padIn(x: Float32Array, g: ConvGeom): number {
  const { hp, wp, ps } = padded(g);
  const px = alloc(x.length),
    pp = alloc(g.n * g.c * ps);
  put(x, px);
  KC.padPlanes(px, g.n * g.c, g.h, g.w, g.ph, g.pw, hp, wp, ps, pp);
  return pp;
}

/**
 * Runs GEMM tasks [a, ars, acs, b, brs, bcs, c, m, k, n] (rows 0..m each) on the pool when the work is
 * large enough to pay for the round trip, else here.
 */
function gemms(tasks: number[][], flops: number): void {
  const threads = flops >= parallelFlops ? threadsAvailable() : 1;
  if (threads === 1 || tasks.length > TASK_CAP) {
    for (const t of tasks) K.gemm(t[0]!, t[1]!, t[2]!, t[3]!, t[4]!, t[5]!, t[6]!, t[7]!, t[8]!, t[9]!, 0, t[7]!, PACK);
    return;
  }
  tasks.forEach((t, i) => setTask(i, TASK_GEMM, [...t, 0, t[7]!]));
  runTasks(tasks.length);
}

/** y [N, O, Ho, Wo] = conv(x, w [O, C/groups, kh, kw]) + bias: im2col per image, then one GEMM per image and group. */
export function conv2d(
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  g: ConvGeom,
  o: number,
): Float32Array | null {
  const G = g.groups,
    og = o / G,
    kg = (g.c / G) * g.kh * g.kw,
    ck = g.c * g.kh * g.kw,
    L = g.ho * g.wo,
    chw = g.c * g.h * g.w;
  if (direct(g)) {
    const { wp, f, ps } = padded(g);
    if (!fits(x.length + g.n * g.c * ps + w.length + o + g.n * o * L + f + 64)) return null;
    reset();
    const pp = padIn(x, g),
      pw = alloc(w.length),
      pb = alloc(o),
      py = alloc(g.n * o * L),
      pr = alloc(f);
    put(w, pw);
    if (bias) put(bias, pb);
    const geom = [g.n, g.c, o, g.groups, wp, ps, f, g.kh, g.kw, g.ho, g.wo, g.dh, g.dw, pr];
    KC.convDirect(pp, pw, pb, bias ? 1 : 0, py, ...geom);
    return take(py, g.n * o * L);
  }
  if (!fits(x.length + w.length + g.n * (ck + o) * L + o + 64)) return null;
  reset();
  const px = alloc(x.length),
    pw = alloc(w.length),
    pc = alloc(g.n * ck * L),
    py = alloc(g.n * o * L),
    pb = alloc(o);
  put(x, px);
  put(w, pw);
  if (bias) put(bias, pb);
  for (let n = 0; n < g.n; n++) {
    KC.im2col(px + n * chw * 4, ...geo(g), g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, pc + n * ck * L * 4, L);
  }
  const tasks: number[][] = [];
  for (let n = 0; n < g.n; n++) {
    for (let q = 0; q < G; q++) {
      const b = pc + (n * ck + q * kg) * L * 4;
      tasks.push([pw + q * og * kg * 4, kg, 1, b, L, 1, py + (n * o + q * og) * L * 4, og, kg, L]);
    }
  }
  gemms(tasks, 2 * g.n * o * kg * L);
  if (bias) KC.addBias(py, pb, g.n, o, L);
  return take(py, g.n * o * L);
}

/** x [N, C, H, W] = convᵀ(gy [N, O, Ho, Wo], w): per image and group colᵍ = wᵍᵀ · gyᵍ, then col2im. */
export function conv2dInput(gy: Float32Array, w: Float32Array, g: ConvGeom, o: number): Float32Array | null {
  const G = g.groups,
    og = o / G,
    kg = (g.c / G) * g.kh * g.kw,
    ck = g.c * g.kh * g.kw,
    L = g.ho * g.wo,
    chw = g.c * g.h * g.w;
  if (!fits(gy.length + w.length + g.n * (ck * L + chw) + 64)) return null;
  reset();
  const pg = alloc(gy.length),
    pw = alloc(w.length),
    pc = alloc(g.n * ck * L),
    px = alloc(g.n * chw);
  put(gy, pg);
  put(w, pw);
  const tasks: number[][] = [];
  for (let n = 0; n < g.n; n++) {
    for (let q = 0; q < G; q++) {
      // A = wᵍ read transposed: element (i, p) = w[q·og + p, i].
      const b = pg + (n * o + q * og) * L * 4;
      tasks.push([pw + q * og * kg * 4, 1, kg, b, L, 1, pc + (n * ck + q * kg) * L * 4, kg, og, L]);
    }
  }
  gemms(tasks, 2 * g.n * o * kg * L);
  for (let n = 0; n < g.n; n++) {
    KC.col2im(pc + n * ck * L * 4, L, ...geo(g), g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, px + n * chw * 4);
  }
  return take(px, g.n * chw);
}

/**
 * gw [O, C/groups, kh, kw] = Σₙ gy[n] · im2col(x)[n]ᵀ as one GEMM over all N·L columns per group:
 * gwᵀ [kg, og] = col [kg, N·L] · gyᵀ [N·L, og], row blocks on the pool, then transposed into gw.
 */
export function conv2dWeight(x: Float32Array, gy: Float32Array, g: ConvGeom, o: number): Float32Array | null {
  const G = g.groups,
    og = o / G,
    kg = (g.c / G) * g.kh * g.kw,
    ck = g.c * g.kh * g.kw,
    L = g.ho * g.wo,
    NL = g.n * L,
    chw = g.c * g.h * g.w;
  if (direct(g)) {
    const { wp, f, ps } = padded(g);
    if (!fits(x.length + g.n * g.c * ps + gy.length + g.n * o * f + o * kg + 64)) return null;
    reset();
    const pp = padIn(x, g),
      pg = alloc(gy.length),
      p2 = alloc(g.n * o * f),
      pr = alloc(o * kg);
    put(gy, pg);
    KC.spreadRows(pg, g.n * o, g.ho, g.wo, wp, f, p2);
    KC.convDirectWeight(pp, p2, pr, g.n, g.c, o, g.groups, wp, ps, f, g.kh, g.kw, g.dh, g.dw);
    return take(pr, o * kg);
  }
  if (!fits(x.length + 2 * gy.length + ck * NL + o * kg + 64)) return null;
  reset();
  const px = alloc(x.length),
    pg = alloc(gy.length),
    pc = alloc(ck * NL),
    pt = alloc(gy.length),
    pr = alloc(o * kg);
  put(x, px);
  put(gy, pg);
  for (let n = 0; n < g.n; n++) {
    KC.im2col(px + n * chw * 4, ...geo(g), g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, pc + n * L * 4, NL);
  }
  KC.transposeBatched(pg, pt, g.n, o, L);
  const flops = 2 * o * kg * NL;
  const threads = flops >= parallelFlops ? threadsAvailable() : 1;
  const rows = Math.max(4, Math.ceil(kg / threads / 4) * 4);
  const tasks: number[][] = [];
  for (let q = 0; q < G; q++) {
    for (let r0 = 0; r0 < kg; r0 += rows) {
      const r1 = Math.min(kg, r0 + rows);
      tasks.push([pc + q * kg * NL * 4, NL, 1, pt + q * og * 4, o, 1, pr + q * kg * og * 4, kg, NL, og, r0, r1]);
    }
  }
  if (threads === 1 || tasks.length > TASK_CAP) {
    for (const t of tasks)
      K.gemm(t[0]!, t[1]!, t[2]!, t[3]!, t[4]!, t[5]!, t[6]!, t[7]!, t[8]!, t[9]!, t[10]!, t[11]!, PACK);
  } else {
    tasks.forEach((t, i) => setTask(i, TASK_GEMM, t));
    runTasks(tasks.length);
  }
  const gw = new Float32Array(o * kg),
    base = pr / 4;
  for (let q = 0; q < G; q++) {
    const src = base + q * kg * og;
    for (let oo = 0; oo < og; oo++) {
      const d = (q * og + oo) * kg;
      for (let r = 0; r < kg; r++) gw[d + r] = F32[src + r * og + oo]!;
    }
  }
  return gw;
}

/** Max pooling: the in-plane index and the value of each window's maximum (first on ties, a NaN wins). */
export function maxPool(x: Float32Array, g: PoolGeom): { idx: Int32Array; val: Float32Array } | null {
  const m = g.planes * g.ho * g.wo;
  if (!fits(x.length + 2 * m + 64)) return null;
  reset();
  const px = alloc(x.length),
    pi = alloc(m),
    pv = alloc(m);
  put(x, px);
  KC.maxPool(px, g.planes, g.h, g.w, g.kh, g.kw, g.ho, g.wo, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, pi, pv);
  return { idx: I32.slice(pi / 4, pi / 4 + m), val: take(pv, m) };
}

/** out (zeroed) [p, idx[p, k]] += gr[p, k] over planes of `hw` values; false if it does not fit. */
export function planeScatter(gr: Float32Array, idx: Int32Array, hw: number, per: number, out: Float32Array): boolean {
  if (!fits(gr.length + idx.length + out.length + 64)) return false;
  reset();
  const pg = alloc(gr.length),
    pi = alloc(idx.length),
    po = alloc(out.length);
  put(gr, pg);
  put(idx, pi);
  KC.planeScatter(pg, pi, idx.length / per, per, hw, po);
  out.set(F32.subarray(po / 4, po / 4 + out.length));
  return true;
}

/** out[p, k] = x[p, idx[p, k]] over planes of `hw` values; false if it does not fit. */
export function planeGather(x: Float32Array, idx: Int32Array, hw: number, per: number, out: Float32Array): boolean {
  if (!fits(x.length + idx.length + out.length + 64)) return false;
  reset();
  const px = alloc(x.length),
    pi = alloc(idx.length),
    po = alloc(out.length);
  put(x, px);
  put(idx, pi);
  KC.planeGather(px, pi, idx.length / per, per, hw, po);
  out.set(F32.subarray(po / 4, po / 4 + out.length));
  return true;
}
