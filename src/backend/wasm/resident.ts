/**
 * The float32 WASM kernels with resident outputs (storage.ts): an input already in a resident
 * block is read in place, a host input is copied in (in L2-sized chunks), and the result is
 * written straight into a new resident block. Each returns null when it does not apply (switch
 * off, too small, a layout the kernel lacks); the caller then runs the host kernel.
 */
import type { BinaryOp, UnaryOp } from '../backend.js';
import { Buf, type BufferView } from '../buffer.js';
import { broadcastStrides, sizeOf, type Shape } from '../../shape.js';
import {
  alloc,
  F32,
  f32Index,
  K,
  memory,
  reset,
  runTasks,
  SCRATCH_LIMIT,
  setTask,
  TASK_BINARY,
  TASK_CAP,
  TASK_GELU,
  TASK_UNARY,
  threadsAvailable,
} from './runtime.js';
import { BIN, CHUNK, collapse2, gemmAt, minElements, sumPlan, UN, wasmForced } from './index.js';
import { limits, residentAddress, residentBlock, settle, srcOf as source, type WasmBuffer } from './storage.js';

/** An input: its resident byte address, or its host values. */
type Src = number | Float32Array;
/**
 * Whether a float32 op of `n` output elements over `inputs` runs here: residency on, not tiny, and
 * either a large result or an input already resident (reading it in place beats migrating it).
 */
function applies(n: number, ...inputs: (BufferView | null)[]): boolean {
  if (!limits.resident || n === 0) return false;
  if (wasmForced()) return true;
  if (n < minElements) return false;
  return n >= limits.minResidentElements || inputs.some((x) => x !== null && residentAddress(x) >= 0);
}
/** The address of elements [off, off+len) of `s`: in place when resident, else copied to scratch `tmp`. */
function at(s: Src, off: number, len: number, tmp: number): number {
  if (typeof s === 'number') return s + off * 4;
  F32.set(s.subarray(off, off + len), f32Index(tmp));
  return tmp;
}
/** Scratch for chunks of a host input (none for a resident one). */
const chunkScratch = (s: Src, n: number): number => (typeof s === 'number' ? 0 : alloc(n));
/** A whole host input copied to scratch (resident: its address). */
function whole(s: Src, n: number): number {
  if (typeof s === 'number') return s;
  const p = alloc(n);
  if (n === 1) F32[f32Index(p)] = s[0]!;
  else F32.set(s.subarray(0, n), f32Index(p));
  return p;
}
/**
 * Elementwise ops over resident operands from this many output elements on are split across the
 * worker threads (below it, waking a worker costs more than it saves; measured on 2 cores).
 */
export const PARALLEL_ELEMENTS = 1 << 17;
/** Elements per task of a threaded elementwise op (a multiple of 16: chunks start 64-byte aligned). */
const TASK_ELEMENTS = 1 << 16;
/** How many threads an elementwise op over `n` resident elements uses (1: run it here). */
const elementwiseThreads = (n: number): number => (n >= PARALLEL_ELEMENTS ? threadsAvailable() : 1);
/** Splits [0, n) into tasks of about TASK_ELEMENTS, at least 2 per thread, 16-element aligned. */
function taskSize(n: number, threads: number): number {
  const per = Math.min(TASK_ELEMENTS, Math.ceil(n / (2 * threads)));
  return Math.max(Math.ceil(per / 16) * 16, Math.ceil(n / TASK_CAP / 16) * 16);
}
function done(buf: WasmBuffer, shape: Shape): Buf {
  settle();
  return new Buf(buf, shape, 'float32');
}

export function unary(op: UnaryOp, x: BufferView): Buf | null {
  const code = UN[op],
    n = x.size;
  if (code === undefined || !applies(n, x)) return null;
  const s = source(x);
  reset();
  const { buf, p } = residentBlock(n);
  const threads = typeof s === 'number' ? elementwiseThreads(n) : 1;
  if (typeof s === 'number' && threads > 1) {
    const step = taskSize(n, threads);
    let t = 0;
    for (let o = 0; o < n; o += step) setTask(t++, TASK_UNARY, [code, s + o * 4, p + o * 4, Math.min(step, n - o)]);
    runTasks(t);
    return done(buf, x.shape);
  }
  const tx = chunkScratch(s, Math.min(n, CHUNK));
  for (let o = 0; o < n; o += CHUNK) {
    const len = Math.min(CHUNK, n - o);
    K.unary(code, at(s, o, len, tx), p + o * 4, len);
  }
  return done(buf, x.shape);
}

/** Operand layouts the binary kernel streams: full (row stride C, or one row), row vector, column, scalar. */
const known = (r: number, c: number, C: number): boolean => (c === 1 && (r === C || r === 0)) || (c === 0 && r <= 1);
/** Whether an operand has a value per output element. */
const full = (r: number, c: number, R: number, C: number): boolean => c === 1 && (r === C || R === 1);

export function binary(op: BinaryOp, a: BufferView, b: BufferView, os: Shape): Buf | null {
  const code = BIN[op],
    total = sizeOf(os);
  if (code === undefined || !applies(total, a, b)) return null;
  const g = collapse2(os, broadcastStrides(a.shape, os), broadcastStrides(b.shape, os));
  if (g === null) return null;
  const [R, C, ar, ac, br, bc] = g;
  if (!known(ar, ac, C) || !known(br, bc, C)) return null;
  const sa = source(a),
    sb = source(b);
  reset();
  const { buf, p } = residentBlock(total);
  const fa = full(ar, ac, R, C),
    fb = full(br, bc, R, C);
  // Broadcast operands are small: placed once (row vector C, column R, scalar 1 values).
  const pa = fa ? 0 : whole(sa, ac ? C : ar ? R : 1),
    pb = fb ? 0 : whole(sb, bc ? C : br ? R : 1);
  // Resident full operands (broadcast ones are placed above): split into tasks, by columns when
  // there is one row, else by whole rows; each output element is computed as on one thread.
  const threads = (!fa || typeof sa === 'number') && (!fb || typeof sb === 'number') ? elementwiseThreads(total) : 1;
  if (threads > 1) {
    const qa = fa ? (sa as number) : pa,
      qb = fb ? (sb as number) : pb;
    let t = 0;
    if (R === 1) {
      const step = taskSize(C, threads);
      for (let o = 0; o < C; o += step)
        setTask(t++, TASK_BINARY, [
          code,
          qa + ac * o * 4,
          0,
          ac,
          qb + bc * o * 4,
          0,
          bc,
          p + o * 4,
          1,
          Math.min(step, C - o),
        ]);
    } else {
      const rows = Math.max(1, Math.round(taskSize(total, threads) / C), Math.ceil(R / TASK_CAP));
      for (let r0 = 0; r0 < R; r0 += rows)
        setTask(t++, TASK_BINARY, [
          code,
          qa + r0 * ar * 4,
          ar,
          ac,
          qb + r0 * br * 4,
          br,
          bc,
          p + r0 * C * 4,
          Math.min(rows, R - r0),
          C,
        ]);
    }
    runTasks(t);
    return done(buf, os);
  }
  if (R === 1) {
    const ta = fa ? chunkScratch(sa, Math.min(C, CHUNK)) : 0,
      tb = fb ? chunkScratch(sb, Math.min(C, CHUNK)) : 0;
    for (let o = 0; o < C; o += CHUNK) {
      const len = Math.min(CHUNK, C - o);
      const qa = fa ? at(sa, o, len, ta) : pa,
        qb = fb ? at(sb, o, len, tb) : pb;
      K.binary(code, qa, 0, ac, qb, 0, bc, p + o * 4, 1, len);
    }
    return done(buf, os);
  }
  const rowsPer = Math.max(1, Math.floor(CHUNK / C));
  const ta = fa ? chunkScratch(sa, Math.min(R, rowsPer) * C) : 0,
    tb = fb ? chunkScratch(sb, Math.min(R, rowsPer) * C) : 0;
  for (let r0 = 0; r0 < R; r0 += rowsPer) {
    const rows = Math.min(rowsPer, R - r0);
    const qa = fa ? at(sa, r0 * C, rows * C, ta) : ar === 1 ? pa + r0 * 4 : pa,
      qb = fb ? at(sb, r0 * C, rows * C, tb) : br === 1 ? pb + r0 * 4 : pb;
    K.binary(code, qa, ar, ac, qb, br, bc, p + r0 * C * 4, rows, C);
  }
  return done(buf, os);
}

/** Sum over `axes` (sorted, distinct), reduced axes kept as 1. */
export function sum(x: BufferView, axes: readonly number[]): Buf | null {
  const xs = x.shape,
    n = x.size;
  if (!applies(n, x)) return null;
  const plan = sumPlan(xs, axes);
  if (plan === null) return null;
  const [O, Rd, I] = plan;
  const os = xs.map((d, i) => (axes.includes(i) ? 1 : d));
  const s = source(x);
  reset();
  const { buf, p } = residentBlock(O * I);
  if (I === 1) {
    const rowsPer = Math.max(1, Math.floor(CHUNK / Rd));
    const tx = chunkScratch(s, Math.min(O, rowsPer) * Rd);
    for (let r0 = 0; r0 < O; r0 += rowsPer) {
      const rows = Math.min(rowsPer, O - r0);
      K.sumRows(at(s, r0 * Rd, rows * Rd, tx), p + r0 * 4, rows, Rd);
    }
    return done(buf, os);
  }
  // Column sums per outer index in float64 accumulators, rounded to float32 once per output.
  const rowsPer = Math.max(1, Math.floor(CHUNK / I));
  const tx = chunkScratch(s, Math.min(Rd, rowsPer) * I),
    acc = alloc(2 * I);
  for (let o = 0; o < O; o++) {
    const base = o * Rd * I;
    for (let r0 = 0; r0 < Rd; r0 += rowsPer) {
      const rows = Math.min(rowsPer, Rd - r0);
      K.sumCols(at(s, base + r0 * I, rows * I, tx), acc, rows, I, r0 === 0 ? 0 : 1);
    }
    F32.set(new Float64Array(memory.buffer, acc, I), f32Index(p) + o * I);
  }
  return done(buf, os);
}

/** Softmax or logSoftmax along the last axis. */
export function softmax(x: BufferView, axis: number, log: boolean): Buf | null {
  const shape = x.shape,
    n = x.size,
    C = shape[axis] ?? 1;
  if (axis !== shape.length - 1 || !applies(n, x) || C * 8 > SCRATCH_LIMIT) return null;
  const R = n / C,
    rowsPer = Math.max(1, Math.floor(CHUNK / C));
  const s = source(x);
  reset();
  const { buf, p } = residentBlock(n);
  const tx = chunkScratch(s, Math.min(R, rowsPer) * C);
  for (let r0 = 0; r0 < R; r0 += rowsPer) {
    const rows = Math.min(rowsPer, R - r0);
    K.softmaxRows(at(s, r0 * C, rows * C, tx), p + r0 * C * 4, rows, C, log ? 1 : 0);
  }
  return done(buf, shape);
}

/** GELU(x) (g null) or g · GELU′(x), exact or tanh form. */
export function gelu(x: BufferView, g: BufferView | null, tanh: boolean): Buf | null {
  const n = x.size;
  if (!applies(n, x, g)) return null;
  const mode = (tanh ? 1 : 0) | (g ? 2 : 0);
  const sx = source(x),
    sg = g ? source(g) : null;
  reset();
  const { buf, p } = residentBlock(n);
  // Both operands resident: split across the threads like unary.
  if (typeof sx === 'number' && (sg === null || typeof sg === 'number') && elementwiseThreads(n) > 1) {
    const threads = elementwiseThreads(n);
    const step = taskSize(n, threads);
    let t = 0;
    for (let o = 0; o < n; o += step)
      setTask(t++, TASK_GELU, [mode, sx + o * 4, sg === null ? 0 : sg + o * 4, p + o * 4, Math.min(step, n - o)]);
    runTasks(t);
    return done(buf, x.shape);
  }
  const c = Math.min(n, CHUNK);
  const tx = chunkScratch(sx, c),
    tg = sg === null ? 0 : chunkScratch(sg, c);
  for (let o = 0; o < n; o += CHUNK) {
    const len = Math.min(CHUNK, n - o);
    K.gelu(mode, at(sx, o, len, tx), sg === null ? 0 : at(sg, o, len, tg), p + o * 4, len);
  }
  return done(buf, x.shape);
}

/** op(a) @ op(b) with broadcast batch dims (the contract of Backend.matmul). */
export function matmul(a: BufferView, b: BufferView, os: Shape, ta: boolean, tb: boolean): Buf | null {
  const total = sizeOf(os);
  const k = ta ? a.shape[a.shape.length - 2]! : a.shape[a.shape.length - 1]!;
  if (k === 0 || !applies(total, a, b) || (!wasmForced() && total * k < 512)) return null;
  const sa = source(a),
    sb = source(b);
  const hostBytes = (typeof sa === 'number' ? 0 : sa.length) + (typeof sb === 'number' ? 0 : sb.length);
  if (hostBytes * 4 > SCRATCH_LIMIT) return null;
  reset();
  const { buf, p } = residentBlock(total);
  gemmAt(whole(sa, a.size), a.shape, whole(sb, b.size), b.shape, p, os, ta, tb);
  return done(buf, os);
}

/** A float32 copy of x in a new resident block (clone, float32 → float32 cast). */
export function copy(x: BufferView): Buf | null {
  const n = x.size;
  if (!applies(n, x)) return null;
  const s = source(x);
  const { buf, p } = residentBlock(n);
  if (typeof s === 'number') F32.copyWithin(f32Index(p), f32Index(s), f32Index(s) + n);
  else F32.set(s.subarray(0, n), f32Index(p));
  return done(buf, x.shape);
}
