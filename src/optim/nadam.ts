/** NAdam, Adam with Nesterov momentum (torch.optim.NAdam). */
import { defineOptimizer, zerosFor } from './optimizer.js';
import { getUpdateKernel, nadamMu, type FloatArray, type NAdamOptions } from './updates.js';
import { betas, bool, eps, lr, num, weightDecay } from './validate.js';

export type { NAdamOptions };
/**
 * Per-parameter state of NAdam.
 * @property step - Steps taken.
 * @property muProduct - Product of the momentum schedule μ₁…μₜ (torch: mu_product).
 * @property expAvg - First moment estimate (torch: exp_avg).
 * @property expAvgSq - Second moment estimate (torch: exp_avg_sq).
 */
export type NAdamState = { step: number; muProduct: number; expAvg: FloatArray; expAvgSq: FloatArray };

/**
 * NAdam, exactly torch.optim.NAdam: μₜ = β1·(1 − ½·0.96^(t·ψ)), Πμ accumulated per parameter,
 * θ ← θ − lr·(1−μₜ)/(1−Πμₜ)·g/d − lr·μₜ₊₁/(1−Πμₜ₊₁)·m/d with d = √(v/(1−β2ᵗ)) + ε.
 */
export class NAdam extends defineOptimizer<NAdamOptions, NAdamState>({
  name: 'NAdam',
  options: {
    lr: lr(2e-3),
    betas: betas([0.9, 0.999]),
    eps: eps(1e-8),
    weightDecay: weightDecay(0),
    momentumDecay: num(4e-3, { min: 0 }),
    decoupledWeightDecay: bool(false),
    maximize: bool(false),
  },
  state: { step: 'count', muProduct: 'number', expAvg: 'buffer', expAvgSq: 'buffer' },
  init: (p) => ({ step: 0, muProduct: 1, expAvg: zerosFor(p), expAvgSq: zerosFor(p) }),
  update(p, g, s, o) {
    s.step += 1;
    s.muProduct *= nadamMu(o, s.step);
    getUpdateKernel('nadam')(p, g, s.expAvg, s.expAvgSq, o, s.step, s.muProduct);
  },
}) {}
