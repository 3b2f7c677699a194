/**
 * Math, activations and shape ops built from primitives (issue 12): none has a backward of its
 * own, so each runs on every backend and is differentiable to any order its pieces are.
 */
import { allocate } from '../dtype.js';
import { DTypeError, IndexError, ShapeError, ValueError } from '../errors.js';
import { fmt, normAxes, normAxis, reducedShape, shapeEq, sizeOf } from '../shape.js';
import { full, Tensor, type TensorLike } from '../tensor.js';
import { cos, div, eq, exp, expm1, log1p, maximum, sin, sqrt, where } from './elementwise.js';
import { concat, reshape, slice, type SliceSpec } from './movement.js';

/** A slice spec taking [start, stop) along one axis and everything else. */
function along(x: Tensor, axis: number, start: number, stop: number, step = 1): Tensor {
  const r: SliceSpec[] = x.shape.map(() => null);
  r[axis] = [start, stop, step];
  return slice(x, r);
}
function checkInt(op: string, what: string, v: number, min = 0): void {
  if (!Number.isInteger(v) || v < min) throw new ValueError(`${op}: ${what} must be an integer ≥ ${min}, got ${v}`);
}

// ---- elementwise math ----------------------------------------------------------------------
/** Elementwise tangent (torch.tan). */
export const tan = (x: Tensor): Tensor => div(sin(x), cos(x));
/** (eˣ − e⁻ˣ)/2 through expm1, so it stays accurate near 0. */
export const sinh = (x: Tensor): Tensor => expm1(x).sub(expm1(x.neg())).mul(0.5);
/** Elementwise hyperbolic cosine (torch.cosh). */
export const cosh = (x: Tensor): Tensor => exp(x).add(exp(x.neg())).mul(0.5);
/** Elementwise 1 / sqrt(x) (torch.rsqrt). */
export const rsqrt = (x: Tensor): Tensor => x.pow(-0.5);
/** Elementwise 1 / x (torch.reciprocal). */
export const reciprocal = (x: Tensor): Tensor => div(1, x);
/** log(eᵃ + eᵇ) without overflow: max(a, b) + log1p(e^−|a − b|); equal infinities give that infinity. */
export function logaddexp(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = a instanceof Tensor ? [a, b] : [b as Tensor, a];
  if (!(x instanceof Tensor)) throw new DTypeError('logaddexp: at least one operand must be a Tensor');
  const d = where(eq(x, y), 0, x.sub(y));
  return maximum(x, y).add(log1p(exp(d.abs().neg())));
}

// ---- activations ---------------------------------------------------------------------------
/** x for x > 0, slope·x otherwise (the gradient at 0 is the slope, as PyTorch). */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return where(x.gt(0), x, x.mul(negativeSlope));
}
/** x for x > 0, α(eˣ − 1) otherwise. The exponential only sees x ≤ 0, so large x cannot poison the gradient. */
export function elu(x: Tensor, alpha = 1): Tensor {
  const neg = where(x.gt(0), 0, x);
  return where(x.gt(0), x, expm1(neg).mul(alpha));
}
export const SELU_ALPHA = 1.6732632423543772; // torch: 1.6732632423543772848170429916717
export const SELU_SCALE = 1.0507009873554805; // torch: 1.0507009873554804934193349852946
/** Scaled exponential linear unit (torch.nn.functional.selu). */
export const selu = (x: Tensor): Tensor => elu(x, SELU_ALPHA).mul(SELU_SCALE);
/** x * sigmoid(x), a.k.a. swish (torch.nn.functional.silu). */
export const silu = (x: Tensor): Tensor => x.mul(x.sigmoid());
/** x·tanh(softplus(x)). */
export const mish = (x: Tensor): Tensor => x.mul(x.softplus().tanh());
/** Clamps to [minVal, maxVal]; the gradient is 0 at and beyond the edges (as torch's hardtanh). */
export function hardtanh(x: Tensor, minVal = -1, maxVal = 1): Tensor {
  if (!(minVal <= maxVal)) throw new ValueError(`hardtanh: minVal ${minVal} must not exceed maxVal ${maxVal}`);
  return where(x.le(minVal), minVal, where(x.ge(maxVal), maxVal, x));
}
/** Clamps to [0, 6] (torch.nn.functional.relu6). */
export const relu6 = (x: Tensor): Tensor => hardtanh(x, 0, 6);
/** log σ(x) = −softplus(−x), stable for any x. */
export const logSigmoid = (x: Tensor): Tensor => x.neg().softplus().neg();
/** Gated linear unit: splits `dim` in halves a, b and returns a·σ(b). */
export function glu(x: Tensor, dim = -1): Tensor {
  const axis = normAxis(dim, x.ndim, 'glu');
  const n = x.shape[axis]!;
  if (n % 2 !== 0) {
    throw new ShapeError(`glu: dimension ${dim} of shape ${fmt(x.shape)} must have an even size, got ${n}`);
  }
  return along(x, axis, 0, n / 2).mul(along(x, axis, n / 2, n).sigmoid());
}

// ---- reductions and scans --------------------------------------------------------------------
/**
 * Product along `dim` (or of all elements) by a pairwise tree of multiplications: the gradient
 * is the product rule itself, so zeros (one or several) get exact gradients, to any order.
 */
export function prod(x: Tensor, dim?: number, keepdim = false): Tensor {
  if (dim === undefined) return prod(reshape(x, [-1]), 0, false);
  const axis = normAxis(dim, x.ndim === 0 ? 1 : x.ndim, 'prod');
  if (x.ndim === 0) return x;
  let y = x;
  let n = x.shape[axis]!;
  if (n === 0) return full(reducedShape(x.shape, [axis], keepdim), 1, { dtype: x.dtype });
  while (n > 1) {
    const h = Math.floor(n / 2);
    const m = along(y, axis, 0, h).mul(along(y, axis, h, 2 * h));
    y = n % 2 ? concat([m, along(y, axis, 2 * h, n)], axis) : m;
    n = Math.ceil(n / 2);
  }
  return keepdim ? y : y.squeeze(axis);
}
/**
 * Running product along `dim` by a log-depth (Hillis–Steele) scan of multiplications: exact
 * gradients with zeros in the input, and twice differentiable.
 */
export function cumprod(x: Tensor, dim: number): Tensor {
  if (x.ndim === 0) return x;
  const axis = normAxis(dim, x.ndim, 'cumprod');
  const n = x.shape[axis]!;
  let y = x;
  for (let s = 1; s < n; s *= 2) {
    y = concat([along(y, axis, 0, s), along(y, axis, s, n).mul(along(y, axis, 0, n - s))], axis);
  }
  return y;
}
/** The p of a p-norm: a number (Infinity and -Infinity included) or 'fro' (Frobenius). */
export type NormOrder = number | 'fro';
/**
 * Vector p-norm over `dim` (all elements by default), as torch.norm: p = 2 / 'fro' (default),
 * 1, Infinity (max |x|), -Infinity (min |x|), 0 (count of non-zeros) or any other real p.
 * The 2-norm of a zero vector has gradient 0 (a subgradient), not NaN.
 */
export function norm(x: Tensor, p: NormOrder = 'fro', dim?: number | readonly number[], keepdim = false): Tensor {
  if (x.dtype === 'int32') {
    throw new DTypeError("norm: expected a float tensor, got int32 (cast with .to('float32') first)");
  }
  const axes = normAxes(dim, x.ndim, 'norm');
  if (p === 'fro' || p === 2) {
    const s = x.mul(x).sum(axes, keepdim);
    const zero = s.eq(0);
    return where(zero, 0, sqrt(where(zero, 1, s)));
  }
  if (typeof p !== 'number' || Number.isNaN(p)) {
    throw new ValueError(`norm: p must be a number or 'fro', got ${String(p)}`);
  }
  if (p === 1) return x.abs().sum(axes, keepdim);
  if (p === Infinity) return x.abs().max(axes, keepdim);
  if (p === -Infinity) return x.abs().min(axes, keepdim);
  if (p === 0) return x.ne(0).detach().sum(axes, keepdim);
  return x
    .abs()
    .pow(p)
    .sum(axes, keepdim)
    .pow(1 / p);
}

// ---- masks -----------------------------------------------------------------------------------
function triMask(x: Tensor, k: number, lower: boolean, op: string): Tensor {
  if (x.ndim < 2) throw new ShapeError(`${op}: expected a tensor of at least 2 dimensions, got shape ${fmt(x.shape)}`);
  if (!Number.isInteger(k)) throw new ValueError(`${op}: diagonal must be an integer, got ${k}`);
  const r = x.shape[x.ndim - 2]!,
    c = x.shape[x.ndim - 1]!;
  const m = allocate('int32', r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) m[i * c + j] = +(lower ? j - i <= k : j - i >= k);
  return new Tensor(m, [r, c]);
}
/** Keeps the elements on and below the k-th diagonal of the last two axes, zeros the rest. */
export const tril = (x: Tensor, diagonal = 0): Tensor => where(triMask(x, diagonal, true, 'tril'), x, 0);
/** Keeps the elements on and above the k-th diagonal of the last two axes, zeros the rest. */
export const triu = (x: Tensor, diagonal = 0): Tensor => where(triMask(x, diagonal, false, 'triu'), x, 0);
/** `value` where `mask` is non-zero (mask broadcasts to x's shape), x elsewhere. */
export function maskedFill(x: Tensor, mask: Tensor, value: TensorLike): Tensor {
  if (value instanceof Tensor && value.ndim !== 0) {
    throw new ShapeError(`maskedFill: value must be a number or a 0-d tensor, got shape ${fmt(value.shape)}`);
  }
  const out = where(mask, value, x);
  if (!shapeEq(out.shape, x.shape)) {
    throw new ShapeError(
      `maskedFill: mask of shape ${fmt(mask.shape)} must broadcast to the input's shape ${fmt(x.shape)}`,
    );
  }
  return out;
}

// ---- splitting and tiling --------------------------------------------------------------------
/** Pieces of `splitSize` along `dim` (the last may be smaller), or pieces of the listed sizes. */
export function split(x: Tensor, splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  const axis = normAxis(dim, x.ndim, 'split');
  const n = x.shape[axis]!;
  let sizes: number[];
  if (typeof splitSizeOrSections === 'number') {
    checkInt('split', 'splitSize', splitSizeOrSections, 1);
    sizes = [];
    for (let s = 0; s < n; s += splitSizeOrSections) sizes.push(Math.min(splitSizeOrSections, n - s));
    if (n === 0) sizes.push(0);
  } else {
    sizes = [...splitSizeOrSections];
    sizes.forEach((s) => checkInt('split', 'each section size', s));
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== n) {
      throw new ShapeError(
        `split: section sizes ${JSON.stringify(sizes)} sum to ${total}, but dimension ${dim} has size ${n}`,
      );
    }
  }
  let off = 0;
  return sizes.map((s) => along(x, axis, off, (off += s)));
}
/** At most `chunks` pieces of size ceil(n / chunks) along `dim` (as torch.chunk). */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  checkInt('chunk', 'chunks', chunks, 1);
  const axis = normAxis(dim, x.ndim, 'chunk');
  const n = x.shape[axis]!;
  return split(x, Math.max(1, Math.ceil(n / chunks)), axis);
}
/** The slices along `dim`, with that axis removed. */
export function unbind(x: Tensor, dim = 0): Tensor[] {
  const axis = normAxis(dim, x.ndim, 'unbind');
  return Array.from({ length: x.shape[axis]! }, (_, i) => along(x, axis, i, i + 1).squeeze(axis));
}
/** Repeats the tensor `repeats[i]` times along axis i (as torch.Tensor.repeat; extra leading repeats add axes). */
export function repeat(x: Tensor, repeats: readonly number[]): Tensor {
  if (repeats.length < x.ndim) {
    throw new ShapeError(
      `repeat: got ${repeats.length} repeats for a tensor of rank ${x.ndim} (need at least one per dimension)`,
    );
  }
  repeats.forEach((r) => checkInt('repeat', 'each repeat', r));
  const shape = [...new Array<number>(repeats.length - x.ndim).fill(1), ...x.shape];
  const inter = shape.flatMap((d) => [1, d]);
  const big = shape.flatMap((d, i) => [repeats[i]!, d]);
  return reshape(x, inter)
    .expand(big)
    .reshape(shape.map((d, i) => d * repeats[i]!));
}
/** As repeat, but fewer repeats than dimensions are padded with leading 1s (as torch.tile). */
export function tile(x: Tensor, dims: readonly number[]): Tensor {
  return repeat(x, [...new Array<number>(Math.max(0, x.ndim - dims.length)).fill(1), ...dims]);
}
/** Reverses the order of elements along each of `dims`. */
export function flip(x: Tensor, dims: number | readonly number[]): Tensor {
  const axes = normAxes(typeof dims === 'number' ? [dims] : dims, x.ndim, 'flip');
  const r: SliceSpec[] = x.shape.map((_, i) => (axes.includes(i) ? [undefined, undefined, -1] : null));
  return slice(x, r);
}
/** Rolls elements along `dims` by `shifts` (wrapping around); without dims, over the flattened tensor. */
export function roll(x: Tensor, shifts: number | readonly number[], dims?: number | readonly number[]): Tensor {
  const sh = typeof shifts === 'number' ? [shifts] : [...shifts];
  sh.forEach((s) => {
    if (!Number.isInteger(s)) throw new ValueError(`roll: shifts must be integers, got ${s}`);
  });
  if (dims === undefined) {
    if (sh.length !== 1) {
      throw new ValueError(`roll: without dims, shifts must be a single number, got ${JSON.stringify(shifts)}`);
    }
    return roll(reshape(x, [-1]), sh[0]!, 0).reshape(x.shape);
  }
  const ds = typeof dims === 'number' ? [dims] : [...dims];
  if (ds.length !== sh.length) {
    throw new ValueError(
      `roll: shifts ${JSON.stringify(shifts)} and dims ${JSON.stringify(dims)} must have the same length`,
    );
  }
  let y = x;
  ds.forEach((d, i) => {
    const axis = normAxis(d, x.ndim, 'roll');
    const n = x.shape[axis]!;
    const s = n === 0 ? 0 : ((sh[i]! % n) + n) % n;
    if (s !== 0) y = concat([along(y, axis, n - s, n), along(y, axis, 0, n - s)], axis);
  });
  return y;
}
/** One-hot int32 encoding: shape […index.shape, numClasses]; numClasses = -1 infers max + 1. */
export function oneHot(index: Tensor | readonly number[], numClasses = -1): Tensor {
  const t = index instanceof Tensor ? index : new Tensor(Int32Array.from(index), [index.length]);
  const d = t.data;
  let max = -1;
  for (const v of d) {
    if (!Number.isInteger(v) || v < 0) {
      throw new IndexError(`oneHot: class values must be non-negative integers, got ${v}`);
    }
    max = Math.max(max, v);
  }
  if (numClasses === -1) numClasses = max + 1;
  checkInt('oneHot', 'numClasses', numClasses, 1);
  if (max >= numClasses) {
    throw new IndexError(`oneHot: class value ${max} is out of range for numClasses ${numClasses}`);
  }
  const out = allocate('int32', sizeOf(t.shape) * numClasses);
  for (let i = 0; i < d.length; i++) out[i * numClasses + d[i]!] = 1;
  return new Tensor(out, [...t.shape, numClasses]);
}
