/**
 * Weight averaging, as torch.optim.swa_utils: AveragedModel keeps a running average of a model's
 * parameters, either equal-weight (Stochastic Weight Averaging, Izmailov et al. 2018) or
 * exponential (EMA / Polyak averaging); SWALR anneals the lr to a constant SWA lr; updateBn
 * recomputes BatchNorm statistics for the averaged weights with one pass over the data.
 */
import { ValueError } from '../errors.js';
import type { Module } from '../nn/module.js';
import { bumpVersion, noGrad } from '../tape.js';
import { Tensor } from '../tensor.js';
import { LRScheduler, type AnyOptimizer } from './schedulers.js';
import { checkBoolean, checkKeys, checkNumber, show } from './validate.js';

/** `torch.lerp` as ATen computes it (two formulas split at |w| < 0.5), so EMA matches PyTorch bit for bit. */
const lerp = (a: number, b: number, w: number): number => (Math.abs(w) < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w));

/** Returns the new average of one tensor: `avgFn(averaged, current, numAveraged)`. */
export type AvgFn = (averaged: Tensor, current: Tensor, numAveraged: number) => Tensor;
/** Updates the averages in place (writing their `.data`): `multiAvgFn(averaged[], current[], numAveraged)`. */
export type MultiAvgFn = (averaged: readonly Tensor[], current: readonly Tensor[], numAveraged: number) => void;

const checkDecay = (op: string, decay: number) => checkNumber(op, 'decay', decay, { min: 0, max: 1 });
const isFloat = (t: Tensor) => t.dtype === 'float32' || t.dtype === 'float64';

/** Integer tensors (counters such as numBatchesTracked): computed in float64, truncated when written back, as copy_. */
const mapInt = (a: Tensor, c: Tensor, f: (x: number, y: number) => number): Tensor =>
  new Tensor(
    Float64Array.from(a.data, (x, i) => f(x, c.data[i]!)),
    a.shape,
  );

/** EMA in place over lists: avg ← lerp(avg, cur, 1 − decay) (torch's get_ema_multi_avg_fn). */
export function getEmaMultiAvgFn(decay = 0.999): MultiAvgFn {
  checkDecay('getEmaMultiAvgFn', decay);
  return (avgs, curs) => {
    avgs.forEach((a, k) => {
      const A = a.data,
        C = curs[k]!.data;
      if (isFloat(a)) for (let i = 0; i < A.length; i++) A[i] = lerp(A[i]!, C[i]!, 1 - decay);
      else for (let i = 0; i < A.length; i++) A[i] = A[i]! * decay + C[i]! * (1 - decay);
    });
  };
}
/** SWA in place over lists: avg ← lerp(avg, cur, 1/(n + 1)) (torch's get_swa_multi_avg_fn). */
export function getSwaMultiAvgFn(): MultiAvgFn {
  return (avgs, curs, n) => {
    avgs.forEach((a, k) => {
      const A = a.data,
        C = curs[k]!.data;
      if (isFloat(a)) for (let i = 0; i < A.length; i++) A[i] = lerp(A[i]!, C[i]!, 1 / (n + 1));
      else for (let i = 0; i < A.length; i++) A[i] = A[i]! + (C[i]! - A[i]!) * (1.0 / (n + 1));
    });
  };
}
/** EMA of one tensor: decay·avg + (1 − decay)·cur (torch's get_ema_avg_fn). */
export function getEmaAvgFn(decay = 0.999): AvgFn {
  checkDecay('getEmaAvgFn', decay);
  return (a, c) =>
    isFloat(a) ? noGrad(() => a.mul(decay).add(c.mul(1 - decay))) : mapInt(a, c, (x, y) => x * decay + y * (1 - decay));
}
/** SWA of one tensor: avg + (cur − avg)/(n + 1) (torch's get_swa_avg_fn; AveragedModel's default). */
export function getSwaAvgFn(): AvgFn {
  return (a, c, n) =>
    isFloat(a) ? noGrad(() => a.add(c.sub(a).div(n + 1))) : mapInt(a, c, (x, y) => x + (y - x) / (n + 1));
}

/** Buffers of a module, where the Module API has them (registerBuffer); none otherwise. */
function buffersOf(m: Module): Tensor[] {
  const f = (m as unknown as { buffers?: () => Iterable<Tensor> }).buffers;
  return typeof f === 'function' ? [...f.call(m)] : [];
}

/** The type of a module's forward method. */
type ForwardOf<M> = M extends { forward(...a: infer A): infer R } ? (...a: A) => R : (...a: never[]) => never;

/** Options of `AveragedModel` (torch.optim.swa_utils.AveragedModel). */
export interface AveragedModelOptions<M extends Module> {
  /**
   * A module of the same architecture that holds the average (its values are overwritten by the
   * first update), or a function making one. JavaScript cannot deep-copy a class instance with
   * private fields, so unlike PyTorch's deepcopy the copy is built by you: `module: () => makeNet()`.
   */
  module: M | (() => M);
  /** Per-tensor averaging function (default: equal-weight SWA, getSwaAvgFn). */
  avgFn?: AvgFn;
  /** In-place averaging over all tensors at once (e.g. getEmaMultiAvgFn(0.999)). Not with avgFn. */
  multiAvgFn?: MultiAvgFn;
  /** Average the buffers (BatchNorm statistics) too; otherwise they are copied from the model (default false). */
  useBuffers?: boolean;
}

/**
 * A running average of a model's weights (torch.optim.swa_utils.AveragedModel). Call
 * `updateParameters(model)` after optimizer steps; `forward` runs the averaged weights. The first
 * update copies the model; later ones apply `avgFn` / `multiAvgFn` (SWA by default).
 */
export class AveragedModel<M extends Module> {
  /** The averaged copy of the model. */
  readonly module: M;
  /** How many models have been averaged (PyTorch's n_averaged buffer). */
  nAveraged = 0;
  /** The per-tensor averaging function, if given. */
  readonly avgFn: AvgFn | undefined;
  /** The all-tensors averaging function, if given. */
  readonly multiAvgFn: MultiAvgFn | undefined;
  /** Whether buffers are averaged too (else copied from the model). */
  readonly useBuffers: boolean;
  constructor(model: M, options: AveragedModelOptions<M>) {
    const op = 'AveragedModel';
    if (options === null || typeof options !== 'object') {
      throw new ValueError(`${op}: options { module } are required, got ${show(options)}`);
    }
    checkKeys(op, options, ['module', 'avgFn', 'multiAvgFn', 'useBuffers']);
    if (options.avgFn !== undefined && options.multiAvgFn !== undefined) {
      throw new ValueError(`${op}: only one of avgFn and multiAvgFn should be provided`);
    }
    for (const k of ['avgFn', 'multiAvgFn'] as const) {
      if (options[k] !== undefined && typeof options[k] !== 'function') {
        throw new ValueError(`${op}: option ${k} must be a function`);
      }
    }
    const m = typeof options.module === 'function' ? options.module() : options.module;
    if (m === model) {
      throw new ValueError(`${op}: option module must be a separate copy of the model, not the model itself`);
    }
    const a = m?.parameters?.(),
      b = model?.parameters?.();
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length || a.some((p, i) => p.size !== b[i]!.size)) {
      throw new ValueError(
        `${op}: option module must have the model's architecture (${b?.length ?? 0} ` + `parameters of the same sizes)`,
      );
    }
    this.module = m;
    this.avgFn = options.avgFn;
    this.multiAvgFn = options.multiAvgFn;
    this.useBuffers = checkBoolean(op, 'useBuffers', options.useBuffers ?? false);
    noGrad(() => this.module.parameters().forEach((p, i) => (p.data.set(b[i]!.data), bumpVersion(p))));
  }
  /** Runs the averaged module (`module.forward(...args)`). */
  forward(...args: Parameters<ForwardOf<M>>): ReturnType<ForwardOf<M>> {
    return (this.module as unknown as { forward: (...a: unknown[]) => ReturnType<ForwardOf<M>> }).forward(...args);
  }
  /** The averaged module's parameters. */
  parameters(): Tensor[] {
    return this.module.parameters();
  }
  /** Folds the model's current weights into the average. */
  updateParameters(model: M): void {
    const mine = this.useBuffers ? [...this.module.parameters(), ...buffersOf(this.module)] : this.module.parameters();
    const theirs = this.useBuffers ? [...model.parameters(), ...buffersOf(model)] : model.parameters();
    if (mine.length !== theirs.length || mine.some((p, i) => p.size !== theirs[i]!.size)) {
      throw new ValueError(
        `AveragedModel.updateParameters: the model has ${theirs.length} tensors, the ` +
          `average ${mine.length} (or their sizes differ)`,
      );
    }
    noGrad(() => {
      const cur = theirs.map((t) => t.detach());
      if (this.nAveraged === 0) mine.forEach((p, i) => (p.data.set(cur[i]!.data), bumpVersion(p)));
      else if (this.multiAvgFn !== undefined)
        this.multiAvgFn(
          mine.map((p) => p.detach()),
          cur,
          this.nAveraged,
        );
      else {
        const fn = this.avgFn ?? getSwaAvgFn();
        mine.forEach((p, i) => (p.data.set(fn(p.detach(), cur[i]!, this.nAveraged).data), bumpVersion(p)));
      }
      if (!this.useBuffers) {
        const bm = buffersOf(this.module),
          bo = buffersOf(model);
        bm.forEach((b, i) => (b.data.set(bo[i]!.data), bumpVersion(b)));
      }
    });
    this.nAveraged += 1;
  }
  /** The averaged module's state dict, plus `nAveraged` as a 1-element tensor (PyTorch's buffer). */
  stateDict(): Record<string, Tensor> {
    const sd: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(this.module.stateDict())) sd[`module.${k}`] = v;
    sd['nAveraged'] = new Tensor(Int32Array.of(this.nAveraged), []);
    return sd;
  }
  /** Restores what `stateDict()` saved, `nAveraged` included. */
  loadStateDict(sd: Readonly<Record<string, Tensor>>): void {
    const n = sd?.['nAveraged'];
    if (!(n instanceof Tensor) || n.size !== 1 || !Number.isInteger(n.data[0]) || n.data[0]! < 0) {
      throw new ValueError('AveragedModel.loadStateDict: expected a non-negative integer nAveraged tensor');
    }
    const inner: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(sd)) {
      if (k === 'nAveraged') continue;
      if (!k.startsWith('module.')) {
        throw new ValueError(`AveragedModel.loadStateDict: unexpected key "${k}" (expected module.* and nAveraged)`);
      }
      inner[k.slice('module.'.length)] = v;
    }
    this.module.loadStateDict(inner, { strict: true });
    this.nAveraged = n.data[0]!;
  }
}

/** What updateBn needs of a batch-norm layer (nn.BatchNorm*: running statistics and momentum). */
interface BatchNormLike {
  runningMean: Tensor;
  runningVar: Tensor;
  momentum: number | null;
  numBatchesTracked?: Tensor;
  resetRunningStats?: () => void;
}
function isBatchNorm(m: unknown): m is BatchNormLike {
  const b = m as Partial<BatchNormLike>;
  return b.runningMean instanceof Tensor && b.runningVar instanceof Tensor && 'momentum' in (m as object);
}

/**
 * Recomputes the running statistics of every batch-norm layer in `model` with one pass over
 * `loader` (torch.optim.swa_utils.update_bn): statistics reset, momentum set to null (a cumulative
 * average over the pass, as PyTorch's momentum=None), the model in training mode; afterwards
 * momentum and training mode are restored. A batch is a Tensor or an array whose first element is
 * the input. Layers are found by shape — `runningMean`, `runningVar`, `momentum` — so any module
 * with PyTorch's BatchNorm fields works. Runs without recording gradients.
 */
export function updateBn(loader: Iterable<Tensor | readonly Tensor[]>, model: Module | AveragedModel<Module>): void {
  const m = model instanceof AveragedModel ? model.module : model;
  const bns = m.modules().filter(isBatchNorm) as unknown as BatchNormLike[];
  if (bns.length === 0) return;
  const momenta = new Map<BatchNormLike, number | null>();
  for (const bn of bns) {
    if (typeof bn.resetRunningStats === 'function') bn.resetRunningStats();
    else {
      bn.runningMean.data.fill(0);
      bn.runningVar.data.fill(1);
      bn.numBatchesTracked?.data.fill(0);
    }
    momenta.set(bn, bn.momentum);
  }
  const wasTraining = m.training;
  m.train();
  for (const bn of bns) bn.momentum = null;
  const fwd = (m as unknown as { forward: (x: Tensor) => unknown }).forward.bind(m);
  try {
    noGrad(() => {
      for (const batch of loader) {
        const x = batch instanceof Tensor ? batch : batch[0];
        if (!(x instanceof Tensor)) {
          throw new ValueError(
            `updateBn: each batch must be a Tensor or an array starting with one, got ` + `${show(batch)}`,
          );
        }
        fwd(x);
      }
    });
  } finally {
    for (const [bn, mom] of momenta) bn.momentum = mom;
    m.train(wasTraining);
  }
}

/** Options of `SWALR` (torch.optim.swa_utils.SWALR). */
export interface SWALROptions {
  /** The SWA learning rate(s): one for all groups or one per group. */
  swaLr: number | readonly number[];
  /** Epochs of the annealing phase (default 10). */
  annealEpochs?: number;
  /** 'cos' (default) or 'linear' annealing. */
  annealStrategy?: 'cos' | 'linear';
}

/**
 * Anneals each group's lr from its current value to a constant SWA lr over `annealEpochs`
 * (torch.optim.swa_utils.SWALR), then holds it. Chainable: it starts from whatever lr the previous
 * scheduler left.
 */
export class SWALR extends LRScheduler {
  readonly name = 'SWALR';
  /** The SWA lr per group. */
  swaLrs: number[];
  /** Epochs of the annealing phase. */
  annealEpochs: number;
  /** Cosine or linear annealing. */
  annealStrategy: 'cos' | 'linear';
  constructor(optimizer: AnyOptimizer, options: SWALROptions) {
    super(optimizer);
    const op = 'SWALR';
    if (options === null || typeof options !== 'object') {
      throw new ValueError(`${op}: options { swaLr } are required, got ${show(options)}`);
    }
    checkKeys(op, options, ['swaLr', 'annealEpochs', 'annealStrategy']);
    const n = optimizer.paramGroups.length,
      v = options.swaLr;
    const list = typeof v === 'number' ? Array.from({ length: n }, () => v) : Array.isArray(v) ? [...v] : [];
    if (list.length !== n) {
      throw new ValueError(`${op}: option swaLr must be a number or one per param group (${n}), got ${show(v)}`);
    }
    this.swaLrs = list.map((x, i) => checkNumber(op, `swaLr[${i}]`, x, { min: 0 }));
    const s = options.annealStrategy ?? 'cos';
    if (s !== 'cos' && s !== 'linear') {
      throw new ValueError(`${op}: option annealStrategy must be 'cos' or 'linear', got ${show(s)}`);
    }
    this.annealStrategy = s;
    this.annealEpochs = checkNumber(op, 'annealEpochs', options.annealEpochs ?? 10, { min: 0, integer: true });
    this.initialStep();
  }
  protected override get fields(): readonly string[] {
    return [...super.fields, 'swaLrs', 'annealEpochs', 'annealStrategy'];
  }
  private anneal(t: number): number {
    return this.annealStrategy === 'cos' ? (1 - Math.cos(Math.PI * t)) / 2 : t;
  }
  protected getLr(): number[] {
    let step = this.stepCount - 1;
    if (this.annealEpochs === 0) step = Math.max(1, step);
    const prevT = Math.max(0, Math.min(1, (step - 1) / Math.max(1, this.annealEpochs)));
    const prevAlpha = this.anneal(prevT);
    const prevLrs = this.optimizer.paramGroups.map((g, i) =>
      prevAlpha === 1 ? this.swaLrs[i]! : (g.lr - prevAlpha * this.swaLrs[i]!) / (1 - prevAlpha),
    );
    const t = Math.max(0, Math.min(1, step / Math.max(1, this.annealEpochs)));
    const alpha = this.anneal(t);
    return prevLrs.map((lr, i) => this.swaLrs[i]! * alpha + lr * (1 - alpha));
  }
}
