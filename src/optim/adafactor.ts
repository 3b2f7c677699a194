/** Adafactor, factored second moments for sublinear memory (torch.optim.Adafactor). */
import { ValueError } from '../errors.js';
import { defineOptimizer, zerosFor } from './optimizer.js';
import { getUpdateKernel, type AdafactorOptions, type FloatArray } from './updates.js';
import { bool, checkNumber, lr, num, show, weightDecay, type Field } from './validate.js';

export type { AdafactorOptions };
/**
 * ≥ 2-D parameters keep `rowVar` and `colVar` (one value per row / column of the last two dims), others `variance`.
 * @property step - Steps taken.
 * @property rowVar - Row second-moment estimates (matrices; torch: row_var).
 * @property colVar - Column second-moment estimates (matrices; torch: col_var).
 * @property variance - Full second-moment estimate (vectors and scalars).
 */
export type AdafactorState = { step: number; rowVar?: FloatArray; colVar?: FloatArray; variance?: FloatArray };

const epsPair: Field<[number | null, number]> = {
  default: [null, 1e-3],
  check(where, name, v) {
    if (!Array.isArray(v) || v.length !== 2) {
      throw new ValueError(`${where}: option ${name} must be a pair [eps1 | null, eps2], got ${show(v)}`);
    }
    if (v[0] !== null) checkNumber(where, `${name}[0]`, v[0], { min: 0 });
    checkNumber(where, `${name}[1]`, v[1], { min: 0 });
  },
};
/** How many row and column factors a parameter of `shape` has (batch × rows, batch × cols), or null for a full V. */
const factors = (shape: readonly number[]): { rows: number; cols: number } | null => {
  if (shape.length < 2) return null;
  const r = shape[shape.length - 2]!,
    c = shape[shape.length - 1]!;
  const batch = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { rows: batch * r, cols: batch * c };
};

/**
 * Adafactor (Shazeer & Stern 2018), exactly torch.optim.Adafactor (PyTorch 2.5+): for a matrix it keeps
 * only the row and column means of g² (m + n numbers instead of m·n) and estimates V as their outer
 * product; steps are relative to the parameter's RMS and clipped to RMS(U) ≤ d. No first moment.
 */
export class Adafactor extends defineOptimizer<AdafactorOptions, AdafactorState>({
  name: 'Adafactor',
  options: {
    lr: lr(1e-2),
    beta2Decay: num(-0.8, { max: 0 }),
    eps: epsPair,
    d: num(1.0, { min: 1 }),
    weightDecay: weightDecay(0),
    maximize: bool(false),
  },
  state: { step: 'count', rowVar: 'array?', colVar: 'array?', variance: 'buffer?' },
  checkState(s, shape, _o, where) {
    const f = factors(shape);
    const want: [keyof AdafactorState, number | undefined][] = f
      ? [
          ['rowVar', f.rows],
          ['colVar', f.cols],
          ['variance', undefined],
        ]
      : [
          ['rowVar', undefined],
          ['colVar', undefined],
          ['variance', shape.reduce((a, b) => a * b, 1)],
        ];
    for (const [k, n] of want) {
      const a = s[k] as FloatArray | undefined;
      if (n === undefined && a !== undefined) {
        throw new ValueError(
          `${where} has ${k}, but a parameter of shape [${shape.join(',')}] keeps ${f ? 'rowVar and colVar' : 'variance'}`,
        );
      }
      if (n !== undefined && a === undefined) {
        throw new ValueError(`${where} is missing ${k} (a parameter of shape [${shape.join(',')}] keeps it)`);
      }
      if (n !== undefined && a !== undefined && a.length !== n) {
        throw new ValueError(
          `${where}.${k} holds ${a.length} values, but a parameter of shape [${shape.join(',')}] needs ${n}`,
        );
      }
    }
  },
  init(p, _o, shape) {
    const f = factors(shape);
    if (f === null) return { step: 0, variance: zerosFor(p) };
    const make = (n: number) => (p instanceof Float64Array ? new Float64Array(n) : new Float32Array(n));
    return { step: 0, rowVar: make(f.rows), colVar: make(f.cols) };
  },
  update(p, g, s, o, shape) {
    s.step += 1;
    getUpdateKernel('adafactor')(p, g, s.rowVar ?? null, s.colVar ?? null, s.variance ?? null, shape, o, s.step);
  },
}) {}
