/**
 * The optimizers' update math: small pure functions over typed arrays, updating in place, each taking
 * its optimizer's options type (the one users write) as its hyper-parameters.
 *
 * Each mirrors the operation order of PyTorch's `_single_tensor_*` implementation
 * (torch/optim/*.py), so that in float64 the trajectories agree to rounding (PyTorch's
 * vectorised CPU kernels may fuse a multiply-add; we cannot, hence ~1e-15 relative, not 0).
 * Scalars that PyTorch computes in Python (bias corrections, step sizes) are computed here
 * in JS doubles the same way. The declarations in this folder call these through `getUpdateKernel`,
 * whose defaults for adam, sgd, adamwScheduleFree, lamb, muon and adafactor first try the fused kernels
 * backends offer (backend/fused.ts: WebAssembly, GPU); a user can replace any of them with `setUpdateKernel`.
 */

import { fusedUpdates } from '../backend/fused.js';
import { ValueError } from '../errors.js';
import type { FloatArray } from '../io/codec.js';

export type { FloatArray };

/** `torch.lerp(a, b, w)` exactly as ATen computes it (two formulas, split at |w| < 0.5). */
export const lerp = (a: number, b: number, w: number): number =>
  Math.abs(w) < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w);

/** Hyperparameters of SGD (torch.optim.SGD); every field is optional in the constructor. */
export interface SGDOptions {
  /** Learning rate (PyTorch default 1e-3). */
  lr: number;
  /** Momentum factor μ (default 0). */
  momentum: number;
  /** Dampening τ for momentum (default 0). */
  dampening: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Ascend instead of descend. */
  maximize: boolean;
}
/**
 * SGD: g ← ±grad + wd·θ; b ← g (first step) or μ·b + (1−τ)·g; g ← g + μ·b (Nesterov) or b; θ ← θ − lr·g.
 * `buf` is null when momentum is 0; `firstStep` means the momentum buffer is not yet initialised.
 */
export function sgdUpdate(
  param: FloatArray,
  grad: FloatArray,
  buf: FloatArray | null,
  h: SGDOptions,
  firstStep: boolean,
): void {
  const { lr, momentum, nesterov, weightDecay: wd, maximize } = h;
  const damp = 1 - h.dampening;
  for (let i = 0; i < param.length; i++) {
    let g = maximize ? -grad[i]! : grad[i]!;
    if (wd !== 0) g = g + wd * param[i]!;
    if (momentum !== 0 && buf !== null) {
      buf[i] = firstStep ? g : buf[i]! * momentum + damp * g;
      g = nesterov ? g + momentum * buf[i]! : buf[i]!;
    }
    param[i] = param[i]! + -lr * g;
  }
}

/** Hyperparameters of Adam and AdamW (torch.optim.Adam / AdamW); every field is optional in the constructor. */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient, or with decoupledWeightDecay the decay rate (Adam 0, AdamW 1e-2). */
  weightDecay: number;
  /** Use the running maximum of v (AMSGrad; default false). */
  amsgrad: boolean;
  /** θ ← θ·(1 − lr·wd) before the step instead of an L2 term (Adam false; AdamW: always true). */
  decoupledWeightDecay: boolean;
  /** Ascend instead of descend. */
  maximize: boolean;
}
/**
 * Adam / AdamW at step `step` (1-based): m ← lerp(m, g, 1−β1); v ← β2·v + (1−β2)·g²;
 * v̂max ← max(v̂max, v) (AMSGrad, when `vmax` is given);
 * θ ← θ − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε).
 */
export function adamUpdate(
  param: FloatArray,
  grad: FloatArray,
  m: FloatArray,
  v: FloatArray,
  vmax: FloatArray | null,
  h: AdamOptions,
  step: number,
): void {
  const {
    lr,
    betas: [beta1, beta2],
    eps,
    maximize,
  } = h;
  const wd = h.decoupledWeightDecay ? 0 : h.weightDecay;
  const w1 = 1 - beta1,
    w2 = 1 - beta2;
  const bc1 = 1 - beta1 ** step;
  const bc2 = 1 - beta2 ** step;
  const stepSize = lr / bc1;
  const bc2Sqrt = Math.sqrt(bc2);
  const decay = 1 - lr * h.weightDecay;
  const decoupled = h.decoupledWeightDecay && h.weightDecay !== 0;
  for (let i = 0; i < param.length; i++) {
    let g = maximize ? -grad[i]! : grad[i]!;
    if (decoupled) param[i] = param[i]! * decay;
    if (wd !== 0) g = g + wd * param[i]!;
    m[i] = lerp(m[i]!, g, w1);
    v[i] = v[i]! * beta2 + w2 * g * g;
    let s = v[i]!;
    if (vmax !== null) {
      vmax[i] = Math.max(vmax[i]!, s);
      s = vmax[i]!;
    }
    const denom = Math.sqrt(s) / bc2Sqrt + eps;
    param[i] = param[i]! + (-stepSize * m[i]!) / denom;
  }
}

/** Hyperparameters of RMSprop (torch.optim.RMSprop); every field is optional in the constructor. */
export interface RMSpropOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Smoothing constant of the squared-gradient average (default 0.99). */
  alpha: number;
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Normalise by an estimate of the gradient's variance instead of its second moment (default false). */
  centered: boolean;
  /** Ascend instead of descend (default false). */
  maximize: boolean;
}
/**
 * RMSprop: s ← α·s + (1−α)·g²; centered: ḡ ← lerp(ḡ, g, 1−α), a = √(s − ḡ²) + ε, else a = √s + ε;
 * with momentum b ← μ·b + g/a, θ ← θ − lr·b; without, θ ← θ − lr·g/a.
 */
export function rmspropUpdate(
  param: FloatArray,
  grad: FloatArray,
  squareAvg: FloatArray,
  gradAvg: FloatArray | null,
  buf: FloatArray | null,
  h: RMSpropOptions,
): void {
  const { lr, alpha, eps, weightDecay: wd, momentum, maximize } = h;
  const w = 1 - alpha;
  for (let i = 0; i < param.length; i++) {
    let g = maximize ? -grad[i]! : grad[i]!;
    if (wd !== 0) g = g + wd * param[i]!;
    squareAvg[i] = squareAvg[i]! * alpha + w * g * g;
    let avg: number;
    if (gradAvg !== null) {
      gradAvg[i] = lerp(gradAvg[i]!, g, w);
      avg = Math.sqrt(squareAvg[i]! + -1 * gradAvg[i]! * gradAvg[i]!);
    } else {
      avg = Math.sqrt(squareAvg[i]!);
    }
    avg = avg + eps;
    if (momentum > 0 && buf !== null) {
      buf[i] = buf[i]! * momentum + g / avg;
      param[i] = param[i]! + -lr * buf[i]!;
    } else {
      param[i] = param[i]! + (-lr * g) / avg;
    }
  }
}

/** Hyperparameters of Adagrad (torch.optim.Adagrad); every field is optional in the constructor. */
export interface AdagradOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** lr at step t is lr / (1 + (t−1)·lrDecay) (default 0). */
  lrDecay: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Starting value of the squared-gradient sum (default 0). */
  initialAccumulatorValue: number;
  /** Added to the denominator (default 1e-10). */
  eps: number;
  /** Ascend instead of descend (default false). */
  maximize: boolean;
}
/** Adagrad at step `step`: clr = lr / (1 + (t−1)·lrDecay); S ← S + g²; θ ← θ − clr·g / (√S + ε). */
export function adagradUpdate(
  param: FloatArray,
  grad: FloatArray,
  sum: FloatArray,
  h: AdagradOptions,
  step: number,
): void {
  const { lr, lrDecay, weightDecay: wd, eps, maximize } = h;
  const clr = lr / (1 + (step - 1) * lrDecay);
  for (let i = 0; i < param.length; i++) {
    let g = maximize ? -grad[i]! : grad[i]!;
    if (wd !== 0) g = g + wd * param[i]!;
    sum[i] = sum[i]! + 1 * g * g;
    const std = Math.sqrt(sum[i]!) + eps;
    param[i] = param[i]! + (-clr * g) / std;
  }
}

/** Hyperparameters of Adamax (torch.optim.Adamax); every field is optional in the constructor. */
export interface AdamaxOptions {
  /** Learning rate (default 2e-3). */
  lr: number;
  /** default [0.9, 0.999] */
  betas: [number, number];
  /** Added inside the max: u ← max(β2·u, |g| + ε) (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Ascend instead of descend (default false). */
  maximize: boolean;
}
/** Adamax: m ← lerp(m, g, 1−β1); u ← max(β2·u, |g| + ε); θ ← θ − (lr / (1−β1ᵗ)) · m / u. */
export function adamaxUpdate(
  param: FloatArray,
  grad: FloatArray,
  m: FloatArray,
  u: FloatArray,
  h: AdamaxOptions,
  step: number,
): void {
  const {
    lr,
    betas: [beta1, beta2],
    eps,
    weightDecay: wd,
    maximize,
  } = h;
  const w1 = 1 - beta1;
  const clr = lr / (1 - beta1 ** step);
  for (let i = 0; i < param.length; i++) {
    let g = maximize ? -grad[i]! : grad[i]!;
    if (wd !== 0) g = g + wd * param[i]!;
    m[i] = lerp(m[i]!, g, w1);
    u[i] = Math.max(u[i]! * beta2, Math.abs(g) + eps);
    param[i] = param[i]! + (-clr * m[i]!) / u[i]!;
  }
}

/** Hyperparameters of NAdam (torch.optim.NAdam); every field is optional in the constructor. */
export interface NAdamOptions {
  /** Learning rate (default 2e-3). */
  lr: number;
  /** default [0.9, 0.999] */
  betas: [number, number];
  /** default 1e-8 */
  eps: number;
  /** default 0 */
  weightDecay: number;
  /** ψ in μₜ = β1·(1 − ½·0.96^(t·ψ)) (default 4e-3). */
  momentumDecay: number;
  /** Decay θ ← θ·(1 − lr·wd) instead of adding wd·θ to the gradient (default false). */
  decoupledWeightDecay: boolean;
  /** Ascend instead of descend (default false). */
  maximize: boolean;
}
/** NAdam's momentum schedule μₜ = β1·(1 − ½·0.96^(t·ψ)). */
export const nadamMu = (h: NAdamOptions, t: number): number => h.betas[0] * (1 - 0.5 * 0.96 ** (t * h.momentumDecay));
/**
 * NAdam (Dozat 2016, PyTorch form) at step t with Πμ = `muProduct` (μ₁…μₜ): m ← lerp(m, g, 1−β1);
 * v ← β2·v + (1−β2)·g²; d = √(v / (1−β2ᵗ)) + ε; θ ← θ − lr·(1−μₜ)/(1−Πμ)·g/d − lr·μₜ₊₁/(1−Πμ·μₜ₊₁)·m/d.
 */
export function nadamUpdate(
  param: FloatArray,
  grad: FloatArray,
  m: FloatArray,
  v: FloatArray,
  h: NAdamOptions,
  step: number,
  muProduct: number,
): void {
  const {
    lr,
    betas: [beta1, beta2],
    eps,
    weightDecay: wd,
    maximize,
  } = h;
  const mu = nadamMu(h, step),
    muNext = nadamMu(h, step + 1);
  const w1 = 1 - beta1,
    w2 = 1 - beta2;
  const bc2 = 1 - beta2 ** step;
  const c1 = (-lr * (1 - mu)) / (1 - muProduct);
  const c2 = (-lr * muNext) / (1 - muProduct * muNext);
  const decay = 1 - lr * wd;
  for (let i = 0; i < param.length; i++) {
    let g = maximize ? -grad[i]! : grad[i]!;
    if (wd !== 0) {
      if (h.decoupledWeightDecay) param[i] = param[i]! * decay;
      else g = g + wd * param[i]!;
    }
    m[i] = lerp(m[i]!, g, w1);
    v[i] = v[i]! * beta2 + w2 * g * g;
    const denom = Math.sqrt(v[i]! / bc2) + eps;
    param[i] = param[i]! + (c1 * g) / denom;
    param[i] = param[i]! + (c2 * m[i]!) / denom;
  }
}

/** Hyperparameters of Lion; every field is optional in the constructor. */
export interface LionOptions {
  /** Learning rate (default 1e-4; typically 3–10× smaller than AdamW's). */
  lr: number;
  /** Interpolation for the update direction and for the momentum (default [0.9, 0.99]). */
  betas: [number, number];
  /** Decoupled weight decay θ ← θ·(1 − lr·wd) (default 0). */
  weightDecay: number;
  /** Ascend instead of descend (default false). */
  maximize: boolean;
}
/**
 * Lion (Chen et al. 2023, as in lucidrains/lion-pytorch and optax): θ ← θ·(1 − lr·wd);
 * θ ← θ − lr·sign(β1·m + (1−β1)·g); m ← β2·m + (1−β2)·g.
 */
export function lionUpdate(param: FloatArray, grad: FloatArray, m: FloatArray, h: LionOptions): void {
  const {
    lr,
    betas: [beta1, beta2],
    weightDecay: wd,
    maximize,
  } = h;
  const decay = 1 - lr * wd;
  const w1 = 1 - beta1,
    w2 = 1 - beta2;
  for (let i = 0; i < param.length; i++) {
    const g = maximize ? -grad[i]! : grad[i]!;
    if (wd !== 0) param[i] = param[i]! * decay;
    const c = m[i]! * beta1 + w1 * g;
    param[i] = param[i]! + -lr * Math.sign(c);
    m[i] = m[i]! * beta2 + w2 * g;
  }
}

// ---- the optimizers of issue 14 (torch.optim's RAdam, Adadelta, Rprop, ASGD, Adafactor, Muon) ----

/** Hyperparameters of RAdam (torch.optim.RAdam); every field is optional in the constructor. */
export interface RAdamOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** default [0.9, 0.999] */
  betas: [number, number];
  /** Added to √v (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient, or with decoupledWeightDecay the decay rate (default 0). */
  weightDecay: number;
  /** θ ← θ·(1 − lr·wd) instead of adding wd·θ to the gradient (RAdamW; default false). */
  decoupledWeightDecay: boolean;
  /** Ascend instead of descend (default false). */
  maximize: boolean;
}
/**
 * RAdam (Liu et al. 2020) at step t, in torch.optim.RAdam's order: m ← lerp(m, g, 1−β1);
 * v ← β2·v + (1−β2)·g²; ρ∞ = 2/(1−β2) − 1, ρₜ = ρ∞ − 2t·β2ᵗ/(1−β2ᵗ); when ρₜ > 5
 * θ ← θ − m/(1−β1ᵗ)·lr·(√(1−β2ᵗ)/(√v + ε))·rₜ with rₜ = √((ρₜ−4)(ρₜ−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρₜ)),
 * otherwise θ ← θ − m/(1−β1ᵗ)·lr (SGD with momentum while the variance estimate is unreliable).
 */
export function radamUpdate(
  param: FloatArray,
  grad: FloatArray,
  m: FloatArray,
  v: FloatArray,
  h: RAdamOptions,
  step: number,
): void {
  const {
    lr,
    betas: [beta1, beta2],
    eps,
    weightDecay: wd,
    maximize,
  } = h;
  const w1 = 1 - beta1,
    w2 = 1 - beta2;
  const decay = 1 - lr * wd;
  const bc1 = 1 - beta1 ** step;
  const bc2 = 1 - beta2 ** step;
  const rhoInf = 2 / (1 - beta2) - 1;
  const rhoT = rhoInf - (2 * step * beta2 ** step) / bc2;
  const rectified = rhoT > 5;
  const rect = rectified ? (((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) ** 0.5 : 0;
  const bc2Sqrt = bc2 ** 0.5;
  for (let i = 0; i < param.length; i++) {
    let g = maximize ? -grad[i]! : grad[i]!;
    if (wd !== 0) {
      if (h.decoupledWeightDecay) param[i] = param[i]! * decay;
      else g = g + wd * param[i]!;
    }
    m[i] = lerp(m[i]!, g, w1);
    v[i] = v[i]! * beta2 + w2 * g * g;
    const mHat = m[i]! / bc1;
    if (rectified) {
      // `bc2Sqrt / tensor` is Tensor.__rtruediv__: reciprocal(tensor) * bc2Sqrt.
      const adaptive = (1 / (Math.sqrt(v[i]!) + eps)) * bc2Sqrt;
      param[i] = param[i]! - mHat * lr * adaptive * rect;
    } else {
      param[i] = param[i]! - mHat * lr;
    }
  }
}

/** Hyperparameters of Adadelta (torch.optim.Adadelta); every field is optional in the constructor. */
export interface AdadeltaOptions {
  /** Scales the step (default 1.0). */
  lr: number;
  /** Decay of the running averages of g² and Δθ² (default 0.9). */
  rho: number;
  /** Added inside both square roots (default 1e-6). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Ascend instead of descend (default false). */
  maximize: boolean;
}
/**
 * Adadelta (Zeiler 2012), torch.optim.Adadelta's order: s ← ρ·s + (1−ρ)·g²;
 * Δ ← √(u + ε)/√(s + ε)·g; u ← ρ·u + (1−ρ)·Δ²; θ ← θ − lr·Δ.
 */
export function adadeltaUpdate(
  param: FloatArray,
  grad: FloatArray,
  squareAvg: FloatArray,
  accDelta: FloatArray,
  h: AdadeltaOptions,
): void {
  const { lr, rho, eps, weightDecay: wd, maximize } = h;
  const w = 1 - rho;
  for (let i = 0; i < param.length; i++) {
    let g = maximize ? -grad[i]! : grad[i]!;
    if (wd !== 0) g = g + wd * param[i]!;
    squareAvg[i] = squareAvg[i]! * rho + w * g * g;
    const std = Math.sqrt(squareAvg[i]! + eps);
    const delta = (Math.sqrt(accDelta[i]! + eps) / std) * g;
    accDelta[i] = accDelta[i]! * rho + w * delta * delta;
    param[i] = param[i]! + -lr * delta;
  }
}

/** Hyperparameters of Rprop (torch.optim.Rprop); every field is optional in the constructor. */
export interface RpropOptions {
  /** The initial step size of every coordinate (default 1e-2). */
  lr: number;
  /** `[η−, η+]`: step-size factors when the gradient's sign flips / stays (default [0.5, 1.2]). */
  etas: [number, number];
  /** [min, max] step size (default [1e-6, 50]). */
  stepSizes: [number, number];
  /** Ascend instead of descend (default false). */
  maximize: boolean;
}
/**
 * Rprop (Riedmiller & Braun 1993; the variant in torch.optim.Rprop): per coordinate, with
 * s = sign(g·g₋₁): Δ ← clamp(Δ·(η+ if s > 0, η− if s < 0, else 1), min, max); where the sign flipped
 * g ← 0 (no move, and the next step sees no flip); θ ← θ − sign(g)·Δ; g₋₁ ← g.
 */
export function rpropUpdate(
  param: FloatArray,
  grad: FloatArray,
  prev: FloatArray,
  stepSize: FloatArray,
  h: RpropOptions,
): void {
  const {
    etas: [etaminus, etaplus],
    stepSizes: [lo, hi],
    maximize,
  } = h;
  for (let i = 0; i < param.length; i++) {
    let g = maximize ? -grad[i]! : grad[i]!;
    const s = Math.sign(g * prev[i]!);
    const factor = s > 0 ? etaplus : s < 0 ? etaminus : s === 0 ? 1 : s;
    stepSize[i] = Math.min(Math.max(stepSize[i]! * factor, lo), hi);
    if (factor === etaminus) g = 0;
    param[i] = param[i]! + -Math.sign(g) * stepSize[i]!;
    prev[i] = g;
  }
}

/** Hyperparameters of ASGD (torch.optim.ASGD); every field is optional in the constructor. */
export interface ASGDOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Decay term λ (default 1e-4). */
  lambd: number;
  /** Power α of the η schedule (default 0.75). */
  alpha: number;
  /** The step after which averaging starts (default 1e6). */
  t0: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Ascend instead of descend (default false). */
  maximize: boolean;
}
/**
 * Averaged SGD (Polyak & Juditsky 1992), torch.optim.ASGD's order, with the current η and μ:
 * θ ← θ·(1 − λη); θ ← θ − η·g; θ̄ ← θ (μ = 1) or θ̄ + μ·(θ − θ̄). The caller then sets
 * η ← lr / (1 + λ·lr·t)^α and μ ← 1 / max(1, t − t0) (`asgdSchedule`).
 */
export function asgdUpdate(
  param: FloatArray,
  grad: FloatArray,
  ax: FloatArray,
  h: ASGDOptions,
  eta: number,
  mu: number,
): void {
  const { lambd, weightDecay: wd, maximize } = h;
  const decay = 1 - lambd * eta;
  for (let i = 0; i < param.length; i++) {
    let g = maximize ? -grad[i]! : grad[i]!;
    if (wd !== 0) g = g + wd * param[i]!;
    param[i] = param[i]! * decay;
    param[i] = param[i]! + -eta * g;
    if (mu !== 1) ax[i] = ax[i]! + (param[i]! - ax[i]!) * mu;
    else ax[i] = param[i]!;
  }
}
/**
 * ASGD's η and μ after step t.
 * @returns `eta`, the step size η, and `mu`, the averaging weight μ.
 */
export const asgdSchedule = (
  h: ASGDOptions,
  step: number,
): {
  /** Step size η. */
  eta: number;
  /** Averaging weight μ. */
  mu: number;
} => ({
  eta: h.lr / (1 + h.lambd * h.lr * step) ** h.alpha,
  mu: 1 / Math.max(1, step - h.t0),
});

/** Hyperparameters of Adafactor (torch.optim.Adafactor); every field is optional in the constructor. */
export interface AdafactorOptions {
  /** The cap on the relative step size ρₜ = min(lr, 1/√t), and the weight-decay scale (default 1e-2). */
  lr: number;
  /** τ in 1 − β2ₜ = t^τ (default −0.8). */
  beta2Decay: number;
  /** `[ε1, ε2]`: ε1 floors the variance estimate (null: the dtype's machine epsilon), ε2 the parameter scale (default [null, 1e-3]). */
  eps: [number | null, number];
  /** Update clipping threshold d ≥ 1 (default 1.0). */
  d: number;
  /** Decoupled weight decay θ ← θ·(1 − lr·wd) (default 0). */
  weightDecay: number;
  /** Ascend instead of descend (default false). */
  maximize: boolean;
}
const sqrtSumSq = (a: ArrayLike<number>, start: number, n: number, stride: number): number => {
  let s = 0;
  for (let k = 0; k < n; k++) s += a[start + k * stride]! * a[start + k * stride]!;
  return Math.sqrt(s);
};
/**
 * Adafactor (Shazeer & Stern 2018) as torch.optim.Adafactor computes it, at step t (`shape`: the
 * parameter's; ≥ 2-D parameters keep row and column factors R, C of the last two dimensions, others a
 * full V): 1 − β2ₜ = t^τ; ρₜ = min(lr, 1/√t); αₜ = max(ε2, RMS(θ))·ρₜ; θ ← θ·(1 − lr·wd);
 * R ← lerp(R, mean over columns of G², 1−β2ₜ), C likewise over rows, V̂ = R·C / max(mean(R), ε1)
 * (or V ← lerp(V, G², 1−β2ₜ), V̂ = V); U = G / √max(V̂, ε1²); θ ← θ − αₜ/max(1, RMS(U)/d)·U.
 */
export function adafactorUpdate(
  param: FloatArray,
  grad: FloatArray,
  rowVar: FloatArray | null,
  colVar: FloatArray | null,
  variance: FloatArray | null,
  shape: readonly number[],
  h: AdafactorOptions,
  step: number,
): void {
  const { lr, beta2Decay, d, weightDecay: wd, maximize } = h;
  const eps1 = h.eps[0] ?? (param instanceof Float64Array ? 2 ** -52 : 2 ** -23);
  const eps2 = h.eps[1];
  const n = param.length;
  const w = step ** beta2Decay;
  const rhoT = Math.min(lr, 1 / step ** 0.5);
  const alpha = Math.max(eps2, sqrtSumSq(param, 0, n, 1) / n ** 0.5) * rhoT;
  if (wd !== 0) {
    const decay = 1 - lr * wd;
    for (let i = 0; i < n; i++) param[i] = param[i]! * decay;
  }
  const g = maximize ? grad.map((x) => -x) : grad;
  const update = param instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
  if (rowVar !== null && colVar !== null) {
    const rows = shape[shape.length - 2]!,
      cols = shape[shape.length - 1]!,
      batch = n / (rows * cols);
    for (let b = 0; b < batch; b++) {
      const o = b * rows * cols;
      for (let r = 0; r < rows; r++) {
        const nr = sqrtSumSq(g, o + r * cols, cols, 1);
        rowVar[b * rows + r] = lerp(rowVar[b * rows + r]!, (nr * nr) / cols, w);
      }
      for (let c = 0; c < cols; c++) {
        const nc = sqrtSumSq(g, o + c, rows, cols);
        colVar[b * cols + c] = lerp(colVar[b * cols + c]!, (nc * nc) / rows, w);
      }
      let rs = 0;
      for (let r = 0; r < rows; r++) rs += rowVar[b * rows + r]!;
      const rowMean = Math.max(rs / rows, eps1);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++)
          update[o + r * cols + c] = (rowVar[b * rows + r]! * colVar[b * cols + c]!) / rowMean;
      }
    }
  } else if (variance !== null) {
    for (let i = 0; i < n; i++) {
      variance[i] = lerp(variance[i]!, g[i]! * g[i]!, w);
      update[i] = variance[i]!;
    }
  }
  const floor = eps1 * eps1;
  for (let i = 0; i < n; i++) update[i] = (1 / Math.sqrt(Math.max(update[i]!, floor))) * g[i]!;
  const denom = Math.max(1, sqrtSumSq(update, 0, n, 1) / (n ** 0.5 * d));
  const s = -alpha / denom;
  for (let i = 0; i < n; i++) param[i] = param[i]! + s * update[i]!;
}

/** Hyperparameters of Muon (torch.optim.Muon); every field is optional in the constructor. */
export interface MuonOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decoupled weight decay θ ← θ·(1 − lr·wd) (default 0.1). */
  weightDecay: number;
  /** Momentum μ (default 0.95). */
  momentum: number;
  /** Orthogonalise g + μ·(B − g) instead of B (default true). */
  nesterov: boolean;
  /** (a, b, c) of the quintic Newton–Schulz step X ← aX + (bA + cA²)X, A = XXᵀ (default [3.4445, −4.775, 2.0315]). */
  nsCoefficients: [number, number, number];
  /** Floor of the Frobenius norm the update is divided by before the iteration (default 1e-7). */
  eps: number;
  /** Newton–Schulz iterations (default 5). */
  nsSteps: number;
  /** Learning-rate scaling by shape: null or 'original' (√max(1, rows/cols)), 'matchRmsAdamW' (0.2·√max(rows, cols)). */
  adjustLrFn: null | 'original' | 'matchRmsAdamW';
}
/**
 * `ns` Newton–Schulz steps on the rows×cols matrix `g` (row-major), as torch.optim.Muon's
 * `_zeropower_via_newtonschulz` orders them (in the array's dtype; PyTorch runs them in bfloat16):
 * X = G (Gᵀ when rows > cols) / max(‖G‖_F, ε); repeat A = XXᵀ, B = bA + c·AA, X = aX + BX.
 */
export function newtonSchulz(
  g: FloatArray,
  rows: number,
  cols: number,
  h: Pick<MuonOptions, 'nsCoefficients' | 'nsSteps' | 'eps'>,
): FloatArray {
  const [a, b, c] = h.nsCoefficients;
  const tall = rows > cols,
    m = tall ? cols : rows,
    n = tall ? rows : cols;
  const make = (k: number): FloatArray => (g instanceof Float64Array ? new Float64Array(k) : new Float32Array(k));
  let x = make(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) x[i * n + j] = tall ? g[j * cols + i]! : g[i * n + j]!;
  const nrm = Math.max(sqrtSumSq(x, 0, m * n, 1), h.eps);
  for (let i = 0; i < m * n; i++) x[i] = x[i]! / nrm;
  const A = make(m * m),
    B = make(m * m);
  for (let step = 0; step < h.nsSteps; step++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += x[i * n + k]! * x[j * n + k]!;
        A[i * m + j] = s;
      }
    }
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let k = 0; k < m; k++) s += A[i * m + k]! * A[k * m + j]!;
        B[i * m + j] = b * A[i * m + j]! + c * s;
      }
    }
    const next = make(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < m; k++) s += B[i * m + k]! * x[k * n + j]!;
        next[i * n + j] = a * x[i * n + j]! + s;
      }
    }
    x = next;
  }
  if (!tall) return x;
  const out = make(rows * cols);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * cols + i] = x[i * n + j]!;
  return out;
}
/** Muon's learning rate for a rows×cols matrix (torch.optim.Muon's `_adjust_lr`). */
export function muonAdjustedLr(h: Pick<MuonOptions, 'lr' | 'adjustLrFn'>, rows: number, cols: number): number {
  const ratio =
    h.adjustLrFn === 'matchRmsAdamW' ? 0.2 * Math.sqrt(Math.max(rows, cols)) : Math.sqrt(Math.max(1, rows / cols));
  return h.lr * ratio;
}
/**
 * Muon (Jordan et al. 2024) on a rows×cols matrix, torch.optim.Muon's order: B ← lerp(B, g, 1−μ);
 * U = lerp(g, B, μ) (Nesterov) or B; O = NS(U); θ ← θ·(1 − lr·wd); θ ← θ − adjustedLr·O.
 */
export function muonUpdate(
  param: FloatArray,
  grad: FloatArray,
  buf: FloatArray,
  rows: number,
  cols: number,
  h: MuonOptions,
): void {
  const { lr, weightDecay: wd, momentum, nesterov } = h;
  const w = 1 - momentum;
  const u = param instanceof Float64Array ? new Float64Array(param.length) : new Float32Array(param.length);
  for (let i = 0; i < param.length; i++) {
    buf[i] = lerp(buf[i]!, grad[i]!, w);
    u[i] = nesterov ? lerp(grad[i]!, buf[i]!, momentum) : buf[i]!;
  }
  const o = newtonSchulz(u, rows, cols, h);
  const adjusted = muonAdjustedLr(h, rows, cols);
  const decay = 1 - lr * wd;
  for (let i = 0; i < param.length; i++) {
    param[i] = param[i]! * decay;
    param[i] = param[i]! + -adjusted * o[i]!;
  }
}

// ---- Schedule-Free, Prodigy, LAMB, LARS (issue 14) -----------------------------------------
/** Hyperparameters of `SGDScheduleFree`; every field is optional in the constructor. */
export interface SGDScheduleFreeOptions {
  /** Learning rate γ (default 1). */
  lr: number;
  /** Interpolation β between the average x and the SGD iterate z, in (0, 1) (default 0.9). */
  momentum: number;
  /** L2 penalty added to the gradient at y (default 0). */
  weightDecay: number;
  /** Linear warmup of lr over this many steps (default 0). */
  warmupSteps: number;
  /** Polynomial weighting (k+1)^r of the average (default 0). */
  r: number;
  /** The average weighs step k by lr_max^weightLrPower (default 2). */
  weightLrPower: number;
}
/** Hyperparameters of `AdamWScheduleFree`; every field is optional in the constructor. */
export interface AdamWScheduleFreeOptions {
  /** Learning rate γ (default 0.0025). */
  lr: number;
  /** β1 interpolates between x and z; β2 decays the second moment (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to √v̂ (default 1e-8). */
  eps: number;
  /** Weight decay added to the normalised gradient at y (default 0). */
  weightDecay: number;
  /** Linear warmup of lr over this many steps (default 0). */
  warmupSteps: number;
  /** Polynomial weighting (k+1)^r of the average (default 0). */
  r: number;
  /** The average weighs step k by lr_max^weightLrPower (default 2). */
  weightLrPower: number;
  /** An EMA of the gradient inside the AdamW step (0: none, the default). */
  innerMomentum: number;
}
/** The step's schedule-free scalars: the scheduled lr and the averaging weight c_{k+1}. */
export interface ScheduleFreeScalars {
  /** The scheduled lr of this step (after warmup). */
  lr: number;
  /** The averaging weight c_{k+1} = weight / Σweight. */
  ckp1: number;
}
/**
 * Schedule-Free SGD (Defazio et al. 2024), schedulefree.SGDScheduleFree's order: g ← ∇ + wd·y;
 * y ← lerp(y, z, c); y ← y + γ(β(1−c) − 1)·g; z ← z − γ·g.
 */
export function sgdScheduleFreeUpdate(
  y: FloatArray,
  grad: FloatArray,
  z: FloatArray,
  h: SGDScheduleFreeOptions,
  sc: ScheduleFreeScalars,
): void {
  const { momentum, weightDecay: wd } = h,
    { lr, ckp1 } = sc;
  const a = lr * (momentum * (1 - ckp1) - 1);
  for (let i = 0; i < y.length; i++) {
    let g = grad[i]!;
    if (wd !== 0) g = g + wd * y[i]!;
    y[i] = lerp(y[i]!, z[i]!, ckp1);
    y[i] = y[i]! + a * g;
    z[i] = z[i]! - lr * g;
  }
}
/**
 * Schedule-Free AdamW, schedulefree.AdamWScheduleFree's order at step k (0-based):
 * v ← β2·v + (1−β2)·g²; d = √(v/(1−β2^(k+1))) + ε; u = g/d (or m/(1−μ^(k+1))/d with inner momentum μ);
 * u ← u + wd·y; y ← lerp(y, z, c); y ← y + γ(β1(1−c) − 1)·u; z ← z − γ·u.
 */
export function adamwScheduleFreeUpdate(
  y: FloatArray,
  grad: FloatArray,
  z: FloatArray,
  v: FloatArray,
  m: FloatArray | null,
  h: AdamWScheduleFreeOptions,
  sc: ScheduleFreeScalars,
  k: number,
): void {
  const {
      betas: [beta1, beta2],
      eps,
      weightDecay: wd,
      innerMomentum: mu,
    } = h,
    { lr, ckp1 } = sc;
  const bc2 = 1 - beta2 ** (k + 1);
  const bc1 = mu !== 0 ? 1 - mu ** (k + 1) : 1;
  const w2 = 1 - beta2,
    w1 = 1 - mu;
  const a = lr * (beta1 * (1 - ckp1) - 1);
  for (let i = 0; i < y.length; i++) {
    const g = grad[i]!;
    v[i] = v[i]! * beta2 + w2 * g * g;
    const denom = Math.sqrt(v[i]! / bc2) + eps;
    let u: number;
    if (m !== null) {
      m[i] = m[i]! * mu + w1 * g;
      u = m[i]! / bc1 / denom;
    } else u = g / denom;
    if (wd !== 0) u = u + wd * y[i]!;
    y[i] = lerp(y[i]!, z[i]!, ckp1);
    y[i] = y[i]! + a * u;
    z[i] = z[i]! - lr * u;
  }
}

/** Hyperparameters of `Prodigy`; every field is optional in the constructor. */
export interface ProdigyOptions {
  /** Multiplies the estimated step size d (default 1; leave it at 1 unless training is unstable). */
  lr: number;
  /** Adam's decay rates (default [0.9, 0.999]). */
  betas: [number, number];
  /** Decay of the d-estimate's running sums; null means √β2 (default null). */
  beta3: number | null;
  /** Added to √v, scaled by d (default 1e-8). */
  eps: number;
  /** Weight decay, decoupled (AdamW style) or an L2 term (default 0). */
  weightDecay: number;
  /** Decoupled weight decay (default true). */
  decouple: boolean;
  /** Adam's bias correction in the step size (default false). */
  useBiasCorrection: boolean;
  /** Leave lr out of the d-estimate's denominator sum, for warmup schedules (default false). */
  safeguardWarmup: boolean;
  /** The initial estimate of d (default 1e-6). */
  d0: number;
  /** Multiplies the estimate d̂ (default 1; the preferred knob). */
  dCoef: number;
  /** d grows by at most this factor per step (default Infinity). */
  growthRate: number;
}
/** The step's shared Prodigy scalars: d, d/d0 and dlr = d·lr·bias correction (before d is updated). */
export interface ProdigyScalars {
  /** The current step-size estimate d. */
  d: number;
  /** d·lr·(bias correction). */
  dlr: number;
  /** Decay of the d-estimate's running sums. */
  beta3: number;
}
/**
 * Prodigy's first pass over one parameter (prodigyopt.Prodigy's order): g ← ∇ (+ wd·θ if coupled);
 * returns (d/d0)·dlr·⟨g, p0 − θ⟩ for the numerator, and updates m ← β1·m + d(1−β1)·g,
 * v ← β2·v + d²(1−β2)·g², s ← β3·s + (d/d0)·dlr·g (or (d/d0)·d·g with safeguardWarmup);
 * `out[0]` receives Σ|s|. Sums run left to right.
 */
export function prodigyAccumulate(
  param: FloatArray,
  grad: FloatArray,
  m: FloatArray | null,
  v: FloatArray,
  s: FloatArray,
  p0: FloatArray,
  h: ProdigyOptions,
  beta1: number,
  beta2: number,
  sc: ProdigyScalars,
  d0: number,
  out: [number],
): number {
  const { d, dlr, beta3 } = sc;
  const wd = h.decouple ? 0 : h.weightDecay;
  let dot = 0;
  for (let i = 0; i < param.length; i++) {
    const g = wd !== 0 ? grad[i]! + wd * param[i]! : grad[i]!;
    dot += g * (p0[i]! - param[i]!);
  }
  const num = (d / d0) * dlr * dot;
  const am = d * (1 - beta1),
    av = d * d * (1 - beta2);
  const as = h.safeguardWarmup ? (d / d0) * d : (d / d0) * dlr;
  let abs = 0;
  for (let i = 0; i < param.length; i++) {
    const g = wd !== 0 ? grad[i]! + wd * param[i]! : grad[i]!;
    if (m !== null) m[i] = m[i]! * beta1 + am * g;
    v[i] = v[i]! * beta2 + av * g * g;
    s[i] = s[i]! * beta3 + as * g;
    abs += Math.abs(s[i]!);
  }
  out[0] = abs;
  return num;
}
/**
 * Prodigy's step with the new d and the step's dlr: θ ← θ − wd·dlr·θ (decoupled);
 * θ ← θ − dlr·m/(√v + d·ε), or without β1: θ ← θ − dlr·d·g/(√v + d·ε).
 */
export function prodigyStep(
  param: FloatArray,
  grad: FloatArray,
  m: FloatArray | null,
  v: FloatArray,
  h: ProdigyOptions,
  d: number,
  dlr: number,
): void {
  const wd = h.weightDecay,
    dEps = d * h.eps;
  const decoupled = wd !== 0 && h.decouple,
    coupled = wd !== 0 && !h.decouple;
  for (let i = 0; i < param.length; i++) {
    const g = coupled ? grad[i]! + wd * param[i]! : grad[i]!;
    const denom = Math.sqrt(v[i]!) + dEps;
    if (decoupled) param[i] = param[i]! + -wd * dlr * param[i]!;
    if (m !== null) param[i] = param[i]! + (-dlr * m[i]!) / denom;
    else param[i] = param[i]! + (-dlr * d * g) / denom;
  }
}

/** Hyperparameters of `Lamb`; every field is optional in the constructor. */
export interface LambOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** optax's b1, b2 (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to √v̂ (default 1e-6). */
  eps: number;
  /** Added to v̂ inside the square root (default 0). */
  epsRoot: number;
  /** Added to the Adam direction as wd·θ before the trust ratio (default 0). */
  weightDecay: number;
}
/** ‖x‖₂, summed left to right. */
const norm2 = (x: FloatArray): number => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s);
};
/** optax's trust ratio: c·‖θ‖/(‖u‖ + ε), or 1 when either norm is 0. */
const trustRatio = (pn: number, un: number, c: number, eps: number): number =>
  pn === 0 || un === 0 ? 1 : (c * pn) / (un + eps);
/**
 * LAMB (You et al. 2020) as optax.lamb chains it: m ← (1−β1)·g + β1·m; v ← (1−β2)·g² + β2·v;
 * u = m̂/(√(v̂ + ε_root) + ε) + wd·θ; θ ← θ + (−lr)·(u·‖θ‖/‖u‖).
 */
export function lambUpdate(
  param: FloatArray,
  grad: FloatArray,
  m: FloatArray,
  v: FloatArray,
  h: LambOptions,
  count: number,
): void {
  const {
    lr,
    betas: [b1, b2],
    eps,
    epsRoot,
    weightDecay: wd,
  } = h;
  const bc1 = 1 - b1 ** count,
    bc2 = 1 - b2 ** count;
  const u = (i: number): number => {
    const a = m[i]! / bc1 / (Math.sqrt(v[i]! / bc2 + epsRoot) + eps);
    return wd !== 0 ? a + wd * param[i]! : a;
  };
  let uu = 0;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i]!;
    m[i] = (1 - b1) * g + b1 * m[i]!;
    v[i] = (1 - b2) * (g * g) + b2 * v[i]!;
    const ui = u(i);
    uu += ui * ui;
  }
  const tr = trustRatio(norm2(param), Math.sqrt(uu), 1, 0);
  for (let i = 0; i < param.length; i++) param[i] = param[i]! + -lr * (u(i) * tr);
}

/** Hyperparameters of `Lars`; every field is optional in the constructor. */
export interface LarsOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Added to the gradient as wd·θ before the trust ratio (default 0). */
  weightDecay: number;
  /** η in the trust ratio η·‖θ‖/(‖g + wd·θ‖ + ε) (default 1e-3). */
  trustCoefficient: number;
  /** Added to the trust ratio's denominator (default 0). */
  eps: number;
  /** Scale by the trust ratio (false: plain SGD with momentum; optax's trust_ratio_mask) (default true). */
  trustRatio: boolean;
  /** Momentum of the trace t ← u + μ·t (default 0.9). */
  momentum: number;
  /** Nesterov momentum (default false). */
  nesterov: boolean;
}
/**
 * LARS (You et al. 2017) as optax.lars chains it: u = g + wd·θ; u ← u·η‖θ‖/(‖u‖ + ε);
 * u ← (−lr)·u; t ← u + μ·t; θ ← θ + t (Nesterov: θ ← θ + u + μ·t).
 */
export function larsUpdate(param: FloatArray, grad: FloatArray, trace: FloatArray, h: LarsOptions): void {
  const { lr, weightDecay: wd, momentum: mu, nesterov } = h;
  const u = (i: number): number => (wd !== 0 ? grad[i]! + wd * param[i]! : grad[i]!);
  let tr = 1;
  if (h.trustRatio) {
    let uu = 0;
    for (let i = 0; i < param.length; i++) uu += u(i) * u(i);
    tr = trustRatio(norm2(param), Math.sqrt(uu), h.trustCoefficient, h.eps);
  }
  for (let i = 0; i < param.length; i++) {
    const ui = -lr * (h.trustRatio ? u(i) * tr : u(i));
    trace[i] = ui + mu * trace[i]!;
    param[i] = param[i]! + (nesterov ? ui + mu * trace[i]! : trace[i]!);
  }
}

// ---- the registry: one swappable function per algorithm ---------------------------------
/** The reference update of each algorithm, by name (the kernel contract `setUpdateKernel` replacements follow). */
const builtin = {
  /** SGD with momentum, dampening, Nesterov and weight decay. */
  sgd: sgdUpdate,
  /** Adam / AdamW, with AMSGrad. */
  adam: adamUpdate,
  /** RMSprop, centered and with momentum. */
  rmsprop: rmspropUpdate,
  /** Adagrad. */
  adagrad: adagradUpdate,
  /** Adamax. */
  adamax: adamaxUpdate,
  /** NAdam. */
  nadam: nadamUpdate,
  /** Lion. */
  lion: lionUpdate,
  /** RAdam. */
  radam: radamUpdate,
  /** Adadelta. */
  adadelta: adadeltaUpdate,
  /** Rprop. */
  rprop: rpropUpdate,
  /** ASGD's parameter update. */
  asgd: asgdUpdate,
  /** Adafactor. */
  adafactor: adafactorUpdate,
  /** Muon (Newton–Schulz orthogonalised momentum). */
  muon: muonUpdate,
  /** Schedule-Free SGD. */
  sgdScheduleFree: sgdScheduleFreeUpdate,
  /** Schedule-Free AdamW. */
  adamwScheduleFree: adamwScheduleFreeUpdate,
  /** Prodigy's first pass over a parameter (accumulates the d-estimate). */
  prodigyAccumulate,
  /** Prodigy's parameter update. */
  prodigyStep,
  /** LAMB. */
  lamb: lambUpdate,
  /** LARS. */
  lars: larsUpdate,
};
/** The signature each kernel must have, by name. */
export type UpdateKernels = typeof builtin;
/** The name of a swappable update kernel ('sgd', 'adam', …). */
export type UpdateKernelName = keyof UpdateKernels;

/** Adam/AdamW through the first fused kernel a backend offers that accepts the buffers (not AMSGrad), else the reference. */
const adamFused: UpdateKernels['adam'] = (param, grad, m, v, vmax, h, step) => {
  if (vmax === null) for (const k of fusedUpdates()) if (k.adam(param, grad, m, v, h, step)) return;
  adamUpdate(param, grad, m, v, vmax, h, step);
};
const sgdFused: UpdateKernels['sgd'] = (param, grad, buf, h, firstStep) => {
  for (const k of fusedUpdates()) if (k.sgd(param, grad, buf, h, firstStep)) return;
  sgdUpdate(param, grad, buf, h, firstStep);
};
/** Schedule-Free AdamW (no inner momentum) and LAMB through an offered fused kernel, else the reference (issue 14). */
const adamwScheduleFreeFused: UpdateKernels['adamwScheduleFree'] = (y, grad, z, v, m, h, sc, k) => {
  if (m === null) for (const f of fusedUpdates()) if (f.adamwScheduleFree?.(y, grad, z, v, h, sc, k)) return;
  adamwScheduleFreeUpdate(y, grad, z, v, m, h, sc, k);
};
const lambFused: UpdateKernels['lamb'] = (param, grad, m, v, h, count) => {
  for (const f of fusedUpdates()) if (f.lamb?.(param, grad, m, v, h, count)) return;
  lambUpdate(param, grad, m, v, h, count);
};
/** Muon and Adafactor through an offered fused kernel (float32 WebAssembly), else the reference (issue 14). */
const muonFused: UpdateKernels['muon'] = (param, grad, buf, rows, cols, h) => {
  const fused = fusedUpdates();
  if (fused.length > 0) {
    const lr = muonAdjustedLr(h, rows, cols);
    for (const f of fused) if (f.muon?.(param, grad, buf, rows, cols, h, lr)) return;
  }
  muonUpdate(param, grad, buf, rows, cols, h);
};
const adafactorFused: UpdateKernels['adafactor'] = (param, grad, rowVar, colVar, variance, shape, h, step) => {
  for (const f of fusedUpdates()) if (f.adafactor?.(param, grad, rowVar, colVar, variance, shape, h, step)) return;
  adafactorUpdate(param, grad, rowVar, colVar, variance, shape, h, step);
};
/** What the optimizers call by default: the reference updates, the six above picking up offered fused kernels. */
const defaults: UpdateKernels = {
  ...builtin,
  adam: adamFused,
  sgd: sgdFused,
  adamwScheduleFree: adamwScheduleFreeFused,
  lamb: lambFused,
  muon: muonFused,
  adafactor: adafactorFused,
};

const kernels: { -readonly [K in UpdateKernelName]: UpdateKernels[K] } = { ...defaults };

/** The update function the optimizers currently call for `name`. */
export const getUpdateKernel = <K extends UpdateKernelName>(name: K): UpdateKernels[K] => kernels[name];
/** Replaces the update function for `name` (e.g. with a WASM or GPU kernel with the same contract). */
export function setUpdateKernel<K extends UpdateKernelName>(name: K, fn: UpdateKernels[K]): void {
  if (!(name in builtin)) throw new ValueError(`setUpdateKernel: unknown kernel '${String(name)}'`);
  kernels[name] = fn;
}
/** Restores the default for `name` (or all of them): the reference update, using fused backend kernels where offered. */
export function resetUpdateKernel(name?: UpdateKernelName): void {
  if (name === undefined) Object.assign(kernels, defaults);
  else (kernels as Record<string, unknown>)[name] = defaults[name];
}
/** The default update function for `name` (what resetUpdateKernel restores). */
export const defaultUpdateKernel = <K extends UpdateKernelName>(name: K): UpdateKernels[K] => defaults[name];
