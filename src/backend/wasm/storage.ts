/**
 * Resident float32 tensor storage: values in a block of the shared WebAssembly.Memory (pool.ts),
 * so a WASM kernel reads its inputs in place and writes its output straight into a new block
 * (no copy in, no copy out, no fresh JS array per op).
 *
 * Lifetime, as for GPU textures (the Block and Handle of ../refcounted.ts, which all three device
 * storages share): a block is refcounted over its handles (`share()` for reshape views); it goes
 * back to the pool when every handle is disposed —
 * deterministically at the end of a backward pass (tape.ts release scopes), when `.data`
 * migrates a tensor to host memory, or by a FinalizationRegistry once the event loop turns.
 * Finalizers never run inside a synchronous loop, so the resident set has limits: past them
 * the least recently used blocks are spilled (their values copied to a JS Float32Array, which
 * V8 frees synchronously like any array) and the block is reused. Kernels read a spilled block's
 * values where they are (`srcOf`; the tensor is not migrated), and a spilled block used a second
 * time comes back into wasm memory: dead results of a loop that never yields push hot tensors
 * out of the set, and without this they would be copied in on every use from then on.
 *
 * Views never go stale: `read()` copies, so no array handed out ever aliases a block that a
 * later op may reuse (and a shared memory's buffer is never detached by `memory.grow`).
 */
import { ValueError } from '../../errors.js';
import { checkOptions } from '../../validate.js';
import type { DeviceStorage } from '../backend.js';
import { Block, Handle } from '../refcounted.js';
import { F32, f32Index, pool } from './runtime.js';

/**
 * Bounds of the resident set. In a loop that never yields, dead results wait in the set until
 * they are spilled, so the limits are also what such a loop holds in wasm memory: the defaults
 * hold a transformer step's saved activations (docs/performance.md) and little more.
 */
export interface WasmMemoryLimits {
  /** Whether float32 WASM kernels return resident outputs (default true; false: host arrays as before). */
  resident: boolean;
  /** Most resident blocks at once (default 1024). */
  maxBlocks: number;
  /** Most bytes in resident blocks at once (default 64 MiB). */
  maxBytes: number;
  /**
   * Smaller results stay on the host unless an input is resident (default 16384, 64 KiB): below
   * it the bookkeeping of a block measured no cheaper than the copies it saves.
   */
  minResidentElements: number;
}
export const DEFAULT_WASM_LIMITS: Readonly<WasmMemoryLimits> = Object.freeze({
  resident: true,
  maxBlocks: 1024,
  maxBytes: 64 * 2 ** 20,
  minResidentElements: 16384,
});
/** A limit from the environment (a non-negative integer times `scale`), or the default. */
function envLimit(name: string, scale: number, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const x = Number(v);
  if (!Number.isSafeInteger(x) || x < 0) throw new ValueError(`${name}: expected a non-negative integer, got '${v}'`);
  return x * scale;
}
export const limits: WasmMemoryLimits = {
  resident: process.env['TAPEGRAD_WASM_RESIDENT'] !== '0',
  maxBlocks: envLimit('TAPEGRAD_WASM_MAX_BLOCKS', 1, DEFAULT_WASM_LIMITS.maxBlocks),
  maxBytes: envLimit('TAPEGRAD_WASM_MAX_MB', 2 ** 20, DEFAULT_WASM_LIMITS.maxBytes),
  minResidentElements: DEFAULT_WASM_LIMITS.minResidentElements,
};

/** Counters of the WASM memory (see `tuning.wasmMemoryStats`). */
export interface WasmMemoryStats {
  /** Resident blocks alive now. */
  residentBlocks: number;
  /** Bytes of values in resident blocks now. */
  residentBytes: number;
  /** Resident blocks created so far. */
  created: number;
  /** Blocks spilled to the JS heap because the set was over its limits. */
  spilled: number;
  /** Spilled blocks brought back into wasm memory because kernels kept reading them. */
  restored: number;
  /** Blocks freed because their last handle was disposed (release scopes, `.data`, `dispose()`). */
  released: number;
  /** Blocks freed by the garbage collector's finalizers. */
  finalized: number;
  /** Bytes of WebAssembly memory the block pool has carved (its high-water mark, never shrinks). */
  poolCarvedBytes: number;
  /** Bytes of pool blocks in use now (resident tensors and the current op's scratch). */
  poolBytesInUse: number;
}
const counts = { residentBlocks: 0, residentBytes: 0, created: 0, spilled: 0, restored: 0, released: 0, finalized: 0 };
/** What resident storage and the block pool hold now, and how many blocks were spilled, released and finalized. */
export function wasmMemoryStats(): WasmMemoryStats {
  return { ...counts, poolCarvedBytes: pool.counters.carved, poolBytesInUse: pool.counters.bytesInUse };
}
/** @internal For tests. */
export function resetWasmMemoryCounters(): void {
  counts.created = counts.spilled = counts.restored = counts.released = counts.finalized = 0;
}

const COPY_CHUNK = 16384;
/** Resident blocks, least recently used first (a Map keeps insertion order; a use re-inserts). */
const lru = new Map<WasmBlock, true>();

/** A refcounted block of the pool, or (once spilled) its values in a JS array (refcounted.ts). */
class WasmBlock extends Block {
  /** Kernel reads since the spill; the second one restores the block (`restore()`). */
  #spilledReads = 0;
  /** Set once `cpu` is handed to a reader as its own: from then on the block stays spilled. */
  #handedOut = false;
  #p: number;
  constructor(
    p: number,
    readonly n: number,
  ) {
    super();
    this.#p = p;
    this.#enter();
    counts.created++;
  }
  #enter(): void {
    counts.residentBlocks++;
    counts.residentBytes += this.n * 4;
    lru.set(this, true);
  }
  /** The block's address (marks it recently used), or -1 once spilled. */
  use(): number {
    if (this.#p >= 0) {
      lru.delete(this);
      lru.set(this, true);
    }
    return this.#p;
  }
  get spilled(): boolean {
    return this.#p < 0;
  }
  readDevice(): Float32Array {
    const i = f32Index(this.#p),
      n = this.n,
      // Not zero-filled (every value is written below): the GPT step's spills measured 1.7–2.0 ms
      // per step against 2.2–3.0 with zeroed arrays (noisy rounds; zeroing touches fresh pages).
      out = new Float32Array(Buffer.allocUnsafeSlow(n * 4).buffer, 0, n);
    // In 16 Ki-element pieces: one large copy out of shared memory into a fresh array measured
    // 2.7× slower on Node 20 (0.43 against 0.16 ms for 512 KiB).
    for (let o = 0; o < n; o += COPY_CHUNK) out.set(F32.subarray(i + o, i + Math.min(n, o + COPY_CHUNK)), o);
    return out;
  }
  protected free(how: 'spill' | 'release' | 'finalize'): void {
    pool.give(this.#p);
    this.#p = -1;
    lru.delete(this);
    counts.residentBlocks--;
    counts.residentBytes -= this.n * 4;
    if (how === 'spill') this.#spilledReads = 0;
    counts[how === 'spill' ? 'spilled' : how === 'finalize' ? 'finalized' : 'released']++;
  }
  /**
   * Counts a kernel's read of the spilled block and brings it back on the second one, unless it was
   * handed out, has other handles (unregistered at the spill: they could not release it), or would
   * take over a quarter of the set's bytes. True when it is resident again.
   */
  restore(): boolean {
    if (++this.#spilledReads < 2 || this.#handedOut || this.refs !== 1) return false;
    if (!limits.resident || this.n * 16 > limits.maxBytes) return false;
    const p = pool.take(this.n * 4),
      cpu = this.cpu!;
    for (let o = 0; o < this.n; o += COPY_CHUNK) F32.set(cpu.subarray(o, o + COPY_CHUNK), f32Index(p) + o);
    this.#p = p;
    this.cpu = null;
    this.#enter();
    counts.restored++;
    return true;
  }
  override handOut(): Float32Array {
    this.#handedOut = true;
    return this.cpu!;
  }
}

/** One handle onto a resident block (a Tensor's `deviceBuffer`, device 'wasm'). */
export class WasmBuffer extends Handle<WasmBlock> {
  readonly device = 'wasm';
  constructor(b: WasmBlock) {
    super(b, 'wasm: resident buffer');
  }
  protected another(b: WasmBlock): WasmBuffer {
    return new WasmBuffer(b);
  }
  /** Float32 values held. */
  get length(): number {
    return this.disposed ? 0 : this.block('used').n;
  }
  /** The values' byte address in the WASM memory (marks the block recently used), or -1 once spilled. */
  address(): number {
    return this.block('used').use();
  }
  /**
   * A kernel's view of the values: the address, restoring a spilled block on its second read (the
   * handle is then registered with the finalizer again), or the spilled values to read only.
   */
  source(): number | Float32Array {
    const b = this.block('used');
    if (b.spilled && b.restore()) this.track();
    return b.spilled ? b.cpu! : b.use();
  }
}

/** A new resident block of `n` float32 values (uninitialised) and its address. Call `settle()` after the kernel. */
export function residentBlock(n: number): { buf: WasmBuffer; p: number } {
  const p = pool.take(Math.max(n, 1) * 4);
  return { buf: new WasmBuffer(new WasmBlock(p, n)), p };
}

/**
 * Spills least-recently-used blocks until the set is within its limits. Kernels call it after they
 * ran, so a block spilled here is never one of the running op's inputs or its output.
 */
export function settle(): void {
  if (counts.residentBlocks <= limits.maxBlocks && counts.residentBytes <= limits.maxBytes) return;
  for (const b of lru.keys()) {
    if (counts.residentBlocks <= limits.maxBlocks && counts.residentBytes <= limits.maxBytes) return;
    b.spill();
  }
}

/**
 * A float32 kernel input: its resident address, or host values to copy in (read only). A spilled
 * block is read where it is, and restored on its second read; other tensors give `.data`.
 */
export function srcOf(x: {
  readonly deviceBuffer: DeviceStorage | null;
  readonly data: unknown;
}): number | Float32Array {
  const d = x.deviceBuffer;
  if (d instanceof WasmBuffer && !d.disposed) return d.source();
  return x.data as Float32Array;
}

/** The resident address of a float32 tensor's values, or -1 when they are not in a live block. */
export function residentAddress(x: { readonly deviceBuffer: DeviceStorage | null }): number {
  const d = x.deviceBuffer;
  return d instanceof WasmBuffer && !d.disposed ? d.address() : -1;
}

/**
 * Sets whether float32 WASM kernels keep their results resident in WebAssembly memory, and the
 * bounds of that resident set (least recently used blocks past them are spilled to the JS heap);
 * `'default'` restores the defaults. Returns the limits now in force. Turning residency off
 * leaves existing resident tensors as they are (they still read and migrate as usual).
 */
export function setWasmMemoryLimits(next: Partial<WasmMemoryLimits> | 'default'): WasmMemoryLimits {
  const op = 'setWasmMemoryLimits';
  const o =
    next === 'default'
      ? DEFAULT_WASM_LIMITS
      : checkOptions(op, next, ['resident', 'maxBlocks', 'maxBytes', 'minResidentElements']);
  if (o.resident !== undefined && typeof o.resident !== 'boolean') {
    throw new ValueError(`${op}: resident must be a boolean, got ${String(o.resident)}`);
  }
  for (const key of ['maxBlocks', 'maxBytes', 'minResidentElements'] as const) {
    const v = o[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)) {
      throw new ValueError(`${op}: ${key} must be a non-negative integer, got ${String(v)}`);
    }
  }
  Object.assign(limits, o);
  settle();
  return { ...limits };
}
