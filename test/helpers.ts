import { logSoftmaxComposite } from '../src/ops/fused-oracles.js';
import { Generator, Tensor } from '../src/index.js';

/** Deterministic float64 test data: values from a seeded generator, optionally kept away from 0 or positive. */
export function rnd(
  shape: readonly number[],
  seed: number,
  kind: 'any' | 'pos' | 'away0' = 'any',
  dtype: 'float64' | 'float32' = 'float64',
): Tensor {
  const g = new Generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const vals = Array.from({ length: n }, () => {
    const u = g.uniform();
    if (kind === 'pos') return 0.5 + 1.5 * u;
    if (kind === 'away0') return (u < 0.5 ? -1 : 1) * (0.5 + u);
    return 4 * u - 2;
  });
  const data = dtype === 'float64' ? Float64Array.from(vals) : Float32Array.from(vals);
  return new Tensor(data, shape).requiresGrad_();
}

/** crossEntropy from composites (the oracle of the fused softmax + NLL primitive): mean over rows of class indices. */
export function crossEntropyComposite(
  logits: Tensor,
  targets: readonly number[],
  opts: { labelSmoothing?: number } = {},
): Tensor {
  const n = logits.shape[0]!,
    eps = opts.labelSmoothing ?? 0;
  const logp = logSoftmaxComposite(logits, 1);
  let l = logp
    .gather(1, new Tensor(Int32Array.from(targets), [n, 1]))
    .squeeze(1)
    .neg();
  if (eps > 0) l = l.mul(1 - eps).add(logp.mean(1).neg().mul(eps));
  return l.mean();
}
