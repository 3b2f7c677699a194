/** Adagrad (torch.optim.Adagrad). */
import type { Tensor } from '../tensor.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type Params } from './optimizer.js';
import { getUpdateKernel, type FloatArray } from './updates.js';
import { checkBoolean, checkEps, checkLr, checkNumber, checkWeightDecay } from './validate.js';

export interface AdagradOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** lr at step t is lr / (1 + (t−1)·lrDecay) (default 0). */
  lrDecay: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Starting value of the squared-gradient sum (default 0). */
  initialAccumulatorValue: number;
  /** Added to the denominator (default 1e-10). */
  eps: number;
  maximize: boolean;
}
export type AdagradState = { step: number; sum: FloatArray };

/** Adagrad, exactly torch.optim.Adagrad: clr = lr/(1 + (t−1)·lrDecay); S ← S + g²; θ ← θ − clr·g/(√S + ε). */
export class Adagrad extends Optimizer<AdagradOptions, AdagradState> {
  constructor(params: Params<AdagradOptions>, options: Partial<AdagradOptions> & OptimizerOptions = {}) {
    const { skipNonFinite, ...rest } = options;
    super('Adagrad', params, { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false, ...rest }, { skipNonFinite });
  }
  protected checkGroup(o: AdagradOptions, where: string): void {
    checkLr(where, o.lr);
    checkNumber(where, 'lrDecay', o.lrDecay, { min: 0 });
    checkWeightDecay(where, o.weightDecay);
    checkNumber(where, 'initialAccumulatorValue', o.initialAccumulatorValue, { min: 0 });
    checkEps(where, o.eps);
    checkBoolean(where, 'maximize', o.maximize);
  }
  protected get stateKeys(): readonly string[] {
    return ['step', 'sum'];
  }
  protected initState(p: Tensor, g: ParamGroup<AdagradOptions>): AdagradState {
    const sum = p.dtype === 'float64' ? new Float64Array(p.size) : new Float32Array(p.size);
    sum.fill(g.initialAccumulatorValue);
    return { step: 0, sum };
  }
  protected updateParam(param: FloatArray, grad: FloatArray, s: AdagradState, g: ParamGroup<AdagradOptions>): void {
    s.step += 1;
    getUpdateKernel('adagrad')(param, grad, s.sum, g, s.step);
  }
}
