import { IndexError, ShapeError, DTypeError, ValueError } from '../errors.js';
import { checkShape, fmt, normAxes, normAxis, sizeOf, type Shape } from '../shape.js';
import { expectTensor, ones, type Tensor } from '../tensor.js';
import { describeValue } from '../validate.js';

/** A shape argument: an array of numbers (a bare number is refused with a hint). */
function shapeArg(op: string, shape: unknown): readonly number[] {
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number')) {
    const hint = typeof shape === 'number' ? ` (wrap it: [${shape}])` : '';
    throw new ShapeError(`${op}: shape must be an array of integers, got ${describeValue(shape)}${hint}`);
  }
  return shape as readonly number[];
}
import { apply, type OpDef } from './define.js';

// ---- reshape ------------------------------------------------------------------
export const reshapeDef: OpDef<'reshape'> = {
  name: 'reshape',
  kind: 'other',
  shape: (_x, shape) => shape,
  forward: (k, [x], shape) => k.reshape(x, shape),
  backward: (g, { inputs: [x] }) => [g.reshape(x.shape)],
};
/** Identity with a tape node (a view): a fresh differentiation point that stays connected to outer graphs. */
export const alias = (x: Tensor): Tensor => apply(reshapeDef, [x], x.shape);
/** Same values in a new shape; one entry may be -1 (torch.reshape). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  expectTensor('reshape', 'input', x);
  shapeArg('reshape', shape);
  const infer = shape.indexOf(-1);
  if (shape.some((d, i) => !Number.isInteger(d) || d < -1 || (d === -1 && i !== infer))) {
    throw new ShapeError(`reshape: invalid target shape ${fmt(shape)} (dimensions must be ≥ 0, with at most one -1)`);
  }
  const target = [...shape];
  if (infer >= 0) {
    const rest = sizeOf(shape.filter((_, i) => i !== infer));
    if (rest === 0 || x.size % rest !== 0)
      throw new ShapeError(`reshape: cannot reshape ${fmt(x.shape)} (${x.size} elements) to ${fmt(shape)}`);
    target[infer] = x.size / rest;
  }
  if (sizeOf(target) !== x.size)
    throw new ShapeError(
      `reshape: cannot reshape ${fmt(x.shape)} (${x.size} elements) to ${fmt(shape)} (${sizeOf(target)} elements)`,
    );
  if (target.length === x.ndim && target.every((d, i) => d === x.shape[i])) return x;
  return apply(reshapeDef, [x], target);
}
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normAxis(startDim, x.ndim, 'flatten'),
    e = normAxis(endDim, x.ndim, 'flatten');
  if (s > e) throw new IndexError(`flatten: startDim ${startDim} comes after endDim ${endDim}`);
  return reshape(x, [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}
/** Removes size-1 dimensions: all of them, or those in `dim` (torch.squeeze). */
export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  const axes = dim === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normAxes(dim, x.ndim, 'squeeze');
  return reshape(
    x,
    x.shape.filter((d, i) => !(axes.includes(i) && d === 1)),
  );
}
/** Inserts a size-1 dimension at `dim` (torch.unsqueeze). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normAxis(dim, x.ndim + 1, 'unsqueeze');
  return reshape(x, [...x.shape.slice(0, d), 1, ...x.shape.slice(d)]);
}

// ---- permute --------------------------------------------------------------------
export const permuteDef: OpDef<'permute'> = {
  name: 'permute',
  kind: 'other',
  shape: ([x], perm) => perm.map((p) => x.shape[p] ?? 1),
  forward: (k, [x], perm) => k.permute(x, perm),
  backward: (g, { attrs: perm }) => {
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    return [g.permute(inv)];
  },
};
/** Reorders the dimensions (torch.permute). */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  expectTensor('permute', 'input', x);
  if (!Array.isArray(dims)) throw new IndexError(`permute: dims must be an array of axes, got ${describeValue(dims)}`);
  const perm = dims.map((d) => normAxis(d, x.ndim, 'permute'));
  if (perm.length !== x.ndim || new Set(perm).size !== perm.length) {
    throw new IndexError(
      `permute: ${JSON.stringify(dims)} is not a permutation of the ${x.ndim} axes of a tensor of shape ${fmt(x.shape)}`,
    );
  }
  if (perm.every((p, i) => p === i)) return x;
  return apply(permuteDef, [x], perm);
}
/** Swaps two dimensions, the last two by default (torch.transpose). */
export function transpose(x: Tensor, d0 = -2, d1 = -1): Tensor {
  const a = normAxis(d0, x.ndim, 'transpose'),
    b = normAxis(d1, x.ndim, 'transpose');
  const perm = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, perm);
}

// ---- expand ---------------------------------------------------------------------
export const expandDef: OpDef<'expand'> = {
  name: 'expand',
  kind: 'elementwise',
  shape: (_x, shape) => shape,
  forward: (k, [x], shape) => k.expand(x, shape),
  backward: (g) => [g], // apply() sums it back to the input's shape
};
/** Broadcasts to `shape` (a -1 keeps that dimension), materialising the result. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  expectTensor('expand', 'input', x);
  shapeArg('expand', shape);
  const lead = shape.length - x.ndim;
  shape.forEach((d, i) => {
    if (!Number.isSafeInteger(d) || d < -1 || (d === -1 && i < lead)) {
      throw new ShapeError(
        `expand: invalid target shape ${fmt(shape)}: dimension ${d} at axis ${i} ` +
          `(expected non-negative integers; -1 only for an existing dimension)`,
      );
    }
  });
  if (lead < 0) throw new ShapeError(`expand: cannot expand shape ${fmt(x.shape)} to fewer dimensions ${fmt(shape)}`);
  const target = shape.map((d, i) => (d === -1 && i >= lead ? (x.shape[i - lead] ?? d) : d));
  x.shape.forEach((d, i) => {
    if (d !== 1 && d !== target[lead + i]) {
      throw new ShapeError(
        `expand: shape ${fmt(x.shape)} cannot be broadcast to ${fmt(shape)}: dimension ${d} ≠ ${target[lead + i]} at axis ${lead + i}`,
      );
    }
  });
  if (lead === 0 && target.every((d, i) => d === x.shape[i])) return x;
  return apply(expandDef, [x], target);
}

// ---- slice and its adjoint ------------------------------------------------------------
/** Per axis: null (everything) or [start, stop?, step?] with Python semantics (negatives count from the end). */
export type SliceSpec = null | readonly [number?, number?, number?];
export const sliceDef: OpDef<'slice'> = {
  name: 'slice',
  kind: 'other',
  shape: (_x, a) => a.shape,
  forward: (k, [x], a) => k.slice(x, a.starts, a.steps, a.shape),
  backward: (g, { inputs: [x], attrs }) => [sliceScatter(g, x.shape, attrs.starts, attrs.steps)],
};
export const sliceScatterDef: OpDef<'sliceScatter'> = {
  name: 'sliceScatter',
  kind: 'other',
  shape([src], { shape, starts, steps }) {
    const fits = (d: number, i: number): boolean => {
      const a = starts[i]!,
        b = a + (d - 1) * steps[i]!;
      const ok = Number.isInteger(a) && Number.isInteger(steps[i]) && steps[i] !== 0 && Math.min(a, b) >= 0;
      return d === 0 || (ok && Math.max(a, b) < shape[i]!);
    };
    const lists = [shape, starts, steps].every((l) => Array.isArray(l) && l.length === src.ndim);
    if (lists && (checkShape(shape, 'sliceScatter'), src.shape.every(fits))) return shape;
    throw new ShapeError(
      `sliceScatter: src ${fmt(src.shape)} at [${starts}] step [${steps}] does not fit in [${shape}]`,
    );
  },
  forward: (k, [src], a) => k.sliceScatter(src, a.shape, a.starts, a.steps),
  backward: (g, { inputs: [src], attrs }) => [apply(sliceDef, [g], { ...attrs, shape: src.shape })],
};
/** Zeros of `shape` with `src` written at start + i*step along each axis (the adjoint of slice). */
export function sliceScatter(src: Tensor, shape: Shape, starts: readonly number[], steps: readonly number[]): Tensor {
  return apply(sliceScatterDef, [src], { starts, steps, shape });
}
/** Python-style slicing, one `[start, stop, step]` or null per dimension (like `x[a:b:c, :]`). */
export function slice(x: Tensor, ranges: readonly SliceSpec[]): Tensor {
  expectTensor('slice', 'input', x);
  if (!Array.isArray(ranges)) {
    throw new IndexError(
      `slice: ranges must be an array with one entry per axis (null or [start, stop?, step?]), got ${describeValue(ranges)}`,
    );
  }
  ranges.forEach((r, i) => {
    if (r !== null && r !== undefined && !Array.isArray(r)) {
      throw new IndexError(`slice: range ${i} must be null or [start, stop?, step?], got ${describeValue(r)}`);
    }
  });
  if (ranges.length > x.ndim)
    throw new IndexError(`slice: ${ranges.length} ranges given for a tensor of rank ${x.ndim}`);
  const starts: number[] = [],
    steps: number[] = [],
    shape: number[] = [];
  x.shape.forEach((n, i) => {
    const r = ranges[i] ?? null;
    const step = r?.[2] ?? 1;
    if (!Number.isInteger(step) || step === 0) {
      throw new IndexError(`slice: step must be a non-zero integer, got ${step} at axis ${i}`);
    }
    // Python semantics: with a negative step, omitted start/stop mean "from the end" / "through index 0".
    const lo = step > 0 ? 0 : -1,
      hi = step > 0 ? n : n - 1;
    const clampIdx = (v: number | undefined, dflt: number): number => {
      if (v === undefined) return dflt;
      if (!Number.isInteger(v)) throw new IndexError(`slice: index ${v} at axis ${i} is not an integer`);
      return Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
    };
    const start = clampIdx(r?.[0], step > 0 ? 0 : n - 1),
      stop = clampIdx(r?.[1], step > 0 ? n : -1);
    const len = Math.max(0, Math.ceil((stop - start) / step));
    starts.push(len === 0 ? 0 : start);
    steps.push(step);
    shape.push(len);
  });
  if (shape.every((d, i) => d === x.shape[i]) && steps.every((s) => s > 0)) return x;
  return apply(sliceDef, [x], { starts, steps, shape });
}
/** Pads each axis by [before, after] (NumPy order: first pair = first axis) with a constant. */
export function pad(x: Tensor, widths: readonly (readonly [number, number])[], value = 0): Tensor {
  expectTensor('pad', 'input', x);
  if (typeof value !== 'number') {
    throw new ValueError(
      `pad: value must be a number (constant padding is the only mode), got ${describeValue(value)}`,
    );
  }
  if (!Array.isArray(widths) || !widths.every((w) => Array.isArray(w) && w.length === 2)) {
    throw new ShapeError(`pad: widths must be an array of [before, after] pairs, got ${describeValue(widths)}`);
  }
  if (widths.length > x.ndim) throw new IndexError(`pad: ${widths.length} pad widths for a tensor of rank ${x.ndim}`);
  const w = x.shape.map((_, i) => widths[i] ?? [0, 0]);
  if (w.some(([a, b]) => !Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0)) {
    throw new ShapeError(`pad: widths must be non-negative integers, got ${JSON.stringify(widths)}`);
  }
  const shape = x.shape.map((d, i) => d + (w[i]?.[0] ?? 0) + (w[i]?.[1] ?? 0));
  const starts = w.map(([a]) => a),
    steps = w.map(() => 1);
  const inner = sliceScatter(x, shape, starts, steps);
  if (value === 0) return inner;
  const border = sliceScatter(ones(x.shape, { dtype: x.dtype }), shape, starts, steps);
  return inner.add(border.neg().add(1).mul(value));
}

// ---- concat / stack -------------------------------------------------------------------
export const concatDef: OpDef<'concat'> = {
  name: 'concat',
  kind: 'other',
  shape: (xs, { axis }) => {
    const first = xs[0];
    if (!first) throw new ShapeError('concat: needs at least one tensor');
    for (const t of xs) {
      if (t.dtype !== first.dtype) throw new DTypeError(`concat: dtypes ${first.dtype} and ${t.dtype} differ`);
      if (t.ndim !== first.ndim || t.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
        throw new ShapeError(`concat: shapes ${xs.map((s) => fmt(s.shape)).join(', ')} differ outside axis ${axis}`);
      }
    }
    return first.shape.map((d, i) => (i === axis ? xs.reduce((acc, t) => acc + (t.shape[axis] ?? 0), 0) : d));
  },
  forward: (k, xs, { axis }, os) => k.concat(xs, axis, os),
  backward: (g, { inputs, attrs: { axis } }) => {
    let off = 0;
    return inputs.map((t) => {
      const r: SliceSpec[] = t.shape.map(() => null);
      const n = t.shape[axis] ?? 0;
      r[axis] = [off, off + n];
      off += n;
      return slice(g, r);
    });
  },
};
/** Joins tensors along an existing dimension (torch.cat). */
export function concat(xs: readonly Tensor[], dim = 0): Tensor {
  tensorList('concat', xs);
  const [first] = xs;
  if (!first) throw new ShapeError('concat: needs at least one tensor');
  const axis = normAxis(dim, first.ndim, 'concat');
  if (xs.length === 1) return first;
  return apply(concatDef, xs, { axis });
}
function tensorList(op: string, xs: unknown): void {
  if (!Array.isArray(xs)) throw new ShapeError(`${op}: expected an array of Tensors, got ${describeValue(xs)}`);
  xs.forEach((t, i) => expectTensor(op, `tensors[${i}]`, t));
}
/** Joins tensors along a new dimension (torch.stack). */
export function stack(xs: readonly Tensor[], dim = 0): Tensor {
  tensorList('stack', xs);
  const [first] = xs;
  if (!first) throw new ShapeError('stack: needs at least one tensor');
  for (const t of xs)
    if (t.ndim !== first.ndim || t.shape.some((d, i) => d !== first.shape[i])) {
      throw new ShapeError(`stack: all shapes must be equal, got ${xs.map((s) => fmt(s.shape)).join(', ')}`);
    }
  const axis = normAxis(dim, first.ndim + 1, 'stack');
  return concat(
    xs.map((t) => unsqueeze(t, axis)),
    axis,
  );
}
