/** Lion, sign momentum (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"). */
import type { Tensor } from '../tensor.js';
import { Optimizer, zerosFor, type OptimizerOptions, type ParamGroup, type Params } from './optimizer.js';
import { getUpdateKernel, type FloatArray, type LionHyper } from './updates.js';
import { checkBetas, checkBoolean, checkLr, checkWeightDecay } from './validate.js';

export interface LionOptions {
  /** Learning rate (default 1e-4; typically 3–10× smaller than AdamW's). */
  lr: number;
  /** Interpolation for the update direction and for the momentum (default [0.9, 0.99]). */
  betas: [number, number];
  /** Decoupled weight decay θ ← θ·(1 − lr·wd) (default 0). */
  weightDecay: number;
  maximize: boolean;
}
export type LionState = { expAvg: FloatArray };

/**
 * Lion: θ ← θ·(1 − lr·wd); θ ← θ − lr·sign(β1·m + (1−β1)·g); m ← β2·m + (1−β2)·g.
 * Not in torch.optim; follows the paper's Algorithm 2, lucidrains/lion-pytorch and optax.lion.
 */
export class Lion extends Optimizer<LionOptions, LionState> {
  readonly #h: LionHyper = { lr: 0, beta1: 0, beta2: 0, weightDecay: 0, maximize: false };
  constructor(params: Params<LionOptions>, options: Partial<LionOptions> & OptimizerOptions = {}) {
    const { skipNonFinite, ...rest } = options;
    super('Lion', params, { lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0, maximize: false, ...rest }, { skipNonFinite });
  }
  protected checkGroup(o: LionOptions, where: string): void {
    checkLr(where, o.lr);
    checkBetas(where, o.betas);
    checkWeightDecay(where, o.weightDecay);
    checkBoolean(where, 'maximize', o.maximize);
  }
  protected get stateKeys(): readonly string[] {
    return ['expAvg'];
  }
  protected initState(p: Tensor): LionState {
    return { expAvg: zerosFor(p) };
  }
  protected updateParam(param: FloatArray, grad: FloatArray, s: LionState, g: ParamGroup<LionOptions>): void {
    const h = this.#h;
    h.lr = g.lr; h.beta1 = g.betas[0]; h.beta2 = g.betas[1]; h.weightDecay = g.weightDecay; h.maximize = g.maximize;
    getUpdateKernel('lion')(param, grad, s.expAvg, h);
  }
}
