/** Adam with L2 weight decay, and AdamW: Adam with decoupled weight decay (torch.optim.Adam / AdamW). */
import { defineOptimizer, zerosFor, type OptimizerDef } from './optimizer.js';
import { getUpdateKernel, type AdamOptions, type FloatArray } from './updates.js';
import { betas, bool, eps, fixed, lr, weightDecay } from './validate.js';

export type { AdamOptions };
/**
 * Per-parameter state of Adam and AdamW.
 * @property step - Steps taken.
 * @property expAvg - First moment estimate m (torch: exp_avg).
 * @property expAvgSq - Second moment estimate v (torch: exp_avg_sq).
 * @property maxExpAvgSq - Running maximum of v, with amsgrad only (torch: max_exp_avg_sq).
 */
export type AdamState = { step: number; expAvg: FloatArray; expAvgSq: FloatArray; maxExpAvgSq?: FloatArray };

/** Adam's declaration; AdamW is this with other options. */
export const adam: OptimizerDef<AdamOptions, AdamState> = {
  name: 'Adam',
  options: {
    lr: lr(1e-3),
    betas: betas([0.9, 0.999]),
    eps: eps(1e-8),
    weightDecay: weightDecay(0),
    amsgrad: bool(false),
    decoupledWeightDecay: bool(false),
    maximize: bool(false),
  },
  state: { step: 'count', expAvg: 'buffer', expAvgSq: 'buffer', maxExpAvgSq: 'buffer?' },
  init: (p, o) => ({
    step: 0,
    expAvg: zerosFor(p),
    expAvgSq: zerosFor(p),
    ...(o.amsgrad ? { maxExpAvgSq: zerosFor(p) } : {}),
  }),
  update(p, g, s, o) {
    if (o.amsgrad) s.maxExpAvgSq ??= zerosFor(p);
    s.step += 1;
    getUpdateKernel('adam')(p, g, s.expAvg, s.expAvgSq, o.amsgrad ? s.maxExpAvgSq! : null, o, s.step);
  },
};

/**
 * Adam (Kingma & Ba 2015), exactly torch.optim.Adam: weightDecay is an L2 term added to the
 * gradient, so it is rescaled by the adaptive denominator like the rest of the gradient.
 */
export class Adam extends defineOptimizer(adam) {}

/**
 * AdamW (Loshchilov & Hutter 2019), exactly torch.optim.AdamW: Adam with decoupledWeightDecay, so
 * θ ← θ·(1 − lr·wd) before the Adam step, independent of the gradient's scale. Default weightDecay 1e-2.
 */
export class AdamW extends defineOptimizer<AdamOptions, AdamState>({
  ...adam,
  name: 'AdamW',
  options: { ...adam.options, weightDecay: weightDecay(1e-2), decoupledWeightDecay: fixed(true) },
}) {}
