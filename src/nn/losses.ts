/**
 * Losses as functions (re-exported from ops/composite.ts, where they are built from primitives)
 * and as modules holding their options, PyTorch style: `new CrossEntropyLoss({ labelSmoothing: 0.1 }).forward(logits, y)`.
 */
import { checkOptions } from '../validate.js';
import {
  binaryCrossEntropyWithLogits, crossEntropy, mseLoss, nllLoss,
  type CrossEntropyOptions, type Reduction,
} from '../ops/composite.js';
import type { Tensor, TensorLike } from '../tensor.js';
import { Module } from './module.js';

export { binaryCrossEntropyWithLogits, crossEntropy, mseLoss, nllLoss };
export type { CrossEntropyOptions, Reduction };

export interface LossOptions {
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
}

export class MSELoss extends Module {
  readonly reduction: Reduction;
  constructor(opts: LossOptions = {}) {
    super();
    checkOptions(this.constructor.name, opts, ['reduction']);
    this.reduction = opts.reduction ?? 'mean';
  }
  forward(input: Tensor, target: TensorLike): Tensor {
    return mseLoss(input, target, this.reduction);
  }
}
/** Softmax cross-entropy of logits [N, C] against class indices [N], with optional label smoothing. */
export class CrossEntropyLoss extends Module {
  readonly reduction: Reduction;
  readonly labelSmoothing: number;
  constructor(opts: CrossEntropyOptions = {}) {
    super();
    checkOptions('CrossEntropyLoss', opts, ['reduction', 'labelSmoothing']);
    this.reduction = opts.reduction ?? 'mean';
    this.labelSmoothing = opts.labelSmoothing ?? 0;
  }
  forward(logits: Tensor, targets: Tensor | readonly number[]): Tensor {
    return crossEntropy(logits, targets, { reduction: this.reduction, labelSmoothing: this.labelSmoothing });
  }
}
/** Negative log-likelihood of log-probabilities [N, C] (e.g. from logSoftmax) at class indices [N]. */
export class NLLLoss extends Module {
  readonly reduction: Reduction;
  constructor(opts: LossOptions = {}) {
    super();
    checkOptions(this.constructor.name, opts, ['reduction']);
    this.reduction = opts.reduction ?? 'mean';
  }
  forward(logProbs: Tensor, targets: Tensor | readonly number[]): Tensor {
    return nllLoss(logProbs, targets, this.reduction);
  }
}
/** Sigmoid + binary cross-entropy, stable for any logit; targets in [0, 1] of the logits' shape. */
export class BCEWithLogitsLoss extends Module {
  readonly reduction: Reduction;
  constructor(opts: LossOptions = {}) {
    super();
    checkOptions(this.constructor.name, opts, ['reduction']);
    this.reduction = opts.reduction ?? 'mean';
  }
  forward(logits: Tensor, targets: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(logits, targets, this.reduction);
  }
}
