import {
  allocate, arrayKind, checkDType, CONVERTIBLE_ARRAYS, dtypeOfArray, type DType, type NarrowIntArray, type TypedArray,
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
export type NestedArray = number | readonly NestedArray[];
export type TensorLike = Tensor | number;
export type Dim = number | readonly number[];

/** Storage that lives off the CPU (e.g. a GPU texture); read back lazily. */
export type DeviceBuffer = DeviceStorage;

/**
 * A dense, contiguous, row-major n-d array that can record its history on the tape.
 * Create tensors with `tensor`, `zeros`, `randn`, … rather than this constructor.
 */
export class Tensor {
  readonly shape: readonly number[];
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
  get size(): number {
    return sizeOf(this.shape);
  }
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
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item: tensor of shape ${fmt(this.shape)} has ${this.size} elements, expected exactly 1`);
    return this.data[0]!;
  }
  /** PyTorch-style printout: values (summarised past a threshold), shape, dtype, device, requiresGrad or op. */
  toString(): string {
    return formatTensor(this.#device ? this.#device.read() : this.#data!, {
      shape: this.shape, dtype: this.dtype, device: this.#device?.device ?? 'cpu',
      requiresGrad: this.requiresGrad, op: this.node?.op,
    });
  }
  /** What `console.log` and `util.inspect` show: the same as `toString()`. */
  [inspectSymbol](): string {
    return this.toString();
  }

  // ---- autograd -------------------------------------------------------------
  backward(gradOutput?: TensorLike, opts: BackwardOptions = {}): void {
    backward(this, gradOutput, opts);
  }
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
    if (this.node !== null && !flag) throw new ValueError('requiresGrad_: cannot turn off gradients of a non-leaf tensor; use detach()');
    this.requiresGrad = flag;
    return this;
  }
  /** Asks backward() to store this non-leaf's gradient in `.grad` too. */
  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  // ---- elementwise ----------------------------------------------------------
  add(o: TensorLike): Tensor { return E.add(this, o); }
  sub(o: TensorLike): Tensor { return E.sub(this, o); }
  mul(o: TensorLike): Tensor { return E.mul(this, o); }
  div(o: TensorLike): Tensor { return E.div(this, o); }
  pow(o: TensorLike): Tensor { return E.pow(this, o); }
  maximum(o: TensorLike): Tensor { return E.maximum(this, o); }
  minimum(o: TensorLike): Tensor { return E.minimum(this, o); }
  eq(o: TensorLike): Tensor { return E.eq(this, o); }
  ne(o: TensorLike): Tensor { return E.ne(this, o); }
  lt(o: TensorLike): Tensor { return E.lt(this, o); }
  le(o: TensorLike): Tensor { return E.le(this, o); }
  gt(o: TensorLike): Tensor { return E.gt(this, o); }
  ge(o: TensorLike): Tensor { return E.ge(this, o); }
  neg(): Tensor { return E.neg(this); }
  exp(): Tensor { return E.exp(this); }
  log(): Tensor { return E.log(this); }
  sqrt(): Tensor { return E.sqrt(this); }
  abs(): Tensor { return E.abs(this); }
  tanh(): Tensor { return E.tanh(this); }
  sigmoid(): Tensor { return E.sigmoid(this); }
  relu(): Tensor { return E.relu(this); }
  sign(): Tensor { return E.sign(this); }
  sin(): Tensor { return E.sin(this); }
  cos(): Tensor { return E.cos(this); }
  erf(): Tensor { return E.erf(this); }
  log1p(): Tensor { return E.log1p(this); }
  square(): Tensor { return E.mul(this, this); }
  clamp(min?: number, max?: number): Tensor { return C.clamp(this, min, max); }
  gelu(): Tensor { return C.gelu(this); }
  softplus(): Tensor { return C.softplus(this); }
  /** Casts to another dtype (differentiable between float dtypes). */
  to(dtype: DType): Tensor { return checkDType(dtype, 'to') === this.dtype ? this : E.cast(this, dtype); }
  float(): Tensor { return this.to('float32'); }
  double(): Tensor { return this.to('float64'); }

  // ---- reductions -----------------------------------------------------------
  sum(dim?: Dim, keepdim = false): Tensor { return R.sum(this, dim, keepdim); }
  mean(dim?: Dim, keepdim = false): Tensor { return R.mean(this, dim, keepdim); }
  max(dim?: Dim, keepdim = false): Tensor { return R.max(this, dim, keepdim); }
  min(dim?: Dim, keepdim = false): Tensor { return R.min(this, dim, keepdim); }
  argmax(dim?: number, keepdim = false): Tensor { return R.argmax(this, dim, keepdim); }
  argmin(dim?: number, keepdim = false): Tensor { return R.argmin(this, dim, keepdim); }
  var(dim?: Dim, keepdim = false, correction = 1): Tensor { return C.variance(this, dim, keepdim, correction); }
  std(dim?: Dim, keepdim = false, correction = 1): Tensor { return C.std(this, dim, keepdim, correction); }
  logSumExp(dim?: Dim, keepdim = false): Tensor { return C.logSumExp(this, dim, keepdim); }
  softmax(dim = -1): Tensor { return C.softmax(this, dim); }
  logSoftmax(dim = -1): Tensor { return C.logSoftmax(this, dim); }
  /** Inclusive cumulative sum along `dim` (like torch.cumsum). */
  cumsum(dim: number): Tensor { return cumsum(this, dim); }

  // ---- linear algebra and movement -------------------------------------------
  matmul(o: Tensor, opts: { transA?: boolean; transB?: boolean } = {}): Tensor { return matmul(this, o, opts); }
  reshape(shape: readonly number[]): Tensor { return M.reshape(this, shape); }
  flatten(startDim = 0, endDim = -1): Tensor { return M.flatten(this, startDim, endDim); }
  permute(dims: readonly number[]): Tensor { return M.permute(this, dims); }
  transpose(d0 = -2, d1 = -1): Tensor { return M.transpose(this, d0, d1); }
  get T(): Tensor { return M.permute(this, this.shape.map((_, i) => this.ndim - 1 - i)); }
  expand(shape: readonly number[]): Tensor { return M.expand(this, shape); }
  broadcastTo(shape: readonly number[]): Tensor { return M.expand(this, shape); }
  squeeze(dim?: Dim): Tensor { return M.squeeze(this, dim); }
  unsqueeze(dim: number): Tensor { return M.unsqueeze(this, dim); }
  slice(ranges: readonly M.SliceSpec[]): Tensor { return M.slice(this, ranges); }
  pad(widths: readonly (readonly [number, number])[], value = 0): Tensor { return M.pad(this, widths, value); }
  gather(dim: number, index: Tensor | readonly number[]): Tensor { return I.gather(this, dim, index); }
  indexSelect(dim: number, index: Tensor | readonly number[]): Tensor { return I.indexSelect(this, dim, index); }
  clone(): Tensor { return E.cast(this, this.dtype); }

  // ---- issue 12: more math, activations, scans, sorting, masks, splitting (PyTorch names) ----
  expm1(): Tensor { return E.expm1(this); }
  log2(): Tensor { return E.log2(this); }
  log10(): Tensor { return E.log10(this); }
  atan(): Tensor { return E.atan(this); }
  asin(): Tensor { return E.asin(this); }
  acos(): Tensor { return E.acos(this); }
  atan2(other: TensorLike): Tensor { return E.atan2(this, other); }
  floor(): Tensor { return E.floor(this); }
  ceil(): Tensor { return E.ceil(this); }
  /** Half to even, as torch.round; `decimals` rounds to that many decimal places. */
  round(decimals = 0): Tensor { return E.round(this, decimals); }
  trunc(): Tensor { return E.trunc(this); }
  tan(): Tensor { return X.tan(this); }
  sinh(): Tensor { return X.sinh(this); }
  cosh(): Tensor { return X.cosh(this); }
  rsqrt(): Tensor { return X.rsqrt(this); }
  reciprocal(): Tensor { return X.reciprocal(this); }
  logaddexp(other: TensorLike): Tensor { return X.logaddexp(this, other); }
  leakyRelu(negativeSlope = 0.01): Tensor { return X.leakyRelu(this, negativeSlope); }
  elu(alpha = 1): Tensor { return X.elu(this, alpha); }
  selu(): Tensor { return X.selu(this); }
  silu(): Tensor { return X.silu(this); }
  mish(): Tensor { return X.mish(this); }
  hardtanh(minVal = -1, maxVal = 1): Tensor { return X.hardtanh(this, minVal, maxVal); }
  relu6(): Tensor { return X.relu6(this); }
  logSigmoid(): Tensor { return X.logSigmoid(this); }
  glu(dim = -1): Tensor { return X.glu(this, dim); }
  prod(dim?: number, keepdim = false): Tensor { return X.prod(this, dim, keepdim); }
  cumprod(dim: number): Tensor { return X.cumprod(this, dim); }
  norm(p: X.NormOrder = 'fro', dim?: Dim, keepdim = false): Tensor { return X.norm(this, p, dim, keepdim); }
  sort(dim = -1, descending = false): S.SortResult { return S.sort(this, dim, descending); }
  argsort(dim = -1, descending = false): Tensor { return S.argsort(this, dim, descending); }
  topk(k: number, dim = -1, largest = true, sorted = true): S.SortResult {
    return S.topk(this, k, dim, largest, sorted);
  }
  tril(diagonal = 0): Tensor { return X.tril(this, diagonal); }
  triu(diagonal = 0): Tensor { return X.triu(this, diagonal); }
  maskedFill(mask: Tensor, value: TensorLike): Tensor { return X.maskedFill(this, mask, value); }
  split(splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] {
    return X.split(this, splitSizeOrSections, dim);
  }
  chunk(chunks: number, dim = 0): Tensor[] { return X.chunk(this, chunks, dim); }
  unbind(dim = 0): Tensor[] { return X.unbind(this, dim); }
  /** `x.repeat(2, 3)` or `x.repeat([2, 3])`, as torch.Tensor.repeat. */
  repeat(...repeats: number[] | [readonly number[]]): Tensor { return X.repeat(this, dimsArg(repeats)); }
  tile(...dims: number[] | [readonly number[]]): Tensor { return X.tile(this, dimsArg(dims)); }
  flip(dims: Dim): Tensor { return X.flip(this, dims); }
  roll(shifts: number | readonly number[], dims?: Dim): Tensor { return X.roll(this, shifts, dims); }
  isnan(): Tensor { return C.isnan(this); }
  isinf(): Tensor { return C.isinf(this); }
  isfinite(): Tensor { return C.isfinite(this); }
}
/** Varargs or one array, as PyTorch's `*sizes`. */
const dimsArg = (a: number[] | [readonly number[]]): readonly number[] =>
  (a.length === 1 && Array.isArray(a[0]) ? a[0] : a) as readonly number[];

// ---- creation -------------------------------------------------------------
export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}
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
    if (shape.length === MAX_RANK) throw new ShapeError(`${op}: nested array is deeper than ${MAX_RANK} levels (at most ${MAX_RANK} dimensions)`);
    shape.push(cur.length);
    cur = (cur as readonly NestedArray[])[0] as NestedArray;
    if (cur === undefined) break;
  }
  if (cur !== undefined && typeof cur !== 'number') throw new ValueError(`${op}: nested arrays must hold numbers, got ${typeof cur}`);
  return shape;
}

function fill(v: NestedArray, shape: readonly number[], out: TypedArray, op: string): void {
  let k = 0;
  const walk = (x: NestedArray, axis: number): void => {
    if (axis === shape.length) {
      if (typeof x !== 'number') throw new ShapeError(`${op}: ragged nested array (expected a number at depth ${axis})`);
      out[k++] = x;
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[axis]) {
      throw new ShapeError(`${op}: ragged nested array: expected length ${shape[axis]} at depth ${axis}, got ${Array.isArray(x) ? x.length : typeof x}`);
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
      throw new DTypeError(`tensor: unsupported typed array ${kind} (expected Float32Array, Float64Array, Int32Array, or a ` +
        `narrower integer array: ${CONVERTIBLE_ARRAYS.join(', ')}; 64-bit integers are not supported)`);
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
    throw new ValueError(`tensor: values must be a number, a nested array of numbers or a typed array, got ${describeValue(values)}`);
  }
  const inferred = inferShape(values, 'tensor');
  checkShape(inferred, 'tensor');
  const data = allocate(dtype, sizeOf(inferred));
  fill(values, inferred, data, 'tensor');
  if (dtype === 'int32') checkInt32Values('tensor', flatValues(values, data.length));
  let shape: readonly number[] = inferred;
  if (opts.shape) {
    if (sizeOf(opts.shape) !== data.length) throw new ShapeError(`tensor: ${data.length} values do not fit shape ${fmt(opts.shape)}`);
    shape = opts.shape;
  }
  return finish(new Tensor(data, shape), opts);
}

export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  return fullAs('full', shape, value, opts);
}
function fullAs(op: string, shape: readonly number[], value: number, opts: TensorOptions): Tensor {
  checkOptions(op, opts, CREATE_KEYS);
  checkShape(shape, op);
  const dtype = checkDType(opts.dtype ?? 'float32', op);
  if (typeof value !== 'number') throw new ValueError(`${op}: fill value must be a number, got ${describeValue(value)}`);
  if (dtype === 'int32') checkInt32Values(op, [value]);
  const data = allocate(dtype, sizeOf(shape));
  if (value !== 0) data.fill(value);
  return finish(new Tensor(data, shape), opts);
}
export const zeros = (shape: readonly number[], opts: TensorOptions = {}): Tensor => fullAs('zeros', shape, 0, opts);
export const ones = (shape: readonly number[], opts: TensorOptions = {}): Tensor => fullAs('ones', shape, 1, opts);
export const zerosLike = (t: Tensor, opts: TensorOptions = {}): Tensor => full(t.shape, 0, { dtype: t.dtype, ...opts });
export const onesLike = (t: Tensor, opts: TensorOptions = {}): Tensor => full(t.shape, 1, { dtype: t.dtype, ...opts });
export const scalar = (v: number, opts: TensorOptions = {}): Tensor => full([], v, opts);

/** Values from `start` to `stop` (exclusive) by `step`, like numpy.arange. */
export function arange(start: number, stop?: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  checkOptions('arange', opts, CREATE_KEYS);
  if (step === 0 || !Number.isFinite(step)) throw new ValueError(`arange: step must be a finite non-zero number, got ${step}`);
  if (!Number.isFinite(start) || !Number.isFinite(stop)) throw new ValueError(`arange: start and stop must be finite numbers, got ${start} and ${stop}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  checkShape([n], 'arange');
  const dtype = checkDType(opts.dtype ?? 'float32', 'arange');
  if (dtype === 'int32') checkInt32Values('arange', [start, start + (n - 1) * step].slice(0, n === 0 ? 0 : 2));
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return finish(new Tensor(data, [n]), opts);
}

export function linspace(start: number, stop: number, num: number, opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(num) || num < 0) throw new ValueError(`linspace: num must be a non-negative integer, got ${num}`);
  checkOptions('linspace', opts, CREATE_KEYS);
  if (!Number.isFinite(start) || !Number.isFinite(stop)) throw new ValueError(`linspace: start and stop must be finite numbers, got ${start} and ${stop}`);
  checkShape([num], 'linspace');
  const data = allocate(checkDType(opts.dtype ?? 'float32', 'linspace'), num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) data[i] = i === num - 1 && num > 1 ? stop : start + i * step;
  return finish(new Tensor(data, [num]), opts);
}

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
    return new ValueError(`${op}: ${name} is a Tensor from a different copy of tapegrad (two installs of the package, ` +
      `or a bundled copy); tensors cannot be mixed across copies: dedupe the dependency (npm ls tapegrad)`);
  }
  return new ValueError(`${op}: ${name} must be ${want}, got ${describeValue(v)}`);
}
/** Checks that an op's argument is a Tensor of this copy of tapegrad. */
export function expectTensor(op: string, name: string, v: unknown): Tensor {
  if (v instanceof Tensor) return v;
  throw notATensor(op, name, v);
}
