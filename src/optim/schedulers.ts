/**
 * Learning-rate schedulers with torch.optim.lr_scheduler's semantics: construction performs the
 * first step (lr at epoch 0), each `step()` advances one epoch using PyTorch's recursive
 * ("chainable") formula, and `closedFormLr()` gives the documented closed form for checking.
 */
import { ValueError } from '../errors.js';
import { decodeValue, encodeValue, type StateJson } from './codec.js';
import type { BaseGroupOptions, Optimizer, ParamGroup, ParamState } from './optimizer.js';
import { checkBoolean, checkKeys, checkNumber, show } from './validate.js';

/** Any optimizer (schedulers only read and write each group's lr, and momentum/betas for OneCycleLR). */
export type AnyOptimizer = Optimizer<BaseGroupOptions, ParamState>;

type MomentumGroup = ParamGroup & { momentum?: number; betas?: [number, number] };

/** JSON-safe scheduler state: which scheduler wrote it and its fields. */
export interface SchedulerStateDict {
  /** The scheduler's class name; loadStateDict refuses a state dict from another scheduler. */
  scheduler: string;
  [field: string]: StateJson;
}

const mod = (a: number, n: number): number => ((a % n) + n) % n; // Python's %
const bisectRight = (xs: readonly number[], x: number): number => {
  let lo = 0,
    hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < xs[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
};

function saveFields(name: string, obj: object, fields: readonly string[]): SchedulerStateDict {
  const out: SchedulerStateDict = { scheduler: name };
  for (const f of fields) out[f] = encodeValue((obj as Record<string, unknown>)[f]);
  return out;
}
function loadFields(name: string, obj: object, fields: readonly string[], sd: SchedulerStateDict): void {
  const where = `${name}.loadStateDict`;
  if (sd === null || typeof sd !== 'object')
    throw new ValueError(`${where}: expected a state dict object, got ${show(sd)}`);
  if (sd.scheduler !== name)
    throw new ValueError(`${where}: the state dict is from scheduler ${show(sd.scheduler)}, this is '${name}'`);
  const target = obj as Record<string, unknown>;
  const decoded: Record<string, unknown> = {};
  for (const f of fields) {
    if (!(f in sd)) throw new ValueError(`${where}: the state dict has no field ${f}`);
    const v = decodeValue(sd[f], `${where}: ${f}`);
    const cur = target[f];
    const kind = (x: unknown) => (Array.isArray(x) ? `array(${x.length})` : typeof x);
    if (kind(v) !== kind(cur))
      throw new ValueError(`${where}: field ${f} is ${kind(v)} in the state dict, ${kind(cur)} here`);
    decoded[f] = v;
  }
  Object.assign(target, decoded);
}

/** The base of the epoch-driven schedulers. */
export abstract class LRScheduler {
  /** The optimizer whose groups' lr this scheduler sets. */
  readonly optimizer: AnyOptimizer;
  /** The lr each group started from (its `initialLr`). */
  baseLrs: number[];
  /** Number of step() calls since construction's initial step (−1 before it). */
  lastEpoch = -1;
  /** How many times step() has run (PyTorch's `_step_count`; CosineAnnealingLR reads it). */
  stepCount = 0;
  /** The lrs the last step set, one per group (torch: _last_lr). */
  lastLr: number[] = [];
  /** The scheduler's name, used in messages and state dicts. */
  abstract readonly name: string;

  protected constructor(optimizer: AnyOptimizer) {
    if (
      optimizer === null ||
      typeof optimizer !== 'object' ||
      !Array.isArray((optimizer as { paramGroups?: unknown }).paramGroups)
    ) {
      throw new ValueError(`scheduler: expected an optimizer, got ${show(optimizer)}`);
    }
    this.optimizer = optimizer;
    for (const g of optimizer.paramGroups) if (g.initialLr === undefined) g.initialLr = g.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
  }

  /** The lrs at `lastEpoch`, from the current ones (PyTorch's get_lr). */
  protected abstract getLr(): number[];
  /** The closed form at `lastEpoch`, where one exists (PyTorch's _get_closed_form_lr). */
  closedFormLr(): number[] | null {
    return null;
  }
  /** Fields saved by stateDict (configuration and counters). */
  protected get fields(): readonly string[] {
    return ['lastEpoch', 'stepCount', 'baseLrs', 'lastLr'];
  }

  /** Subclasses call this at the end of their constructor: lr at epoch 0. */
  protected initialStep(): void {
    this.stepCount = 0;
    this.isInitial = true;
    try {
      this.step();
    } finally {
      this.isInitial = false;
    }
  }
  /** True only during the constructor's initial step (PyTorch's `_is_initial`). */
  protected isInitial = false;
  /** Advances one epoch and writes the new lr into every group. */
  step(): void {
    this.stepCount += 1;
    this.lastEpoch += 1;
    this.apply(this.getLr());
  }
  /**
   * Jumps to `epoch` using the closed form where there is one (PyTorch's deprecated step(epoch));
   * SequentialLR uses it to restart a scheduler at 0.
   */
  stepAt(epoch: number): void {
    checkNumber(this.name, 'epoch', epoch, { min: 0, integer: true });
    this.stepCount += 1;
    this.lastEpoch = epoch;
    this.apply(this.closedFormLr() ?? this.getLr());
  }
  /** Writes `lrs` into the optimizer's groups and records them in `lastLr`. */
  protected apply(lrs: readonly number[]): void {
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = lrs[i]!));
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }
  /** The lrs the last step set, one per group. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }
  /** The configuration and counters as JSON-safe values (torch: state_dict). */
  stateDict(): SchedulerStateDict {
    return saveFields(this.name, this, this.fields);
  }
  /** Restores what `stateDict()` saved, after checking it (torch: load_state_dict). */
  loadStateDict(sd: SchedulerStateDict): void {
    loadFields(this.name, this, this.fields, sd);
  }
  /** The optimizer's current lr per group. */
  protected get groupLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }
}

/** lr = base·γ^⌊epoch/stepSize⌋. */
export class StepLR extends LRScheduler {
  readonly name = 'StepLR';
  /** Epochs between decays. */
  stepSize: number;
  /** Multiplicative decay factor (default 0.1). */
  gamma: number;
  constructor(optimizer: AnyOptimizer, options: { stepSize: number; gamma?: number }) {
    super(optimizer);
    this.stepSize = checkNumber('StepLR', 'stepSize', options?.stepSize, { min: 1, integer: true });
    this.gamma = checkNumber('StepLR', 'gamma', options.gamma ?? 0.1, { min: 0 });
    this.initialStep();
  }
  protected override get fields(): readonly string[] {
    return [...super.fields, 'stepSize', 'gamma'];
  }
  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.groupLrs;
    return this.groupLrs.map((lr) => lr * this.gamma);
  }
  override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }
}

/** lr = base·γ^(number of milestones ≤ epoch). */
export class MultiStepLR extends LRScheduler {
  readonly name = 'MultiStepLR';
  /** Epochs at which the lr is multiplied by gamma (increasing). */
  milestones: number[];
  /** Multiplicative decay factor (default 0.1). */
  gamma: number;
  constructor(optimizer: AnyOptimizer, options: { milestones: readonly number[]; gamma?: number }) {
    super(optimizer);
    if (!Array.isArray(options?.milestones))
      throw new ValueError(
        `MultiStepLR: option milestones must be an array of epochs, got ${show(options?.milestones)}`,
      );
    options.milestones.forEach((m, i) => checkNumber('MultiStepLR', `milestones[${i}]`, m, { min: 0, integer: true }));
    this.milestones = [...options.milestones].sort((a, b) => a - b);
    this.gamma = checkNumber('MultiStepLR', 'gamma', options.gamma ?? 0.1, { min: 0 });
    this.initialStep();
  }
  protected override get fields(): readonly string[] {
    return [...super.fields, 'milestones', 'gamma'];
  }
  protected getLr(): number[] {
    const hits = this.milestones.filter((m) => m === this.lastEpoch).length;
    if (hits === 0) return this.groupLrs;
    return this.groupLrs.map((lr) => lr * this.gamma ** hits);
  }
  override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** bisectRight(this.milestones, this.lastEpoch));
  }
}

/** lr = base·γ^epoch. */
export class ExponentialLR extends LRScheduler {
  readonly name = 'ExponentialLR';
  /** Multiplicative decay factor per epoch. */
  gamma: number;
  constructor(optimizer: AnyOptimizer, options: { gamma: number }) {
    super(optimizer);
    this.gamma = checkNumber('ExponentialLR', 'gamma', options?.gamma, { min: 0 });
    this.initialStep();
  }
  protected override get fields(): readonly string[] {
    return [...super.fields, 'gamma'];
  }
  protected getLr(): number[] {
    if (this.lastEpoch === 0) return this.groupLrs;
    return this.groupLrs.map((lr) => lr * this.gamma);
  }
  override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** this.lastEpoch);
  }
}

/** lr = ηmin + (base − ηmin)·(1 + cos(π·epoch/tMax))/2 (SGDR without restarts; continues as a cosine past tMax). */
export class CosineAnnealingLR extends LRScheduler {
  readonly name = 'CosineAnnealingLR';
  /** Epochs in the half cosine period (torch: T_max). */
  tMax: number;
  /** Minimum lr (default 0; torch: eta_min). */
  etaMin: number;
  constructor(optimizer: AnyOptimizer, options: { tMax: number; etaMin?: number }) {
    super(optimizer);
    this.tMax = checkNumber('CosineAnnealingLR', 'tMax', options?.tMax, { min: 1, integer: true });
    this.etaMin = checkNumber('CosineAnnealingLR', 'etaMin', options.etaMin ?? 0, { min: 0 });
    this.initialStep();
  }
  protected override get fields(): readonly string[] {
    return [...super.fields, 'tMax', 'etaMin'];
  }
  protected getLr(): number[] {
    const e = this.lastEpoch,
      T = this.tMax,
      lo = this.etaMin;
    if (e === 0) return this.groupLrs;
    if (this.stepCount === 1 && e > 0)
      return this.baseLrs.map((b) => lo + ((b - lo) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    if (mod(e - 1 - T, 2 * T) === 0) {
      return this.groupLrs.map((lr, i) => lr + ((this.baseLrs[i]! - lo) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return this.groupLrs.map(
      (lr) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (lr - lo) + lo,
    );
  }
  override closedFormLr(): number[] {
    return this.baseLrs.map(
      (b) => this.etaMin + ((b - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2,
    );
  }
}

/** lr = base·(startFactor + (endFactor − startFactor)·min(epoch, totalIters)/totalIters): linear warmup (or decay). */
export class LinearLR extends LRScheduler {
  readonly name = 'LinearLR';
  /** Multiplier of the base lr at epoch 0 (default 1/3). */
  startFactor: number;
  /** Multiplier of the base lr from epoch totalIters on (default 1). */
  endFactor: number;
  /** Epochs over which the factor moves linearly (default 5). */
  totalIters: number;
  constructor(
    optimizer: AnyOptimizer,
    options: { startFactor?: number; endFactor?: number; totalIters?: number } = {},
  ) {
    super(optimizer);
    this.startFactor = checkNumber('LinearLR', 'startFactor', options.startFactor ?? 1 / 3, { above: 0, max: 1 });
    this.endFactor = checkNumber('LinearLR', 'endFactor', options.endFactor ?? 1, { min: 0, max: 1 });
    this.totalIters = checkNumber('LinearLR', 'totalIters', options.totalIters ?? 5, { min: 1, integer: true });
    this.initialStep();
  }
  protected override get fields(): readonly string[] {
    return [...super.fields, 'startFactor', 'endFactor', 'totalIters'];
  }
  protected getLr(): number[] {
    const e = this.lastEpoch,
      s = this.startFactor,
      d = this.endFactor - this.startFactor;
    if (e === 0) return this.groupLrs.map((lr) => lr * s);
    if (e > this.totalIters) return this.groupLrs;
    return this.groupLrs.map((lr) => lr * (1 + d / (this.totalIters * s + (e - 1) * d)));
  }
  override closedFormLr(): number[] {
    const f =
      this.startFactor +
      ((this.endFactor - this.startFactor) * Math.min(this.totalIters, this.lastEpoch)) / this.totalIters;
    return this.baseLrs.map((b) => b * f);
  }
}

/** lr = base·λ(epoch), with one λ for all groups or one per group. λ is not saved by stateDict. */
export class LambdaLR extends LRScheduler {
  readonly name = 'LambdaLR';
  /** One factor function of the epoch per group: lr = base·lrLambda(epoch). */
  readonly lrLambdas: ((epoch: number) => number)[];
  constructor(
    optimizer: AnyOptimizer,
    options: { lrLambda: ((epoch: number) => number) | readonly ((epoch: number) => number)[] },
  ) {
    super(optimizer);
    const l = options?.lrLambda;
    const list = typeof l === 'function' ? optimizer.paramGroups.map(() => l) : Array.isArray(l) ? [...l] : [];
    if (list.length !== optimizer.paramGroups.length || !list.every((f) => typeof f === 'function')) {
      throw new ValueError(
        `LambdaLR: option lrLambda must be a function or one function per param group (${optimizer.paramGroups.length}), got ${show(l)}`,
      );
    }
    this.lrLambdas = list;
    this.initialStep();
  }
  protected getLr(): number[] {
    return this.baseLrs.map((b, i) => b * this.lrLambdas[i]!(this.lastEpoch));
  }
}

/** Options of `OneCycleLR` (torch.optim.lr_scheduler.OneCycleLR). */
export interface OneCycleLROptions {
  /** Peak lr (one per group or one for all). */
  maxLr: number | readonly number[];
  /** Total number of steps; or give epochs and stepsPerEpoch. */
  totalSteps?: number;
  /** Number of epochs; with stepsPerEpoch, gives totalSteps = epochs·stepsPerEpoch. */
  epochs?: number;
  /** Batches per epoch; see epochs. */
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the lr (default 0.3). */
  pctStart?: number;
  /** How each phase interpolates: cosine or linear (default 'cos'). */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle momentum (SGD/RMSprop `momentum`, Adam-family `betas[0]`) inversely to the lr (default true). */
  cycleMomentum?: boolean;
  /** Lowest momentum, reached at the lr's peak (default 0.85). */
  baseMomentum?: number;
  /** Highest momentum, at the start and end of the cycle (default 0.95). */
  maxMomentum?: number;
  /** initial lr = maxLr/divFactor (default 25). */
  divFactor?: number;
  /** min lr = initial lr/finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Use a third phase that anneals from initial lr to min lr (default false). */
  threePhase?: boolean;
}
interface Phase {
  endStep: number;
  startLr: 'initial' | 'max' | 'min';
  endLr: 'initial' | 'max' | 'min';
  startM: 'base' | 'max';
  endM: 'base' | 'max';
}

/** The 1cycle policy (Smith & Topin 2018), as torch.optim.lr_scheduler.OneCycleLR. Step it once per batch. */
export class OneCycleLR extends LRScheduler {
  readonly name = 'OneCycleLR';
  /** Steps in the cycle. */
  totalSteps: number;
  /** How each phase interpolates: cosine or linear. */
  annealStrategy: 'cos' | 'linear';
  /** Whether momentum cycles inversely to the lr. */
  cycleMomentum: boolean;
  /** True when the optimizer's momentum is `betas[0]` (Adam family). */
  useBeta1: boolean;
  /** @internal */
  phases: Phase[];
  /** Starting lr per group: maxLr / divFactor. */
  initialLrs: number[];
  /** Peak lr per group. */
  maxLrs: number[];
  /** Final lr per group: initial lr / finalDivFactor. */
  minLrs: number[];
  /** Lowest momentum per group. */
  baseMomentums: number[];
  /** Highest momentum per group. */
  maxMomentums: number[];
  constructor(optimizer: AnyOptimizer, options: OneCycleLROptions) {
    super(optimizer);
    const op = 'OneCycleLR';
    const o = options ?? ({} as OneCycleLROptions);
    const n = optimizer.paramGroups.length;
    if (o.totalSteps !== undefined)
      this.totalSteps = checkNumber(op, 'totalSteps', o.totalSteps, { min: 1, integer: true });
    else if (o.epochs !== undefined && o.stepsPerEpoch !== undefined) {
      this.totalSteps =
        checkNumber(op, 'epochs', o.epochs, { min: 1, integer: true }) *
        checkNumber(op, 'stepsPerEpoch', o.stepsPerEpoch, { min: 1, integer: true });
    } else throw new ValueError(`${op}: you must define either totalSteps or both epochs and stepsPerEpoch`);
    const pct = checkNumber(op, 'pctStart', o.pctStart ?? 0.3, { min: 0, max: 1 });
    const strategy = o.annealStrategy ?? 'cos';
    if (strategy !== 'cos' && strategy !== 'linear')
      throw new ValueError(`${op}: option annealStrategy must be 'cos' or 'linear', got ${show(strategy)}`);
    this.annealStrategy = strategy;
    const perGroup = (v: number | readonly number[], name: string): number[] => {
      const list = typeof v === 'number' ? Array.from({ length: n }, () => v) : Array.isArray(v) ? [...v] : [];
      if (list.length !== n)
        throw new ValueError(`${op}: option ${name} must be a number or one per param group (${n}), got ${show(v)}`);
      list.forEach((x, i) => checkNumber(op, `${name}[${i}]`, x, { min: 0 }));
      return list;
    };
    this.maxLrs = perGroup(o.maxLr, 'maxLr');
    const div = checkNumber(op, 'divFactor', o.divFactor ?? 25, { above: 0 });
    const finalDiv = checkNumber(op, 'finalDivFactor', o.finalDivFactor ?? 1e4, { above: 0 });
    this.initialLrs = this.maxLrs.map((m) => m / div);
    this.minLrs = this.initialLrs.map((i) => i / finalDiv);
    const T = this.totalSteps;
    this.phases = checkBoolean(op, 'threePhase', o.threePhase ?? false)
      ? [
          { endStep: pct * T - 1, startLr: 'initial', endLr: 'max', startM: 'max', endM: 'base' },
          { endStep: 2 * pct * T - 2, startLr: 'max', endLr: 'initial', startM: 'base', endM: 'max' },
          { endStep: T - 1, startLr: 'initial', endLr: 'min', startM: 'max', endM: 'max' },
        ]
      : [
          { endStep: pct * T - 1, startLr: 'initial', endLr: 'max', startM: 'max', endM: 'base' },
          { endStep: T - 1, startLr: 'max', endLr: 'min', startM: 'base', endM: 'max' },
        ];
    this.cycleMomentum = checkBoolean(op, 'cycleMomentum', o.cycleMomentum ?? true);
    this.baseMomentums = perGroup(o.baseMomentum ?? 0.85, 'baseMomentum');
    this.maxMomentums = perGroup(o.maxMomentum ?? 0.95, 'maxMomentum');
    this.useBeta1 = 'betas' in optimizer.defaults;
    if (this.cycleMomentum) {
      if (!this.useBeta1 && !('momentum' in optimizer.defaults)) {
        throw new ValueError(
          `${op}: optimizer ${optimizer.name} has neither momentum nor betas; pass ` + `cycleMomentum: false`,
        );
      }
      optimizer.paramGroups.forEach((g, i) => this.setMomentum(g, this.maxMomentums[i]!));
    }
    // The schedule starts from maxLr/divFactor, not from the optimizer's lr.
    optimizer.paramGroups.forEach((g, i) => (g.initialLr = this.initialLrs[i]!));
    this.baseLrs = [...this.initialLrs];
    this.initialStep();
  }
  protected override get fields(): readonly string[] {
    return [
      ...super.fields,
      'totalSteps',
      'annealStrategy',
      'cycleMomentum',
      'useBeta1',
      'phases',
      'initialLrs',
      'maxLrs',
      'minLrs',
      'baseMomentums',
      'maxMomentums',
    ];
  }
  private setMomentum(g: MomentumGroup, m: number): void {
    if (this.useBeta1) g.betas = [m, g.betas![1]];
    else g.momentum = m;
  }
  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === 'linear') return (end - start) * pct + start;
    const cosOut = Math.cos(Math.PI * pct) + 1;
    return end + ((start - end) / 2) * cosOut;
  }
  protected getLr(): number[] {
    const t = this.lastEpoch;
    if (t > this.totalSteps) {
      throw new ValueError(
        `OneCycleLR: tried to step ${t} times; the specified number of total steps is ${this.totalSteps}`,
      );
    }
    return this.optimizer.paramGroups.map((g, i) => {
      const lrOf = { initial: this.initialLrs[i]!, max: this.maxLrs[i]!, min: this.minLrs[i]! };
      const mOf = { base: this.baseMomentums[i]!, max: this.maxMomentums[i]! };
      let start = 0;
      for (let k = 0; k < this.phases.length; k++) {
        const ph = this.phases[k]!;
        if (t <= ph.endStep || k === this.phases.length - 1) {
          const pct = (t - start) / (ph.endStep - start);
          if (this.cycleMomentum) this.setMomentum(g, this.anneal(mOf[ph.startM], mOf[ph.endM], pct));
          return this.anneal(lrOf[ph.startLr], lrOf[ph.endLr], pct);
        }
        start = ph.endStep;
      }
      return g.lr;
    });
  }
}

/** Applies schedulers one after another: `schedulers[i]` runs from `milestones[i−1]` (restarted at 0) to `milestones[i]`. */
export class SequentialLR extends LRScheduler {
  readonly name = 'SequentialLR';
  /** The schedulers, in the order they take over. */
  readonly schedulers: LRScheduler[];
  /** Epochs at which the next scheduler takes over (one fewer than schedulers). */
  milestones: number[];
  constructor(optimizer: AnyOptimizer, options: { schedulers: readonly LRScheduler[]; milestones: readonly number[] }) {
    super(optimizer);
    const op = 'SequentialLR';
    const { schedulers, milestones } = options ?? ({} as { schedulers: LRScheduler[]; milestones: number[] });
    if (!Array.isArray(schedulers) || schedulers.length < 1 || !schedulers.every((s) => s instanceof LRScheduler)) {
      throw new ValueError(`${op}: option schedulers must be a non-empty array of schedulers, got ${show(schedulers)}`);
    }
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      throw new ValueError(
        `${op}: expected ${schedulers.length - 1} milestone(s) for ${schedulers.length} schedulers, got ${show(milestones)}`,
      );
    }
    milestones.forEach((m, i) => {
      checkNumber(op, `milestones[${i}]`, m, { min: 1, integer: true });
      if (i > 0 && m <= milestones[i - 1]!)
        throw new ValueError(`${op}: option milestones must increase, got ${show(milestones)}`);
    });
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) {
        throw new ValueError(`${op}: scheduler ${i} (${s.name}) is bound to a different optimizer`);
      }
    });
    this.schedulers = [...schedulers];
    this.milestones = [...milestones];
    this.lastEpoch = 0;
    for (const g of optimizer.paramGroups) g.lr = g.initialLr!;
    for (const s of this.schedulers) s.lastEpoch -= 1;
    this.schedulers[0]!.stepCount = 0;
    this.schedulers[0]!.step();
    this.lastLr = this.schedulers[0]!.getLastLr();
  }
  protected getLr(): number[] {
    return this.groupLrs;
  }
  override step(): void {
    this.lastEpoch += 1;
    this.stepCount += 1;
    const idx = bisectRight(this.milestones, this.lastEpoch);
    const s = this.schedulers[idx]!;
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) s.stepAt(0);
    else s.step();
    this.lastLr = s.getLastLr();
  }
  override stateDict(): SchedulerStateDict {
    return {
      ...super.stateDict(),
      milestones: [...this.milestones],
      schedulers: this.schedulers.map((s) => s.stateDict()),
    };
  }
  override loadStateDict(sd: SchedulerStateDict): void {
    const children = sd?.schedulers;
    if (!Array.isArray(children) || children.length !== this.schedulers.length) {
      throw new ValueError(
        `SequentialLR.loadStateDict: expected ${this.schedulers.length} scheduler state(s), got ${show(children)}`,
      );
    }
    super.loadStateDict(sd);
    this.schedulers.forEach((s, i) => s.loadStateDict(children[i] as SchedulerStateDict));
  }
}

/** Options of `ReduceLROnPlateau` (torch.optim.lr_scheduler.ReduceLROnPlateau). */
export interface ReduceLROnPlateauOptions {
  /** 'min': reduce when the metric stops decreasing; 'max': when it stops increasing (default 'min'). */
  mode?: 'min' | 'max';
  /** new lr = lr·factor (default 0.1, must be < 1). */
  factor?: number;
  /** Epochs without improvement to tolerate (default 10). */
  patience?: number;
  /** Smallest change that counts as an improvement (default 1e-4). */
  threshold?: number;
  /** 'rel': improvement relative to the best, 'abs': absolute (default 'rel'). */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** Lower bound on each group's lr (default 0). */
  minLr?: number | readonly number[];
  /** Reductions smaller than eps are ignored (default 1e-8). */
  eps?: number;
}

/** Reduces the lr when a metric has stopped improving (torch.optim.lr_scheduler.ReduceLROnPlateau). */
export class ReduceLROnPlateau {
  /** The scheduler's name, used in messages and state dicts. */
  readonly name = 'ReduceLROnPlateau';
  /** The optimizer whose groups' lr this scheduler reduces. */
  readonly optimizer: AnyOptimizer;
  /** Whether the metric should decrease ('min') or increase ('max'). */
  mode: 'min' | 'max';
  /** lr ← lr·factor on a reduction. */
  factor: number;
  /** Epochs without improvement tolerated before a reduction. */
  patience: number;
  /** Smallest change that counts as an improvement. */
  threshold: number;
  /** Whether threshold is relative to the best or absolute. */
  thresholdMode: 'rel' | 'abs';
  /** Epochs after a reduction before bad epochs count again. */
  cooldown: number;
  /** Lower bound on each group's lr. */
  minLrs: number[];
  /** Reductions smaller than this are ignored. */
  eps: number;
  /** Best metric seen so far. */
  best: number;
  /** Epochs since the last improvement (torch: num_bad_epochs). */
  numBadEpochs = 0;
  /** Epochs of cooldown left (torch: cooldown_counter). */
  cooldownCounter = 0;
  /** Number of step() calls. */
  lastEpoch = 0;
  /** The lrs after the last step, one per group (torch: _last_lr). */
  lastLr: number[];
  constructor(optimizer: AnyOptimizer, options: ReduceLROnPlateauOptions = {}) {
    const op = 'ReduceLROnPlateau';
    this.optimizer = optimizer;
    const mode = options.mode ?? 'min';
    if (mode !== 'min' && mode !== 'max')
      throw new ValueError(`${op}: option mode must be 'min' or 'max', got ${show(mode)}`);
    const tm = options.thresholdMode ?? 'rel';
    if (tm !== 'rel' && tm !== 'abs')
      throw new ValueError(`${op}: option thresholdMode must be 'rel' or 'abs', got ${show(tm)}`);
    this.mode = mode;
    this.thresholdMode = tm;
    this.factor = checkNumber(op, 'factor', options.factor ?? 0.1, { min: 0, below: 1 });
    this.patience = checkNumber(op, 'patience', options.patience ?? 10, { min: 0, integer: true });
    this.threshold = checkNumber(op, 'threshold', options.threshold ?? 1e-4, { min: 0 });
    this.cooldown = checkNumber(op, 'cooldown', options.cooldown ?? 0, { min: 0, integer: true });
    this.eps = checkNumber(op, 'eps', options.eps ?? 1e-8, { min: 0 });
    const n = optimizer.paramGroups.length;
    const m = options.minLr ?? 0;
    const list = typeof m === 'number' ? Array.from({ length: n }, () => m) : Array.isArray(m) ? [...m] : [];
    if (list.length !== n)
      throw new ValueError(`${op}: option minLr must be a number or one per param group (${n}), got ${show(m)}`);
    list.forEach((x, i) => checkNumber(op, `minLr[${i}]`, x, { min: 0 }));
    this.minLrs = list;
    this.best = mode === 'min' ? Infinity : -Infinity;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }
  private isBetter(a: number, best: number): boolean {
    if (this.mode === 'min')
      return this.thresholdMode === 'rel' ? a < best * (1 - this.threshold) : a < best - this.threshold;
    return this.thresholdMode === 'rel' ? a > best * (this.threshold + 1) : a > best + this.threshold;
  }
  /** Records one epoch's metric (e.g. validation loss) and reduces the lr if it has plateaued. */
  step(metric: number): void {
    if (typeof metric !== 'number')
      throw new ValueError(`ReduceLROnPlateau.step: metric must be a number, got ${show(metric)}`);
    this.lastEpoch += 1;
    if (this.isBetter(metric, this.best)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else this.numBadEpochs += 1;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const next = Math.max(g.lr * this.factor, this.minLrs[i]!);
        if (g.lr - next > this.eps) g.lr = next;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }
  /** The lrs after the last step, one per group (torch: get_last_lr). */
  getLastLr(): number[] {
    return [...this.lastLr];
  }
  private static readonly FIELDS = [
    'mode',
    'factor',
    'patience',
    'threshold',
    'thresholdMode',
    'cooldown',
    'minLrs',
    'eps',
    'best',
    'numBadEpochs',
    'cooldownCounter',
    'lastEpoch',
    'lastLr',
  ];
  /** The configuration and counters as JSON-safe values (torch: state_dict). */
  stateDict(): SchedulerStateDict {
    return saveFields(this.name, this, ReduceLROnPlateau.FIELDS);
  }
  /** Restores what `stateDict()` saved, after checking it (torch: load_state_dict). */
  loadStateDict(sd: SchedulerStateDict): void {
    loadFields(this.name, this, ReduceLROnPlateau.FIELDS, sd);
  }
}

/** A number or one number per param group, as PyTorch's _format_param. */
function perGroupOf(op: string, name: string, optimizer: AnyOptimizer, v: unknown, r: { min?: number } = {}): number[] {
  const n = optimizer.paramGroups.length;
  const list =
    typeof v === 'number' ? Array.from({ length: n }, () => v) : Array.isArray(v) ? [...(v as unknown[])] : [];
  if (list.length !== n) {
    throw new ValueError(`${op}: option ${name} must be a number or one per param group (${n}), got ${show(v)}`);
  }
  return list.map((x, i) => checkNumber(op, `${name}[${i}]`, x, r));
}

/**
 * lr = base·factor until epoch totalIters, then base (torch.optim.lr_scheduler.ConstantLR).
 * Chainable form: ×factor at epoch 0, ×1/factor at totalIters.
 */
export class ConstantLR extends LRScheduler {
  readonly name = 'ConstantLR';
  /** Multiplier of the base lr until totalIters (default 1/3). */
  factor: number;
  /** Epochs at the reduced lr (default 5). */
  totalIters: number;
  constructor(optimizer: AnyOptimizer, options: { factor?: number; totalIters?: number } = {}) {
    super(optimizer);
    checkKeys('ConstantLR', options, ['factor', 'totalIters']);
    this.factor = checkNumber('ConstantLR', 'factor', options.factor ?? 1 / 3, { min: 0, max: 1 });
    this.totalIters = checkNumber('ConstantLR', 'totalIters', options.totalIters ?? 5, { min: 0, integer: true });
    this.initialStep();
  }
  protected override get fields(): readonly string[] {
    return [...super.fields, 'factor', 'totalIters'];
  }
  protected getLr(): number[] {
    if (this.lastEpoch === 0) return this.groupLrs.map((lr) => lr * this.factor);
    if (this.lastEpoch !== this.totalIters) return this.groupLrs;
    return this.groupLrs.map((lr) => lr * (1.0 / this.factor));
  }
  override closedFormLr(): number[] {
    const f = this.factor + (this.lastEpoch >= this.totalIters ? 1 : 0) * (1 - this.factor);
    return this.baseLrs.map((b) => b * f);
  }
}

/**
 * lr = base·(1 − min(epoch, totalIters)/totalIters)^power (torch.optim.lr_scheduler.PolynomialLR).
 * Chainable form: lr·((1 − e/T)/(1 − (e−1)/T))^power.
 */
export class PolynomialLR extends LRScheduler {
  readonly name = 'PolynomialLR';
  /** Epochs over which the lr decays to 0 (default 5). */
  totalIters: number;
  /** Exponent of the polynomial (default 1). */
  power: number;
  constructor(optimizer: AnyOptimizer, options: { totalIters?: number; power?: number } = {}) {
    super(optimizer);
    checkKeys('PolynomialLR', options, ['totalIters', 'power']);
    this.totalIters = checkNumber('PolynomialLR', 'totalIters', options.totalIters ?? 5, { min: 1, integer: true });
    this.power = checkNumber('PolynomialLR', 'power', options.power ?? 1.0);
    this.initialStep();
  }
  protected override get fields(): readonly string[] {
    return [...super.fields, 'totalIters', 'power'];
  }
  protected getLr(): number[] {
    if (this.isInitial || this.lastEpoch > this.totalIters) return this.groupLrs;
    const e = this.lastEpoch,
      T = this.totalIters;
    const decay = ((1.0 - e / T) / (1.0 - (e - 1) / T)) ** this.power;
    return this.groupLrs.map((lr) => lr * decay);
  }
  override closedFormLr(): number[] {
    const e = Math.min(this.totalIters, this.lastEpoch);
    return this.baseLrs.map((b) => b * (1.0 - e / this.totalIters) ** this.power);
  }
}

/**
 * SGDR (Loshchilov & Hutter 2017): lr = ηmin + (base − ηmin)·(1 + cos(π·Tcur/Ti))/2, restarting
 * when Tcur reaches Ti, with Ti multiplied by tMult at each restart
 * (torch.optim.lr_scheduler.CosineAnnealingWarmRestarts). `stepAt(epoch)` takes fractional
 * epochs (`epoch + i/iters` per batch), as PyTorch's step(epoch).
 */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  readonly name = 'CosineAnnealingWarmRestarts';
  /** Epochs until the first restart (torch: T_0). */
  t0: number;
  /** Length of the current period (torch: T_i). */
  tI: number;
  /** Factor by which the period grows at each restart (default 1; torch: T_mult). */
  tMult: number;
  /** Minimum lr (default 0; torch: eta_min). */
  etaMin: number;
  /** Epochs since the last restart, possibly fractional (torch: T_cur). */
  tCur: number;
  constructor(optimizer: AnyOptimizer, options: { t0: number; tMult?: number; etaMin?: number }) {
    super(optimizer);
    const op = 'CosineAnnealingWarmRestarts';
    checkKeys(op, options, ['t0', 'tMult', 'etaMin']);
    this.t0 = checkNumber(op, 't0', options?.t0, { min: 1, integer: true });
    this.tI = this.t0;
    this.tMult = checkNumber(op, 'tMult', options.tMult ?? 1, { min: 1, integer: true });
    this.etaMin = checkNumber(op, 'etaMin', options.etaMin ?? 0);
    this.tCur = this.lastEpoch;
    this.initialStep();
  }
  protected override get fields(): readonly string[] {
    return [...super.fields, 't0', 'tI', 'tMult', 'etaMin', 'tCur'];
  }
  protected getLr(): number[] {
    const lo = this.etaMin,
      c = Math.cos((Math.PI * this.tCur) / this.tI);
    return this.baseLrs.map((b) => lo + ((b - lo) * (1 + c)) / 2);
  }
  override closedFormLr(): number[] {
    return this.getLr();
  }
  override step(): void {
    if (this.lastEpoch < 0) {
      this.stepAt(0);
      return;
    }
    this.tCur += 1;
    if (this.tCur >= this.tI) {
      this.tCur = this.tCur % this.tI;
      this.tI = this.tI * this.tMult;
    }
    this.lastEpoch += 1;
    this.apply(this.getLr());
  }
  /** Jumps to a (possibly fractional) epoch, as PyTorch's step(epoch). */
  override stepAt(epoch: number): void {
    checkNumber(this.name, 'epoch', epoch, { min: 0 });
    if (epoch >= this.t0) {
      if (this.tMult === 1) this.tCur = mod(epoch, this.t0);
      else {
        const n = Math.trunc(Math.log((epoch / this.t0) * (this.tMult - 1) + 1) / Math.log(this.tMult));
        this.tCur = epoch - (this.t0 * (this.tMult ** n - 1)) / (this.tMult - 1);
        this.tI = this.t0 * this.tMult ** n;
      }
    } else {
      this.tI = this.t0;
      this.tCur = epoch;
    }
    this.lastEpoch = Math.floor(epoch);
    this.apply(this.getLr());
  }
}

/** Options of `CyclicLR` (torch.optim.lr_scheduler.CyclicLR). */
export interface CyclicLROptions {
  /** Lower lr boundary (one for all groups or one per group); the optimizer's lr is set to it. */
  baseLr: number | readonly number[];
  /** Upper lr boundary. */
  maxLr: number | readonly number[];
  /** Iterations in the increasing half of a cycle (default 2000). */
  stepSizeUp?: number;
  /** Iterations in the decreasing half (default stepSizeUp). */
  stepSizeDown?: number;
  /** Amplitude policy (default 'triangular'); ignored when scaleFn is given. */
  mode?: 'triangular' | 'triangular2' | 'exp_range';
  /** exp_range's scale gamma^iterations (default 1). */
  gamma?: number;
  /** Custom amplitude scaling, 0 ≤ scaleFn(x) ≤ 1 (not saved by stateDict). */
  scaleFn?: (x: number) => number;
  /** Whether scaleFn takes the cycle number or the iteration (default 'cycle'). */
  scaleMode?: 'cycle' | 'iterations';
  /** Cycle momentum (or Adam's beta1) inversely to the lr (default true). */
  cycleMomentum?: boolean;
  /** Lowest momentum, reached at the lr's peak (default 0.8). */
  baseMomentum?: number | readonly number[];
  /** Highest momentum, at the cycle's ends (default 0.9). */
  maxMomentum?: number | readonly number[];
}

/** Cyclical learning rates (Smith 2017), as torch.optim.lr_scheduler.CyclicLR. Step it once per batch. */
export class CyclicLR extends LRScheduler {
  readonly name = 'CyclicLR';
  /** Upper lr boundary per group. */
  maxLrs: number[];
  /** Iterations in a cycle (stepSizeUp + stepSizeDown). */
  totalSize: number;
  /** Fraction of the cycle spent increasing (stepSizeUp / totalSize). */
  stepRatio: number;
  /** Amplitude policy. */
  mode: 'triangular' | 'triangular2' | 'exp_range';
  /** exp_range's decay base. */
  gamma: number;
  /** Whether the scale function takes the cycle number or the iteration. */
  scaleMode: 'cycle' | 'iterations';
  /** Whether momentum cycles inversely to the lr. */
  cycleMomentum: boolean;
  /** True when the optimizer's momentum is `betas[0]` (Adam family). */
  useBeta1 = false;
  /** Lowest momentum per group. */
  baseMomentums: number[] = [];
  /** Highest momentum per group. */
  maxMomentums: number[] = [];
  /** The user's `scaleFn`, if one was given. */
  readonly scaleFnCustom: ((x: number) => number) | undefined;
  constructor(optimizer: AnyOptimizer, options: CyclicLROptions) {
    super(CyclicLR.prepare(optimizer, options));
    const op = 'CyclicLR',
      o = options;
    const base = perGroupOf(op, 'baseLr', optimizer, o.baseLr, { min: 0 });
    this.maxLrs = perGroupOf(op, 'maxLr', optimizer, o.maxLr, { min: 0 });
    const up = checkNumber(op, 'stepSizeUp', o.stepSizeUp ?? 2000, { above: 0 });
    const down = o.stepSizeDown === undefined ? up : checkNumber(op, 'stepSizeDown', o.stepSizeDown, { above: 0 });
    this.totalSize = up + down;
    this.stepRatio = up / this.totalSize;
    const mode = o.mode ?? 'triangular';
    if (!['triangular', 'triangular2', 'exp_range'].includes(mode) && o.scaleFn === undefined) {
      throw new ValueError(`${op}: option mode must be 'triangular', 'triangular2' or 'exp_range', got ${show(mode)}`);
    }
    if (o.scaleFn !== undefined && typeof o.scaleFn !== 'function') {
      throw new ValueError(`${op}: option scaleFn must be a function, got ${show(o.scaleFn)}`);
    }
    this.mode = mode;
    this.gamma = checkNumber(op, 'gamma', o.gamma ?? 1.0);
    this.scaleFnCustom = o.scaleFn;
    const sm = o.scaleMode ?? 'cycle';
    if (sm !== 'cycle' && sm !== 'iterations') {
      throw new ValueError(`${op}: option scaleMode must be 'cycle' or 'iterations', got ${show(sm)}`);
    }
    this.scaleMode = o.scaleFn !== undefined ? sm : mode === 'exp_range' ? 'iterations' : 'cycle';
    this.cycleMomentum = checkBoolean(op, 'cycleMomentum', o.cycleMomentum ?? true);
    if (this.cycleMomentum) {
      if (!('momentum' in optimizer.defaults) && !('betas' in optimizer.defaults)) {
        throw new ValueError(
          `${op}: optimizer ${optimizer.name} has neither momentum nor betas; pass ` + `cycleMomentum: false`,
        );
      }
      this.useBeta1 = 'betas' in optimizer.defaults;
      this.baseMomentums = perGroupOf(op, 'baseMomentum', optimizer, o.baseMomentum ?? 0.8);
      this.maxMomentums = perGroupOf(op, 'maxMomentum', optimizer, o.maxMomentum ?? 0.9);
      optimizer.paramGroups.forEach((g, i) => this.setMomentum(g, this.maxMomentums[i]!));
    }
    this.initialStep();
    this.baseLrs = base;
  }
  /** Before the base constructor (as PyTorch does before super().__init__): group lr = baseLr. */
  private static prepare(optimizer: AnyOptimizer, options: CyclicLROptions): AnyOptimizer {
    const op = 'CyclicLR';
    if (optimizer === null || typeof optimizer !== 'object' || !Array.isArray(optimizer.paramGroups)) {
      throw new ValueError(`${op}: expected an optimizer, got ${show(optimizer)}`);
    }
    checkKeys(op, options, [
      'baseLr',
      'maxLr',
      'stepSizeUp',
      'stepSizeDown',
      'mode',
      'gamma',
      'scaleFn',
      'scaleMode',
      'cycleMomentum',
      'baseMomentum',
      'maxMomentum',
    ]);
    if (options === undefined) throw new ValueError(`${op}: options { baseLr, maxLr } are required`);
    const base = perGroupOf(op, 'baseLr', optimizer, options.baseLr, { min: 0 });
    optimizer.paramGroups.forEach((g, i) => (g.lr = base[i]!));
    return optimizer;
  }
  protected override get fields(): readonly string[] {
    return [
      ...super.fields,
      'maxLrs',
      'totalSize',
      'stepRatio',
      'mode',
      'gamma',
      'scaleMode',
      'cycleMomentum',
      'useBeta1',
      'baseMomentums',
      'maxMomentums',
    ];
  }
  private setMomentum(g: MomentumGroup, m: number): void {
    if (this.useBeta1) g.betas = [m, g.betas![1]];
    else g.momentum = m;
  }
  /** The amplitude scale at x (cycle number or iteration). */
  scaleFn(x: number): number {
    if (this.scaleFnCustom !== undefined) return this.scaleFnCustom(x);
    if (this.mode === 'triangular') return 1.0;
    if (this.mode === 'triangular2') return 1 / 2.0 ** (x - 1);
    return this.gamma ** x;
  }
  protected getLr(): number[] {
    const e = this.lastEpoch;
    const cycle = Math.floor(1 + e / this.totalSize);
    const x = 1.0 + e / this.totalSize - cycle;
    const scaleFactor = x <= this.stepRatio ? x / this.stepRatio : (x - 1) / (this.stepRatio - 1);
    const s = this.scaleFn(this.scaleMode === 'cycle' ? cycle : e);
    const lrs = this.baseLrs.map((b, i) => b + (this.maxLrs[i]! - b) * scaleFactor * s);
    if (this.cycleMomentum) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const height = (this.maxMomentums[i]! - this.baseMomentums[i]!) * scaleFactor;
        this.setMomentum(g, this.maxMomentums[i]! - height * s);
      });
    }
    return lrs;
  }
}

/**
 * Steps several schedulers of one optimizer together, each on the lr the previous one left
 * (torch.optim.lr_scheduler.ChainedScheduler): their chainable forms multiply.
 */
export class ChainedScheduler extends LRScheduler {
  readonly name = 'ChainedScheduler';
  /** The schedulers stepped together, each multiplying the lr in turn. */
  readonly schedulers: LRScheduler[];
  constructor(schedulers: readonly LRScheduler[], options: { optimizer?: AnyOptimizer } = {}) {
    const op = 'ChainedScheduler';
    if (!Array.isArray(schedulers) || schedulers.length < 1 || !schedulers.every((s) => s instanceof LRScheduler)) {
      throw new ValueError(`${op}: expected a non-empty array of schedulers, got ${show(schedulers)}`);
    }
    checkKeys(op, options, ['optimizer']);
    const optimizer = options.optimizer ?? schedulers[0]!.optimizer;
    super(optimizer);
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) {
        throw new ValueError(`${op}: scheduler ${i} (${s.name}) is bound to a different optimizer`);
      }
    });
    this.schedulers = [...schedulers];
    this.lastLr = this.groupLrs;
  }
  protected getLr(): number[] {
    return this.groupLrs;
  }
  override step(): void {
    for (const s of this.schedulers) s.step();
    this.lastLr = this.groupLrs;
  }
  override stepAt(): void {
    throw new ValueError('ChainedScheduler.stepAt: a chain has no closed form; call step()');
  }
  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), schedulers: this.schedulers.map((s) => s.stateDict()) };
  }
  override loadStateDict(sd: SchedulerStateDict): void {
    const children = sd?.schedulers;
    if (!Array.isArray(children) || children.length !== this.schedulers.length) {
      throw new ValueError(
        `ChainedScheduler.loadStateDict: expected ${this.schedulers.length} scheduler ` +
          `state(s), got ${show(children)}`,
      );
    }
    super.loadStateDict(sd);
    this.schedulers.forEach((s, i) => s.loadStateDict(children[i] as SchedulerStateDict));
  }
}
