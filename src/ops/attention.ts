/**
 * Scaled dot-product attention, built from primitives (batched matmul, add, exp, sum, div), so it
 * needs no backward of its own and runs on every backend:
 *
 *   softmax(q kᵀ · scale + mask) v,   scale = 1/√E by default,
 *
 * with PyTorch's semantics for `torch.nn.functional.scaled_dot_product_attention`:
 * a boolean mask (an int32 tensor: nonzero = may attend) keeps the positions where it is true;
 * a float mask is added to the scores; `isCausal` keeps j ≤ i (top-left aligned, as torch);
 * a fully masked row gives zeros, not NaN (torch's `_safe_softmax`, PyTorch ≥ 2.5);
 * `dropoutP` drops attention weights (inverted dropout, from src/random.ts) whenever it is > 0,
 * so a layer passes `training ? p : 0`.
 */
import { checkOptions } from '../validate.js';
import { defineOpWith } from '../autograd/custom.js';
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import { defaultGenerator, rand, type Generator } from '../random.js';
import { fmt } from '../shape.js';
import { activeTracer, isGradEnabled } from '../tape.js';
import { Tensor } from '../tensor.js';

/** Options of `scaledDotProductAttention` (torch.nn.functional.scaled_dot_product_attention). */
export interface ScaledDotProductAttentionOptions {
  /**
   * [..., L, S], broadcast against the scores. An int32 tensor is a boolean mask (nonzero = may attend,
   * as torch's bool masks for this function); a float tensor (same dtype as q) is added to the scores.
   */
  attnMask?: Tensor | null;
  /** Causal masking: query i attends to keys j ≤ i. Cannot be combined with attnMask (as torch). */
  isCausal?: boolean;
  /** Dropout probability on the attention weights (default 0). Applied whenever > 0. */
  dropoutP?: number;
  /** Multiplies q kᵀ (default 1/√E, E = q's last dim). */
  scale?: number | null;
  /** Stream for the dropout mask (default: the global generator). */
  generator?: Generator;
  /**
   * Without dropout, run as one op with its own backward (default true); false records the composite
   * (the oracle the fused op is tested against).
   */
  fused?: boolean;
}
const sdpaKeys = ['attnMask', 'isCausal', 'dropoutP', 'scale', 'generator', 'fused'] as const;

const checkKeys = (op: string, opts: object, known: readonly string[]): void => {
  checkOptions(op, opts, known);
};

/**
 * A mask as an additive float tensor of the given dtype: a boolean (int32) mask becomes 0 where
 * `keepWhere(value)` and −∞ elsewhere; a float mask is returned as it is (after a dtype check).
 * No tape: the mask is a constant (a float mask that requires grad keeps its gradient).
 */
export function additiveMask(
  op: string,
  what: string,
  mask: Tensor,
  dtype: 'float32' | 'float64',
  keepNonzero: boolean,
): Tensor {
  if (!(mask instanceof Tensor)) throw new ValueError(`${op}: ${what} must be a Tensor, got ${typeof mask}`);
  if (mask.dtype !== 'int32') {
    if (mask.dtype !== dtype) {
      throw new DTypeError(
        `${op}: float ${what} has dtype ${mask.dtype} but the scores are ${dtype} (a boolean mask is an int32 tensor)`,
      );
    }
    return mask;
  }
  const src = mask.data;
  const out = dtype === 'float64' ? new Float64Array(src.length) : new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = (src[i] !== 0) === keepNonzero ? 0 : -Infinity;
  return new Tensor(out, mask.shape);
}

/** The [L, S] causal mask (0 where j ≤ i, −∞ above the diagonal) as a constant. */
export function causalMask(l: number, s: number, dtype: 'float32' | 'float64'): Tensor {
  const out = dtype === 'float64' ? new Float64Array(l * s) : new Float32Array(l * s);
  for (let i = 0; i < l; i++) for (let j = i + 1; j < s; j++) out[i * s + j] = -Infinity;
  return new Tensor(out, [l, s]);
}

/**
 * Softmax over the last dim that returns zeros for rows that are all −∞ (instead of NaN),
 * as torch's `_safe_softmax`. The correction is a constant, so the gradient is softmax's.
 */
export function safeSoftmax(x: Tensor): Tensor {
  const m = x.max(-1, true).detach();
  const md = m.data;
  let anyDead = false;
  for (let i = 0; i < md.length; i++) if (md[i] === -Infinity) anyDead = true;
  if (!anyDead) return x.softmax(-1);
  const shift = new (md instanceof Float64Array ? Float64Array : Float32Array)(md.length);
  const dead = new (md instanceof Float64Array ? Float64Array : Float32Array)(md.length);
  for (let i = 0; i < md.length; i++) {
    shift[i] = md[i] === -Infinity ? 0 : md[i]!;
    dead[i] = md[i] === -Infinity ? 1 : 0;
  }
  const e = x.sub(new Tensor(shift, m.shape)).exp();
  return e.div(e.sum(-1, true).add(new Tensor(dead, m.shape)));
}

/** Inverted dropout with a mask from the seeded RNG. */
export function dropoutWeights(w: Tensor, p: number, generator: Generator | undefined): Tensor {
  if (p === 0) return w;
  if (p === 1) return w.mul(0);
  const keep = rand(w.shape, { dtype: w.dtype, generator: generator ?? defaultGenerator }).ge(p);
  return w.mul(keep.mul(1 / (1 - p)));
}

/** The output of `scaledDotProductAttentionWithWeights` with the weights it used. */
export interface AttentionResult {
  /** The attention output, shape [..., L, Ev]. */
  output: Tensor;
  /** The attention weights after dropout, shape [..., L, S]. */
  weights: Tensor;
}

/** Checks q, k, v and the options; shared by the function and MultiheadAttention. */
function checkQkv(op: string, q: Tensor, k: Tensor, v: Tensor): void {
  for (const [n, t] of [
    ['query', q],
    ['key', k],
    ['value', v],
  ] as const) {
    if (!(t instanceof Tensor)) throw new ValueError(`${op}: ${n} must be a Tensor, got ${typeof t}`);
    if (t.ndim < 2)
      throw new ShapeError(`${op}: ${n} must have at least 2 dims [..., seq, features], got ${fmt(t.shape)}`);
    if (t.dtype !== 'float32' && t.dtype !== 'float64')
      throw new DTypeError(`${op}: ${n} must be float32 or float64, got ${t.dtype}`);
  }
  if (q.dtype !== k.dtype || q.dtype !== v.dtype) {
    throw new DTypeError(`${op}: query, key and value must share a dtype, got ${q.dtype}, ${k.dtype}, ${v.dtype}`);
  }
  if (q.shape[q.ndim - 1] !== k.shape[k.ndim - 1]) {
    throw new ShapeError(
      `${op}: query ${fmt(q.shape)} and key ${fmt(k.shape)} must have the same last dim (embedding size)`,
    );
  }
  if (k.shape[k.ndim - 2] !== v.shape[v.ndim - 2]) {
    throw new ShapeError(
      `${op}: key ${fmt(k.shape)} and value ${fmt(v.shape)} must have the same sequence length (dim −2)`,
    );
  }
}

/** Attention with its weights; `mask` is already additive (or null). */
export function attentionCore(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  mask: Tensor | null,
  scale: number,
  dropoutP: number,
  generator: Generator | undefined,
): AttentionResult {
  let scores = q.matmul(k, { transB: true }).mul(scale);
  if (mask) scores = scores.add(mask);
  let w = mask ? safeSoftmax(scores) : scores.softmax(-1);
  w = dropoutWeights(w, dropoutP, generator);
  return { output: w.matmul(v), weights: w };
}

/**
 * The same attention as one op with its own backward (no dropout): the forward runs the composite with
 * recording off, so the tape holds one node instead of about ten and keeps no [.., L, S] intermediates;
 * the backward recomputes the weights P and applies the closed form
 *   dV = Pᵀ g,  dP = g Vᵀ,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),  dQ = scale · dS K,  dK = scale · dSᵀ Q,  dMask = dS,
 * written with Tensor ops, so it is differentiable again (second order). The composite stays its test oracle.
 */
export function fusedAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  mask: Tensor | null,
  scale: number,
  causal = false,
): Tensor {
  // A causal mask keeps column 0 of every row, so no row is all −∞ and the plain softmax is safe.
  // Unrecorded [.., L, S] temporaries are freed once read (a synchronous loop never runs finalizers).
  const weights = (qq: Tensor, kk: Tensor, m: Tensor | null): Tensor => {
    const free = !isGradEnabled() && activeTracer() === null;
    const s0 = qq.matmul(kk, { transB: true });
    let s = then(s0, s0.mul(scale), free);
    if (m) s = then(s, s.add(m), free);
    return then(s, m && !causal ? safeSoftmax(s) : s.softmax(-1), free);
  };
  // The forward's weights, kept for a first-order backward (a createGraph backward recomputes them
  // with recording on, so they are differentiable); released once used.
  let kept: Tensor | null = null;
  const op = defineOpWith(false, {
    name: 'scaledDotProductAttention',
    forward: (qq, kk, vv, m) => (kept = weights(qq!, kk!, m ?? null)).matmul(vv!),
    backward: (g, ...xs) => {
      const [qq, kk, vv] = xs as [Tensor, Tensor, Tensor];
      const m = mask ? xs[3]! : null;
      const p = kept && !isGradEnabled() ? kept : weights(qq, kk, m);
      kept = null;
      const dv = p.matmul(g, { transA: true });
      const dp = g.matmul(vv, { transB: true });
      const ds = p.mul(dp.sub(dp.mul(p).sum(-1, true)));
      const dq = ds.matmul(kk).mul(scale);
      const dk = ds.matmul(qq, { transA: true }).mul(scale);
      if (p !== dv && p !== ds && !isGradEnabled() && activeTracer() === null) p.dispose();
      return mask ? [dq, dk, dv, mask.requiresGrad ? ds : null] : [dq, dk, dv];
    },
  });
  return mask ? op(q, k, v, mask) : op(q, k, v);
}

/** `next`, having freed `prev`'s device block when `free` (and next is another tensor). */
const then = (prev: Tensor, next: Tensor, free: boolean): Tensor => (free && next !== prev && prev.dispose(), next);

/**
 * `torch.nn.functional.scaled_dot_product_attention`: q [..., L, E], k [..., S, E], v [..., S, Ev]
 * (batch dims broadcast) → [..., L, Ev].
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: ScaledDotProductAttentionOptions = {},
): Tensor {
  const { mask, scale, p } = setup(q, k, v, opts);
  if (p === 0 && (opts.fused ?? true)) return fusedAttention(q, k, v, mask, scale, opts.isCausal === true);
  return attentionCore(q, k, v, mask, scale, p, opts.generator).output;
}

/** As scaledDotProductAttention, also returning the attention weights (after dropout); always the composite. */
export function scaledDotProductAttentionWithWeights(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: ScaledDotProductAttentionOptions = {},
): AttentionResult {
  const { mask, scale, p } = setup(q, k, v, opts);
  return attentionCore(q, k, v, mask, scale, p, opts.generator);
}

function setup(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: ScaledDotProductAttentionOptions,
): { mask: Tensor | null; scale: number; p: number } {
  const op = 'scaledDotProductAttention';
  checkKeys(op, opts, sdpaKeys);
  checkQkv(op, q, k, v);
  const dtype = q.dtype as 'float32' | 'float64';
  const e = q.shape[q.ndim - 1]!,
    l = q.shape[q.ndim - 2]!,
    s = k.shape[k.ndim - 2]!;
  const p = opts.dropoutP ?? 0;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1))
    throw new ValueError(`${op}: dropoutP must be in [0, 1], got ${String(p)}`);
  const scale = opts.scale ?? 1 / Math.sqrt(e);
  if (typeof scale !== 'number' || !Number.isFinite(scale))
    throw new ValueError(`${op}: scale must be a finite number, got ${String(scale)}`);
  let mask: Tensor | null = null;
  if (opts.isCausal) {
    if (opts.attnMask) throw new ValueError(`${op}: pass either attnMask or isCausal, not both (as torch)`);
    mask = causalMask(l, s, dtype);
  } else if (opts.attnMask) {
    mask = additiveMask(op, 'attnMask', opts.attnMask, dtype, true);
    const m = mask.shape;
    if (m.length < 2 || m.length > q.ndim) {
      throw new ShapeError(`${op}: attnMask of shape ${fmt(m)} does not broadcast to the scores [..., ${l}, ${s}]`);
    }
    const want = [...q.shape.slice(0, -2), l, s];
    const off = want.length - m.length;
    m.forEach((d, i) => {
      if (d !== 1 && d !== want[off + i]) {
        throw new ShapeError(`${op}: attnMask of shape ${fmt(m)} does not broadcast to the scores ${fmt(want)}`);
      }
    });
  }
  return { mask, scale, p };
}
