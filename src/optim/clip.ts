/** Gradient clipping (torch.nn.utils.clip_grad_norm_ / clip_grad_value_), in place on `.grad`. */
import { ValueError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { show } from './validate.js';

function gradsOf(params: Iterable<Tensor> | Tensor, op: string): Tensor[] {
  const list = params instanceof Tensor ? [params] : [...params];
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw new ValueError(`${op}: parameter ${i} is not a Tensor (got ${typeof p})`);
  });
  return list.flatMap((p) => (p.grad === null ? [] : [p.grad]));
}

/** The p-norm of a typed array (p = Infinity: max |x|; p = 0: count of non-zeros, as torch.linalg.vector_norm). */
function vectorNorm(d: ArrayLike<number>, p: number): number {
  if (p === Infinity) {
    let m = 0;
    for (let i = 0; i < d.length; i++) {
      const a = Math.abs(d[i]!);
      if (a > m || Number.isNaN(a)) m = a;
    }
    return m;
  }
  if (p === -Infinity) {
    let m = Infinity;
    for (let i = 0; i < d.length; i++) {
      const a = Math.abs(d[i]!);
      if (a < m || Number.isNaN(a)) m = a;
    }
    return m;
  }
  if (p === 0) {
    let n = 0;
    for (let i = 0; i < d.length; i++) if (d[i] !== 0) n++;
    return n;
  }
  let s = 0;
  if (p === 2) {
    for (let i = 0; i < d.length; i++) s += d[i]! * d[i]!;
    return Math.sqrt(s);
  }
  if (p === 1) {
    for (let i = 0; i < d.length; i++) s += Math.abs(d[i]!);
    return s;
  }
  for (let i = 0; i < d.length; i++) s += Math.abs(d[i]!) ** p;
  return s ** (1 / p);
}

/** Options of `clipGradNorm` (torch.nn.utils.clip_grad_norm_). */
export interface ClipGradNormOptions {
  /** Throw a ValueError when the total norm is NaN or infinite (PyTorch's error_if_nonfinite; default false). */
  errorIfNonfinite?: boolean;
}

/**
 * Scales all gradients together so that their total `normType`-norm is at most `maxNorm`, as
 * torch.nn.utils.clip_grad_norm_: total = ‖(‖g₁‖, ‖g₂‖, …)‖, coef = min(1, maxNorm/(total + 1e-6)),
 * every g ← g·coef. Returns the total norm before clipping (0 when no parameter has a gradient).
 * `normType` may be any positive number or Infinity (the largest |g|).
 */
export function clipGradNorm(
  params: Iterable<Tensor> | Tensor,
  maxNorm: number,
  normType = 2,
  options: ClipGradNormOptions = {},
): number {
  const op = 'clipGradNorm';
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm) || maxNorm < 0)
    throw new ValueError(`${op}: maxNorm must be a non-negative number, got ${show(maxNorm)}`);
  if (typeof normType !== 'number' || Number.isNaN(normType) || normType < 0)
    throw new ValueError(`${op}: normType must be a non-negative number or Infinity, got ${show(normType)}`);
  const grads = gradsOf(params, op);
  if (grads.length === 0) return 0;
  const norms = grads.map((g) => vectorNorm(g.data, normType));
  const total = vectorNorm(norms, normType);
  if (options.errorIfNonfinite && !Number.isFinite(total)) {
    throw new ValueError(
      `${op}: the total norm of order ${normType} of the gradients is ${total}; set errorIfNonfinite: false to clip anyway`,
    );
  }
  const coef = Math.min(maxNorm / (total + 1e-6), 1);
  for (const g of grads) {
    const d = g.data;
    for (let i = 0; i < d.length; i++) d[i] = d[i]! * coef;
  }
  return total;
}

/** Clamps every gradient entry into [−clipValue, clipValue] in place (torch.nn.utils.clip_grad_value_). */
export function clipGradValue(params: Iterable<Tensor> | Tensor, clipValue: number): void {
  const op = 'clipGradValue';
  if (typeof clipValue !== 'number' || Number.isNaN(clipValue) || clipValue < 0)
    throw new ValueError(`${op}: clipValue must be a non-negative number, got ${show(clipValue)}`);
  for (const g of gradsOf(params, op)) {
    const d = g.data;
    for (let i = 0; i < d.length; i++) {
      const x = d[i]!;
      d[i] = x > clipValue ? clipValue : x < -clipValue ? -clipValue : x;
    }
  }
}
