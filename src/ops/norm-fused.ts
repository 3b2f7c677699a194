/**
 * The layerNorm primitive: layer (or RMS) normalisation over the trailing `dims` axes, with an
 * optional affine, in one kernel; and layerNormBackward, the input gradient of the plain
 * normalisation, a primitive too. Both backwards are Tensor ops over these two primitives, so every
 * order of gradient is available. norm.ts's layerNorm, rmsNorm and groupNorm call it; the composites
 * (fused-oracles.ts) are the oracles the tests compare it with.
 */
import type { Tensor } from '../tensor.js';
import { apply, type OpDef } from './define.js';

/** Attributes of layerNorm / layerNormBackward. */
export interface NormAttrs {
  /** How many trailing axes are normalised together, and how many values that is. */
  readonly dims: number;
  readonly n: number;
  readonly eps: number;
  /** RMS normalisation (no mean subtracted). */
  readonly rms: boolean;
  /** Whether inputs[1] is the weight, and the next input the bias. */
  readonly weight: boolean;
  readonly bias: boolean;
}
const plain = (a: NormAttrs): NormAttrs => (a.weight || a.bias ? { ...a, weight: false, bias: false } : a);
const axesOf = (x: Tensor, a: NormAttrs): number[] => Array.from({ length: a.dims }, (_, i) => x.ndim - a.dims + i);

const layerNormDef: OpDef<'layerNorm'> = {
  name: 'layerNorm',
  kind: 'other',
  shape: ([x]) => x.shape,
  forward: (k, [x, ...p], a) =>
    k.layerNorm(x, a.weight ? p[0]! : null, a.bias ? p[a.weight ? 1 : 0]! : null, a.n, a.eps, a.rms),
  // dx = J(x)ᵀ(g ⊙ w), dw = g ⊙ x̂ and db = g (apply sums both over the leading axes)
  backward: (g, { inputs: [x, ...p], attrs: a, needs }) => {
    const w = a.weight ? p[0]! : null;
    const gx = needs[0] ? apply(layerNormBackwardDef, [w ? g.mul(w) : g, x], plain(a)) : null;
    const grads: (Tensor | null)[] = [gx];
    if (w) grads.push(needs[1] ? g.mul(apply(layerNormDef, [x], plain(a))) : null);
    if (a.bias) grads.push(g);
    return grads;
  },
};

/**
 * The backward of layerNormBackward, B(g, x) = J(x) g with J symmetric: for a cotangent h,
 *   ∂/∂g = B(h, x),   ∂/∂x = −(r²/n)·x̂·(Σ h·gc − m·Σ h·x̂) − r·m·B(h, x) − (r/n)·(Σ h·x̂)·B(g, x),
 * per row, with r = 1/√(var + eps), x̂ the normalised x, m = mean(g·x̂) and gc = g − mean(g)
 * (g for rms): the differential of B = r·(gc − x̂·m) through r, x̂ and m.
 */
const layerNormBackwardDef: OpDef<'layerNormBackward'> = {
  name: 'layerNormBackward',
  kind: 'other',
  shape: ([, x]) => x.shape,
  forward: (k, [g, x], a) => k.layerNormBackward(g, x, a.n, a.eps, a.rms),
  backward: (h, { inputs: [g, x], out, attrs: a, needs }) => {
    const ax = axesOf(x, a);
    const bh = apply(layerNormBackwardDef, [h, x], a);
    if (!needs[1]) return [bh, null];
    const d = a.rms ? x : x.sub(x.mean(ax, true));
    const s = d.mul(d).mean(ax, true).add(a.eps).sqrt(); // 1/r
    const xh = d.div(s);
    const gc = a.rms ? g : g.sub(g.mean(ax, true));
    const m = g.mul(xh).mean(ax, true),
      shx = h.mul(xh).sum(ax, true);
    const t = h.mul(gc).sum(ax, true).sub(m.mul(shx));
    const gx = xh
      .mul(t)
      .div(s.mul(s).mul(a.n))
      .add(bh.mul(m).div(s))
      .add(out.mul(shx).div(s.mul(a.n)))
      .neg();
    return [needs[0] ? bh : null, gx];
  },
};

export const normDefs = { layerNorm: layerNormDef, layerNormBackward: layerNormBackwardDef } as const;

/**
 * Normalises x over its trailing `dims` axes (validated by the caller) in one kernel: layer
 * normalisation, or RMS normalisation with `rms`, then · weight + bias where given.
 */
export function normalize(
  x: Tensor,
  dims: number,
  eps: number,
  rms: boolean,
  weight: Tensor | null,
  bias: Tensor | null,
): Tensor {
  const n = x.shape.slice(x.ndim - dims).reduce((p, d) => p * d, 1);
  const inputs: [Tensor, ...Tensor[]] = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return apply(layerNormDef, inputs, { dims, n, eps, rms, weight: weight !== null, bias: bias !== null });
}
