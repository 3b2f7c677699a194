/**
 * Loads the WebAssembly kernels synchronously over one shared WebAssembly.Memory and runs
 * parallel work on persistent worker threads that instantiate the same module over the
 * same memory. Memory layout (bytes), chosen here, never by the module:
 *   [0, 64K)                 the module's own static data (constant tables from 1024), no stack
 *   [CTRL, CTRL+64)          control words for the thread pool (Int32, Atomics)
 *   [TASKS, TASKS+TASK_CAP*64)  task table, 16 Int32 per task
 *   [PACK, PACK+MAX_THREADS*packBytes)  per-thread GEMM packing scratch
 *   [DATA, …)                blocks of pool.ts: per-op scratch (inputs copied in, outputs copied out,
 *                            returned per op) and resident tensor storage (storage.ts)
 */
import { ValueError } from '../../errors.js';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { BackendError } from '../../errors.js';
import { RELAXED_WASM, SIMD_WASM } from './binary.js';
import { BlockPool } from './pool.js';

// The WebAssembly JS API, typed locally (lib ES2022 and @types/node 20 do not declare it).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmModule {
  readonly __brand?: 'Module';
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (m: WasmModule, imports: object) => { readonly exports: object };
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export interface KernelExports {
  readonly PACK_BYTES: { readonly value: number };
  gemm(
    a: number,
    ars: number,
    acs: number,
    b: number,
    brs: number,
    bcs: number,
    c: number,
    m: number,
    k: number,
    n: number,
    r0: number,
    r1: number,
    c0: number,
    c1: number,
    pack: number,
  ): void;
  binary(
    op: number,
    a: number,
    ar: number,
    ac: number,
    b: number,
    br: number,
    bc: number,
    o: number,
    R: number,
    C: number,
  ): void;
  unary(op: number, x: number, o: number, n: number): void;
  /** A range of conv or pooling work (assembly/conv.ts): kind, Int32 arguments at prm, [lo, hi), scratch slot. */
  convTask(id: number, prm: number, lo: number, hi: number, slot: number, pack: number): void;
  gelu(mode: number, x: number, g: number, o: number, n: number): void;
  softmaxRows(x: number, o: number, R: number, C: number, log: number): void;
  sumRows(x: number, o: number, R: number, C: number): void;
  sumCols(x: number, o: number, R: number, C: number, accumulate: number): void;
  adam(
    p: number,
    g: number,
    m: number,
    v: number,
    n: number,
    stepSize: number,
    w1: number,
    ow1: number,
    b2: number,
    w2: number,
    eps: number,
    bc2sqrt: number,
    wd: number,
    decay: number,
    sign: number,
  ): void;
  sgd(
    p: number,
    g: number,
    buf: number,
    n: number,
    lr: number,
    momentum: number,
    dampening: number,
    wd: number,
    nesterov: number,
    first: number,
    sign: number,
  ): void;
  // Schedule-Free AdamW and LAMB (issue 14)
  adamwScheduleFree(
    y: number,
    g: number,
    z: number,
    v: number,
    n: number,
    c: number,
    a: number,
    lr: number,
    b2: number,
    w2: number,
    bc2: number,
    eps: number,
    wd: number,
  ): void;
  sumSquares(x: number, n: number): number;
  lambMoments(
    p: number,
    g: number,
    m: number,
    v: number,
    n: number,
    w1: number,
    b1: number,
    w2: number,
    b2: number,
    bc1: number,
    bc2: number,
    eps: number,
    epsRoot: number,
    wd: number,
  ): number;
  lambApply(
    p: number,
    m: number,
    v: number,
    n: number,
    bc1: number,
    bc2: number,
    eps: number,
    epsRoot: number,
    wd: number,
    nlr: number,
    tr: number,
  ): void;
}

const PAGE = 65536;
export const MAX_THREADS = 8;
const CTRL = 65536;
const TASKS = CTRL + 256;
export const TASK_CAP = 4096;
export const PACK = TASKS + TASK_CAP * 64;
// Control words (Int32 indices from CTRL): the job, then per worker w (1..7) its posted
// job number, its acknowledged job number and whether it has started.
const NTASK = 0,
  NEXT = 1;
const JOB = (w: number): number => 8 + w * 4,
  ACKW = (w: number): number => 9 + w * 4,
  READYW = (w: number): number => 10 + w * 4,
  /** A worker's part in the current job: 0 none (or withdrawn), 1 invited, 2 joined (it will acknowledge). */
  STATEW = (w: number): number => 11 + w * 4;
// Task kinds (first Int32 of a task).
export const TASK_GEMM = 0,
  TASK_BINARY = 1,
  TASK_UNARY = 2,
  TASK_GELU = 3,
  TASK_CONV = 4;

function decode(b64: string): Uint8Array {
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

const envFlag = (name: string): string | undefined => process.env[name];

const relaxedBytes = decode(RELAXED_WASM);
/**
 * Relaxed SIMD is used when the engine validates it (Node ≥ 22 by default). On Node 20 it sits behind
 * `--experimental-wasm-relaxed-simd`; `TAPEGRAD_RELAXED_SIMD=1` sets that flag at load (measured on
 * 20.20: validate false → true, every WASM parity test passes, GEMM 1.8× faster). Opt-in, not the
 * default, because V8 flags set after startup are process-wide and unsupported by Node.
 */
function relaxedValidates(): boolean {
  const want = envFlag('TAPEGRAD_RELAXED_SIMD');
  if (want === '0') return false;
  if (WA.validate(relaxedBytes)) return true;
  if (want !== '1') return false;
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  return WA.validate(relaxedBytes);
}
const relaxedOk = relaxedValidates();
const simdBytes = relaxedOk ? relaxedBytes : decode(SIMD_WASM);
export const wasmModule = new WA.Module(simdBytes);
export const memory = new WA.Memory({ initial: 64, maximum: 65536, shared: true });
export const K = new WA.Instance(wasmModule, { env: { memory } }).exports as unknown as KernelExports;
export const PACK_BYTES = (K.PACK_BYTES.value + 63) & ~63;
export const DATA = PACK + MAX_THREADS * PACK_BYTES;
export const relaxedSimd = relaxedOk;

/** Float32/Int32 views over the whole memory; re-created after every grow (old views cover only the old length). */
export let F32 = new Float32Array(memory.buffer);
export let I32 = new Int32Array(memory.buffer);
const ctl = new Int32Array(memory.buffer, CTRL, 64);

/** wasm32 addresses: one memory holds at most 65536 pages of 64 KiB = 4 GiB. */
export const MAX_PAGES = 65536;
/**
 * The scratch allocator's arithmetic, pure so it can be tested at any size: where `n` float32
 * slots go when the scratch ends at `top` in a memory of `byteLength` bytes, the new end
 * (64-byte aligned), and how many pages to grow (0 if none). All in doubles: no 32-bit `&`,
 * which wrapped the pointer negative past 2 GiB. Past what wasm32 can address, a BackendError.
 */
export function planAlloc(top: number, n: number, byteLength: number): { p: number; top: number; grow: number } {
  if (!Number.isSafeInteger(n) || n < 0) throw new BackendError(`wasm: invalid scratch request of ${n} float32 slots`);
  const end = Math.ceil((top + n * 4) / 64) * 64;
  if (end > MAX_PAGES * PAGE) {
    throw new BackendError(
      `wasm: an op needs ${end} bytes of scratch, more than the ${MAX_PAGES * PAGE} bytes (4 GiB) ` +
        `a wasm32 memory can address; use smaller tensors or the reference kernels (setCpuKernels('reference'))`,
    );
  }
  if (end <= byteLength) return { p: top, top: end, grow: 0 };
  const pages = byteLength / PAGE;
  const need = Math.ceil((end - byteLength) / PAGE);
  const target = Math.min(MAX_PAGES, Math.max(pages + need, Math.ceil(pages * 1.25)));
  return { p: top, top: end, grow: target - pages };
}
/** Makes the memory at least `end` bytes long (in pages, by at least 25% at a time); re-creates the views. */
function growTo(end: number): void {
  const plan = planAlloc(end, 0, memory.buffer.byteLength);
  if (plan.grow <= 0) return;
  try {
    memory.grow(plan.grow);
  } catch (e) {
    throw new BackendError(`wasm: could not grow the memory to ${plan.top} bytes (${(e as Error).message})`);
  }
  F32 = new Float32Array(memory.buffer);
  I32 = new Int32Array(memory.buffer);
}
/** Every block above DATA: per-op scratch (below) and resident tensor storage (storage.ts). */
export const pool = new BlockPool(DATA, growTo, MAX_PAGES * PAGE);
const scratch: number[] = [];
/** Starts a new op: the scratch blocks of the previous one go back to the pool. */
export function reset(): void {
  for (const p of scratch) pool.give(p);
  scratch.length = 0;
}
/** Allocates `n` float32 slots (64-byte aligned) of per-op scratch, growing memory if needed. */
export function alloc(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new BackendError(`wasm: invalid scratch request of ${n} float32 slots`);
  const p = pool.take(n * 4);
  scratch.push(p);
  return p;
}
/** Index of the float32 at byte address `p` (a double division: `p >> 2` wraps past 2 GiB). */
export const f32Index = (p: number): number => p / 4;
/** Bytes of per-op scratch an op may use before the caller should prefer the reference kernel. */
export const SCRATCH_LIMIT = 65536 * PAGE - DATA - (1 << 20);

// ---- threads --------------------------------------------------------------------------

/**
 * How long (µs) an idle worker spins for the next job before it sleeps on Atomics.wait (env
 * TAPEGRAD_SPIN_US, default 0). A worker that is still asleep when the caller has finished every task is
 * withdrawn from the job instead of waited for, so waking costs the caller nothing; spinning measured
 * slower on 2-vCPU machines (the spinning thread takes the core the calling thread needs).
 */
const SPIN_US = Number(envFlag('TAPEGRAD_SPIN_US') ?? 0);
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctrl, tasks, pack, w } = workerData;
const K = new WebAssembly.Instance(module, { env: { memory } }).exports;
const c = new Int32Array(memory.buffer, ctrl, 64);
const JOB = 8 + w * 4, ACK = 9 + w * 4, READY = 10 + w * 4, ST = 11 + w * 4;
let seen = Atomics.load(c, JOB);
Atomics.store(c, READY, 1);
for (;;) {
  // Spin up to ${SPIN_US} µs for the next job before sleeping (waking a sleeping worker takes ~15 µs).
  const until = performance.now() + ${SPIN_US / 1000};
  for (let k = 1; Atomics.load(c, JOB) === seen && ((k & 255) !== 0 || performance.now() < until); k++);
  Atomics.wait(c, JOB, seen);
  seen = Atomics.load(c, JOB);
  // Join the job unless the caller already finished it alone and withdrew the invitation (ST 1 → 0).
  if (Atomics.compareExchange(c, ST, 1, 2) !== 1) continue;
  seen = Atomics.load(c, JOB); // the job invited (stored before ST), which cannot change until this ack
  const T = new Int32Array(memory.buffer);
  const n = Atomics.load(c, ${NTASK});
  let i;
  while ((i = Atomics.add(c, ${NEXT}, 1)) < n) {
    const t = (tasks >> 2) + i * 16;
    switch (T[t]) {
      case ${TASK_GEMM}: K.gemm(T[t+1], T[t+2], T[t+3], T[t+4], T[t+5], T[t+6], T[t+7], T[t+8], T[t+9], T[t+10], T[t+11], T[t+12], T[t+13], T[t+14], pack); break;
      case ${TASK_BINARY}: K.binary(T[t+1], T[t+2], T[t+3], T[t+4], T[t+5], T[t+6], T[t+7], T[t+8], T[t+9], T[t+10]); break;
      case ${TASK_UNARY}: K.unary(T[t+1], T[t+2], T[t+3], T[t+4]); break;
      case ${TASK_GELU}: K.gelu(T[t+1], T[t+2], T[t+3], T[t+4], T[t+5]); break;
      case ${TASK_CONV}: K.convTask(T[t+1], T[t+2], T[t+3], T[t+4], T[t+5], pack); break;
    }
  }
  Atomics.store(c, ACK, seen);
  Atomics.notify(c, ACK);
}
`;

let wanted = Math.max(
  1,
  Math.min(MAX_THREADS, Number(envFlag('TAPEGRAD_THREADS') ?? '') || Math.min(availableParallelism(), 4)),
);
const workers: Worker[] = [];
let dead = false;

/** Sets how many threads (the calling thread included) large kernels may use. 1 turns threading off. */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new ValueError(`setNumThreads: expected a positive integer, got ${n}`);
  wanted = Math.min(MAX_THREADS, n);
}
export const getNumThreads = (): number => wanted;

/** Indices (1-based) of worker threads that have started; spawns missing ones without waiting. */
function readyWorkers(): number[] {
  while (workers.length < wanted - 1) {
    const w = workers.length + 1;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [], // plain JS: no loaders or --input-type from the parent
      workerData: { module: wasmModule, memory, ctrl: CTRL, tasks: TASKS, pack: PACK + w * PACK_BYTES, w },
    });
    worker.unref();
    worker.on('error', () => {
      dead = true;
    });
    workers.push(worker);
  }
  const ready: number[] = [];
  if (dead) return ready;
  for (let w = 1; w < wanted; w++) if (Atomics.load(ctl, READYW(w)) === 1) ready.push(w);
  return ready;
}

/**
 * The [r0, r1, c0, c1) parts of an m×n product for `threads` threads, about two per thread: row
 * ranges (multiples of the 4-row tile) or column ranges (multiples of 8), whichever packs less
 * again. Every row part packs all of B (k×n), every column part all of A (m×k), so a short wide
 * product (a batch through a wide layer) splits its columns. Results do not depend on the parts.
 */
export function gemmParts(m: number, n: number, threads: number): [number, number, number, number][] {
  if (threads <= 1) return [[0, m, 0, n]];
  const cols = n > m,
    len = cols ? n : m,
    unit = cols ? 8 : 4;
  const parts = Math.max(1, Math.min(Math.ceil(len / (10 * unit)), threads * 2));
  const step = Math.ceil(len / parts / unit) * unit;
  const out: [number, number, number, number][] = [];
  for (let s = 0; s < len; s += step) {
    const e = Math.min(len, s + step);
    out.push(cols ? [0, m, s, e] : [s, e, 0, n]);
  }
  return out;
}
/** GEMM operands as K.gemm takes them before the part: a, ars, acs, b, brs, bcs, c, m, k, n. */
export type GemmArgs = readonly [number, number, number, number, number, number, number, number, number, number];
/**
 * C = op(A) @ op(B) over `threads` threads (as many as are running): the parts of gemmParts as
 * tasks, or one call on this thread.
 */
export function runGemm(g: GemmArgs, threads: number): void {
  const parts = gemmParts(g[7], g[9], threads);
  if (parts.length === 1) K.gemm(...g, 0, g[7], 0, g[9], PACK);
  else {
    parts.forEach((q, i) => setTask(i, TASK_GEMM, [...g, ...q]));
    runTasks(parts.length);
  }
}

/** Writes task i of the task table (16 Int32 slots; slot 0 = kind). */
export function setTask(i: number, kind: number, args: readonly number[]): void {
  if (i >= TASK_CAP || args.length > 15) throw new BackendError(`wasm: task ${i} does not fit the task table`);
  const t = (TASKS >> 2) + i * 16;
  I32[t] = kind;
  for (let j = 0; j < args.length; j++) I32[t + 1 + j] = args[j]!;
}

function runLocal(i: number): void {
  const T = I32;
  const t = (TASKS >> 2) + i * 16;
  switch (T[t]) {
    case TASK_GEMM:
      K.gemm(
        T[t + 1]!,
        T[t + 2]!,
        T[t + 3]!,
        T[t + 4]!,
        T[t + 5]!,
        T[t + 6]!,
        T[t + 7]!,
        T[t + 8]!,
        T[t + 9]!,
        T[t + 10]!,
        T[t + 11]!,
        T[t + 12]!,
        T[t + 13]!,
        T[t + 14]!,
        PACK,
      );
      break;
    case TASK_BINARY:
      K.binary(
        T[t + 1]!,
        T[t + 2]!,
        T[t + 3]!,
        T[t + 4]!,
        T[t + 5]!,
        T[t + 6]!,
        T[t + 7]!,
        T[t + 8]!,
        T[t + 9]!,
        T[t + 10]!,
      );
      break;
    case TASK_UNARY:
      K.unary(T[t + 1]!, T[t + 2]!, T[t + 3]!, T[t + 4]!);
      break;
    case TASK_GELU:
      K.gelu(T[t + 1]!, T[t + 2]!, T[t + 3]!, T[t + 4]!, T[t + 5]!);
      break;
    case TASK_CONV:
      K.convTask(T[t + 1]!, T[t + 2]!, T[t + 3]!, T[t + 4]!, T[t + 5]!, PACK);
      break;
  }
}

/**
 * Starts the worker threads now and waits (up to `timeoutMs`) until they can take work;
 * returns the number of threads ready, the calling thread included. Optional: without it,
 * work stays on one thread until the workers have started by themselves.
 */
export function startThreads(timeoutMs = 5000): number {
  const end = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (wanted > 1 && readyWorkers().length < wanted - 1 && !dead && Date.now() < end) Atomics.wait(pause, 0, 0, 2);
  return threadsAvailable();
}

/** How many threads a parallel run would use right now (1 while no worker has started). */
export function threadsAvailable(): number {
  return wanted <= 1 ? 1 : 1 + readyWorkers().length;
}

/**
 * Runs tasks 0..n-1 of the task table: the calling thread and every started worker claim
 * tasks from a shared counter; returns when every participant has acknowledged the job, so
 * the next job can rewrite the table safely. Results do not depend on who ran which task.
 */
export function runTasks(n: number): void {
  const helpers = wanted > 1 && n > 1 ? readyWorkers() : [];
  if (helpers.length === 0) {
    for (let i = 0; i < n; i++) runLocal(i);
    return;
  }
  Atomics.store(ctl, NTASK, n);
  Atomics.store(ctl, NEXT, 0);
  const seqs = helpers.map((w) => {
    const s = (Atomics.load(ctl, JOB(w)) + 1) | 0;
    // The job number first: a worker that sees the invitation (ST 1) then reads this job's number.
    Atomics.store(ctl, JOB(w), s);
    Atomics.store(ctl, STATEW(w), 1);
    Atomics.notify(ctl, JOB(w));
    return s;
  });
  let i: number;
  while ((i = Atomics.add(ctl, NEXT, 1)) < n) runLocal(i);
  const deadline = Date.now() + 120_000;
  helpers.forEach((w, j) => {
    // A worker that has not woken up yet is not waited for: every task is done, so withdraw its invitation.
    if (Atomics.compareExchange(ctl, STATEW(w), 1, 0) === 1) return;
    const want = seqs[j]!;
    for (let spin = 0; ; spin++) {
      const cur = Atomics.load(ctl, ACKW(w));
      if (cur === want) break;
      if (spin < 1000) continue;
      Atomics.wait(ctl, ACKW(w), cur, 20);
      if (dead || Date.now() > deadline) throw new BackendError('wasm: a kernel worker thread stopped responding');
    }
  });
}
