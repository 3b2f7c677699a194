/**
 * Multi-task gradients: one backward per loss over the shared parameters, combined by weights
 * or by PCGrad ("Gradient Surgery for Multi-Task Learning", Yu et al. 2020), written into `.grad`
 * so any optimizer's step() applies the combination.
 */
import { ValueError } from '../errors.js';
import { defaultGenerator, permutation, type Generator } from '../random.js';
import { Tensor, tensor } from '../tensor.js';
import { checkNumber, show } from './validate.js';

export interface MultiTaskOptions {
  /** 'weighted' (default): Σ wₖ·gₖ. 'pcgrad': project each wₖ·gₖ off the others it conflicts with, then sum. */
  method?: 'weighted' | 'pcgrad';
  /** One weight per loss (default all 1). */
  weights?: readonly number[];
  /** PCGrad: visit the other tasks in a random order, as in the paper (default true). */
  shuffle?: boolean;
  /** Where PCGrad's random order comes from (default: the global generator of `manualSeed`). */
  generator?: Generator;
}

export interface MultiTaskReport {
  /** ‖wₖ·gₖ‖ for each task, before any projection. */
  taskGradNorms: number[];
  /** Cosine similarity between every pair of (weighted) task gradients; NaN where one is zero. */
  cosine: number[][];
  /** Number of task pairs whose gradients conflict (negative dot product). */
  conflicts: number;
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
export function multiTaskBackward(losses: readonly Tensor[], params: Iterable<Tensor>, options: MultiTaskOptions = {}): MultiTaskReport {
  const op = 'multiTaskBackward';
  if (!Array.isArray(losses) || losses.length === 0) throw new ValueError(`${op}: losses must be a non-empty array of scalar Tensors, got ${show(losses)}`);
  losses.forEach((l, k) => {
    if (!(l instanceof Tensor) || l.size !== 1) throw new ValueError(`${op}: loss ${k} must be a scalar Tensor, got ${l instanceof Tensor ? `shape [${l.shape.join(',')}]` : typeof l}`);
  });
  const ps = [...params];
  if (ps.length === 0) throw new ValueError(`${op}: params is empty`);
  ps.forEach((p, i) => {
    if (!(p instanceof Tensor) || !p.requiresGrad) throw new ValueError(`${op}: parameter ${i} must be a Tensor that requires grad`);
  });
  const method = options.method ?? 'weighted';
  if (method !== 'weighted' && method !== 'pcgrad') throw new ValueError(`${op}: option method must be 'weighted' or 'pcgrad', got ${show(method)}`);
  const n = losses.length;
  const weights = options.weights ?? losses.map(() => 1);
  if (!Array.isArray(weights) || weights.length !== n) throw new ValueError(`${op}: option weights must hold one number per loss (${n}), got ${show(weights)}`);
  weights.forEach((w, k) => checkNumber(op, `weights[${k}]`, w));

  const offsets: number[] = [];
  let total = 0;
  for (const p of ps) (offsets.push(total), (total += p.size));

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
  for (let i = 0; i < n; i++) {
    const gi = Float64Array.from(grads[i]!);
    if (method === 'pcgrad') {
      const order = options.shuffle === false ? Array.from({ length: n }, (_, k) => k) : permutation(n, options.generator ?? defaultGenerator);
      for (const j of order) {
        if (j === i) continue;
        const gj = grads[j]!, d = dot(gi, gj), nn = norms[j]! ** 2;
        if (d < 0 && nn > 0) for (let k = 0; k < total; k++) gi[k] = gi[k]! - (d / nn) * gj[k]!;
      }
    }
    for (let k = 0; k < total; k++) combined[k] = combined[k]! + gi[k]!;
  }

  ps.forEach((p, i) => {
    const slice = combined.subarray(offsets[i]!, offsets[i]! + p.size);
    const g = tensor(p.dtype === 'float64' ? Float64Array.from(slice) : Float32Array.from(slice), { shape: [...p.shape] });
    p.grad = p.grad === null ? g : p.grad.add(g);
  });
  return { taskGradNorms: norms, cosine, conflicts };
}
