/**
 * WebAssembly SIMD kernels for float32, behind plain functions over typed arrays. Each returns
 * true when it handled the call, false when the caller should use the reference kernel.
 * These take ordinary Float32Arrays: inputs are copied into WebAssembly memory and results
 * copied out (streaming ops do this in cache-sized chunks, so the copies cost L2 bandwidth,
 * not DRAM bandwidth). resident.ts runs the same kernels on resident storage (storage.ts)
 * without the copies; docs/performance.md says when each is used.
 */
import { checkNonNegative, checkOptions } from '../../validate.js';
import type { AdamStepHyper as AdamOptions, SgdStepHyper as SGDOptions } from '../fused.js';
import type { AdamWScheduleFreeStepHyper, LambStepHyper } from '../fused.js';
import { broadcastStrides, sizeOf, type Shape } from '../../shape.js';
import type { BinaryOp, UnaryOp } from '../backend.js';
import {
  alloc,
  F32,
  K,
  PACK,
  reset,
  runTasks,
  setTask,
  TASK_CAP,
  gemmParts,
  TASK_GEMM,
  threadsAvailable,
  SCRATCH_LIMIT,
  relaxedSimd,
  f32Index,
  memory,
  getNumThreads,
  setNumThreads,
  startThreads,
} from './runtime.js';

export { setNumThreads, getNumThreads, startThreads };

/** What the WebAssembly kernels run with here. */
export function wasmInfo(): {
  /** SIMD is always on. */
  simd: true;
  /** Whether relaxed SIMD is on. */
  relaxedSimd: boolean;
  /** Threads the kernels use. */
  threads: number;
} {
  return { simd: true, relaxedSimd, threads: getNumThreads() };
}

/** Matmuls below this many flops stay on one thread (a round trip to a worker costs ~10 µs). */
export let parallelFlops = 1e7;
/** Elementwise ops below this many elements use the reference kernels (call overhead wins). */
export let minElements = 64;
/** Tests set this to route every supported call through WebAssembly, even where the reference kernel is as fast. */
let forceAll = false;
/** @internal For tests: use WebAssembly for every call it supports (no size or speed cut-offs). */
export function forceWasm(on: boolean): void {
  forceAll = on;
}
/** @internal Whether forceWasm is on. */
export const wasmForced = (): boolean => forceAll;
/** Sets the sizes below which WASM kernels stay on one thread (`parallelFlops`) or are skipped (`minElements`). */
export function setWasmThresholds(t: { parallelFlops?: number; minElements?: number }): void {
  checkOptions('setWasmThresholds', t, ['parallelFlops', 'minElements']);
  if (t.parallelFlops !== undefined) checkNonNegative('setWasmThresholds', 'parallelFlops', t.parallelFlops);
  if (t.minElements !== undefined) checkNonNegative('setWasmThresholds', 'minElements', t.minElements);
  if (t.parallelFlops !== undefined) parallelFlops = t.parallelFlops;
  if (t.minElements !== undefined) minElements = t.minElements;
}

/** Elements per chunk for streaming ops: three 64 KiB buffers stay in L2. */
export const CHUNK = 16384;

const copyIn = (src: Float32Array, p: number): void => F32.set(src, f32Index(p));
const view = (p: number, n: number): Float32Array => F32.subarray(f32Index(p), f32Index(p) + n);

// ---- matmul -----------------------------------------------------------------------------

/** out = op(a) @ op(b) over operands already in WASM memory at byte addresses pa, pb, pc (shapes as, bs, os). */
export function gemmAt(
  pa: number,
  as: Shape,
  pb: number,
  bs: Shape,
  pc: number,
  os: Shape,
  ta: boolean,
  tb: boolean,
): void {
  const nd = os.length;
  const m = os[nd - 2]!,
    n = os[nd - 1]!,
    k = ta ? as[as.length - 2]! : as[as.length - 1]!;
  const batch = os.slice(0, nd - 2);
  const nb = sizeOf(batch);
  const [ars, acs] = ta ? [1, m] : [k, 1];
  const [brs, bcs] = tb ? [1, k] : [n, 1];
  const aB = broadcastStrides(as.slice(0, -2), batch).map((s) => s * m * k);
  const bB = broadcastStrides(bs.slice(0, -2), batch).map((s) => s * k * n);
  const flops = 2 * m * n * k * nb;
  const threads = flops >= parallelFlops ? threadsAvailable() : 1;
  // Split each product (gemmParts) when there are fewer products than threads; otherwise one task per product.
  const parts = gemmParts(m, n, nb >= threads ? 1 : Math.ceil(threads / nb));
  if (threads === 1 || nb * parts.length > TASK_CAP) {
    const idx = new Array<number>(batch.length).fill(0);
    for (let i = 0; i < nb; i++) {
      let ao = 0,
        bo = 0;
      for (let d = 0; d < batch.length; d++) {
        ao += idx[d]! * aB[d]!;
        bo += idx[d]! * bB[d]!;
      }
      K.gemm(pa + ao * 4, ars, acs, pb + bo * 4, brs, bcs, pc + i * m * n * 4, m, k, n, 0, m, 0, n, PACK);
      for (let d = batch.length - 1; d >= 0; d--) {
        if (++idx[d]! < batch[d]!) break;
        idx[d] = 0;
      }
    }
  } else {
    const idx = new Array<number>(batch.length).fill(0);
    let t = 0;
    for (let i = 0; i < nb; i++) {
      let ao = 0,
        bo = 0;
      for (let d = 0; d < batch.length; d++) {
        ao += idx[d]! * aB[d]!;
        bo += idx[d]! * bB[d]!;
      }
      for (const q of parts)
        setTask(t++, TASK_GEMM, [pa + ao * 4, ars, acs, pb + bo * 4, brs, bcs, pc + i * m * n * 4, m, k, n, ...q]);
      for (let d = batch.length - 1; d >= 0; d--) {
        if (++idx[d]! < batch[d]!) break;
        idx[d] = 0;
      }
    }
    runTasks(t);
  }
}

/** out = op(a) @ op(b) with broadcast batch dims (the contract of Backend.matmul). */
export function matmul(
  a: Float32Array,
  as: Shape,
  b: Float32Array,
  bs: Shape,
  out: Float32Array,
  os: Shape,
  ta: boolean,
  tb: boolean,
): boolean {
  const nd = os.length;
  const m = os[nd - 2]!,
    n = os[nd - 1]!,
    k = ta ? as[as.length - 2]! : as[as.length - 1]!;
  const batch = os.slice(0, nd - 2);
  const nb = sizeOf(batch);
  if (nb === 0 || m * n === 0) return true;
  if (!forceAll && m * n * k * nb < 512) return false;
  if ((a.length + b.length + out.length) * 4 > SCRATCH_LIMIT) return false;
  reset();
  const pa = alloc(a.length),
    pb = alloc(b.length),
    pc = alloc(out.length);
  copyIn(a, pa);
  copyIn(b, pb);
  gemmAt(pa, as, pb, bs, pc, os, ta, tb);
  // In chunks: one large copy out of shared memory into a fresh array is ~2.7× slower (storage.ts).
  for (let s = 0; s < out.length; s += CHUNK) out.set(view(pc + s * 4, Math.min(CHUNK, out.length - s)), s);
  return true;
}

// ---- elementwise ------------------------------------------------------------------------

// Comparisons (codes 6–11) give 1 or 0 in the input dtype: relu's backward is g · (x > 0) (issue 12's CNN step).
export const BIN: Partial<Record<BinaryOp, number>> = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  maximum: 4,
  minimum: 5,
  gt: 6,
  ge: 7,
  lt: 8,
  le: 9,
  eq: 10,
  ne: 11,
};
export const UN: Partial<Record<UnaryOp, number>> = { neg: 0, abs: 1, sqrt: 2, relu: 3, exp: 4, sigmoid: 5 };

export function unary(op: UnaryOp, x: Float32Array, out: Float32Array): boolean {
  const code = UN[op];
  const n = out.length;
  if (code === undefined || (!forceAll && (n < minElements || op === 'neg'))) return false;
  reset();
  const c = Math.min(n, CHUNK);
  const px = alloc(c),
    po = alloc(c);
  for (let s = 0; s < n; s += CHUNK) {
    const len = Math.min(CHUNK, n - s);
    copyIn(x.subarray(s, s + len), px);
    K.unary(code, px, po, len);
    out.set(view(po, len), s);
  }
  return true;
}

/**
 * Collapses out-shape `os` and the operands' broadcast strides into at most two dims
 * (rows R, cols C) with row/col strides per operand, or null when that is impossible.
 */
export function collapse2(
  os: Shape,
  sa: number[],
  sb: number[],
): [number, number, number, number, number, number] | null {
  const dims: number[] = [],
    A: number[] = [],
    B: number[] = [];
  for (let i = 0; i < os.length; i++) {
    if (os[i] === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && A[last] === sa[i]! * os[i]! && B[last] === sb[i]! * os[i]!) {
      dims[last] = dims[last]! * os[i]!;
      A[last] = sa[i]!;
      B[last] = sb[i]!;
    } else if (last >= 0 && A[last] === 0 && sa[i] === 0 && B[last] === sb[i]! * os[i]!) {
      dims[last] = dims[last]! * os[i]!;
      B[last] = sb[i]!;
    } else if (last >= 0 && B[last] === 0 && sb[i] === 0 && A[last] === sa[i]! * os[i]!) {
      dims[last] = dims[last]! * os[i]!;
      A[last] = sa[i]!;
    } else {
      dims.push(os[i]!);
      A.push(sa[i]!);
      B.push(sb[i]!);
    }
  }
  if (dims.length === 0) return [1, 1, 0, 0, 0, 0];
  if (dims.length === 1) return [1, dims[0]!, 0, A[0]!, 0, B[0]!];
  if (dims.length === 2) return [dims[0]!, dims[1]!, A[0]!, A[1]!, B[0]!, B[1]!];
  return null;
}

export function binary(
  op: BinaryOp,
  a: Float32Array,
  as: Shape,
  b: Float32Array,
  bs: Shape,
  out: Float32Array,
  os: Shape,
): boolean {
  const code = BIN[op];
  const total = out.length;
  if (code === undefined || (!forceAll && total < minElements)) return false;
  const g = collapse2(os, broadcastStrides(as, os), broadcastStrides(bs, os));
  if (g === null) return false;
  const [R, C, ar, ac, br, bc] = g;
  if ((ac !== 0 && ac !== 1) || (bc !== 0 && bc !== 1)) return false;
  // Same-shape and scalar ops too: streaming through L2-sized chunks, copy-in + SIMD + copy-out
  // measured 1.6–2× faster than the plain JS loop at 1e5–1e6 elements (docs/performance.md).
  reset();
  if (R === 1) {
    // One long row: stream it in chunks; a broadcast operand is a scalar.
    const c = Math.min(C, CHUNK);
    const pa = alloc(ac ? c : 1),
      pb = alloc(bc ? c : 1),
      po = alloc(c);
    if (!ac) F32[f32Index(pa)] = a[0]!;
    if (!bc) F32[f32Index(pb)] = b[0]!;
    for (let s = 0; s < C; s += CHUNK) {
      const len = Math.min(CHUNK, C - s);
      if (ac) copyIn(a.subarray(s, s + len), pa);
      if (bc) copyIn(b.subarray(s, s + len), pb);
      K.binary(code, pa, 0, ac, pb, 0, bc, po, 1, len);
      out.set(view(po, len), s);
    }
    return true;
  }
  // Rows: an operand is a matrix (ar = C), a row vector (ar = 0, ac = 1), a column (ar = 1, ac = 0) or a scalar.
  const rowsPer = Math.max(1, Math.floor(CHUNK / C));
  const chunkRows = Math.min(R, rowsPer);
  const place = (x: Float32Array, r: number, c: number): number => {
    if (r === 0) {
      const p = alloc(c ? C : 1);
      copyIn(c ? x.subarray(0, C) : x.subarray(0, 1), p);
      return p;
    }
    if (c === 0) {
      const p = alloc(R);
      copyIn(x.subarray(0, R), p);
      return p;
    }
    return alloc(chunkRows * C);
  };
  const pa = place(a, ar, ac),
    pb = place(b, br, bc),
    po = alloc(chunkRows * C);
  for (let r0 = 0; r0 < R; r0 += rowsPer) {
    const rows = Math.min(rowsPer, R - r0);
    let qa = pa,
      qb = pb;
    if (ar === C) copyIn(a.subarray(r0 * C, (r0 + rows) * C), pa);
    else if (ar === 1) qa = pa + r0 * 4;
    if (br === C) copyIn(b.subarray(r0 * C, (r0 + rows) * C), pb);
    else if (br === 1) qb = pb + r0 * 4;
    K.binary(code, qa, ar === C ? C : ar, ac, qb, br === C ? C : br, bc, po, rows, C);
    out.set(view(po, rows * C), r0 * C);
  }
  return true;
}

// ---- reductions -------------------------------------------------------------------------

/** Sum over `axes` of shape xs as (outer O, reduced Rd, inner I), or null when the reduced axes are not one block. */
export function sumPlan(xs: Shape, axes: readonly number[]): [number, number, number] | null {
  // Collapse to (outer O, reduced Rd, inner I): needs the reduced axes to form one block.
  let O = 1,
    Rd = 1,
    I = 1,
    phase = 0;
  for (let i = 0; i < xs.length; i++) {
    const d = xs[i]!;
    if (d === 1) continue;
    const red = axes.includes(i);
    if (phase === 0) {
      if (red) {
        phase = 1;
        Rd *= d;
      } else O *= d;
    } else if (phase === 1) {
      if (red) Rd *= d;
      else {
        phase = 2;
        I *= d;
      }
    } else {
      if (red) return null;
      I *= d;
    }
  }
  return [O, Rd, I];
}

/** Sum over `axes` (sorted, distinct) of x with shape xs into out (reduced axes kept as 1). */
export function sum(x: Float32Array, xs: Shape, axes: readonly number[], out: Float32Array): boolean {
  if (!forceAll && x.length < minElements) return false;
  if (x.length === 0) return false;
  const plan = sumPlan(xs, axes);
  if (plan === null) return false;
  const [O, Rd, I] = plan;
  reset();
  if (I === 1) {
    // Row sums: out[o] = sum of row o (length Rd), chunked by rows.
    const rowsPer = Math.max(1, Math.floor(CHUNK / Rd));
    const px = alloc(Math.min(O, rowsPer) * Rd),
      po = alloc(Math.min(O, rowsPer));
    for (let r0 = 0; r0 < O; r0 += rowsPer) {
      const rows = Math.min(rowsPer, O - r0);
      copyIn(x.subarray(r0 * Rd, (r0 + rows) * Rd), px);
      K.sumRows(px, po, rows, Rd);
      out.set(view(po, rows), r0);
    }
    return true;
  }
  // Column sums per outer index: out[o, i] = sum_r x[o, r, i], in row order.
  // The column accumulators are float64 (I doubles), rounded to float32 once per output.
  const rowsPer = Math.max(1, Math.floor(CHUNK / I));
  const px = alloc(Math.min(Rd, rowsPer) * I),
    po = alloc(2 * I);
  for (let o = 0; o < O; o++) {
    const base = o * Rd * I;
    for (let r0 = 0; r0 < Rd; r0 += rowsPer) {
      const rows = Math.min(rowsPer, Rd - r0);
      copyIn(x.subarray(base + r0 * I, base + (r0 + rows) * I), px);
      K.sumCols(px, po, rows, I, r0 === 0 ? 0 : 1);
    }
    out.set(new Float64Array(memory.buffer, po, I), o * I);
  }
  return true;
}

// ---- fused composites --------------------------------------------------------------------

/** out = GELU(x) (g null) or g · GELU′(x), exact or tanh form, streamed in L2-sized chunks. */
export function gelu(x: Float32Array, g: Float32Array | null, out: Float32Array, tanh: boolean): boolean {
  const n = out.length;
  if (!forceAll && n < minElements) return false;
  const mode = (tanh ? 1 : 0) | (g ? 2 : 0);
  reset();
  const c = Math.min(n, CHUNK);
  const px = alloc(c),
    pg = g ? alloc(c) : 0,
    po = alloc(c);
  for (let s = 0; s < n; s += CHUNK) {
    const len = Math.min(CHUNK, n - s);
    copyIn(x.subarray(s, s + len), px);
    if (g) copyIn(g.subarray(s, s + len), pg);
    K.gelu(mode, px, pg, po, len);
    out.set(view(po, len), s);
  }
  return true;
}

/** Softmax or logSoftmax along the last axis (other axes: false, the reference kernel runs). */
export function softmax(x: Float32Array, shape: Shape, axis: number, out: Float32Array, log: boolean): boolean {
  const C = shape[axis] ?? 1,
    n = out.length;
  if (axis !== shape.length - 1 || n === 0 || (!forceAll && n < minElements)) return false;
  if (C * 8 > SCRATCH_LIMIT) return false;
  const R = n / C;
  const rowsPer = Math.max(1, Math.floor(CHUNK / C));
  reset();
  const c = Math.min(R, rowsPer) * C;
  const px = alloc(c),
    po = alloc(c);
  for (let r0 = 0; r0 < R; r0 += rowsPer) {
    const rows = Math.min(rowsPer, R - r0),
      s = r0 * C,
      len = rows * C;
    copyIn(x.subarray(s, s + len), px);
    K.softmaxRows(px, po, rows, C, log ? 1 : 0);
    out.set(view(po, len), s);
  }
  return true;
}

// ---- optimizer updates ------------------------------------------------------------------
// Same contracts as the FusedUpdates of backend/fused.ts (float32, no AMSGrad), offered by the cpu backend.

/**
 * Runs `kernel` over n elements in CHUNK-sized pieces through one scratch slot per array: slot i is
 * filled from `ins[i]` and copied back to `outs[i]` after the kernel (either may be null: no copy).
 */
function chunked(
  n: number,
  ins: readonly (Float32Array | null)[],
  outs: readonly (Float32Array | null)[],
  kernel: (slots: readonly number[], len: number) => void,
): void {
  reset();
  const slots = ins.map(() => alloc(Math.min(n, CHUNK)));
  for (let s = 0; s < n; s += CHUNK) {
    const len = Math.min(CHUNK, n - s);
    ins.forEach((a, i) => a && copyIn(a.subarray(s, s + len), slots[i]!));
    kernel(slots, len);
    outs.forEach((a, i) => a && a.set(view(slots[i]!, len), s));
  }
}

/** One Adam/AdamW step (1-based `step`) in place over float32 params p, grads g and moments m, v. */
export function adamStep(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  h: AdamOptions,
  step: number,
): void {
  const [beta1, beta2] = h.betas,
    dwd = h.decoupledWeightDecay ? h.weightDecay : 0,
    wd = h.weightDecay - dwd;
  const bc1 = 1 - beta1 ** step,
    bc2 = 1 - beta2 ** step;
  chunked(p.length, [p, g, m, v], [p, null, m, v], ([pp, pg, pm, pv], len) =>
    K.adam(
      pp!,
      pg!,
      pm!,
      pv!,
      len,
      h.lr / bc1,
      1 - beta1,
      1 - (1 - beta1),
      beta2,
      1 - beta2,
      h.eps,
      Math.sqrt(bc2),
      wd,
      1 - h.lr * dwd,
      h.maximize ? -1 : 1,
    ),
  );
}

/** One SGD step in place; `buf` is the momentum buffer (null or ignored when momentum is 0). */
export function sgdStep(
  p: Float32Array,
  g: Float32Array,
  buf: Float32Array | null,
  h: SGDOptions,
  firstStep: boolean,
): void {
  const mom = h.momentum !== 0 && buf !== null;
  chunked(p.length, [p, g, mom && !firstStep ? buf : null], [p, null, mom ? buf : null], ([pp, pg, pb], len) =>
    K.sgd(
      pp!,
      pg!,
      pb!,
      len,
      h.lr,
      mom ? h.momentum : 0,
      h.dampening,
      h.weightDecay,
      h.nesterov ? 1 : 0,
      firstStep ? 1 : 0,
      h.maximize ? -1 : 1,
    ),
  );
}

// ---- Schedule-Free AdamW and LAMB (issue 14) ---------------------------------------------
// Same contracts as adamwScheduleFreeUpdate (without inner momentum) and lambUpdate in
// src/optim/updates.ts, over float32; offered by the cpu backend as fused updates (backend/fused.ts).

/** One Schedule-Free AdamW step (0-based step k) in place over float32 y, grads g, z and v. */
export function adamwScheduleFreeStep(
  y: Float32Array,
  g: Float32Array,
  z: Float32Array,
  v: Float32Array,
  h: AdamWScheduleFreeStepHyper,
  sc: { readonly lr: number; readonly ckp1: number },
  k: number,
): void {
  const [beta1, beta2] = h.betas,
    { lr, ckp1 } = sc;
  const a = lr * (beta1 * (1 - ckp1) - 1),
    bc2 = 1 - beta2 ** (k + 1);
  chunked(y.length, [y, g, z, v], [y, null, z, v], ([py, pg, pz, pv], len) =>
    K.adamwScheduleFree(py!, pg!, pz!, pv!, len, ckp1, a, lr, beta2, 1 - beta2, bc2, h.eps, h.weightDecay),
  );
}

/** One LAMB step (1-based count) in place over float32 params p, grads g and moments m, v. */
export function lambStep(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  h: LambStepHyper,
  count: number,
): void {
  const [b1, b2] = h.betas,
    { eps, epsRoot, weightDecay: wd } = h;
  const bc1 = 1 - b1 ** count,
    bc2 = 1 - b2 ** count;
  let uu = 0,
    pn = 0;
  chunked(p.length, [p, g, m, v], [null, null, m, v], ([pp, pg, pm, pv], len) => {
    uu += K.lambMoments(pp!, pg!, pm!, pv!, len, 1 - b1, b1, 1 - b2, b2, bc1, bc2, eps, epsRoot, wd);
    pn += K.sumSquares(pp!, len);
  });
  const pNorm = Math.sqrt(pn),
    uNorm = Math.sqrt(uu);
  const tr = pNorm === 0 || uNorm === 0 ? 1 : pNorm / uNorm;
  chunked(p.length, [p, m, v], [p, null, null], ([pp, pm, pv], len) =>
    K.lambApply(pp!, pm!, pv!, len, bc1, bc2, eps, epsRoot, wd, -h.lr, tr),
  );
}
