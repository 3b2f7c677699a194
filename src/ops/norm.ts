/**
 * Normalisations with PyTorch's arguments and defaults: layerNorm, rmsNorm and groupNorm run the fused
 * layerNorm primitive (norm-fused.ts; their composites are the oracles in fused-oracles.ts); batchNorm,
 * which normalises over every axis but the channels, stays a composite of primitives.
 */
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import { fmt } from '../shape.js';
import { noGrad } from '../tape.js';
import { Tensor } from '../tensor.js';
import { normalize } from './norm-fused.js';
import { checkKeys } from './options.js';

/** Options of `batchNorm` (torch.nn.functional.batch_norm). */
export interface BatchNormOptions {
  /** Per-channel scale [C] (default none). */
  weight?: Tensor | null;
  /** Per-channel shift [C] (default none). */
  bias?: Tensor | null;
  /** Use the batch's statistics and update the running ones (default false, as torch.nn.functional.batch_norm). */
  training?: boolean;
  /** Running-statistics update factor: running = (1 − momentum)·running + momentum·batch (default 0.1). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}
function checkFloat(x: Tensor, op: string): void {
  if (!(x instanceof Tensor)) throw new ValueError(`${op}: expected a Tensor input, got ${typeof x}`);
  if (x.dtype === 'int32') throw new DTypeError(`${op}: expected a float tensor, got int32`);
}
function checkParam(t: Tensor | null | undefined, shape: readonly number[], what: string, op: string): Tensor | null {
  if (t === null || t === undefined) return null;
  if (!(t instanceof Tensor) || t.ndim !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(
      `${op}: ${what} must have shape ${fmt(shape)}, got` + ` ${t instanceof Tensor ? fmt(t.shape) : typeof t}`,
    );
  }
  return t;
}
const checkEps = (eps: number, op: string): number => {
  if (!(eps >= 0)) throw new ValueError(`${op}: eps must be ≥ 0, got ${eps}`);
  return eps;
};

/**
 * Batch normalisation over x [N, C, …]: per channel, (x − mean) / √(var + eps) · weight + bias.
 * Training uses the batch mean and biased variance, and updates `runningMean` / `runningVar`
 * in place (no gradient) with the unbiased variance, as PyTorch; otherwise uses the running ones.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  opts: BatchNormOptions = {},
): Tensor {
  const op = 'batchNorm';
  checkKeys(opts, ['weight', 'bias', 'training', 'momentum', 'eps'], op);
  checkFloat(x, op);
  if (x.ndim < 2) throw new ShapeError(`${op}: expected input of shape [N, C, …], got ${fmt(x.shape)}`);
  const c = x.shape[1]!;
  const rm = checkParam(runningMean, [c], 'runningMean', op),
    rv = checkParam(runningVar, [c], 'runningVar', op);
  if ((rm === null) !== (rv === null)) throw new ValueError(`${op}: give both runningMean and runningVar, or neither`);
  const w = checkParam(opts.weight, [c], 'weight', op),
    b = checkParam(opts.bias, [c], 'bias', op);
  const training = opts.training ?? false,
    momentum = opts.momentum ?? 0.1,
    eps = checkEps(opts.eps ?? 1e-5, op);
  if (!(momentum >= 0 && momentum <= 1)) throw new ValueError(`${op}: momentum must be in [0, 1], got ${momentum}`);
  const view = [1, c, ...x.shape.slice(2).map(() => 1)];
  const count = c === 0 ? 0 : x.size / c;
  let y: Tensor;
  if (training || rm === null) {
    if (count <= 1 && training)
      throw new ValueError(
        `${op}: expected more than 1 value per channel when` + ` training, got input ${fmt(x.shape)}`,
      );
    // Channels first, [C, N·∏spatial], then the fused row normalisation (norm-fused.ts) and back.
    const perm = [1, 0, ...x.shape.slice(2).map((_, i) => i + 2)];
    const xc = x.permute(perm).reshape([c, count]);
    y = normalize(xc, 1, eps, false, null, null)
      .reshape(perm.map((p) => x.shape[p]!))
      .permute(perm);
    if (training && rm !== null && rv !== null) {
      noGrad(() => {
        const d = xc.data,
          rmd = rm.data,
          rvd = rv.data,
          unbias = count / (count - 1);
        for (let i = 0; i < c; i++) {
          let m = 0,
            q = 0;
          for (let j = i * count; j < (i + 1) * count; j++) m += d[j]!;
          m /= count;
          for (let j = i * count; j < (i + 1) * count; j++) q += (d[j]! - m) ** 2;
          rmd[i] = (1 - momentum) * rmd[i]! + momentum * m;
          rvd[i] = (1 - momentum) * rvd[i]! + momentum * (q / count) * unbias;
        }
      });
    }
  } else {
    y = x.sub(rm.reshape(view)).div(rv!.reshape(view).add(eps).sqrt());
  }
  if (w) y = y.mul(w.reshape(view));
  if (b) y = y.add(b.reshape(view));
  return y;
}

/** Options of `layerNorm` (torch.nn.functional.layer_norm). */
export interface LayerNormFnOptions {
  /** Elementwise scale of shape normalizedShape (default none). */
  weight?: Tensor | null;
  /** Elementwise shift of shape normalizedShape (default none). */
  bias?: Tensor | null;
  /** Default 1e-5. */
  eps?: number;
}
function lastAxes(x: Tensor, shape: readonly number[], op: string): number[] {
  const k = shape.length;
  if (k === 0 || x.ndim < k || x.shape.slice(x.ndim - k).some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${op}: expected input of shape […, ${shape.join(', ')}], got ${fmt(x.shape)}`);
  }
  return Array.from({ length: k }, (_, i) => x.ndim - k + i);
}
/** Layer normalisation over the trailing `normalizedShape` dims (biased variance), as F.layer_norm. */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  opts: LayerNormFnOptions = {},
): Tensor {
  const op = 'layerNorm';
  checkKeys(opts, ['weight', 'bias', 'eps'], op);
  checkFloat(x, op);
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  const axes = lastAxes(x, shape, op);
  const w = checkParam(opts.weight, shape, 'weight', op),
    b = checkParam(opts.bias, shape, 'bias', op);
  return normalize(x, axes.length, checkEps(opts.eps ?? 1e-5, op), false, w, b);
}

/** Group normalisation: channels of x [N, C, …] in `numGroups` groups, each normalised over channels and positions. */
export function groupNorm(x: Tensor, numGroups: number, opts: LayerNormFnOptions = {}): Tensor {
  const op = 'groupNorm';
  checkKeys(opts, ['weight', 'bias', 'eps'], op);
  checkFloat(x, op);
  if (x.ndim < 2) throw new ShapeError(`${op}: expected input of shape [N, C, …], got ${fmt(x.shape)}`);
  const [n, c] = x.shape as [number, number];
  if (!Number.isInteger(numGroups) || numGroups < 1 || c % numGroups !== 0) {
    throw new ValueError(`${op}: ${c} channels are not divisible into numGroups=${numGroups}`);
  }
  const w = checkParam(opts.weight, [c], 'weight', op),
    b = checkParam(opts.bias, [c], 'bias', op);
  let y = normalize(x.reshape([n, numGroups, -1]), 1, checkEps(opts.eps ?? 1e-5, op), false, null, null).reshape(
    x.shape,
  );
  const view = [1, c, ...x.shape.slice(2).map(() => 1)];
  if (w) y = y.mul(w.reshape(view));
  if (b) y = y.add(b.reshape(view));
  return y;
}

/** Options of `rmsNorm` (torch.nn.functional.rms_norm). */
export interface RMSNormFnOptions {
  /** Elementwise scale of shape normalizedShape (default none). */
  weight?: Tensor | null;
  /** Added to the mean square (default: the dtype's machine epsilon, as torch). */
  eps?: number | null;
}
/** RMS normalisation over the trailing `normalizedShape` dims: x / √(mean(x²) + eps) · weight, as F.rms_norm. */
export function rmsNorm(x: Tensor, normalizedShape: number | readonly number[], opts: RMSNormFnOptions = {}): Tensor {
  const op = 'rmsNorm';
  checkKeys(opts, ['weight', 'eps'], op);
  checkFloat(x, op);
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  const axes = lastAxes(x, shape, op);
  const w = checkParam(opts.weight, shape, 'weight', op);
  const eps = checkEps(opts.eps ?? (x.dtype === 'float64' ? 2.220446049250313e-16 : 1.1920928955078125e-7), op);
  return normalize(x, axes.length, eps, true, w, null);
}
