/**
 * JSON-safe, bit-exact encoding of optimizer and scheduler state: typed arrays travel as
 * base64 of their bytes (little-endian, so NaN payloads and −0 survive), and numbers that
 * JSON cannot hold (NaN, ±Infinity, −0) as `{ $num: '...' }`.
 */
import { ValueError } from '../errors.js';
import type { FloatArray } from './updates.js';

export interface EncodedArray {
  dtype: 'float32' | 'float64';
  length: number;
  base64: string;
}
export interface EncodedNumber {
  $num: 'NaN' | 'Infinity' | '-Infinity' | '-0';
}
/** A JSON value as it appears in a state dict. */
export type StateJson = number | string | boolean | null | EncodedArray | EncodedNumber | StateJson[] | { [k: string]: StateJson };

export function encodeNumber(x: number): number | EncodedNumber {
  if (Number.isNaN(x)) return { $num: 'NaN' };
  if (x === Infinity) return { $num: 'Infinity' };
  if (x === -Infinity) return { $num: '-Infinity' };
  if (Object.is(x, -0)) return { $num: '-0' };
  return x;
}

export function encodeArray(a: FloatArray): EncodedArray {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return { dtype: a instanceof Float64Array ? 'float64' : 'float32', length: a.length, base64: Buffer.from(bytes).toString('base64') };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isEncodedArray = (v: unknown): v is EncodedArray =>
  isObject(v) && (v.dtype === 'float32' || v.dtype === 'float64') && typeof v.base64 === 'string' && typeof v.length === 'number';
const isEncodedNumber = (v: unknown): v is EncodedNumber => isObject(v) && typeof v.$num === 'string' && Object.keys(v).length === 1;

export function decodeArray(e: EncodedArray, where: string): FloatArray {
  const bytes = Buffer.from(e.base64, 'base64');
  const width = e.dtype === 'float64' ? 8 : 4;
  if (bytes.length !== e.length * width) {
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
    for (const [k, x] of Object.entries(v)) if (x !== undefined && typeof x !== 'function') o[k] = encodeValue(x);
    return o;
  }
  throw new ValueError(`stateDict: cannot encode a value of type ${typeof v}`);
}

/** The inverse of `encodeValue`. */
export function decodeValue(v: unknown, where: string): unknown {
  if (isEncodedNumber(v)) {
    const table: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };
    if (!(v.$num in table)) throw new ValueError(`${where}: unknown encoded number ${JSON.stringify(v.$num)}`);
    return table[v.$num];
  }
  if (isEncodedArray(v)) return decodeArray(v, where);
  if (Array.isArray(v)) return v.map((x) => decodeValue(x, where));
  if (isObject(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = decodeValue(x, `${where}.${k}`);
    return o;
  }
  return v;
}
