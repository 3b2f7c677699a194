/** Rprop, resilient backpropagation (torch.optim.Rprop). */
import { defineOptimizer, zerosFor } from './optimizer.js';
import { getUpdateKernel, type FloatArray, type RpropOptions } from './updates.js';
import { bool, lr, pair } from './validate.js';

export type { RpropOptions };
/**
 * Per-parameter state of Rprop.
 * @property step - Steps taken.
 * @property prev - Previous step's (sign-adjusted) gradient (torch: prev).
 * @property stepSize - Per-coordinate step sizes (torch: step_size).
 */
export type RpropState = { step: number; prev: FloatArray; stepSize: FloatArray };

/**
 * Rprop (Riedmiller & Braun 1993), exactly torch.optim.Rprop: each coordinate moves by its own step
 * size in the direction of −sign(g); the step size grows by η+ while the gradient keeps its sign and
 * shrinks by η− when it flips. Uses only signs, so it suits full-batch problems, not mini-batches.
 */
export class Rprop extends defineOptimizer<RpropOptions, RpropState>({
  name: 'Rprop',
  options: {
    lr: lr(1e-2),
    etas: pair([0.5, 1.2], [{ above: 0, below: 1 }, { above: 1 }]),
    stepSizes: pair([1e-6, 50], [{ min: 0 }, { min: 0 }], (a, b) => (a <= b ? '' : 'must have min <= max')),
    maximize: bool(false),
  },
  state: { step: 'count', prev: 'buffer', stepSize: 'buffer' },
  init: (p, o) => ({ step: 0, prev: zerosFor(p), stepSize: zerosFor(p).fill(o.lr) }),
  update(p, g, s, o) {
    s.step += 1;
    getUpdateKernel('rprop')(p, g, s.prev, s.stepSize, o);
  },
}) {}
