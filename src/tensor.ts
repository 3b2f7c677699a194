import { allocate, checkDType, dtypeOfArray, type DType, type TypedArray } from './dtype.js';
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
import { backward, type BackwardOptions } from './autograd/backward.js';

export type { DType, TypedArray } from './dtype.js';
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
  toString(): string {
    return `Tensor(${JSON.stringify(this.toArray())}, shape=${fmt(this.shape)}, dtype=${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
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
}

// ---- creation -------------------------------------------------------------
export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}
export interface FromArrayOptions extends TensorOptions {
  /** Required with a flat typed array or number[] that is not already nested. */
  shape?: readonly number[];
}

function inferShape(v: NestedArray, op: string): number[] {
  const shape: number[] = [];
  let cur: NestedArray = v;
  while (Array.isArray(cur)) {
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
export function tensor(values: NestedArray | TypedArray, opts: FromArrayOptions = {}): Tensor {
  if (ArrayBuffer.isView(values)) {
    const shape = opts.shape ?? [values.length];
    const dtype = opts.dtype ?? dtypeOfArray(values);
    const data = dtype === dtypeOfArray(values) ? values : allocate(dtype, values.length).map((_, i) => values[i]!);
    return finish(new Tensor(data as TypedArray, shape), opts);
  }
  const dtype = checkDType(opts.dtype ?? 'float32', 'tensor');
  const inferred = inferShape(values, 'tensor');
  const data = allocate(dtype, sizeOf(inferred));
  fill(values, inferred, data, 'tensor');
  let shape: readonly number[] = inferred;
  if (opts.shape) {
    if (sizeOf(opts.shape) !== data.length) throw new ShapeError(`tensor: ${data.length} values do not fit shape ${fmt(opts.shape)}`);
    shape = opts.shape;
  }
  return finish(new Tensor(data, shape), opts);
}

export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  checkShape(shape, 'full');
  const data = allocate(opts.dtype ?? 'float32', sizeOf(shape));
  if (value !== 0) data.fill(value);
  return finish(new Tensor(data, shape), opts);
}
export const zeros = (shape: readonly number[], opts: TensorOptions = {}): Tensor => full(shape, 0, opts);
export const ones = (shape: readonly number[], opts: TensorOptions = {}): Tensor => full(shape, 1, opts);
export const zerosLike = (t: Tensor, opts: TensorOptions = {}): Tensor => full(t.shape, 0, { dtype: t.dtype, ...opts });
export const onesLike = (t: Tensor, opts: TensorOptions = {}): Tensor => full(t.shape, 1, { dtype: t.dtype, ...opts });
export const scalar = (v: number, opts: TensorOptions = {}): Tensor => full([], v, opts);

/** Values from `start` to `stop` (exclusive) by `step`, like numpy.arange. */
export function arange(start: number, stop?: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0 || !Number.isFinite(step)) throw new ValueError(`arange: step must be a finite non-zero number, got ${step}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const data = allocate(opts.dtype ?? 'float32', n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return finish(new Tensor(data, [n]), opts);
}

export function linspace(start: number, stop: number, num: number, opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(num) || num < 0) throw new ValueError(`linspace: num must be a non-negative integer, got ${num}`);
  const data = allocate(opts.dtype ?? 'float32', num);
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
export function asTensor(v: TensorLike, dtype: DType): Tensor {
  if (v instanceof Tensor) return v;
  if (typeof v !== 'number') throw new ValueError(`expected a Tensor or a number, got ${typeof v}`);
  const d = allocate(dtype, 1);
  d[0] = v;
  return new Tensor(d, []);
}
