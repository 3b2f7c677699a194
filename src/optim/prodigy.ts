/**
 * Prodigy (Mishchenko & Defazio, "Prodigy: An Expeditiously Adaptive Parameter-Free Learner", ICML 2024),
 * exactly konstmish/prodigy's `prodigyopt.Prodigy` (without its FSDP and `slice_p` paths): Adam whose step
 * size d is estimated from the run itself, so lr stays 1.
 */
import { ValueError } from '../errors.js';
import { enableGrad, noGrad } from '../tape.js';
import { isObject, show } from '../io/codec.js';
import {
  defineOptimizer,
  zerosFor,
  type OptimizerDef,
  type OptimizerOptions,
  type OptimizerStateDict,
  type Params,
} from './optimizer.js';
import { getUpdateKernel, type FloatArray, type ProdigyOptions } from './updates.js';
import { betas, bool, checkNumber, eps, lr, num, weightDecay, type Field } from './validate.js';

export type { ProdigyOptions };
/**
 * Per-parameter state of Prodigy.
 * @property step - Steps taken.
 * @property s - Running sum for the d-estimate's denominator.
 * @property p0 - The parameter's initial value.
 * @property expAvg - First moment estimate (when β1 > 0).
 * @property expAvgSq - Second moment estimate.
 */
export type ProdigyState = { step: number; s: FloatArray; p0: FloatArray; expAvg?: FloatArray; expAvgSq: FloatArray };
/** The estimate shared by all parameters (the reference stores it in every param group). */
export interface ProdigyEstimate {
  /** The current step size estimate d. */
  d: number;
  /** The largest estimate so far. */
  dMax: number;
  /** Running numerator of the estimate. */
  dNumerator: number;
  /** The denominator of the last estimate. */
  dDenom: number;
  /** The last raw estimate d̂. */
  dHat: number;
  /** Steps taken. */
  k: number;
}
/** Prodigy's state dict: the optimizer's plus the shared estimate. */
export interface ProdigyStateDict extends OptimizerStateDict {
  /** The shared step-size estimate. */
  prodigy: ProdigyEstimate;
}

const beta3Field: Field<number | null> = {
  default: null,
  check: (where, name, v) => {
    if (v !== null) checkNumber(where, name, v, { min: 0, below: 1 });
  },
};
const growth: Field<number> = {
  default: Infinity,
  check: (where, name, v) => {
    if (v !== Infinity) checkNumber(where, name, v, { above: 0 });
  },
};

export const prodigy: OptimizerDef<ProdigyOptions, ProdigyState> = {
  name: 'Prodigy',
  options: {
    lr: lr(1),
    betas: betas([0.9, 0.999]),
    beta3: beta3Field,
    eps: eps(1e-8),
    weightDecay: weightDecay(0),
    decouple: bool(true),
    useBiasCorrection: bool(false),
    safeguardWarmup: bool(false),
    d0: num(1e-6, { above: 0 }),
    dCoef: num(1, { above: 0 }),
    growthRate: growth,
  },
  state: { step: 'count', s: 'buffer', p0: 'buffer', expAvg: 'buffer?', expAvgSq: 'buffer' },
  init: (p, o) => ({
    step: 0,
    s: zerosFor(p),
    p0: p.slice(),
    ...(o.betas[0] > 0 ? { expAvg: zerosFor(p) } : {}),
    expAvgSq: zerosFor(p),
  }),
  update() {
    // Never called: Prodigy.step runs both passes over all parameters itself (d is a sum over all of them).
    throw new ValueError('Prodigy: parameters are updated together by Prodigy.step');
  },
};

/**
 * Prodigy: Adam with step size d·lr, where d grows to the estimate d̂ = Σ_t ⟨g_t, x₀ − x_t⟩·λ_t / ‖s‖₁
 * (λ_t = d_t·lr_t, s = Σ λ_t g_t with both sums decayed by β3 = √β2), never shrinking. One estimate for
 * all parameters; the first group's betas, beta3, dCoef, growthRate, decouple and useBiasCorrection
 * apply to all, and every group's lr must be the largest lr or 0, as in the reference.
 */
export class Prodigy extends defineOptimizer(prodigy) {
  /** The shared estimate; `estimate.d` is the step size Prodigy found (log it as the reference's group['d']). */
  estimate: ProdigyEstimate;

  constructor(params: Params<ProdigyOptions>, options: Partial<ProdigyOptions> & OptimizerOptions = {}) {
    super(params, options);
    const d0 = this.paramGroups[0]!.d0;
    this.estimate = { d: d0, dMax: d0, dNumerator: 0, dDenom: 0, dHat: d0, k: 0 };
  }

  override step(): boolean;
  override step<L>(closure: () => L): L;
  override step<L>(closure?: () => L): boolean | L {
    if (closure !== undefined && typeof closure !== 'function') {
      throw new ValueError(`${this.name}.step: closure must be a function returning the loss, got ${show(closure)}`);
    }
    const loss = closure === undefined ? undefined : enableGrad(closure);
    const done = this.#update();
    return closure === undefined ? done : (loss as L);
  }

  #update(): boolean {
    const groups = this.paramGroups;
    for (const group of groups) {
      for (const p of group.params) {
        const g = p.grad;
        if (g === null) continue;
        if (g.size !== p.size || g.dtype !== p.dtype) {
          throw new ValueError(
            `${this.name}.step: gradient of shape [${g.shape.join(',')}] ${g.dtype} does not match its parameter of shape [${p.shape.join(',')}] ${p.dtype}`,
          );
        }
        if (this.skipNonFinite && !g.data.every((x) => Number.isFinite(x))) return !(this.lastStepSkipped = true);
      }
    }
    const g0 = groups[0]!;
    const [beta1, beta2] = g0.betas;
    const beta3 = g0.beta3 ?? Math.sqrt(beta2);
    const est = this.estimate;
    let { d, dMax } = est;
    const k = est.k,
      dCoef = g0.dCoef,
      growthRate = g0.growthRate;
    const lr = Math.max(...groups.map((g) => g.lr));
    const bc = g0.useBiasCorrection ? (1 - beta2 ** (k + 1)) ** 0.5 / (1 - beta1 ** (k + 1)) : 1;
    const dlr = d * lr * bc;
    const dNumerator = est.dNumerator * beta3;
    let deltaNumerator = 0,
      dDenom = 0;
    const abs: [number] = [0];
    const accumulate = getUpdateKernel('prodigyAccumulate');
    groups.forEach((group, gi) => {
      if (group.lr !== lr && group.lr !== 0) {
        throw new ValueError(
          `${this.name}.step: param group ${gi} has lr ${group.lr}; Prodigy allows only the largest lr (${lr}) or 0 in a group`,
        );
      }
    });
    noGrad(() => {
      for (const group of groups) {
        const opts = { ...group, decouple: g0.decouple };
        for (const p of group.params) {
          if (p.grad === null) continue;
          const param = p.data as FloatArray;
          let s = this.state.get(p);
          if (s === undefined) this.state.set(p, (s = prodigy.init(param, group, p.shape)));
          if (beta1 > 0) s.expAvg ??= zerosFor(param);
          if (group.lr > 0) {
            deltaNumerator += accumulate(
              param,
              p.grad.data as FloatArray,
              beta1 > 0 ? s.expAvg! : null,
              s.expAvgSq,
              s.s,
              s.p0,
              opts,
              beta1,
              beta2,
              { d, dlr, beta3 },
              group.d0,
              abs,
            );
            dDenom += abs[0];
          }
        }
      }
    });
    // As in the reference: d0 below is the last group's (Python's loop variable), and with no progress
    // (d_denom = 0: no gradients, or all zero) the step ends here.
    const last = groups[groups.length - 1]!;
    if (dDenom === 0) return !(this.lastStepSkipped = false);
    let dHat = d;
    const globalNumerator = dNumerator + deltaNumerator;
    if (lr > 0) {
      dHat = (dCoef * globalNumerator) / dDenom;
      if (d === last.d0) d = Math.max(d, dHat);
      dMax = Math.max(dMax, dHat);
      d = Math.min(dMax, d * growthRate);
    }
    const stepKernel = getUpdateKernel('prodigyStep');
    noGrad(() => {
      for (const group of groups) {
        const opts = { ...group, decouple: g0.decouple };
        for (const p of group.params) {
          if (p.grad === null) continue;
          const s = this.state.get(p)!;
          s.step += 1;
          stepKernel(
            p.data as FloatArray,
            p.grad.data as FloatArray,
            beta1 > 0 ? s.expAvg! : null,
            s.expAvgSq,
            opts,
            d,
            dlr,
          );
        }
      }
    });
    this.estimate = { d, dMax, dNumerator: globalNumerator, dDenom, dHat, k: k + 1 };
    this.lastStepSkipped = false;
    return true;
  }

  override stateDict(): ProdigyStateDict {
    return { ...super.stateDict(), prodigy: { ...this.estimate } };
  }

  /** Restores a `stateDict()` snapshot, the shared estimate included; checked first, all or nothing. */
  override loadStateDict(sd: OptimizerStateDict | ProdigyStateDict): void {
    const where = `${this.name}.loadStateDict`;
    const e: unknown = isObject(sd) ? (sd as { prodigy?: unknown }).prodigy : undefined;
    if (!isObject(e)) throw new ValueError(`${where}: expected the shared estimate under key prodigy, got ${show(e)}`);
    const keys = ['d', 'dMax', 'dNumerator', 'dDenom', 'dHat', 'k'] as const;
    for (const key of Object.keys(e)) {
      if (!(keys as readonly string[]).includes(key))
        throw new ValueError(`${where}: prodigy.${key} is not a key of Prodigy's estimate (${keys.join(', ')})`);
    }
    for (const key of keys) {
      const v = e[key];
      const ok =
        typeof v === 'number' &&
        Number.isFinite(v) &&
        (key === 'k' ? Number.isSafeInteger(v) && v >= 0 : key === 'd' || key === 'dMax' ? v > 0 : true);
      if (!ok)
        throw new ValueError(
          `${where}: prodigy.${key} must be ${key === 'k' ? 'a non-negative integer' : key === 'd' || key === 'dMax' ? 'a positive number' : 'a finite number'}, got ${show(v)}`,
        );
    }
    super.loadStateDict(sd);
    this.estimate = { ...(e as unknown as ProdigyEstimate) };
  }
}
