/**
 * Row gather/scatter-add along axis 0 when the index has x's trailing shape (Embedding's
 * indexSelect, and its gradient): out[r, k] = x[idx[r, k], k] with int32 indices and float arrays,
 * in loops that stay monomorphic (the generic offsets path reads through a TypedArray union, ~30 ns
 * an element on the GPT's [512, 64] lookup). Returns false where the shapes do not fit.
 */
import { IndexError } from '../../errors.js';
import type { Shape } from '../../shape.js';

type Floats = Float32Array | Float64Array;

/** Whether index [n, ...rest] matches x [d, ...rest] along the trailing dims (axis 0). */
export function rowsFit(xs: Shape, axis: number, is: Shape): boolean {
  if (axis !== 0 || xs.length !== is.length || xs.length < 1) return false;
  for (let d = 1; d < xs.length; d++) if (xs[d] !== is[d]) return false;
  return true;
}

const bad = (op: string, j: number, dim: number): IndexError =>
  new IndexError(`${op}: index ${j} is out of range for axis 0 of size ${dim}`);

/** out[r·R + k] = x[idx[r·R + k]·R + k] for R = the trailing size. */
export function gatherRows(xd: Floats, dim: number, idx: Int32Array, od: Floats, row: number): void {
  for (let p = 0, n = idx.length; p < n; p += row) {
    // One table row per output row (indexSelect's expanded index): a block copy.
    const j0 = idx[p]!;
    let same = j0 >= 0 && j0 < dim;
    for (let k = 1; k < row && same; k++) same = idx[p + k] === j0;
    if (same) {
      od.set(xd.subarray(j0 * row, j0 * row + row), p);
      continue;
    }
    for (let k = 0; k < row; k++) {
      let j = idx[p + k]!;
      if (j < 0) j += dim;
      if (!(j >= 0 && j < dim)) throw bad('gather', idx[p + k]!, dim);
      od[p + k] = xd[j * row + k]!;
    }
  }
}

/** od[idx[r·R + k]·R + k] += sd[r·R + k]. */
export function scatterAddRows(sd: Floats, dim: number, idx: Int32Array, od: Floats, row: number): void {
  for (let p = 0, n = idx.length; p < n; p += row) {
    for (let k = 0; k < row; k++) {
      let j = idx[p + k]!;
      if (j < 0) j += dim;
      if (!(j >= 0 && j < dim)) throw bad('scatterAdd', idx[p + k]!, dim);
      od[j * row + k]! += sd[p + k]!;
    }
  }
}
