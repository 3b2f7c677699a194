/** Gradient descent and stochastic gradient descent with momentum (torch.optim.SGD). */
import { ValueError } from '../errors.js';
import { Optimizer, zerosFor, type OptimizerOptions, type ParamGroup, type Params } from './optimizer.js';
import { getUpdateKernel, type FloatArray, type SgdHyper } from './updates.js';
import { checkBoolean, checkLr, checkNumber, checkWeightDecay } from './validate.js';

/** SGD's options: the same fields as the update kernel's hyper-parameters. */
export type SGDOptions = SgdHyper;
type SGDState = { momentumBuffer?: FloatArray };

const SGD_DEFAULTS: SGDOptions = { lr: 1e-3, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false };

function checkSGD(_name: string, o: SGDOptions, where: string): void {
  checkLr(where, o.lr);
  checkNumber(where, 'momentum', o.momentum, { min: 0 });
  checkNumber(where, 'dampening', o.dampening);
  checkBoolean(where, 'nesterov', o.nesterov);
  checkWeightDecay(where, o.weightDecay);
  checkBoolean(where, 'maximize', o.maximize);
  if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
    throw new ValueError(`${where}: option nesterov requires momentum > 0 and dampening 0, got momentum ${o.momentum}, dampening ${o.dampening}`);
  }
}

/**
 * Stochastic gradient descent, exactly torch.optim.SGD:
 * g ← ∇ + wd·θ; b ← g at the first step, else μ·b + (1−τ)·g; g ← g + μ·b (Nesterov) or b; θ ← θ − lr·g.
 */
export class SGD extends Optimizer<SGDOptions, SGDState> {
  constructor(params: Params<SGDOptions>, options: Partial<SGDOptions> & OptimizerOptions = {}, name = 'SGD') {
    const { skipNonFinite, ...rest } = options;
    super(name, params, { ...SGD_DEFAULTS, ...rest }, { skipNonFinite });
  }
  protected checkGroup(o: SGDOptions, where: string): void {
    checkSGD(this.name, o, where);
  }
  protected get stateKeys(): readonly string[] {
    return ['momentumBuffer'];
  }
  protected initState(): SGDState {
    return {};
  }
  protected updateParam(param: FloatArray, grad: FloatArray, s: SGDState, g: ParamGroup<SGDOptions>): void {
    let first = false;
    if (g.momentum !== 0 && s.momentumBuffer === undefined) {
      s.momentumBuffer = zerosFor(param);
      first = true;
    }
    getUpdateKernel('sgd')(param, grad, g.momentum !== 0 ? s.momentumBuffer! : null, g, first);
  }
}

export interface GDOptions {
  /** Learning rate η (default 1e-3). */
  lr: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  maximize: boolean;
}

/**
 * Plain (full-batch) gradient descent θ ← θ − η·∇J(θ): the seed's first algorithm.
 * It is SGD without momentum; "stochastic" only describes what gradient you feed it.
 */
export class GD extends SGD {
  constructor(params: Params<GDOptions>, options: Partial<GDOptions> & OptimizerOptions = {}) {
    for (const k of Object.keys(options)) {
      if (!['lr', 'weightDecay', 'maximize', 'skipNonFinite'].includes(k)) {
        throw new ValueError(`GD: unknown option ${k} (GD takes lr, weightDecay, maximize; use SGD for momentum)`);
      }
    }
    super(params as Params<SGDOptions>, options, 'GD');
  }
  protected override checkGroup(o: SGDOptions, where: string): void {
    checkSGD(this.name, o, where);
    if (o.momentum !== 0 || o.dampening !== 0 || o.nesterov) {
      throw new ValueError(`${where}: GD has no momentum (got momentum ${o.momentum}, dampening ${o.dampening}, nesterov ${o.nesterov}); use SGD`);
    }
  }
}
