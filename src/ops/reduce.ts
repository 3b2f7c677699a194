import type { ArgReduceOp, ReduceOp } from '../backend/backend.js';
import { reshaped } from '../backend/buffer.js';
import { DTypeError, IndexError, ShapeError, ValueError } from '../errors.js';
import { normAxes, normAxis, reducedShape, sizeOf } from '../shape.js';
import { expectTensor, Tensor, type Dim } from '../tensor.js';
import { describeValue, INT32_MAX, INT32_MIN } from '../validate.js';
import { apply, defsFor, type OpDef } from './define.js';

const keptShape = (x: Tensor, axes: readonly number[]): number[] => reducedShape(x.shape, axes, true);

type ReduceRule = (g: Tensor, x: Tensor, y: Tensor, axes: readonly number[]) => Tensor;
const reduceRules: Record<ReduceOp, ReduceRule> = {
  // d sum / dx = 1: broadcast the gradient back over the reduced axes.
  sum: (g, x, _y, axes) => g.reshape(keptShape(x, axes)).expand(x.shape),
  // Ties share the gradient equally (like torch.amax); see docs/autograd.md.
  max: (g, x, y, axes) => extremumGrad(g, x, y, axes),
  min: (g, x, y, axes) => extremumGrad(g, x, y, axes),
};
function extremumGrad(g: Tensor, x: Tensor, y: Tensor, axes: readonly number[]): Tensor {
  const keep = keptShape(x, axes);
  const mask = x.eq(y.detach().reshape(keep));
  return g.reshape(keep).mul(mask).div(mask.sum(axes, true));
}

export const reduceDefs = defsFor(
  reduceRules,
  <P extends ReduceOp>(op: P, rule: ReduceRule): OpDef<P> => ({
    name: op,
    kind: 'reduce',
    shape: ([x], { axes, keepdim }) => {
      if (op !== 'sum' && x.size === 0)
        throw new ShapeError(`${op}: cannot reduce an empty tensor of shape [${x.shape}]`);
      return reducedShape(x.shape, axes, keepdim);
    },
    forward: (k, [x], { axes }, os) => reshaped(k[op](x, axes), os),
    backward: (g, { inputs: [x], out, attrs }) => [rule(g, x, out, attrs.axes)],
  }),
);

const reducer =
  (op: ReduceOp) =>
  (x: Tensor, dim?: Dim, keepdim = false): Tensor => {
    expectTensor(op, 'input', x);
    checkDim(op, dim, keepdim);
    return apply(reduceDefs[op], [x], { axes: normAxes(dim, x.ndim, op), keepdim });
  };
/** `dim` must be undefined, an integer or an array of integers; `keepdim` a boolean. */
export function checkDim(op: string, dim: unknown, keepdim: unknown = false): void {
  const ok = (d: unknown): boolean => typeof d === 'number' && Number.isInteger(d);
  if (dim !== undefined && !ok(dim) && !(Array.isArray(dim) && dim.every(ok))) {
    throw new IndexError(
      `${op}: dim must be an integer or an array of integers (or omitted for all axes), got ${describeValue(dim)}`,
    );
  }
  if (typeof keepdim !== 'boolean')
    throw new ValueError(`${op}: keepdim must be a boolean, got ${describeValue(keepdim)}`);
}

const sumRaw = reducer('sum');
/**
 * Sum over `dim` (all axes when omitted). int32 sums are computed exactly (in float64, exact below
 * 2⁵³) and refused with a DTypeError when the result does not fit int32; PyTorch sums int32 into
 * int64, which tapegrad does not have.
 */
export function sum(x: Tensor, dim?: Dim, keepdim = false): Tensor {
  if (!(x instanceof Tensor) || x.dtype !== 'int32') return sumRaw(x, dim, keepdim);
  const s = sumRaw(x.to('float64'), dim, keepdim);
  const d = s.data;
  for (let i = 0; i < d.length; i++) {
    if (!(d[i]! >= INT32_MIN && d[i]! <= INT32_MAX)) {
      throw new DTypeError(
        `sum: int32 overflow: the sum ${d[i]} does not fit int32 (expected [${INT32_MIN}, ${INT32_MAX}]); ` +
          `cast to float64 first (x.to('float64').sum())`,
      );
    }
  }
  return s.to('int32');
}
export const max = reducer('max');
export const min = reducer('min');
export function mean(x: Tensor, dim?: Dim, keepdim = false): Tensor {
  expectTensor('mean', 'input', x);
  checkDim('mean', dim, keepdim);
  const axes = normAxes(dim, x.ndim, 'mean');
  return sum(x, axes, keepdim).div(sizeOf(axes.map((a) => x.shape[a] ?? 1)));
}

const argOps: Record<ArgReduceOp, null> = { argmax: null, argmin: null };
export const argReduceDefs = defsFor(
  argOps,
  <P extends ArgReduceOp>(op: P, rule: null): OpDef<P> => ({
    name: op,
    kind: 'reduce',
    shape: ([x], { axis, keepdim }) => {
      if (x.shape[axis] === 0) throw new ShapeError(`${op}: cannot take ${op} over an empty axis`);
      return reducedShape(x.shape, [axis], keepdim);
    },
    forward: (k, [x], { axis }, os) => reshaped(k[op](x, axis), os),
    backward: rule, // indices: no gradient
  }),
);
/** Indices (int32, no gradient) of the maximum along `dim`, or of the flattened tensor. */
function argReduce(op: ArgReduceOp, x: Tensor, dim: number | undefined, keepdim: boolean): Tensor {
  expectTensor(op, 'input', x);
  checkDim(op, dim, keepdim);
  if (dim === undefined) return apply(argReduceDefs[op], [x.reshape([-1])], { axis: 0, keepdim: false });
  return apply(argReduceDefs[op], [x], { axis: normAxis(dim, x.ndim, op), keepdim });
}
export const argmax = (x: Tensor, dim?: number, keepdim = false): Tensor => argReduce('argmax', x, dim, keepdim);
export const argmin = (x: Tensor, dim?: number, keepdim = false): Tensor => argReduce('argmin', x, dim, keepdim);
