/** Adamax, Adam with the infinity norm (torch.optim.Adamax). */
import type { Tensor } from '../tensor.js';
import { Optimizer, zerosFor, type OptimizerOptions, type ParamGroup, type Params } from './optimizer.js';
import { getUpdateKernel, type AdamaxHyper, type FloatArray } from './updates.js';
import { checkBetas, checkBoolean, checkEps, checkLr, checkWeightDecay } from './validate.js';

export interface AdamaxOptions {
  /** Learning rate (default 2e-3). */
  lr: number;
  /** default [0.9, 0.999] */
  betas: [number, number];
  /** Added inside the max: u ← max(β2·u, |g| + ε) (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  maximize: boolean;
}
export type AdamaxState = { step: number; expAvg: FloatArray; expInf: FloatArray };

/** Adamax, exactly torch.optim.Adamax: m ← lerp(m, g, 1−β1); u ← max(β2·u, |g|+ε); θ ← θ − lr/(1−β1ᵗ)·m/u. */
export class Adamax extends Optimizer<AdamaxOptions, AdamaxState> {
  readonly #h: AdamaxHyper = { lr: 0, beta1: 0, beta2: 0, eps: 0, weightDecay: 0, maximize: false };
  constructor(params: Params<AdamaxOptions>, options: Partial<AdamaxOptions> & OptimizerOptions = {}) {
    const { skipNonFinite, ...rest } = options;
    super('Adamax', params, { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false, ...rest }, { skipNonFinite });
  }
  protected checkGroup(o: AdamaxOptions, where: string): void {
    checkLr(where, o.lr);
    checkBetas(where, o.betas);
    checkEps(where, o.eps);
    checkWeightDecay(where, o.weightDecay);
    checkBoolean(where, 'maximize', o.maximize);
  }
  protected get stateKeys(): readonly string[] {
    return ['step', 'expAvg', 'expInf'];
  }
  protected initState(p: Tensor): AdamaxState {
    return { step: 0, expAvg: zerosFor(p), expInf: zerosFor(p) };
  }
  protected updateParam(param: FloatArray, grad: FloatArray, s: AdamaxState, g: ParamGroup<AdamaxOptions>): void {
    s.step += 1;
    const h = this.#h;
    h.lr = g.lr; h.beta1 = g.betas[0]; h.beta2 = g.betas[1]; h.eps = g.eps; h.weightDecay = g.weightDecay; h.maximize = g.maximize;
    getUpdateKernel('adamax')(param, grad, s.expAvg, s.expInf, h, s.step);
  }
}
