/** RMSprop (torch.optim.RMSprop), optionally centered and with momentum. */
import { defineOptimizer, zerosFor } from './optimizer.js';
import { getUpdateKernel, type FloatArray, type RMSpropOptions } from './updates.js';
import { bool, eps, lr, num, weightDecay } from './validate.js';

export type { RMSpropOptions };
/**
 * Per-parameter state of RMSprop.
 * @property step - Steps taken.
 * @property squareAvg - Running average of g² (torch: square_avg).
 * @property gradAvg - Running average of g, when centered (torch: grad_avg).
 * @property momentumBuffer - Momentum buffer, when momentum > 0 (torch: momentum_buffer).
 */
export type RMSpropState = { step: number; squareAvg: FloatArray; gradAvg?: FloatArray; momentumBuffer?: FloatArray };

/**
 * RMSprop, exactly torch.optim.RMSprop: s ← α·s + (1−α)·g²; centered: ḡ ← α·ḡ + (1−α)·g and
 * a = √(s − ḡ²) + ε, else a = √s + ε; momentum: b ← μ·b + g/a, θ ← θ − lr·b; else θ ← θ − lr·g/a.
 */
export class RMSprop extends defineOptimizer<RMSpropOptions, RMSpropState>({
  name: 'RMSprop',
  options: {
    lr: lr(1e-2),
    alpha: num(0.99, { min: 0, max: 1 }),
    eps: eps(1e-8),
    weightDecay: weightDecay(0),
    momentum: num(0, { min: 0 }),
    centered: bool(false),
    maximize: bool(false),
  },
  state: { step: 'count', squareAvg: 'buffer', gradAvg: 'buffer?', momentumBuffer: 'buffer?' },
  init: (p, o) => ({
    step: 0,
    squareAvg: zerosFor(p),
    ...(o.momentum > 0 ? { momentumBuffer: zerosFor(p) } : {}),
    ...(o.centered ? { gradAvg: zerosFor(p) } : {}),
  }),
  update(p, g, s, o) {
    if (o.momentum > 0) s.momentumBuffer ??= zerosFor(p);
    if (o.centered) s.gradAvg ??= zerosFor(p);
    s.step += 1;
    const gradAvg = o.centered ? s.gradAvg! : null,
      buf = o.momentum > 0 ? s.momentumBuffer! : null;
    getUpdateKernel('rmsprop')(p, g, s.squareAvg, gradAvg, buf, o);
  },
}) {}
