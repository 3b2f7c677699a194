import { DTypeError } from './errors.js';

export type DType = 'float32' | 'float64' | 'int32';
export type TypedArray = Float32Array | Float64Array | Int32Array;

export function allocate(dtype: DType, n: number): TypedArray {
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
  return 'int32';
}

export function checkDType(d: unknown, op: string): DType {
  if (d === 'float32' || d === 'float64' || d === 'int32') return d;
  throw new DTypeError(`${op}: unknown dtype ${JSON.stringify(d)} (expected 'float32', 'float64' or 'int32')`);
}
