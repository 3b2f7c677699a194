/** Convolution and pooling layers, with PyTorch's names, defaults, weight layouts and initialisation. */
import { ShapeError, ValueError } from '../errors.js';
import { conv1d, conv2d, convTranspose2d } from '../ops/conv.js';
import { checkKeys, tuple } from '../ops/options.js';
import {
  adaptiveAvgPool2d,
  avgPool2d,
  maxPool1d,
  maxPool2d,
  type AvgPoolOptions,
  type MaxPoolOptions,
} from '../ops/pool.js';
import { defaultGenerator } from '../random.js';
import { fmt } from '../shape.js';
import { Tensor, zeros } from '../tensor.js';
import * as init from './init.js';
import type { LayerOptions } from './layers.js';
import { floatDType, Module, Parameter } from './module.js';

/** Options of `Conv1d` and `Conv2d` (those of torch.nn.Conv2d), plus dtype and generator. */
export interface ConvLayerOptions extends LayerOptions {
  /** Step of the kernel, one per spatial dim or one for all (default 1). */
  stride?: number | readonly number[];
  /** Zero padding (default 0), or 'valid' / 'same'. */
  padding?: number | readonly number[] | 'valid' | 'same';
  /** Spacing between kernel taps (default 1). */
  dilation?: number | readonly number[];
  /** Split channels into this many independent groups (default 1). */
  groups?: number;
  /** Learnable bias (default true). */
  bias?: boolean;
}
/** Options of `ConvTranspose2d` (those of torch.nn.ConvTranspose2d), plus dtype and generator. */
export interface ConvTransposeLayerOptions extends LayerOptions {
  /** Step of the kernel (default 1). */
  stride?: number | readonly number[];
  /** Implicit padding removed from each side of the output: dilation·(k−1) − padding (default 0). */
  padding?: number | readonly number[];
  /** Extra size added to one side of the output (default 0). */
  outputPadding?: number | readonly number[];
  /** Spacing between kernel taps (default 1). */
  dilation?: number | readonly number[];
  /** Split channels into this many independent groups (default 1). */
  groups?: number;
  /** Learnable bias (default true). */
  bias?: boolean;
}
const CONV_KEYS = ['stride', 'padding', 'dilation', 'groups', 'bias', 'dtype', 'generator'];

function channels(layer: string, inC: number, outC: number, groups: number): void {
  for (const [what, v] of [
    ['inChannels', inC],
    ['outChannels', outC],
    ['groups', groups],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new ValueError(`${layer}: ${what} must be a positive integer, got ${v}`);
  }
  if (inC % groups !== 0) throw new ValueError(`${layer}: inChannels ${inC} must be divisible by groups ${groups}`);
  if (outC % groups !== 0) throw new ValueError(`${layer}: outChannels ${outC} must be divisible by groups ${groups}`);
}
/** weight ~ kaimingUniform(a = √5), bias ~ U(±1/√fanIn), fanIn from the weight as torch computes it. */
function initConv(
  shape: number[],
  biasSize: number,
  bias: boolean,
  opts: LayerOptions,
  layer: string,
): [Parameter, Parameter | null] {
  const dtype = floatDType(opts.dtype, layer);
  const g = opts.generator ?? defaultGenerator;
  const w = new Parameter(init.kaimingUniform(zeros(shape, { dtype }), { a: Math.sqrt(5), generator: g }));
  if (!bias) return [w, null];
  const [fanIn] = init.calculateFans(w, layer);
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return [w, new Parameter(init.uniform(zeros([biasSize], { dtype }), -bound, bound, { generator: g }))];
}

abstract class ConvNd extends Module {
  /** Kernel of shape [outChannels, inChannels / groups, ...kernelSize]. */
  readonly weight: Parameter;
  /** Bias of shape [outChannels], or null with `bias: false`. */
  readonly bias: Parameter | null;
  /** Kernel size per spatial dim. */
  readonly kernelSize: readonly number[];
  /** Stride per spatial dim. */
  readonly stride: readonly number[];
  /** Padding per spatial dim, or 'valid' / 'same'. */
  readonly padding: readonly number[] | 'valid' | 'same';
  /** Dilation per spatial dim. */
  readonly dilation: readonly number[];
  /** Number of channel groups. */
  readonly groups: number;
  /**
   * @param inChannels - Channels of the input.
   * @param outChannels - Channels of the output.
   * @param kernelSize - Kernel size, per spatial dim or one for all.
   */
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | readonly number[],
    nd: number,
    opts: ConvLayerOptions,
  ) {
    super();
    const layer = new.target.name;
    checkKeys(opts, CONV_KEYS, layer);
    this.groups = opts.groups ?? 1;
    channels(layer, inChannels, outChannels, this.groups);
    this.kernelSize = Object.freeze(tuple(kernelSize, nd, 1, 'kernelSize', layer, 1));
    this.stride = Object.freeze(tuple(opts.stride, nd, 1, 'stride', layer, 1));
    this.dilation = Object.freeze(tuple(opts.dilation, nd, 1, 'dilation', layer, 1));
    const p = opts.padding;
    if (p === 'same' && this.stride.some((s) => s !== 1))
      throw new ValueError(`${layer}: padding='same' needs` + ` stride 1`);
    this.padding = p === 'same' || p === 'valid' ? p : Object.freeze(tuple(p, nd, 0, 'padding', layer, 0));
    const shape = [outChannels, inChannels / this.groups, ...this.kernelSize];
    [this.weight, this.bias] = initConv(shape, outChannels, opts.bias ?? true, opts, layer);
  }
  /** @internal */
  protected convOpts(): {
    stride: readonly number[];
    padding: readonly number[] | 'valid' | 'same';
    dilation: readonly number[];
    groups: number;
  } {
    return { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups };
  }
  protected override extraRepr(): string {
    const p = typeof this.padding === 'string' ? `'${this.padding}'` : fmt(this.padding);
    return (
      `${this.inChannels}, ${this.outChannels}, kernelSize=${fmt(this.kernelSize)},` +
      ` stride=${fmt(this.stride)}, padding=${p}` +
      `${this.groups > 1 ? `, groups=${this.groups}` : ''}${this.bias ? '' : ', bias=false'}`
    );
  }
}

/** 2-D convolution over [N, C, H, W]: weight [out, in/groups, kh, kw], as torch.nn.Conv2d. */
export class Conv2d extends ConvNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    opts: ConvLayerOptions = {},
  ) {
    super(inChannels, outChannels, kernelSize, 2, opts);
  }
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.convOpts());
  }
}
/** 1-D convolution over [N, C, L]: weight [out, in/groups, k], as torch.nn.Conv1d. */
export class Conv1d extends ConvNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    opts: ConvLayerOptions = {},
  ) {
    super(inChannels, outChannels, kernelSize, 1, opts);
  }
  forward(x: Tensor): Tensor {
    return conv1d(x, this.weight, this.bias, this.convOpts());
  }
}

/** 2-D transposed convolution: weight [in, out/groups, kh, kw], as torch.nn.ConvTranspose2d. */
export class ConvTranspose2d extends Module {
  /** Kernel of shape [inChannels, outChannels / groups, kH, kW]. */
  readonly weight: Parameter;
  /** Bias of shape [outChannels], or null with `bias: false`. */
  readonly bias: Parameter | null;
  /** Kernel size per spatial dim. */
  readonly kernelSize: readonly number[];
  /** Stride per spatial dim. */
  readonly stride: readonly number[];
  /** Padding per spatial dim. */
  readonly padding: readonly number[];
  /** Output padding per spatial dim. */
  readonly outputPadding: readonly number[];
  /** Dilation per spatial dim. */
  readonly dilation: readonly number[];
  /** Number of channel groups. */
  readonly groups: number;
  /**
   * @param inChannels - Channels of the input.
   * @param outChannels - Channels of the output.
   * @param kernelSize - Kernel size, per spatial dim or one for all.
   */
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | readonly number[],
    opts: ConvTransposeLayerOptions = {},
  ) {
    super();
    const layer = 'ConvTranspose2d';
    checkKeys(opts, [...CONV_KEYS, 'outputPadding'], layer);
    this.groups = opts.groups ?? 1;
    channels(layer, inChannels, outChannels, this.groups);
    this.kernelSize = Object.freeze(tuple(kernelSize, 2, 1, 'kernelSize', layer, 1));
    this.stride = Object.freeze(tuple(opts.stride, 2, 1, 'stride', layer, 1));
    this.padding = Object.freeze(tuple(opts.padding, 2, 0, 'padding', layer, 0));
    this.outputPadding = Object.freeze(tuple(opts.outputPadding, 2, 0, 'outputPadding', layer, 0));
    this.dilation = Object.freeze(tuple(opts.dilation, 2, 1, 'dilation', layer, 1));
    const shape = [inChannels, outChannels / this.groups, ...this.kernelSize];
    [this.weight, this.bias] = initConv(shape, outChannels, opts.bias ?? true, opts, layer);
  }
  forward(x: Tensor): Tensor {
    return convTranspose2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      outputPadding: this.outputPadding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }
  protected override extraRepr(): string {
    return (
      `${this.inChannels}, ${this.outChannels}, kernelSize=${fmt(this.kernelSize)},` +
      ` stride=${fmt(this.stride)}, padding=${fmt(this.padding)}`
    );
  }
}

/** 2-D max pooling, as torch.nn.MaxPool2d (stride defaults to the kernel size). */
export class MaxPool2d extends Module {
  /** The pooling options (stride, padding, dilation, ceilMode). */
  readonly opts: Readonly<MaxPoolOptions>;
  /** @param kernelSize - Window size, per spatial dim or one for all. */
  constructor(
    readonly kernelSize: number | readonly number[],
    opts: MaxPoolOptions = {},
  ) {
    super();
    checkKeys(opts, ['stride', 'padding', 'dilation', 'ceilMode'], 'MaxPool2d');
    this.opts = Object.freeze({ ...opts });
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.opts);
  }
  protected override extraRepr(): string {
    const s = this.opts.stride !== undefined ? `, stride=${JSON.stringify(this.opts.stride)}` : '';
    return `kernelSize=${JSON.stringify(this.kernelSize)}${s}`;
  }
}
/** 1-D max pooling, as torch.nn.MaxPool1d. */
export class MaxPool1d extends Module {
  /** The pooling options (stride, padding, dilation, ceilMode). */
  readonly opts: Readonly<MaxPoolOptions>;
  /** @param kernelSize - Window size. */
  constructor(
    readonly kernelSize: number,
    opts: MaxPoolOptions = {},
  ) {
    super();
    checkKeys(opts, ['stride', 'padding', 'dilation', 'ceilMode'], 'MaxPool1d');
    this.opts = Object.freeze({ ...opts });
  }
  forward(x: Tensor): Tensor {
    return maxPool1d(x, this.kernelSize, this.opts);
  }
}
/** 2-D average pooling, as torch.nn.AvgPool2d. */
export class AvgPool2d extends Module {
  /** The pooling options. */
  readonly opts: Readonly<AvgPoolOptions>;
  /** @param kernelSize - Window size, per spatial dim or one for all. */
  constructor(
    readonly kernelSize: number | readonly number[],
    opts: AvgPoolOptions = {},
  ) {
    super();
    checkKeys(opts, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride'], 'AvgPool2d');
    this.opts = Object.freeze({ ...opts });
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.opts);
  }
  protected override extraRepr(): string {
    return `kernelSize=${JSON.stringify(this.kernelSize)}`;
  }
}
/** Adaptive average pooling to a fixed output size, as torch.nn.AdaptiveAvgPool2d. */
export class AdaptiveAvgPool2d extends Module {
  /** @param outputSize - Output size, per spatial dim or one for both; null keeps the input's size. */
  constructor(readonly outputSize: number | readonly (number | null)[]) {
    super();
    if (typeof outputSize !== 'number' && !(Array.isArray(outputSize) && outputSize.length === 2)) {
      throw new ShapeError(
        `AdaptiveAvgPool2d: outputSize must be an int or two of them, got` + ` ${JSON.stringify(outputSize)}`,
      );
    }
  }
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
  protected override extraRepr(): string {
    return `outputSize=${JSON.stringify(this.outputSize)}`;
  }
}
