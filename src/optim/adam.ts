/** Adam with L2 weight decay, and AdamW with decoupled weight decay (torch.optim.Adam / AdamW). */
import type { Tensor } from '../tensor.js';
import { Optimizer, zerosFor, type OptimizerOptions, type ParamGroup, type Params } from './optimizer.js';
import { getUpdateKernel, type AdamHyper, type FloatArray } from './updates.js';
import { checkBetas, checkBoolean, checkEps, checkLr, checkWeightDecay } from './validate.js';

export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay rate (default 1e-2). */
  weightDecay: number;
  /** Use the running maximum of v (AMSGrad; default false). */
  amsgrad: boolean;
  /** Ascend instead of descend. */
  maximize: boolean;
}
export type AdamState = { step: number; expAvg: FloatArray; expAvgSq: FloatArray; maxExpAvgSq?: FloatArray };


/** Shared by Adam and AdamW; `decoupled` picks where weightDecay acts. */
abstract class AdamBase extends Optimizer<AdamOptions, AdamState> {
  protected abstract readonly decoupled: boolean;
  readonly #hyper: AdamHyper = { lr: 0, beta1: 0, beta2: 0, eps: 0, weightDecay: 0, decoupledWeightDecay: 0, maximize: false };
  protected checkGroup(o: AdamOptions, where: string): void {
    checkLr(where, o.lr);
    checkBetas(where, o.betas);
    checkEps(where, o.eps);
    checkWeightDecay(where, o.weightDecay);
    checkBoolean(where, 'amsgrad', o.amsgrad);
    checkBoolean(where, 'maximize', o.maximize);
  }
  protected get stateKeys(): readonly string[] {
    return ['step', 'expAvg', 'expAvgSq', 'maxExpAvgSq'];
  }
  protected initState(p: Tensor, g: ParamGroup<AdamOptions>): AdamState {
    const s: AdamState = { step: 0, expAvg: zerosFor(p), expAvgSq: zerosFor(p) };
    if (g.amsgrad) s.maxExpAvgSq = zerosFor(p);
    return s;
  }
  protected updateParam(param: FloatArray, grad: FloatArray, s: AdamState, g: ParamGroup<AdamOptions>): void {
    if (g.amsgrad && s.maxExpAvgSq === undefined) s.maxExpAvgSq = zerosFor(param);
    s.step += 1;
    const h = this.#hyper;
    h.lr = g.lr;
    h.beta1 = g.betas[0];
    h.beta2 = g.betas[1];
    h.eps = g.eps;
    h.weightDecay = this.decoupled ? 0 : g.weightDecay;
    h.decoupledWeightDecay = this.decoupled ? g.weightDecay : 0;
    h.maximize = g.maximize;
    getUpdateKernel('adam')(param, grad, s.expAvg, s.expAvgSq, g.amsgrad ? s.maxExpAvgSq! : null, h, s.step);
  }
}

/**
 * Adam (Kingma & Ba 2015), exactly torch.optim.Adam: weightDecay is an L2 term added to the
 * gradient, so it is rescaled by the adaptive denominator like the rest of the gradient.
 */
export class Adam extends AdamBase {
  protected readonly decoupled: boolean = false;
  constructor(params: Params<AdamOptions>, options: Partial<AdamOptions> & OptimizerOptions = {}) {
    const { skipNonFinite, ...rest } = options;
    super('Adam', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, ...rest }, { skipNonFinite });
  }
}

/**
 * AdamW (Loshchilov & Hutter 2019), exactly torch.optim.AdamW: θ ← θ·(1 − lr·wd) before the
 * Adam step, so decay is independent of the gradient's scale. Default weightDecay 1e-2.
 */
export class AdamW extends AdamBase {
  protected readonly decoupled: boolean = true;
  constructor(params: Params<AdamOptions>, options: Partial<AdamOptions> & OptimizerOptions = {}) {
    const { skipNonFinite, ...rest } = options;
    super('AdamW', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false, ...rest }, { skipNonFinite });
  }
}
