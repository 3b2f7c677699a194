/**
 * Textbook reference implementations of the optimizers, written from the published update
 * equations (the algorithm boxes in the PyTorch docs and the papers) over plain JS numbers,
 * one scalar coordinate at a time. They deliberately use the textbook operation order
 * (β·m + (1−β)·g, m̂ = m/(1−β1ᵗ), …), not the library's, so agreement to ~1e-12 is a real check.
 *
 * The second half of the file (`torch*`) transcribes PyTorch's own `_single_tensor_*` code in its
 * exact floating-point operation order; those must agree with the library bit for bit.
 */
export type Grad = (theta: number[]) => number[];

export function runRef(
  theta0: number[],
  grad: Grad,
  steps: number,
  stepFn: (theta: number[], g: number[], t: number) => number[],
): number[][] {
  const path: number[][] = [];
  let theta = [...theta0];
  for (let t = 1; t <= steps; t++) {
    theta = stepFn(theta, grad(theta), t);
    path.push(theta);
  }
  return path;
}

export function refSGD(o: {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
  maximize?: boolean;
}) {
  const mu = o.momentum ?? 0,
    tau = o.dampening ?? 0,
    wd = o.weightDecay ?? 0;
  let b: number[] | null = null;
  return (th: number[], g0: number[], t: number): number[] => {
    const g = g0.map((gi, i) => (o.maximize ? -gi : gi) + wd * th[i]!);
    let d = g;
    if (mu !== 0) {
      b = t === 1 ? [...g] : b!.map((bi, i) => mu * bi + (1 - tau) * g[i]!);
      d = o.nesterov ? g.map((gi, i) => gi + mu * b![i]!) : b;
    }
    return th.map((x, i) => x - o.lr * d[i]!);
  };
}

export function refAdam(o: {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
  decoupled?: boolean;
  maximize?: boolean;
}) {
  const [b1, b2] = o.betas ?? [0.9, 0.999],
    eps = o.eps ?? 1e-8,
    wd = o.weightDecay ?? 0;
  let m: number[] = [],
    v: number[] = [],
    vmax: number[] = [];
  return (th0: number[], g0: number[], t: number): number[] => {
    if (t === 1) (m = th0.map(() => 0)), (v = th0.map(() => 0)), (vmax = th0.map(() => 0));
    const th = o.decoupled ? th0.map((x) => x - o.lr * wd * x) : th0;
    const g = g0.map((gi, i) => (o.maximize ? -gi : gi) + (o.decoupled ? 0 : wd * th[i]!));
    m = m.map((mi, i) => b1 * mi + (1 - b1) * g[i]!);
    v = v.map((vi, i) => b2 * vi + (1 - b2) * g[i]! ** 2);
    const mhat = m.map((mi) => mi / (1 - b1 ** t));
    let vhat: number[];
    if (o.amsgrad) {
      vmax = vmax.map((x, i) => Math.max(x, v[i]!)); // the max of the raw second moment, corrected afterwards
      vhat = vmax.map((x) => x / (1 - b2 ** t));
    } else vhat = v.map((vi) => vi / (1 - b2 ** t));
    return th.map((x, i) => x - (o.lr * mhat[i]!) / (Math.sqrt(vhat[i]!) + eps));
  };
}

export function refRMSprop(o: {
  lr: number;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
}) {
  const a = o.alpha ?? 0.99,
    eps = o.eps ?? 1e-8,
    wd = o.weightDecay ?? 0,
    mu = o.momentum ?? 0;
  let s: number[] = [],
    gbar: number[] = [],
    b: number[] = [];
  return (th: number[], g0: number[], t: number): number[] => {
    if (t === 1) (s = th.map(() => 0)), (gbar = th.map(() => 0)), (b = th.map(() => 0));
    const g = g0.map((gi, i) => gi + wd * th[i]!);
    s = s.map((si, i) => a * si + (1 - a) * g[i]! ** 2);
    let vt = s;
    if (o.centered) {
      gbar = gbar.map((x, i) => a * x + (1 - a) * g[i]!);
      vt = s.map((si, i) => si - gbar[i]! ** 2);
    }
    if (mu > 0) {
      b = b.map((bi, i) => mu * bi + g[i]! / (Math.sqrt(vt[i]!) + eps));
      return th.map((x, i) => x - o.lr * b[i]!);
    }
    return th.map((x, i) => x - (o.lr * g[i]!) / (Math.sqrt(vt[i]!) + eps));
  };
}

export function refAdagrad(o: {
  lr: number;
  lrDecay?: number;
  weightDecay?: number;
  initialAccumulatorValue?: number;
  eps?: number;
}) {
  const eta = o.lrDecay ?? 0,
    wd = o.weightDecay ?? 0,
    eps = o.eps ?? 1e-10;
  let S: number[] = [];
  return (th: number[], g0: number[], t: number): number[] => {
    if (t === 1) S = th.map(() => o.initialAccumulatorValue ?? 0);
    const g = g0.map((gi, i) => gi + wd * th[i]!);
    const lrT = o.lr / (1 + (t - 1) * eta);
    S = S.map((x, i) => x + g[i]! ** 2);
    return th.map((x, i) => x - (lrT * g[i]!) / (Math.sqrt(S[i]!) + eps));
  };
}

export function refAdamax(o: { lr: number; betas?: [number, number]; eps?: number; weightDecay?: number }) {
  const [b1, b2] = o.betas ?? [0.9, 0.999],
    eps = o.eps ?? 1e-8,
    wd = o.weightDecay ?? 0;
  let m: number[] = [],
    u: number[] = [];
  return (th: number[], g0: number[], t: number): number[] => {
    if (t === 1) (m = th.map(() => 0)), (u = th.map(() => 0));
    const g = g0.map((gi, i) => gi + wd * th[i]!);
    m = m.map((mi, i) => b1 * mi + (1 - b1) * g[i]!);
    u = u.map((ui, i) => Math.max(b2 * ui, Math.abs(g[i]!) + eps));
    return th.map((x, i) => x - (o.lr / (1 - b1 ** t)) * (m[i]! / u[i]!));
  };
}

export function refNAdam(o: {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  momentumDecay?: number;
}) {
  const [b1, b2] = o.betas ?? [0.9, 0.999],
    eps = o.eps ?? 1e-8,
    wd = o.weightDecay ?? 0,
    psi = o.momentumDecay ?? 4e-3;
  let m: number[] = [],
    v: number[] = [],
    prod = 1;
  const muAt = (t: number) => b1 * (1 - 0.5 * 0.96 ** (t * psi));
  return (th: number[], g0: number[], t: number): number[] => {
    if (t === 1) (m = th.map(() => 0)), (v = th.map(() => 0)), (prod = 1);
    const g = g0.map((gi, i) => gi + wd * th[i]!);
    const mu = muAt(t),
      muNext = muAt(t + 1);
    prod *= mu;
    const prodNext = prod * muNext;
    m = m.map((mi, i) => b1 * mi + (1 - b1) * g[i]!);
    v = v.map((vi, i) => b2 * vi + (1 - b2) * g[i]! ** 2);
    const mhat = m.map((mi, i) => (muNext * mi) / (1 - prodNext) + ((1 - mu) * g[i]!) / (1 - prod));
    const vhat = v.map((vi) => vi / (1 - b2 ** t));
    return th.map((x, i) => x - (o.lr * mhat[i]!) / (Math.sqrt(vhat[i]!) + eps));
  };
}

export function refLion(o: { lr: number; betas?: [number, number]; weightDecay?: number }) {
  const [b1, b2] = o.betas ?? [0.9, 0.99],
    wd = o.weightDecay ?? 0;
  let m: number[] = [];
  return (th: number[], g: number[], t: number): number[] => {
    if (t === 1) m = th.map(() => 0);
    const c = m.map((mi, i) => b1 * mi + (1 - b1) * g[i]!);
    const next = th.map((x, i) => x - o.lr * (Math.sign(c[i]!) + wd * x));
    m = m.map((mi, i) => b2 * mi + (1 - b2) * g[i]!);
    return next;
  };
}

/** Relative difference, with an absolute floor so values near zero compare sensibly. */
export const relErr = (a: number, b: number): number => Math.abs(a - b) / Math.max(1, Math.abs(a), Math.abs(b));

// ---- PyTorch's operation order ------------------------------------------------------------
//
// The references below transcribe PyTorch's `_single_tensor_*` functions statement by statement
// (checked against pytorch/pytorch main, 2.9/2.10-era sources: torch/optim/{sgd,adam,rmsprop,
// adagrad,adamax,nadam}.py; AdamW is `Adam(decoupled_weight_decay=True)` there), with each ATen
// op replaced by its CPU *scalar* kernel from aten/src/ATen/native/cpu:
//   add(a, b, alpha)          a + alpha·b                      (BinaryOpsKernel / ufunc add.h)
//   addcmul_(t1, t2, value)   self + value·t1·t2, left to right (PointwiseOpsKernel.cpp, addcmul_cpu_kernel)
//   addcdiv_(t1, t2, value)   self + value·t1/t2, left to right (PointwiseOpsKernel.cpp, addcdiv_cpu_kernel)
//                             — note: not self + value·(t1/t2), which is the CUDA kernel's order
//   lerp_(end, w)             |w| < 0.5 ? self + w·(end − self) : end − (end − self)·(1 − w)  (Lerp.h)
// Python scalars (bias corrections, step sizes) are doubles computed exactly as written in the .py.
// Because the order is the same as the library's, float64 trajectories must agree bit for bit.
const aten = {
  add: (a: number, b: number, alpha = 1): number => a + alpha * b,
  addcmul: (self: number, t1: number, t2: number, value = 1): number => self + value * t1 * t2,
  addcdiv: (self: number, t1: number, t2: number, value = 1): number => self + (value * t1) / t2,
  lerp: (self: number, end: number, w: number): number =>
    Math.abs(w) < 0.5 ? self + w * (end - self) : end - (end - self) * (1 - w),
};
type Step = (theta: number[], g: number[], t: number) => number[];

/** torch/optim/sgd.py `_single_tensor_sgd`. */
export function torchSGD(o: {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
  maximize?: boolean;
}): Step {
  const momentum = o.momentum ?? 0,
    dampening = o.dampening ?? 0,
    wd = o.weightDecay ?? 0;
  let bufs: (number | null)[] = [];
  return (param, grads) => {
    if (bufs.length === 0) bufs = param.map(() => null);
    return param.map((p, i) => {
      let grad = o.maximize ? -grads[i]! : grads[i]!;
      if (wd !== 0) grad = aten.add(grad, p, wd); // grad = grad.add(param, alpha=weight_decay)
      if (momentum !== 0) {
        let buf = bufs[i]!;
        if (buf === null)
          buf = grad; // buf = torch.clone(grad).detach()
        else buf = aten.add(buf * momentum, grad, 1 - dampening); // buf.mul_(momentum).add_(grad, alpha=1 - dampening)
        bufs[i] = buf;
        grad = o.nesterov ? aten.add(grad, buf, momentum) : buf; // grad.add(buf, alpha=momentum) / buf
      }
      return aten.add(p, grad, -o.lr); // param.add_(grad, alpha=-lr)
    });
  };
}

/** torch/optim/adam.py `_single_tensor_adam` (non-capturable branch); `decoupled` is AdamW. */
export function torchAdam(o: {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
  decoupled?: boolean;
  maximize?: boolean;
}): Step {
  const [beta1, beta2] = o.betas ?? [0.9, 0.999],
    eps = o.eps ?? 1e-8,
    wd = o.weightDecay ?? 0,
    lr = o.lr;
  let m: number[] = [],
    v: number[] = [],
    vmax: number[] = [];
  return (param, grads, step) => {
    if (step === 1) (m = param.map(() => 0)), (v = param.map(() => 0)), (vmax = param.map(() => 0));
    const biasCorrection1 = 1 - beta1 ** step;
    const biasCorrection2 = 1 - beta2 ** step;
    const stepSize = lr / biasCorrection1;
    const biasCorrection2Sqrt = biasCorrection2 ** 0.5;
    return param.map((p0, i) => {
      let p = p0;
      let grad = o.maximize ? -grads[i]! : grads[i]!;
      if (wd !== 0) {
        if (o.decoupled)
          p = p * (1 - lr * wd); // param.mul_(1 - lr * weight_decay)
        else grad = aten.add(grad, p, wd); // grad = grad.add(param, alpha=weight_decay)
      }
      m[i] = aten.lerp(m[i]!, grad, 1 - beta1); // exp_avg.lerp_(grad, 1 - beta1)
      v[i] = aten.addcmul(v[i]! * beta2, grad, grad, 1 - beta2); // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
      let denom: number;
      if (o.amsgrad) {
        vmax[i] = Math.max(vmax[i]!, v[i]!); // torch.maximum(max_exp_avg_sqs[i], exp_avg_sq, out=...)
        denom = Math.sqrt(vmax[i]!) / biasCorrection2Sqrt + eps; // (max_exp_avg_sqs[i].sqrt() / bias_correction2_sqrt).add_(eps)
      } else denom = Math.sqrt(v[i]!) / biasCorrection2Sqrt + eps; // (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
      return aten.addcdiv(p, m[i]!, denom, -stepSize); // param.addcdiv_(exp_avg, denom, value=-step_size)
    });
  };
}

/** torch/optim/rmsprop.py `_single_tensor_rmsprop`. */
export function torchRMSprop(o: {
  lr: number;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
  maximize?: boolean;
}): Step {
  const alpha = o.alpha ?? 0.99,
    eps = o.eps ?? 1e-8,
    wd = o.weightDecay ?? 0,
    momentum = o.momentum ?? 0,
    lr = o.lr;
  let sq: number[] = [],
    ga: number[] = [],
    buf: number[] = [];
  return (param, grads, step) => {
    if (step === 1) (sq = param.map(() => 0)), (ga = param.map(() => 0)), (buf = param.map(() => 0));
    return param.map((p, i) => {
      let grad = o.maximize ? -grads[i]! : grads[i]!;
      if (wd !== 0) grad = aten.add(grad, p, wd);
      sq[i] = aten.addcmul(sq[i]! * alpha, grad, grad, 1 - alpha); // square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
      let avg: number;
      if (o.centered) {
        ga[i] = aten.lerp(ga[i]!, grad, 1 - alpha); // grad_avg.lerp_(grad, 1 - alpha)
        avg = Math.sqrt(aten.addcmul(sq[i]!, ga[i]!, ga[i]!, -1)); // square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
      } else avg = Math.sqrt(sq[i]!); // square_avg.sqrt()
      avg = avg + eps; // avg.add_(eps)
      if (momentum > 0) {
        buf[i] = aten.addcdiv(buf[i]! * momentum, grad, avg); // buf.mul_(momentum).addcdiv_(grad, avg)
        return aten.add(p, buf[i]!, -lr); // param.add_(buf, alpha=-lr)
      }
      return aten.addcdiv(p, grad, avg, -lr); // param.addcdiv_(grad, avg, value=-lr)
    });
  };
}

/** torch/optim/adagrad.py `_single_tensor_adagrad` (dense gradients). */
export function torchAdagrad(o: {
  lr: number;
  lrDecay?: number;
  weightDecay?: number;
  initialAccumulatorValue?: number;
  eps?: number;
  maximize?: boolean;
}): Step {
  const lrDecay = o.lrDecay ?? 0,
    wd = o.weightDecay ?? 0,
    eps = o.eps ?? 1e-10;
  let sum: number[] = [];
  return (param, grads, step) => {
    if (step === 1) sum = param.map(() => o.initialAccumulatorValue ?? 0); // torch.full_like(p, initial_accumulator_value)
    const clr = o.lr / (1 + (step - 1) * lrDecay); // clr = lr / (1 + (step - 1) * lr_decay)
    return param.map((p, i) => {
      let grad = o.maximize ? -grads[i]! : grads[i]!;
      if (wd !== 0) grad = aten.add(grad, p, wd);
      sum[i] = aten.addcmul(sum[i]!, grad, grad, 1); // state_sum.addcmul_(grad, grad, value=1)
      const std = Math.sqrt(sum[i]!) + eps; // state_sum.sqrt().add_(eps)
      return aten.addcdiv(p, grad, std, -clr); // param.addcdiv_(grad, std, value=-clr)
    });
  };
}

/** torch/optim/adamax.py `_single_tensor_adamax` (non-differentiable, non-capturable branch). */
export function torchAdamax(o: {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  maximize?: boolean;
}): Step {
  const [beta1, beta2] = o.betas ?? [0.9, 0.999],
    eps = o.eps ?? 1e-8,
    wd = o.weightDecay ?? 0;
  let m: number[] = [],
    u: number[] = [];
  return (param, grads, step) => {
    if (step === 1) (m = param.map(() => 0)), (u = param.map(() => 0));
    const clr = o.lr / (1 - beta1 ** step); // clr = lr / bias_correction
    return param.map((p, i) => {
      let grad = o.maximize ? -grads[i]! : grads[i]!;
      if (wd !== 0) grad = aten.add(grad, p, wd);
      m[i] = aten.lerp(m[i]!, grad, 1 - beta1); // exp_avg.lerp_(grad, 1 - beta1)
      u[i] = Math.max(u[i]! * beta2, Math.abs(grad) + eps); // torch.maximum(exp_inf.mul_(beta2), grad.abs().add_(eps))
      return aten.addcdiv(p, m[i]!, u[i]!, -clr); // param.addcdiv_(exp_avg, exp_inf, value=-clr)
    });
  };
}

/** torch/optim/nadam.py `_single_tensor_nadam` (non-capturable branch), mu_product in float64. */
export function torchNAdam(o: {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  momentumDecay?: number;
  decoupledWeightDecay?: boolean;
  maximize?: boolean;
}): Step {
  const [beta1, beta2] = o.betas ?? [0.9, 0.999],
    eps = o.eps ?? 1e-8,
    wd = o.weightDecay ?? 0,
    md = o.momentumDecay ?? 4e-3,
    lr = o.lr;
  let m: number[] = [],
    v: number[] = [],
    muProduct = 1;
  return (param, grads, step) => {
    if (step === 1) (m = param.map(() => 0)), (v = param.map(() => 0)), (muProduct = 1);
    const biasCorrection2 = 1 - beta2 ** step;
    const mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * md));
    const muNext = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * md));
    muProduct *= mu; // mu_product *= mu
    const muProductNext = muProduct * muNext;
    const c1 = (-lr * (1.0 - mu)) / (1.0 - muProduct); // value=(-lr * (1.0 - mu) / (1.0 - mu_product))
    const c2 = (-lr * muNext) / (1.0 - muProductNext); // value=(-lr * mu_next) / (1.0 - mu_product_next)
    return param.map((p0, i) => {
      let p = p0;
      let grad = o.maximize ? -grads[i]! : grads[i]!;
      if (wd !== 0) {
        if (o.decoupledWeightDecay)
          p = p * (1 - lr * wd); // param.mul_(1 - lr * weight_decay)
        else grad = aten.add(grad, p, wd);
      }
      m[i] = aten.lerp(m[i]!, grad, 1 - beta1);
      v[i] = aten.addcmul(v[i]! * beta2, grad, grad, 1 - beta2);
      const denom = Math.sqrt(v[i]! / biasCorrection2) + eps; // exp_avg_sq.div(bias_correction2).sqrt(); denom.add_(eps)
      p = aten.addcdiv(p, grad, denom, c1);
      return aten.addcdiv(p, m[i]!, denom, c2);
    });
  };
}

/** lucidrains/lion-pytorch `update_fn` (Lion is not in torch.optim). */
export function torchLion(o: { lr: number; betas?: [number, number]; weightDecay?: number }): Step {
  const [beta1, beta2] = o.betas ?? [0.9, 0.99],
    wd = o.weightDecay ?? 0,
    lr = o.lr;
  let m: number[] = [];
  return (param, grad, step) => {
    if (step === 1) m = param.map(() => 0);
    return param.map((p0, i) => {
      const p = p0 * (1 - lr * wd); // p.data.mul_(1 - lr * wd)
      const update = Math.sign(aten.add(m[i]! * beta1, grad[i]!, 1 - beta1)); // exp_avg.clone().mul_(beta1).add(grad, alpha=1 - beta1).sign_()
      m[i] = aten.add(m[i]! * beta2, grad[i]!, 1 - beta2); // exp_avg.mul_(beta2).add_(grad, alpha=1 - beta2)
      return aten.add(p, update, -lr); // p.add_(update, alpha=-lr)
    });
  };
}
