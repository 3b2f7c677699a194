/**
 * The large-batch, layer-wise adaptive optimizers, exactly as optax chains them (optax/_src/alias.py):
 * LAMB = scale_by_adam → add_decayed_weights → scale_by_trust_ratio → scale_by_learning_rate;
 * LARS = add_decayed_weights → scale_by_trust_ratio(trust_coefficient, eps) → scale_by_learning_rate → trace.
 * A "layer" is one parameter tensor; optax's masks are parameter groups here (a group with weightDecay 0,
 * or LARS's trustRatio false, for biases and norm weights).
 */
import { ValueError } from '../errors.js';
import { defineOptimizer, zerosFor } from './optimizer.js';
import { getUpdateKernel, type FloatArray, type LambOptions, type LarsOptions } from './updates.js';
import { betas, bool, eps, lr, num, weightDecay } from './validate.js';

export type { LambOptions, LarsOptions };
/**
 * Per-parameter state of Lamb.
 * @property count - Steps taken.
 * @property mu - First moment estimate (optax: mu).
 * @property nu - Second moment estimate (optax: nu).
 */
export type LambState = { count: number; mu: FloatArray; nu: FloatArray };
/**
 * Per-parameter state of Lars.
 * @property trace - Momentum trace t (optax: trace).
 */
export type LarsState = { trace: FloatArray };

/**
 * LAMB (You et al., "Large Batch Optimization for Deep Learning: Training BERT in 76 minutes", ICLR 2020),
 * exactly optax.lamb: u = m̂/(√(v̂ + ε_root) + ε) + wd·θ; θ ← θ − lr·(‖θ‖/‖u‖)·u, per parameter tensor.
 * optax's b1, b2 are `betas`; its eps default 1e-6 is kept.
 */
export class Lamb extends defineOptimizer<LambOptions, LambState>({
  name: 'Lamb',
  options: {
    lr: lr(1e-3),
    betas: betas([0.9, 0.999]),
    eps: eps(1e-6),
    epsRoot: num(0, { min: 0 }),
    weightDecay: weightDecay(0),
  },
  state: { count: 'count', mu: 'buffer', nu: 'buffer' },
  init: (p) => ({ count: 0, mu: zerosFor(p), nu: zerosFor(p) }),
  update(p, g, s, o) {
    s.count += 1;
    getUpdateKernel('lamb')(p, g, s.mu, s.nu, o, s.count);
  },
}) {}

/**
 * LARS (You, Gitman & Ginsburg, "Large Batch Training of Convolutional Networks", 2017), exactly optax.lars:
 * u = g + wd·θ; u ← η·‖θ‖/(‖u‖ + ε)·u; t ← −lr·u + μ·t; θ ← θ + t (Nesterov: θ ← θ − lr·u + μ·t).
 */
export class Lars extends defineOptimizer<LarsOptions, LarsState>({
  name: 'Lars',
  options: {
    lr: lr(1e-3),
    weightDecay: weightDecay(0),
    trustCoefficient: num(1e-3, { above: 0 }),
    eps: num(0, { min: 0 }),
    trustRatio: bool(true),
    momentum: num(0.9, { min: 0, below: 1 }),
    nesterov: bool(false),
  },
  check(o, where) {
    if (o.nesterov && o.momentum === 0)
      throw new ValueError(`${where}: option nesterov requires momentum > 0, got momentum 0`);
  },
  state: { trace: 'buffer' },
  init: (p) => ({ trace: zerosFor(p) }),
  update: (p, g, s, o) => getUpdateKernel('lars')(p, g, s.trace, o),
}) {}
