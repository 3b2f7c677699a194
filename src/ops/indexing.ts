import { DTypeError, IndexError, ShapeError } from '../errors.js';
import { fmt, normAxis, type Shape } from '../shape.js';
import { expectTensor, Tensor, tensor } from '../tensor.js';
import { checkIndexContainer, checkIndexValues } from '../validate.js';
import { apply, type OpDef } from './define.js';

/** Accepts an index tensor (any dtype, integer values) or a plain number[]. */
export function asIndex(index: Tensor | readonly number[], op: string, size?: number, where?: string): Tensor {
  if (!(index instanceof Tensor)) checkIndexContainer(op, 'index', index);
  if (Array.isArray(index)) checkIndexValues(op, 'index', index, size, where); // before Int32Array.from truncates
  const t = index instanceof Tensor ? index : tensor(Int32Array.from(index));
  if (t.requiresGrad) throw new DTypeError(`${op}: index tensors cannot require gradients`);
  if (index instanceof Tensor) checkIndexValues(op, 'index', t.data, size, where);
  return t;
}

export const gatherDef: OpDef<'gather'> = {
  name: 'gather',
  kind: 'other',
  shape: ([x, idx], { axis }) => {
    if (idx.ndim !== x.ndim || idx.shape.some((d, i) => i !== axis && d > (x.shape[i] ?? 0))) {
      throw new ShapeError(
        `gather: index of shape ${fmt(idx.shape)} does not fit input ${fmt(x.shape)} along axis ${axis} (same rank, sizes ≤ the input's off the axis)`,
      );
    }
    return idx.shape;
  },
  forward: (k, [x, idx], { axis }) => k.gather(x, axis, idx),
  backward: (g, { inputs: [x, idx], attrs: { axis } }) => [scatterAdd(x.shape, axis, idx, g), null],
};
export const scatterAddDef: OpDef<'scatterAdd'> = {
  name: 'scatterAdd',
  kind: 'other',
  shape: (_i, { shape }) => shape,
  forward: (k, [idx, src], { axis, shape }) => k.scatterAdd(shape, axis, idx, src),
  backward: (g, { inputs: [idx], attrs: { axis } }) => [null, apply(gatherDef, [g, idx], { axis })],
};

/** out[…i…] = x[…index[…i…]…] along `dim` (like torch.gather). */
export function gather(x: Tensor, dim: number, index: Tensor | readonly number[]): Tensor {
  expectTensor('gather', 'input', x);
  const axis = normAxis(dim, x.ndim, 'gather');
  return apply(gatherDef, [x, asIndex(index, 'gather', x.shape[axis], `axis ${axis} of size ${x.shape[axis]}`)], {
    axis,
  });
}
/** Zeros of `shape`, then out[…index[…i…]…] += src[…i…] along `dim` (the adjoint of gather). */
export function scatterAdd(shape: Shape, dim: number, index: Tensor | readonly number[], src: Tensor): Tensor {
  expectTensor('scatterAdd', 'src', src);
  const axis = normAxis(dim, shape.length, 'scatterAdd');
  const idx = asIndex(index, 'scatterAdd', shape[axis], `axis ${axis} of size ${shape[axis]}`);
  if (idx.ndim !== src.ndim || idx.shape.some((d, i) => d !== src.shape[i])) {
    throw new ShapeError(`scatterAdd: index shape ${fmt(idx.shape)} must equal src shape ${fmt(src.shape)}`);
  }
  return apply(scatterAddDef, [idx, src], { axis, shape });
}
/** Picks whole slices along `dim` by a 1-D index (like torch.index_select). */
export function indexSelect(x: Tensor, dim: number, index: Tensor | readonly number[]): Tensor {
  expectTensor('indexSelect', 'input', x);
  const axis = normAxis(dim, x.ndim, 'indexSelect');
  const idx = asIndex(index, 'indexSelect', x.shape[axis], `axis ${axis} of size ${x.shape[axis]}`);
  if (idx.ndim !== 1) throw new IndexError(`indexSelect: index must be 1-D, got shape ${fmt(idx.shape)}`);
  const view = x.shape.map((_, i) => (i === axis ? idx.size : 1));
  const out = x.shape.map((d, i) => (i === axis ? idx.size : d));
  return gather(x, axis, idx.reshape(view).expand(out));
}
