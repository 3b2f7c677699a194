/**
 * The backend contract, over buffers: a kernel reads `BufferView`s (a typed array or device
 * storage, with dtype and shape) and returns a `Buf`. Nothing here knows Tensor, the tape or
 * optim/; `ops/define.ts` is the one place a kernel result becomes a Tensor.
 *
 * `KernelSigs` is the list of primitives: `Primitive = keyof KernelSigs`. Every backend's kernel
 * table is typed `{ [P in Primitive]: … }`, so a primitive without a kernel does not compile.
 */
import type { DType, TypedArray } from '../dtype.js';
import type { Shape } from '../shape.js';
import type { Buf, BufferView } from './buffer.js';

export type { Buf, BufferView, DeviceStorage } from './buffer.js';
export type UnaryOp =
  | 'neg'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'abs'
  | 'tanh'
  | 'sigmoid'
  | 'relu'
  | 'sign'
  | 'sin'
  | 'cos'
  | 'erf'
  | 'log1p'
  | 'expm1'
  | 'atan'
  | 'asin'
  | 'acos'
  | 'floor'
  | 'ceil'
  | 'round'
  | 'trunc'
  | 'log2'
  | 'log10';
export type BinaryOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'maximum'
  | 'minimum'
  | 'eq'
  | 'ne'
  | 'lt'
  | 'le'
  | 'gt'
  | 'ge'
  | 'atan2';
export type ReduceOp = 'sum' | 'max' | 'min';
export type ArgReduceOp = 'argmax' | 'argmin';

type In = BufferView;

/** The geometry of one 2-D convolution: input x [N, C, H, W] → output [N, O, Ho, Wo] through k = [kh, kw]. */
export interface ConvGeom {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly kh: number;
  readonly kw: number;
  readonly ho: number;
  readonly wo: number;
  readonly sh: number;
  readonly sw: number;
  /** Padding before (top, left); padding after is implied by ho, wo. */
  readonly ph: number;
  readonly pw: number;
  readonly dh: number;
  readonly dw: number;
  readonly groups: number;
}
/** The geometry of a 2-D pooling window over x [N·C planes, H, W]. */
export interface PoolGeom {
  readonly planes: number;
  readonly h: number;
  readonly w: number;
  readonly kh: number;
  readonly kw: number;
  readonly ho: number;
  readonly wo: number;
  readonly sh: number;
  readonly sw: number;
  readonly ph: number;
  readonly pw: number;
  readonly dh: number;
  readonly dw: number;
}

/** One kernel signature per primitive. Output shapes are computed (and validated) by the op before the call. */
export type KernelSigs = { readonly [P in UnaryOp]: (x: In) => Buf } & {
  /** Elementwise with NumPy broadcasting to `outShape`. Comparisons return 0/1 in the input dtype. */
  readonly [P in BinaryOp]: (a: In, b: In, outShape: Shape) => Buf;
} & {
  /** Reduces over sorted distinct `axes`; the output keeps them as size-1 dims. */
  readonly [P in ReduceOp]: (x: In, axes: readonly number[]) => Buf;
} & {
  /** Index of the max/min along one axis (first on ties), kept as size 1, int32. */
  readonly [P in ArgReduceOp]: (x: In, axis: number) => Buf;
} & {
  readonly where: (cond: In, a: In, b: In, outShape: Shape) => Buf;
  readonly cast: (x: In, dtype: DType) => Buf;
  /**
   * op(a) @ op(b) with broadcast batch dims, where op transposes the last two axes when
   * `transA`/`transB` is set (read through strides, never copied). Both inputs have rank ≥ 2.
   */
  readonly matmul: (a: In, b: In, outShape: Shape, transA: boolean, transB: boolean) => Buf;
  /** The same storage under another shape (no copy). */
  readonly reshape: (x: In, shape: Shape) => Buf;
  readonly permute: (x: In, perm: readonly number[]) => Buf;
  /** Materialises a broadcast of `x` to `shape`. */
  readonly expand: (x: In, shape: Shape) => Buf;
  /** out[i] = x[start + i*step] per axis. */
  readonly slice: (x: In, starts: readonly number[], steps: readonly number[], outShape: Shape) => Buf;
  /** The adjoint of slice: zeros of `shape` with `src` written at start + i*step. */
  readonly sliceScatter: (src: In, shape: Shape, starts: readonly number[], steps: readonly number[]) => Buf;
  readonly concat: (xs: readonly In[], axis: number, outShape: Shape) => Buf;
  /** out[…i…] = x[…index[…i…]…] along `axis`; index has the output's shape. */
  readonly gather: (x: In, axis: number, index: In) => Buf;
  /** zeros(shape) then out[…index[…i…]…] += src[…i…] along `axis`. */
  readonly scatterAdd: (shape: Shape, axis: number, index: In, src: In) => Buf;
  /** Inclusive prefix sum along `axis` (same shape). */
  readonly cumsum: (x: In, axis: number) => Buf;
  // Fused hot composites (ops/fused.ts); each composite stays as the test oracle.
  /** exp(x − max) / Σ exp(x − max) along `axis` (same shape). */
  readonly softmax: (x: In, axis: number) => Buf;
  /** x − max − log Σ exp(x − max) along `axis` (same shape). */
  readonly logSoftmax: (x: In, axis: number) => Buf;
  /** Per-row loss logSumExp(x[i]) − x[i, t[i]] of logits [N, C] at int32 targets [N]; shape [N]. */
  readonly softmaxCrossEntropy: (x: In, target: In) => Buf;
  /** GELU, x·Φ(x) (`tanh` false) or x·σ(2u), u = √(2/π)(x + 0.044715x³) (`tanh` true). */
  readonly gelu: (x: In, tanh: boolean) => Buf;
  /** g · GELU′(x), same shapes. */
  readonly geluBackward: (g: In, x: In, tanh: boolean) => Buf;
  /**
   * Each row of `n` trailing values normalised, (x − mean)/√(var + eps) with the biased variance
   * (`rms`: x/√(mean x² + eps)), then · w + b where given (n values each); same shape.
   */
  readonly layerNorm: (x: In, w: In | null, b: In | null, n: number, eps: number, rms: boolean) => Buf;
  /** Jᵀg of layerNorm without affine at x, per row of `n`: r·(g − mean g − x̂·mean(g·x̂)) (`rms`: no mean g). */
  readonly layerNormBackward: (g: In, x: In, n: number, eps: number, rms: boolean) => Buf;
  /** Stable sort order along `axis` (int32, x's shape); NaN sorts above every number, as PyTorch. */
  readonly argsort: (x: In, axis: number, descending: boolean) => Buf;
  /**
   * Convolution (NCHW, cross-correlation): x [N, C, H, W], w [O, C/groups, kh, kw], bias [O] → [N, O, Ho, Wo].
   * `keepCols`, when given, receives the im2col matrix of x, which `conv2dWeight` can reuse.
   */
  readonly conv2d: (x: In, w: In, bias: In | null, g: ConvGeom, keepCols: ((col: TypedArray) => void) | null) => Buf;
  /** The adjoint of conv2d in its input: y [N, O, Ho, Wo], w [O, C/groups, kh, kw] → [N, C, H, W]. */
  readonly convTranspose2d: (y: In, w: In, g: ConvGeom) => Buf;
  /** The adjoint of conv2d in its weight: x, gy [N, O, Ho, Wo] → [O, C/groups, kh, kw]; `cols`: x's im2col if kept. */
  readonly conv2dWeight: (x: In, gy: In, g: ConvGeom, cols: TypedArray | null) => Buf;
  /** im2col: x [N, C, H, W] → [N, C·kh·kw, Ho·Wo] (zero off the input). */
  readonly unfold: (x: In, g: ConvGeom) => Buf;
  /** col2im, the adjoint of unfold: [N, C·kh·kw, Ho·Wo] → [N, C, H, W], overlaps summed. */
  readonly fold: (cols: In, g: ConvGeom) => Buf;
  /** Flat in-plane index of each pooling window's max (first on ties, NaN wins): [..., H, W] → [..., Ho, Wo] int32. */
  readonly maxPool2dIndices: (x: In, g: PoolGeom) => Buf;
  /** out[p, k] = x[p, idx[p, k]] over planes of `hw` values: x [..., hw], idx [..., L] (int32) → [..., L]. */
  readonly maxPoolGather: (x: In, idx: In, hw: number) => Buf;
  /** The adjoint of maxPoolGather: zeros of `shape` ([..., hw]) with out[p, idx[p, k]] += g[p, k]. */
  readonly maxPoolScatter: (g: In, idx: In, hw: number, shape: Shape) => Buf;
};

/** Every primitive op. Adding one starts here (its kernel signature); see docs/contributing.md. */
export type Primitive = keyof KernelSigs;

/** A complete kernel table: one kernel per primitive. */
export type Kernels = { readonly [P in Primitive]: KernelSigs[P] };

/** In a device kernel table: "no kernel here, run the reference (CPU) kernel", which reads inputs back. */
export const REFERENCE = 'reference' as const;
/** A device backend's table: its own kernel or an explicit REFERENCE fallback, for every primitive. */
export type DeviceKernels = { readonly [P in Primitive]: KernelSigs[P] | typeof REFERENCE };

/** What kind of work an op is, for choosing where it runs. */
export type OpKind = 'elementwise' | 'matmul' | 'reduce' | 'other';

/** A backend: a name and a complete kernel table. Kernels never record on the tape; `ops/` does that. */
export interface Backend {
  readonly name: 'cpu' | 'gpu';
  readonly kernels: Kernels;
}
