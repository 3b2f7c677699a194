import {
  allocate,
  arrayKind,
  checkDType,
  CONVERTIBLE_ARRAYS,
  dtypeOfArray,
  type DType,
  type NarrowIntArray,
  type TypedArray,
} from './dtype.js';
import { checkInt32Values, checkOptions, describeValue, isForeignTensor, TENSOR_BRAND } from './validate.js';
import { versionOf } from './tape.js';
import { DTypeError, ShapeError, ValueError } from './errors.js';
import { checkShape, fmt, sizeOf, type Shape } from './shape.js';
import type { DeviceStorage } from './backend/backend.js';
import { activeTracer, type Node } from './tape.js';
import * as E from './ops/elementwise.js';
import * as R from './ops/reduce.js';
import * as M from './ops/movement.js';
import * as I from './ops/indexing.js';
import * as C from './ops/composite.js';
import { cumsum } from './ops/scan.js';
import { matmul } from './ops/matmul.js';
import * as X from './ops/composite-math.js';
import * as S from './ops/sort.js';
import { backward, type BackwardOptions } from './autograd/backward.js';
import { formatTensor, inspectSymbol } from './format.js';

export type { DType, TypedArray, NarrowIntArray } from './dtype.js';
/** A number or an arbitrarily nested array of numbers, as taken by `tensor()` and returned by `toArray()`. */
export type NestedArray = number | readonly NestedArray[];
/** A tensor, or a number treated as a 0-d tensor of the other operand's dtype. */
export type TensorLike = Tensor | number;
/** One dimension or several; negative values count from the end. */
export type Dim = number | readonly number[];

/** Storage that lives off the CPU (e.g. a GPU texture); read back lazily. */
export type DeviceBuffer = DeviceStorage;

/**
 * A dense, contiguous, row-major n-d array that can record its history on the tape.
 * Create tensors with `tensor`, `zeros`, `randn`, … rather than this constructor.
 */
export class Tensor {
  /** The size of each dimension (torch.Tensor.shape); frozen. */
  readonly shape: readonly number[];
  /** The element type: 'float32', 'float64' or 'int32' (torch.Tensor.dtype). */
  readonly dtype: DType;
  /** Whether gradients flow to (and, for leaves, accumulate in) this tensor. */
  requiresGrad = false;
  /** Accumulated gradient: set on leaves by `backward()`, and on non-leaves that called `retainGrad()`. */
  grad: Tensor | null = null;
  /** The tape node that produced this tensor, or null for a leaf. */
  node: Node | null = null;
  /** @internal */ retainsGrad = false;
  #data: TypedArray | null;
  #device: DeviceBuffer | null;

  /** Wraps a typed array (or a device buffer plus its dtype) of `shape`; the array is used without copying. */
  constructor(data: TypedArray | DeviceBuffer, shape: Shape, dtype?: DType) {
    checkShape(shape, 'tensor');
    this.shape = Object.freeze([...shape]);
    if (ArrayBuffer.isView(data)) {
      this.#data = data;
      this.#device = null;
      this.dtype = dtypeOfArray(data);
      if (data.length !== sizeOf(shape)) {
        throw new ShapeError(`tensor: data has ${data.length} elements but shape ${fmt(shape)} needs ${sizeOf(shape)}`);
      }
    } else {
      this.#data = null;
      this.#device = data;
      if (!dtype) throw new DTypeError('tensor: a device buffer needs an explicit dtype');
      this.dtype = dtype;
    }
  }

  /** The values, row-major. For a device-resident tensor this reads it back once. */
  get data(): TypedArray {
    if (this.#data === null) {
      const dev = this.#device;
      this.#data = dev ? dev.read() : allocate(this.dtype, 0);
      dev?.dispose();
      this.#device = null;
    }
    return this.#data;
  }
  /** The off-CPU buffer holding this tensor's values, if any (used by device backends). */
  get deviceBuffer(): DeviceBuffer | null {
    return this.#device;
  }
  /** The number of elements (torch.Tensor.numel). */
  get size(): number {
    return sizeOf(this.shape);
  }
  /** The number of dimensions (torch.Tensor.ndim). */
  get ndim(): number {
    return this.shape.length;
  }
  /** True when the tensor was not produced by a recorded op. */
  get isLeaf(): boolean {
    return this.node === null;
  }
  /** Bumped by every in-place write to this tensor's storage; backward checks it for saved tensors. */
  get version(): number {
    return versionOf(this);
  }
  /** Marks tensors of every copy of tapegrad, so a tensor from a second copy is recognised in messages. */
  get [TENSOR_BRAND](): true {
    return true;
  }

  /** Frees device memory now (CPU tensors are left to the garbage collector). */
  dispose(): void {
    this.#device?.dispose();
    this.#device = null;
    if (this.#data === null) this.#data = allocate(this.dtype, 0);
  }

  /** The values as nested arrays (a number for a 0-d tensor), like torch.Tensor.tolist. */
  toArray(): NestedArray {
    const d = this.data;
    const build = (axis: number, off: number): NestedArray => {
      if (axis === this.shape.length) return d[off]!;
      const n = this.shape[axis]!;
      const step = sizeOf(this.shape.slice(axis + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(build(axis + 1, off + i * step));
      return out;
    };
    return build(0, 0);
  }
  /** The value of a one-element tensor as a number (torch.Tensor.item). */
  item(): number {
    if (this.size !== 1)
      throw new ShapeError(`item: tensor of shape ${fmt(this.shape)} has ${this.size} elements, expected exactly 1`);
    return this.data[0]!;
  }
  /**
   * The values, row-major, without blocking the thread: a WebGPU-resident tensor is read back
   * while the event loop keeps running (the synchronous {@link Tensor.data} blocks on it instead).
   * On CPU and headless-gl tensors it resolves to the same values as `.data`.
   */
  async dataAsync(): Promise<TypedArray> {
    if (this.#data === null) {
      const dev = this.#device as (DeviceBuffer & { readAsync?: () => Promise<TypedArray> }) | null;
      if (dev && typeof dev.readAsync === 'function') {
        const values = await dev.readAsync();
        if (this.#data === null && this.#device === dev) {
          this.#data = values;
          dev.dispose();
          this.#device = null;
        }
      }
    }
    return this.data;
  }
  /** The value of a one-element tensor, read back without blocking (see {@link Tensor.dataAsync}). */
  async itemAsync(): Promise<number> {
    if (this.size !== 1)
      throw new ShapeError(
        `itemAsync: tensor of shape ${fmt(this.shape)} has ${this.size} elements, expected exactly 1`,
      );
    return (await this.dataAsync())[0]!;
  }
  /** PyTorch-style printout: values (summarised past a threshold), shape, dtype, device, requiresGrad or op. */
  toString(): string {
    return formatTensor(this.#device ? this.#device.read() : this.#data!, {
      shape: this.shape,
      dtype: this.dtype,
      device: this.#device?.device ?? 'cpu',
      requiresGrad: this.requiresGrad,
      op: this.node?.op,
    });
  }
  /** What `console.log` and `util.inspect` show: the same as `toString()`. */
  [inspectSymbol](): string {
    return this.toString();
  }

  // ---- autograd -------------------------------------------------------------
  /** Backpropagates from this tensor, accumulating `.grad` on leaves (torch.Tensor.backward). */
  backward(gradOutput?: TensorLike, opts: BackwardOptions = {}): void {
    backward(this, gradOutput, opts);
  }
  /** Drops the accumulated gradient (sets `.grad` to null, as torch's `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    this.grad = null;
  }
  /** A new leaf sharing this tensor's values, cut from the tape. */
  detach(): Tensor {
    const dev = this.#device;
    const out = dev ? new Tensor(dev.share(), this.shape, this.dtype) : new Tensor(this.data, this.shape);
    activeTracer()?.('detach', [this], null, out);
    return out;
  }
  /** Sets requiresGrad in place (leaves only) and returns this. */
  requiresGrad_(flag = true): this {
    if (this.node !== null && !flag)
      throw new ValueError('requiresGrad_: cannot turn off gradients of a non-leaf tensor; use detach()');
    this.requiresGrad = flag;
    return this;
  }
  /** Asks backward() to store this non-leaf's gradient in `.grad` too. */
  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  // ---- elementwise ----------------------------------------------------------
  /** Elementwise sum with broadcasting (torch.add). */
  add(o: TensorLike): Tensor {
    return E.add(this, o);
  }
  /** Elementwise difference with broadcasting (torch.sub). */
  sub(o: TensorLike): Tensor {
    return E.sub(this, o);
  }
  /** Elementwise product with broadcasting (torch.mul). */
  mul(o: TensorLike): Tensor {
    return E.mul(this, o);
  }
  /** Elementwise true division with broadcasting (torch.div). */
  div(o: TensorLike): Tensor {
    return E.div(this, o);
  }
  /** Elementwise power with broadcasting (torch.pow). */
  pow(o: TensorLike): Tensor {
    return E.pow(this, o);
  }
  /** Elementwise maximum with broadcasting (torch.maximum). */
  maximum(o: TensorLike): Tensor {
    return E.maximum(this, o);
  }
  /** Elementwise minimum with broadcasting (torch.minimum). */
  minimum(o: TensorLike): Tensor {
    return E.minimum(this, o);
  }
  /** 1 where equal, else 0, with broadcasting (torch.eq); not differentiable. */
  eq(o: TensorLike): Tensor {
    return E.eq(this, o);
  }
  /** 1 where not equal, else 0, with broadcasting (torch.ne); not differentiable. */
  ne(o: TensorLike): Tensor {
    return E.ne(this, o);
  }
  /** 1 where less than, else 0, with broadcasting (torch.lt); not differentiable. */
  lt(o: TensorLike): Tensor {
    return E.lt(this, o);
  }
  /** 1 where less than or equal, else 0, with broadcasting (torch.le); not differentiable. */
  le(o: TensorLike): Tensor {
    return E.le(this, o);
  }
  /** 1 where greater than, else 0, with broadcasting (torch.gt); not differentiable. */
  gt(o: TensorLike): Tensor {
    return E.gt(this, o);
  }
  /** 1 where greater than or equal, else 0, with broadcasting (torch.ge); not differentiable. */
  ge(o: TensorLike): Tensor {
    return E.ge(this, o);
  }
  /** Elementwise negation (torch.neg). */
  neg(): Tensor {
    return E.neg(this);
  }
  /** Elementwise e^x (torch.exp). */
  exp(): Tensor {
    return E.exp(this);
  }
  /** Elementwise natural logarithm (torch.log). */
  log(): Tensor {
    return E.log(this);
  }
  /** Elementwise square root (torch.sqrt). */
  sqrt(): Tensor {
    return E.sqrt(this);
  }
  /** Elementwise absolute value (torch.abs). */
  abs(): Tensor {
    return E.abs(this);
  }
  /** Elementwise hyperbolic tangent (torch.tanh). */
  tanh(): Tensor {
    return E.tanh(this);
  }
  /** Elementwise logistic sigmoid 1 / (1 + e^-x) (torch.sigmoid). */
  sigmoid(): Tensor {
    return E.sigmoid(this);
  }
  /** Elementwise max(x, 0) (torch.relu). */
  relu(): Tensor {
    return E.relu(this);
  }
  /** Elementwise sign: -1, 0 or 1 (torch.sign). */
  sign(): Tensor {
    return E.sign(this);
  }
  /** Elementwise sine (torch.sin). */
  sin(): Tensor {
    return E.sin(this);
  }
  /** Elementwise cosine (torch.cos). */
  cos(): Tensor {
    return E.cos(this);
  }
  /** Elementwise Gauss error function (torch.erf). */
  erf(): Tensor {
    return E.erf(this);
  }
  /** Elementwise log(1 + x), accurate near 0 (torch.log1p). */
  log1p(): Tensor {
    return E.log1p(this);
  }
  /** Elementwise x * x (torch.square). */
  square(): Tensor {
    return E.mul(this, this);
  }
  /** Limits values to [min, max]; either bound may be omitted (torch.clamp). */
  clamp(min?: number, max?: number): Tensor {
    return C.clamp(this, min, max);
  }
  /** Gaussian error linear unit (torch.nn.functional.gelu). */
  gelu(): Tensor {
    return C.gelu(this);
  }
  /** Elementwise log(1 + e^x) (torch.nn.functional.softplus). */
  softplus(): Tensor {
    return C.softplus(this);
  }
  /** Casts to another dtype (differentiable between float dtypes). */
  to(dtype: DType): Tensor {
    return checkDType(dtype, 'to') === this.dtype ? this : E.cast(this, dtype);
  }
  /** Casts to float32 (torch.Tensor.float). */
  float(): Tensor {
    return this.to('float32');
  }
  /** Casts to float64 (torch.Tensor.double). */
  double(): Tensor {
    return this.to('float64');
  }

  // ---- reductions -----------------------------------------------------------
  /** Sum over `dim` (all dimensions when omitted) (torch.sum). */
  sum(dim?: Dim, keepdim = false): Tensor {
    return R.sum(this, dim, keepdim);
  }
  /** Mean over `dim` (all dimensions when omitted) (torch.mean). */
  mean(dim?: Dim, keepdim = false): Tensor {
    return R.mean(this, dim, keepdim);
  }
  /** Maximum over `dim` (all when omitted); values only, see `argmax` for indices (torch.amax). */
  max(dim?: Dim, keepdim = false): Tensor {
    return R.max(this, dim, keepdim);
  }
  /** Minimum over `dim` (all when omitted); values only, see `argmin` for indices (torch.amin). */
  min(dim?: Dim, keepdim = false): Tensor {
    return R.min(this, dim, keepdim);
  }
  /** Index of the maximum along `dim`, or into the flattened tensor when omitted (torch.argmax). */
  argmax(dim?: number, keepdim = false): Tensor {
    return R.argmax(this, dim, keepdim);
  }
  /** Index of the minimum along `dim`, or into the flattened tensor when omitted (torch.argmin). */
  argmin(dim?: number, keepdim = false): Tensor {
    return R.argmin(this, dim, keepdim);
  }
  /** Variance over `dim` with `correction` (1: Bessel's, unbiased) (torch.var). */
  var(dim?: Dim, keepdim = false, correction = 1): Tensor {
    return C.variance(this, dim, keepdim, correction);
  }
  /** Standard deviation over `dim` with `correction` (1: Bessel's, unbiased) (torch.std). */
  std(dim?: Dim, keepdim = false, correction = 1): Tensor {
    return C.std(this, dim, keepdim, correction);
  }
  /** log(sum(exp(x))) over `dim`, computed stably (torch.logsumexp). */
  logSumExp(dim?: Dim, keepdim = false): Tensor {
    return C.logSumExp(this, dim, keepdim);
  }
  /** Softmax along `dim` (torch.softmax). */
  softmax(dim = -1): Tensor {
    return C.softmax(this, dim);
  }
  /** Log of softmax along `dim`, computed stably (torch.log_softmax). */
  logSoftmax(dim = -1): Tensor {
    return C.logSoftmax(this, dim);
  }
  /** Inclusive cumulative sum along `dim` (like torch.cumsum). */
  cumsum(dim: number): Tensor {
    return cumsum(this, dim);
  }

  // ---- linear algebra and movement -------------------------------------------
  /** Matrix product with batch broadcasting (torch.matmul); `transA`/`transB` transpose the last two dims first. */
  matmul(o: Tensor, opts: { transA?: boolean; transB?: boolean } = {}): Tensor {
    return matmul(this, o, opts);
  }
  /** Same values in a new shape; one entry may be -1 (torch.reshape). */
  reshape(shape: readonly number[]): Tensor {
    return M.reshape(this, shape);
  }
  /** Merges dimensions `startDim`..`endDim` into one (torch.flatten). */
  flatten(startDim = 0, endDim = -1): Tensor {
    return M.flatten(this, startDim, endDim);
  }
  /** Reorders the dimensions (torch.permute). */
  permute(dims: readonly number[]): Tensor {
    return M.permute(this, dims);
  }
  /** Swaps two dimensions, the last two by default (torch.transpose). */
  transpose(d0 = -2, d1 = -1): Tensor {
    return M.transpose(this, d0, d1);
  }
  /** All dimensions reversed (torch.Tensor.T). */
  get T(): Tensor {
    return M.permute(
      this,
      this.shape.map((_, i) => this.ndim - 1 - i),
    );
  }
  /** Broadcasts size-1 dimensions to `shape` (torch.Tensor.expand). */
  expand(shape: readonly number[]): Tensor {
    return M.expand(this, shape);
  }
  /** Broadcasts to `shape`; same as `expand` (torch.broadcast_to). */
  broadcastTo(shape: readonly number[]): Tensor {
    return M.expand(this, shape);
  }
  /** Removes size-1 dimensions: all of them, or those in `dim` (torch.squeeze). */
  squeeze(dim?: Dim): Tensor {
    return M.squeeze(this, dim);
  }
  /** Inserts a size-1 dimension at `dim` (torch.unsqueeze). */
  unsqueeze(dim: number): Tensor {
    return M.unsqueeze(this, dim);
  }
  /** Python-style slicing, one `[start, stop, step]` or null per dimension (like `x[a:b:c, :]`). */
  slice(ranges: readonly M.SliceSpec[]): Tensor {
    return M.slice(this, ranges);
  }
  /** Pads each dimension by `[before, after]` with a constant, first pair = first dimension (NumPy's np.pad order). */
  pad(widths: readonly (readonly [number, number])[], value = 0): Tensor {
    return M.pad(this, widths, value);
  }
  /** Picks values along `dim` at `index` (torch.gather). */
  gather(dim: number, index: Tensor | readonly number[]): Tensor {
    return I.gather(this, dim, index);
  }
  /** Selects whole slices along `dim` at the given indices (torch.index_select). */
  indexSelect(dim: number, index: Tensor | readonly number[]): Tensor {
    return I.indexSelect(this, dim, index);
  }
  /** A copy with its own storage, differentiable (torch.clone). */
  clone(): Tensor {
    return E.cast(this, this.dtype);
  }

  // ---- issue 12: more math, activations, scans, sorting, masks, splitting (PyTorch names) ----
  /** Elementwise e^x - 1, accurate near 0 (torch.expm1). */
  expm1(): Tensor {
    return E.expm1(this);
  }
  /** Elementwise base-2 logarithm (torch.log2). */
  log2(): Tensor {
    return E.log2(this);
  }
  /** Elementwise base-10 logarithm (torch.log10). */
  log10(): Tensor {
    return E.log10(this);
  }
  /** Elementwise arctangent (torch.atan). */
  atan(): Tensor {
    return E.atan(this);
  }
  /** Elementwise arcsine (torch.asin). */
  asin(): Tensor {
    return E.asin(this);
  }
  /** Elementwise arccosine (torch.acos). */
  acos(): Tensor {
    return E.acos(this);
  }
  /** Elementwise atan2(this, other), the angle of (other, this), with broadcasting (torch.atan2). */
  atan2(other: TensorLike): Tensor {
    return E.atan2(this, other);
  }
  /** Elementwise floor; zero gradient (torch.floor). */
  floor(): Tensor {
    return E.floor(this);
  }
  /** Elementwise ceiling; zero gradient (torch.ceil). */
  ceil(): Tensor {
    return E.ceil(this);
  }
  /** Half to even, as torch.round; `decimals` rounds to that many decimal places. */
  round(decimals = 0): Tensor {
    return E.round(this, decimals);
  }
  /** Elementwise rounding toward zero; zero gradient (torch.trunc). */
  trunc(): Tensor {
    return E.trunc(this);
  }
  /** Elementwise tangent (torch.tan). */
  tan(): Tensor {
    return X.tan(this);
  }
  /** Elementwise hyperbolic sine (torch.sinh). */
  sinh(): Tensor {
    return X.sinh(this);
  }
  /** Elementwise hyperbolic cosine (torch.cosh). */
  cosh(): Tensor {
    return X.cosh(this);
  }
  /** Elementwise 1 / sqrt(x) (torch.rsqrt). */
  rsqrt(): Tensor {
    return X.rsqrt(this);
  }
  /** Elementwise 1 / x (torch.reciprocal). */
  reciprocal(): Tensor {
    return X.reciprocal(this);
  }
  /** Elementwise log(e^this + e^other), computed stably (torch.logaddexp). */
  logaddexp(other: TensorLike): Tensor {
    return X.logaddexp(this, other);
  }
  /** x where x > 0, else negativeSlope * x (torch.nn.functional.leaky_relu). */
  leakyRelu(negativeSlope = 0.01): Tensor {
    return X.leakyRelu(this, negativeSlope);
  }
  /** Exponential linear unit (torch.nn.functional.elu). */
  elu(alpha = 1): Tensor {
    return X.elu(this, alpha);
  }
  /** Scaled exponential linear unit (torch.nn.functional.selu). */
  selu(): Tensor {
    return X.selu(this);
  }
  /** x * sigmoid(x), a.k.a. swish (torch.nn.functional.silu). */
  silu(): Tensor {
    return X.silu(this);
  }
  /** x * tanh(softplus(x)) (torch.nn.functional.mish). */
  mish(): Tensor {
    return X.mish(this);
  }
  /** Clamps to [minVal, maxVal] (torch.nn.functional.hardtanh). */
  hardtanh(minVal = -1, maxVal = 1): Tensor {
    return X.hardtanh(this, minVal, maxVal);
  }
  /** Clamps to [0, 6] (torch.nn.functional.relu6). */
  relu6(): Tensor {
    return X.relu6(this);
  }
  /** log(sigmoid(x)), computed stably (torch.nn.functional.logsigmoid). */
  logSigmoid(): Tensor {
    return X.logSigmoid(this);
  }
  /** Gated linear unit: first half times sigmoid of the second half along `dim` (torch.nn.functional.glu). */
  glu(dim = -1): Tensor {
    return X.glu(this, dim);
  }
  /** Product over `dim` (all elements when omitted) (torch.prod). */
  prod(dim?: number, keepdim = false): Tensor {
    return X.prod(this, dim, keepdim);
  }
  /** Inclusive cumulative product along `dim` (torch.cumprod). */
  cumprod(dim: number): Tensor {
    return X.cumprod(this, dim);
  }
  /** Vector p-norm over `dim`, or the Frobenius norm by default (torch.linalg.norm / torch.norm). */
  norm(p: X.NormOrder = 'fro', dim?: Dim, keepdim = false): Tensor {
    return X.norm(this, p, dim, keepdim);
  }
  /** Sorted values and their indices along `dim` (torch.sort). */
  sort(dim = -1, descending = false): S.SortResult {
    return S.sort(this, dim, descending);
  }
  /** Indices that sort along `dim` (torch.argsort). */
  argsort(dim = -1, descending = false): Tensor {
    return S.argsort(this, dim, descending);
  }
  /** The `k` largest (or smallest) values and their indices along `dim` (torch.topk). */
  topk(k: number, dim = -1, largest = true, sorted = true): S.SortResult {
    return S.topk(this, k, dim, largest, sorted);
  }
  /** Keeps the lower triangle of the last two dims, zeroing the rest (torch.tril). */
  tril(diagonal = 0): Tensor {
    return X.tril(this, diagonal);
  }
  /** Keeps the upper triangle of the last two dims, zeroing the rest (torch.triu). */
  triu(diagonal = 0): Tensor {
    return X.triu(this, diagonal);
  }
  /** `value` where `mask` is non-zero, else this tensor's values; mask broadcasts (torch.Tensor.masked_fill). */
  maskedFill(mask: Tensor, value: TensorLike): Tensor {
    return X.maskedFill(this, mask, value);
  }
  /** Splits along `dim` into pieces of a given size, or of the listed sizes (torch.split). */
  split(splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] {
    return X.split(this, splitSizeOrSections, dim);
  }
  /** At most `chunks` pieces of size ceil(n / chunks) along `dim` (torch.chunk). */
  chunk(chunks: number, dim = 0): Tensor[] {
    return X.chunk(this, chunks, dim);
  }
  /** The slices along `dim`, with that dimension removed (torch.unbind). */
  unbind(dim = 0): Tensor[] {
    return X.unbind(this, dim);
  }
  /** `x.repeat(2, 3)` or `x.repeat([2, 3])`, as torch.Tensor.repeat. */
  repeat(...repeats: number[] | [readonly number[]]): Tensor {
    return X.repeat(this, dimsArg(repeats));
  }
  /** Repeats the tensor along each dimension, prepending ones to `dims` when shorter (torch.tile). */
  tile(...dims: number[] | [readonly number[]]): Tensor {
    return X.tile(this, dimsArg(dims));
  }
  /** Reverses the order along the given dimensions (torch.flip). */
  flip(dims: Dim): Tensor {
    return X.flip(this, dims);
  }
  /** Shifts elements circularly along `dims` (the flattened tensor when omitted) (torch.roll). */
  roll(shifts: number | readonly number[], dims?: Dim): Tensor {
    return X.roll(this, shifts, dims);
  }
  /** 1 where the value is NaN, else 0 (torch.isnan). */
  isnan(): Tensor {
    return C.isnan(this);
  }
  /** 1 where the value is +/-Infinity, else 0 (torch.isinf). */
  isinf(): Tensor {
    return C.isinf(this);
  }
  /** 1 where the value is neither NaN nor infinite, else 0 (torch.isfinite). */
  isfinite(): Tensor {
    return C.isfinite(this);
  }
}
/** Varargs or one array, as PyTorch's `*sizes`. */
const dimsArg = (a: number[] | [readonly number[]]): readonly number[] =>
  (a.length === 1 && Array.isArray(a[0]) ? a[0] : a) as readonly number[];

// ---- creation -------------------------------------------------------------
/** Options for tensor creation functions. */
export interface TensorOptions {
  /** Element type. Default 'float32' (in `tensor()`, a typed array's own dtype). */
  dtype?: DType;
  /** Whether the new tensor records gradients. Default false. */
  requiresGrad?: boolean;
}
/** Options for `tensor()`: those of `TensorOptions` plus a target shape. */
export interface FromArrayOptions extends TensorOptions {
  /** Required with a flat typed array or number[] that is not already nested. */
  shape?: readonly number[];
}

/** Deeper nesting than this is refused (PyTorch's limit on dimensions is 64 as well). */
const MAX_RANK = 64;
function inferShape(v: NestedArray, op: string): number[] {
  const shape: number[] = [];
  let cur: NestedArray = v;
  while (Array.isArray(cur)) {
    if (shape.length === MAX_RANK)
      throw new ShapeError(`${op}: nested array is deeper than ${MAX_RANK} levels (at most ${MAX_RANK} dimensions)`);
    shape.push(cur.length);
    cur = (cur as readonly NestedArray[])[0] as NestedArray;
    if (cur === undefined) break;
  }
  if (cur !== undefined && typeof cur !== 'number')
    throw new ValueError(`${op}: nested arrays must hold numbers, got ${typeof cur}`);
  return shape;
}

function fill(v: NestedArray, shape: readonly number[], out: TypedArray, op: string): void {
  let k = 0;
  const walk = (x: NestedArray, axis: number): void => {
    if (axis === shape.length) {
      if (typeof x !== 'number')
        throw new ShapeError(`${op}: ragged nested array (expected a number at depth ${axis})`);
      out[k++] = x;
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[axis]) {
      throw new ShapeError(
        `${op}: ragged nested array: expected length ${shape[axis]} at depth ${axis}, got ${Array.isArray(x) ? x.length : typeof x}`,
      );
    }
    for (const e of x as readonly NestedArray[]) walk(e, axis + 1);
  };
  walk(v, 0);
}

const CREATE_KEYS = ['dtype', 'requiresGrad'];
const FROM_ARRAY_KEYS = ['dtype', 'requiresGrad', 'shape'];

/** The numbers of a nested array in row-major order, before they are stored (int32 storage would wrap them). */
function flatValues(v: NestedArray, n: number): number[] {
  const out: number[] = [];
  const stack: NestedArray[] = [v];
  while (stack.length && out.length <= n) {
    const x = stack.pop()!;
    if (typeof x === 'number') out.push(x);
    else for (let i = x.length - 1; i >= 0; i--) stack.push(x[i]!);
  }
  return out;
}

function finish(t: Tensor, opts: TensorOptions): Tensor {
  if (opts.requiresGrad) {
    if (t.dtype === 'int32') throw new DTypeError('tensor: only float tensors can require gradients, got int32');
    t.requiresGrad = true;
  }
  return t;
}

/**
 * Creates a tensor from a number, a nested array, or a typed array (taken without copying
 * when its dtype matches; give `shape` for a flat array).
 */
export function tensor(values: NestedArray | TypedArray | NarrowIntArray, opts: FromArrayOptions = {}): Tensor {
  checkOptions('tensor', opts, FROM_ARRAY_KEYS);
  if (opts.dtype !== undefined) checkDType(opts.dtype, 'tensor');
  if (opts.shape !== undefined) checkShape(opts.shape, 'tensor');
  if (ArrayBuffer.isView(values)) {
    const shape = opts.shape ?? [(values as TypedArray).length];
    const kind = arrayKind(values);
    const native = kind === 'Float32Array' || kind === 'Float64Array' || kind === 'Int32Array';
    if (!native && !CONVERTIBLE_ARRAYS.includes(kind)) {
      throw new DTypeError(
        `tensor: unsupported typed array ${kind} (expected Float32Array, Float64Array, Int32Array, or a ` +
          `narrower integer array: ${CONVERTIBLE_ARRAYS.join(', ')}; 64-bit integers are not supported)`,
      );
    }
    const src = values as unknown as ArrayLike<number>;
    const dtype = opts.dtype ?? (native ? dtypeOfArray(values as TypedArray) : 'int32');
    if (dtype === 'int32') checkInt32Values('tensor', src);
    const same = native && dtype === dtypeOfArray(values as TypedArray);
    const data = same ? (values as TypedArray) : allocate(dtype, src.length);
    if (!same) for (let i = 0; i < src.length; i++) data[i] = src[i]!;
    return finish(new Tensor(data, shape), opts);
  }
  const dtype = checkDType(opts.dtype ?? 'float32', 'tensor');
  if (typeof values !== 'number' && !Array.isArray(values)) {
    throw new ValueError(
      `tensor: values must be a number, a nested array of numbers or a typed array, got ${describeValue(values)}`,
    );
  }
  const inferred = inferShape(values, 'tensor');
  checkShape(inferred, 'tensor');
  const data = allocate(dtype, sizeOf(inferred));
  fill(values, inferred, data, 'tensor');
  if (dtype === 'int32') checkInt32Values('tensor', flatValues(values, data.length));
  let shape: readonly number[] = inferred;
  if (opts.shape) {
    if (sizeOf(opts.shape) !== data.length)
      throw new ShapeError(`tensor: ${data.length} values do not fit shape ${fmt(opts.shape)}`);
    shape = opts.shape;
  }
  return finish(new Tensor(data, shape), opts);
}

/** A tensor of `shape` filled with `value` (torch.full). */
export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  return fullAs('full', shape, value, opts);
}
function fullAs(op: string, shape: readonly number[], value: number, opts: TensorOptions): Tensor {
  checkOptions(op, opts, CREATE_KEYS);
  checkShape(shape, op);
  const dtype = checkDType(opts.dtype ?? 'float32', op);
  if (typeof value !== 'number')
    throw new ValueError(`${op}: fill value must be a number, got ${describeValue(value)}`);
  if (dtype === 'int32') checkInt32Values(op, [value]);
  const data = allocate(dtype, sizeOf(shape));
  if (value !== 0) data.fill(value);
  return finish(new Tensor(data, shape), opts);
}
/** A tensor of `shape` filled with 0 (torch.zeros). */
export const zeros = (shape: readonly number[], opts: TensorOptions = {}): Tensor => fullAs('zeros', shape, 0, opts);
/** A tensor of `shape` filled with 1 (torch.ones). */
export const ones = (shape: readonly number[], opts: TensorOptions = {}): Tensor => fullAs('ones', shape, 1, opts);
/** Zeros with the shape and dtype of `t` (torch.zeros_like). */
export const zerosLike = (t: Tensor, opts: TensorOptions = {}): Tensor => full(t.shape, 0, { dtype: t.dtype, ...opts });
/** Ones with the shape and dtype of `t` (torch.ones_like). */
export const onesLike = (t: Tensor, opts: TensorOptions = {}): Tensor => full(t.shape, 1, { dtype: t.dtype, ...opts });
/** A 0-d tensor holding `v`. */
export const scalar = (v: number, opts: TensorOptions = {}): Tensor => full([], v, opts);

/** Values from `start` to `stop` (exclusive) by `step`, like numpy.arange. */
export function arange(start: number, stop?: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  checkOptions('arange', opts, CREATE_KEYS);
  if (step === 0 || !Number.isFinite(step))
    throw new ValueError(`arange: step must be a finite non-zero number, got ${step}`);
  if (!Number.isFinite(start) || !Number.isFinite(stop))
    throw new ValueError(`arange: start and stop must be finite numbers, got ${start} and ${stop}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  checkShape([n], 'arange');
  const dtype = checkDType(opts.dtype ?? 'float32', 'arange');
  if (dtype === 'int32') checkInt32Values('arange', [start, start + (n - 1) * step].slice(0, n === 0 ? 0 : 2));
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return finish(new Tensor(data, [n]), opts);
}

/** `num` evenly spaced values from `start` to `stop`, both included (torch.linspace). */
export function linspace(start: number, stop: number, num: number, opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(num) || num < 0)
    throw new ValueError(`linspace: num must be a non-negative integer, got ${num}`);
  checkOptions('linspace', opts, CREATE_KEYS);
  if (!Number.isFinite(start) || !Number.isFinite(stop))
    throw new ValueError(`linspace: start and stop must be finite numbers, got ${start} and ${stop}`);
  checkShape([num], 'linspace');
  const data = allocate(checkDType(opts.dtype ?? 'float32', 'linspace'), num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) data[i] = i === num - 1 && num > 1 ? stop : start + i * step;
  return finish(new Tensor(data, [num]), opts);
}

/** An n×m matrix with ones on the diagonal (torch.eye). */
export function eye(n: number, m = n, opts: TensorOptions = {}): Tensor {
  const t = zeros([n, m], opts);
  for (let i = 0; i < Math.min(n, m); i++) t.data[i * m + i] = 1;
  return t;
}

/** Converts a number to a 0-d tensor of `dtype`; passes tensors through. */
export function asTensor(v: TensorLike, dtype: DType, op?: string, name = 'operand'): Tensor {
  if (v instanceof Tensor) return v;
  if (typeof v !== 'number') throw notATensor(op ?? 'tensor', name, v, true);
  if (dtype === 'int32') checkInt32Values(op ?? 'tensor', [v]);
  const d = allocate(dtype, 1);
  d[0] = v;
  return new Tensor(d, []);
}

/** The error for an argument that should be a Tensor (or a number, with `numberOk`), recognising tensors of another copy. */
export function notATensor(op: string, name: string, v: unknown, numberOk = false): ValueError {
  const want = numberOk ? 'a Tensor or a number' : 'a Tensor';
  if (isForeignTensor(v)) {
    return new ValueError(
      `${op}: ${name} is a Tensor from a different copy of tapegrad (two installs of the package, ` +
        `or a bundled copy); tensors cannot be mixed across copies: dedupe the dependency (npm ls tapegrad)`,
    );
  }
  return new ValueError(`${op}: ${name} must be ${want}, got ${describeValue(v)}`);
}
/** Checks that an op's argument is a Tensor of this copy of tapegrad. */
export function expectTensor(op: string, name: string, v: unknown): Tensor {
  if (v instanceof Tensor) return v;
  throw notATensor(op, name, v);
}
