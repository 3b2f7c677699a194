import { allocate, dtypeOfArray, type DType, type TypedArray } from '../dtype.js';
import { sizeOf, type Shape } from '../shape.js';

/** Storage that lives off the CPU (e.g. a GPU texture); read back lazily. */
export interface DeviceStorage {
  /** Where the storage lives ('gpu', …). */
  readonly device: string;
  /** Copies the values back to the CPU. */
  read(): TypedArray;
  /** Frees this handle; the storage is freed when every handle is. */
  dispose(): void;
  /** A second handle to the same storage (for reshape views); storage lives until all are disposed. */
  share(): DeviceStorage;
}

/** What a kernel reads. A Tensor satisfies it structurally, and so does a `Buf`. */
export interface BufferView {
  readonly shape: Shape;
  readonly dtype: DType;
  readonly size: number;
  /** Host values (reads device storage back). */
  readonly data: TypedArray;
  /** Device storage, when the values live off the CPU. */
  readonly deviceBuffer: DeviceStorage | null;
}

/** A kernel result: host values or device storage, with its dtype and shape. `ops/define.ts` wraps it in a Tensor. */
export class Buf implements BufferView {
  readonly storage: TypedArray | DeviceStorage;
  readonly shape: Shape;
  readonly dtype: DType;
  constructor(storage: TypedArray | DeviceStorage, shape: Shape, dtype?: DType) {
    this.storage = storage;
    this.shape = shape;
    this.dtype = ArrayBuffer.isView(storage) ? dtypeOfArray(storage) : (dtype ?? 'float32');
  }
  get size(): number {
    return sizeOf(this.shape);
  }
  get data(): TypedArray {
    return ArrayBuffer.isView(this.storage) ? this.storage : this.storage.read();
  }
  get deviceBuffer(): DeviceStorage | null {
    return ArrayBuffer.isView(this.storage) ? null : this.storage;
  }
  /** Frees device storage now (host arrays are left to the garbage collector). */
  dispose(): void {
    if (!ArrayBuffer.isView(this.storage)) this.storage.dispose();
  }
}

/** A zero-filled host buffer. */
export const hostBuf = (shape: Shape, dtype: DType): Buf => new Buf(allocate(dtype, sizeOf(shape)), shape);

/** The same storage under another shape (no copy; device storage gets a second handle). */
export function view(x: BufferView, shape: Shape): Buf {
  const dev = x.deviceBuffer;
  return dev ? new Buf(dev.share(), shape, x.dtype) : new Buf(x.data, shape);
}

/** A kernel result under another shape: takes over its storage (the temporary result is not used again). */
export const reshaped = (b: Buf, shape: Shape): Buf => new Buf(b.storage, shape, b.dtype);
