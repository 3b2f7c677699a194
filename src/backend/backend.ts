import type { Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { DType } from '../dtype.js';

export type UnaryOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'tanh' | 'sigmoid' | 'relu' | 'sign' | 'sin' | 'cos'
  | 'erf' | 'log1p' | 'expm1' | 'atan' | 'asin' | 'acos' | 'floor' | 'ceil' | 'round' | 'trunc'
  | 'log2' | 'log10';
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'eq' | 'ne' | 'lt' | 'le' | 'gt'
  | 'ge' | 'atan2';
export type ReduceOp = 'sum' | 'max' | 'min';

/**
 * A backend computes op outputs from input tensors. Kernels never record on the tape;
 * `ops/` does that. Output shapes are computed (and validated) by the op before the call.
 */
export interface Backend {
  readonly name: 'cpu' | 'gpu';
  unary(op: UnaryOp, x: Tensor): Tensor;
  /** Elementwise with NumPy broadcasting to `outShape`. Comparisons return 0/1 in the input dtype. */
  binary(op: BinaryOp, a: Tensor, b: Tensor, outShape: Shape): Tensor;
  where(cond: Tensor, a: Tensor, b: Tensor, outShape: Shape): Tensor;
  /** Reduces over sorted distinct `axes`; the output keeps them as size-1 dims. */
  reduce(op: ReduceOp, x: Tensor, axes: readonly number[]): Tensor;
  /** Index of the max/min along one axis (first on ties), kept as size 1, int32. */
  argReduce(op: 'argmax' | 'argmin', x: Tensor, axis: number): Tensor;
  /**
   * op(a) @ op(b) with broadcast batch dims, where op transposes the last two axes when
   * `transA`/`transB` is set (read through strides, never copied). Both inputs have rank ≥ 2.
   */
  matmul(a: Tensor, b: Tensor, outShape: Shape, transA: boolean, transB: boolean): Tensor;
  permute(x: Tensor, perm: readonly number[]): Tensor;
  /** Materialises a broadcast of `x` to `shape`. */
  expand(x: Tensor, shape: Shape): Tensor;
  /** out[i] = x[start + i*step] per axis. */
  slice(x: Tensor, starts: readonly number[], steps: readonly number[], outShape: Shape): Tensor;
  /** The adjoint of slice: zeros of `shape` with `src` written at start + i*step. */
  sliceScatter(src: Tensor, shape: Shape, starts: readonly number[], steps: readonly number[]): Tensor;
  concat(xs: readonly Tensor[], axis: number, outShape: Shape): Tensor;
  /** out[…i…] = x[…index[…i…]…] along `axis`; index has the output's shape. */
  gather(x: Tensor, axis: number, index: Tensor): Tensor;
  /** zeros(shape) then out[…index[…i…]…] += src[…i…] along `axis`. */
  scatterAdd(shape: Shape, axis: number, index: Tensor, src: Tensor): Tensor;
  cast(x: Tensor, dtype: DType): Tensor;
  /** Stable sort order along `axis` (int32, the output has x's shape); NaN sorts above every number, as PyTorch. */
  argsort(x: Tensor, axis: number, descending: boolean): Tensor;
}
