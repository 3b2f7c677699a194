/**
 * Sorting: one primitive (argsort, int32 indices, no gradient); sorted values are a gather
 * through those indices, so their gradient is gather's (a scatter-add back to the sources).
 */
import { ValueError } from '../errors.js';
import { normAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { apply, type OpDef } from './define.js';
import { gather } from './indexing.js';
import { slice, type SliceSpec } from './movement.js';

export const argsortDef: OpDef<'argsort'> = {
  name: 'argsort',
  kind: 'other',
  shape: ([x]) => x.shape,
  forward: (k, [x], { axis, descending }) => k.argsort(x, axis, descending),
  backward: null, // indices carry no gradient
};
/** Values and their source indices along a dim (int32 indices). */
export interface SortResult {
  /** The sorted (or top-k) values. */
  values: Tensor;
  /** Their indices along the dim, int32. */
  indices: Tensor;
}
/** Indices that sort `x` along `dim`, stably (equal values keep their order); NaN counts as the largest value. */
export function argsort(x: Tensor, dim = -1, descending = false, op = 'argsort'): Tensor {
  if (x.ndim === 0) return argsort(x.reshape([1]), dim, descending, op).reshape([]);
  return apply(argsortDef, [x], { axis: normAxis(dim, x.ndim, op), descending });
}
/** Stable sort along `dim`: `{ values, indices }` (as torch.sort with stable = true). */
export function sort(x: Tensor, dim = -1, descending = false): SortResult {
  const indices = argsort(x, dim, descending, 'sort');
  const values = x.ndim === 0 ? x : gather(x, dim, indices);
  return { values, indices };
}
/** The k largest (or smallest) elements along `dim`, in sorted order: `{ values, indices }`. */
export function topk(x: Tensor, k: number, dim = -1, largest = true, sorted = true): SortResult {
  void sorted; // the result is always sorted, which torch allows for sorted = false too
  const nd = Math.max(1, x.ndim);
  const axis = normAxis(dim, nd, 'topk');
  const n = x.ndim === 0 ? 1 : x.shape[axis]!;
  if (!Number.isInteger(k) || k < 0 || k > n) {
    throw new ValueError(`topk: k must be an integer in [0, ${n}] for dimension ${dim}, got ${k}`);
  }
  const x1 = x.ndim === 0 ? x.reshape([1]) : x;
  const r: SliceSpec[] = x1.shape.map(() => null);
  r[axis] = [0, k];
  const indices = slice(argsort(x1, axis, largest, 'topk'), r);
  const values = gather(x1, axis, indices);
  return x.ndim === 0 ? { values: values.reshape([]), indices: indices.reshape([]) } : { values, indices };
}
