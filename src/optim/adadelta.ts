/** Adadelta (torch.optim.Adadelta). */
import { defineOptimizer, zerosFor } from './optimizer.js';
import { getUpdateKernel, type AdadeltaOptions, type FloatArray } from './updates.js';
import { bool, lr, num, weightDecay } from './validate.js';

export type { AdadeltaOptions };
/**
 * Per-parameter state of Adadelta.
 * @property step - Steps taken.
 * @property squareAvg - Running average of g² (torch: square_avg).
 * @property accDelta - Running average of Δθ² (torch: acc_delta).
 */
export type AdadeltaState = { step: number; squareAvg: FloatArray; accDelta: FloatArray };

/**
 * Adadelta (Zeiler 2012), exactly torch.optim.Adadelta: the step is the gradient scaled by
 * RMS[Δθ]/RMS[g], so its units are the parameter's and lr (default 1) only rescales it.
 */
export class Adadelta extends defineOptimizer<AdadeltaOptions, AdadeltaState>({
  name: 'Adadelta',
  options: {
    lr: lr(1.0),
    rho: num(0.9, { min: 0, max: 1 }),
    eps: num(1e-6, { min: 0 }),
    weightDecay: weightDecay(0),
    maximize: bool(false),
  },
  state: { step: 'count', squareAvg: 'buffer', accDelta: 'buffer' },
  init: (p) => ({ step: 0, squareAvg: zerosFor(p), accDelta: zerosFor(p) }),
  update(p, g, s, o) {
    s.step += 1;
    getUpdateKernel('adadelta')(p, g, s.squareAvg, s.accDelta, o);
  },
}) {}
