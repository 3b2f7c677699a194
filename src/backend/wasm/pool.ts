/**
 * The block allocator over the data region of the shared WebAssembly.Memory: size classes (64-byte
 * steps up to 1 KiB, then four per octave, each ≈1.19× the last, 64-byte aligned), a free list per class, and
 * fresh blocks carved from the top of the region (growing the memory) when no free block fits.
 * A request may take a free block up to three classes larger (≤ 1.7× its size) before carving,
 * so a loop whose sizes drift a little still reuses memory. WebAssembly memory never shrinks:
 * what bounds the region is the number and size of blocks in use at once (per-op scratch, and
 * the resident tensors of storage.ts, which spill to the JS heap past their limits).
 */
import { BackendError } from '../../errors.js';

/** Smallest block (bytes); every block address and size is a multiple of it. */
const MIN = 64;
/** Classes 0..14 are 64..960 bytes in steps of 64; from class 15 (1 KiB) on, four per octave. */
const LINEAR = 15;
/** The size class of a request of `bytes` (the smallest class that holds it). */
export function classOf(bytes: number): number {
  if (bytes <= LINEAR * MIN) return Math.max(0, Math.ceil(bytes / MIN) - 1);
  let c = LINEAR + Math.max(0, Math.floor(Math.log2(bytes / (16 * MIN)) * 4));
  while (classBytes(c) < bytes) c++;
  while (c > LINEAR && classBytes(c - 1) >= bytes) c--;
  return c;
}
/** The bytes of a block of class `c` (64-byte multiples, strictly increasing in c). */
export function classBytes(c: number): number {
  return SIZES[c] ?? sizeOfClass(c);
}
const sizeOfClass = (c: number): number =>
  c < LINEAR ? (c + 1) * MIN : Math.ceil((16 * MIN * 2 ** ((c - LINEAR) / 4)) / MIN) * MIN;
/** The classes up to 4 GiB, computed once: every take and give looks its class's size up. */
const SIZES = Array.from({ length: 128 }, (_, c) => sizeOfClass(c));
/** How many classes above its own a request may take from a free list. */
const SLACK = 3;

/** Counters of a pool (see `tuning.wasmMemoryStats`). */
export interface PoolCounters {
  /** Bytes carved from the memory so far (the region's high-water mark). */
  carved: number;
  /** Blocks handed out and not yet returned. */
  blocksInUse: number;
  /** Bytes of the blocks in use. */
  bytesInUse: number;
}

export class BlockPool {
  #top: number;
  readonly #free: number[][] = [];
  /** Class of every block in use, by address (catches a double free). */
  readonly #live = new Map<number, number>();
  readonly counters: PoolCounters = { carved: 0, blocksInUse: 0, bytesInUse: 0 };
  /**
   * @param base first byte of the region (a multiple of 64)
   * @param ensure makes the memory at least `end` bytes long (grows it; throws a BackendError if it cannot)
   * @param limit one past the last byte the region may use
   */
  constructor(
    base: number,
    readonly ensure: (end: number) => void,
    readonly limit: number,
  ) {
    this.#top = base;
  }
  /** A block of at least `bytes` bytes; its address. */
  take(bytes: number): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0)
      throw new BackendError(`wasm: invalid block request of ${bytes} bytes`);
    const c = classOf(bytes);
    for (let k = c; k <= c + SLACK; k++) {
      const list = this.#free[k];
      if (list !== undefined && list.length > 0) return this.#use(list.pop()!, k);
    }
    const size = classBytes(c);
    if (this.#top + size > this.limit) {
      throw new BackendError(
        `wasm: a block of ${size} bytes does not fit in the ${this.limit} bytes (4 GiB) a wasm32 memory can address ` +
          `(${this.counters.bytesInUse} bytes in use); use smaller tensors or the reference kernels ` +
          `(setCpuKernels('reference'))`,
      );
    }
    this.ensure(this.#top + size);
    const p = this.#top;
    this.#top += size;
    this.counters.carved += size;
    return this.#use(p, c);
  }
  #use(p: number, c: number): number {
    this.#live.set(p, c);
    this.counters.blocksInUse++;
    this.counters.bytesInUse += classBytes(c);
    return p;
  }
  /** Returns the block at `p` to its free list. */
  give(p: number): void {
    const c = this.#live.get(p);
    if (c === undefined) throw new BackendError(`wasm: block ${p} returned twice or never handed out`);
    this.#live.delete(p);
    this.counters.blocksInUse--;
    this.counters.bytesInUse -= classBytes(c);
    (this.#free[c] ??= []).push(p);
  }
  /** Bytes of the block at `p` (0 when it is not in use). */
  sizeOf(p: number): number {
    const c = this.#live.get(p);
    return c === undefined ? 0 : classBytes(c);
  }
}
