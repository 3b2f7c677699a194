/**
 * Device storage shared by the three backends that hold values off the JS heap: gpu.js textures
 * (gpu/runtime.ts), WebGPU buffers (gpu/webgpu/device.ts) and WebAssembly memory blocks
 * (wasm/storage.ts). A `Block` is the storage, refcounted over its `Handle`s; a Tensor holds a
 * handle, and `share()` makes another for a reshape view. The block is freed when its last handle
 * is disposed (release scopes, `.data`, `dispose()`) or, as a safety net, when the garbage collector
 * finalizes it. A backend over its limits spills blocks: the values are copied to a JS array and
 * the device memory is freed. A spill drops the handles' finalizer tokens, because the registry
 * holds its values strongly until a finalizer runs, which a loop that never yields never lets
 * happen: every spilled array would stay alive.
 */
import { BackendError } from '../errors.js';
import type { DeviceStorage } from './buffer.js';

/** Refcounted device memory, or (once spilled) its values in a JS array. */
export abstract class Block {
  refs = 1;
  /** The values after a spill (the device memory is freed then). */
  cpu: Float32Array | null = null;
  /** Registry tokens of the handles (see the module comment). */
  readonly tokens = new Set<object>();
  /** True once the values live only in `cpu`. */
  abstract get spilled(): boolean;
  /** A copy of the values in device memory (only while not spilled). */
  abstract readDevice(): Float32Array;
  /** Frees the device memory (only while not spilled); `how` says who asked. */
  protected abstract free(how: 'spill' | 'release' | 'finalize'): void;
  /** Copies the values to the JS heap and frees the device memory. */
  spill(): void {
    if (this.spilled) return;
    this.cpu = this.readDevice();
    this.free('spill');
    for (const t of this.tokens) registry.unregister(t);
    this.tokens.clear();
  }
  /** Drops one reference; the last frees the block. */
  release(finalized: boolean): void {
    if (--this.refs > 0) return;
    if (!this.spilled) this.free(finalized ? 'finalize' : 'release');
    this.cpu = null;
  }
  /** The spilled values, given to the one handle's reader to keep. */
  handOut(): Float32Array {
    return this.cpu!;
  }
}

/** Safety net: a handle collected without dispose() releases its reference. */
const registry = new FinalizationRegistry<Block>((b) => b.release(true));

/** One handle onto a block (a Tensor's `deviceBuffer`). */
export abstract class Handle<B extends Block> implements DeviceStorage {
  abstract readonly device: string;
  #b: B | null;
  readonly #token = {};
  constructor(
    b: B,
    /** Names the storage in errors ('GPU buffer'). */
    protected readonly label: string,
  ) {
    this.#b = b;
    if (!b.spilled) this.track();
  }
  /** Registers this handle with the finalizer (again, after its block was brought back from a spill). */
  protected track(): void {
    registry.register(this, this.#b!, this.#token);
    this.#b!.tokens.add(this.#token);
  }
  /** The block, or a BackendError naming what was attempted after dispose(). */
  protected block(what: string): B {
    if (this.#b === null) throw new BackendError(`${this.label} ${what} after dispose()`);
    return this.#b;
  }
  /** Another handle onto `b` (share()). */
  protected abstract another(b: B): Handle<B>;
  get disposed(): boolean {
    return this.#b === null;
  }
  /** Copies the values back to the CPU; a spilled block's array is handed over when no other handle can see it. */
  read(): Float32Array {
    const b = this.block('read');
    if (b.cpu !== null) return b.refs > 1 ? b.cpu.slice() : b.handOut();
    return b.readDevice();
  }
  dispose(): void {
    const b = this.#b;
    if (b === null) return;
    this.#b = null;
    registry.unregister(this.#token);
    b.tokens.delete(this.#token);
    b.release(false);
  }
  share(): DeviceStorage {
    const b = this.block('shared');
    b.refs++;
    return this.another(b);
  }
}
