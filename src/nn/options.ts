/** Options-object checking shared by the attention and recurrent layers: unknown keys are refused by name. */
import { ValueError } from '../errors.js';

export { checkOptions } from '../validate.js';

export function checkPositiveInt(op: string, what: string, n: unknown): asserts n is number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) {
    throw new ValueError(`${op}: ${what} must be a positive integer, got ${String(n)}`);
  }
}

export function checkProbability(op: string, what: string, p: unknown): asserts p is number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1))
    throw new ValueError(`${op}: ${what} must be a number in [0, 1], got ${String(p)}`);
}
