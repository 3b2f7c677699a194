/**
 * Loss-weighting methods with state: GradNorm (Chen et al. 2018) learns task weights that equalise
 * the tasks' gradient norms and training rates; uncertainty weighting (Kendall et al. 2018) learns
 * one log-variance per task; DWA (Liu et al. 2019) weights tasks by how fast their losses fall.
 * Each `backward(losses, params)` writes Σ wₖ∇Lₖ into the parameters' `.grad` through
 * multiTaskBackward and returns its report (gradient norms, cosines, conflicts) with the weights.
 */
import { ValueError } from '../errors.js';
import { Tensor, tensor } from '../tensor.js';
import { multiTaskBackward, type MultiTaskReport } from './multitask.js';
import { checkKeys, checkNumber, show } from './validate.js';

/** What the task-weighting schemes' `backward` reports: `multiTaskBackward`'s report plus the weights. */
export interface WeightingReport extends MultiTaskReport {
  /** The weights wₖ the gradients were combined with. */
  weights: number[];
}

function checkLosses(op: string, losses: readonly Tensor[], n: number): number[] {
  if (!Array.isArray(losses) || losses.length !== n) {
    throw new ValueError(`${op}: expected ${n} losses, got ${show(Array.isArray(losses) ? losses.length : losses)}`);
  }
  return losses.map((l, k) => {
    if (!(l instanceof Tensor) || l.size !== 1) throw new ValueError(`${op}: loss ${k} must be a scalar Tensor`);
    return l.item();
  });
}
function arrayOf(op: string, dtype: unknown): Float32ArrayConstructor | Float64ArrayConstructor {
  if (dtype === undefined || dtype === 'float32') return Float32Array;
  if (dtype === 'float64') return Float64Array;
  throw new ValueError(`${op}: option dtype must be 'float32' or 'float64', got ${show(dtype)}`);
}
const checkTasks = (op: string, n: number) => checkNumber(op, 'numTasks', n, { min: 1, integer: true });

/** GradNorm's report: the weights used, L_grad, the targets Ḡ·rᵢ^α and the norms G⁽ⁱ⁾ = wᵢ‖∇_W Lᵢ‖. */
export interface GradNormReport extends WeightingReport {
  /** L_grad = Σᵢ |G⁽ⁱ⁾ − Ḡ·rᵢ^α|. */
  gradLoss: number;
  /** The targets Ḡ·rᵢ^α. */
  targets: number[];
  /** The norms G⁽ⁱ⁾ = wᵢ‖∇_W Lᵢ‖. */
  gradNorms: number[];
}

/** Options of `GradNorm`. */
export interface GradNormOptions {
  /** α, the strength of the pull towards a common training rate (default 1.5, the paper's). */
  alpha?: number;
  /** dtype of the weights tensor (default 'float32'). */
  dtype?: 'float32' | 'float64';
}

/**
 * GradNorm (Chen et al. 2018). Task weights wᵢ (a Tensor that requires grad; give it to an
 * optimizer) start at 1. Each backward(losses, params):
 * - renormalises w so Σwᵢ = K (the paper's step after each update);
 * - writes Σ wᵢ∇Lᵢ into the parameters' `.grad`;
 * - writes ∂L_grad/∂w into `weights.grad`, where L_grad = Σᵢ |G⁽ⁱ⁾ − Ḡ·rᵢ^α|,
 *   G⁽ⁱ⁾ = wᵢ‖∇_W Lᵢ‖, Ḡ = meanᵢ G⁽ⁱ⁾, L̃ᵢ = Lᵢ/Lᵢ(0), rᵢ = L̃ᵢ/meanⱼ L̃ⱼ, with Ḡ·rᵢ^α held constant
 *   as in the paper, so ∂L_grad/∂wᵢ = sign(G⁽ⁱ⁾ − Ḡrᵢ^α)·‖∇_W Lᵢ‖.
 * Lᵢ(0) are the losses of the first call.
 */
export class GradNorm {
  /** Number of tasks K. */
  readonly numTasks: number;
  /** α, the strength of the pull towards a common training rate. */
  readonly alpha: number;
  /** The task weights w, a tensor that requires grad (give it to an optimizer). */
  readonly weights: Tensor;
  /** The losses at the first backward, which the training rates are relative to. */
  initialLosses: number[] | null = null;
  constructor(numTasks: number, options: GradNormOptions = {}) {
    const op = 'GradNorm';
    checkKeys(op, options, ['alpha', 'dtype']);
    this.numTasks = checkTasks(op, numTasks);
    this.alpha = checkNumber(op, 'alpha', options.alpha ?? 1.5, { min: 0 });
    const data = new (arrayOf(op, options.dtype))(numTasks).fill(1);
    this.weights = tensor(data, { shape: [numTasks], requiresGrad: true });
  }
  /** w ← K·w/Σw (done at the start of every backward). */
  renormalize(): void {
    const w = this.weights.data;
    let s = 0;
    for (const v of w) s += v;
    if (!(s > 0)) throw new ValueError(`GradNorm: the task weights sum to ${s}; they must stay positive`);
    for (let i = 0; i < w.length; i++) w[i] = (this.numTasks * w[i]!) / s;
  }
  /**
   * `sharedParams`: the parameters W whose gradient norms are balanced; the paper uses the last
   * shared layer (default: all of `params`).
   */
  backward(
    losses: readonly Tensor[],
    params: Iterable<Tensor>,
    options: { sharedParams?: Iterable<Tensor> } = {},
  ): GradNormReport {
    const op = 'GradNorm.backward';
    checkKeys(op, options, ['sharedParams']);
    const L = checkLosses(op, losses, this.numTasks);
    const ps = [...params];
    const shared = options.sharedParams === undefined ? ps : [...options.sharedParams];
    if (shared.some((p) => !ps.includes(p))) {
      throw new ValueError(`${op}: every sharedParams tensor must be one of params`);
    }
    this.renormalize();
    if (this.initialLosses === null) this.initialLosses = L;
    const w = [...this.weights.data];
    // Per-task gradients on W: one unweighted pass with the report (retaining the graph between losses).
    const onShared: number[] = [];
    const report = multiTaskBackwardCollect(losses, ps, w, shared, onShared);
    const K = this.numTasks;
    const G = w.map((wi, i) => wi * onShared[i]!);
    const Gbar = G.reduce((a, b) => a + b, 0) / K;
    const Lt = L.map((l, i) => l / this.initialLosses![i]!);
    const meanLt = Lt.reduce((a, b) => a + b, 0) / K;
    const targets = Lt.map((l) => Gbar * (l / meanLt) ** this.alpha);
    const gradLoss = G.reduce((s, g, i) => s + Math.abs(g - targets[i]!), 0);
    const gw = G.map((g, i) => Math.sign(g - targets[i]!) * onShared[i]!);
    const gt = tensor(this.weights.dtype === 'float64' ? Float64Array.from(gw) : Float32Array.from(gw), { shape: [K] });
    this.weights.grad = this.weights.grad === null ? gt : this.weights.grad.add(gt);
    return { ...report, weights: w, gradLoss, targets, gradNorms: G };
  }
}

/** multiTaskBackward with weights w, also collecting ‖∇_W Lᵢ‖ (unweighted) over the shared subset W. */
function multiTaskBackwardCollect(
  losses: readonly Tensor[],
  ps: Tensor[],
  w: number[],
  shared: Tensor[],
  out: number[],
): MultiTaskReport {
  // Gradients of each loss on W, unweighted: a first pass with retained graphs.
  const saved = ps.map((p) => p.grad);
  try {
    losses.forEach((loss, k) => {
      for (const p of ps) p.grad = null;
      let s = 0;
      if (loss.requiresGrad) {
        loss.backward(undefined, { retainGraph: true });
        for (const p of shared) if (p.grad) for (const v of p.grad.data) s += v * v;
      }
      out[k] = Math.sqrt(s);
    });
  } finally {
    ps.forEach((p, i) => (p.grad = saved[i]!));
  }
  return multiTaskBackward(losses, ps, { weights: w });
}

/**
 * Uncertainty weighting (Kendall, Gal & Cipolla 2018): learnable sᵢ = log σᵢ² (a Tensor that requires
 * grad; give it to an optimizer), and the total loss Σᵢ Lᵢ/(2σᵢ²) + log σᵢ = Σᵢ e^(−sᵢ)Lᵢ/2 + sᵢ/2
 * (the regression form; LibMTL's UW, which starts sᵢ at −0.5). Task weights wᵢ = e^(−sᵢ)/2.
 */
export class UncertaintyWeighting {
  /** Number of tasks K. */
  readonly numTasks: number;
  /** The learnable sᵢ = log σᵢ², a tensor that requires grad (give it to an optimizer). */
  readonly logVars: Tensor;
  constructor(numTasks: number, options: { init?: number; dtype?: 'float32' | 'float64' } = {}) {
    const op = 'UncertaintyWeighting';
    checkKeys(op, options, ['init', 'dtype']);
    this.numTasks = checkTasks(op, numTasks);
    const init = checkNumber(op, 'init', options.init ?? -0.5);
    const data = new (arrayOf(op, options.dtype))(numTasks).fill(init);
    this.logVars = tensor(data, { shape: [numTasks], requiresGrad: true });
  }
  /** The task weights e^(−sᵢ)/2. */
  get weights(): number[] {
    return [...this.logVars.data].map((s) => Math.exp(-s) / 2);
  }
  /** The combined loss as one differentiable scalar (backward() on it trains the network and sᵢ together). */
  loss(losses: readonly Tensor[]): Tensor {
    checkLosses('UncertaintyWeighting.loss', losses, this.numTasks);
    let total: Tensor | null = null;
    losses.forEach((l, i) => {
      const s = this.logVars.slice([[i, i + 1]]).reshape([]);
      const term = l.mul(s.neg().exp()).div(2).add(s.div(2));
      total = total === null ? term : total.add(term);
    });
    return total!;
  }
  /**
   * The same gradients as loss(losses).backward(), with the multi-task report: Σ wᵢ∇Lᵢ into the
   * parameters' `.grad`, and ∂/∂sᵢ = −e^(−sᵢ)Lᵢ/2 + 1/2 into `logVars.grad`.
   */
  backward(losses: readonly Tensor[], params: Iterable<Tensor>): WeightingReport {
    const L = checkLosses('UncertaintyWeighting.backward', losses, this.numTasks);
    const w = this.weights;
    const report = multiTaskBackward(losses, params, { weights: w });
    const gv = L.map((l, i) => -w[i]! * l + 0.5);
    const g = tensor(this.logVars.dtype === 'float64' ? Float64Array.from(gv) : Float32Array.from(gv), {
      shape: [gv.length],
    });
    this.logVars.grad = this.logVars.grad === null ? g : this.logVars.grad.add(g);
    return { ...report, weights: w };
  }
}

/**
 * Dynamic Weight Average (Liu, Johns & Davison 2019, MTAN): wₖ(t) = K·exp(rₖ(t−1)/T)/Σᵢ exp(rᵢ(t−1)/T)
 * with rₖ(t−1) = Lₖ(t−1)/Lₖ(t−2), the ratio of the last two epochs' average losses; wₖ = 1 for the
 * first two epochs. Call `endEpoch(averageLosses)` after each epoch.
 */
export class DWA {
  /** Number of tasks K. */
  readonly numTasks: number;
  /** Temperature T of the softmax over loss ratios (default 2). */
  readonly temperature: number;
  /** Average loss per task of each epoch so far. */
  history: number[][] = [];
  constructor(numTasks: number, options: { temperature?: number } = {}) {
    const op = 'DWA';
    checkKeys(op, options, ['temperature']);
    this.numTasks = checkTasks(op, numTasks);
    this.temperature = checkNumber(op, 'temperature', options.temperature ?? 2.0, { above: 0 });
  }
  /** Records one epoch's average loss per task. */
  endEpoch(averageLosses: readonly number[]): void {
    if (!Array.isArray(averageLosses) || averageLosses.length !== this.numTasks) {
      throw new ValueError(`DWA.endEpoch: expected ${this.numTasks} average losses, got ${show(averageLosses)}`);
    }
    averageLosses.forEach((l, k) => checkNumber('DWA.endEpoch', `averageLosses[${k}]`, l, { above: 0 }));
    this.history.push([...averageLosses]);
  }
  /** The weights for the current epoch. */
  get weights(): number[] {
    const h = this.history;
    if (h.length < 2) return new Array<number>(this.numTasks).fill(1);
    const last = h[h.length - 1]!,
      prev = h[h.length - 2]!;
    const z = last.map((l, k) => l / prev[k]! / this.temperature);
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => (this.numTasks * v) / s);
  }
  /** Writes Σ wₖ∇Lₖ with the current epoch's weights into the parameters' `.grad`. */
  backward(losses: readonly Tensor[], params: Iterable<Tensor>): WeightingReport {
    checkLosses('DWA.backward', losses, this.numTasks);
    const w = this.weights;
    return { ...multiTaskBackward(losses, params, { weights: w }), weights: w };
  }
  /** The loss history, to save and restore with `loadStateDict`. */
  stateDict(): {
    /** Average loss per task of each epoch. */
    history: number[][];
  } {
    return { history: this.history.map((r) => [...r]) };
  }
  /** Restores the loss history saved by `stateDict`. */
  loadStateDict(sd: { history: number[][] }): void {
    if (!sd || !Array.isArray(sd.history) || !sd.history.every((r) => Array.isArray(r) && r.length === this.numTasks)) {
      throw new ValueError(`DWA.loadStateDict: expected { history: number[${this.numTasks}][] }`);
    }
    this.history = sd.history.map((r) => [...r]);
  }
}
