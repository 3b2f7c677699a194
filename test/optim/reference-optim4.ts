/**
 * Statement-by-statement float64 transcriptions of the reference code for Schedule-Free SGD/AdamW
 * (facebookresearch/schedule_free, schedulefree/sgd_schedulefree.py and adamw_schedulefree.py),
 * Prodigy (konstmish/prodigy, prodigyopt/prodigy.py) and LAMB/LARS (optax/_src/alias.py with the
 * transforms they chain). Each keeps its reference's state layout (per-group scalars in a group object,
 * tensors as number arrays) and its floating-point operation order: torch's `a.add_(b, alpha=c)` is
 * a + c·b, `addcmul_(t1, t2, value=c)` is a + c·t1·t2, `addcdiv_(t1, t2, value=c)` is a + (c·t1)/t2,
 * `lerp_` is ATen's two-branch formula. Reductions (torch.dot, .sum(), jnp.linalg.norm) run left to right.
 * Nothing here imports the library.
 */
export type Vec = number[];
/** One step over a list of parameter tensors (flattened), in place. */
export type RefStep = (params: Vec[], grads: Vec[]) => void;

const torchLerp = (a: number, b: number, w: number) => (Math.abs(w) < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w));

// ---- schedulefree ---------------------------------------------------------------------------
interface SFGroup {
  k: number;
  lrMax: number;
  weightSum: number;
  trainMode: boolean;
}
export interface SFRef {
  step: RefStep;
  train(params: Vec[]): void;
  eval(params: Vec[]): void;
}

export function refSGDScheduleFree(o: {
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  warmupSteps?: number;
  r?: number;
  weightLrPower?: number;
}): SFRef {
  const lr0 = o.lr ?? 1.0,
    momentum = o.momentum ?? 0.9,
    weightDecay = o.weightDecay ?? 0;
  const warmupSteps = o.warmupSteps ?? 0,
    r = o.r ?? 0.0,
    weightLrPower = o.weightLrPower ?? 2;
  const group: SFGroup = { k: 0, lrMax: -1.0, weightSum: 0.0, trainMode: false };
  const zs = new Map<number, Vec>();
  return {
    eval(params) {
      if (group.trainMode) {
        params.forEach((p, j) => {
          const z = zs.get(j);
          if (z) for (let i = 0; i < p.length; i++) p[i] = torchLerp(p[i]!, z[i]!, 1 - 1 / momentum);
        });
        group.trainMode = false;
      }
    },
    train(params) {
      if (!group.trainMode) {
        params.forEach((p, j) => {
          const z = zs.get(j);
          if (z) for (let i = 0; i < p.length; i++) p[i] = torchLerp(p[i]!, z[i]!, 1 - momentum);
        });
        group.trainMode = true;
      }
    },
    step(params, grads) {
      if (!group.trainMode) throw new Error('not in train mode');
      const k = group.k;
      let sched: number;
      if (k < warmupSteps) sched = (k + 1) / warmupSteps;
      else sched = 1.0;
      const lr = lr0 * sched;
      const lrMax = (group.lrMax = Math.max(lr, group.lrMax));
      const weight = (k + 1) ** r * lrMax ** weightLrPower;
      const weightSum = (group.weightSum = group.weightSum + weight);
      const ckp1 = weightSum === 0 ? 0 : weight / weightSum;
      params.forEach((y, j) => {
        if (!zs.has(j)) zs.set(j, [...y]);
      });
      params.forEach((y, j) => {
        const grad = [...grads[j]!],
          z = zs.get(j)!;
        if (weightDecay !== 0) for (let i = 0; i < y.length; i++) grad[i] = grad[i]! + weightDecay * y[i]!;
        for (let i = 0; i < y.length; i++) y[i] = torchLerp(y[i]!, z[i]!, ckp1);
        const alpha = lr * (momentum * (1 - ckp1) - 1);
        for (let i = 0; i < y.length; i++) y[i] = y[i]! + alpha * grad[i]!;
        for (let i = 0; i < y.length; i++) z[i] = z[i]! - lr * grad[i]!;
      });
      group.k = k + 1;
    },
  };
}

export function refAdamWScheduleFree(o: {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  warmupSteps?: number;
  r?: number;
  weightLrPower?: number;
  innerMomentum?: number;
}): SFRef {
  const lr0 = o.lr ?? 0.0025,
    [beta1, beta2] = o.betas ?? [0.9, 0.999],
    eps = o.eps ?? 1e-8,
    decay = o.weightDecay ?? 0;
  const warmupSteps = o.warmupSteps ?? 0,
    r = o.r ?? 0.0,
    weightLrPower = o.weightLrPower ?? 2.0,
    innerMomentum = o.innerMomentum ?? 0.0;
  const group: SFGroup = { k: 0, lrMax: -1.0, weightSum: 0.0, trainMode: false };
  const state = new Map<number, { z: Vec; expAvgSq: Vec; expAvg?: Vec }>();
  const swap = (params: Vec[], w: number) =>
    params.forEach((p, j) => {
      const s = state.get(j);
      if (s) for (let i = 0; i < p.length; i++) p[i] = torchLerp(p[i]!, s.z[i]!, w);
    });
  return {
    eval(params) {
      if (group.trainMode) {
        swap(params, 1 - 1 / beta1);
        group.trainMode = false;
      }
    },
    train(params) {
      if (!group.trainMode) {
        swap(params, 1 - beta1);
        group.trainMode = true;
      }
    },
    step(params, grads) {
      if (!group.trainMode) throw new Error('not in train mode');
      const k = group.k;
      const sched = k < warmupSteps ? (k + 1) / warmupSteps : 1.0;
      const biasCorrection2 = 1 - beta2 ** (k + 1);
      const biasCorrection1 = innerMomentum !== 0 ? 1 - innerMomentum ** (k + 1) : NaN;
      const lr = lr0 * sched;
      const lrMax = (group.lrMax = Math.max(lr, group.lrMax));
      const weight = (k + 1) ** r * lrMax ** weightLrPower;
      const weightSum = (group.weightSum = group.weightSum + weight);
      const ckp1 = weightSum === 0 ? 0 : weight / weightSum;
      params.forEach((p, j) => {
        if (!state.has(j))
          state.set(j, {
            z: [...p],
            expAvgSq: p.map(() => 0),
            ...(innerMomentum !== 0 ? { expAvg: p.map(() => 0) } : {}),
          });
      });
      params.forEach((y, j) => {
        const grad = [...grads[j]!],
          st = state.get(j)!,
          z = st.z,
          expAvgSq = st.expAvgSq,
          n = y.length;
        for (let i = 0; i < n; i++) expAvgSq[i] = expAvgSq[i]! * beta2;
        for (let i = 0; i < n; i++) expAvgSq[i] = expAvgSq[i]! + (1 - beta2) * grad[i]! * grad[i]!;
        const denom = expAvgSq
          .map((v) => v / biasCorrection2)
          .map(Math.sqrt)
          .map((v) => v + eps);
        let gradNormalized: Vec;
        if (innerMomentum !== 0) {
          const expAvg = st.expAvg!;
          for (let i = 0; i < n; i++) expAvg[i] = expAvg[i]! * innerMomentum;
          for (let i = 0; i < n; i++) expAvg[i] = expAvg[i]! + (1 - innerMomentum) * grad[i]!;
          gradNormalized = expAvg.map((m) => m / biasCorrection1).map((m, i) => m / denom[i]!);
        } else {
          for (let i = 0; i < n; i++) grad[i] = grad[i]! / denom[i]!;
          gradNormalized = grad;
        }
        if (decay !== 0) for (let i = 0; i < n; i++) gradNormalized[i] = gradNormalized[i]! + decay * y[i]!;
        for (let i = 0; i < n; i++) y[i] = torchLerp(y[i]!, z[i]!, ckp1);
        const alpha = lr * (beta1 * (1 - ckp1) - 1);
        for (let i = 0; i < n; i++) y[i] = y[i]! + alpha * gradNormalized[i]!;
        for (let i = 0; i < n; i++) z[i] = z[i]! - lr * gradNormalized[i]!;
      });
      group.k = k + 1;
    },
  };
}

// ---- prodigyopt -----------------------------------------------------------------------------
export interface ProdigyGroupOpts {
  lr?: number;
  weightDecay?: number;
  eps?: number;
  d0?: number;
  safeguardWarmup?: boolean;
}
/**
 * prodigyopt.Prodigy; `groups[i]` lists the parameter indices of group i and its per-group options;
 * betas, beta3, useBiasCorrection, dCoef, growthRate and decouple are read from group 0, as the reference does.
 */
export function refProdigy(
  o: {
    lr?: number;
    betas?: [number, number];
    beta3?: number | null;
    eps?: number;
    weightDecay?: number;
    decouple?: boolean;
    useBiasCorrection?: boolean;
    safeguardWarmup?: boolean;
    d0?: number;
    dCoef?: number;
    growthRate?: number;
  },
  groupsIn?: { params: number[]; opts?: ProdigyGroupOpts }[],
): RefStep & { groups: Record<string, number>[] } {
  const mk = (params: number[], g: ProdigyGroupOpts = {}) => ({
    params,
    lr: g.lr ?? o.lr ?? 1.0,
    betas: o.betas ?? [0.9, 0.999],
    beta3: o.beta3 ?? null,
    eps: g.eps ?? o.eps ?? 1e-8,
    weight_decay: g.weightDecay ?? o.weightDecay ?? 0,
    d: g.d0 ?? o.d0 ?? 1e-6,
    d0: g.d0 ?? o.d0 ?? 1e-6,
    d_max: g.d0 ?? o.d0 ?? 1e-6,
    d_numerator: 0.0,
    d_coef: o.dCoef ?? 1.0,
    k: 0,
    growth_rate: o.growthRate ?? Infinity,
    use_bias_correction: o.useBiasCorrection ?? false,
    decouple: o.decouple ?? true,
    safeguard_warmup: g.safeguardWarmup ?? o.safeguardWarmup ?? false,
    d_denom: 0,
    d_hat: 0,
  });
  type G = ReturnType<typeof mk>;
  let paramGroups: G[] | null = null;
  const state = new Map<number, { step: number; s: Vec; p0: Vec; exp_avg?: Vec; exp_avg_sq: Vec }>();
  const fn = (params: Vec[], grads: Vec[]) => {
    paramGroups ??= groupsIn ? groupsIn.map((g) => mk(g.params, g.opts)) : [mk(params.map((_, i) => i))];
    (fn as unknown as { groups: G[] }).groups = paramGroups;
    let dDenom = 0.0;
    let group = paramGroups[0]!;
    const useBiasCorrection = group.use_bias_correction;
    const [beta1, beta2] = group.betas as [number, number];
    let beta3 = group.beta3 as number | null;
    if (beta3 === null) beta3 = Math.sqrt(beta2);
    let k = group.k;
    let d = group.d;
    let dMax = group.d_max;
    const dCoef = group.d_coef;
    const lr = Math.max(...paramGroups.map((g) => g.lr));
    let biasCorrection: number;
    if (useBiasCorrection) biasCorrection = (1 - beta2 ** (k + 1)) ** 0.5 / (1 - beta1 ** (k + 1));
    else biasCorrection = 1;
    const dlr = d * lr * biasCorrection;
    const growthRate = group.growth_rate;
    const decouple = group.decouple;
    let dNumerator = group.d_numerator;
    dNumerator *= beta3;
    let deltaNumerator = 0.0;
    for (group of paramGroups) {
      const decay = group.weight_decay,
        groupLr = group.lr,
        d0 = group.d0,
        safeguardWarmup = group.safeguard_warmup;
      if (groupLr !== lr && groupLr !== 0.0) throw new Error('different lr');
      for (const pi of group.params) {
        const p = params[pi]!,
          grad = [...grads[pi]!],
          n = p.length;
        if (decay !== 0 && !decouple) for (let i = 0; i < n; i++) grad[i] = grad[i]! + decay * p[i]!;
        grads[pi] = grad; // the reference modifies p.grad in place
        if (!state.has(pi)) {
          state.set(pi, {
            step: 0,
            s: p.map(() => 0),
            p0: [...p],
            ...(beta1 > 0 ? { exp_avg: p.map(() => 0) } : {}),
            exp_avg_sq: p.map(() => 0),
          });
        }
        const st = state.get(pi)!,
          expAvgSq = st.exp_avg_sq,
          s = st.s,
          p0 = st.p0;
        if (groupLr > 0.0) {
          const diff = p0.map((x, i) => x - p[i]!);
          let dot = 0;
          for (let i = 0; i < n; i++) dot += grad[i]! * diff[i]!;
          deltaNumerator += (d / d0) * dlr * dot;
          if (beta1 > 0) {
            const expAvg = st.exp_avg!;
            for (let i = 0; i < n; i++) expAvg[i] = expAvg[i]! * beta1;
            for (let i = 0; i < n; i++) expAvg[i] = expAvg[i]! + d * (1 - beta1) * grad[i]!;
          }
          for (let i = 0; i < n; i++) expAvgSq[i] = expAvgSq[i]! * beta2;
          const value = d * d * (1 - beta2);
          for (let i = 0; i < n; i++) expAvgSq[i] = expAvgSq[i]! + value * grad[i]! * grad[i]!;
          const alpha = safeguardWarmup ? (d / d0) * d : (d / d0) * dlr;
          for (let i = 0; i < n; i++) s[i] = s[i]! * beta3;
          for (let i = 0; i < n; i++) s[i] = s[i]! + alpha * grad[i]!;
          let sum = 0;
          for (let i = 0; i < n; i++) sum += Math.abs(s[i]!);
          dDenom += sum;
        }
      }
    }
    let dHat = d;
    if (dDenom === 0) return;
    let globalDNumerator = NaN,
      globalDDenom = NaN;
    if (lr > 0.0) {
      globalDNumerator = dNumerator + deltaNumerator;
      globalDDenom = dDenom;
      dHat = (dCoef * globalDNumerator) / globalDDenom;
      if (d === group.d0) d = Math.max(d, dHat);
      dMax = Math.max(dMax, dHat);
      d = Math.min(dMax, d * growthRate);
    }
    for (group of paramGroups) {
      group.d_numerator = globalDNumerator;
      group.d_denom = globalDDenom;
      group.d = d;
      group.d_max = dMax;
      group.d_hat = dHat;
      const decay = group.weight_decay;
      k = group.k;
      const eps = group.eps;
      for (const pi of group.params) {
        const p = params[pi]!,
          grad = grads[pi]!,
          st = state.get(pi)!,
          expAvgSq = st.exp_avg_sq,
          n = p.length;
        st.step += 1;
        const denom = expAvgSq.map(Math.sqrt).map((x) => x + d * eps);
        if (decay !== 0 && decouple) {
          const alpha = -decay * dlr;
          for (let i = 0; i < n; i++) p[i] = p[i]! + alpha * p[i]!;
        }
        if (beta1 > 0) {
          const expAvg = st.exp_avg!;
          for (let i = 0; i < n; i++) p[i] = p[i]! + (-dlr * expAvg[i]!) / denom[i]!;
        } else {
          const value = -dlr * d;
          for (let i = 0; i < n; i++) p[i] = p[i]! + (value * grad[i]!) / denom[i]!;
        }
      }
      group.k = k + 1;
    }
  };
  return fn as RefStep & { groups: Record<string, number>[] };
}

// ---- optax ----------------------------------------------------------------------------------
/** jnp.linalg.norm of a vector, summed left to right. */
const norm = (x: Vec) => {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s);
};
/** transform.scale_by_trust_ratio(min_norm=0, trust_coefficient, eps) on one leaf. */
const scaleByTrustRatio = (update: Vec, param: Vec, trustCoefficient = 1.0, eps = 0.0): Vec => {
  const paramNorm = norm(param),
    updateNorm = norm(update);
  const trustRatio = (trustCoefficient * paramNorm) / (updateNorm + eps);
  const safe = paramNorm === 0.0 || updateNorm === 0.0 ? 1.0 : trustRatio;
  return update.map((u) => u * safe);
};
const addDecayedWeights = (updates: Vec, params: Vec, wd: number): Vec =>
  wd === 0.0 ? updates : updates.map((g, i) => g + wd * params[i]!);
const scaleByLearningRate = (updates: Vec, lr: number): Vec => {
  const stepSize = -1 * lr;
  return updates.map((g) => stepSize * g);
};
const applyUpdates = (params: Vec, updates: Vec) => {
  for (let i = 0; i < params.length; i++) params[i] = params[i]! + updates[i]!;
};

/** optax.lamb(learning_rate, b1, b2, eps, eps_root, weight_decay): per leaf. */
export function refLamb(o: {
  lr: number;
  b1?: number;
  b2?: number;
  eps?: number;
  epsRoot?: number;
  weightDecay?: number;
}): RefStep {
  const b1 = o.b1 ?? 0.9,
    b2 = o.b2 ?? 0.999,
    eps = o.eps ?? 1e-6,
    epsRoot = o.epsRoot ?? 0.0,
    wd = o.weightDecay ?? 0.0;
  let adam: { count: number; mu: Vec[]; nu: Vec[] } | null = null;
  return (params, grads) => {
    adam ??= { count: 0, mu: params.map((p) => p.map(() => 0)), nu: params.map((p) => p.map(() => 0)) };
    // scale_by_adam
    const mu = grads.map((g, j) => g.map((gi, i) => (1 - b1) * gi + b1 * adam!.mu[j]![i]!));
    const nu = grads.map((g, j) => g.map((gi, i) => (1 - b2) * (gi * gi) + b2 * adam!.nu[j]![i]!));
    const countInc = adam.count + 1;
    const muHat = mu.map((m) => {
      const bc = 1 - b1 ** countInc;
      return m.map((t) => t / bc);
    });
    const nuHat = nu.map((v) => {
      const bc = 1 - b2 ** countInc;
      return v.map((t) => t / bc);
    });
    let updates = muHat.map((m, j) => m.map((mi, i) => mi / (Math.sqrt(nuHat[j]![i]! + epsRoot) + eps)));
    adam = { count: countInc, mu, nu };
    updates = updates.map((u, j) => addDecayedWeights(u, params[j]!, wd));
    updates = updates.map((u, j) => scaleByTrustRatio(u, params[j]!));
    updates = updates.map((u) => scaleByLearningRate(u, o.lr));
    params.forEach((p, j) => applyUpdates(p, updates[j]!));
  };
}

/** optax.lars(learning_rate, weight_decay, trust_coefficient, eps, trust_ratio_mask, momentum, nesterov). */
export function refLars(o: {
  lr: number;
  weightDecay?: number;
  trustCoefficient?: number;
  eps?: number;
  trustRatioMask?: boolean;
  momentum?: number;
  nesterov?: boolean;
}): RefStep {
  const wd = o.weightDecay ?? 0.0,
    tc = o.trustCoefficient ?? 0.001,
    eps = o.eps ?? 0.0,
    mask = o.trustRatioMask ?? true;
  const decay = o.momentum ?? 0.9,
    nesterov = o.nesterov ?? false;
  let trace: Vec[] | null = null;
  return (params, grads) => {
    trace ??= params.map((p) => p.map(() => 0));
    let updates = grads.map((g, j) => addDecayedWeights(g, params[j]!, wd));
    if (mask) updates = updates.map((u, j) => scaleByTrustRatio(u, params[j]!, tc, eps));
    updates = updates.map((u) => scaleByLearningRate(u, o.lr));
    const f = (g: number, t: number) => g + decay * t;
    const newTrace = updates.map((u, j) => u.map((g, i) => f(g, trace![j]![i]!)));
    updates = nesterov ? updates.map((u, j) => u.map((g, i) => f(g, newTrace[j]![i]!))) : newTrace;
    trace = newTrace;
    params.forEach((p, j) => applyUpdates(p, updates[j]!));
  };
}
