/**
 * Transcriptions of torch.optim's `_single_tensor_*` code for the optimizers of issue 14
 * (pytorch/pytorch main, 2.9/2.10-era: torch/optim/{radam,adadelta,rprop,asgd,_adafactor,_muon,lbfgs}.py),
 * statement by statement, each ATen op replaced by its CPU scalar kernel (see reference.ts), on plain
 * JS arrays: one array per tensor, Python scalars as doubles. Reductions (norm, mean, dot, matmul) are
 * written as left-to-right sums, which is the one order the library also uses; ATen's vectorised
 * reductions (and BLAS) may group the terms differently, by rounding only.
 */
type Vec = number[];
const aten = {
  add: (a: number, b: number, alpha = 1): number => a + alpha * b,
  addcmul: (self: number, t1: number, t2: number, value = 1): number => self + value * t1 * t2,
  lerp: (self: number, end: number, w: number): number =>
    Math.abs(w) < 0.5 ? self + w * (end - self) : end - (end - self) * (1 - w),
  /** torch.sign: 1, −1, or 0 (NaN stays NaN). */
  sign: (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN),
  clamp: (x: number, lo: number, hi: number): number => Math.min(Math.max(x, lo), hi),
};
const zerosLike = (a: Vec): Vec => a.map(() => 0);
const sumOf = (a: Vec): number => a.reduce((s, x) => s + x, 0);
const norm2 = (a: Vec): number => Math.sqrt(sumOf(a.map((x) => x * x)));
const dotOf = (a: Vec, b: Vec): number => sumOf(a.map((x, i) => x * b[i]!));

export type TorchStep = (param: Vec, grad: Vec, t: number) => Vec;

/** torch/optim/radam.py `_single_tensor_radam` (non-capturable). */
export function torchRAdam(o: {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  decoupled?: boolean;
  maximize?: boolean;
}): TorchStep {
  const [beta1, beta2] = o.betas ?? [0.9, 0.999],
    eps = o.eps ?? 1e-8,
    wd = o.weightDecay ?? 0,
    lr = o.lr;
  let expAvg: Vec = [],
    expAvgSq: Vec = [];
  return (param0, grads, step) => {
    if (step === 1) (expAvg = zerosLike(param0)), (expAvgSq = zerosLike(param0));
    let param = [...param0];
    let grad = o.maximize ? grads.map((g) => -g) : [...grads];
    if (wd !== 0) {
      if (o.decoupled)
        param = param.map((p) => p * (1 - lr * wd)); // param.mul_(1 - lr * weight_decay)
      else grad = grad.map((g, i) => aten.add(g, param[i]!, wd)); // grad = grad.add(param, alpha=weight_decay)
    }
    expAvg = expAvg.map((m, i) => aten.lerp(m, grad[i]!, 1 - beta1)); // exp_avg.lerp_(grad, 1 - beta1)
    expAvgSq = expAvgSq.map((v, i) => aten.addcmul(v * beta2, grad[i]!, grad[i]!, 1 - beta2));
    const biasCorrection1 = 1 - beta1 ** step;
    const biasCorrection2 = 1 - beta2 ** step;
    const biasCorrectedExpAvg = expAvg.map((m) => m / biasCorrection1); // exp_avg / bias_correction1
    const rhoInf = 2 / (1 - beta2) - 1;
    const rhoT = rhoInf - (2 * step * beta2 ** step) / biasCorrection2;
    const computeRect = () => (((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) ** 0.5;
    const computeAdaptiveLr = () => {
      const sqrtPlusEps = expAvgSq.map((v) => Math.sqrt(v) + eps); // exp_avg_sq.sqrt().add_(eps)
      return sqrtPlusEps.map((x) => (1 / x) * biasCorrection2 ** 0.5); // scalar / tensor = tensor.reciprocal() * scalar
    };
    if (rhoT > 5.0) {
      const adaptive = computeAdaptiveLr(),
        rect = computeRect();
      const upd = biasCorrectedExpAvg.map((m, i) => m * lr * adaptive[i]! * rect); // bias_corrected_exp_avg * lr * adaptive * rect
      return param.map((p, i) => aten.add(p, upd[i]!, -1.0)); // param.add_(…, alpha=-1.0)
    }
    return param.map((p, i) => aten.add(p, biasCorrectedExpAvg[i]! * lr, -1.0));
  };
}

/** torch/optim/adadelta.py `_single_tensor_adadelta`. */
export function torchAdadelta(o: {
  lr?: number;
  rho?: number;
  eps?: number;
  weightDecay?: number;
  maximize?: boolean;
}): TorchStep {
  const lr = o.lr ?? 1,
    rho = o.rho ?? 0.9,
    eps = o.eps ?? 1e-6,
    wd = o.weightDecay ?? 0;
  let squareAvg: Vec = [],
    accDelta: Vec = [];
  return (param, grads, step) => {
    if (step === 1) (squareAvg = zerosLike(param)), (accDelta = zerosLike(param));
    let grad = o.maximize ? grads.map((g) => -g) : [...grads];
    if (wd !== 0) grad = grad.map((g, i) => aten.add(g, param[i]!, wd));
    squareAvg = squareAvg.map((s, i) => aten.addcmul(s * rho, grad[i]!, grad[i]!, 1 - rho)); // square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
    const std = squareAvg.map((s) => Math.sqrt(s + eps)); // square_avg.add(eps).sqrt_()
    let delta = accDelta.map((a) => Math.sqrt(a + eps)); // acc_delta.add(eps).sqrt_()
    delta = delta.map((x, i) => (x / std[i]!) * grad[i]!); // delta.div_(std).mul_(grad)
    accDelta = accDelta.map((a, i) => aten.addcmul(a * rho, delta[i]!, delta[i]!, 1 - rho));
    return param.map((p, i) => aten.add(p, delta[i]!, -lr)); // param.add_(delta, alpha=-lr)
  };
}

/** torch/optim/rprop.py `_single_tensor_rprop` (non-capturable). */
export function torchRprop(o: {
  lr?: number;
  etas?: [number, number];
  stepSizes?: [number, number];
  maximize?: boolean;
}): TorchStep {
  const lr = o.lr ?? 1e-2,
    [etaminus, etaplus] = o.etas ?? [0.5, 1.2],
    [stepSizeMin, stepSizeMax] = o.stepSizes ?? [1e-6, 50];
  let prev: Vec = [],
    stepSize: Vec = [];
  return (param, grads, step) => {
    if (step === 1) (prev = zerosLike(param)), (stepSize = param.map(() => lr)); // grad.new().resize_as_(grad).fill_(lr)
    let grad = o.maximize ? grads.map((g) => -g) : [...grads];
    const sign = grad.map((g, i) => aten.sign(g * prev[i]!)); // grad.mul(prev).sign()
    for (let i = 0; i < sign.length; i++) if (sign[i]! > 0) sign[i] = etaplus; // sign[sign.gt(0)] = etaplus
    for (let i = 0; i < sign.length; i++) if (sign[i]! < 0) sign[i] = etaminus; // sign[sign.lt(0)] = etaminus
    for (let i = 0; i < sign.length; i++) if (sign[i] === 0) sign[i] = 1; // sign[sign.eq(0)] = 1
    stepSize = stepSize.map((s, i) => aten.clamp(s * sign[i]!, stepSizeMin, stepSizeMax)); // step_size.mul_(sign).clamp_(min, max)
    grad = grad.map((g, i) => (sign[i] === etaminus ? 0 : g)); // grad[sign.eq(etaminus)] = 0
    const out = param.map((p, i) => aten.addcmul(p, aten.sign(grad[i]!), stepSize[i]!, -1)); // param.addcmul_(grad.sign(), step_size, value=-1)
    prev = [...grad]; // prev.copy_(grad)
    return out;
  };
}

/** torch/optim/asgd.py `_single_tensor_asgd` (non-capturable), eta and mu as float64 scalars; `ax()` reads the average. */
export function torchASGD(o: {
  lr?: number;
  lambd?: number;
  alpha?: number;
  t0?: number;
  weightDecay?: number;
  maximize?: boolean;
}): TorchStep & { ax: () => Vec } {
  const lr = o.lr ?? 1e-2,
    lambd = o.lambd ?? 1e-4,
    alpha = o.alpha ?? 0.75,
    t0 = o.t0 ?? 1e6,
    wd = o.weightDecay ?? 0;
  let ax: Vec = [],
    eta = lr,
    mu = 1;
  const fn = (param0: Vec, grads: Vec, step: number): Vec => {
    if (step === 1) (ax = zerosLike(param0)), (eta = lr), (mu = 1);
    let grad = o.maximize ? grads.map((g) => -g) : [...grads];
    if (wd !== 0) grad = grad.map((g, i) => aten.add(g, param0[i]!, wd));
    const etaValue = eta;
    let param = param0.map((p) => p * (1 - lambd * etaValue)); // param.mul_(1 - lambd * eta_value)
    param = param.map((p, i) => aten.add(p, grad[i]!, -etaValue)); // param.add_(grad, alpha=-eta_value)
    if (mu !== 1)
      ax = ax.map((a, i) => aten.add(a, (param[i]! - a) * mu)); // ax.add_(param.sub(ax).mul_(mu))
    else ax = [...param]; // ax.copy_(param)
    eta = lr / (1 + lambd * lr * step) ** alpha; // lr / ((1 + lambd * lr * step) ** alpha)
    mu = 1 / Math.max(1, step - t0); // 1 / max(1, step - t0)
    return param;
  };
  return Object.assign(fn, { ax: () => ax });
}

/**
 * torch/optim/_adafactor.py `_single_tensor_adafactor` for one parameter of `shape` (row-major).
 * `meanSq` is how a row's or column's mean of g² is formed: PyTorch's `norm(g, dim)².div(n)` unless a
 * test swaps in another order to show that the comparison notices.
 */
export function torchAdafactor(
  shape: number[],
  o: {
    lr?: number;
    beta2Decay?: number;
    eps?: [number | null, number];
    d?: number;
    weightDecay?: number;
    maximize?: boolean;
  },
  meanSq: (v: Vec) => number = (v) => {
    const r = norm2(v);
    return (r * r) / v.length;
  },
): TorchStep {
  const lr = o.lr ?? 1e-2,
    beta2Decay = o.beta2Decay ?? -0.8,
    [eps1Opt, eps2] = o.eps ?? [null, 1e-3],
    d = o.d ?? 1.0,
    wd = o.weightDecay ?? 0;
  const eps1 = eps1Opt ?? 2.220446049250313e-16; // torch.finfo(torch.float64).eps
  const multi = shape.length > 1;
  const m = multi ? shape[shape.length - 2]! : 0,
    n = multi ? shape[shape.length - 1]! : 0;
  const B = multi ? shape.slice(0, -2).reduce((a, b) => a * b, 1) : 0;
  let rowVar: Vec[] = [],
    colVar: Vec[] = [],
    variance: Vec = [];
  return (param0, grads, step) => {
    if (step === 1) {
      if (multi)
        (rowVar = Array.from({ length: B }, () => new Array<number>(m).fill(0))),
          (colVar = Array.from({ length: B }, () => new Array<number>(n).fill(0)));
      else variance = zerosLike(param0);
    }
    const grad = o.maximize ? grads.map((g) => -g) : [...grads];
    const stepFloat = step;
    const oneMinusBeta2T = stepFloat ** beta2Decay;
    const rhoT = Math.min(lr, 1 / stepFloat ** 0.5);
    const alpha = Math.max(eps2, norm2(param0) / param0.length ** 0.5) * rhoT;
    let param = [...param0];
    if (wd !== 0) param = param.map((p) => p * (1 - lr * wd));
    let varEstimate: Vec;
    if (multi) {
      varEstimate = new Array<number>(param.length).fill(0);
      for (let b = 0; b < B; b++) {
        const at = (i: number, j: number) => grad[b * m * n + i * n + j]!;
        // torch.norm(grad, dim=-1, keepdim=True).square_().div_(grad.size(-1))
        const rowMean = Array.from({ length: m }, (_, i) => meanSq(Array.from({ length: n }, (_, j) => at(i, j))));
        rowVar[b] = rowVar[b]!.map((r, i) => aten.lerp(r, rowMean[i]!, oneMinusBeta2T));
        const colMean = Array.from({ length: n }, (_, j) => meanSq(Array.from({ length: m }, (_, i) => at(i, j))));
        colVar[b] = colVar[b]!.map((c, j) => aten.lerp(c, colMean[j]!, oneMinusBeta2T));
        const denom = Math.max(sumOf(rowVar[b]!) / m, eps1); // row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1)
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) varEstimate[b * m * n + i * n + j] = (rowVar[b]![i]! * colVar[b]![j]!) / denom;
      }
    } else {
      const gradSquared = grad.map((g) => g * g);
      variance = variance.map((v, i) => aten.lerp(v, gradSquared[i]!, oneMinusBeta2T));
      varEstimate = [...variance];
    }
    const update = varEstimate.map((v) => 1 / Math.sqrt(Math.max(v, eps1 * eps1))).map((u, i) => u * grad[i]!); // clamp_(min=eps1*eps1).rsqrt_(); mul_(grad)
    const denom = Math.max(1.0, norm2(update) / (update.length ** 0.5 * d));
    return param.map((p, i) => aten.add(p, update[i]!, -alpha / denom)); // param.add_(update, alpha=-alpha / denom)
  };
}

/** torch/optim/_muon.py `_single_tensor_muon` for one rows×cols parameter, Newton–Schulz in float64 (PyTorch: bfloat16). */
export function torchMuon(
  rows: number,
  cols: number,
  o: {
    lr?: number;
    weightDecay?: number;
    momentum?: number;
    nesterov?: boolean;
    nsCoefficients?: [number, number, number];
    eps?: number;
    nsSteps?: number;
    adjustLrFn?: null | 'original' | 'matchRmsAdamW';
  },
): TorchStep {
  const lr = o.lr ?? 1e-3,
    wd = o.weightDecay ?? 0.1,
    momentum = o.momentum ?? 0.95,
    nesterov = o.nesterov ?? true;
  const [a, b, c] = o.nsCoefficients ?? [3.4445, -4.775, 2.0315],
    eps = o.eps ?? 1e-7,
    nsSteps = o.nsSteps ?? 5;
  type Mat = number[][];
  const T = (x: Mat): Mat => x[0]!.map((_, j) => x.map((r) => r[j]!));
  const mm = (x: Mat, y: Mat): Mat => x.map((r) => y[0]!.map((_, j) => r.reduce((s, v, k) => s + v * y[k]![j]!, 0)));
  const addmm = (input: Mat, m1: Mat, m2: Mat, beta: number, alpha: number): Mat => {
    const p = mm(m1, m2);
    return input.map((r, i) => r.map((v, j) => beta * v + alpha * p[i]![j]!));
  };
  const zeropower = (grad: Mat): Mat => {
    let x = grad.map((r) => [...r]); // grad.bfloat16() — float64 here
    if (rows > cols) x = T(x);
    const nrm = Math.max(Math.sqrt(x.flat().reduce((s, v) => s + v * v, 0)), eps); // ortho_grad.norm().clamp(min=eps)
    x = x.map((r) => r.map((v) => v / nrm));
    for (let k = 0; k < nsSteps; k++) {
      const gram = mm(x, T(x));
      const gramUpdate = addmm(gram, gram, gram, b, c);
      x = addmm(x, gramUpdate, x, a, 1);
    }
    return rows > cols ? T(x) : x;
  };
  let buf: Vec = [];
  return (param, grad, step) => {
    if (step === 1) buf = zerosLike(param);
    buf = buf.map((v, i) => aten.lerp(v, grad[i]!, 1 - momentum)); // buf.lerp_(grad, 1 - momentum)
    const upd = nesterov ? grad.map((g, i) => aten.lerp(g, buf[i]!, momentum)) : [...buf];
    const mat = Array.from({ length: rows }, (_, i) => upd.slice(i * cols, (i + 1) * cols));
    const ortho = zeropower(mat).flat();
    const ratio =
      o.adjustLrFn === 'matchRmsAdamW' ? 0.2 * Math.sqrt(Math.max(rows, cols)) : Math.sqrt(Math.max(1, rows / cols));
    const adjustedLr = lr * ratio;
    return param.map((p) => p * (1 - lr * wd)).map((p, i) => aten.add(p, ortho[i]!, -adjustedLr));
  };
}

/** torch/optim/lbfgs.py: `LBFGS.step` with `_strong_wolfe` and `_cubic_interpolate`, over one flat vector `x`. */
export function torchLBFGS(o: {
  lr?: number;
  maxIter?: number;
  maxEval?: number | null;
  toleranceGrad?: number;
  toleranceChange?: number;
  historySize?: number;
  lineSearchFn?: null | 'strongWolfe';
}) {
  const lr = o.lr ?? 1,
    maxIter = o.maxIter ?? 20,
    maxEval = o.maxEval ?? Math.floor((maxIter * 5) / 4);
  const tolGrad = o.toleranceGrad ?? 1e-7,
    tolChange = o.toleranceChange ?? 1e-9,
    historySize = o.historySize ?? 100;
  const state: Record<string, unknown> = { func_evals: 0, n_iter: 0 };
  const absMax = (v: Vec) => Math.max(...v.map(Math.abs));

  const cubic = (x1: number, f1: number, g1: number, x2: number, f2: number, g2: number, bounds?: [number, number]) => {
    const [xminBound, xmaxBound] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
    const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
    const d2Square = d1 * d1 - g1 * g2; // d1**2 (a 0-d tensor: ATen pow(x, 2) = x·x)
    if (d2Square >= 0) {
      const d2 = Math.sqrt(d2Square);
      const minPos =
        x1 <= x2
          ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
          : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
      return Math.min(Math.max(minPos, xminBound), xmaxBound);
    }
    return (xminBound + xmaxBound) / 2.0;
  };

  const strongWolfe = (
    objFunc: (t: number) => [number, Vec],
    t0: number,
    d: Vec,
    f: number,
    g0: Vec,
    gtd: number,
    maxLs: number,
  ) => {
    const c1 = 1e-4,
      c2 = 0.9;
    let t = t0;
    const dNorm = absMax(d);
    const g = [...g0];
    let [fNew, gNew] = objFunc(t);
    let lsFuncEvals = 1;
    let gtdNew = dotOf(gNew, d);
    let tPrev = 0,
      fPrev = f,
      gPrev = g,
      gtdPrev = gtd;
    let done = false,
      lsIter = 0;
    let bracket: number[] = [],
      bracketF: number[] = [],
      bracketG: Vec[] = [],
      bracketGtd: number[] = [];
    while (lsIter < maxLs) {
      if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev)) {
        bracket = [tPrev, t];
        bracketF = [fPrev, fNew];
        bracketG = [gPrev, [...gNew]];
        bracketGtd = [gtdPrev, gtdNew];
        break;
      }
      if (Math.abs(gtdNew) <= -c2 * gtd) {
        bracket = [t];
        bracketF = [fNew];
        bracketG = [gNew];
        done = true;
        break;
      }
      if (gtdNew >= 0) {
        bracket = [tPrev, t];
        bracketF = [fPrev, fNew];
        bracketG = [gPrev, [...gNew]];
        bracketGtd = [gtdPrev, gtdNew];
        break;
      }
      const minStep = t + 0.01 * (t - tPrev);
      const maxStep = t * 10;
      const tmp = t;
      t = cubic(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [minStep, maxStep]);
      tPrev = tmp;
      fPrev = fNew;
      gPrev = [...gNew];
      gtdPrev = gtdNew;
      [fNew, gNew] = objFunc(t);
      lsFuncEvals += 1;
      gtdNew = dotOf(gNew, d);
      lsIter += 1;
    }
    if (lsIter === maxLs) (bracket = [0, t]), (bracketF = [f, fNew]), (bracketG = [g, gNew]);
    let insufProgress = false;
    let [lowPos, highPos] = bracketF[0]! <= bracketF[bracketF.length - 1]! ? [0, 1] : [1, 0];
    while (!done && lsIter < maxLs) {
      if (Math.abs(bracket[1]! - bracket[0]!) * dNorm < tolChange) break;
      t = cubic(bracket[0]!, bracketF[0]!, bracketGtd[0]!, bracket[1]!, bracketF[1]!, bracketGtd[1]!);
      const eps = 0.1 * (Math.max(...bracket) - Math.min(...bracket));
      if (Math.min(Math.max(...bracket) - t, t - Math.min(...bracket)) < eps) {
        if (insufProgress || t >= Math.max(...bracket) || t <= Math.min(...bracket)) {
          if (Math.abs(t - Math.max(...bracket)) < Math.abs(t - Math.min(...bracket))) t = Math.max(...bracket) - eps;
          else t = Math.min(...bracket) + eps;
          insufProgress = false;
        } else insufProgress = true;
      } else insufProgress = false;
      [fNew, gNew] = objFunc(t);
      lsFuncEvals += 1;
      gtdNew = dotOf(gNew, d);
      lsIter += 1;
      if (fNew > f + c1 * t * gtd || fNew >= bracketF[lowPos]!) {
        bracket[highPos] = t;
        bracketF[highPos] = fNew;
        bracketG[highPos] = [...gNew];
        bracketGtd[highPos] = gtdNew;
        [lowPos, highPos] = bracketF[0]! <= bracketF[1]! ? [0, 1] : [1, 0];
      } else {
        if (Math.abs(gtdNew) <= -c2 * gtd) done = true;
        else if (gtdNew * (bracket[highPos]! - bracket[lowPos]!) >= 0) {
          bracket[highPos] = bracket[lowPos]!;
          bracketF[highPos] = bracketF[lowPos]!;
          bracketG[highPos] = bracketG[lowPos]!;
          bracketGtd[highPos] = bracketGtd[lowPos]!;
        }
        bracket[lowPos] = t;
        bracketF[lowPos] = fNew;
        bracketG[lowPos] = [...gNew];
        bracketGtd[lowPos] = gtdNew;
      }
    }
    return { f: bracketF[lowPos]!, g: bracketG[lowPos]!, t: bracket[lowPos]!, evals: lsFuncEvals };
  };

  /** One `step(closure)`: `x` is updated in place; `closure(x)` returns [loss, flat gradient]. Returns the first loss. */
  return (x: Vec, closure: (x: Vec) => [number, Vec]): number => {
    const addGrad = (stepSize: number, update: Vec) => update.forEach((u, i) => (x[i] = aten.add(x[i]!, u, stepSize)));
    let [loss, flatGrad] = closure(x);
    const origLoss = loss;
    let currentEvals = 1;
    state.func_evals = (state.func_evals as number) + 1;
    let optCond = absMax(flatGrad) <= tolGrad;
    if (optCond) return origLoss;
    let d = state.d as Vec,
      t = state.t as number,
      oldDirs = state.old_dirs as Vec[],
      oldStps = state.old_stps as Vec[];
    let ro = state.ro as number[],
      hDiag = state.H_diag as number,
      prevFlatGrad = state.prev_flat_grad as Vec | undefined;
    let prevLoss = state.prev_loss as number;
    let nIter = 0;
    while (nIter < maxIter) {
      nIter += 1;
      state.n_iter = (state.n_iter as number) + 1;
      if (state.n_iter === 1) {
        d = flatGrad.map((g) => -g);
        oldDirs = [];
        oldStps = [];
        ro = [];
        hDiag = 1;
      } else {
        const y = flatGrad.map((g, i) => g - prevFlatGrad![i]!);
        const s = d.map((v) => v * t);
        const ys = dotOf(y, s);
        if (ys > 1e-10) {
          if (oldDirs.length === historySize) oldDirs.shift(), oldStps.shift(), ro.shift();
          oldDirs.push(y);
          oldStps.push(s);
          ro.push((1 / ys) * 1.0); // 1.0 / ys = ys.reciprocal() * 1.0
          hDiag = ys / dotOf(y, y);
        }
        const numOld = oldDirs.length;
        const al: number[] = new Array<number>(historySize).fill(NaN);
        const q = flatGrad.map((g) => -g);
        for (let i = numOld - 1; i > -1; i--) {
          al[i] = dotOf(oldStps[i]!, q) * ro[i]!;
          oldDirs[i]!.forEach((v, j) => (q[j] = aten.add(q[j]!, v, -al[i]!))); // q.add_(old_dirs[i], alpha=-al[i])
        }
        const r = q.map((v) => v * hDiag); // d = r = torch.mul(q, H_diag)
        for (let i = 0; i < numOld; i++) {
          const beI = dotOf(oldDirs[i]!, r) * ro[i]!;
          oldStps[i]!.forEach((v, j) => (r[j] = aten.add(r[j]!, v, al[i]! - beI)));
        }
        d = r;
      }
      prevFlatGrad = [...flatGrad];
      prevLoss = loss;
      t = state.n_iter === 1 ? Math.min(1.0, (1 / sumOf(flatGrad.map(Math.abs))) * 1.0) * lr : lr;
      const gtd = dotOf(flatGrad, d);
      if (gtd > -tolChange) break;
      let lsFuncEvals = 0;
      if (o.lineSearchFn === 'strongWolfe') {
        const xInit = [...x];
        const dir = d;
        const objFunc = (tt: number): [number, Vec] => {
          addGrad(tt, dir);
          const [f, g] = closure(x);
          xInit.forEach((v, i) => (x[i] = v));
          return [f, g];
        };
        const res = strongWolfe(objFunc, t, d, loss, flatGrad, gtd, maxEval - currentEvals);
        loss = res.f;
        flatGrad = res.g;
        t = res.t;
        lsFuncEvals = res.evals;
        addGrad(t, d);
        optCond = absMax(flatGrad) <= tolGrad;
      } else {
        addGrad(t, d);
        if (nIter !== maxIter) {
          [loss, flatGrad] = closure(x);
          optCond = absMax(flatGrad) <= tolGrad;
          lsFuncEvals = 1;
        }
      }
      currentEvals += lsFuncEvals;
      state.func_evals = (state.func_evals as number) + lsFuncEvals;
      if (nIter === maxIter) break;
      if (currentEvals >= maxEval) break;
      if (optCond) break;
      if (absMax(d.map((v) => v * t)) <= tolChange) break;
      if (Math.abs(loss - prevLoss) < tolChange) break;
    }
    Object.assign(state, {
      d,
      t,
      old_dirs: oldDirs,
      old_stps: oldStps,
      ro,
      H_diag: hDiag,
      prev_flat_grad: prevFlatGrad,
      prev_loss: prevLoss,
    });
    return origLoss;
  };
}
