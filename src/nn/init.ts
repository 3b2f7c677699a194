/**
 * Parameter initialisers, as torch.nn.init: each fills a tensor in place (no tape) from the
 * seeded RNG and returns it. Pass `generator` for a private stream; otherwise the global one
 * (reset by `manualSeed`) is used, so the same seed gives the same model.
 */
import { bumpVersion } from '../tape.js';
import { checkOptions } from '../validate.js';
import { ShapeError, ValueError } from '../errors.js';
import { fmt } from '../shape.js';
import { defaultGenerator, type Generator } from '../random.js';
import type { Tensor } from '../tensor.js';

/** Options every random initializer takes. */
export interface InitOptions {
  /** Stream to draw from (default: the global one, reset by `manualSeed`). */
  generator?: Generator;
}
/** The activations `calculateGain` knows (torch.nn.init.calculate_gain). */
export type Nonlinearity = 'linear' | 'conv' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'selu';
/** Which fan Kaiming initialisation scales by. */
export type FanMode = 'fanIn' | 'fanOut';
/** Options of `kaimingUniform` and `kaimingNormal` (torch.nn.init.kaiming_uniform_). */
export interface KaimingOptions extends InitOptions {
  /** Negative slope of the leaky ReLU that follows (default 0); √5 gives PyTorch's Linear default. */
  a?: number;
  /** 'fanIn' (default) preserves the forward variance, 'fanOut' the backward one. */
  mode?: FanMode;
  /** Default 'leakyRelu' (with a = 0 that is ReLU's gain √2), as torch. */
  nonlinearity?: Nonlinearity;
}

/** The recommended gain for a nonlinearity (torch.nn.init.calculate_gain). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leakyRelu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new ValueError(`calculateGain: unknown nonlinearity ${JSON.stringify(nonlinearity)}`);
  }
}

/** [fanIn, fanOut] of a weight: shape [out, in, ...receptive field], as torch. */
export function calculateFans(t: Tensor, op = 'init'): [number, number] {
  if (t.ndim < 2)
    throw new ShapeError(
      `${op}: fan in and fan out need a tensor with at least 2 dimensions, got shape ${fmt(t.shape)}`,
    );
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1]! * receptive, t.shape[0]! * receptive];
}

function fillWith(t: Tensor, op: string, draw: (g: Generator) => number, opts: InitOptions): Tensor {
  if (t.dtype === 'int32') throw new ValueError(`${op}: expected a float tensor, got int32`);
  const g = opts.generator ?? defaultGenerator;
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = draw(g);
  bumpVersion(t);
  return t;
}

/** U(low, high) in place. */
export function uniform(t: Tensor, low = 0, high = 1, opts: InitOptions = {}): Tensor {
  checkOptions('uniform', opts, ['generator']);
  if (!(high >= low)) throw new ValueError(`uniform: need low ≤ high, got ${low}, ${high}`);
  return fillWith(t, 'uniform', (g) => low + (high - low) * g.uniform(), opts);
}
/** N(mean, std²) in place. */
export function normal(t: Tensor, mean = 0, std = 1, opts: InitOptions = {}): Tensor {
  checkOptions('normal', opts, ['generator']);
  if (!(std >= 0)) throw new ValueError(`normal: std must be ≥ 0, got ${std}`);
  let spare: number | null = null;
  return fillWith(
    t,
    'normal',
    (g) => {
      if (spare !== null) {
        const z = spare;
        spare = null;
        return mean + std * z;
      }
      const [z0, z1] = g.normalPair();
      spare = z1;
      return mean + std * z0;
    },
    opts,
  );
}
/** Fills `t` with `value` in place (torch.nn.init.constant_). */
export function constant(t: Tensor, value: number): Tensor {
  if (t.dtype === 'int32' && !Number.isInteger(value))
    throw new ValueError(`constant: ${value} does not fit an int32 tensor`);
  t.data.fill(value);
  bumpVersion(t);
  return t;
}
/** Fills `t` with 0 in place (torch.nn.init.zeros_). */
export const zeros = (t: Tensor): Tensor => constant(t, 0);
/** Fills `t` with 1 in place (torch.nn.init.ones_). */
export const ones = (t: Tensor): Tensor => constant(t, 1);

/** U(−b, b) with b = gain·√(6 / (fanIn + fanOut)) (Glorot). */
export function xavierUniform(t: Tensor, opts: InitOptions & { gain?: number } = {}): Tensor {
  const [fi, fo] = calculateFans(t, 'xavierUniform');
  checkOptions('xavierUniform', opts, ['generator', 'gain']);
  const b = (opts.gain ?? 1) * Math.sqrt(6 / (fi + fo));
  return uniform(t, -b, b, { generator: opts.generator });
}
/** N(0, σ²) with σ = gain·√(2 / (fanIn + fanOut)) (Glorot). */
export function xavierNormal(t: Tensor, opts: InitOptions & { gain?: number } = {}): Tensor {
  const [fi, fo] = calculateFans(t, 'xavierNormal');
  checkOptions('xavierNormal', opts, ['generator', 'gain']);
  return normal(t, 0, (opts.gain ?? 1) * Math.sqrt(2 / (fi + fo)), { generator: opts.generator });
}
function kaimingStd(t: Tensor, opts: KaimingOptions, op: string): number {
  checkOptions(op, opts, ['generator', 'a', 'mode', 'nonlinearity']);
  const [fi, fo] = calculateFans(t, op);
  const mode = opts.mode ?? 'fanIn';
  if (mode !== 'fanIn' && mode !== 'fanOut')
    throw new ValueError(`${op}: mode must be 'fanIn' or 'fanOut', got ${JSON.stringify(mode)}`);
  const fan = mode === 'fanIn' ? fi : fo;
  if (fan === 0) throw new ShapeError(`${op}: cannot initialise a tensor of shape ${fmt(t.shape)} with zero ${mode}`);
  return calculateGain(opts.nonlinearity ?? 'leakyRelu', opts.a ?? 0) / Math.sqrt(fan);
}
/** U(−b, b) with b = √3 · gain / √fan (He). */
export function kaimingUniform(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const b = Math.sqrt(3) * kaimingStd(t, opts, 'kaimingUniform');
  return uniform(t, -b, b, { generator: opts.generator });
}
/** N(0, σ²) with σ = gain / √fan (He). */
export function kaimingNormal(t: Tensor, opts: KaimingOptions = {}): Tensor {
  return normal(t, 0, kaimingStd(t, opts, 'kaimingNormal'), { generator: opts.generator });
}

/**
 * A (semi-)orthogonal matrix in place, as torch.nn.init.orthogonal_: the tensor viewed as
 * [shape[0], rest] gets Q from the QR decomposition of a standard normal matrix (signs fixed by
 * R's diagonal so the result is uniformly distributed), scaled by `gain`.
 */
export function orthogonal(t: Tensor, opts: InitOptions & { gain?: number } = {}): Tensor {
  if (t.ndim < 2)
    throw new ShapeError(`orthogonal: only tensors with 2 or more dimensions are supported, got shape ${fmt(t.shape)}`);
  if (t.dtype === 'int32') throw new ValueError('orthogonal: expected a float tensor, got int32');
  const rows = t.shape[0]!,
    cols = t.size / rows;
  // QR of an [m, n] normal matrix with m ≥ n (transposed when rows < cols), by modified Gram–Schmidt.
  const m = Math.max(rows, cols),
    n = Math.min(rows, cols);
  const g = opts.generator ?? defaultGenerator;
  const a = new Float64Array(m * n);
  for (let i = 0; i < a.length; i += 2) {
    const [z0, z1] = g.normalPair();
    a[i] = z0;
    if (i + 1 < a.length) a[i + 1] = z1;
  }
  // Columns of a (a[i * n + j]) are orthonormalised in place; sign of R's diagonal kept positive.
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < m; i++) dot += a[i * n + k]! * a[i * n + j]!;
      for (let i = 0; i < m; i++) a[i * n + j]! -= dot * a[i * n + k]!;
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += a[i * n + j]! ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0) throw new ValueError('orthogonal: degenerate random matrix (retry with another seed)');
    for (let i = 0; i < m; i++) a[i * n + j]! /= norm;
  }
  const gain = opts.gain ?? 1;
  const d = t.data;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) d[r * cols + c] = gain * (rows >= cols ? a[r * n + c]! : a[c * n + r]!);
  }
  return t;
}

/**
 * N(mean, std²) truncated to [a, b] in place, as torch.nn.init.trunc_normal_ (a, b absolute;
 * defaults −2, 2). Exact by rejection; refuses an interval holding under 1e-4 of the mass.
 */
export function truncNormal(t: Tensor, mean = 0, std = 1, a = -2, b = 2, opts: InitOptions = {}): Tensor {
  if (!(std > 0)) throw new ValueError(`truncNormal: std must be > 0, got ${std}`);
  if (!(a < b)) throw new ValueError(`truncNormal: need a < b, got a=${a}, b=${b}`);
  const cdf = (x: number): number => 0.5 * (1 + erf((x - mean) / (std * Math.SQRT2)));
  if (cdf(b) - cdf(a) < 1e-4)
    throw new ValueError(`truncNormal: [${a}, ${b}] holds under 1e-4 of N(${mean}, ${std}²); move the interval`);
  let spare: number | null = null;
  return fillWith(
    t,
    'truncNormal',
    (g) => {
      for (;;) {
        let z: number;
        if (spare !== null) {
          z = spare;
          spare = null;
        } else {
          const [z0, z1] = g.normalPair();
          z = z0;
          spare = z1;
        }
        const v = mean + std * z;
        if (v >= a && v <= b) return v;
      }
    },
    opts,
  );
}
/** Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7): only used to size truncNormal's rejection. */
function erf(x: number): number {
  const s = Math.sign(x),
    ax = Math.abs(x),
    k = 1 / (1 + 0.3275911 * ax);
  const y =
    1 -
    ((((1.061405429 * k - 1.453152027) * k + 1.421413741) * k - 0.284496736) * k + 0.254829592) *
      k *
      Math.exp(-ax * ax);
  return s * y;
}
