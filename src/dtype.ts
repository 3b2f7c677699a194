import { DTypeError, ShapeError } from './errors.js';

/** Element type of a tensor: 32- or 64-bit float, or 32-bit integer. */
export type DType = 'float32' | 'float64' | 'int32';
/** The typed array behind a tensor of each dtype. */
export type TypedArray = Float32Array | Float64Array | Int32Array;

/** The most elements one tensor may hold (the typed-array length limit of V8, 2³²−1). */
export const MAX_ELEMENTS = 2 ** 32 - 1;

export function allocate(dtype: DType, n: number): TypedArray {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_ELEMENTS) {
    throw new ShapeError(`allocate: cannot allocate ${n} elements of ${dtype} (at most ${MAX_ELEMENTS} per tensor)`);
  }
  try {
    return allocateUnchecked(dtype, n);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new ShapeError(`allocate: ${n} elements of ${dtype} could not be allocated (${e.message})`);
  }
}
function allocateUnchecked(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'int32':
      return new Int32Array(n);
  }
}

export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  throw new DTypeError(
    `tensor: unsupported typed array ${arrayKind(a)} (expected Float32Array, Float64Array or Int32Array)`,
  );
}

/** The constructor name of a typed array (or what it is otherwise), for messages. */
export const arrayKind = (a: unknown): string =>
  typeof a === 'object' && a !== null
    ? ((a as { constructor?: { name?: string } }).constructor?.name ?? 'object')
    : typeof a;

/**
 * Integer typed arrays other than Int32Array (Uint8, Int8, Uint8Clamped, Int16, Uint16, Uint32) are
 * taken by value into int32 (or the requested dtype); 64-bit integer arrays are refused.
 */
export type NarrowIntArray = Uint8Array | Uint8ClampedArray | Int8Array | Int16Array | Uint16Array | Uint32Array;
export const CONVERTIBLE_ARRAYS = [
  'Uint8Array',
  'Uint8ClampedArray',
  'Int8Array',
  'Int16Array',
  'Uint16Array',
  'Uint32Array',
];

export function checkDType(d: unknown, op: string): DType {
  if (d === 'float32' || d === 'float64' || d === 'int32') return d;
  throw new DTypeError(`${op}: unknown dtype ${JSON.stringify(d)} (expected 'float32', 'float64' or 'int32')`);
}
