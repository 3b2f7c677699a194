/** NAdam, Adam with Nesterov momentum (torch.optim.NAdam). */
import type { Tensor } from '../tensor.js';
import { Optimizer, zerosFor, type OptimizerOptions, type ParamGroup, type Params } from './optimizer.js';
import { getUpdateKernel, type FloatArray, type NadamHyper } from './updates.js';
import { checkBetas, checkBoolean, checkEps, checkLr, checkNumber, checkWeightDecay } from './validate.js';

export interface NAdamOptions {
  /** Learning rate (default 2e-3). */
  lr: number;
  /** default [0.9, 0.999] */
  betas: [number, number];
  /** default 1e-8 */
  eps: number;
  /** default 0 */
  weightDecay: number;
  /** ψ in μₜ = β1·(1 − ½·0.96^(t·ψ)) (default 4e-3). */
  momentumDecay: number;
  /** Decay θ ← θ·(1 − lr·wd) instead of adding wd·θ to the gradient (default false). */
  decoupledWeightDecay: boolean;
  maximize: boolean;
}
export type NAdamState = { step: number; muProduct: number; expAvg: FloatArray; expAvgSq: FloatArray };

/**
 * NAdam, exactly torch.optim.NAdam: μₜ = β1·(1 − ½·0.96^(t·ψ)), Πμ accumulated per parameter,
 * θ ← θ − lr·(1−μₜ)/(1−Πμₜ)·g/d − lr·μₜ₊₁/(1−Πμₜ₊₁)·m/d with d = √(v/(1−β2ᵗ)) + ε.
 */
export class NAdam extends Optimizer<NAdamOptions, NAdamState> {
  readonly #h: NadamHyper = {
    lr: 0, beta1: 0, beta2: 0, eps: 0, weightDecay: 0, decoupledWeightDecay: false, maximize: false, mu: 0, muNext: 0, muProduct: 0, muProductNext: 0,
  };
  constructor(params: Params<NAdamOptions>, options: Partial<NAdamOptions> & OptimizerOptions = {}) {
    const { skipNonFinite, ...rest } = options;
    super('NAdam', params, {
      lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, decoupledWeightDecay: false, maximize: false, ...rest,
    }, { skipNonFinite });
  }
  protected checkGroup(o: NAdamOptions, where: string): void {
    checkLr(where, o.lr);
    checkBetas(where, o.betas);
    checkEps(where, o.eps);
    checkWeightDecay(where, o.weightDecay);
    checkNumber(where, 'momentumDecay', o.momentumDecay, { min: 0 });
    checkBoolean(where, 'decoupledWeightDecay', o.decoupledWeightDecay);
    checkBoolean(where, 'maximize', o.maximize);
  }
  protected get stateKeys(): readonly string[] {
    return ['step', 'muProduct', 'expAvg', 'expAvgSq'];
  }
  protected initState(p: Tensor): NAdamState {
    return { step: 0, muProduct: 1, expAvg: zerosFor(p), expAvgSq: zerosFor(p) };
  }
  protected updateParam(param: FloatArray, grad: FloatArray, s: NAdamState, g: ParamGroup<NAdamOptions>): void {
    s.step += 1;
    const t = s.step, [beta1, beta2] = g.betas;
    const mu = beta1 * (1 - 0.5 * 0.96 ** (t * g.momentumDecay));
    const muNext = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * g.momentumDecay));
    s.muProduct *= mu;
    const h = this.#h;
    h.lr = g.lr; h.beta1 = beta1; h.beta2 = beta2; h.eps = g.eps; h.weightDecay = g.weightDecay;
    h.decoupledWeightDecay = g.decoupledWeightDecay; h.maximize = g.maximize;
    h.mu = mu; h.muNext = muNext; h.muProduct = s.muProduct; h.muProductNext = s.muProduct * muNext;
    getUpdateKernel('nadam')(param, grad, s.expAvg, s.expAvgSq, h, t);
  }
}
