/** Adamax, Adam with the infinity norm (torch.optim.Adamax). */
import { defineOptimizer, zerosFor } from './optimizer.js';
import { getUpdateKernel, type AdamaxOptions, type FloatArray } from './updates.js';
import { betas, bool, eps, lr, weightDecay } from './validate.js';

export type { AdamaxOptions };
/**
 * Per-parameter state of Adamax.
 * @property step - Steps taken.
 * @property expAvg - First moment estimate (torch: exp_avg).
 * @property expInf - Exponentially weighted infinity norm u (torch: exp_inf).
 */
export type AdamaxState = { step: number; expAvg: FloatArray; expInf: FloatArray };

/** Adamax, exactly torch.optim.Adamax: m ← lerp(m, g, 1−β1); u ← max(β2·u, |g|+ε); θ ← θ − lr/(1−β1ᵗ)·m/u. */
export class Adamax extends defineOptimizer<AdamaxOptions, AdamaxState>({
  name: 'Adamax',
  options: {
    lr: lr(2e-3),
    betas: betas([0.9, 0.999]),
    eps: eps(1e-8),
    weightDecay: weightDecay(0),
    maximize: bool(false),
  },
  state: { step: 'count', expAvg: 'buffer', expInf: 'buffer' },
  init: (p) => ({ step: 0, expAvg: zerosFor(p), expInf: zerosFor(p) }),
  update(p, g, s, o) {
    s.step += 1;
    getUpdateKernel('adamax')(p, g, s.expAvg, s.expInf, o, s.step);
  },
}) {}
