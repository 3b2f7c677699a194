/** Adagrad (torch.optim.Adagrad). */
import { defineOptimizer, zerosFor } from './optimizer.js';
import { getUpdateKernel, type AdagradOptions, type FloatArray } from './updates.js';
import { bool, eps, lr, num, weightDecay } from './validate.js';

export type { AdagradOptions };
/**
 * Per-parameter state of Adagrad.
 * @property step - Steps taken.
 * @property sum - Sum of squared gradients (torch: sum).
 */
export type AdagradState = { step: number; sum: FloatArray };

/** Adagrad, exactly torch.optim.Adagrad: clr = lr/(1 + (t−1)·lrDecay); S ← S + g²; θ ← θ − clr·g/(√S + ε). */
export class Adagrad extends defineOptimizer<AdagradOptions, AdagradState>({
  name: 'Adagrad',
  options: {
    lr: lr(1e-2),
    lrDecay: num(0, { min: 0 }),
    weightDecay: weightDecay(0),
    initialAccumulatorValue: num(0, { min: 0 }),
    eps: eps(1e-10),
    maximize: bool(false),
  },
  state: { step: 'count', sum: 'buffer' },
  init: (p, o) => ({ step: 0, sum: zerosFor(p).fill(o.initialAccumulatorValue) }),
  update(p, g, s, o) {
    s.step += 1;
    getUpdateKernel('adagrad')(p, g, s.sum, o, s.step);
  },
}) {}
