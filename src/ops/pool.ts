/**
 * Pooling. Max pooling is a fast index kernel (the argmax of each window) followed by `gather`,
 * so its gradient is `scatterAdd` to the winners (and that is differentiable again). Average
 * pooling is a sum-convolution of each plane followed by a per-window divisor, so it shares the
 * conv kernels and their backward. Adaptive average pooling is two small averaging matmuls.
 */
import type { PoolGeom } from '../backend/backend.js';
import { ShapeError, ValueError } from '../errors.js';
import { fmt, type Shape } from '../shape.js';
import { ones, Tensor, tensor } from '../tensor.js';
import { apply, type OpDef } from './define.js';
import { matmul } from './matmul.js';
import { checkKeys, tuple } from './options.js';
import { conv2d } from './conv.js';

/** Options of `maxPool1d` and `maxPool2d` (torch.nn.functional.max_pool2d). */
export interface MaxPoolOptions {
  /** Default: kernelSize. */
  stride?: number | readonly number[];
  /** Implicit −∞ padding on both sides (default 0; at most half the kernel). */
  padding?: number | readonly number[];
  /** Spacing between window elements (default 1). */
  dilation?: number | readonly number[];
  /** Use ceil instead of floor for the output size (default false). */
  ceilMode?: boolean;
}
/** Options of `avgPool1d` and `avgPool2d` (torch.nn.functional.avg_pool2d). */
export interface AvgPoolOptions {
  /** Default: kernelSize. */
  stride?: number | readonly number[];
  /** Implicit zero padding on both sides (default 0; at most half the kernel). */
  padding?: number | readonly number[];
  /** Use ceil instead of floor for the output size (default false). */
  ceilMode?: boolean;
  /** Count the zero padding in the divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
  /** Divide every window by this instead. */
  divisorOverride?: number;
}

/** PyTorch's pooling output size, with its ceil-mode rule (the last window starts inside the input or left padding). */
function poolOut(n: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = n + 2 * p - d * (k - 1) - 1;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= n + p) o--;
  return o;
}
interface PoolSpec {
  k: number[];
  s: number[];
  p: number[];
  d: number[];
  o: number[];
}
function poolSpec(
  x: Tensor,
  nd: number,
  kernelSize: number | readonly number[],
  opts: MaxPoolOptions & AvgPoolOptions,
  op: string,
): PoolSpec {
  if (!(x instanceof Tensor)) throw new ValueError(`${op}: expected a Tensor input, got ${typeof x}`);
  const k = tuple(kernelSize, nd, 1, 'kernelSize', op, 1);
  const noStride = opts.stride === undefined || (Array.isArray(opts.stride) && opts.stride.length === 0);
  const s = noStride ? k : tuple(opts.stride, nd, 1, 'stride', op, 1);
  const p = tuple(opts.padding, nd, 0, 'padding', op, 0);
  const d = tuple(opts.dilation, nd, 1, 'dilation', op, 1);
  p.forEach((pi, i) => {
    if (pi > k[i]! / 2) throw new ValueError(`${op}: padding ${pi} must be at most half the kernel size ${k[i]}`);
  });
  const sp = x.shape.slice(x.ndim - nd);
  if (x.ndim < nd + 1 || x.ndim > nd + 2) {
    throw new ShapeError(
      `${op}: expected a ${nd + 1}-D or ${nd + 2}-D input ([N,] C,` +
        ` ${nd === 2 ? 'H, W' : 'L'}), got ${fmt(x.shape)}`,
    );
  }
  const o = sp.map((n, i) => poolOut(n, k[i]!, s[i]!, p[i]!, d[i]!, opts.ceilMode ?? false));
  if (o.some((v) => v < 1))
    throw new ShapeError(`${op}: input ${fmt(x.shape)} is too small for kernel` + ` ${fmt(k)} (output ${fmt(o)})`);
  return { k, s, p, d, o };
}

/** @internal */
export interface PoolIdxAttrs {
  readonly g: PoolGeom;
}
/** The argmax of each window, flat within its plane; int32, no gradient. */
export const maxPool2dIndicesDef: OpDef<'maxPool2dIndices'> = {
  name: 'maxPool2dIndices',
  kind: 'other',
  shape: ([x], { g }) => [...x.shape.slice(0, -2), g.ho, g.wo],
  forward: (k, [x], { g }) => k.maxPool2dIndices(x, g),
  backward: null,
};

/**
 * Values at given in-plane positions: x [..., H·W] and idx [..., L] (int32) → [..., L]. Its
 * adjoint (planeScatter) sums back into the positions; each is the other's backward.
 */
/** @internal */
export interface PlaneAttrs {
  readonly hw: number;
}
/** @internal */
export interface PlaneScatterAttrs extends PlaneAttrs {
  readonly shape: Shape;
}
export const maxPoolGatherDef: OpDef<'maxPoolGather'> = {
  name: 'maxPoolGather',
  kind: 'other',
  shape: ([, idx]) => idx.shape,
  forward: (k, [x, idx], { hw }) => k.maxPoolGather(x, idx, hw),
  backward: (g, { inputs: [x, idx], attrs }) => [
    apply(maxPoolScatterDef, [g, idx], { ...attrs, shape: x.shape }),
    null,
  ],
};
export const maxPoolScatterDef: OpDef<'maxPoolScatter'> = {
  name: 'maxPoolScatter',
  kind: 'other',
  shape: (_i, { shape }) => shape,
  forward: (k, [g, idx], { hw, shape }) => k.maxPoolScatter(g, idx, hw, shape),
  backward: (g, { inputs: [, idx], attrs }) => [apply(maxPoolGatherDef, [g, idx], { hw: attrs.hw }), null],
};

function maxPool(
  x: Tensor,
  nd: 1 | 2,
  kernelSize: number | readonly number[],
  opts: MaxPoolOptions,
  op: string,
): Tensor {
  checkKeys(opts, ['stride', 'padding', 'dilation', 'ceilMode'], op);
  const { k, s, p, d, o } = poolSpec(x, nd, kernelSize, opts, op);
  const lift = <T>(a: T[], one: T): T[] => (nd === 1 ? [one, ...a] : a);
  const [kh, kw] = lift(k, 1) as [number, number],
    [sh, sw] = lift(s, 1) as [number, number];
  const [ph, pw] = lift(p, 0) as [number, number],
    [dh, dw] = lift(d, 1) as [number, number];
  const [ho, wo] = lift(o, 1) as [number, number];
  const sp = x.shape.slice(x.ndim - nd);
  const [h, w] = lift(sp, 1) as [number, number];
  const planes = x.shape.slice(0, x.ndim - nd).reduce((a, b) => a * b, 1);
  const g: PoolGeom = { planes, h, w, kh, kw, ho, wo, sh, sw, ph, pw, dh, dw };
  const lead = x.shape.slice(0, x.ndim - nd);
  const x3 = x.reshape([...lead, h * w]);
  const idx = apply(maxPool2dIndicesDef, [x.reshape([...lead, h, w]).detach()], { g }).reshape([...lead, ho * wo]);
  return apply(maxPoolGatherDef, [x3, idx], { hw: h * w }).reshape([...lead, ...o]);
}
/** 2-D max pooling (torch.nn.functional.max_pool2d): x [N, C, H, W] or [C, H, W]. A NaN in a window wins. */
export function maxPool2d(x: Tensor, kernelSize: number | readonly number[], opts: MaxPoolOptions = {}): Tensor {
  return maxPool(x, 2, kernelSize, opts, 'maxPool2d');
}
/** 1-D max pooling: x [N, C, L] or [C, L]. */
export function maxPool1d(x: Tensor, kernelSize: number | readonly number[], opts: MaxPoolOptions = {}): Tensor {
  return maxPool(x, 1, kernelSize, opts, 'maxPool1d');
}

function avgPool(
  x: Tensor,
  nd: 1 | 2,
  kernelSize: number | readonly number[],
  opts: AvgPoolOptions,
  op: string,
): Tensor {
  checkKeys(opts, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride'], op);
  const { k, s, p, o } = poolSpec(x, nd, kernelSize, opts, op);
  if (x.dtype === 'int32') throw new ValueError(`${op}: expected a float tensor, got int32`);
  const div = opts.divisorOverride;
  if (div !== undefined && !(Number.isFinite(div) && div !== 0))
    throw new ValueError(`${op}: divisorOverride` + ` must be a non-zero number, got ${div}`);
  const include = opts.countIncludePad ?? true;
  const sp = x.shape.slice(x.ndim - nd);
  const lead = x.shape.slice(0, x.ndim - nd);
  const planes = lead.reduce((a, b) => a * b, 1);
  // Window sums: a convolution of each plane with a kernel of ones; the end padding covers ceil mode.
  const lift = (a: number[], one: number): number[] => (nd === 1 ? [one, ...a] : a);
  const [h, w] = lift(sp, 1),
    [kh, kw] = lift(k, 1),
    [sh, sw] = lift(s, 1),
    [ph, pw] = lift(p, 0),
    [ho, wo] = lift(o, 1);
  const endPad = (n: number, kk: number, ss: number, pp: number, oo: number): number =>
    Math.max(pp, (oo - 1) * ss + kk - n - pp);
  const padH = [ph!, endPad(h!, kh!, sh!, ph!, ho!)],
    padW = [pw!, endPad(w!, kw!, sw!, pw!, wo!)];
  const xp = x.reshape([planes, 1, h!, w!]);
  const sums = convSum(xp, [kh!, kw!], [sh!, sw!], padH, padW, [ho!, wo!]);
  // Divisors as PyTorch: windows clipped to the padded input (count_include_pad) or to the input itself.
  const inv = new Float64Array(ho! * wo!);
  for (let i = 0; i < ho!; i++) {
    for (let j = 0; j < wo!; j++) {
      let h0 = i * sh! - ph!,
        w0 = j * sw! - pw!;
      let h1 = Math.min(h0 + kh!, h! + ph!),
        w1 = Math.min(w0 + kw!, w! + pw!);
      let n = (h1 - h0) * (w1 - w0);
      if (!include) {
        h0 = Math.max(h0, 0);
        w0 = Math.max(w0, 0);
        h1 = Math.min(h1, h!);
        w1 = Math.min(w1, w!);
        n = (h1 - h0) * (w1 - w0);
      }
      inv[i * wo! + j] = 1 / (div ?? n);
    }
  }
  const scale = tensor(inv, { dtype: x.dtype, shape: [ho!, wo!] });
  return sums.mul(scale).reshape([...lead, ...o]);
}
function convSum(x: Tensor, k: number[], s: number[], padH: number[], padW: number[], o: number[]): Tensor {
  // Asymmetric padding: pad the end explicitly beyond the symmetric part.
  const extraH = padH[1]! - padH[0]!,
    extraW = padW[1]! - padW[0]!;
  const xx =
    extraH > 0 || extraW > 0
      ? x.pad([
          [0, 0],
          [0, 0],
          [0, Math.max(0, extraH)],
          [0, Math.max(0, extraW)],
        ])
      : x;
  const y = conv2d(xx, ones([1, 1, k[0]!, k[1]!], { dtype: x.dtype }), null, {
    stride: s,
    padding: [padH[0]!, padW[0]!],
  });
  return y.shape[2] === o[0] && y.shape[3] === o[1] ? y : y.slice([null, null, [0, o[0]!], [0, o[1]!]]);
}
/** 2-D average pooling (torch.nn.functional.avg_pool2d): x [N, C, H, W] or [C, H, W]. */
export function avgPool2d(x: Tensor, kernelSize: number | readonly number[], opts: AvgPoolOptions = {}): Tensor {
  return avgPool(x, 2, kernelSize, opts, 'avgPool2d');
}
/** 1-D average pooling: x [N, C, L] or [C, L]. */
export function avgPool1d(x: Tensor, kernelSize: number | readonly number[], opts: AvgPoolOptions = {}): Tensor {
  return avgPool(x, 1, kernelSize, opts, 'avgPool1d');
}

/** [out, n] averaging matrix of PyTorch's adaptive bins: [⌊i·n/out⌋, ⌈(i+1)·n/out⌉). */
function binMatrix(n: number, out: number, dtype: 'float32' | 'float64'): Tensor {
  const m = new Float64Array(out * n);
  for (let i = 0; i < out; i++) {
    const a = Math.floor((i * n) / out),
      b = Math.ceil(((i + 1) * n) / out);
    for (let j = a; j < b; j++) m[i * n + j] = 1 / (b - a);
  }
  return tensor(m, { dtype, shape: [out, n] });
}
/** Adaptive average pooling to `outputSize` (an int, or [h, w] where null keeps that size), as torch. */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | readonly (number | null)[]): Tensor {
  const op = 'adaptiveAvgPool2d';
  if (!(x instanceof Tensor) || (x.ndim !== 3 && x.ndim !== 4)) {
    throw new ShapeError(
      `${op}: expected a 3-D or 4-D input ([N,] C, H, W), got` + ` ${x instanceof Tensor ? fmt(x.shape) : typeof x}`,
    );
  }
  if (x.dtype === 'int32') throw new ValueError(`${op}: expected a float tensor, got int32`);
  const h = x.shape[x.ndim - 2]!,
    w = x.shape[x.ndim - 1]!;
  const os = typeof outputSize === 'number' ? [outputSize, outputSize] : [...outputSize];
  if (os.length !== 2)
    throw new ValueError(`${op}: outputSize must be an int or two of them, got` + ` ${JSON.stringify(outputSize)}`);
  const [oh, ow] = [os[0] ?? h, os[1] ?? w];
  if (![oh, ow].every((v) => Number.isInteger(v) && v >= 1))
    throw new ValueError(`${op}: outputSize must be` + ` positive integers, got ${JSON.stringify(outputSize)}`);
  let y = x;
  if (ow !== w) y = matmul(y, binMatrix(w, ow, x.dtype), { transB: true });
  if (oh !== h) y = matmul(binMatrix(h, oh, x.dtype), y);
  return y;
}
/** 1-D adaptive average pooling: x [N, C, L] or [C, L] → [..., outputSize]. */
export function adaptiveAvgPool1d(x: Tensor, outputSize: number): Tensor {
  if (!(x instanceof Tensor) || (x.ndim !== 2 && x.ndim !== 3)) {
    throw new ShapeError(
      `adaptiveAvgPool1d: expected a 2-D or 3-D input ([N,] C, L), got` +
        ` ${x instanceof Tensor ? fmt(x.shape) : typeof x}`,
    );
  }
  if (!Number.isInteger(outputSize) || outputSize < 1)
    throw new ValueError(`adaptiveAvgPool1d: outputSize must` + ` be a positive integer, got ${outputSize}`);
  const l = x.shape[x.ndim - 1]!;
  return outputSize === l ? x : matmul(x, binMatrix(l, outputSize, x.dtype as 'float32' | 'float64'), { transB: true });
}
