import { checkOptions } from '../validate.js';
import { ValueError } from '../errors.js';

/** Refuses unknown keys in an options object, naming the known ones. */
export function checkKeys(opts: object, known: readonly string[], op: string): void {
  checkOptions(op, opts, known);
}

/** An int or a tuple of `n` ints (PyTorch's `_pair`), each checked against `min`. */
export function tuple(
  v: number | readonly number[] | undefined,
  n: number,
  dflt: number,
  what: string,
  op: string,
  min: number,
): number[] {
  const arr =
    v === undefined ? new Array<number>(n).fill(dflt) : typeof v === 'number' ? new Array<number>(n).fill(v) : [...v];
  if (arr.length !== n || arr.some((x) => !Number.isInteger(x) || x < min)) {
    throw new ValueError(`${op}: ${what} must be an integer ≥ ${min} or ${n} of them, got ${JSON.stringify(v)}`);
  }
  return arr;
}
