/**
 * Functions built from primitives: they need no backward rule of their own and run on every
 * backend. Each is written to be numerically stable in float32 and exact in float64.
 */
import { normAxes, sizeOf } from '../shape.js';
import { expectTensor, type Tensor, type Dim } from '../tensor.js';
import { where } from './elementwise.js';
import { gelu, logSoftmax, softmax } from './fused.js';

// softmax, logSoftmax and gelu are fused primitives (ops/fused.ts); ops/fused-oracles.ts holds their composites.
export { gelu, logSoftmax, softmax };

/** log(sum(exp(x))) over `dim`, computed stably (torch.logsumexp). */
export function logSumExp(x: Tensor, dim?: Dim, keepdim = false): Tensor {
  const axes = normAxes(dim, x.ndim, 'logSumExp');
  const m = x.max(axes, true).detach();
  const shift = where(m.abs().eq(Infinity), 0, m); // all -inf (or +inf) rows stay finite-shifted
  const out = x.sub(shift).exp().sum(axes, true).log().add(shift);
  return keepdim ? out : out.squeeze(axes);
}
/** Variance with Bessel's correction by default (correction = 1, as torch.var). */
export function variance(x: Tensor, dim?: Dim, keepdim = false, correction = 1): Tensor {
  const axes = normAxes(dim, x.ndim, 'var');
  const n = sizeOf(axes.map((a) => x.shape[a]!));
  const d = x.sub(x.mean(axes, true));
  return d
    .mul(d)
    .sum(axes, keepdim)
    .div(Math.max(0, n - correction));
}
/** Standard deviation over `dim` with `correction` (1: Bessel's) (torch.std). */
export const std = (x: Tensor, dim?: Dim, keepdim = false, correction = 1): Tensor =>
  variance(x, dim, keepdim, correction).sqrt();

/** Limits values to [min, max]; the gradient passes where min ≤ x ≤ max (as torch.clamp). */
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  let y = x;
  if (min !== undefined) y = where(x.lt(min), min, y);
  if (max !== undefined) y = where(x.gt(max), max, y);
  return y;
}
/**
 * log(1 + eˣ), stable for any x: max(x, 0) + log1p(e^−|x|), with max(x, 0) written as
 * (x + |x|)/2 — bitwise equal, and its derivative at 0 is ½, so softplus'(0) = σ(0) = ½ exactly.
 */
export function softplus(x: Tensor): Tensor {
  // x/2 + |x|/2 rather than (x + |x|)/2: the sum overflows float32 for x > ~1.7e38.
  const ax = x.abs();
  return x.mul(0.5).add(ax.mul(0.5)).add(ax.neg().exp().log1p());
}

// Losses live in ./losses.ts.
// ---- floating-point classification (no gradient: built from comparisons) ------------------
/** 1 where x is NaN, else 0 (in x's dtype; NaN is the only value unequal to itself). */
export const isnan = (x: Tensor): Tensor => expectTensor('isnan', 'input', x).ne(x);
/** 1 where x is +Infinity or −Infinity, else 0. */
export const isinf = (x: Tensor): Tensor =>
  expectTensor('isinf', 'input', x).dtype === 'int32' ? x.ne(x) : x.abs().eq(Infinity);
/** 1 where x is finite (neither NaN nor ±Infinity), else 0: x − x is 0 exactly for finite x and NaN otherwise. */
export const isfinite = (x: Tensor): Tensor => expectTensor('isfinite', 'input', x).sub(x).eq(0);
