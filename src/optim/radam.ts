/** RAdam, Adam with a rectified adaptive learning rate (torch.optim.RAdam). */
import { defineOptimizer, zerosFor } from './optimizer.js';
import { getUpdateKernel, type FloatArray, type RAdamOptions } from './updates.js';
import { betas, bool, lr, num, weightDecay } from './validate.js';

export type { RAdamOptions };
/**
 * Per-parameter state of RAdam.
 * @property step - Steps taken.
 * @property expAvg - First moment estimate (torch: exp_avg).
 * @property expAvgSq - Second moment estimate (torch: exp_avg_sq).
 */
export type RAdamState = { step: number; expAvg: FloatArray; expAvgSq: FloatArray };

/**
 * RAdam (Liu et al. 2020, "On the Variance of the Adaptive Learning Rate and Beyond"), exactly
 * torch.optim.RAdam: while the length of the approximated moving average ρₜ ≤ 5 it takes
 * bias-corrected momentum steps, then Adam steps scaled by the rectification rₜ. With
 * decoupledWeightDecay it is RAdamW (θ ← θ·(1 − lr·wd)), as in the authors' code.
 */
export class RAdam extends defineOptimizer<RAdamOptions, RAdamState>({
  name: 'RAdam',
  options: {
    lr: lr(1e-3),
    betas: betas([0.9, 0.999]),
    eps: num(1e-8, { min: 0 }),
    weightDecay: weightDecay(0),
    decoupledWeightDecay: bool(false),
    maximize: bool(false),
  },
  state: { step: 'count', expAvg: 'buffer', expAvgSq: 'buffer' },
  init: (p) => ({ step: 0, expAvg: zerosFor(p), expAvgSq: zerosFor(p) }),
  update(p, g, s, o) {
    s.step += 1;
    getUpdateKernel('radam')(p, g, s.expAvg, s.expAvgSq, o, s.step);
  },
}) {}
