import { sizeOf, type Shape } from '../../shape.js';

/**
 * Walks `shape` row by row (the last axis is the row). For each row, `body` gets the current
 * offsets into each strided operand, the row length, and each operand's stride along the row.
 */
export function forEachRow(
  shape: Shape,
  strides: readonly (readonly number[])[],
  body: (offs: readonly number[], len: number, inner: readonly number[], row: number) => void,
): void {
  const nd = shape.length;
  const k = strides.length;
  if (nd === 0) {
    body(new Array<number>(k).fill(0), 1, new Array<number>(k).fill(0), 0);
    return;
  }
  const total = sizeOf(shape);
  if (total === 0) return;
  const len = shape[nd - 1]!;
  const inner = strides.map((s) => s[nd - 1]!);
  const idx = new Array<number>(nd).fill(0);
  const offs = new Array<number>(k).fill(0);
  const rows = total / len;
  for (let r = 0; r < rows; r++) {
    body(offs, len, inner, r);
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      for (let j = 0; j < k; j++) offs[j]! += strides[j]![d]!;
      if (idx[d]! < shape[d]!) break;
      for (let j = 0; j < k; j++) offs[j]! -= strides[j]![d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}
