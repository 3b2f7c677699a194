/**
 * The optimizers' update math: small pure functions over typed arrays, updating in place, each taking
 * its optimizer's options type (the one users write) as its hyper-parameters.
 *
 * Each mirrors the operation order of PyTorch's `_single_tensor_*` implementation
 * (torch/optim/*.py), so that in float64 the trajectories agree to rounding (PyTorch's
 * vectorised CPU kernels may fuse a multiply-add; we cannot, hence ~1e-15 relative, not 0).
 * Scalars that PyTorch computes in Python (bias corrections, step sizes) are computed here
 * in JS doubles the same way. The declarations in this folder call these through `getUpdateKernel`,
 * whose defaults for adam and sgd first try the fused kernels backends offer (backend/fused.ts:
 * WebAssembly, GPU); a user can replace any of them with `setUpdateKernel`.
 */

import { fusedUpdates } from '../backend/fused.js';
import { ValueError } from '../errors.js';
import type { FloatArray } from '../io/codec.js';

export type { FloatArray };

/** `torch.lerp(a, b, w)` exactly as ATen computes it (two formulas, split at |w| < 0.5). */
export const lerp = (a: number, b: number, w: number): number =>
  Math.abs(w) < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w);

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
export function sgdUpdate(param: FloatArray, grad: FloatArray, buf: FloatArray | null, h: SGDOptions, firstStep: boolean): void {
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
  param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, vmax: FloatArray | null, h: AdamOptions, step: number,
): void {
  const { lr, betas: [beta1, beta2], eps, maximize } = h;
  const wd = h.decoupledWeightDecay ? 0 : h.weightDecay;
  const w1 = 1 - beta1, w2 = 1 - beta2;
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
  maximize: boolean;
}
/**
 * RMSprop: s ← α·s + (1−α)·g²; centered: ḡ ← lerp(ḡ, g, 1−α), a = √(s − ḡ²) + ε, else a = √s + ε;
 * with momentum b ← μ·b + g/a, θ ← θ − lr·b; without, θ ← θ − lr·g/a.
 */
export function rmspropUpdate(
  param: FloatArray, grad: FloatArray, squareAvg: FloatArray, gradAvg: FloatArray | null, buf: FloatArray | null, h: RMSpropOptions,
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
  maximize: boolean;
}
/** Adagrad at step `step`: clr = lr / (1 + (t−1)·lrDecay); S ← S + g²; θ ← θ − clr·g / (√S + ε). */
export function adagradUpdate(param: FloatArray, grad: FloatArray, sum: FloatArray, h: AdagradOptions, step: number): void {
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

export interface AdamaxOptions {
  /** Learning rate (default 2e-3). */
  lr: number;
  /** default [0.9, 0.999] */
  betas: [number, number];
  /** Added inside the max: u ← max(β2·u, |g| + ε) (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  maximize: boolean;
}
/** Adamax: m ← lerp(m, g, 1−β1); u ← max(β2·u, |g| + ε); θ ← θ − (lr / (1−β1ᵗ)) · m / u. */
export function adamaxUpdate(param: FloatArray, grad: FloatArray, m: FloatArray, u: FloatArray, h: AdamaxOptions, step: number): void {
  const { lr, betas: [beta1, beta2], eps, weightDecay: wd, maximize } = h;
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
  maximize: boolean;
}
/** NAdam's momentum schedule μₜ = β1·(1 − ½·0.96^(t·ψ)). */
export const nadamMu = (h: NAdamOptions, t: number): number => h.betas[0] * (1 - 0.5 * 0.96 ** (t * h.momentumDecay));
/**
 * NAdam (Dozat 2016, PyTorch form) at step t with Πμ = `muProduct` (μ₁…μₜ): m ← lerp(m, g, 1−β1);
 * v ← β2·v + (1−β2)·g²; d = √(v / (1−β2ᵗ)) + ε; θ ← θ − lr·(1−μₜ)/(1−Πμ)·g/d − lr·μₜ₊₁/(1−Πμ·μₜ₊₁)·m/d.
 */
export function nadamUpdate(
  param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, h: NAdamOptions, step: number, muProduct: number,
): void {
  const { lr, betas: [beta1, beta2], eps, weightDecay: wd, maximize } = h;
  const mu = nadamMu(h, step), muNext = nadamMu(h, step + 1);
  const w1 = 1 - beta1, w2 = 1 - beta2;
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

export interface LionOptions {
  /** Learning rate (default 1e-4; typically 3–10× smaller than AdamW's). */
  lr: number;
  /** Interpolation for the update direction and for the momentum (default [0.9, 0.99]). */
  betas: [number, number];
  /** Decoupled weight decay θ ← θ·(1 − lr·wd) (default 0). */
  weightDecay: number;
  maximize: boolean;
}
/**
 * Lion (Chen et al. 2023, as in lucidrains/lion-pytorch and optax): θ ← θ·(1 − lr·wd);
 * θ ← θ − lr·sign(β1·m + (1−β1)·g); m ← β2·m + (1−β2)·g.
 */
export function lionUpdate(param: FloatArray, grad: FloatArray, m: FloatArray, h: LionOptions): void {
  const { lr, betas: [beta1, beta2], weightDecay: wd, maximize } = h;
  const decay = 1 - lr * wd;
  const w1 = 1 - beta1, w2 = 1 - beta2;
  for (let i = 0; i < param.length; i++) {
    const g = maximize ? -grad[i]! : grad[i]!;
    if (wd !== 0) param[i] = param[i]! * decay;
    const c = m[i]! * beta1 + w1 * g;
    param[i] = param[i]! + -lr * Math.sign(c);
    m[i] = m[i]! * beta2 + w2 * g;
  }
}

// ---- the registry: one swappable function per algorithm ---------------------------------
const builtin = {
  sgd: sgdUpdate,
  adam: adamUpdate,
  rmsprop: rmspropUpdate,
  adagrad: adagradUpdate,
  adamax: adamaxUpdate,
  nadam: nadamUpdate,
  lion: lionUpdate,
};
/** The signature each kernel must have, by name. */
export type UpdateKernels = typeof builtin;
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
/** What the optimizers call by default: the reference updates, with adam and sgd picking up offered fused kernels. */
const defaults: UpdateKernels = { ...builtin, adam: adamFused, sgd: sgdFused };

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
