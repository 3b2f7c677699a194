/**
 * Convolutions as three primitives that are each other's adjoints, so every backward pass is
 * again a convolution and the ops are differentiable to any order:
 *   conv2d(x, w) → y,   convTranspose2d(y, w) → x-shaped,   conv2dWeight(x, gy) → w-shaped;
 * and unfold/fold (im2col/col2im), each the other's adjoint.
 * Weight layouts are PyTorch's: conv [out, in/groups, kh, kw], transposed conv [in, out/groups, kh, kw]
 * (the same tensor as the conv it transposes). CPU kernels: im2col + packed GEMM (src/backend/cpu/conv.ts);
 * the GPU backend runs them through its REFERENCE fallback (no conv shaders yet).
 */
import type { ConvGeom } from '../backend/backend.js';
import type { TypedArray } from '../dtype.js';
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import { fmt, type Shape } from '../shape.js';
import { isGradEnabled } from '../tape.js';
import { Tensor } from '../tensor.js';
import { apply, type OpDef } from './define.js';
import { checkKeys, tuple } from './options.js';

type Pair = readonly [number, number];
/** @internal Geometry shared by the three primitives (padEnd may differ from padBegin: 'same', outputPadding). */
export interface ConvAttrs {
  readonly stride: Pair;
  readonly padBegin: Pair;
  readonly padEnd: Pair;
  readonly dilation: Pair;
  readonly groups: number;
}
/** @internal */
export interface ConvTAttrs extends ConvAttrs {
  /** Spatial size of the conv input that this op produces. */
  readonly inSize: Pair;
}
/** @internal */
export interface ConvWAttrs extends ConvAttrs {
  readonly kernel: Pair;
}

const outLen = (n: number, k: number, s: number, pb: number, pe: number, d: number): number =>
  Math.floor((n + pb + pe - d * (k - 1) - 1) / s) + 1;

function geom(xs: Shape, kernel: Pair, a: ConvAttrs, op: string): ConvGeom {
  const [n, c, h, w] = xs as [number, number, number, number];
  const [kh, kw] = kernel;
  const ho = outLen(h, kh, a.stride[0], a.padBegin[0], a.padEnd[0], a.dilation[0]);
  const wo = outLen(w, kw, a.stride[1], a.padBegin[1], a.padEnd[1], a.dilation[1]);
  if (ho < 1 || wo < 1) {
    throw new ShapeError(
      `${op}: input of spatial size ${h}×${w} (after padding) is smaller than the dilated` +
        ` kernel ${kh}×${kw}; output would be ${ho}×${wo}`,
    );
  }
  return {
    n,
    c,
    h,
    w,
    kh,
    kw,
    ho,
    wo,
    sh: a.stride[0],
    sw: a.stride[1],
    ph: a.padBegin[0],
    pw: a.padBegin[1],
    dh: a.dilation[0],
    dw: a.dilation[1],
    groups: a.groups,
  };
}
function sameFloat(op: string, a: Tensor, b: Tensor, an: string, bn: string): void {
  if (a.dtype === 'int32' || b.dtype === 'int32')
    throw new DTypeError(`${op}: expected float tensors, got` + ` ${an} ${a.dtype} and ${bn} ${b.dtype}`);
  if (a.dtype !== b.dtype)
    throw new DTypeError(`${op}: ${an} dtype ${a.dtype} and ${bn} dtype ${b.dtype}` + ` differ; cast one explicitly`);
}
function checkWeight(op: string, c: number, w: Tensor, groups: number): void {
  const [o, cg] = w.shape as [number, number];
  if (o % groups !== 0)
    throw new ShapeError(
      `${op}: weight of shape ${fmt(w.shape)} has ${o} output channels,` + ` not divisible by groups=${groups}`,
    );
  if (cg * groups !== c) {
    throw new ShapeError(
      `${op}: input has ${c} channels but weight of shape ${fmt(w.shape)} expects ${cg} ×` +
        ` groups=${groups} = ${cg * groups}`,
    );
  }
}
const kernelOf = (w: Tensor): Pair => [w.shape[2]!, w.shape[3]!];

export const conv2dDef: OpDef<'conv2d'> = {
  name: 'conv2d',
  kind: 'other',
  shape: ([x, w, b], a) => {
    sameFloat('conv2d', x, w, 'input', 'weight');
    checkWeight('conv2d', x.shape[1]!, w, a.groups);
    if (b) {
      sameFloat('conv2d', x, b, 'input', 'bias');
      if (b.ndim !== 1 || b.shape[0] !== w.shape[0])
        throw new ShapeError(`conv2d: bias must be a 1-D tensor` + ` of ${w.shape[0]} values, got ${fmt(b.shape)}`);
    }
    const g = geom(x.shape, kernelOf(w), a, 'conv2d');
    return [g.n, w.shape[0]!, g.ho, g.wo];
  },
  forward: (k, [x, w, b], a) => {
    // The columns are kept for the weight gradient when one will be asked for.
    const keep = isGradEnabled() && w.requiresGrad;
    return k.conv2d(
      x,
      w,
      b ?? null,
      geom(x.shape, kernelOf(w), a, 'conv2d'),
      keep
        ? (col) =>
            colCache.set(x, {
              a,
              col,
            })
        : null,
    );
  },
  backward: (gy, { inputs: [x, w, b], attrs, needs }) => [
    needs[0] ? convT(gy, w, { ...attrs, inSize: [x.shape[2]!, x.shape[3]!] }) : null,
    needs[1] ? convW(x, gy, { ...attrs, kernel: kernelOf(w) }) : null,
    b && needs[2] ? gy.sum([2, 3]).sum(0) : null,
  ],
};
export const convTranspose2dDef: OpDef<'convTranspose2d'> = {
  name: 'convTranspose2d',
  kind: 'other',
  shape: ([y, w], a) => {
    sameFloat('convTranspose2d', y, w, 'input', 'weight');
    const [o, cg, kh, kw] = w.shape as [number, number, number, number];
    if (y.shape[1] !== o)
      throw new ShapeError(
        `convTranspose2d: input has ${y.shape[1]} channels but weight` + ` of shape ${fmt(w.shape)} expects ${o}`,
      );
    if (o % a.groups !== 0)
      throw new ShapeError(`convTranspose2d: ${o} input channels are not divisible by` + ` groups=${a.groups}`);
    const xs = [y.shape[0]!, cg * a.groups, a.inSize[0], a.inSize[1]];
    const g = geom(xs, [kh, kw], a, 'convTranspose2d');
    if (g.ho !== y.shape[2] || g.wo !== y.shape[3]) {
      throw new ShapeError(
        `convTranspose2d: input of shape ${fmt(y.shape)} does not match output size` + ` ${a.inSize[0]}×${a.inSize[1]}`,
      );
    }
    return xs;
  },
  forward: (k, [y, w], a, os) => k.convTranspose2d(y, w, geom(os, kernelOf(w), a, 'convTranspose2d')),
  backward: (gx, { inputs: [y, w], attrs, needs }) => [
    needs[0] ? apply(conv2dDef, [gx, w], attrs) : null,
    needs[1] ? convW(gx, y, { ...attrs, kernel: kernelOf(w) }) : null,
  ],
};
export const conv2dWeightDef: OpDef<'conv2dWeight'> = {
  name: 'conv2dWeight',
  kind: 'other',
  shape: ([x, gy], a) => {
    sameFloat('conv2dWeight', x, gy, 'input', 'output gradient');
    const g = geom(x.shape, a.kernel, a, 'conv2dWeight');
    const o = gy.shape[1]!;
    const fits = gy.shape[0] === g.n && gy.shape[2] === g.ho && gy.shape[3] === g.wo;
    if (!fits || o % a.groups !== 0 || g.c % a.groups !== 0) {
      throw new ShapeError(
        `conv2dWeight: output gradient of shape ${fmt(gy.shape)} does not fit input` + ` ${fmt(x.shape)}`,
      );
    }
    return [o, g.c / a.groups, a.kernel[0], a.kernel[1]];
  },
  forward: (k, [x, gy], a) => {
    const hit = colCache.get(x);
    const col = hit && sameGeom(hit.a, a) ? hit.col : null;
    if (hit) colCache.delete(x);
    return k.conv2dWeight(x, gy, geom(x.shape, a.kernel, a, 'conv2dWeight'), col);
  },
  backward: (gw, { inputs: [x, gy], attrs, needs }) => [
    needs[0] ? convT(gy, gw, { ...attrs, inSize: [x.shape[2]!, x.shape[3]!] }) : null,
    needs[1] ? apply(conv2dDef, [x, gw], attrs) : null,
  ],
};
const convT = (y: Tensor, w: Tensor, a: ConvTAttrs): Tensor => apply(convTranspose2dDef, [y, w], a);
/** im2col of a conv's input from its forward pass, reused (once) by the weight gradient; dropped with the input. */
const colCache = new WeakMap<Tensor, { a: ConvAttrs; col: TypedArray }>();
const sameGeom = (p: ConvAttrs, q: ConvAttrs): boolean =>
  p.groups === q.groups &&
  [p.stride, p.padBegin, p.padEnd, p.dilation].every((v, i) => {
    const u = [q.stride, q.padBegin, q.padEnd, q.dilation][i]!;
    return v[0] === u[0] && v[1] === u[1];
  });
const convW = (x: Tensor, gy: Tensor, a: ConvWAttrs): Tensor => apply(conv2dWeightDef, [x, gy], a);

// ---- the public functions -----------------------------------------------------------------

/** Options of `conv1d` and `conv2d` (torch.nn.functional.conv2d). */
export interface ConvOptions {
  /** Default 1. */
  stride?: number | readonly number[];
  /** Zero padding on both sides (default 0), or 'valid' (none) / 'same' (output size = input size; stride 1). */
  padding?: number | readonly number[] | 'valid' | 'same';
  /** Default 1. */
  dilation?: number | readonly number[];
  /** Default 1: in and out channels split into this many independent groups. */
  groups?: number;
}
/** Options of `convTranspose2d` (torch.nn.functional.conv_transpose2d). */
export interface ConvTransposeOptions {
  /** Default 1. */
  stride?: number | readonly number[];
  /** Removed from both sides of the output: dilation·(k − 1) − padding zeros pad the input (default 0). */
  padding?: number | readonly number[];
  /** Extra size added to one side of the output (default 0; less than stride or dilation). */
  outputPadding?: number | readonly number[];
  /** Default 1. */
  dilation?: number | readonly number[];
  /** Default 1: in and out channels split into this many independent groups. */
  groups?: number;
}
const CONV_KEYS = ['stride', 'padding', 'dilation', 'groups'];
const CONVT_KEYS = ['stride', 'padding', 'outputPadding', 'dilation', 'groups'];

function checkGroups(groups: number | undefined, op: string): number {
  const g = groups ?? 1;
  if (!Number.isInteger(g) || g < 1) throw new ValueError(`${op}: groups must be a positive integer, got ${groups}`);
  return g;
}
/** Adds the batch axis to an unbatched input and says how to undo it. */
function batched(x: Tensor, rank: number, op: string, expected: string): [Tensor, boolean] {
  if (!(x instanceof Tensor)) throw new ValueError(`${op}: expected a Tensor input, got ${typeof x}`);
  if (x.ndim === rank) return [x, false];
  if (x.ndim === rank - 1) return [x.unsqueeze(0), true];
  throw new ShapeError(`${op}: expected input of shape ${expected} (or without the batch axis), got ${fmt(x.shape)}`);
}
function addBias(y: Tensor, bias: Tensor | null | undefined, op: string): Tensor {
  if (bias === null || bias === undefined) return y;
  if (!(bias instanceof Tensor) || bias.ndim !== 1 || bias.shape[0] !== y.shape[1]) {
    throw new ShapeError(
      `${op}: bias must be a 1-D tensor of ${y.shape[1]} values, got` +
        ` ${bias instanceof Tensor ? fmt(bias.shape) : typeof bias}`,
    );
  }
  return y.add(bias.reshape([1, y.shape[1]!, ...y.shape.slice(2).map(() => 1)]));
}

function checkBias(bias: Tensor, n: number, op: string): Tensor {
  if (!(bias instanceof Tensor) || bias.ndim !== 1 || bias.shape[0] !== n) {
    throw new ShapeError(
      `${op}: bias must be a 1-D tensor of ${n} values, got` +
        ` ${bias instanceof Tensor ? fmt(bias.shape) : typeof bias}`,
    );
  }
  return bias;
}
function convAttrs(kernel: readonly number[], opts: ConvOptions, nd: number, op: string): ConvAttrs {
  checkKeys(opts, CONV_KEYS, op);
  const stride = tuple(opts.stride, nd, 1, 'stride', op, 1);
  const dilation = tuple(opts.dilation, nd, 1, 'dilation', op, 1);
  let pb: number[], pe: number[];
  if (opts.padding === 'valid') pb = pe = new Array<number>(nd).fill(0);
  else if (opts.padding === 'same') {
    if (stride.some((s) => s !== 1))
      throw new ValueError(`${op}: padding='same' needs stride 1, got stride` + ` ${JSON.stringify(opts.stride)}`);
    // As PyTorch: the total d·(k − 1) split with the extra zero at the end.
    const tot = kernel.map((k, i) => dilation[i]! * (k - 1));
    pb = tot.map((t) => Math.floor(t / 2));
    pe = tot.map((t, i) => t - pb[i]!);
  } else pb = pe = tuple(opts.padding, nd, 0, 'padding', op, 0);
  const two = (a: number[]): Pair => (nd === 1 ? [0, a[0]!] : [a[0]!, a[1]!]);
  return {
    stride: nd === 1 ? [1, stride[0]!] : two(stride),
    padBegin: two(pb),
    padEnd: two(pe),
    dilation: nd === 1 ? [1, dilation[0]!] : two(dilation),
    groups: checkGroups(opts.groups, op),
  };
}

/**
 * 2-D convolution (cross-correlation, as torch.nn.functional.conv2d): x [N, C, H, W] (or [C, H, W]),
 * weight [O, C/groups, kh, kw], bias [O] → [N, O, Ho, Wo].
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvOptions = {}): Tensor {
  const [xb, unb] = batched(x, 4, 'conv2d', '[N, C, H, W]');
  if (!(weight instanceof Tensor) || weight.ndim !== 4)
    throw new ShapeError(
      `conv2d: weight must be 4-D [out,` +
        ` in/groups, kh, kw], got ${weight instanceof Tensor ? fmt(weight.shape) : typeof weight}`,
    );
  const a = convAttrs(weight.shape.slice(2), opts, 2, 'conv2d');
  const y = apply(conv2dDef, bias ? [xb, weight, checkBias(bias, weight.shape[0]!, 'conv2d')] : [xb, weight], a);
  return unb ? y.squeeze(0) : y;
}
/** 1-D convolution: x [N, C, L] (or [C, L]), weight [O, C/groups, k], bias [O] → [N, O, Lo]. */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvOptions = {}): Tensor {
  const [xb, unb] = batched(x, 3, 'conv1d', '[N, C, L]');
  if (!(weight instanceof Tensor) || weight.ndim !== 3)
    throw new ShapeError(
      `conv1d: weight must be 3-D [out,` +
        ` in/groups, k], got ${weight instanceof Tensor ? fmt(weight.shape) : typeof weight}`,
    );
  const a = convAttrs(weight.shape.slice(2), opts, 1, 'conv1d');
  const w2 = weight.unsqueeze(2);
  const out = apply(
    conv2dDef,
    bias ? [xb.unsqueeze(2), w2, checkBias(bias, weight.shape[0]!, 'conv1d')] : [xb.unsqueeze(2), w2],
    a,
  ).squeeze(2);
  return unb ? out.squeeze(0) : out;
}

/**
 * 2-D transposed convolution (torch.nn.functional.conv_transpose2d): x [N, Cin, H, W],
 * weight [Cin, Cout/groups, kh, kw] → [N, Cout, (H − 1)·s − 2p + d·(k − 1) + outputPadding + 1, …].
 */
export function convTranspose2d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  opts: ConvTransposeOptions = {},
): Tensor {
  const op = 'convTranspose2d';
  checkKeys(opts, CONVT_KEYS, op);
  const [xb, unb] = batched(x, 4, op, '[N, C, H, W]');
  if (!(weight instanceof Tensor) || weight.ndim !== 4)
    throw new ShapeError(
      `${op}: weight must be 4-D [in,` +
        ` out/groups, kh, kw], got ${weight instanceof Tensor ? fmt(weight.shape) : typeof weight}`,
    );
  const stride = tuple(opts.stride, 2, 1, 'stride', op, 1);
  const pad = tuple(opts.padding, 2, 0, 'padding', op, 0);
  const outPad = tuple(opts.outputPadding, 2, 0, 'outputPadding', op, 0);
  const dil = tuple(opts.dilation, 2, 1, 'dilation', op, 1);
  outPad.forEach((p, i) => {
    if (p >= stride[i]! && p >= dil[i]!)
      throw new ValueError(
        `${op}: outputPadding ${p} must be smaller than` + ` stride ${stride[i]} or dilation ${dil[i]}`,
      );
  });
  const size = [0, 1].map(
    (i) => (xb.shape[2 + i]! - 1) * stride[i]! - 2 * pad[i]! + dil[i]! * (weight.shape[2 + i]! - 1) + outPad[i]! + 1,
  );
  if (size.some((s) => s < 1))
    throw new ShapeError(`${op}: output size ${size.join('×')} is not positive for` + ` input ${fmt(xb.shape)}`);
  const a: ConvTAttrs = {
    stride: [stride[0]!, stride[1]!],
    padBegin: [pad[0]!, pad[1]!],
    padEnd: [pad[0]! - outPad[0]!, pad[1]! - outPad[1]!],
    dilation: [dil[0]!, dil[1]!],
    groups: checkGroups(opts.groups, op),
    inSize: [size[0]!, size[1]!],
  };
  const y = addBias(convT(xb, weight, a), bias, op);
  return unb ? y.squeeze(0) : y;
}

// ---- unfold / fold (im2col and its adjoint) -------------------------------------------------

/** @internal */
export interface UnfoldAttrs extends ConvAttrs {
  readonly kernel: Pair;
  /** Spatial size of the image (fold's output). */
  readonly size: Pair;
}
export const unfoldDef: OpDef<'unfold'> = {
  name: 'unfold',
  kind: 'other',
  shape: ([x], a) => {
    const g = geom(x.shape, a.kernel, a, 'unfold');
    return [g.n, g.c * g.kh * g.kw, g.ho * g.wo];
  },
  forward: (k, [x], a) => k.unfold(x, geom(x.shape, a.kernel, a, 'unfold')),
  backward: (g, { attrs }) => [apply(foldDef, [g], attrs)],
};
export const foldDef: OpDef<'fold'> = {
  name: 'fold',
  kind: 'other',
  shape: ([c], a) => {
    const [n, ck, l] = c.shape as [number, number, number];
    const kk = a.kernel[0] * a.kernel[1];
    if (c.ndim !== 3 || ck % kk !== 0)
      throw new ShapeError(`fold: input of shape ${fmt(c.shape)} must be [N,` + ` C·${a.kernel[0]}·${a.kernel[1]}, L]`);
    const xs = [n, ck / kk, a.size[0], a.size[1]];
    const g = geom(xs, a.kernel, a, 'fold');
    if (g.ho * g.wo !== l)
      throw new ShapeError(
        `fold: input has ${l} blocks but output size` + ` ${a.size.join('×')} gives ${g.ho}×${g.wo} = ${g.ho * g.wo}`,
      );
    return xs;
  },
  forward: (k, [c], a, os) => k.fold(c, geom(os, a.kernel, a, 'fold')),
  backward: (g, { attrs }) => [apply(unfoldDef, [g], attrs)],
};
/** Options of `unfold` and `fold` (torch.nn.functional.unfold). */
export interface UnfoldOptions {
  /** Spacing between kernel taps (default 1). */
  dilation?: number | readonly number[];
  /** Implicit zero padding on both sides (default 0). */
  padding?: number | readonly number[];
  /** Step of the sliding window (default 1). */
  stride?: number | readonly number[];
}
function unfoldAttrs(kernelSize: number | readonly number[], opts: UnfoldOptions, size: Pair, op: string): UnfoldAttrs {
  checkKeys(opts, ['dilation', 'padding', 'stride'], op);
  const k = tuple(kernelSize, 2, 1, 'kernelSize', op, 1);
  const s = tuple(opts.stride, 2, 1, 'stride', op, 1),
    p = tuple(opts.padding, 2, 0, 'padding', op, 0);
  const d = tuple(opts.dilation, 2, 1, 'dilation', op, 1);
  return {
    kernel: [k[0]!, k[1]!],
    stride: [s[0]!, s[1]!],
    padBegin: [p[0]!, p[1]!],
    padEnd: [p[0]!, p[1]!],
    dilation: [d[0]!, d[1]!],
    groups: 1,
    size,
  };
}
/** Sliding blocks (im2col, torch.nn.functional.unfold): x [N, C, H, W] → [N, C·kh·kw, L]. */
export function unfold(x: Tensor, kernelSize: number | readonly number[], opts: UnfoldOptions = {}): Tensor {
  const [xb, unb] = batched(x, 4, 'unfold', '[N, C, H, W]');
  const y = apply(unfoldDef, [xb], unfoldAttrs(kernelSize, opts, [xb.shape[2]!, xb.shape[3]!], 'unfold'));
  return unb ? y.squeeze(0) : y;
}
/** The adjoint of unfold (col2im, torch.nn.functional.fold): [N, C·kh·kw, L] → [N, C, H, W], overlaps summed. */
export function fold(
  x: Tensor,
  outputSize: number | readonly number[],
  kernelSize: number | readonly number[],
  opts: UnfoldOptions = {},
): Tensor {
  const [xb, unb] = batched(x, 3, 'fold', '[N, C·kh·kw, L]');
  const size = tuple(outputSize, 2, 1, 'outputSize', 'fold', 1);
  const y = apply(foldDef, [xb], unfoldAttrs(kernelSize, opts, [size[0]!, size[1]!], 'fold'));
  return unb ? y.squeeze(0) : y;
}
