/**
 * The composites the fused primitives (ops/fused.ts) replace, built from primitives only: the
 * oracles the tests compare the fused kernels and their gradients with, and the baseline in bench/.
 */
import type { Tensor } from '../tensor.js';

/** The composite softmax: the oracle of the fused primitive (ops/fused.ts). */
export function softmaxComposite(x: Tensor, dim = -1): Tensor {
  const e = x.sub(x.max(dim, true).detach()).exp();
  return e.div(e.sum(dim, true));
}
/** The composite logSoftmax: the oracle of the fused primitive. */
export function logSoftmaxComposite(x: Tensor, dim = -1): Tensor {
  const z = x.sub(x.max(dim, true).detach());
  return z.sub(z.exp().sum(dim, true).log());
}
/** The composite GELU (exact erf by default, `'tanh'` form): the oracle of the fused primitive. */
export function geluComposite(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  if (approximate === 'tanh') {
    const inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
    return x.mul(0.5).mul(inner.tanh().add(1));
  }
  return x.mul(0.5).mul(x.mul(Math.SQRT1_2).erf().add(1));
}
/** The composite layer normalisation over the trailing `dims` axes (biased variance): the oracle of layerNorm. */
export function layerNormComposite(x: Tensor, dims: number, eps = 1e-5, weight?: Tensor, bias?: Tensor): Tensor {
  const axes = Array.from({ length: dims }, (_, i) => x.ndim - dims + i);
  const d = x.sub(x.mean(axes, true));
  const y = d.div(d.mul(d).mean(axes, true).add(eps).sqrt());
  const yw = weight ? y.mul(weight) : y;
  return bias ? yw.add(bias) : yw;
}
/** The composite RMS normalisation over the trailing `dims` axes: the oracle of rmsNorm. */
export function rmsNormComposite(x: Tensor, dims: number, eps: number, weight?: Tensor): Tensor {
  const axes = Array.from({ length: dims }, (_, i) => x.ndim - dims + i);
  const y = x.div(x.mul(x).mean(axes, true).add(eps).sqrt());
  return weight ? y.mul(weight) : y;
}
