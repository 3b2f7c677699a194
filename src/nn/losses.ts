/**
 * Losses, as functions built from primitives (no backward of their own) and as modules holding
 * their options, PyTorch style: `new CrossEntropyLoss({ labelSmoothing: 0.1 }).forward(logits, y)`.
 * Names, options and defaults follow torch.nn.functional; options objects refuse unknown keys.
 */
import { DTypeError, IndexError, ShapeError, ValueError } from '../errors.js';
import { checkIndexContainer, checkIndexValues, checkOptions } from '../validate.js';
import { softplus } from '../ops/composite.js';
import { softmaxCrossEntropy } from '../ops/fused.js';
import { where } from '../ops/elementwise.js';
import { fmt, shapeEq } from '../shape.js';
import { expectTensor, Tensor, type TensorLike } from '../tensor.js';
import { Module } from './module.js';

/** How a loss reduces over elements: their mean, their sum, or none (PyTorch's `reduction`). */
export type Reduction = 'mean' | 'sum' | 'none';
function reduce(l: Tensor, reduction: Reduction, op: string): Tensor {
  if (reduction === 'mean') return l.mean();
  if (reduction === 'sum') return l.sum();
  if (reduction === 'none') return l;
  throw new ValueError(`${op}: reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
}
function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (!shapeEq(a.shape, b.shape)) {
    throw new ShapeError(`${op}: input shape ${fmt(a.shape)} and target shape ${fmt(b.shape)} must be equal`);
  }
}
/** A loss's third argument: a reduction name, or an options object (checked against `known`). */
function lossOpts<O extends { reduction?: Reduction }>(
  op: string,
  arg: Reduction | O | undefined,
  known: readonly string[],
): O {
  if (arg === undefined) return {} as O;
  if (typeof arg === 'string') return { reduction: arg } as O;
  checkOptions(op, arg, known);
  return arg;
}
function pointwise(op: string, input: Tensor, target: TensorLike): Tensor {
  if (target instanceof Tensor) sameShape(op, input, target);
  return input.sub(target);
}

/** Options every loss takes. */
export interface LossOptions {
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
}
/** Mean squared error (torch.nn.functional.mse_loss). */
export function mseLoss(pred: Tensor, target: TensorLike, reduction: Reduction | LossOptions = 'mean'): Tensor {
  expectTensor('mseLoss', 'input', pred);
  const o = lossOpts<LossOptions>('mseLoss', reduction, ['reduction']);
  const d = pointwise('mseLoss', pred, target);
  return reduce(d.mul(d), o.reduction ?? 'mean', 'mseLoss');
}
/** Mean absolute error (torch.nn.functional.l1_loss). */
export function l1Loss(input: Tensor, target: TensorLike, opts: Reduction | LossOptions = 'mean'): Tensor {
  expectTensor('l1Loss', 'input', input);
  const o = lossOpts<LossOptions>('l1Loss', opts, ['reduction']);
  return reduce(pointwise('l1Loss', input, target).abs(), o.reduction ?? 'mean', 'l1Loss');
}
/** Options of `smoothL1Loss` (torch.nn.functional.smooth_l1_loss). */
export interface SmoothL1LossOptions extends LossOptions {
  /** Where the loss turns from quadratic to linear (default 1; 0 gives l1Loss). */
  beta?: number;
}
/** 0.5·d²/β where |d| < β, |d| − 0.5β elsewhere (torch.nn.functional.smooth_l1_loss). */
export function smoothL1Loss(input: Tensor, target: TensorLike, opts: Reduction | SmoothL1LossOptions = {}): Tensor {
  expectTensor('smoothL1Loss', 'input', input);
  const o = lossOpts<SmoothL1LossOptions>('smoothL1Loss', opts, ['reduction', 'beta']);
  const beta = o.beta ?? 1;
  if (!(beta >= 0)) throw new ValueError(`smoothL1Loss: beta must be non-negative, got ${beta}`);
  const a = pointwise('smoothL1Loss', input, target).abs();
  const l = beta === 0 ? a : where(a.lt(beta), a.mul(a).mul(0.5 / beta), a.sub(0.5 * beta));
  return reduce(l, o.reduction ?? 'mean', 'smoothL1Loss');
}
/** Options of `huberLoss` (torch.nn.functional.huber_loss). */
export interface HuberLossOptions extends LossOptions {
  /** Where the loss turns from quadratic to linear (default 1). */
  delta?: number;
}
/** 0.5·d² where |d| < δ, δ(|d| − 0.5δ) elsewhere (torch.nn.functional.huber_loss). */
export function huberLoss(input: Tensor, target: TensorLike, opts: Reduction | HuberLossOptions = {}): Tensor {
  expectTensor('huberLoss', 'input', input);
  const o = lossOpts<HuberLossOptions>('huberLoss', opts, ['reduction', 'delta']);
  const delta = o.delta ?? 1;
  if (!(delta > 0)) throw new ValueError(`huberLoss: delta must be positive, got ${delta}`);
  const a = pointwise('huberLoss', input, target).abs();
  const l = where(a.lt(delta), a.mul(a).mul(0.5), a.sub(0.5 * delta).mul(delta));
  return reduce(l, o.reduction ?? 'mean', 'huberLoss');
}
/** A `Reduction`, or 'batchmean' (the sum divided by the batch size, the mathematically correct KL). */
export type KLDivReduction = Reduction | 'batchmean';
/** Options of `klDiv` (torch.nn.functional.kl_div). */
export interface KLDivOptions {
  /** 'mean' (default, as torch, over all elements), 'batchmean' (sum / batch size: the true KL), 'sum', 'none'. */
  reduction?: KLDivReduction;
  /** The target is given as log-probabilities (default false). */
  logTarget?: boolean;
}
/**
 * KL divergence with `input` as log-probabilities: target·(log target − input), with 0 where
 * target = 0 (torch.nn.functional.kl_div).
 */
export function klDiv(input: Tensor, target: Tensor, opts: KLDivReduction | KLDivOptions = {}): Tensor {
  expectTensor('klDiv', 'input', input);
  expectTensor('klDiv', 'target', target);
  const o: KLDivOptions = typeof opts === 'string' ? { reduction: opts } : opts;
  checkOptions('klDiv', o, ['reduction', 'logTarget']);
  sameShape('klDiv', input, target);
  let l: Tensor;
  if (o.logTarget) {
    l = target.exp().mul(target.sub(input));
  } else {
    const safe = where(target.gt(0), target, 1); // x·log x → 0 at x = 0, with a finite gradient
    l = target.mul(safe.log()).sub(target.mul(input));
  }
  const r = o.reduction ?? 'mean';
  if (r === 'batchmean') return l.sum().div(input.ndim === 0 ? 1 : input.shape[0]!);
  return reduce(l, r, 'klDiv');
}
/** Options of `binaryCrossEntropy` (torch.nn.functional.binary_cross_entropy). */
export interface BCELossOptions extends LossOptions {
  /** Rescales each element's loss (broadcast to the input's shape). */
  weight?: Tensor;
}
/**
 * Binary cross-entropy on probabilities in [0, 1] (torch.nn.functional.binary_cross_entropy):
 * −w·(t·log p + (1 − t)·log(1 − p)), with each log clamped at −100 as PyTorch.
 * Prefer binaryCrossEntropyWithLogits for stability.
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, opts: Reduction | BCELossOptions = {}): Tensor {
  expectTensor('binaryCrossEntropy', 'input', input);
  expectTensor('binaryCrossEntropy', 'target', target);
  const o = lossOpts<BCELossOptions>('binaryCrossEntropy', opts, ['reduction', 'weight']);
  sameShape('binaryCrossEntropy', input, target);
  for (const v of input.data) {
    if (v < 0 || v > 1) {
      throw new ValueError(`binaryCrossEntropy: all elements of input must be probabilities in [0, 1], got ${v}`);
    }
  }
  const clampedLog = (p: Tensor): Tensor => {
    const lp = where(p.gt(0), p, 1).log();
    return where(p.gt(0).mul(lp.gt(-100)), lp, -100);
  };
  let l = target
    .mul(clampedLog(input))
    .add(
      target
        .neg()
        .add(1)
        .mul(clampedLog(input.neg().add(1))),
    )
    .neg();
  if (o.weight) l = l.mul(o.weight);
  return reduce(l, o.reduction ?? 'mean', 'binaryCrossEntropy');
}
/** Sigmoid + binary cross-entropy in one stable expression: max(x,0) − x·t + log1p(e^−|x|). */
export function binaryCrossEntropyWithLogits(
  logits: Tensor,
  targets: Tensor,
  reduction: Reduction | LossOptions = 'mean',
): Tensor {
  expectTensor('binaryCrossEntropyWithLogits', 'input', logits);
  expectTensor('binaryCrossEntropyWithLogits', 'target', targets);
  const o = lossOpts<LossOptions>('binaryCrossEntropyWithLogits', reduction, ['reduction']);
  sameShape('binaryCrossEntropyWithLogits', logits, targets);
  return reduce(softplus(logits).sub(logits.mul(targets)), o.reduction ?? 'mean', 'binaryCrossEntropyWithLogits');
}

// ---- class losses ------------------------------------------------------------------------------
/** Options of `nllLoss` (torch.nn.functional.nll_loss). */
export interface NLLLossOptions extends LossOptions {
  /** Targets equal to this are skipped (no loss, no gradient, not counted in the mean). Default -100. */
  ignoreIndex?: number;
  /** Per-class weights, shape [C]; the mean is then Σ wᵢ·lossᵢ / Σ wᵢ over the counted targets. */
  weight?: Tensor;
}
/** Options of `crossEntropy` (torch.nn.functional.cross_entropy). */
export interface CrossEntropyOptions extends NLLLossOptions {
  /** Mixes the target with the uniform distribution (torch's label_smoothing). */
  labelSmoothing?: number;
}
/** Moves the class axis of [C], [N, C] or [N, C, d1, …] last and flattens the rest: [M, C]. */
function classesLast(op: string, x: Tensor): Tensor {
  if (x.ndim === 0) {
    throw new ShapeError(`${op}: expected input of shape [C], [N, C] or [N, C, d1, …], got a 0-d tensor`);
  }
  if (x.ndim === 1) return x.reshape([1, -1]);
  if (x.ndim === 2) return x;
  const perm = [0, ...x.shape.slice(2).map((_, i) => i + 2), 1];
  return x.permute(perm).reshape([-1, x.shape[1]!]);
}
/** The expected class-target shape for an input: [] for [C], [N] for [N, C], [N, d1, …] for [N, C, d1, …]. */
const targetShape = (x: Tensor): number[] => (x.ndim === 1 ? [] : [x.shape[0]!, ...x.shape.slice(2)]);

function classWeight(op: string, logp: Tensor, w: Tensor | undefined): void {
  if (w === undefined) return;
  const c = logp.shape[1]!;
  if (w.ndim !== 1 || w.shape[0] !== c) {
    throw new ShapeError(`${op}: weight must have shape [${c}], got ${fmt(w.shape)}`);
  }
  if (w.dtype !== logp.dtype) {
    throw new DTypeError(`${op}: weight dtype ${w.dtype} must equal the input's ${logp.dtype}`);
  }
}

/**
 * The shared core of nllLoss and crossEntropy on class indices: per-target losses
 * (1 − ε)·wₜ·(−log pₜ) + ε/C·Σ_c w_c·(−log p_c), zero at ignored targets, and their weights.
 */
function classIndexLoss(
  op: string,
  input: Tensor,
  logp: Tensor,
  targets: Tensor | readonly number[],
  o: CrossEntropyOptions,
): Tensor {
  const want = targetShape(input);
  // Class indices may hold ignoreIndex (negative by default): check the others before any conversion truncates.
  const ignore = o.ignoreIndex ?? -100;
  if (!(targets instanceof Tensor)) {
    checkIndexContainer(op, 'targets', targets);
    checkIndexValues(
      op,
      'targets',
      targets.filter((v) => v !== ignore),
    );
  }
  const t = targets instanceof Tensor ? targets : new Tensor(Int32Array.from(targets), [targets.length]);
  if (!shapeEq(t.shape, want) && !(want.length === 0 && t.size === 1)) {
    throw new ShapeError(
      `${op}: targets must have shape ${fmt(want)} for input ${fmt(input.shape)}, got ${fmt(t.shape)}`,
    );
  }
  const [m, c] = logp.shape as [number, number];
  const idx = new Int32Array(m),
    valid = new Float64Array(m);
  t.data.forEach((v, i) => {
    if (v === ignore) return;
    if (!Number.isInteger(v)) throw new IndexError(`${op}: target ${v} (targets[${i}]) is not an integer`);
    if (v < 0)
      throw new IndexError(`${op}: target ${v} is out of range (expected a class index in [0, ${c}) or ignoreIndex)`);
    if (v >= c) throw new ValueError(`${op}: target ${v} is not a class index in [0, ${c})`);
    idx[i] = v;
    valid[i] = 1;
  });
  const idxT = new Tensor(idx, [m, 1]);
  // Unweighted with nothing ignored (the common case): no masks, a plain mean.
  const plain = !o.weight && valid.every((v) => v === 1);
  const validT = new Tensor(logp.dtype === 'float64' ? valid : Float32Array.from(valid), [m]);
  const w = o.weight ? o.weight.gather(0, idxT.reshape([m])).mul(validT) : validT;
  let loss = logp.gather(1, idxT).squeeze(1).neg();
  if (!plain) loss = loss.mul(w);
  const eps = o.labelSmoothing ?? 0;
  if (eps > 0) {
    const all = (o.weight ? logp.mul(o.weight) : logp).sum(1).neg();
    loss = loss.mul(1 - eps).add((plain ? all : all.mul(validT)).mul(eps / c));
  }
  const r = o.reduction ?? 'mean';
  if (r === 'mean') return plain ? loss.mean() : loss.sum().div(w.sum());
  if (r === 'sum') return loss.sum();
  if (r === 'none') return loss.reshape(want);
  return reduce(loss, r, op);
}

/** Negative log-likelihood of log-probabilities [C], [N, C] or [N, C, d1, …] at class indices. */
export function nllLoss(
  logProbs: Tensor,
  targets: Tensor | readonly number[],
  opts: Reduction | NLLLossOptions = 'mean',
): Tensor {
  expectTensor('nllLoss', 'input', logProbs);
  const o = lossOpts<NLLLossOptions>('nllLoss', opts, ['reduction', 'ignoreIndex', 'weight']);
  const logp = classesLast('nllLoss', logProbs);
  classWeight('nllLoss', logp, o.weight);
  return classIndexLoss('nllLoss', logProbs, logp, targets, o);
}

/**
 * The common case in one fused primitive (softmax + NLL forward, softmax − onehot backward):
 * logits [N, C], valid class indices [N], no weight, ignored target or label smoothing.
 * Anything else (or anything invalid, so the general path reports it) returns null.
 */
function fusedCrossEntropy(logits: Tensor, targets: Tensor | readonly number[], o: CrossEntropyOptions): Tensor | null {
  if (logits.ndim !== 2 || logits.dtype === 'int32' || o.weight || (o.labelSmoothing ?? 0) !== 0) return null;
  const [n, c] = logits.shape as [number, number];
  let vals: ArrayLike<number>;
  if (targets instanceof Tensor) {
    if (targets.ndim !== 1 || targets.shape[0] !== n || targets.requiresGrad) return null;
    vals = targets.data;
  } else {
    if (targets.length !== n) return null;
    vals = targets;
  }
  const idx = new Int32Array(n),
    ignore = o.ignoreIndex ?? -100;
  for (let i = 0; i < n; i++) {
    const v = vals[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= c || v === ignore) return null;
    idx[i] = v;
  }
  const r = o.reduction ?? 'mean';
  if (r !== 'mean' && r !== 'sum' && r !== 'none') return null;
  return reduce(softmaxCrossEntropy(logits, new Tensor(idx, [n])), r, 'crossEntropy');
}

/**
 * Softmax cross-entropy of logits [C], [N, C] or [N, C, d1, …] against class indices
 * ([], [N] or [N, d1, …]) or class probabilities (a float tensor of the input's shape).
 */
export function crossEntropy(
  logits: Tensor,
  targets: Tensor | readonly number[],
  opts: CrossEntropyOptions = {},
): Tensor {
  expectTensor('crossEntropy', 'input', logits);
  const op = 'crossEntropy';
  checkOptions(op, opts, ['reduction', 'ignoreIndex', 'weight', 'labelSmoothing']);
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new ValueError(`${op}: labelSmoothing must be in [0, 1], got ${eps}`);
  const fused = fusedCrossEntropy(logits, targets, opts);
  if (fused) return fused;
  const logp = classesLast(op, logits).logSoftmax(1);
  classWeight(op, logp, opts.weight);
  if (!(targets instanceof Tensor) || !shapeEq(targets.shape, logits.shape) || logits.ndim === 0) {
    return classIndexLoss(op, logits, logp, targets, opts);
  }
  // Probability targets.
  if (targets.dtype !== logits.dtype) {
    throw new DTypeError(
      `${op}: probability targets must have the input's dtype ${logits.dtype}, got ${targets.dtype}`,
    );
  }
  if (opts.ignoreIndex !== undefined) {
    throw new ValueError(`${op}: ignoreIndex applies to class-index targets, not probability targets`);
  }
  const c = logp.shape[1]!;
  let t = classesLast(op, targets);
  if (eps > 0) t = t.mul(1 - eps).add(eps / c);
  let l = logp.mul(t);
  if (opts.weight) l = l.mul(opts.weight);
  const loss = l.sum(1).neg();
  const r = opts.reduction ?? 'mean';
  if (r === 'none') return loss.reshape(targetShape(logits));
  return reduce(loss, r, op);
}

// ---- modules ----------------------------------------------------------------------------------
export class MSELoss extends Module {
  /** How the loss is reduced. */
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
/** Softmax cross-entropy of logits against class indices or probabilities (see crossEntropy). */
export class CrossEntropyLoss extends Module {
  /** How the loss is reduced. */
  readonly reduction: Reduction;
  /** Label smoothing ε in [0, 1]. */
  readonly labelSmoothing: number;
  /** Target value that contributes nothing. */
  readonly ignoreIndex: number;
  /** Per-class weight, if given. */
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
  /** How the loss is reduced. */
  readonly reduction: Reduction;
  /** Target value that contributes nothing. */
  readonly ignoreIndex: number;
  /** Per-class weight, if given. */
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
  /** How the loss is reduced. */
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
/** Mean absolute error. */
export class L1Loss extends Module {
  /** How the loss is reduced. */
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
  /** How the loss is reduced. */
  readonly reduction: Reduction;
  /** Where the loss changes from quadratic to linear. */
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
  /** How the loss is reduced. */
  readonly reduction: Reduction;
  /** Where the loss changes from quadratic to linear. */
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
  /** How the loss is reduced. */
  readonly reduction: KLDivReduction;
  /** Whether the target is given as log-probabilities. */
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
  /** How the loss is reduced. */
  readonly reduction: Reduction;
  /** Per-element rescaling weight, if given. */
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
