/**
 * Argument validation shared by every entry point: options objects that refuse unknown keys,
 * index values (integers in range, whatever their container), int32 ranges, finite numbers.
 * Each check throws a TapegradError subclass whose message names the op, the argument and what
 * was expected.
 */
import { DTypeError, IndexError, ValueError } from './errors.js';

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

const show = (v: unknown): string => {
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  return `a${typeof v === 'object' ? 'n object' : ` ${typeof v}`}`;
};
export { show as describeValue };

/**
 * Refuses an options argument that is not a plain object, or that has a key outside `known`
 * (a misspelling such as `weight_decay` or `bais` would otherwise be ignored silently).
 * Returns the options (or `{}` for undefined) so calls can be written inline.
 */
export function checkOptions<T extends object>(op: string, opts: T | undefined, known: readonly string[]): T {
  if (opts === undefined) return {} as T;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new ValueError(`${op}: options must be an object, got ${show(opts)}`);
  }
  for (const k of Object.keys(opts)) {
    if (!known.includes(k)) {
      throw new ValueError(`${op}: unknown option '${k}' (known options: ${known.length ? known.join(', ') : 'none'})`);
    }
  }
  return opts;
}

/** A number that must be finite (not NaN, not ±Infinity). */
export function checkFinite(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ValueError(`${op}: ${name} must be a finite number, got ${show(v)}`);
  return v;
}
/** A finite number ≥ 0 (or > 0 with `strict`). */
export function checkNonNegative(op: string, name: string, v: unknown, strict = false): number {
  const x = checkFinite(op, name, v);
  if (strict ? !(x > 0) : !(x >= 0)) throw new ValueError(`${op}: ${name} must be ${strict ? '> 0' : '≥ 0'}, got ${x}`);
  return x;
}
/** An integer in [lo, hi] (safe integers by default). */
export function checkInt(
  op: string,
  name: string,
  v: unknown,
  lo = Number.MIN_SAFE_INTEGER,
  hi = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw new ValueError(`${op}: ${name} must be an integer in [${lo}, ${hi}], got ${show(v)}`);
  }
  return v;
}

/**
 * Checks index values before they are stored anywhere (in particular before `Int32Array.from`,
 * which would truncate 1.5 to 1 and wrap 2**32 to 0): every entry a number, an integer, and in
 * [0, size) when `size` is given (no negative indices, as torch.gather).
 */
export function checkIndexValues(
  op: string,
  name: string,
  values: ArrayLike<unknown>,
  size?: number,
  where?: string,
): void {
  if (values instanceof Int32Array && int32InRange(values, size ?? INT32_MAX + 1)) return;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new IndexError(`${op}: index ${show(v)} (${name}[${i}]) is not an integer`);
    }
    if (v < 0 || (size !== undefined ? v >= size : v > INT32_MAX)) {
      const range = size !== undefined ? `[0, ${size})` : `[0, ${INT32_MAX}]`;
      const of = where ?? (size !== undefined ? `size ${size}` : 'int32');
      throw new IndexError(
        `${op}: index ${v} is out of range for ${of} (${name}[${i}]; expected an integer in ${range})`,
      );
    }
  }
}

/** The common case in one monomorphic pass: int32 entries all in [0, n) (Embedding's 32 Ki-entry index). */
function int32InRange(d: Int32Array, n: number): boolean {
  let ok = true;
  for (let i = 0; i < d.length; i++) ok = ok && d[i]! >= 0 && d[i]! < n;
  return ok;
}

/** Index arguments: a number[] (checked entry by entry) or something tensor-like; a bare number is refused. */
export function checkIndexContainer(op: string, name: string, index: unknown): void {
  if (Array.isArray(index)) return;
  if (typeof index === 'number') {
    throw new IndexError(
      `${op}: ${name} must be a Tensor or an array of integers, got the number ${index} (wrap it: [${index}])`,
    );
  }
  if (index === null || typeof index !== 'object') {
    throw new IndexError(`${op}: ${name} must be a Tensor or an array of integers, got ${show(index)}`);
  }
}

/** Values that must fit int32 exactly (integers in [−2³¹, 2³¹)): int32 creation refuses the rest. */
export function checkInt32Values(op: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= INT32_MIN && v <= INT32_MAX) || !Number.isInteger(v)) {
      throw new DTypeError(
        `${op}: value ${v} at flat index ${i} does not fit int32 (expected an integer in [${INT32_MIN}, ${INT32_MAX}])`,
      );
    }
  }
}

/** Marks tapegrad's tensors across copies of the package (a second install, a bundled copy). */
export const TENSOR_BRAND = Symbol.for('tapegrad.Tensor');
/** True for an object that is a tapegrad Tensor of some copy of the package. */
export const isForeignTensor = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && (v as { [TENSOR_BRAND]?: unknown })[TENSOR_BRAND] === true;

/** Deepest nesting of arrays/objects accepted in saved state (checkpoints): bounded, so save and load never overflow the stack. */
export const MAX_STATE_DEPTH = 1000;
/**
 * The nesting depth of a JSON-like value, measured iteratively, stopping once past `limit`
 * (so a value nested 100k deep costs no recursion and little work).
 */
export function nestingDepth(v: unknown, limit = MAX_STATE_DEPTH): number {
  let max = 0;
  const stack: [unknown, number][] = [[v, 0]];
  const seen = new Set<object>(); // a cycle is left to the encoder, which names it
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== 'object' || ArrayBuffer.isView(x) || seen.has(x)) continue;
    seen.add(x);
    if (d + 1 > max) max = d + 1;
    if (max > limit) return limit + 1;
    for (const c of Array.isArray(x) ? x : Object.values(x))
      if (c !== null && typeof c === 'object') stack.push([c, d + 1]);
  }
  return max;
}
