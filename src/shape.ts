import { IndexError, ShapeError } from './errors.js';

/** The size of each dimension of a tensor. */
export type Shape = readonly number[];

export const fmt = (s: Shape): string => `[${s.join(',')}]`;

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: Shape): number[] {
  const st = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= shape[i]!;
  }
  return st;
}

export function shapeEq(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The most elements one tensor may hold (V8's typed-array length limit). */
const MAX_TENSOR_ELEMENTS = 2 ** 32 - 1;
export function checkShape(shape: Shape, op: string): void {
  if (!Array.isArray(shape)) {
    throw new ShapeError(
      `${op}: shape must be an array of non-negative integers, got ${typeof shape === 'number' ? `the number ${shape} (wrap it: [${shape}])` : typeof shape}`,
    );
  }
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new ShapeError(`${op}: invalid shape ${fmt(shape)}: dimensions must be non-negative integers`);
  }
  const n = sizeOf(shape);
  if (n > MAX_TENSOR_ELEMENTS) {
    throw new ShapeError(
      `${op}: shape ${fmt(shape)} has ${n} elements, more than the ${MAX_TENSOR_ELEMENTS} one tensor can hold`,
    );
  }
}

/** NumPy broadcasting of any number of shapes. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const nd = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(nd).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = nd - s.length + i;
      const d = s[i]!;
      if (d === out[j] || d === 1) continue;
      if (out[j] === 1) out[j] = d;
      else
        throw new ShapeError(
          `${op}: shapes ${shapes.map(fmt).join(' and ')} cannot be broadcast: dimension ${d} ≠ ${out[j]} at axis ${j - nd}`,
        );
    }
  }
  return out;
}

/** Strides of `shape` viewed as broadcast to `out` (0 along broadcast axes). */
export function broadcastStrides(shape: Shape, out: Shape): number[] {
  const st = stridesOf(shape);
  const res = new Array<number>(out.length).fill(0);
  const off = out.length - shape.length;
  for (let i = 0; i < shape.length; i++) res[off + i] = shape[i] === 1 ? 0 : st[i]!;
  return res;
}

export function normAxis(axis: number, ndim: number, op: string): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= Math.max(ndim, 1)) {
    throw new IndexError(
      `${op}: axis ${axis} is out of range for a tensor of rank ${ndim} (expected ${-ndim} ≤ axis < ${ndim})`,
    );
  }
  return axis < 0 ? axis + ndim : axis;
}

/** Normalises `dim` (undefined = all axes) to a sorted list of distinct non-negative axes. */
export function normAxes(dim: number | readonly number[] | undefined, ndim: number, op: string): number[] {
  if (dim === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof dim === 'number' ? [dim] : dim;
  const axes = list.map((a) => normAxis(a, ndim, op));
  const uniq = [...new Set(axes)].sort((a, b) => a - b);
  if (uniq.length !== axes.length) throw new IndexError(`${op}: repeated axis in ${JSON.stringify(list)}`);
  return uniq;
}

/** Shape after reducing `axes` (kept as size 1 when keepdim). */
export function reducedShape(shape: Shape, axes: readonly number[], keepdim: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (axes.includes(i)) {
      if (keepdim) out.push(1);
    } else out.push(d);
  });
  return out;
}

/** The axes along which `from` was broadcast to get `to` (for summing a gradient back). */
export function broadcastAxes(from: Shape, to: Shape): { axes: number[]; lead: number } {
  const lead = to.length - from.length;
  const axes: number[] = [];
  for (let i = 0; i < to.length; i++) {
    if (i < lead) axes.push(i);
    else if (from[i - lead] === 1 && to[i] !== 1) axes.push(i);
  }
  return { axes, lead };
}
