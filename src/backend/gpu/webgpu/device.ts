/**
 * The main thread's side of the WebGPU mode: starts the worker that owns the Dawn device (see
 * worker.ts), posts it kernel launches without waiting, and reads buffers back synchronously by
 * blocking on `Atomics.wait` (or asynchronously with `Atomics.waitAsync`). Resident buffers
 * share the headless-gl mode's pool rules and counters (runtime.ts): refcounted handles, a
 * FinalizationRegistry safety net, and least-recently-used spills to CPU memory past the limits.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BackendError } from '../../../errors.js';
import { Block, Handle } from '../../refcounted.js';
import { memoryLimits, stats } from '../runtime.js';
import { WORKER_SOURCE } from './worker.js';

/** What the worker reports about the adapter Dawn picked. */
export interface AdapterDesc {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  maxStorageBufferBindingSize: number;
}
export interface WebGpuRuntime {
  readonly mode: 'webgpu';
  readonly renderer: string;
  /** A software rasterizer/Vulkan (llvmpipe, lavapipe, SwiftShader, WARP): slower than our CPU kernels. */
  readonly software: boolean;
  readonly adapter: AdapterDesc;
}

const START_TIMEOUT_MS = 30_000;
const READ_TIMEOUT_MS = 120_000;
const EXIT_TIMEOUT_MS = 10_000;
const FIX_INSTALL =
  'Install the optional peer dependency with `npm install webgpu@0.6.2` and a Vulkan driver Dawn accepts ' +
  '(NVIDIA: the proprietary driver with its Vulkan ICD; software: Mesa >= 24 lavapipe, on Debian 12 ' +
  '`apt-get install -t bookworm-backports mesa-vulkan-drivers`); see docs/gpu.md.';

let worker: Worker | null = null;
let runtime: WebGpuRuntime | null = null;
let startError: BackendError | null = null;
let nextId = 1;

/** Waits for the worker's answer in `sab` and decodes it (floats, or the error text). */
function decode(sab: SharedArrayBuffer): { ok: true; floats: Float32Array } | { ok: false; text: string } {
  const head = new Int32Array(sab, 0, 2);
  const status = Atomics.load(head, 0);
  const n = head[1]!;
  if (status === 1) return { ok: true, floats: new Float32Array(sab, 8, n).slice() };
  return { ok: false, text: String.fromCharCode(...new Uint16Array(sab, 8, n)) };
}
function answerBuffer(floats: number): SharedArrayBuffer {
  return new SharedArrayBuffer(8 + Math.max(floats * 4, 8192));
}
function waitFor(sab: SharedArrayBuffer, ms: number, what: string): ReturnType<typeof decode> {
  const head = new Int32Array(sab, 0, 2);
  if (Atomics.wait(head, 0, 0, ms) === 'timed-out') {
    throw new BackendError(`WebGPU ${what}: the device worker did not answer within ${ms / 1000} s`);
  }
  return decode(sab);
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|softpipe|warp|microsoft basic render/i;

/** Starts the worker and the Dawn device once; throws a BackendError saying why and how to fix it. */
export function startWebGpu(): WebGpuRuntime {
  if (runtime) return runtime;
  if (startError) throw startError;
  try {
    runtime = boot();
    return runtime;
  } catch (e) {
    startError =
      e instanceof BackendError ? e : new BackendError(`WebGPU backend cannot start: ${(e as Error).message}`);
    throw startError;
  }
}

function boot(): WebGpuRuntime {
  let url: string;
  try {
    url = pathToFileURL(createRequire(import.meta.url).resolve('webgpu')).href;
  } catch {
    throw new BackendError(`WebGPU backend cannot start: the webgpu package is not installed. ${FIX_INSTALL}`);
  }
  const sab = answerBuffer(0);
  const w = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { url, sab, debug: !!process.env['TAPEGRAD_WEBGPU_DEBUG'] },
  });
  w.unref();
  let r: ReturnType<typeof decode>;
  try {
    r = waitFor(sab, START_TIMEOUT_MS, 'start-up');
  } catch (e) {
    void w.terminate();
    throw e;
  }
  const msg = JSON.parse(r.ok ? '{}' : r.text) as { ok: boolean; error?: string; desc?: AdapterDesc };
  if (!msg.ok || !msg.desc) {
    void w.terminate();
    throw new BackendError(`WebGPU backend cannot start: ${msg.error ?? 'unknown error'}. ${FIX_INSTALL}`);
  }
  worker = w;
  // Let the worker finish the queued commands before the process exits: terminating it inside a
  // Dawn call aborts the process (exit code 134) instead of exiting normally.
  process.once('exit', () => {
    try {
      if (worker) readSync(-1, 0, EXIT_TIMEOUT_MS);
    } catch {
      // exiting anyway
    }
  });
  const d = msg.desc;
  const software =
    d.isFallbackAdapter || d.architecture === 'software' || SOFTWARE.test(`${d.description} ${d.device}`);
  const name = d.description || [d.vendor, d.architecture, d.device].filter(Boolean).join(' ');
  const rt: WebGpuRuntime = {
    mode: 'webgpu',
    renderer: `${name} (WebGPU/Dawn${software ? ', software adapter' : ''})`,
    software,
    adapter: d,
  };
  // Smoke test: a real shader must run and return the right values.
  runtime = rt;
  const probe = launch(PROBE, [new Float32Array([1, 2, 3])], null, 3);
  const got = probe.read();
  probe.dispose();
  if (got[0] !== 3 || got[1] !== 5 || got[2] !== 7) {
    runtime = null;
    worker = null;
    void w.terminate();
    throw new BackendError(`WebGPU backend cannot start: a test kernel returned [${Array.from(got).join(', ')}]`);
  }
  return rt;
}

const PROBE = `@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> o: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x < 3u) { o[g.x] = a[g.x] * 2.0 + 1.0; }
}`;

export const getWebGpu = (): WebGpuRuntime | null => runtime;

function post(m: object): void {
  if (!worker) throw new BackendError('WebGPU backend is not started: call setBackend("gpu") first');
  worker.postMessage(m);
}

// ---- pipeline cache (the worker keeps the pipelines; we keep the LRU order and the counters) ----
const cache = new Map<string, true>();
let cacheCapacity = 256;
export function setWebGpuCacheCapacity(n: number): void {
  cacheCapacity = Math.max(1, Math.floor(n));
  trim();
}
function trim(): void {
  while (cache.size > cacheCapacity) {
    const src = cache.keys().next().value as string;
    cache.delete(src);
    if (worker) post({ t: 'evict', src });
    stats.destroyed++;
  }
  stats.cachedKernels = cache.size;
}
function useKernel(src: string): void {
  if (cache.delete(src)) {
    cache.set(src, true);
    return;
  }
  cache.set(src, true);
  stats.compiles++;
  trim();
}

/** Workgroups of 64 threads, laid out 2-D when more than 65535 are needed. */
export const WG = 64;
export function groupsFor(size: number): [number, number] {
  const g = Math.max(1, Math.ceil(size / WG));
  if (g <= 65535) return [g, 1];
  const y = Math.ceil(g / 65535);
  return [Math.ceil(g / y), y];
}

/** A kernel input: a resident buffer, or a CPU array uploaded for this launch. */
export type Input = WgpuBuffer | Float32Array;

/** Launches `src` (size output floats); returns the resident result. Does not wait. */
export function launch(src: string, ins: readonly Input[], scalars: Float32Array | null, size: number): WgpuBuffer {
  if (!runtime) throw new BackendError('WebGPU backend is not started: call setBackend("gpu") first');
  useKernel(src);
  const id = nextId++;
  const wire = ins.map((x) => {
    if (x instanceof WgpuBuffer) return x.id;
    stats.uploads++;
    // Structured clone copies, so later in-place changes of the caller's array do not race.
    return x;
  });
  post({ t: 'run', src, ins: wire, scalars, out: id, size, groups: groupsFor(size) });
  stats.runs++;
  const s = new Slot(id, size);
  const buf = new WgpuBuffer(s);
  enforceWebGpuLimits(s);
  return buf;
}

function readSync(id: number, n: number, ms = READ_TIMEOUT_MS): Float32Array {
  const sab = answerBuffer(n);
  post({ t: 'read', id, n, sab });
  const r = waitFor(sab, ms, 'readback');
  if (!r.ok) throw new BackendError(`WebGPU kernel failed: ${r.text}`);
  return r.floats;
}
/** `Atomics.waitAsync` (Node >= 16; not in this project's TypeScript lib). */
interface AtomicsAsync {
  waitAsync(
    a: Int32Array,
    i: number,
    v: number,
    ms: number,
  ): { async: false; value: string } | { async: true; value: Promise<string> };
}
let asyncReads = 0;
async function readAsync(id: number, n: number): Promise<Float32Array> {
  const sab = answerBuffer(n);
  post({ t: 'read', id, n, sab });
  const head = new Int32Array(sab, 0, 2);
  const w = (Atomics as unknown as AtomicsAsync).waitAsync(head, 0, 0, READ_TIMEOUT_MS);
  if (w.async) {
    // Atomics.waitAsync does not keep the event loop alive, and the worker is unref'd: hold it
    // while a read is pending, or `await t.dataAsync()` at the end of a script exits the process.
    if (asyncReads++ === 0) worker?.ref();
    try {
      if ((await w.value) === 'timed-out') throw new BackendError('WebGPU readback: the worker did not answer');
    } finally {
      if (--asyncReads === 0) worker?.unref();
    }
  }
  const r = decode(sab);
  if (!r.ok) throw new BackendError(`WebGPU kernel failed: ${r.text}`);
  return r.floats;
}
/** Waits for all queued work and reports a pending device error (tests and benchmarks). */
export function syncWebGpu(): void {
  if (worker) readSync(-1, 0);
}

// ---- resident buffers and the pool ------------------------------------------------------------
const resident = new Map<Slot, true>();
/** Spills least-recently-used buffers until the pool is within its limits (never `keep`). */
export function enforceWebGpuLimits(keep: Slot | null = null): void {
  for (const s of resident.keys()) {
    if (stats.liveTextures <= memoryLimits.maxTextures && stats.liveBytes <= memoryLimits.maxBytes) return;
    if (s !== keep) s.spill();
  }
}

/** @internal A refcounted device buffer of the worker, or (once spilled) its values in CPU memory (refcounted.ts). */
export class Slot extends Block {
  #live = true;
  constructor(
    readonly id: number,
    readonly size: number,
  ) {
    super();
    stats.liveTextures++;
    stats.liveBytes += size * 4;
    resident.set(this, true);
  }
  get spilled(): boolean {
    return !this.#live;
  }
  touch(): void {
    resident.delete(this);
    resident.set(this, true);
  }
  readDevice(): Float32Array {
    stats.reads++;
    return readSync(this.id, this.size);
  }
  readDeviceAsync(): Promise<Float32Array> {
    stats.reads++;
    return readAsync(this.id, this.size);
  }
  protected free(how: 'spill' | 'release' | 'finalize'): void {
    if (how === 'spill') stats.spilled++;
    this.#live = false;
    resident.delete(this);
    stats.liveTextures--;
    stats.liveBytes -= this.size * 4;
    if (worker) worker.postMessage({ t: 'free', id: this.id });
  }
}

/** A GPU-resident float32 buffer in WebGPU mode: one handle onto a refcounted device buffer. */
export class WgpuBuffer extends Handle<Slot> {
  readonly device = 'gpu';
  constructor(s: Slot) {
    super(s, 'GPU buffer');
  }
  protected another(s: Slot): WgpuBuffer {
    return new WgpuBuffer(s);
  }
  get spilled(): boolean {
    return !this.disposed && this.block('used').spilled;
  }
  /** @internal The worker's id of the buffer (kernels take it directly). */
  get id(): number {
    const s = this.block('used');
    if (s.spilled) throw new BackendError('GPU buffer used after it was spilled to CPU memory');
    s.touch();
    return s.id;
  }
  /** Reads the values back without blocking the thread (the worker maps the buffer meanwhile). */
  async readAsync(): Promise<Float32Array> {
    const s = this.block('read');
    if (s.cpu !== null) return s.refs > 1 ? s.cpu.slice() : s.cpu;
    return s.readDeviceAsync();
  }
}
