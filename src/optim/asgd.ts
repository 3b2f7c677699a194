/** ASGD, averaged stochastic gradient descent (torch.optim.ASGD). */
import { ValueError } from '../errors.js';
import { defineOptimizer, zerosFor } from './optimizer.js';
import { asgdSchedule, getUpdateKernel, type ASGDOptions, type FloatArray } from './updates.js';
import { bool, lr, num, weightDecay } from './validate.js';

export type { ASGDOptions };
/**
 * Per-parameter state of ASGD.
 * @property step - Steps taken.
 * @property eta - Current step size η (torch: eta).
 * @property mu - Current averaging weight μ (torch: mu).
 * @property ax - Running average of the iterates (torch: ax).
 */
export type ASGDState = { step: number; eta: number; mu: number; ax: FloatArray };

/**
 * Averaged SGD (Polyak & Juditsky 1992), exactly torch.optim.ASGD: SGD with a decaying step
 * η = lr/(1 + λ·lr·t)^α, and `ax`, the running average of the iterates from step t0 on (read it from
 * `opt.state.get(p).ax`; the parameters themselves are the SGD iterates, as in PyTorch).
 */
export class ASGD extends defineOptimizer<ASGDOptions, ASGDState>({
  name: 'ASGD',
  options: {
    lr: lr(1e-2),
    lambd: num(1e-4, { min: 0 }),
    alpha: num(0.75),
    t0: num(1e6),
    weightDecay: weightDecay(0),
    maximize: bool(false),
  },
  state: { step: 'count', eta: 'number', mu: 'number', ax: 'buffer' },
  checkState(s, _shape, _o, where) {
    if (!(s.eta >= 0)) throw new ValueError(`${where}.eta must be a non-negative step size, got ${s.eta}`);
    if (!(s.mu > 0 && s.mu <= 1)) {
      throw new ValueError(`${where}.mu must be an averaging weight in (0, 1], got ${s.mu}`);
    }
  },
  init: (p, o) => ({ step: 0, eta: o.lr, mu: 1, ax: zerosFor(p) }),
  update(p, g, s, o) {
    s.step += 1;
    getUpdateKernel('asgd')(p, g, s.ax, o, s.eta, s.mu);
    const { eta, mu } = asgdSchedule(o, s.step);
    s.eta = eta;
    s.mu = mu;
  },
}) {}
