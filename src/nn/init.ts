/**
 * Parameter initialisers, as torch.nn.init: each fills a tensor in place (no tape) from the
 * seeded RNG and returns it. Pass `generator` for a private stream; otherwise the global one
 * (reset by `manualSeed`) is used, so the same seed gives the same model.
 */
import { ShapeError, ValueError } from '../errors.js';
import { fmt } from '../shape.js';
import { defaultGenerator, type Generator } from '../random.js';
import type { Tensor } from '../tensor.js';

export interface InitOptions {
  generator?: Generator;
}
export type Nonlinearity = 'linear' | 'conv' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'selu';
export type FanMode = 'fanIn' | 'fanOut';
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
  if (t.ndim < 2) throw new ShapeError(`${op}: fan in and fan out need a tensor with at least 2 dimensions, got shape ${fmt(t.shape)}`);
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1]! * receptive, t.shape[0]! * receptive];
}

function fillWith(t: Tensor, op: string, draw: (g: Generator) => number, opts: InitOptions): Tensor {
  if (t.dtype === 'int32') throw new ValueError(`${op}: expected a float tensor, got int32`);
  const g = opts.generator ?? defaultGenerator;
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = draw(g);
  return t;
}

/** U(low, high) in place. */
export function uniform(t: Tensor, low = 0, high = 1, opts: InitOptions = {}): Tensor {
  if (!(high >= low)) throw new ValueError(`uniform: need low ≤ high, got ${low}, ${high}`);
  return fillWith(t, 'uniform', (g) => low + (high - low) * g.uniform(), opts);
}
/** N(mean, std²) in place. */
export function normal(t: Tensor, mean = 0, std = 1, opts: InitOptions = {}): Tensor {
  if (!(std >= 0)) throw new ValueError(`normal: std must be ≥ 0, got ${std}`);
  let spare: number | null = null;
  return fillWith(t, 'normal', (g) => {
    if (spare !== null) {
      const z = spare;
      spare = null;
      return mean + std * z;
    }
    const [z0, z1] = g.normalPair();
    spare = z1;
    return mean + std * z0;
  }, opts);
}
export function constant(t: Tensor, value: number): Tensor {
  if (t.dtype === 'int32' && !Number.isInteger(value)) throw new ValueError(`constant: ${value} does not fit an int32 tensor`);
  t.data.fill(value);
  return t;
}
export const zeros = (t: Tensor): Tensor => constant(t, 0);
export const ones = (t: Tensor): Tensor => constant(t, 1);

/** U(−b, b) with b = gain·√(6 / (fanIn + fanOut)) (Glorot). */
export function xavierUniform(t: Tensor, opts: InitOptions & { gain?: number } = {}): Tensor {
  const [fi, fo] = calculateFans(t, 'xavierUniform');
  const b = (opts.gain ?? 1) * Math.sqrt(6 / (fi + fo));
  return uniform(t, -b, b, opts);
}
/** N(0, σ²) with σ = gain·√(2 / (fanIn + fanOut)) (Glorot). */
export function xavierNormal(t: Tensor, opts: InitOptions & { gain?: number } = {}): Tensor {
  const [fi, fo] = calculateFans(t, 'xavierNormal');
  return normal(t, 0, (opts.gain ?? 1) * Math.sqrt(2 / (fi + fo)), opts);
}
function kaimingStd(t: Tensor, opts: KaimingOptions, op: string): number {
  const [fi, fo] = calculateFans(t, op);
  const mode = opts.mode ?? 'fanIn';
  if (mode !== 'fanIn' && mode !== 'fanOut') throw new ValueError(`${op}: mode must be 'fanIn' or 'fanOut', got ${JSON.stringify(mode)}`);
  const fan = mode === 'fanIn' ? fi : fo;
  if (fan === 0) throw new ShapeError(`${op}: cannot initialise a tensor of shape ${fmt(t.shape)} with zero ${mode}`);
  return calculateGain(opts.nonlinearity ?? 'leakyRelu', opts.a ?? 0) / Math.sqrt(fan);
}
/** U(−b, b) with b = √3 · gain / √fan (He). */
export function kaimingUniform(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const b = Math.sqrt(3) * kaimingStd(t, opts, 'kaimingUniform');
  return uniform(t, -b, b, opts);
}
/** N(0, σ²) with σ = gain / √fan (He). */
export function kaimingNormal(t: Tensor, opts: KaimingOptions = {}): Tensor {
  return normal(t, 0, kaimingStd(t, opts, 'kaimingNormal'), opts);
}
