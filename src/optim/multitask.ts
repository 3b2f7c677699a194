/**
 * Multi-task gradients: one backward per loss over the shared parameters, combined by weights,
 * PCGrad (Yu et al. 2020), MGDA (Sener & Koltun 2018), CAGrad (Liu et al. 2021), IMTL-G (Liu et al.
 * 2021) or Aligned-MTL (Senushkin et al. 2023), written into `.grad` so any optimizer's step()
 * applies the combination. The loss-weighting methods with state (GradNorm, uncertainty weighting,
 * DWA) are classes in multitask-weighting.ts built on this.
 */
import { ValueError } from '../errors.js';
import { defaultGenerator, permutation, type Generator } from '../random.js';
import { Tensor, tensor } from '../tensor.js';
import { checkKeys, checkNumber, show } from './validate.js';

/** The gradient-combination methods of multiTaskBackward. */
export type MultiTaskMethod = 'weighted' | 'pcgrad' | 'mgda' | 'cagrad' | 'imtl-g' | 'aligned-mtl';
const METHODS: readonly MultiTaskMethod[] = ['weighted', 'pcgrad', 'mgda', 'cagrad', 'imtl-g', 'aligned-mtl'];

/** Options of `multiTaskBackward`. */
export interface MultiTaskOptions {
  /**
   * 'weighted' (default): Σ wₖ·gₖ. 'pcgrad': project each wₖ·gₖ off the others it conflicts with,
   * then sum. 'mgda': the min-norm point of the gradients' convex hull (Frank–Wolfe). 'cagrad': the
   * average gradient moved within a ball to raise the worst task's improvement. 'imtl-g': the
   * combination with equal projections on every task's unit gradient. 'aligned-mtl': the
   * gradients' matrix made orthogonal with equal norms (its condition number 1), then summed.
   * The methods other than 'weighted' see the gradients wₖ·gₖ.
   */
  method?: MultiTaskMethod;
  /** One weight per loss (default all 1). */
  weights?: readonly number[];
  /** PCGrad: visit the other tasks in a random order, as in the paper (default true). */
  shuffle?: boolean;
  /** Where PCGrad's random order comes from (default: the global generator of `manualSeed`). */
  generator?: Generator;
  /** MGDA's gradient normalisation (LibMTL's mgda_gn): 'none' (default), 'l2', 'loss', 'loss+'. */
  mgdaNormalization?: 'none' | 'l2' | 'loss' | 'loss+';
  /** MGDA's Frank–Wolfe iterations and stopping threshold on Σ|Δα| (default 250 and 1e-5, as the paper's code). */
  mgdaMaxIter?: number;
  /** MGDA's Frank–Wolfe stopping tolerance (default 1e-5). */
  mgdaTol?: number;
  /** CAGrad's c ∈ [0, 1): the radius of the ball around the average gradient, relative to its norm (default 0.5). */
  cagradC?: number;
  /** CAGrad's rescaling of the result: 0 none, 1 divide by 1 + c² (default), 2 divide by 1 + c. */
  cagradRescale?: 0 | 1 | 2;
}
const KNOWN_OPTIONS = [
  'method',
  'weights',
  'shuffle',
  'generator',
  'mgdaNormalization',
  'mgdaMaxIter',
  'mgdaTol',
  'cagradC',
  'cagradRescale',
];

/** What `multiTaskBackward` measured and did. */
export interface MultiTaskReport {
  /** ‖wₖ·gₖ‖ for each task, before any projection. */
  taskGradNorms: number[];
  /** Cosine similarity between every pair of (weighted) task gradients; NaN where one is zero. */
  cosine: number[][];
  /** Number of task pairs whose gradients conflict (negative dot product). */
  conflicts: number;
  /**
   * The combination as weights on the (weighted) task gradients: the result is Σ αₖ·wₖgₖ
   * (weighted: all 1; mgda/imtl-g/aligned-mtl: their α; cagrad: 1/K + λ·ωₖ before rescaling,
   * divided by the rescale factor). Absent for PCGrad, whose result is not such a combination.
   */
  taskWeights?: number[];
  /** ‖result‖: the norm of what was written into `.grad`. */
  combinedNorm: number;
}

const dot = (a: Float64Array, b: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/**
 * Computes each loss's gradient with respect to `params` (retaining the graph between backward
 * passes), combines them, and adds the result to each parameter's `.grad` like backward() would
 * (call `optimizer.zeroGrad()` first). Returns what it saw about the tasks' gradients.
 */
export function multiTaskBackward(
  losses: readonly Tensor[],
  params: Iterable<Tensor>,
  options: MultiTaskOptions = {},
): MultiTaskReport {
  const op = 'multiTaskBackward';
  if (!Array.isArray(losses) || losses.length === 0)
    throw new ValueError(`${op}: losses must be a non-empty array of scalar Tensors, got ${show(losses)}`);
  losses.forEach((l, k) => {
    if (!(l instanceof Tensor) || l.size !== 1)
      throw new ValueError(
        `${op}: loss ${k} must be a scalar Tensor, got ${l instanceof Tensor ? `shape [${l.shape.join(',')}]` : typeof l}`,
      );
  });
  const ps = [...params];
  if (ps.length === 0) throw new ValueError(`${op}: params is empty`);
  ps.forEach((p, i) => {
    if (!(p instanceof Tensor) || !p.requiresGrad)
      throw new ValueError(`${op}: parameter ${i} must be a Tensor that requires grad`);
  });
  checkKeys(op, options, KNOWN_OPTIONS);
  const method = options.method ?? 'weighted';
  if (!METHODS.includes(method)) {
    throw new ValueError(
      `${op}: option method must be one of ${METHODS.map((m) => `'${m}'`).join(', ')}, got ` + `${show(method)}`,
    );
  }
  const n = losses.length;
  const weights = options.weights ?? losses.map(() => 1);
  if (!Array.isArray(weights) || weights.length !== n)
    throw new ValueError(`${op}: option weights must hold one number per loss (${n}), got ${show(weights)}`);
  weights.forEach((w, k) => checkNumber(op, `weights[${k}]`, w));

  const offsets: number[] = [];
  let total = 0;
  for (const p of ps) offsets.push(total), (total += p.size);

  // One backward per loss; .grad is borrowed and restored.
  const saved = ps.map((p) => p.grad);
  const grads: Float64Array[] = [];
  try {
    losses.forEach((loss, k) => {
      const g = new Float64Array(total);
      for (const p of ps) p.grad = null;
      if (loss.requiresGrad) {
        loss.backward(undefined, { retainGraph: k < n - 1 });
        ps.forEach((p, i) => {
          const d = p.grad?.data;
          if (d) for (let j = 0; j < d.length; j++) g[offsets[i]! + j] = weights[k]! * d[j]!;
        });
      }
      grads.push(g);
    });
  } finally {
    ps.forEach((p, i) => (p.grad = saved[i]!));
  }

  const norms = grads.map((g) => Math.sqrt(dot(g, g)));
  const cosine = grads.map((gi, i) => grads.map((gj, j) => dot(gi, gj) / (norms[i]! * norms[j]!)));
  let conflicts = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (dot(grads[i]!, grads[j]!) < 0) conflicts++;

  const combined = new Float64Array(total);
  let taskWeights: number[] | undefined;
  if (method === 'pcgrad') {
    for (let i = 0; i < n; i++) {
      const gi = Float64Array.from(grads[i]!);
      const order =
        options.shuffle === false
          ? Array.from({ length: n }, (_, k) => k)
          : permutation(n, options.generator ?? defaultGenerator);
      for (const j of order) {
        if (j === i) continue;
        const gj = grads[j]!,
          d = dot(gi, gj),
          nn = norms[j]! ** 2;
        if (d < 0 && nn > 0) for (let k = 0; k < total; k++) gi[k] = gi[k]! - (d / nn) * gj[k]!;
      }
      for (let k = 0; k < total; k++) combined[k] = combined[k]! + gi[k]!;
    }
  } else {
    let vs = grads,
      scale: number[] = grads.map(() => 1);
    if (method === 'mgda') {
      scale = mgdaNormalizers(
        options.mgdaNormalization ?? 'none',
        norms,
        losses.map((l) => l.item()),
        op,
      );
      vs = grads.map((g, k) => g.map((v) => v / scale[k]!));
    }
    const gram = vs.map((a) => vs.map((b) => dot(a, b)));
    const alpha = combinationWeights(method, gram, options, op);
    taskWeights = alpha;
    for (let i = 0; i < n; i++) {
      const g = vs[i]!,
        a = alpha[i]!;
      for (let k = 0; k < total; k++) combined[k] = combined[k]! + a * g[k]!;
    }
    if (method === 'mgda') taskWeights = alpha.map((a, k) => a / scale[k]!); // on the un-normalised gradients
  }
  ps.forEach((p, i) => {
    const slice = combined.subarray(offsets[i]!, offsets[i]! + p.size);
    const g = tensor(p.dtype === 'float64' ? Float64Array.from(slice) : Float32Array.from(slice), {
      shape: [...p.shape],
    });
    p.grad = p.grad === null ? g : p.grad.add(g);
  });
  const combinedNorm = Math.sqrt(dot(combined, combined));
  return taskWeights === undefined
    ? { taskGradNorms: norms, cosine, conflicts, combinedNorm }
    : { taskGradNorms: norms, cosine, conflicts, taskWeights, combinedNorm };
}

// ---- the combination rules: each maps the Gram matrix Gᵢⱼ = gᵢ·gⱼ to weights α (result Σ αₖ gₖ) ----

function combinationWeights(method: MultiTaskMethod, gram: number[][], o: MultiTaskOptions, op: string): number[] {
  const n = gram.length;
  switch (method) {
    case 'weighted':
      return gram.map(() => 1);
    case 'mgda':
      return mgdaWeights(
        gram,
        checkNumber(op, 'mgdaMaxIter', o.mgdaMaxIter ?? 250, { min: 0, integer: true }),
        checkNumber(op, 'mgdaTol', o.mgdaTol ?? 1e-5, { min: 0 }),
      );
    case 'cagrad': {
      const c = checkNumber(op, 'cagradC', o.cagradC ?? 0.5, { min: 0, below: 1 });
      const rescale = o.cagradRescale ?? 1;
      if (rescale !== 0 && rescale !== 1 && rescale !== 2) {
        throw new ValueError(`${op}: option cagradRescale must be 0, 1 or 2, got ${show(rescale)}`);
      }
      return cagradWeights(gram, c, rescale);
    }
    case 'imtl-g':
      return n === 1 ? [1] : imtlgWeights(gram, op);
    case 'aligned-mtl':
      return alignedMtlWeights(gram);
    default:
      throw new ValueError(`${op}: no combination weights for method ${show(method)}`);
  }
}

/** LibMTL's _gradient_normalizers: 'l2' ‖g‖, 'loss' L, 'loss+' L·‖g‖, 'none' 1. */
function mgdaNormalizers(kind: string, norms: number[], lossValues: number[], op: string): number[] {
  if (kind === 'none') return norms.map(() => 1);
  if (kind === 'l2') return norms;
  if (kind === 'loss') return lossValues;
  if (kind === 'loss+') return lossValues.map((l, k) => l * norms[k]!);
  throw new ValueError(`${op}: option mgdaNormalization must be 'none', 'l2', 'loss' or 'loss+', got ${show(kind)}`);
}

/**
 * min over γ ∈ [0, 1] of ‖γv₁ + (1 − γ)v₂‖² from the three dot products (the paper's Algorithm 1,
 * with its exact γ = 1 and γ = 0 at the ends; the paper's code and LibMTL clamp those to 0.999 and
 * 0.001, which makes Frank–Wolfe drift 0.1% per iteration towards a vertex that does not lower the norm).
 */
function minNorm2(v1v1: number, v1v2: number, v2v2: number): [gamma: number, cost: number] {
  if (v1v2 >= v1v1) return [1, v1v1];
  if (v1v2 >= v2v2) return [0, v2v2];
  const gamma = -1.0 * ((v1v2 - v2v2) / (v1v1 + v2v2 - 2 * v1v2));
  return [gamma, v2v2 + gamma * (v1v2 - v2v2)];
}

/**
 * MGDA-UB's min-norm element (Sener & Koltun 2018, Algorithm 2): start from the best pair, then
 * Frank–Wolfe: move towards the vertex eₜ with t = argminᵣ (Gα)ᵣ by the exact line search of
 * minNorm2, until Σ|Δα| < tol (as find_min_norm_element_FW in isl-org/MultiObjectiveOptimization).
 */
function mgdaWeights(G: number[][], maxIter: number, tol: number): number[] {
  const n = G.length;
  if (n === 1) return [1];
  let best = Infinity,
    pair: [number, number, number] = [0, 1, 0.5];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const [c, d] = minNorm2(G[i]![i]!, G[i]![j]!, G[j]![j]!);
      if (d < best) (best = d), (pair = [i, j, c]);
    }
  }
  let sol = new Array<number>(n).fill(0);
  sol[pair[0]] = pair[2];
  sol[pair[1]] = 1 - pair[2];
  if (n < 3) return sol;
  for (let it = 0; it < maxIter; it++) {
    const Ga = G.map((row) => row.reduce((s, g, j) => s + g * sol[j]!, 0));
    let t = 0;
    for (let r = 1; r < n; r++) if (Ga[r]! < Ga[t]!) t = r;
    const v1v1 = sol.reduce((s, a, i) => s + a * Ga[i]!, 0),
      v1v2 = Ga[t]!,
      v2v2 = G[t]![t]!;
    const [nc] = minNorm2(v1v1, v1v2, v2v2);
    const next = sol.map((a, i) => nc * a + (i === t ? 1 - nc : 0));
    const change = next.reduce((s, a, i) => s + Math.abs(a - sol[i]!), 0);
    sol = next;
    if (change < tol) break;
  }
  return sol;
}

/**
 * CAGrad (Liu et al. 2021): d = g₀ + (c‖g₀‖/‖g_ω‖)·g_ω with g₀ the average gradient and
 * g_ω = Σ ωᵢgᵢ, ω = argmin over the simplex of F(ω) = g_ωᵀg₀ + c‖g₀‖·‖g_ω‖ (the dual of
 * maxₔ minᵢ gᵢᵀd s.t. ‖d − g₀‖ ≤ c‖g₀‖). LibMTL solves F with SLSQP; here projected gradient descent
 * with backtracking (F is convex). The 1e-8 terms are LibMTL's.
 */
function cagradWeights(G: number[][], c: number, rescale: 0 | 1 | 2): number[] {
  const n = G.length;
  const mean = G.flat().reduce((s, v) => s + v, 0) / (n * n);
  const g0norm = Math.sqrt(mean + 1e-8);
  const cc = c * g0norm + 1e-8;
  const b = new Array<number>(n).fill(1 / n);
  const Gb = G.map((row) => row.reduce((s, g, j) => s + g * b[j]!, 0));
  const F = (w: number[]) => {
    const Gw = G.map((row) => row.reduce((s, g, j) => s + g * w[j]!, 0));
    return w.reduce((s, a, i) => s + a * Gb[i]!, 0) + cc * Math.sqrt(w.reduce((s, a, i) => s + a * Gw[i]!, 0) + 1e-8);
  };
  const gradF = (w: number[]) => {
    const Gw = G.map((row) => row.reduce((s, g, j) => s + g * w[j]!, 0));
    const q = Math.sqrt(w.reduce((s, a, i) => s + a * Gw[i]!, 0) + 1e-8);
    return Gb.map((v, i) => v + (cc * Gw[i]!) / q);
  };
  let w = [...b],
    fw = F(w);
  const scale = Math.max(1e-300, Math.max(...G.map((row, i) => Math.abs(row[i]!))));
  let step = 1 / scale;
  for (let it = 0; it < 2000; it++) {
    const gr = gradF(w);
    let moved = false;
    for (let tries = 0; tries < 60; tries++) {
      const cand = projectSimplex(w.map((a, i) => a - step * gr[i]!));
      const fc = F(cand);
      if (fc <= fw - 1e-4 * gr.reduce((s, g, i) => s + g * (w[i]! - cand[i]!), 0)) {
        const delta = cand.reduce((s, a, i) => s + Math.abs(a - w[i]!), 0);
        w = cand;
        fw = fc;
        moved = delta > 1e-15;
        step *= 2;
        break;
      }
      step /= 2;
    }
    if (!moved) break;
  }
  const Gw = G.map((row) => row.reduce((s, g, j) => s + g * w[j]!, 0));
  const gwNorm = Math.sqrt(
    Math.max(
      0,
      w.reduce((s, a, i) => s + a * Gw[i]!, 0),
    ),
  );
  const lambda = cc / (gwNorm + 1e-8);
  const div = rescale === 0 ? 1 : rescale === 1 ? 1 + c ** 2 : 1 + c;
  return w.map((a) => (1 / n + lambda * a) / div);
}

/** Euclidean projection onto the probability simplex (sort-based). */
function projectSimplex(y: number[]): number[] {
  const u = [...y].sort((a, b) => b - a);
  let css = 0,
    theta = 0;
  for (let i = 0; i < u.length; i++) {
    css += u[i]!;
    const t = (css - 1) / (i + 1);
    if (u[i]! - t > 0) theta = t;
  }
  return y.map((v) => Math.max(v - theta, 0));
}

/**
 * IMTL-G (Liu et al. 2021, "Towards Impartial Multi-task Learning"): with uₖ = gₖ/‖gₖ‖,
 * D = [g₁ − gₖ]ₖ₌₂..K, U = [u₁ − uₖ]ₖ₌₂..K, α₂..K = g₁Uᵀ(DUᵀ)⁻¹ and α₁ = 1 − Σ α₂..K, so that
 * g = Σ αₖgₖ has equal projections g·uₖ on every task (as LibMTL's IMTL, without its loss scaling).
 */
function imtlgWeights(G: number[][], op: string): number[] {
  const n = G.length;
  const nr = G.map((row, i) => Math.sqrt(row[i]!));
  if (nr.some((v) => v === 0)) throw new ValueError(`${op}: imtl-g needs every task gradient to be non-zero`);
  // (D Uᵀ)ᵢⱼ = (g₁ − gᵢ)·(g₁/‖g₁‖ − gⱼ/‖gⱼ‖), (g₁Uᵀ)ⱼ = g₁·(g₁/‖g₁‖ − gⱼ/‖gⱼ‖), i, j = 2..K
  const gu = (a: number, j: number) => G[a]![0]! / nr[0]! - G[a]![j]! / nr[j]!;
  const m = n - 1;
  const DU = Array.from({ length: m }, (_, i) => Array.from({ length: m }, (_, j) => gu(0, j + 1) - gu(i + 1, j + 1)));
  const rhs = Array.from({ length: m }, (_, j) => gu(0, j + 1));
  // x·DU = rhs  ⇔  DUᵀ xᵀ = rhsᵀ
  const x = solve(
    DU[0]!.map((_, j) => DU.map((row) => row[j]!)),
    rhs,
    op,
  );
  return [1 - x.reduce((s, v) => s + v, 0), ...x];
}

/** Gaussian elimination with partial pivoting: A x = b. */
function solve(A: number[][], b: number[], op: string): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    if (Math.abs(M[p]![c]!) < 1e-300) {
      throw new ValueError(`${op}: imtl-g: the task gradients are linearly dependent (singular system)`);
    }
    [M[c], M[p]] = [M[p]!, M[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = M[r]![c]! / M[c]![c]!;
      for (let k = c; k <= n; k++) M[r]![k] = M[r]![k]! - f * M[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= M[r]![k]! * x[k]!;
    x[r] = s / M[r]![r]!;
  }
  return x;
}

/** Eigen-decomposition of a symmetric matrix (cyclic Jacobi): eigenvalues and eigenvectors as columns. */
function symEig(A: number[][]): { values: number[]; vectors: number[][] } {
  const n = A.length;
  const a = A.map((r) => [...r]);
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += a[i]![j]! ** 2;
    if (
      off <
      1e-30 *
        Math.max(
          1e-300,
          a.reduce((s, r, i) => s + r[i]! ** 2, 0),
        )
    )
      break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (a[p]![q] === 0) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * a[p]![q]!);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k]![p]!,
            akq = a[k]![q]!;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p]![k]!,
            aqk = a[q]![k]!;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!,
            vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: a.map((r, i) => r[i]!), vectors: v };
}

/**
 * Aligned-MTL (Senushkin et al. 2023): with GGᵀ = VΛVᵀ (eigenvalues above the rank tolerance kept),
 * B = √λ_min · V Λ^(−½) Vᵀ and α = B·1: the aligned task gradients BG are orthogonal with equal
 * norms √λ_min (condition number 1). The rank tolerance λ_max·K·ε uses float32's ε, as LibMTL's
 * torch.finfo().
 */
function alignedMtlWeights(G: number[][]): number[] {
  const n = G.length;
  const { values, vectors } = symEig(G);
  const lmax = Math.max(...values);
  if (!(lmax > 0)) return G.map(() => 0);
  const tol = lmax * n * 1.1920928955078125e-7;
  const keep = values
    .map((l, i) => [l, i] as const)
    .filter(([l]) => l > tol)
    .sort((x, y) => y[0] - x[0]);
  const lmin = keep[keep.length - 1]![0];
  const B = Array.from({ length: n }, (_, i) =>
    Array.from(
      { length: n },
      (_, j) => Math.sqrt(lmin) * keep.reduce((s, [l, k]) => s + (vectors[i]![k]! * vectors[j]![k]!) / Math.sqrt(l), 0),
    ),
  );
  return Array.from({ length: n }, (_, j) => B.reduce((s, row) => s + row[j]!, 0));
}
