/** Lion, sign momentum (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"). */
import { defineOptimizer, zerosFor } from './optimizer.js';
import { getUpdateKernel, type FloatArray, type LionOptions } from './updates.js';
import { betas, bool, lr, weightDecay } from './validate.js';

export type { LionOptions };
/**
 * Per-parameter state of Lion.
 * @property expAvg - Momentum m (exp_avg in lion-pytorch).
 */
export type LionState = { expAvg: FloatArray };

/**
 * Lion: θ ← θ·(1 − lr·wd); θ ← θ − lr·sign(β1·m + (1−β1)·g); m ← β2·m + (1−β2)·g.
 * Not in torch.optim; follows the paper's Algorithm 2, lucidrains/lion-pytorch and optax.lion.
 */
export class Lion extends defineOptimizer<LionOptions, LionState>({
  name: 'Lion',
  options: { lr: lr(1e-4), betas: betas([0.9, 0.99]), weightDecay: weightDecay(0), maximize: bool(false) },
  state: { expAvg: 'buffer' },
  init: (p) => ({ expAvg: zerosFor(p) }),
  update: (p, g, s, o) => getUpdateKernel('lion')(p, g, s.expAvg, o),
}) {}
