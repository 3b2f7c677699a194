/** Layers: each a small Module whose forward is written with Tensor ops (so it needs no backward). */
import type { DType } from '../dtype.js';
import { DTypeError, IndexError, ShapeError, ValueError } from '../errors.js';
import { gelu } from '../ops/composite.js';
import { matmul } from '../ops/matmul.js';
import { activeTracer } from '../tape.js';
import { defaultGenerator, rand, type Generator } from '../random.js';
import { fmt } from '../shape.js';
import { ones, tensor, Tensor, zeros } from '../tensor.js';
import * as init from './init.js';
import { embeddingRows } from './embedding-rows.js';
import { checkOptions } from '../validate.js';
import { asIndex } from '../ops/indexing.js';
import { normalize } from '../ops/norm-fused.js';
import { floatDType, Module, Parameter, type UnaryModule } from './module.js';

/** Options every layer with parameters takes. */
export interface LayerOptions {
  /** Parameter dtype: 'float32' (default) or 'float64'. */
  dtype?: DType;
  /** Stream for the initial values (default: the global generator, reset by `manualSeed`). */
  generator?: Generator;
}

function checkSize(layer: string, what: string, n: number): void {
  if (!Number.isInteger(n) || n <= 0) throw new ValueError(`${layer}: ${what} must be a positive integer, got ${n}`);
}
function checkInput(layer: string, x: Tensor, dtype: DType, lastDim: number | null, expected: string): void {
  if (!(x instanceof Tensor)) throw new ValueError(`${layer}: expected a Tensor input, got ${typeof x}`);
  if (x.dtype !== dtype)
    throw new DTypeError(
      `${layer}: input dtype ${x.dtype} does not match the layer's ${dtype} parameters (cast with .to('${dtype}'))`,
    );
  if (lastDim !== null && (x.ndim < 1 || x.shape[x.ndim - 1] !== lastDim)) {
    throw new ShapeError(`${layer}: expected input of shape ${expected}, got ${fmt(x.shape)}`);
  }
}

/** Options of `Embedding` (torch.nn.Embedding). */
export interface EmbeddingOptions extends LayerOptions {
  /** Entries equal to this index map to a zero vector and do not contribute to the gradient. */
  paddingIdx?: number;
}
/** Options of `Linear` (torch.nn.Linear). */
export interface LinearOptions extends LayerOptions {
  /** Add a learnable bias (default true). */
  bias?: boolean;
}
/**
 * y = x Wᵀ + b, with W of shape [outFeatures, inFeatures] as in PyTorch. Initialised like
 * torch.nn.Linear: W ~ kaimingUniform(a = √5) = U(−1/√in, 1/√in), b ~ U(−1/√in, 1/√in).
 */
export class Linear extends Module {
  /** Weight of shape [outFeatures, inFeatures]. */
  readonly weight: Parameter;
  /** Bias of shape [outFeatures], or null with `bias: false`. */
  readonly bias: Parameter | null;
  /**
   * @param inFeatures - Size of each input's last dim.
   * @param outFeatures - Size of each output's last dim.
   */
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    super();
    checkOptions('Linear', opts, ['bias', 'dtype', 'generator']);
    checkSize('Linear', 'inFeatures', inFeatures);
    checkSize('Linear', 'outFeatures', outFeatures);
    const dtype = floatDType(opts.dtype, 'Linear');
    const g = opts.generator ?? defaultGenerator;
    this.weight = new Parameter(
      init.kaimingUniform(zeros([outFeatures, inFeatures], { dtype }), { a: Math.sqrt(5), generator: g }),
    );
    const bound = 1 / Math.sqrt(inFeatures);
    this.bias =
      opts.bias === false
        ? null
        : new Parameter(init.uniform(zeros([outFeatures], { dtype }), -bound, bound, { generator: g }));
  }
  forward(x: Tensor): Tensor {
    checkInput('Linear', x, this.weight.dtype, this.inFeatures, `[…, ${this.inFeatures}]`);
    const y = matmul(x, this.weight, { transB: true });
    if (!this.bias) return y;
    const out = y.add(this.bias);
    // Nothing reads x·Wᵀ again (add's backward needs no values, matmul's needs x and W): its block goes
    // back to the pool now instead of waiting, in a loop that never yields, to be spilled.
    if (out !== y && activeTracer() === null) y.dispose();
    return out;
  }
  protected override extraRepr(): string {
    return `${this.inFeatures} → ${this.outFeatures}${this.bias ? '' : ', no bias'}${this.weight.dtype === 'float64' ? ', float64' : ''}`;
  }
}

/** Applies its layers in order; children are named "0", "1", … as in PyTorch. */
export class Sequential extends Module {
  /** The chained layers, in order. */
  declare readonly layers: readonly UnaryModule[];
  constructor(...layers: UnaryModule[]) {
    super();
    layers.forEach((m, i) => {
      if (!(m instanceof Module) || typeof m.forward !== 'function') {
        throw new ValueError(`Sequential: argument ${i} is not a Module with a forward(x) method`);
      }
      this.registerModule(String(i), m);
    });
    // Hidden from property discovery: the children are the registered "0", "1", ….
    Object.defineProperty(this, 'layers', { value: Object.freeze([...layers]), enumerable: false });
  }
  /** Number of layers. */
  get length(): number {
    return this.layers.length;
  }
  /** The layer at index `i` (negative counts from the end). */
  at(i: number): UnaryModule {
    const m = this.layers[i < 0 ? i + this.layers.length : i];
    if (!m) throw new IndexError(`Sequential: index ${i} is out of range for ${this.layers.length} layers`);
    return m;
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.layers) y = m.forward(y);
    return y;
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return x.tanh();
  }
}
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}
/** GELU, exact (erf) by default; `approximate: 'tanh'` for the tanh form. */
export class GELU extends Module {
  /** 'none': exact erf form; 'tanh': the tanh approximation (default 'none'). */
  readonly approximate: 'none' | 'tanh';
  constructor(opts: { approximate?: 'none' | 'tanh' } = {}) {
    super();
    checkOptions('GELU', opts, ['approximate']);
    this.approximate = opts.approximate ?? 'none';
    if (this.approximate !== 'none' && this.approximate !== 'tanh') {
      throw new ValueError(`GELU: approximate must be 'none' or 'tanh', got ${JSON.stringify(this.approximate)}`);
    }
  }
  forward(x: Tensor): Tensor {
    return gelu(x, this.approximate);
  }
  protected override extraRepr(): string {
    return this.approximate === 'tanh' ? "approximate='tanh'" : '';
  }
}

/**
 * Zeroes each element with probability p while training and scales the rest by 1/(1−p)
 * (inverted dropout), so eval mode is the identity. The mask comes from the seeded RNG.
 */
export class Dropout extends Module {
  /** Probability of zeroing an element in training (default 0.5). */
  readonly p: number;
  readonly #generator: Generator | undefined;
  constructor(p = 0.5, opts: { generator?: Generator } = {}) {
    super();
    checkOptions('Dropout', opts, ['generator']);
    if (!(p >= 0 && p <= 1)) throw new ValueError(`Dropout: p must be in [0, 1], got ${p}`);
    this.p = p;
    this.#generator = opts.generator;
  }
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    if (x.dtype === 'int32') throw new DTypeError('Dropout: expected a float tensor, got int32');
    if (this.p === 1) return x.mul(0);
    const keep = rand(x.shape, { dtype: x.dtype, generator: this.#generator ?? defaultGenerator }).ge(this.p);
    return x.mul(keep.mul(1 / (1 - this.p)));
  }
  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/** Options of `LayerNorm` (torch.nn.LayerNorm). */
export interface LayerNormOptions extends LayerOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learnable per-element scale and shift (default true). */
  elementwiseAffine?: boolean;
  /** With elementwiseAffine, whether to learn the shift too (default true). */
  bias?: boolean;
}
/** Normalises over the last dims (`normalizedShape`): (x − mean) / √(var + eps) · weight + bias, biased variance as torch. */
export class LayerNorm extends Module {
  /** The trailing dims normalised over. */
  readonly normalizedShape: readonly number[];
  /** Added to the variance (default 1e-5). */
  readonly eps: number;
  /** Elementwise scale, or null without elementwiseAffine. */
  readonly weight: Parameter | null;
  /** Elementwise shift, or null without elementwiseAffine or bias. */
  readonly bias: Parameter | null;
  readonly #dtype: 'float32' | 'float64';
  constructor(normalizedShape: number | readonly number[], opts: LayerNormOptions = {}) {
    super();
    checkOptions('LayerNorm', opts, ['eps', 'elementwiseAffine', 'bias', 'dtype', 'generator']);
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    if (shape.length === 0) throw new ShapeError('LayerNorm: normalizedShape must have at least one dimension');
    shape.forEach((d) => checkSize('LayerNorm', 'each normalizedShape dimension', d));
    this.normalizedShape = Object.freeze(shape);
    this.eps = opts.eps ?? 1e-5;
    if (!(this.eps >= 0)) throw new ValueError(`LayerNorm: eps must be ≥ 0, got ${this.eps}`);
    const dtype = (this.#dtype = floatDType(opts.dtype, 'LayerNorm'));
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? new Parameter(ones(shape, { dtype })) : null;
    this.bias = affine && opts.bias !== false ? new Parameter(zeros(shape, { dtype })) : null;
  }
  forward(x: Tensor): Tensor {
    const k = this.normalizedShape.length;
    checkInput('LayerNorm', x, this.#dtype, null, '');
    const tail = x.shape.slice(x.ndim - k);
    if (x.ndim < k || tail.some((d, i) => d !== this.normalizedShape[i])) {
      throw new ShapeError(
        `LayerNorm: expected input of shape […, ${this.normalizedShape.join(', ')}], got ${fmt(x.shape)}`,
      );
    }
    // the fused layerNorm primitive (ops/norm-fused.ts): one kernel forward, one for the input gradient
    return normalize(x, k, this.eps, false, this.weight, this.bias);
  }
  protected override extraRepr(): string {
    return `${fmt(this.normalizedShape)}, eps=${this.eps}${this.weight ? '' : ', no affine'}`;
  }
}

/** A lookup table: row i of `weight` [numEmbeddings, embeddingDim] for each index i; initialised N(0, 1) as torch. */
export class Embedding extends Module {
  /** The embedding table, of shape [numEmbeddings, embeddingDim]. */
  readonly weight: Parameter;
  /** Index whose row is zero and gets no gradient (torch's padding_idx), or null. */
  readonly paddingIdx: number | null;
  /**
   * @param numEmbeddings - Size of the vocabulary.
   * @param embeddingDim - Size of each embedding vector.
   */
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    opts: EmbeddingOptions = {},
  ) {
    super();
    checkOptions('Embedding', opts, ['paddingIdx', 'dtype', 'generator']);
    checkSize('Embedding', 'numEmbeddings', numEmbeddings);
    checkSize('Embedding', 'embeddingDim', embeddingDim);
    const dtype = floatDType(opts.dtype, 'Embedding');
    this.weight = new Parameter(
      init.normal(zeros([numEmbeddings, embeddingDim], { dtype }), 0, 1, {
        generator: opts.generator ?? defaultGenerator,
      }),
    );
    let pad = opts.paddingIdx ?? null;
    if (pad !== null) {
      if (!Number.isInteger(pad) || pad < -numEmbeddings || pad >= numEmbeddings) {
        throw new IndexError(
          `Embedding: paddingIdx ${pad} must be an integer in [${-numEmbeddings}, ${numEmbeddings})`,
        );
      }
      if (pad < 0) pad += numEmbeddings;
      this.weight.data.fill(0, pad * embeddingDim, (pad + 1) * embeddingDim);
    }
    this.paddingIdx = pad;
  }
  /** indices: an integer tensor (any shape) or number[]; returns shape [...indices.shape, embeddingDim]. */
  forward(indices: Tensor | readonly number[]): Tensor {
    const idx = asIndex(indices, 'Embedding', this.numEmbeddings, `${this.numEmbeddings} embeddings`);
    const flat = idx.ndim === 1 ? idx : idx.reshape([-1]);
    let rows = embeddingRows(this.weight, flat);
    // Padding positions output zeros and send no gradient to the padding row (as torch's padding_idx).
    if (this.paddingIdx !== null) rows = rows.mul(flat.ne(this.paddingIdx).to(rows.dtype).reshape([-1, 1]));
    return rows.reshape([...idx.shape, this.embeddingDim]);
  }
  protected override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}`;
  }
}

/** Flattens dims startDim..endDim (default 1..−1: everything but the batch). */
export class Flatten extends Module {
  /**
   * @param startDim - First dim to flatten (default 1).
   * @param endDim - Last dim to flatten (default -1).
   */
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
}
