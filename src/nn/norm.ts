/** Normalisation layers with PyTorch's names, defaults, parameters and buffers. */
import { ShapeError, ValueError } from '../errors.js';
import { batchNorm, groupNorm, rmsNorm } from '../ops/norm.js';
import { checkKeys } from '../ops/options.js';
import { fmt } from '../shape.js';
import { ones, Tensor, zeros } from '../tensor.js';
import { floatDType, Module, Parameter } from './module.js';
import type { DType } from '../dtype.js';

/** Options of `BatchNorm1d` and `BatchNorm2d` (torch.nn.BatchNorm2d). */
export interface BatchNormLayerOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Running-statistics factor (default 0.1); null for a cumulative average over all batches seen. */
  momentum?: number | null;
  /** Learnable per-channel weight and bias (default true). */
  affine?: boolean;
  /** Keep running statistics as buffers and use them in eval mode (default true). */
  trackRunningStats?: boolean;
  /** Parameter and buffer dtype: 'float32' (default) or 'float64'. */
  dtype?: DType;
}

abstract class BatchNormBase extends Module {
  /** Added to the variance. */
  readonly eps: number;
  /** Assignable (optim.updateBn sets it to null for a cumulative pass, as PyTorch). */
  momentum: number | null;
  /** Whether the layer has a learnable scale and shift. */
  readonly affine: boolean;
  /** Whether running statistics are kept and used in eval mode. */
  readonly trackRunningStats: boolean;
  /** Scale γ per feature, or null without affine. */
  readonly weight: Parameter | null;
  /** Shift β per feature, or null without affine. */
  readonly bias: Parameter | null;
  /** Running mean per feature (a buffer), or null without trackRunningStats. */
  declare runningMean: Tensor | null;
  /** Running variance per feature (a buffer), or null without trackRunningStats. */
  declare runningVar: Tensor | null;
  /** Batches seen in training (int32 scalar; PyTorch's is int64). */
  declare numBatchesTracked: Tensor | null;
  /**
   * @param numFeatures - Number of channels C.
   * @param opts - Options.
   * @param layer - The layer's name in messages.
   */
  constructor(
    readonly numFeatures: number,
    opts: BatchNormLayerOptions,
    readonly layer: string,
  ) {
    super();
    checkKeys(opts, ['eps', 'momentum', 'affine', 'trackRunningStats', 'dtype'], layer);
    if (!Number.isInteger(numFeatures) || numFeatures <= 0)
      throw new ValueError(`${layer}: numFeatures must be` + ` a positive integer, got ${numFeatures}`);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    if (this.momentum !== null && !(this.momentum >= 0 && this.momentum <= 1)) {
      throw new ValueError(`${layer}: momentum must be in [0, 1] or null, got ${this.momentum}`);
    }
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    const dtype = floatDType(opts.dtype, layer);
    this.weight = this.affine ? new Parameter(ones([numFeatures], { dtype })) : null;
    this.bias = this.affine ? new Parameter(zeros([numFeatures], { dtype })) : null;
    const track = this.trackRunningStats;
    this.registerBuffer('runningMean', track ? zeros([numFeatures], { dtype }) : null);
    this.registerBuffer('runningVar', track ? ones([numFeatures], { dtype }) : null);
    this.registerBuffer('numBatchesTracked', track ? zeros([], { dtype: 'int32' }) : null);
  }
  /** Throws a ShapeError unless the input has the rank this layer takes. */
  protected abstract checkRank(x: Tensor): void;
  /** Resets the running statistics to mean 0, variance 1 and the batch count to 0. */
  resetRunningStats(): void {
    this.runningMean?.data.fill(0);
    this.runningVar?.data.fill(1);
    this.numBatchesTracked?.data.fill(0);
  }
  forward(x: Tensor): Tensor {
    this.checkRank(x);
    if (x.shape[1] !== this.numFeatures) {
      throw new ShapeError(
        `${this.layer}: expected ${this.numFeatures} channels (dim 1), got input of shape` + ` ${fmt(x.shape)}`,
      );
    }
    let momentum = this.momentum ?? 0;
    if (this.training && this.trackRunningStats && this.numBatchesTracked) {
      const n = ++this.numBatchesTracked.data[0]!;
      if (this.momentum === null) momentum = 1 / n;
    }
    const useBatch = this.training || this.runningMean === null;
    const track = !this.training || this.trackRunningStats;
    return batchNorm(x, track ? this.runningMean : null, track ? this.runningVar : null, {
      weight: this.weight,
      bias: this.bias,
      training: useBatch,
      momentum,
      eps: this.eps,
    });
  }
  protected override extraRepr(): string {
    return (
      `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine},` +
      ` trackRunningStats=${this.trackRunningStats}`
    );
  }
}
/** Batch normalisation over [N, C] or [N, C, L], as torch.nn.BatchNorm1d. */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, opts: BatchNormLayerOptions = {}) {
    super(numFeatures, opts, 'BatchNorm1d');
  }
  protected checkRank(x: Tensor): void {
    if (!(x instanceof Tensor) || (x.ndim !== 2 && x.ndim !== 3)) {
      throw new ShapeError(
        `BatchNorm1d: expected a 2-D or 3-D input [N, C(, L)], got` +
          ` ${x instanceof Tensor ? fmt(x.shape) : typeof x}`,
      );
    }
  }
}
/** Batch normalisation over [N, C, H, W], as torch.nn.BatchNorm2d. */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, opts: BatchNormLayerOptions = {}) {
    super(numFeatures, opts, 'BatchNorm2d');
  }
  protected checkRank(x: Tensor): void {
    if (!(x instanceof Tensor) || x.ndim !== 4) {
      throw new ShapeError(
        `BatchNorm2d: expected a 4-D input [N, C, H, W], got` + ` ${x instanceof Tensor ? fmt(x.shape) : typeof x}`,
      );
    }
  }
}

/** Options of `GroupNorm` (torch.nn.GroupNorm). */
export interface GroupNormLayerOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learnable per-channel weight and bias (default true). */
  affine?: boolean;
  /** Parameter dtype: 'float32' (default) or 'float64'. */
  dtype?: DType;
}
/** Group normalisation, as torch.nn.GroupNorm(numGroups, numChannels). */
export class GroupNorm extends Module {
  /** Added to the variance. */
  readonly eps: number;
  /** Scale per channel, or null without affine. */
  readonly weight: Parameter | null;
  /** Shift per channel, or null without affine. */
  readonly bias: Parameter | null;
  /**
   * @param numGroups - Number of groups the channels are split into.
   * @param numChannels - Number of channels C.
   */
  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    opts: GroupNormLayerOptions = {},
  ) {
    super();
    checkKeys(opts, ['eps', 'affine', 'dtype'], 'GroupNorm');
    const ints = Number.isInteger(numGroups) && numGroups >= 1 && Number.isInteger(numChannels);
    if (!ints || numChannels % numGroups !== 0) {
      throw new ValueError(`GroupNorm: numChannels ${numChannels} must be divisible by numGroups ${numGroups}`);
    }
    this.eps = opts.eps ?? 1e-5;
    const dtype = floatDType(opts.dtype, 'GroupNorm');
    const affine = opts.affine ?? true;
    this.weight = affine ? new Parameter(ones([numChannels], { dtype })) : null;
    this.bias = affine ? new Parameter(zeros([numChannels], { dtype })) : null;
  }
  forward(x: Tensor): Tensor {
    return groupNorm(x, this.numGroups, { weight: this.weight, bias: this.bias, eps: this.eps });
  }
  protected override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}`;
  }
}

/** Options of `RMSNorm` (torch.nn.RMSNorm). */
export interface RMSNormLayerOptions {
  /** Default null: the dtype's machine epsilon, as torch. */
  eps?: number | null;
  /** Learnable per-element weight (default true). */
  elementwiseAffine?: boolean;
  /** Parameter dtype: 'float32' (default) or 'float64'. */
  dtype?: DType;
}
/** RMS normalisation over the trailing `normalizedShape` dims, as torch.nn.RMSNorm. */
export class RMSNorm extends Module {
  /** The trailing dims normalised over. */
  readonly normalizedShape: readonly number[];
  /** Added to the mean square; null uses the dtype's machine epsilon. */
  readonly eps: number | null;
  /** Elementwise scale, or null without elementwiseAffine. */
  readonly weight: Parameter | null;
  constructor(normalizedShape: number | readonly number[], opts: RMSNormLayerOptions = {}) {
    super();
    checkKeys(opts, ['eps', 'elementwiseAffine', 'dtype'], 'RMSNorm');
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new ValueError(
        `RMSNorm: normalizedShape must be positive integers, got` + ` ${JSON.stringify(normalizedShape)}`,
      );
    }
    this.normalizedShape = Object.freeze(shape);
    this.eps = opts.eps ?? null;
    const dtype = floatDType(opts.dtype, 'RMSNorm');
    this.weight = (opts.elementwiseAffine ?? true) ? new Parameter(ones(shape, { dtype })) : null;
  }
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.normalizedShape, { weight: this.weight, eps: this.eps });
  }
  protected override extraRepr(): string {
    return `${fmt(this.normalizedShape)}, eps=${this.eps}`;
  }
}
