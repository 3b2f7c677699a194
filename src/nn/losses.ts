/**
 * Losses as functions (re-exported from ops/losses.ts, where they are built from primitives)
 * and as modules holding their options, PyTorch style:
 * `new CrossEntropyLoss({ labelSmoothing: 0.1 }).forward(logits, y)`.
 */
import {
  binaryCrossEntropy, binaryCrossEntropyWithLogits, crossEntropy, huberLoss, klDiv, l1Loss, mseLoss, nllLoss,
  smoothL1Loss,
  type BCELossOptions, type CrossEntropyOptions, type HuberLossOptions, type KLDivOptions, type KLDivReduction,
  type LossOptions, type NLLLossOptions, type Reduction, type SmoothL1LossOptions,
} from '../ops/losses.js';
import { checkOptions } from '../ops/composite-math.js';
import type { Tensor, TensorLike } from '../tensor.js';
import { Module } from './module.js';

export {
  binaryCrossEntropy, binaryCrossEntropyWithLogits, crossEntropy, huberLoss, klDiv, l1Loss, mseLoss, nllLoss,
  smoothL1Loss,
};
export type {
  BCELossOptions, CrossEntropyOptions, HuberLossOptions, KLDivOptions, KLDivReduction, LossOptions, NLLLossOptions,
  Reduction, SmoothL1LossOptions,
};

export class MSELoss extends Module {
  readonly reduction: Reduction;
  constructor(opts: LossOptions = {}) {
    super();
    this.reduction = opts.reduction ?? 'mean';
  }
  forward(input: Tensor, target: TensorLike): Tensor {
    return mseLoss(input, target, this.reduction);
  }
}
/** Softmax cross-entropy of logits against class indices or probabilities (see crossEntropy). */
export class CrossEntropyLoss extends Module {
  readonly reduction: Reduction;
  readonly labelSmoothing: number;
  readonly ignoreIndex: number;
  readonly weight: Tensor | undefined;
  constructor(opts: CrossEntropyOptions = {}) {
    super();
    checkOptions('CrossEntropyLoss', opts, ['reduction', 'ignoreIndex', 'weight', 'labelSmoothing']);
    this.reduction = opts.reduction ?? 'mean';
    this.labelSmoothing = opts.labelSmoothing ?? 0;
    this.ignoreIndex = opts.ignoreIndex ?? -100;
    this.weight = opts.weight;
  }
  forward(logits: Tensor, targets: Tensor | readonly number[]): Tensor {
    const o: CrossEntropyOptions = { reduction: this.reduction, labelSmoothing: this.labelSmoothing };
    if (this.ignoreIndex !== -100) o.ignoreIndex = this.ignoreIndex;
    if (this.weight) o.weight = this.weight;
    return crossEntropy(logits, targets, o);
  }
}
/** Negative log-likelihood of log-probabilities (e.g. from logSoftmax) at class indices (see nllLoss). */
export class NLLLoss extends Module {
  readonly reduction: Reduction;
  readonly ignoreIndex: number;
  readonly weight: Tensor | undefined;
  constructor(opts: NLLLossOptions = {}) {
    super();
    checkOptions('NLLLoss', opts, ['reduction', 'ignoreIndex', 'weight']);
    this.reduction = opts.reduction ?? 'mean';
    this.ignoreIndex = opts.ignoreIndex ?? -100;
    this.weight = opts.weight;
  }
  forward(logProbs: Tensor, targets: Tensor | readonly number[]): Tensor {
    const o: NLLLossOptions = { reduction: this.reduction, ignoreIndex: this.ignoreIndex };
    if (this.weight) o.weight = this.weight;
    return nllLoss(logProbs, targets, o);
  }
}
/** Sigmoid + binary cross-entropy, stable for any logit; targets in [0, 1] of the logits' shape. */
export class BCEWithLogitsLoss extends Module {
  readonly reduction: Reduction;
  constructor(opts: LossOptions = {}) {
    super();
    this.reduction = opts.reduction ?? 'mean';
  }
  forward(logits: Tensor, targets: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(logits, targets, this.reduction);
  }
}
/** Mean absolute error. */
export class L1Loss extends Module {
  readonly reduction: Reduction;
  constructor(opts: LossOptions = {}) {
    super();
    checkOptions('L1Loss', opts, ['reduction']);
    this.reduction = opts.reduction ?? 'mean';
  }
  forward(input: Tensor, target: TensorLike): Tensor {
    return l1Loss(input, target, this.reduction);
  }
}
/** Quadratic below beta, linear above (see smoothL1Loss). */
export class SmoothL1Loss extends Module {
  readonly reduction: Reduction;
  readonly beta: number;
  constructor(opts: SmoothL1LossOptions = {}) {
    super();
    checkOptions('SmoothL1Loss', opts, ['reduction', 'beta']);
    this.reduction = opts.reduction ?? 'mean';
    this.beta = opts.beta ?? 1;
  }
  forward(input: Tensor, target: TensorLike): Tensor {
    return smoothL1Loss(input, target, { reduction: this.reduction, beta: this.beta });
  }
}
/** Quadratic below delta, delta-scaled linear above (see huberLoss). */
export class HuberLoss extends Module {
  readonly reduction: Reduction;
  readonly delta: number;
  constructor(opts: HuberLossOptions = {}) {
    super();
    checkOptions('HuberLoss', opts, ['reduction', 'delta']);
    this.reduction = opts.reduction ?? 'mean';
    this.delta = opts.delta ?? 1;
  }
  forward(input: Tensor, target: TensorLike): Tensor {
    return huberLoss(input, target, { reduction: this.reduction, delta: this.delta });
  }
}
/** KL divergence with log-probability inputs (see klDiv). */
export class KLDivLoss extends Module {
  readonly reduction: KLDivReduction;
  readonly logTarget: boolean;
  constructor(opts: KLDivOptions = {}) {
    super();
    checkOptions('KLDivLoss', opts, ['reduction', 'logTarget']);
    this.reduction = opts.reduction ?? 'mean';
    this.logTarget = opts.logTarget ?? false;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return klDiv(input, target, { reduction: this.reduction, logTarget: this.logTarget });
  }
}
/** Binary cross-entropy on probabilities (see binaryCrossEntropy). */
export class BCELoss extends Module {
  readonly reduction: Reduction;
  readonly weight: Tensor | undefined;
  constructor(opts: BCELossOptions = {}) {
    super();
    checkOptions('BCELoss', opts, ['reduction', 'weight']);
    this.reduction = opts.reduction ?? 'mean';
    this.weight = opts.weight;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    const opts = this.weight ? { reduction: this.reduction, weight: this.weight } : this.reduction;
    return binaryCrossEntropy(input, target, opts);
  }
}
