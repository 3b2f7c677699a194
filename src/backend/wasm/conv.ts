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
  TASK_CONV,
  TASK_GEMM,
  threadsAvailable,
} from './runtime.js';
import { limits, residentBlock, settle, type WasmBuffer } from './storage.js';

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
  convTask(id: number, prm: number, lo: number, hi: number, slot: number, pack: number): void;
  planeScatter(g: number, idx: number, planes: number, per: number, hw: number, out: number): void;
  planeGather(x: number, idx: number, planes: number, per: number, hw: number, out: number): void;
}
const KC = K as unknown as ConvExports;

/** An input: its resident byte address (read in place), or host values (copied into scratch). */
export type Src = number | Float32Array;
const put = (src: Float32Array | Int32Array, p: number): void => {
  if (src instanceof Float32Array) F32.set(src, p / 4);
  else I32.set(src, p / 4);
};
/** The address of an input's values: itself when resident, else a scratch copy. */
function addr(s: Src | Int32Array): number {
  if (typeof s === 'number') return s;
  const p = alloc(s.length);
  put(s, p);
  return p;
}
/** Scratch floats an input needs (none when resident). */
const need = (s: Src | null): number => (s === null || typeof s === 'number' ? 0 : s.length);
const take = (p: number, n: number): Float32Array => F32.slice(p / 4, p / 4 + n);
const fits = (floats: number): boolean => floats * 4 <= SCRATCH_LIMIT;
/** An op's output: a new resident block, or scratch copied out to a host array at the end. */
export type Out = Float32Array | WasmBuffer;
function sink(n: number, resident: boolean): { p: number; done: () => Out } {
  if (resident) {
    const { buf, p } = residentBlock(n);
    return {
      p,
      done: () => {
        settle();
        return buf;
      },
    };
  }
  const p = alloc(n);
  return { p, done: () => take(p, n) };
}
/** Whether an output of `n` values stays resident: residency on, and large or read from a resident input. */
export const keepResident = (n: number, ...xs: (Src | null)[]): boolean =>
  limits.resident && n > 0 && (n >= limits.minResidentElements || xs.some((s) => typeof s === 'number'));

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
/** Places x and pads it (padPlanes); returns the padded planes' address. */
function padIn(x: Src, g: ConvGeom): number {
  const { hp, wp, ps } = padded(g);
  const px = addr(x),
    pp = alloc(g.n * g.c * ps);
  KC.padPlanes(px, g.n * g.c, g.h, g.w, g.ph, g.pw, hp, wp, ps, pp);
  return pp;
}

/**
 * Work (flops; for pooling, input elements) from which a conv or pooling kernel splits across threads. Measured on
 * 2 vCPUs: splitting conv1 (3.6 MFLOP) or the pooling kernels made the 2-thread CNN step slower (224 against 254
 * steps/s), and so did splitting conv2 (14 MFLOP per op: 212–240 against 257–268 steps/s on one thread each).
 */
export const splitAt = { conv: 1e8, pool: 1e9 };
/** Threads (so scratch slots) for `work` over `total` units: one below the threshold or without workers. */
const threadsFor = (work: number, total: number, at: number): number =>
  work >= Math.min(at, parallelFlops) ? Math.max(1, Math.min(threadsAvailable(), total, TASK_CAP)) : 1;
/**
 * Runs convTask `id` (assembly/conv.ts) over units [0, total): here in one call on one thread, else as one
 * contiguous range per thread on the pool (scratch slot i for range i).
 */
function run(id: number, args: number[], total: number, threads: number): void {
  const p = alloc(args.length);
  for (let i = 0; i < args.length; i++) I32[p / 4 + i] = args[i]!;
  if (threads <= 1) {
    KC.convTask(id, p, 0, total, 0, PACK);
    return;
  }
  for (let i = 0; i < threads; i++) {
    setTask(i, TASK_CONV, [id, p, Math.floor((total * i) / threads), Math.floor((total * (i + 1)) / threads), i]);
  }
  runTasks(threads);
}

/** y [N, O, Ho, Wo] = conv(x, w [O, C/groups, kh, kw]) + bias: im2col per image, then one GEMM per image and group. */
export function conv2d(
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  g: ConvGeom,
  o: number,
): Float32Array | null {
  return conv2dAt(x, w, bias, g, o, false) as Float32Array | null;
}
/** conv2d over inputs in place or on the host; the output resident when `resident`. */
export function conv2dAt(x: Src, w: Src, bias: Src | null, g: ConvGeom, o: number, resident: boolean): Out | null {
  const G = g.groups,
    kg = (g.c / G) * g.kh * g.kw,
    ck = g.c * g.kh * g.kw,
    L = g.ho * g.wo;
  const ny = g.n * o * L,
    small = need(x) + need(w) + need(bias) + o + 64;
  const th = threadsFor(2 * ny * kg, g.n, splitAt.conv);
  if (direct(g)) {
    const { wp, f, ps } = padded(g);
    if (!fits(small + g.n * g.c * ps + (resident ? 0 : ny) + th * f)) return null;
    reset();
    const pp = padIn(x, g),
      pw = addr(w),
      pb = bias ? addr(bias) : 0,
      pr = alloc(th * f),
      y = sink(ny, resident);
    const args = [pp, pw, pb, bias ? 1 : 0, y.p, g.c, o, G, wp, ps, f, g.kh, g.kw, g.ho, g.wo, g.dh, g.dw, pr];
    run(0, args, g.n, th);
    return y.done();
  }
  if (!fits(small + th * ck * L + (resident ? 0 : ny))) return null;
  reset();
  const px = addr(x),
    pw = addr(w),
    pb = bias ? addr(bias) : 0,
    pc = alloc(th * ck * L),
    y = sink(ny, resident);
  run(2, [px, pw, pb, bias ? 1 : 0, y.p, ...geo(g), g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, o, G, pc], g.n, th);
  return y.done();
}

/** x [N, C, H, W] = convᵀ(gy [N, O, Ho, Wo], w): per image and group colᵍ = wᵍᵀ · gyᵍ, then col2im. */
export function conv2dInput(gy: Float32Array, w: Float32Array, g: ConvGeom, o: number): Float32Array | null {
  return conv2dInputAt(gy, w, g, o, false) as Float32Array | null;
}
/** conv2dInput over inputs in place or on the host; the output resident when `resident`. */
export function conv2dInputAt(gy: Src, w: Src, g: ConvGeom, o: number, resident: boolean): Out | null {
  const G = g.groups,
    kg = (g.c / G) * g.kh * g.kw,
    ck = g.c * g.kh * g.kw,
    L = g.ho * g.wo,
    chw = g.c * g.h * g.w;
  const th = threadsFor(2 * g.n * o * kg * L, g.n, splitAt.conv);
  if (!fits(need(gy) + need(w) + th * ck * L + (resident ? 0 : g.n * chw) + 64)) return null;
  reset();
  const pg = addr(gy),
    pw = addr(w),
    pc = alloc(th * ck * L),
    x = sink(g.n * chw, resident);
  run(3, [pg, pw, 0, 0, x.p, ...geo(g), g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, o, G, pc], g.n, th);
  return x.done();
}

/**
 * gw [O, C/groups, kh, kw] = Σₙ gy[n] · im2col(x)[n]ᵀ as one GEMM over all N·L columns per group:
 * gwᵀ [kg, og] = col [kg, N·L] · gyᵀ [N·L, og], row blocks on the pool, then transposed into gw.
 */
export function conv2dWeight(x: Src, gy: Src, g: ConvGeom, o: number): Float32Array | null {
  const G = g.groups,
    og = o / G,
    kg = (g.c / G) * g.kh * g.kw,
    ck = g.c * g.kh * g.kw,
    L = g.ho * g.wo,
    NL = g.n * L;
  const flops = 2 * o * kg * NL;
  if (direct(g)) {
    const { wp, f, ps } = padded(g);
    const th = threadsFor(flops, o, splitAt.conv);
    if (!fits(need(x) + g.n * g.c * ps + need(gy) + th * f + 5 * o * kg + 64)) return null;
    reset();
    const pp = padIn(x, g),
      pg = addr(gy),
      acc = alloc(4 * o * kg),
      buf = alloc(th * f),
      pr = alloc(o * kg);
    const args = [pp, pg, pr, acc, g.n, g.c, o, G, wp, ps, f, g.kh, g.kw, g.dh, g.dw, g.ho, g.wo, buf];
    run(1, args, o, th);
    return take(pr, o * kg);
  }
  if (!fits(need(x) + need(gy) + g.n * o * L + ck * NL + o * kg + 64)) return null;
  reset();
  const px = addr(x),
    pg = addr(gy),
    pc = alloc(ck * NL),
    pt = alloc(g.n * o * L),
    pr = alloc(o * kg);
  const geom = [...geo(g), g.sh, g.sw, g.ph, g.pw, g.dh, g.dw];
  run(4, [px, pg, pc, pt, ...geom, o, g.n], g.n, threadsFor(flops, g.n, splitAt.conv));
  const threads = threadsFor(flops, kg, splitAt.conv);
  const rows = Math.max(4, Math.ceil(kg / threads / 4) * 4);
  const tasks: number[][] = [];
  for (let q = 0; q < G; q++) {
    for (let r0 = 0; r0 < kg; r0 += rows) {
      const r1 = Math.min(kg, r0 + rows);
      tasks.push([pc + q * kg * NL * 4, NL, 1, pt + q * og * 4, o, 1, pr + q * kg * og * 4, kg, NL, og, r0, r1, 0, og]);
    }
  }
  if (threads === 1 || tasks.length > TASK_CAP) {
    for (const t of tasks)
      K.gemm(
        t[0]!,
        t[1]!,
        t[2]!,
        t[3]!,
        t[4]!,
        t[5]!,
        t[6]!,
        t[7]!,
        t[8]!,
        t[9]!,
        t[10]!,
        t[11]!,
        t[12]!,
        t[13]!,
        PACK,
      );
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
  const px = addr(x),
    pi = alloc(m),
    pv = alloc(m);
  KC.maxPool(px, g.planes, g.h, g.w, g.kh, g.kw, g.ho, g.wo, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, pi, pv);
  return { idx: I32.slice(pi / 4, pi / 4 + m), val: take(pv, m) };
}
/** The winners' indices of a max pool over an input in place or on the host. */
export function maxPoolIndicesAt(x: Src, g: PoolGeom): Int32Array | null {
  const m = g.planes * g.ho * g.wo;
  if (!fits(need(x) + 2 * m + 64)) return null;
  reset();
  const px = addr(x),
    pi = alloc(m),
    pv = alloc(m);
  const args = [px, g.h, g.w, g.kh, g.kw, g.ho, g.wo, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, pi, pv];
  run(5, args, g.planes, threadsFor(g.planes * g.h * g.w, g.planes, splitAt.pool));
  return I32.slice(pi / 4, pi / 4 + m);
}

/** out (zeroed) [p, idx[p, k]] += gr[p, k] over planes of `hw` values; false if it does not fit. */
export function planeScatter(gr: Float32Array, idx: Int32Array, hw: number, per: number, out: Float32Array): boolean {
  const r = planeScatterAt(gr, idx, hw, per, out.length, false) as Float32Array | null;
  if (r) out.set(r);
  return r !== null;
}
/** planeScatter into a new output of `n` values (resident when `resident`), or null if it does not fit. */
export function planeScatterAt(
  gr: Src,
  idx: Int32Array,
  hw: number,
  per: number,
  n: number,
  resident: boolean,
): Out | null {
  if (!fits(need(gr) + idx.length + (resident ? 0 : n) + 64)) return null;
  reset();
  const pg = addr(gr),
    pi = addr(idx),
    o = sink(n, resident);
  const planes = idx.length / per;
  run(7, [pg, pi, per, hw, o.p], planes, threadsFor(n, planes, splitAt.pool));
  return o.done();
}

/** out[p, k] = x[p, idx[p, k]] over planes of `hw` values; false if it does not fit. */
export function planeGather(x: Float32Array, idx: Int32Array, hw: number, per: number, out: Float32Array): boolean {
  const r = planeGatherAt(x, idx, hw, per, false) as Float32Array | null;
  if (r) out.set(r);
  return r !== null;
}
/** planeGather into a new output (resident when `resident`), or null if it does not fit. */
export function planeGatherAt(x: Src, idx: Int32Array, hw: number, per: number, resident: boolean): Out | null {
  if (!fits(need(x) + 2 * idx.length + 64)) return null;
  reset();
  const px = addr(x),
    pi = addr(idx),
    o = sink(idx.length, resident);
  const planes = idx.length / per;
  run(6, [px, pi, per, hw, o.p], planes, threadsFor(planes * hw, planes, splitAt.pool));
  return o.done();
}
