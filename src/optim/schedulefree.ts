/**
 * Schedule-Free SGD and AdamW (Defazio, Yang, Mehta, Mishchenko, Khaled & Cutkosky, "The Road Less
 * Scheduled", NeurIPS 2024), exactly facebookresearch/schedule_free's `SGDScheduleFree` and
 * `AdamWScheduleFree`: no learning-rate schedule; the gradient is taken at y, an interpolation between
 * the SGD/AdamW iterate z and the running average x, and the parameters hold y while training and x
 * for evaluation, switched by `train()` and `eval()` as in the reference.
 */
import { ValueError } from '../errors.js';
import {
  type BaseGroupOptions,
  defineOptimizer,
  type Optimizer,
  type OptimizerDef,
  type OptimizerStateDict,
  zerosFor,
} from './optimizer.js';
import {
  getUpdateKernel,
  lerp,
  type AdamWScheduleFreeOptions,
  type FloatArray,
  type ScheduleFreeScalars,
  type SGDScheduleFreeOptions,
} from './updates.js';
import { betas, eps, lr, num, weightDecay } from './validate.js';

export type { SGDScheduleFreeOptions, AdamWScheduleFreeOptions };
/**
 * `k` counts steps; `lrMax` and `weightSum` are the averaging's running scalars (the reference keeps
 * them per parameter group; here each parameter keeps them, which is the same whenever every parameter
 * of a group has a gradient at every step); `trainMode` is 1 while the parameter holds y, 0 for x.
 * @property k - Steps taken.
 * @property lrMax - Largest scheduled lr so far (lr_max).
 * @property weightSum - Sum of the averaging weights so far (weight_sum).
 * @property trainMode - 1 while the parameter holds y, 0 while it holds x.
 * @property z - The SGD iterate z.
 */
export type ScheduleFreeState = { k: number; lrMax: number; weightSum: number; trainMode: number; z: FloatArray };
/** Per-parameter state of SGDScheduleFree. */
export type SGDScheduleFreeState = ScheduleFreeState;
/**
 * Per-parameter state of AdamWScheduleFree: that of ScheduleFreeState plus Adam's moments.
 */
export type AdamWScheduleFreeState = ScheduleFreeState & {
  /** Second moment estimate (schedulefree: exp_avg_sq). */
  expAvgSq: FloatArray;
  /** Inner momentum, when innerMomentum ≠ 0. */
  expAvg?: FloatArray;
};

interface Schedule {
  lr: number;
  warmupSteps: number;
  r: number;
  weightLrPower: number;
}
/** The reference's per-step scalars: warmup, lr_max, the weight (k+1)^r·lr_max^p and c = weight/Σweight. */
function scalars(s: ScheduleFreeState, o: Schedule): ScheduleFreeScalars {
  const k = s.k;
  const sched = k < o.warmupSteps ? (k + 1) / o.warmupSteps : 1.0;
  const lr = o.lr * sched;
  s.lrMax = Math.max(lr, s.lrMax);
  const weight = (k + 1) ** o.r * s.lrMax ** o.weightLrPower;
  s.weightSum = s.weightSum + weight;
  const ckp1 = s.weightSum === 0 ? 0 : weight / s.weightSum;
  return { lr, ckp1 };
}

const schedule = {
  warmupSteps: num(0, { min: 0, integer: true }),
  r: num(0),
  weightLrPower: num(2),
};
const scheduleSlots = { k: 'count', lrMax: 'number', weightSum: 'number', trainMode: 'count', z: 'buffer' } as const;
const start = (p: FloatArray) => ({ k: 0, lrMax: -1, weightSum: 0, trainMode: 1, z: p.slice() });

export const sgdScheduleFree: OptimizerDef<SGDScheduleFreeOptions, SGDScheduleFreeState> = {
  name: 'SGDScheduleFree',
  options: { lr: lr(1), momentum: num(0.9, { above: 0, below: 1 }), weightDecay: weightDecay(0), ...schedule },
  state: scheduleSlots,
  init: start,
  update(p, g, s, o) {
    const sc = scalars(s, o);
    getUpdateKernel('sgdScheduleFree')(p, g, s.z, o, sc);
    s.k += 1;
  },
};

export const adamwScheduleFree: OptimizerDef<AdamWScheduleFreeOptions, AdamWScheduleFreeState> = {
  name: 'AdamWScheduleFree',
  options: {
    lr: lr(0.0025),
    betas: betas([0.9, 0.999]),
    eps: eps(1e-8),
    weightDecay: weightDecay(0),
    ...schedule,
    innerMomentum: num(0, { min: 0, below: 1 }),
  },
  state: { ...scheduleSlots, expAvgSq: 'buffer', expAvg: 'buffer?' },
  init: (p, o) => ({ ...start(p), expAvgSq: zerosFor(p), ...(o.innerMomentum !== 0 ? { expAvg: zerosFor(p) } : {}) }),
  update(p, g, s, o) {
    if (o.innerMomentum !== 0) s.expAvg ??= zerosFor(p);
    const sc = scalars(s, o);
    getUpdateKernel('adamwScheduleFree')(p, g, s.z, s.expAvgSq, o.innerMomentum !== 0 ? s.expAvg! : null, o, sc, s.k);
    s.k += 1;
  },
};

/** Any Schedule-Free optimizer: its states carry `trainMode` and `z`. */
type AnySF<O extends BaseGroupOptions, S extends ScheduleFreeState> = Optimizer<O, S>;
/** β of the x/z interpolation: SGD's momentum, AdamW's β1. */
const betaOf = (g: object): number =>
  'momentum' in g ? (g.momentum as number) : (g as { betas: [number, number] }).betas[0];

/** Moves every parameter with state between y (train) and x (eval), as the reference's train()/eval(). */
function swap<O extends BaseGroupOptions, S extends ScheduleFreeState>(opt: AnySF<O, S>, toTrain: boolean): void {
  for (const group of opt.paramGroups) {
    const beta = betaOf(group);
    for (const p of group.params) {
      const s = opt.state.get(p);
      if (s === undefined || (s.trainMode === 1) === toTrain) continue;
      const d = p.data as FloatArray,
        z = s.z,
        w = toTrain ? 1 - beta : 1 - 1 / beta;
      for (let i = 0; i < d.length; i++) d[i] = lerp(d[i]!, z[i]!, w);
      s.trainMode = toTrain ? 1 : 0;
    }
  }
}
const notTraining = (name: string) =>
  new ValueError(
    `${name}.step: the optimizer is in eval mode; call opt.train() before training and opt.eval() before evaluating or saving`,
  );
/** After a load, the mode is the one the saved parameters were in (unchanged when no state was saved). */
const modeAfterLoad = <O extends BaseGroupOptions, S extends ScheduleFreeState>(
  opt: AnySF<O, S>,
  current: boolean,
): boolean => {
  const modes = [...opt.state.values()].map((s) => s.trainMode === 1);
  return modes.length === 0 ? current : modes.some(Boolean);
};

/** An optimizer class over `def` with the reference's `train()`/`eval()` swap; `step` refuses eval mode. */
function withTrainEval<O extends BaseGroupOptions, S extends ScheduleFreeState>(def: OptimizerDef<O, S>) {
  return class extends defineOptimizer(def) {
    /** True after `train()`: the parameters hold y, where gradients are taken. */
    trainMode = false;
    /** Switches the parameters to y for training (the reference's `train()`). */
    train(): void {
      if (!this.trainMode) swap(this, true);
      this.trainMode = true;
    }
    /** Switches the parameters to the average x, for evaluation and checkpoints (the reference's `eval()`). */
    eval(): void {
      if (this.trainMode) swap(this, false);
      this.trainMode = false;
    }
    /** One update (train mode only); true when it was applied. */
    override step(): boolean;
    /** One update after re-evaluating the loss with `closure` (train mode only); returns the closure's value. */
    override step<L>(closure: () => L): L;
    override step<L>(closure?: () => L): boolean | L {
      if (!this.trainMode) throw notTraining(this.name);
      return closure === undefined ? super.step() : super.step(closure);
    }
    override loadStateDict(sd: OptimizerStateDict): void {
      super.loadStateDict(sd);
      this.trainMode = modeAfterLoad(this, this.trainMode);
    }
  };
}

/**
 * Schedule-Free SGD: with c = weight_k/Σweight, g = ∇f(y) + wd·y:
 * y ← (1−c)·y + c·z + γ(β(1−c) − 1)·g; z ← z − γ·g; x = average of the z's, y = (1−β)·z + β·x.
 * Starts in eval mode: call `train()` before stepping and `eval()` before evaluating or saving.
 */
export class SGDScheduleFree extends withTrainEval(sgdScheduleFree) {}

/**
 * Schedule-Free AdamW: SGDScheduleFree's interpolation with the AdamW direction
 * u = g/(√(v/(1−β2^(k+1))) + ε) + wd·y and β = β1. Starts in eval mode (see SGDScheduleFree).
 */
export class AdamWScheduleFree extends withTrainEval(adamwScheduleFree) {}
