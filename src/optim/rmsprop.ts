/** RMSprop (torch.optim.RMSprop), optionally centered and with momentum. */
import type { Tensor } from '../tensor.js';
import { Optimizer, zerosFor, type OptimizerOptions, type ParamGroup, type Params } from './optimizer.js';
import { getUpdateKernel, type FloatArray } from './updates.js';
import { checkBoolean, checkEps, checkLr, checkNumber, checkWeightDecay } from './validate.js';

export interface RMSpropOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Smoothing constant of the squared-gradient average (default 0.99). */
  alpha: number;
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Normalise by an estimate of the gradient's variance instead of its second moment (default false). */
  centered: boolean;
  maximize: boolean;
}
export type RMSpropState = { step: number; squareAvg: FloatArray; gradAvg?: FloatArray; momentumBuffer?: FloatArray };

/**
 * RMSprop, exactly torch.optim.RMSprop: s ← α·s + (1−α)·g²; centered: ḡ ← α·ḡ + (1−α)·g and
 * a = √(s − ḡ²) + ε, else a = √s + ε; momentum: b ← μ·b + g/a, θ ← θ − lr·b; else θ ← θ − lr·g/a.
 */
export class RMSprop extends Optimizer<RMSpropOptions, RMSpropState> {
  constructor(params: Params<RMSpropOptions>, options: Partial<RMSpropOptions> & OptimizerOptions = {}) {
    const { skipNonFinite, ...rest } = options;
    super('RMSprop', params, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false, ...rest }, { skipNonFinite });
  }
  protected checkGroup(o: RMSpropOptions, where: string): void {
    checkLr(where, o.lr);
    checkNumber(where, 'alpha', o.alpha, { min: 0, max: 1 });
    checkEps(where, o.eps);
    checkWeightDecay(where, o.weightDecay);
    checkNumber(where, 'momentum', o.momentum, { min: 0 });
    checkBoolean(where, 'centered', o.centered);
    checkBoolean(where, 'maximize', o.maximize);
  }
  protected get stateKeys(): readonly string[] {
    return ['step', 'squareAvg', 'gradAvg', 'momentumBuffer'];
  }
  protected initState(p: Tensor, g: ParamGroup<RMSpropOptions>): RMSpropState {
    const s: RMSpropState = { step: 0, squareAvg: zerosFor(p) };
    if (g.momentum > 0) s.momentumBuffer = zerosFor(p);
    if (g.centered) s.gradAvg = zerosFor(p);
    return s;
  }
  protected updateParam(param: FloatArray, grad: FloatArray, s: RMSpropState, g: ParamGroup<RMSpropOptions>): void {
    if (g.momentum > 0 && s.momentumBuffer === undefined) s.momentumBuffer = zerosFor(param);
    if (g.centered && s.gradAvg === undefined) s.gradAvg = zerosFor(param);
    s.step += 1;
    getUpdateKernel('rmsprop')(param, grad, s.squareAvg, g.centered ? s.gradAvg! : null, g.momentum > 0 ? s.momentumBuffer! : null, g);
  }
}
