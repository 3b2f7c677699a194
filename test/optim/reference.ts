/**
 * Textbook reference implementations of the optimizers, written from the published update
 * equations (the algorithm boxes in the PyTorch docs and the papers) over plain JS numbers,
 * one scalar coordinate at a time. They deliberately use the textbook operation order
 * (β·m + (1−β)·g, m̂ = m/(1−β1ᵗ), …), not the library's, so agreement to ~1e-12 is a real check.
 */
export type Grad = (theta: number[]) => number[];

export function runRef(theta0: number[], grad: Grad, steps: number, stepFn: (theta: number[], g: number[], t: number) => number[]): number[][] {
  const path: number[][] = [];
  let theta = [...theta0];
  for (let t = 1; t <= steps; t++) {
    theta = stepFn(theta, grad(theta), t);
    path.push(theta);
  }
  return path;
}

export function refSGD(o: { lr: number; momentum?: number; dampening?: number; nesterov?: boolean; weightDecay?: number; maximize?: boolean }) {
  const mu = o.momentum ?? 0, tau = o.dampening ?? 0, wd = o.weightDecay ?? 0;
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

export function refAdam(o: { lr: number; betas?: [number, number]; eps?: number; weightDecay?: number; amsgrad?: boolean; decoupled?: boolean; maximize?: boolean }) {
  const [b1, b2] = o.betas ?? [0.9, 0.999], eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0;
  let m: number[] = [], v: number[] = [], vmax: number[] = [];
  return (th0: number[], g0: number[], t: number): number[] => {
    if (t === 1) (m = th0.map(() => 0), v = th0.map(() => 0), vmax = th0.map(() => 0));
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

export function refRMSprop(o: { lr: number; alpha?: number; eps?: number; weightDecay?: number; momentum?: number; centered?: boolean }) {
  const a = o.alpha ?? 0.99, eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0, mu = o.momentum ?? 0;
  let s: number[] = [], gbar: number[] = [], b: number[] = [];
  return (th: number[], g0: number[], t: number): number[] => {
    if (t === 1) (s = th.map(() => 0), gbar = th.map(() => 0), b = th.map(() => 0));
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

export function refAdagrad(o: { lr: number; lrDecay?: number; weightDecay?: number; initialAccumulatorValue?: number; eps?: number }) {
  const eta = o.lrDecay ?? 0, wd = o.weightDecay ?? 0, eps = o.eps ?? 1e-10;
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
  const [b1, b2] = o.betas ?? [0.9, 0.999], eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0;
  let m: number[] = [], u: number[] = [];
  return (th: number[], g0: number[], t: number): number[] => {
    if (t === 1) (m = th.map(() => 0), u = th.map(() => 0));
    const g = g0.map((gi, i) => gi + wd * th[i]!);
    m = m.map((mi, i) => b1 * mi + (1 - b1) * g[i]!);
    u = u.map((ui, i) => Math.max(b2 * ui, Math.abs(g[i]!) + eps));
    return th.map((x, i) => x - (o.lr / (1 - b1 ** t)) * (m[i]! / u[i]!));
  };
}

export function refNAdam(o: { lr: number; betas?: [number, number]; eps?: number; weightDecay?: number; momentumDecay?: number }) {
  const [b1, b2] = o.betas ?? [0.9, 0.999], eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0, psi = o.momentumDecay ?? 4e-3;
  let m: number[] = [], v: number[] = [], prod = 1;
  const muAt = (t: number) => b1 * (1 - 0.5 * Math.pow(0.96, t * psi));
  return (th: number[], g0: number[], t: number): number[] => {
    if (t === 1) (m = th.map(() => 0), v = th.map(() => 0), prod = 1);
    const g = g0.map((gi, i) => gi + wd * th[i]!);
    const mu = muAt(t), muNext = muAt(t + 1);
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
  const [b1, b2] = o.betas ?? [0.9, 0.99], wd = o.weightDecay ?? 0;
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
