/**
 * L-BFGS (torch.optim.LBFGS): a quasi-Newton method over all parameters as one flat vector, which
 * re-evaluates the closure several times per step (fixed steps, or a strong-Wolfe line search).
 */
import { ValueError } from '../errors.js';
import { enableGrad, noGrad } from '../tape.js';
import { Tensor } from '../tensor.js';
import { decodeValue, isObject } from '../io/codec.js';
import { defineOptimizer, type OptimizerOptions, type OptimizerStateDict, type Params } from './optimizer.js';
import type { FloatArray } from './updates.js';
import { choice, lr, num, show, type Field } from './validate.js';

/** Hyperparameters of L-BFGS (torch.optim.LBFGS); every field is optional in the constructor. */
export interface LBFGSOptions {
  /** Step length (default 1). */
  lr: number;
  /** Iterations per step() (default 20). */
  maxIter: number;
  /** Closure evaluations per step(); null means ⌊maxIter·5/4⌋ (default null). */
  maxEval: number | null;
  /** Stop when max |g| ≤ this (default 1e-7). */
  toleranceGrad: number;
  /** Stop when the loss or the step changes less than this (default 1e-9). */
  toleranceChange: number;
  /** Number of (s, y) pairs kept (default 100). */
  historySize: number;
  /** null: fixed steps of length lr; 'strongWolfe': a line search for the strong Wolfe conditions (default null). */
  lineSearchFn: null | 'strongWolfe';
}
/**
 * The global state (kept under the first parameter, as PyTorch does): counters, the last direction d
 * and step t, the history (k pairs, flattened: `oldDirs` and `oldStps` hold k·N values, `ro` k),
 * the initial inverse-Hessian scale, the previous flat gradient and loss.
 * @property funcEvals - Closure evaluations so far (torch: func_evals).
 * @property nIter - Iterations so far (torch: n_iter).
 * @property d - Last search direction.
 * @property t - Last step length.
 * @property oldDirs - History of gradient differences y, k·N values (torch: old_dirs).
 * @property oldStps - History of steps s, k·N values (torch: old_stps).
 * @property ro - 1 / (yᵀs) per history pair.
 * @property hDiag - Initial inverse-Hessian scale (torch: H_diag).
 * @property prevFlatGrad - Previous flat gradient (torch: prev_flat_grad).
 * @property prevLoss - Previous loss (torch: prev_loss).
 */
export type LBFGSState = {
  funcEvals: number;
  nIter: number;
  d: FloatArray;
  t: number;
  oldDirs: FloatArray;
  oldStps: FloatArray;
  ro: FloatArray;
  hDiag: number;
  prevFlatGrad: FloatArray;
  prevLoss: number;
};

const count = (def: number, min: number): Field<number> => num(def, { min, integer: true });
const maxEval: Field<number | null> = {
  default: null,
  check: (where, name, v) => void (v === null || num(0, { min: 1, integer: true }).check(where, name, v)),
};

const dot = (a: FloatArray, b: FloatArray): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const absMax = (a: FloatArray): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};

/** Minimiser of the cubic through (x1, f1, g1), (x2, f2, g2) inside `bounds` (torch/optim/lbfgs.py `_cubic_interpolate`). */
export function cubicInterpolate(
  x1: number,
  f1: number,
  g1: number,
  x2: number,
  f2: number,
  g2: number,
  bounds?: [number, number],
): number {
  const [lo, hi] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2Square = d1 * d1 - g1 * g2;
  if (d2Square >= 0) {
    const d2 = Math.sqrt(d2Square);
    const minPos =
      x1 <= x2
        ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return Math.min(Math.max(minPos, lo), hi);
  }
  return (lo + hi) / 2;
}

type Eval = (t: number) => [number, FloatArray];
/** The strong-Wolfe line search along d from loss f, gradient g, g·d = gtd (torch's `_strong_wolfe`). */
function strongWolfe(
  obj: Eval,
  t0: number,
  d: FloatArray,
  f: number,
  g: FloatArray,
  gtd: number,
  maxLs: number,
  toleranceChange: number,
): { f: number; g: FloatArray; t: number; evals: number } {
  const c1 = 1e-4,
    c2 = 0.9;
  let t = t0;
  const dNorm = absMax(d);
  let [fNew, gNew] = obj(t);
  let evals = 1;
  let gtdNew = dot(gNew, d);
  let tPrev = 0,
    fPrev = f,
    gPrev = g.slice(),
    gtdPrev = gtd;
  let done = false,
    lsIter = 0;
  let bracket: number[] = [],
    bf: number[] = [],
    bg: FloatArray[] = [],
    bgtd: number[] = [];
  while (lsIter < maxLs) {
    if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev)) {
      [bracket, bf, bg, bgtd] = [
        [tPrev, t],
        [fPrev, fNew],
        [gPrev, gNew.slice()],
        [gtdPrev, gtdNew],
      ];
      break;
    }
    if (Math.abs(gtdNew) <= -c2 * gtd) {
      [bracket, bf, bg] = [[t], [fNew], [gNew]];
      done = true;
      break;
    }
    if (gtdNew >= 0) {
      [bracket, bf, bg, bgtd] = [
        [tPrev, t],
        [fPrev, fNew],
        [gPrev, gNew.slice()],
        [gtdPrev, gtdNew],
      ];
      break;
    }
    const minStep = t + 0.01 * (t - tPrev),
      maxStep = t * 10,
      tmp = t;
    t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [minStep, maxStep]);
    tPrev = tmp;
    fPrev = fNew;
    gPrev = gNew.slice();
    gtdPrev = gtdNew;
    [fNew, gNew] = obj(t);
    evals += 1;
    gtdNew = dot(gNew, d);
    lsIter += 1;
  }
  if (lsIter === maxLs)
    [bracket, bf, bg] = [
      [0, t],
      [f, fNew],
      [g, gNew],
    ];
  let insufProgress = false;
  let [low, high] = bf[0]! <= bf[bf.length - 1]! ? [0, 1] : [1, 0];
  while (!done && lsIter < maxLs) {
    if (Math.abs(bracket[1]! - bracket[0]!) * dNorm < toleranceChange) break;
    t = cubicInterpolate(bracket[0]!, bf[0]!, bgtd[0]!, bracket[1]!, bf[1]!, bgtd[1]!);
    const bMax = Math.max(...bracket),
      bMin = Math.min(...bracket);
    const eps = 0.1 * (bMax - bMin);
    if (Math.min(bMax - t, t - bMin) < eps) {
      if (insufProgress || t >= bMax || t <= bMin) {
        t = Math.abs(t - bMax) < Math.abs(t - bMin) ? bMax - eps : bMin + eps;
        insufProgress = false;
      } else {
        insufProgress = true;
      }
    } else {
      insufProgress = false;
    }
    [fNew, gNew] = obj(t);
    evals += 1;
    gtdNew = dot(gNew, d);
    lsIter += 1;
    if (fNew > f + c1 * t * gtd || fNew >= bf[low]!) {
      [bracket[high], bf[high], bg[high], bgtd[high]] = [t, fNew, gNew.slice(), gtdNew];
      [low, high] = bf[0]! <= bf[1]! ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) done = true;
      else if (gtdNew * (bracket[high]! - bracket[low]!) >= 0) {
        [bracket[high], bf[high], bg[high], bgtd[high]] = [bracket[low]!, bf[low]!, bg[low]!, bgtd[low]!];
      }
      [bracket[low], bf[low], bg[low], bgtd[low]] = [t, fNew, gNew.slice(), gtdNew];
    }
  }
  return { f: bf[low]!, g: bg[low]!, t: bracket[low]!, evals };
}

const lossValue = (l: unknown, where: string): number => {
  if (l instanceof Tensor) return l.item();
  if (typeof l === 'number') return l;
  throw new ValueError(`${where}: the closure must return the loss (a Tensor or a number), got ${show(l)}`);
};

const Base = defineOptimizer<LBFGSOptions, LBFGSState>({
  name: 'LBFGS',
  options: {
    lr: lr(1),
    maxIter: count(20, 1),
    maxEval,
    toleranceGrad: num(1e-7, { min: 0 }),
    toleranceChange: num(1e-9, { min: 0 }),
    historySize: count(100, 1),
    lineSearchFn: choice<LBFGSOptions['lineSearchFn']>(null, [null, 'strongWolfe'], { strong_wolfe: 'strongWolfe' }),
  },
  state: {
    funcEvals: 'count',
    nIter: 'count',
    d: 'array',
    t: 'number',
    oldDirs: 'array',
    oldStps: 'array',
    ro: 'array',
    hDiag: 'number',
    prevFlatGrad: 'array',
    prevLoss: 'number',
  },
  init: (p) => {
    const z = (n: number) => (p instanceof Float64Array ? new Float64Array(n) : new Float32Array(n));
    return {
      funcEvals: 0,
      nIter: 0,
      d: z(0),
      t: 0,
      oldDirs: z(0),
      oldStps: z(0),
      ro: z(0),
      hDiag: 1,
      prevFlatGrad: z(0),
      prevLoss: 0,
    };
  },
  update() {
    throw new ValueError(
      'LBFGS.step: L-BFGS needs a closure that recomputes the loss: opt.step(() => { … return loss; })',
    );
  },
});

/**
 * L-BFGS (Nocedal 1980; Liu & Nocedal 1989), exactly torch.optim.LBFGS (itself after minFunc): the
 * two-loop recursion over the last `historySize` (s, y) pairs gives the direction; the step is lr
 * (the first one scaled by min(1, 1/‖g‖₁)), or found by a strong-Wolfe line search. One parameter
 * group; all parameters one flat vector of one dtype. `step(closure)` requires the closure.
 */
export class LBFGS extends Base {
  constructor(params: Params<LBFGSOptions>, options: Partial<LBFGSOptions> & OptimizerOptions = {}) {
    super(params, options);
    if (this.paramGroups.length !== 1) {
      throw new ValueError(
        `LBFGS: got ${this.paramGroups.length} parameter groups; L-BFGS supports one (no per-parameter options)`,
      );
    }
    const ps = this.paramGroups[0]!.params;
    const bad = ps.findIndex((p) => p.dtype !== ps[0]!.dtype);
    if (bad >= 0) {
      throw new ValueError(
        `LBFGS: parameter ${bad} is ${ps[bad]!.dtype} but parameter 0 is ${ps[0]!.dtype}; L-BFGS needs one dtype`,
      );
    }
    if (this.skipNonFinite) {
      throw new ValueError(
        'LBFGS: option skipNonFinite is not supported (L-BFGS evaluates the closure several times per step)',
      );
    }
  }

  get #params(): Tensor[] {
    return this.paramGroups[0]!.params;
  }
  #numel(): number {
    return this.#params.reduce((n, p) => n + p.size, 0);
  }
  #zeros(n: number): FloatArray {
    return this.#params[0]!.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  }
  #flatGrad(): FloatArray {
    const out = this.#zeros(this.#numel());
    let o = 0;
    for (const p of this.#params) {
      if (p.grad !== null) out.set(p.grad.data as FloatArray, o);
      o += p.size;
    }
    return out;
  }
  #addGrad(t: number, d: FloatArray): void {
    let o = 0;
    for (const p of this.#params) {
      const a = p.data as FloatArray;
      for (let i = 0; i < a.length; i++) a[i] = a[i]! + t * d[o + i]!;
      o += a.length;
    }
  }

  /** Runs up to maxIter iterations, calling `closure` to re-evaluate the loss; returns its first value. */
  override step(): never;
  override step<L>(closure: () => L): L;
  override step<L>(closure?: () => L): L {
    if (typeof closure !== 'function') {
      throw new ValueError(
        `LBFGS.step: L-BFGS needs a closure that recomputes the loss and returns it, got ${show(closure)}`,
      );
    }
    const where = 'LBFGS.step';
    const run = (): [L, number] => {
      const l = enableGrad(closure);
      return [l, lossValue(l, where)];
    };
    const group = this.paramGroups[0]!;
    const { lr, maxIter, toleranceGrad: tolGrad, toleranceChange: tolChange, historySize, lineSearchFn } = group;
    const maxEval = group.maxEval ?? Math.floor((maxIter * 5) / 4);
    const p0 = this.#params[0]!;
    let state = this.state.get(p0);
    if (state === undefined) this.state.set(p0, (state = Base.def.init(p0.data as FloatArray, group, p0.shape)));
    const st = state;
    const N = this.#numel();

    const [origLoss, first] = run();
    let loss = first;
    let currentEvals = 1;
    st.funcEvals += 1;
    let flatGrad = this.#flatGrad();
    let optCond = absMax(flatGrad) <= tolGrad;
    if (optCond) return origLoss;

    let d = st.d,
      t = st.t,
      hDiag = st.hDiag,
      prevLoss = st.prevLoss;
    let prevFlatGrad = st.prevFlatGrad;
    const k0 = st.ro.length;
    let oldDirs: FloatArray[] = [],
      oldStps: FloatArray[] = [],
      ro: number[] = [];
    for (let i = 0; i < k0; i++) {
      oldDirs.push(st.oldDirs.slice(i * N, (i + 1) * N));
      oldStps.push(st.oldStps.slice(i * N, (i + 1) * N));
      ro.push(st.ro[i]!);
    }
    noGrad(() => {
      let nIter = 0;
      while (nIter < maxIter) {
        nIter += 1;
        st.nIter += 1;
        if (st.nIter === 1) {
          d = flatGrad.map((x) => -x);
          oldDirs = [];
          oldStps = [];
          ro = [];
          hDiag = 1;
        } else {
          const y = flatGrad.map((x, i) => x - prevFlatGrad[i]!);
          const s = d.map((x) => x * t);
          const ys = dot(y, s);
          if (ys > 1e-10) {
            if (oldDirs.length === historySize) {
              oldDirs.shift();
              oldStps.shift();
              ro.shift();
            }
            oldDirs.push(y);
            oldStps.push(s);
            ro.push(1 / ys);
            hDiag = ys / dot(y, y);
          }
          const num = oldDirs.length;
          const al: number[] = new Array<number>(num);
          const q = flatGrad.map((x) => -x);
          for (let i = num - 1; i >= 0; i--) {
            al[i] = dot(oldStps[i]!, q) * ro[i]!;
            const a = -al[i]!,
              yi = oldDirs[i]!;
            for (let j = 0; j < N; j++) q[j] = q[j]! + a * yi[j]!;
          }
          const r = q.map((x) => x * hDiag);
          for (let i = 0; i < num; i++) {
            const be = dot(oldDirs[i]!, r) * ro[i]!;
            const a = al[i]! - be,
              si = oldStps[i]!;
            for (let j = 0; j < N; j++) r[j] = r[j]! + a * si[j]!;
          }
          d = r;
        }
        prevFlatGrad = flatGrad.slice();
        prevLoss = loss;

        let abs1 = 0;
        for (let i = 0; i < N; i++) abs1 += Math.abs(flatGrad[i]!);
        t = st.nIter === 1 ? Math.min(1, 1 / abs1) * lr : lr;
        const gtd = dot(flatGrad, d);
        if (gtd > -tolChange) break;

        let lsEvals = 0;
        if (lineSearchFn === 'strongWolfe') {
          const x0 = this.#params.map((p) => (p.data as FloatArray).slice());
          const dir = d;
          const obj: Eval = (step) => {
            this.#addGrad(step, dir);
            const [, f] = run();
            const g = this.#flatGrad();
            this.#params.forEach((p, i) => (p.data as FloatArray).set(x0[i]!));
            return [f, g];
          };
          const res = strongWolfe(obj, t, d, loss, flatGrad, gtd, maxEval - currentEvals, tolChange);
          [loss, flatGrad, t, lsEvals] = [res.f, res.g, res.t, res.evals];
          this.#addGrad(t, d);
          optCond = absMax(flatGrad) <= tolGrad;
        } else {
          this.#addGrad(t, d);
          if (nIter !== maxIter) {
            loss = run()[1];
            flatGrad = this.#flatGrad();
            optCond = absMax(flatGrad) <= tolGrad;
            lsEvals = 1;
          }
        }
        currentEvals += lsEvals;
        st.funcEvals += lsEvals;

        if (nIter === maxIter) break;
        if (currentEvals >= maxEval) break;
        if (optCond) break;
        let stepMax = 0;
        for (let i = 0; i < N; i++) stepMax = Math.max(stepMax, Math.abs(d[i]! * t));
        if (stepMax <= tolChange) break;
        if (Math.abs(loss - prevLoss) < tolChange) break;
      }
    });
    const flat = (list: FloatArray[]) => {
      const out = this.#zeros(list.length * N);
      list.forEach((a, i) => out.set(a, i * N));
      return out;
    };
    const roArr = this.#zeros(ro.length);
    roArr.set(ro);
    Object.assign(st, {
      d,
      t,
      hDiag,
      prevLoss,
      prevFlatGrad,
      oldDirs: flat(oldDirs),
      oldStps: flat(oldStps),
      ro: roArr,
    });
    return origLoss;
  }

  /** As Optimizer.loadStateDict, and the history's lengths are checked against the parameters first. */
  override loadStateDict(sd: OptimizerStateDict): void {
    const where = 'LBFGS.loadStateDict';
    const entry = isObject(sd) && isObject(sd.state) ? sd.state['0'] : undefined;
    if (isObject(entry)) {
      const s = decodeValue(entry, `${where}: state 0`) as Record<string, unknown>;
      const N = this.#numel(),
        len = (k: string) =>
          s[k] instanceof Float64Array || s[k] instanceof Float32Array ? (s[k] as FloatArray).length : -1;
      const k = len('ro');
      const h =
        isObject(sd.paramGroups?.[0]) && typeof sd.paramGroups[0]['historySize'] === 'number'
          ? sd.paramGroups[0]['historySize']
          : 0;
      const want: [string, number][] = [
        ['oldDirs', k * N],
        ['oldStps', k * N],
      ];
      if (s['nIter'] !== 0) want.push(['d', N], ['prevFlatGrad', N]);
      for (const [key, n] of want) {
        if (k >= 0 && len(key) >= 0 && len(key) !== n) {
          throw new ValueError(
            `${where}: state 0.${key} holds ${len(key)} values, expected ${n} (${k} history pairs over ${N} parameters)`,
          );
        }
      }
      if (k > h && h > 0) {
        throw new ValueError(`${where}: state 0.ro has ${k} history pairs, more than historySize ${h}`);
      }
    }
    super.loadStateDict(sd);
  }
}
