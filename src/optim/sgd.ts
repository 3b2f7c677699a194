/** Gradient descent and stochastic gradient descent with momentum (torch.optim.SGD). */
import { ValueError } from '../errors.js';
import { defineOptimizer, zerosFor, type OptimizerDef } from './optimizer.js';
import { getUpdateKernel, type FloatArray, type SGDOptions } from './updates.js';
import { bool, lr, num, weightDecay } from './validate.js';

export type { SGDOptions };
/**
 * Per-parameter state of SGD.
 * @property momentumBuffer - Momentum buffer, when momentum > 0 (torch: momentum_buffer).
 */
export type SGDState = { momentumBuffer?: FloatArray };

export const sgd: OptimizerDef<SGDOptions, SGDState> = {
  name: 'SGD',
  options: {
    lr: lr(1e-3),
    momentum: num(0, { min: 0 }),
    dampening: num(0),
    nesterov: bool(false),
    weightDecay: weightDecay(0),
    maximize: bool(false),
  },
  check(o, where) {
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new ValueError(
        `${where}: option nesterov requires momentum > 0 and dampening 0, got momentum ${o.momentum}, dampening ${o.dampening}`,
      );
    }
  },
  state: { momentumBuffer: 'buffer?' },
  init: () => ({}),
  update(p, g, s, o) {
    const first = o.momentum !== 0 && s.momentumBuffer === undefined;
    if (first) s.momentumBuffer = zerosFor(p);
    getUpdateKernel('sgd')(p, g, o.momentum !== 0 ? s.momentumBuffer! : null, o, first);
  },
};

/**
 * Stochastic gradient descent, exactly torch.optim.SGD:
 * g ← ∇ + wd·θ; b ← g at the first step, else μ·b + (1−τ)·g; g ← g + μ·b (Nesterov) or b; θ ← θ − lr·g.
 */
export class SGD extends defineOptimizer(sgd) {}

/** Hyperparameters of `GD`; every field is optional in the constructor. */
export interface GDOptions {
  /** Learning rate η (default 1e-3). */
  lr: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Ascend instead of descend (default false). */
  maximize: boolean;
}
const noMomentum = { momentum: 0, dampening: 0, nesterov: false } as const;

/**
 * Plain (full-batch) gradient descent θ ← θ − η·∇J(θ): the chapter's first algorithm.
 * It is SGD without momentum (use SGD for momentum); "stochastic" only describes what gradient you feed it.
 */
export class GD extends defineOptimizer<GDOptions, Record<string, never>>({
  name: 'GD',
  options: { lr: lr(1e-3), weightDecay: weightDecay(0), maximize: bool(false) },
  state: {},
  init: () => ({}),
  update: (p, g, _s, o) => getUpdateKernel('sgd')(p, g, null, { ...o, ...noMomentum }, false),
}) {}
