/**
 * Option checks shared by the optimizers and schedulers, and the option fields optimizers are declared
 * with: each field carries its default and its check, so one table gives the defaults, the checks and
 * the known keys. Every message names the option and the value.
 */
import { ValueError } from '../errors.js';
import { show } from '../io/codec.js';

/** Bounds a numeric optimizer option must satisfy. */
export interface RangeSpec {
  /** Inclusive lower bound. */
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
  /** Inclusive upper bound. */
  max?: number;
  /** Exclusive upper bound. */
  below?: number;
  /** Must be an integer. */
  integer?: boolean;
}

const describe = (r: RangeSpec): string => {
  const lo = r.above !== undefined ? `> ${r.above}` : r.min !== undefined ? `>= ${r.min}` : '';
  const hi = r.below !== undefined ? `< ${r.below}` : r.max !== undefined ? `<= ${r.max}` : '';
  const kind = r.integer ? 'an integer' : 'a finite number';
  return [kind, lo, hi]
    .filter(Boolean)
    .join(' ')
    .replace(/(>[^<]*) (<)/, '$1 and $2');
};

/** Throws `ValueError` "`op`: option `name` must be …, got `v`" unless v is a finite number in range. */
/** Refuses option keys outside `known`, naming the known ones (undefined options are none). */
export function checkKeys(op: string, options: object | undefined, known: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object') {
    throw new ValueError(`${op}: options must be an object, got ${show(options)}`);
  }
  for (const k of Object.keys(options)) {
    if (!known.includes(k)) throw new ValueError(`${op}: unknown option ${k} (known: ${known.join(', ')})`);
  }
}
export function checkNumber(op: string, name: string, v: unknown, r: RangeSpec = {}): number {
  const ok =
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (r.min === undefined || v >= r.min) &&
    (r.above === undefined || v > r.above) &&
    (r.max === undefined || v <= r.max) &&
    (r.below === undefined || v < r.below) &&
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
  if (!Array.isArray(v) || v.length !== 2)
    throw new ValueError(`${op}: option betas must be a pair [beta1, beta2], got ${show(v)}`);
  checkNumber(op, 'betas[0]', v[0], { min: 0, below: 1 });
  checkNumber(op, 'betas[1]', v[1], { min: 0, below: 1 });
  return [v[0] as number, v[1] as number];
}

export const checkLr = (op: string, v: unknown): number => checkNumber(op, 'lr', v, { min: 0 });

// ---- option fields -------------------------------------------------------------------------
/** One option of an optimizer: its default and its check (which throws a named ValueError). */
export interface Field<T> {
  /** The value used when the option is left out. */
  readonly default: T;
  /** Throws a ValueError naming `where` and `name` unless `v` is acceptable. */
  check(where: string, name: string, v: unknown): void;
}
/** The option table of an options type: the compiler demands a field for every option. */
export type Fields<O> = { readonly [K in keyof O]-?: Field<O[K]> };

/** A finite number in `range` (default `{}`: every finite number). */
export const num = (def: number, range: RangeSpec = {}): Field<number> => ({
  default: def,
  check: (where, name, v) => void checkNumber(where, name, v, range),
});
/** A boolean option. */
export const bool = (def: boolean): Field<boolean> => ({
  default: def,
  check: (where, name, v) => void checkBoolean(where, name, v),
});
/** A pair of decay rates in [0, 1). */
export const betas = (def: [number, number]): Field<[number, number]> => ({
  default: def,
  check: (where, _name, v) => void checkBetas(where, v),
});
/** An option that only has one value (AdamW's decoupledWeightDecay: true). */
export const fixed = <T extends boolean | number | string>(value: T): Field<T> => ({
  default: value,
  check: (where, name, v) => {
    if (v !== value) throw new ValueError(`${where}: option ${name} can only be ${show(value)}, got ${show(v)}`);
  },
});
/** A learning rate: a number ≥ 0. */
export const lr = (def: number): Field<number> => num(def, { min: 0 });
/** A numerical-stability term: a number > 0. */
export const eps = (def: number): Field<number> => num(def, { above: 0 });
/** A weight-decay rate: a number ≥ 0 (default 0). */
export const weightDecay = (def = 0): Field<number> => num(def, { min: 0 });

/** The option fields, for declaring an optimizer outside this folder (`optim.fields.lr(1e-3)`). */
export const fields = { num, bool, betas, fixed, lr, eps, weightDecay };

export { show };

/** One of a fixed set of values (Muon's adjustLrFn, LBFGS's lineSearchFn); `hint` maps PyTorch's spellings to ours. */
export const choice = <T extends string | null>(
  def: T,
  values: readonly T[],
  hint: Record<string, T> = {},
): Field<T> => ({
  default: def,
  check: (where, name, v) => {
    if ((values as readonly unknown[]).includes(v)) return;
    const alt =
      typeof v === 'string' && Object.prototype.hasOwnProperty.call(hint, v) ? ` (did you mean ${show(hint[v])}?)` : '';
    throw new ValueError(
      `${where}: option ${name} must be one of ${values.map((x) => show(x)).join(', ')}, got ${show(v)}${alt}`,
    );
  },
});
/** A pair [a, b] of finite numbers, each checked by `each`, and then by `both` (which returns a reason or ''). */
export const pair = (
  def: [number, number],
  ranges: [RangeSpec, RangeSpec],
  both?: (a: number, b: number) => string,
): Field<[number, number]> => ({
  default: def,
  check: (where, name, v) => {
    if (!Array.isArray(v) || v.length !== 2) {
      throw new ValueError(`${where}: option ${name} must be a pair [a, b], got ${show(v)}`);
    }
    checkNumber(where, `${name}[0]`, v[0], ranges[0]);
    checkNumber(where, `${name}[1]`, v[1], ranges[1]);
    const why = both?.(v[0] as number, v[1] as number);
    if (why) throw new ValueError(`${where}: option ${name} ${why}, got ${show(v)}`);
  },
});
