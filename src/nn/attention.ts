/**
 * Attention layers with PyTorch's parameter names and layouts, so a state dict moves to and from
 * torch by name: `in_proj_weight` [3E, E], `in_proj_bias` [3E], `out_proj.weight`, `out_proj.bias`
 * (or `q_proj_weight`/`k_proj_weight`/`v_proj_weight` when kdim/vdim differ from E), and for the
 * encoder layer `self_attn.*`, `linear1`, `linear2`, `norm1`, `norm2`.
 */
import type { DType } from '../dtype.js';
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import { gelu } from '../ops/composite.js';
import { additiveMask, attentionCore, causalMask } from '../ops/attention.js';
import { defaultGenerator, type Generator } from '../random.js';
import { fmt } from '../shape.js';
import { Tensor, zeros } from '../tensor.js';
import * as init from './init.js';
import { Dropout, LayerNorm, Linear } from './layers.js';
import { floatDType, Module, Parameter } from './module.js';
import { checkOptions, checkPositiveInt, checkProbability } from './options.js';

/** Defines a non-enumerable, read-only property (a child registered under torch's snake_case name). */
function alias(obj: object, name: string, value: unknown): void {
  Object.defineProperty(obj, name, { value, enumerable: false, writable: false });
}

/** Options of `MultiheadAttention` (torch.nn.MultiheadAttention), plus dtype and generator. */
export interface MultiheadAttentionOptions {
  /** Dropout on the attention weights while training (default 0). */
  dropout?: number;
  /** Biases on the input and output projections (default true). */
  bias?: boolean;
  /** Key and value feature sizes (default embedDim). */
  kdim?: number;
  /** Features of the values (default embedDim). */
  vdim?: number;
  /** Inputs and outputs are [N, L, E] instead of [L, N, E] (default false, as torch). */
  batchFirst?: boolean;
  /** Parameter dtype: 'float32' (default) or 'float64'. */
  dtype?: DType;
  /** Stream for the initial values (default: the global generator). */
  generator?: Generator;
}
const mhaKeys = ['dropout', 'bias', 'kdim', 'vdim', 'batchFirst', 'dtype', 'generator'] as const;

/** Options of `MultiheadAttention.forward` (those of torch's forward). */
export interface MultiheadAttentionForwardOptions {
  /**
   * `[N, S]`: keys to ignore. An int32 tensor is boolean, nonzero = IGNORE (torch's convention for this
   * module); a float tensor is added to the scores.
   */
  keyPaddingMask?: Tensor | null;
  /** Return the attention weights (default true, as torch). */
  needWeights?: boolean;
  /**
   * [L, S] or [N·numHeads, L, S]. int32 = boolean, nonzero = NOT allowed to attend (torch's convention
   * for this module, the opposite of scaledDotProductAttention's); a float mask is added.
   */
  attnMask?: Tensor | null;
  /** Average the returned weights over heads (default true): [N, L, S] instead of [N, H, L, S]. */
  averageAttnWeights?: boolean;
  /** Causal self-attention. Without attnMask the causal mask is built here (torch requires it passed). */
  isCausal?: boolean;
}
const mhaForwardKeys = ['keyPaddingMask', 'needWeights', 'attnMask', 'averageAttnWeights', 'isCausal'] as const;

/**
 * torch.nn.MultiheadAttention: attention over numHeads heads of size embedDim / numHeads, then an
 * output projection. forward(query, key, value, opts) → [output, weights | null].
 */
export class MultiheadAttention extends Module<
  [query: Tensor, key?: Tensor, value?: Tensor, opts?: MultiheadAttentionForwardOptions],
  [Tensor, Tensor | null]
> {
  /** Model width E. */
  readonly embedDim: number;
  /** Number of attention heads. */
  readonly numHeads: number;
  /** Features per head: embedDim / numHeads. */
  readonly headDim: number;
  /** Features of the keys. */
  readonly kdim: number;
  /** Features of the values. */
  readonly vdim: number;
  /** Dropout on the attention weights while training. */
  readonly dropout: number;
  /** Whether inputs are [N, L, E] instead of [L, N, E]. */
  readonly batchFirst: boolean;
  /** Packed q/k/v projection [3E, E] when kdim = vdim = E, else null (torch: in_proj_weight). */
  declare readonly inProjWeight: Parameter | null;
  /** Separate query projection when kdim or vdim ≠ E, else null (torch: q_proj_weight). */
  declare readonly qProjWeight: Parameter | null;
  /** Separate key projection when kdim or vdim ≠ E, else null (torch: k_proj_weight). */
  declare readonly kProjWeight: Parameter | null;
  /** Separate value projection when kdim or vdim ≠ E, else null (torch: v_proj_weight). */
  declare readonly vProjWeight: Parameter | null;
  /** Packed q/k/v bias [3E], or null without bias (torch: in_proj_bias). */
  declare readonly inProjBias: Parameter | null;
  /** The output projection (torch: out_proj). */
  declare readonly outProj: Linear;
  readonly #generator: Generator | undefined;

  constructor(embedDim: number, numHeads: number, opts: MultiheadAttentionOptions = {}) {
    super();
    const op = 'MultiheadAttention';
    checkOptions(op, opts, mhaKeys);
    checkPositiveInt(op, 'embedDim', embedDim);
    checkPositiveInt(op, 'numHeads', numHeads);
    if (embedDim % numHeads !== 0)
      throw new ValueError(`${op}: embedDim ${embedDim} must be divisible by numHeads ${numHeads}`);
    this.embedDim = embedDim;
    this.numHeads = numHeads;
    this.headDim = embedDim / numHeads;
    this.kdim = opts.kdim ?? embedDim;
    this.vdim = opts.vdim ?? embedDim;
    checkPositiveInt(op, 'kdim', this.kdim);
    checkPositiveInt(op, 'vdim', this.vdim);
    this.dropout = opts.dropout ?? 0;
    checkProbability(op, 'dropout', this.dropout);
    this.batchFirst = opts.batchFirst ?? false;
    const dtype = floatDType(opts.dtype, op);
    const g = opts.generator ?? defaultGenerator;
    this.#generator = opts.generator;
    const bias = opts.bias ?? true;
    const e = embedDim;
    // As torch's _reset_parameters: xavier_uniform_ on the projections, zero biases.
    if (this.kdim === e && this.vdim === e) {
      const w = new Parameter(init.xavierUniform(zeros([3 * e, e], { dtype }), { generator: g }));
      this.registerParameter('in_proj_weight', w);
      alias(this, 'inProjWeight', w);
      alias(this, 'qProjWeight', null);
      alias(this, 'kProjWeight', null);
      alias(this, 'vProjWeight', null);
    } else {
      const [wq, wk, wv] = [e, this.kdim, this.vdim].map(
        (d) => new Parameter(init.xavierUniform(zeros([e, d], { dtype }), { generator: g })),
      );
      this.registerParameter('q_proj_weight', wq!);
      this.registerParameter('k_proj_weight', wk!);
      this.registerParameter('v_proj_weight', wv!);
      alias(this, 'inProjWeight', null);
      alias(this, 'qProjWeight', wq);
      alias(this, 'kProjWeight', wk);
      alias(this, 'vProjWeight', wv);
    }
    const b = bias ? new Parameter(zeros([3 * e], { dtype })) : null;
    if (b) this.registerParameter('in_proj_bias', b);
    alias(this, 'inProjBias', b);
    const out = new Linear(e, e, { bias, dtype, generator: g });
    if (out.bias) out.bias.data.fill(0);
    this.registerModule('out_proj', out);
    alias(this, 'outProj', out);
  }

  /** query [L, N, E] (or [N, L, E] with batchFirst, or unbatched [L, E]); key/value [S, N, kdim/vdim]. */
  forward(
    query: Tensor,
    key: Tensor = query,
    value: Tensor = key,
    opts: MultiheadAttentionForwardOptions = {},
  ): [Tensor, Tensor | null] {
    const op = 'MultiheadAttention';
    checkOptions(`${op}.forward`, opts, mhaForwardKeys);
    const dtype = this.outProj.weight.dtype as 'float32' | 'float64';
    for (const [n, t] of [
      ['query', query],
      ['key', key],
      ['value', value],
    ] as const) {
      if (!(t instanceof Tensor)) throw new ValueError(`${op}: ${n} must be a Tensor, got ${typeof t}`);
      if (t.dtype !== dtype)
        throw new DTypeError(`${op}: ${n} dtype ${t.dtype} does not match the layer's ${dtype} parameters`);
    }
    const batched = query.ndim === 3;
    if (!batched && query.ndim !== 2) {
      throw new ShapeError(
        `${op}: query must be [L, N, E], [N, L, E] (batchFirst) or unbatched [L, E], got ${fmt(query.shape)}`,
      );
    }
    if (key.ndim !== query.ndim || value.ndim !== query.ndim) {
      throw new ShapeError(
        `${op}: query ${fmt(query.shape)}, key ${fmt(key.shape)} and value ${fmt(value.shape)} must have the same number of dims`,
      );
    }
    // Internally batch-first [N, L, E].
    const toNLE = (t: Tensor): Tensor => (!batched ? t.unsqueeze(0) : this.batchFirst ? t : t.transpose(0, 1));
    const q0 = toNLE(query),
      k0 = toNLE(key),
      v0 = toNLE(value);
    const [n, l, e] = q0.shape as [number, number, number];
    const s = k0.shape[1]!;
    const h = this.numHeads,
      hd = this.headDim;
    if (e !== this.embedDim) throw new ShapeError(`${op}: query has ${e} features, expected embedDim ${this.embedDim}`);
    if (k0.shape[2] !== this.kdim)
      throw new ShapeError(`${op}: key has ${k0.shape[2]} features, expected kdim ${this.kdim}`);
    if (v0.shape[2] !== this.vdim)
      throw new ShapeError(`${op}: value has ${v0.shape[2]} features, expected vdim ${this.vdim}`);
    if (k0.shape[0] !== n || v0.shape[0] !== n)
      throw new ShapeError(`${op}: query, key and value batch sizes differ: ${n}, ${k0.shape[0]}, ${v0.shape[0]}`);
    if (v0.shape[1] !== s)
      throw new ShapeError(`${op}: key and value sequence lengths differ: ${s} and ${v0.shape[1]}`);

    // Input projections.
    const bias = this.inProjBias;
    const bpart = (i: number): Tensor | null => (bias ? bias.slice([[i * e, (i + 1) * e]]) : null);
    const proj = (x: Tensor, w: Tensor, b: Tensor | null): Tensor => {
      const y = x.matmul(w, { transB: true });
      return b ? y.add(b) : y;
    };
    let q: Tensor, k: Tensor, v: Tensor;
    if (this.inProjWeight) {
      const w = this.inProjWeight;
      if (query === key && key === value) {
        const qkv = proj(q0, w, bias); // [N, L, 3E]
        [q, k, v] = [0, 1, 2].map((i) => qkv.slice([null, null, [i * e, (i + 1) * e]])) as [Tensor, Tensor, Tensor];
      } else {
        const wpart = (i: number): Tensor => w.slice([[i * e, (i + 1) * e]]);
        q = proj(q0, wpart(0), bpart(0));
        k = proj(k0, wpart(1), bpart(1));
        v = proj(v0, wpart(2), bpart(2));
      }
    } else {
      q = proj(q0, this.qProjWeight!, bpart(0));
      k = proj(k0, this.kProjWeight!, bpart(1));
      v = proj(v0, this.vProjWeight!, bpart(2));
    }
    const heads = (t: Tensor, len: number): Tensor => t.reshape([n, len, h, hd]).permute([0, 2, 1, 3]); // [N, H, len, hd]
    q = heads(q, l);
    k = heads(k, s);
    v = heads(v, s);

    // Masks, merged into one additive [N | 1, H | 1, L, S] tensor.
    let mask: Tensor | null = null;
    if (opts.attnMask) {
      let m = additiveMask(op, 'attnMask', opts.attnMask, dtype, false);
      if (m.ndim === 2) {
        if (m.shape[0] !== l || m.shape[1] !== s)
          throw new ShapeError(`${op}: 2-D attnMask must be [${l}, ${s}], got ${fmt(m.shape)}`);
      } else if (m.ndim === 3) {
        if (m.shape[0] !== n * h || m.shape[1] !== l || m.shape[2] !== s) {
          throw new ShapeError(
            `${op}: 3-D attnMask must be [${n * h}, ${l}, ${s}] (N·numHeads, L, S), got ${fmt(m.shape)}`,
          );
        }
        m = m.reshape([n, h, l, s]);
      } else {
        throw new ShapeError(`${op}: attnMask must be 2-D [L, S] or 3-D [N·numHeads, L, S], got ${fmt(m.shape)}`);
      }
      mask = m;
    } else if (opts.isCausal) {
      mask = causalMask(l, s, dtype);
    }
    if (opts.keyPaddingMask) {
      const kp = additiveMask(op, 'keyPaddingMask', opts.keyPaddingMask, dtype, false);
      const want = batched ? [n, s] : [s];
      if (kp.ndim !== want.length || kp.shape.some((d, i) => d !== want[i])) {
        throw new ShapeError(`${op}: keyPaddingMask must be ${fmt(want)}, got ${fmt(kp.shape)}`);
      }
      const kp4 = kp.reshape([n, 1, 1, s]);
      mask = mask ? mask.add(kp4) : kp4;
    }
    const p = this.training ? this.dropout : 0;
    const { output, weights } = attentionCore(q, k, v, mask, 1 / Math.sqrt(hd), p, this.#generator);
    let out = this.outProj.forward(output.permute([0, 2, 1, 3]).reshape([n, l, e]));
    out = !batched ? out.squeeze(0) : this.batchFirst ? out : out.transpose(0, 1);
    if (!(opts.needWeights ?? true)) return [out, null];
    let w = (opts.averageAttnWeights ?? true) ? weights.mean(1) : weights;
    if (!batched) w = w.squeeze(0);
    return [out, w];
  }
  protected override extraRepr(): string {
    return (
      `embedDim=${this.embedDim}, numHeads=${this.numHeads}${this.dropout ? `, dropout=${this.dropout}` : ''}` +
      `${this.batchFirst ? ', batchFirst' : ''}`
    );
  }
}

/** The feed-forward activation of a `TransformerEncoderLayer`: a name or a function. */
export type TransformerActivation = 'relu' | 'gelu' | ((x: Tensor) => Tensor);
/** Options of `TransformerEncoderLayer` (torch.nn.TransformerEncoderLayer). */
export interface TransformerEncoderLayerOptions {
  /** Hidden size of the feed-forward block (default 2048). */
  dimFeedforward?: number;
  /** Dropout after attention, inside and after the feed-forward block (default 0.1). */
  dropout?: number;
  /** 'relu' (default), 'gelu' (exact) or a function. */
  activation?: TransformerActivation;
  /** eps of both layer norms (default 1e-5). */
  layerNormEps?: number;
  /** [N, L, E] inputs (default false: [L, N, E]). */
  batchFirst?: boolean;
  /** Pre-norm (LayerNorm before each block) instead of post-norm (default false). */
  normFirst?: boolean;
  /** Biases in the linear layers and layer norms (default true). */
  bias?: boolean;
  /** Parameter dtype: 'float32' (default) or 'float64'. */
  dtype?: DType;
  /** Stream for the initial values (default: the global generator). */
  generator?: Generator;
}
const telKeys = [
  'dimFeedforward',
  'dropout',
  'activation',
  'layerNormEps',
  'batchFirst',
  'normFirst',
  'bias',
  'dtype',
  'generator',
] as const;
/** Options of `TransformerEncoderLayer.forward`. */
export interface TransformerEncoderLayerForwardOptions {
  /** Passed to self-attention as attnMask. */
  srcMask?: Tensor | null;
  /** Passed to self-attention as keyPaddingMask. */
  srcKeyPaddingMask?: Tensor | null;
  /** Causal self-attention (the mask is built when srcMask is absent). */
  isCausal?: boolean;
}
const telForwardKeys = ['srcMask', 'srcKeyPaddingMask', 'isCausal'] as const;

/** torch.nn.TransformerEncoderLayer: self-attention and a feed-forward block, each with a residual and LayerNorm. */
export class TransformerEncoderLayer extends Module<
  [src: Tensor, opts?: TransformerEncoderLayerForwardOptions],
  Tensor
> {
  /** The self-attention block (torch: self_attn). */
  declare readonly selfAttn: MultiheadAttention;
  /** First feed-forward layer, dModel → dimFeedforward. */
  readonly linear1: Linear;
  /** Dropout inside the feed-forward block. */
  readonly dropout: Dropout;
  /** Second feed-forward layer, dimFeedforward → dModel. */
  readonly linear2: Linear;
  /** Layer norm around the attention block. */
  readonly norm1: LayerNorm;
  /** Layer norm around the feed-forward block. */
  readonly norm2: LayerNorm;
  /** Dropout on the attention block's output. */
  readonly dropout1: Dropout;
  /** Dropout on the feed-forward block's output. */
  readonly dropout2: Dropout;
  /** Pre-norm (true) or post-norm (false) ordering. */
  readonly normFirst: boolean;
  /** The feed-forward activation. */
  readonly activation: (x: Tensor) => Tensor;
  constructor(dModel: number, nhead: number, opts: TransformerEncoderLayerOptions = {}) {
    super();
    const op = 'TransformerEncoderLayer';
    checkOptions(op, opts, telKeys);
    const ff = opts.dimFeedforward ?? 2048;
    checkPositiveInt(op, 'dimFeedforward', ff);
    const p = opts.dropout ?? 0.1;
    checkProbability(op, 'dropout', p);
    const { dtype, generator } = opts;
    const bias = opts.bias ?? true;
    const sa = new MultiheadAttention(dModel, nhead, {
      dropout: p,
      bias,
      batchFirst: opts.batchFirst ?? false,
      dtype,
      generator,
    });
    this.registerModule('self_attn', sa);
    alias(this, 'selfAttn', sa);
    this.linear1 = new Linear(dModel, ff, { bias, dtype, generator });
    this.dropout = new Dropout(p, { generator });
    this.linear2 = new Linear(ff, dModel, { bias, dtype, generator });
    this.normFirst = opts.normFirst ?? false;
    const eps = opts.layerNormEps ?? 1e-5;
    this.norm1 = new LayerNorm(dModel, { eps, bias, dtype });
    this.norm2 = new LayerNorm(dModel, { eps, bias, dtype });
    this.dropout1 = new Dropout(p, { generator });
    this.dropout2 = new Dropout(p, { generator });
    const act = opts.activation ?? 'relu';
    if (act === 'relu') this.activation = (x) => x.relu();
    else if (act === 'gelu') this.activation = (x) => gelu(x);
    else if (typeof act === 'function') this.activation = act;
    else throw new ValueError(`${op}: activation must be 'relu', 'gelu' or a function, got ${JSON.stringify(act)}`);
  }
  forward(src: Tensor, opts: TransformerEncoderLayerForwardOptions = {}): Tensor {
    checkOptions('TransformerEncoderLayer.forward', opts, telForwardKeys);
    const sa = (x: Tensor): Tensor => {
      const [y] = this.selfAttn.forward(x, x, x, {
        attnMask: opts.srcMask ?? null,
        keyPaddingMask: opts.srcKeyPaddingMask ?? null,
        needWeights: false,
        isCausal: opts.isCausal ?? false,
      });
      return this.dropout1.forward(y);
    };
    const ff = (x: Tensor): Tensor =>
      this.dropout2.forward(this.linear2.forward(this.dropout.forward(this.activation(this.linear1.forward(x)))));
    let x = src;
    if (this.normFirst) {
      x = x.add(sa(this.norm1.forward(x)));
      x = x.add(ff(this.norm2.forward(x)));
    } else {
      x = this.norm1.forward(x.add(sa(x)));
      x = this.norm2.forward(x.add(ff(x)));
    }
    return x;
  }
}
