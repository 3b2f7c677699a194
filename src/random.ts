/**
 * Seeded, counter-based randomness (Philox4x32-10): the n-th random word depends only on the
 * seed and n, so a generator's whole state is two numbers and is trivially saved and restored.
 * The only source of randomness in tapegrad.
 */
import { ValueError } from './errors.js';
import { allocate, checkDType, type DType } from './dtype.js';
import { checkFinite, checkInt32Values, checkOptions } from './validate.js';
import { checkShape, sizeOf } from './shape.js';
import { Tensor, type TensorOptions } from './tensor.js';

function mulhilo(a: number, b: number): [number, number] {
  const aH = a >>> 16,
    aL = a & 0xffff,
    bH = b >>> 16,
    bL = b & 0xffff;
  const ll = aL * bL,
    lh = aL * bH,
    hl = aH * bL,
    hh = aH * bH;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return [(hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0, Math.imul(a, b) >>> 0];
}

/** Philox4x32-10 of counter (c0, c1, 0, 0) under key (k0, k1). */
export function philox(c0: number, c1: number, k0: number, k1: number): [number, number, number, number] {
  let x0 = c0 >>> 0,
    x1 = c1 >>> 0,
    x2 = 0,
    x3 = 0;
  for (let r = 0; r < 10; r++) {
    const [hi0, lo0] = mulhilo(0xd2511f53, x0);
    const [hi1, lo1] = mulhilo(0xcd9e8d57, x2);
    [x0, x1, x2, x3] = [(hi1 ^ x1 ^ k0) >>> 0, lo1, (hi0 ^ x3 ^ k1) >>> 0, lo0];
    k0 = (k0 + 0x9e3779b9) >>> 0;
    k1 = (k1 + 0xbb67ae85) >>> 0;
  }
  return [x0, x1, x2, x3];
}

/** A generator's position: its seed and how far it has drawn (torch.Generator.get_state). */
export interface GeneratorState {
  /** The seed set by `manualSeed`. */
  seed: number;
  /** Number of 32-bit words drawn so far. */
  offset: number;
}

/** A random stream: `new Generator(seed)`; the global one is reset by `manualSeed`. */
export class Generator {
  #seed = 0;
  #offset = 0;
  #block: [number, number, number, number] = [0, 0, 0, 0];
  #blockIndex = -1;
  /** @param seed - Initial seed (default 0). */
  constructor(seed = 0) {
    this.manualSeed(seed);
  }
  /** Reseeds and rewinds the stream (torch.Generator.manual_seed). */
  manualSeed(seed: number): this {
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new ValueError(`manualSeed: seed must be a non-negative safe integer, got ${seed}`);
    this.#seed = seed;
    this.#offset = 0;
    this.#blockIndex = -1;
    return this;
  }
  /** The current position, to restore with `setState` (torch.Generator.get_state). */
  getState(): GeneratorState {
    return { seed: this.#seed, offset: this.#offset };
  }
  /** Restores a position from `getState` (torch.Generator.set_state). */
  setState(s: GeneratorState): this {
    if (!s || !Number.isSafeInteger(s.offset) || s.offset < 0)
      throw new ValueError(`Generator.setState: invalid state ${JSON.stringify(s)}`);
    this.manualSeed(s.seed);
    this.#offset = s.offset;
    return this;
  }
  /** The next uniformly distributed 32-bit word. */
  nextUint32(): number {
    const n = this.#offset++;
    const b = Math.floor(n / 4);
    if (b !== this.#blockIndex) {
      this.#block = philox(
        b >>> 0,
        Math.floor(b / 2 ** 32) >>> 0,
        this.#seed >>> 0,
        Math.floor(this.#seed / 2 ** 32) >>> 0,
      );
      this.#blockIndex = b;
    }
    return this.#block[n & 3]!;
  }
  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5,
      b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }
  /** Standard normal (Box–Muller, both outputs used by callers that fill arrays). */
  normalPair(): [number, number] {
    const u1 = 1 - this.uniform(),
      u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1)),
      t = 2 * Math.PI * u2;
    return [r * Math.cos(t), r * Math.sin(t)];
  }
  /** Integer in [low, high). */
  int(low: number, high: number): number {
    return low + Math.floor(this.uniform() * (high - low));
  }
}

export const defaultGenerator = new Generator(0);
/** Reseeds the global generator (torch.manual_seed). */
export const manualSeed = (seed: number): void => void defaultGenerator.manualSeed(seed);
/** The global generator's state (torch.get_rng_state). */
export const getRngState = (): GeneratorState => defaultGenerator.getState();
/** Restores the global generator's state (torch.set_rng_state). */
export const setRngState = (s: GeneratorState): void => void defaultGenerator.setState(s);

/** Options of the random creation functions: those of `TensorOptions` plus a generator. */
export interface RandomOptions extends TensorOptions {
  /** Stream to draw from (default: the global one, reset by `manualSeed`). */
  generator?: Generator;
}

function make(
  shape: readonly number[],
  opts: RandomOptions,
  dflt: DType,
  fillFn: (d: Float64Array, g: Generator) => void,
  op: string,
): Tensor {
  checkShape(shape, op);
  const dtype = checkDType(opts.dtype ?? dflt, op);
  const gen = opts.generator ?? defaultGenerator;
  if (!(gen instanceof Generator)) throw new ValueError(`${op}: generator must be a Generator, got ${typeof gen}`);
  if (opts.requiresGrad && dtype === 'int32')
    throw new ValueError(`${op}: only float tensors can require gradients, got int32`);
  const n = sizeOf(shape);
  const tmp = new Float64Array(n);
  fillFn(tmp, gen);
  const data = dtype === 'float64' ? tmp : allocate(dtype, n).map((_, i) => tmp[i]!);
  const t = new Tensor(data, shape);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/** Uniform on [low, high). */
export function rand(shape: readonly number[], opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  checkOptions('rand', opts, ['dtype', 'requiresGrad', 'generator', 'low', 'high']);
  const lo = checkFinite('rand', 'low', opts.low ?? 0),
    hi = checkFinite('rand', 'high', opts.high ?? 1);
  if (!(lo <= hi)) throw new ValueError(`rand: need low ≤ high, got low = ${lo}, high = ${hi}`);
  return make(
    shape,
    opts,
    'float32',
    (d, g) => {
      for (let i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * g.uniform();
    },
    'rand',
  );
}
/** Normal with the given mean and std (default standard normal). */
export function randn(shape: readonly number[], opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  checkOptions('randn', opts, ['dtype', 'requiresGrad', 'generator', 'mean', 'std']);
  const mu = checkFinite('randn', 'mean', opts.mean ?? 0),
    sd = checkFinite('randn', 'std', opts.std ?? 1);
  if (sd < 0) throw new ValueError(`randn: std must be ≥ 0, got ${sd}`);
  return make(
    shape,
    opts,
    'float32',
    (d, g) => {
      for (let i = 0; i < d.length; i += 2) {
        const [z0, z1] = g.normalPair();
        d[i] = mu + sd * z0;
        if (i + 1 < d.length) d[i + 1] = mu + sd * z1;
      }
    },
    'randn',
  );
}
/** Integers in [low, high) (int32 by default). */
export function randint(low: number, high: number, shape: readonly number[], opts: RandomOptions = {}): Tensor {
  checkOptions('randint', opts, ['dtype', 'requiresGrad', 'generator']);
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low)
    throw new ValueError(`randint: need integers low < high, got ${low}, ${high}`);
  if ((opts.dtype ?? 'int32') === 'int32') checkInt32Values('randint', [low, high - 1]);
  return make(
    shape,
    opts,
    'int32',
    (d, g) => {
      for (let i = 0; i < d.length; i++) d[i] = g.int(low, high);
    },
    'randint',
  );
}
/** A random permutation of 0..n-1 as a plain array (Fisher–Yates). */
export function permutation(n: number, generator: Generator = defaultGenerator): number[] {
  if (!Number.isInteger(n) || n < 0) throw new ValueError(`permutation: n must be a non-negative integer, got ${n}`);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = generator.int(0, i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}
