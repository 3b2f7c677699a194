/**
 * The one state codec, shared by optimizer/scheduler state dicts (plain JSON) and checkpoints:
 * typed arrays travel as base64 of their bytes (little-endian, so NaN payloads and −0 survive),
 * numbers JSON cannot hold (NaN, ±Infinity, −0) as `{ $num: '...' }`. Also the small value helpers
 * the optimizer and io layers share. Imports nothing but errors, so optim/ and io/ may both use it.
 */
import { ValueError } from '../errors.js';

/** A float32 or float64 typed array (what optimizer state buffers are). */
export type FloatArray = Float32Array | Float64Array;
/** A typed array in JSON: dtype, length and little-endian bytes in base64. */
export interface EncodedArray {
  /** Element type. */
  dtype: 'float32' | 'float64';
  /** Number of elements. */
  length: number;
  /** The bytes, base64-encoded. */
  base64: string;
}
/** A number JSON cannot hold (NaN, ±Infinity, −0). */
export interface EncodedNumber {
  /** Which special value. */
  $num: 'NaN' | 'Infinity' | '-Infinity' | '-0';
}
/** A JSON value as it appears in a state dict. */
export type StateJson =
  | number
  | string
  | boolean
  | null
  | EncodedArray
  | EncodedNumber
  | StateJson[]
  | { [k: string]: StateJson };

/** Sets an own enumerable property, so a key named "__proto__" is data, not a prototype. */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
/** A value as messages show it: numbers as written, the rest as JSON. */
export const show = (v: unknown): string => (typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v)));
/** The class name of an object ('Adam', 'Map', 'Object'). */
export const kindOf = (x: object): string =>
  (Object.getPrototypeOf(x) as { constructor?: { name?: string } } | null)?.constructor?.name || 'Object';
/** 'null', 'number', or an object's class name. */
export const typeName = (v: unknown): string => (v === null ? 'null' : typeof v === 'object' ? kindOf(v) : typeof v);

const SPECIAL: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };
export function encodeNumber(x: number): number | EncodedNumber {
  if (Number.isFinite(x) && !Object.is(x, -0)) return x;
  return { $num: Object.is(x, -0) ? '-0' : (String(x) as EncodedNumber['$num']) };
}
/** The number a `$num` marker stands for, or undefined when the marker is not one. */
export const decodeNumber = (marker: unknown): number | undefined =>
  typeof marker === 'string' && Object.prototype.hasOwnProperty.call(SPECIAL, marker) ? SPECIAL[marker] : undefined;

export function encodeArray(a: FloatArray): EncodedArray {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return {
    dtype: a instanceof Float64Array ? 'float64' : 'float32',
    length: a.length,
    base64: Buffer.from(bytes).toString('base64'),
  };
}
export const isEncodedArray = (v: unknown): v is EncodedArray =>
  isObject(v) &&
  (v.dtype === 'float32' || v.dtype === 'float64') &&
  typeof v.base64 === 'string' &&
  typeof v.length === 'number';
const isEncodedNumber = (v: unknown): v is EncodedNumber =>
  isObject(v) && typeof v.$num === 'string' && Object.keys(v).length === 1;

/** Decodes an encoded array; with `canonical`, returns undefined unless it is exactly what `encodeArray` writes. */
export function decodeArray(e: EncodedArray, where: string, canonical = false): FloatArray | undefined {
  const width = e.dtype === 'float64' ? 8 : 4;
  if (
    canonical &&
    (!Number.isSafeInteger(e.length) || e.length < 0 || e.base64.length !== 4 * Math.ceil((e.length * width) / 3))
  ) {
    return undefined;
  }
  const bytes = Buffer.from(e.base64, 'base64');
  if (bytes.length !== e.length * width || (canonical && bytes.toString('base64') !== e.base64)) {
    if (canonical) return undefined;
    throw new ValueError(`${where}: encoded ${e.dtype} array has ${bytes.length} bytes, expected ${e.length * width}`);
  }
  const out = e.dtype === 'float64' ? new Float64Array(e.length) : new Float32Array(e.length);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** Encodes numbers, arrays of them, typed arrays and plain objects recursively. */
export function encodeValue(v: unknown): StateJson {
  if (typeof v === 'number') return encodeNumber(v);
  if (v instanceof Float32Array || v instanceof Float64Array) return encodeArray(v);
  if (typeof v === 'string' || typeof v === 'boolean' || v === null) return v;
  if (Array.isArray(v)) return v.map(encodeValue);
  if (isObject(v)) {
    const o: { [k: string]: StateJson } = {};
    for (const [k, x] of Object.entries(v))
      if (x !== undefined && typeof x !== 'function') setOwn(o, k, encodeValue(x));
    return o;
  }
  throw new ValueError(`stateDict: cannot encode a value of type ${typeof v}`);
}

/** The inverse of `encodeValue`. */
export function decodeValue(v: unknown, where: string): unknown {
  if (isEncodedNumber(v)) {
    const x = decodeNumber(v.$num);
    if (x === undefined) throw new ValueError(`${where}: unknown encoded number ${JSON.stringify(v.$num)}`);
    return x;
  }
  if (isEncodedArray(v)) return decodeArray(v, where);
  if (Array.isArray(v)) return v.map((x) => decodeValue(x, where));
  if (isObject(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) setOwn(o, k, decodeValue(x, `${where}.${k}`));
    return o;
  }
  return v;
}
