/** Option checks shared by the optimizers and schedulers; every message names the option and the value. */
import { ValueError } from '../errors.js';

export interface RangeSpec {
  /** Inclusive lower bound. */
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
  /** Inclusive upper bound. */
  max?: number;
  /** Exclusive upper bound. */
  below?: number;
  integer?: boolean;
}

const describe = (r: RangeSpec): string => {
  const lo = r.above !== undefined ? `> ${r.above}` : r.min !== undefined ? `>= ${r.min}` : '';
  const hi = r.below !== undefined ? `< ${r.below}` : r.max !== undefined ? `<= ${r.max}` : '';
  const kind = r.integer ? 'an integer' : 'a finite number';
  return [kind, lo, hi].filter(Boolean).join(' ').replace(/(>[^<]*) (<)/, '$1 and $2');
};

const show = (v: unknown): string => (typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v));

/** Throws `ValueError` "`op`: option `name` must be …, got `v`" unless v is a finite number in range. */
export function checkNumber(op: string, name: string, v: unknown, r: RangeSpec = {}): number {
  const ok =
    typeof v === 'number' && Number.isFinite(v) &&
    (r.min === undefined || v >= r.min) && (r.above === undefined || v > r.above) &&
    (r.max === undefined || v <= r.max) && (r.below === undefined || v < r.below) &&
    (!r.integer || Number.isInteger(v));
  if (!ok) throw new ValueError(`${op}: option ${name} must be ${describe(r)}, got ${show(v)}`);
  return v as number;
}

export function checkBoolean(op: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ValueError(`${op}: option ${name} must be a boolean, got ${show(v)}`);
  return v;
}

/** `betas` as PyTorch checks them: a pair, each in [0, 1). */
export function checkBetas(op: string, v: unknown): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) throw new ValueError(`${op}: option betas must be a pair [beta1, beta2], got ${show(v)}`);
  checkNumber(op, 'betas[0]', v[0], { min: 0, below: 1 });
  checkNumber(op, 'betas[1]', v[1], { min: 0, below: 1 });
  return [v[0] as number, v[1] as number];
}

export const checkLr = (op: string, v: unknown): number => checkNumber(op, 'lr', v, { min: 0 });
export const checkEps = (op: string, v: unknown): number => checkNumber(op, 'eps', v, { above: 0 });
export const checkWeightDecay = (op: string, v: unknown): number => checkNumber(op, 'weightDecay', v, { min: 0 });

export { show };
