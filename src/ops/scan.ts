import { DTypeError } from '../errors.js';
import { normAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { apply, type OpDef } from './define.js';

/** Inclusive prefix sum along one axis. Its adjoint is the reverse cumulative sum of the gradient. */
export const cumsumDef: OpDef<'cumsum'> = {
  name: 'cumsum',
  kind: 'other',
  shape: ([x]) => {
    if (x.dtype === 'int32')
      throw new DTypeError(`cumsum: expected a float tensor, got int32 (cast with .to('float32') first)`);
    return x.shape;
  },
  forward: (k, [x], { axis }) => k.cumsum(x, axis),
  // out[i] = Σ_{j≤i} x[j]  ⇒  dx[j] = Σ_{i≥j} g[i] = flip(cumsum(flip(g))), written as total − cumsum + g.
  backward: (g, { attrs: { axis } }) => [g.sum(axis, true).sub(cumsum(g, axis)).add(g)],
};

/** Inclusive cumulative sum along `dim` (like torch.cumsum). */
export function cumsum(x: Tensor, dim: number): Tensor {
  return apply(cumsumDef, [x], { axis: normAxis(dim, x.ndim, 'cumsum') });
}
