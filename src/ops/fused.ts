/**
 * Fused primitives for hot composites: softmax, logSoftmax, softmax cross-entropy and GELU (both
 * forms). Each has one kernel per backend (WebAssembly SIMD for float32 on the CPU) and a backward
 * written in Tensor ops or as a second fused primitive with its own backward, so every order of
 * gradient is available. The composites they replace (composite.ts, `*Composite`) are the oracles
 * the tests compare them with, by value and by gradcheck.
 */
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import { fmt, normAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { apply, type OpDef } from './define.js';
import { scatterAdd } from './indexing.js';

function floatOnly(op: string, x: Tensor): void {
  if (x.dtype === 'int32')
    throw new DTypeError(`${op}: expected a float tensor, got int32 (cast with .to('float32') first)`);
}
/** How `gelu` computes: exactly with erf (`none`) or with the tanh approximation (torch: approximate). */
export type GeluApproximate = 'none' | 'tanh';

const softmaxDef: OpDef<'softmax'> = {
  name: 'softmax',
  kind: 'other',
  shape: ([x]) => (floatOnly('softmax', x), x.shape),
  forward: (k, [x], { axis }) => k.softmax(x, axis),
  // dx = y ⊙ (g − Σ g ⊙ y)
  backward: (g, { out: y, attrs: { axis } }) => [y.mul(g.sub(g.mul(y).sum(axis, true)))],
};
const logSoftmaxDef: OpDef<'logSoftmax'> = {
  name: 'logSoftmax',
  kind: 'other',
  shape: ([x]) => (floatOnly('logSoftmax', x), x.shape),
  forward: (k, [x], { axis }) => k.logSoftmax(x, axis),
  // dx = g − softmax(x) Σ g, with softmax(x) = exp(out)
  backward: (g, { out, attrs: { axis } }) => [g.sub(out.exp().mul(g.sum(axis, true)))],
};
const softmaxCrossEntropyDef: OpDef<'softmaxCrossEntropy'> = {
  name: 'softmaxCrossEntropy',
  kind: 'other',
  shape: ([x, t]) => {
    floatOnly('softmaxCrossEntropy', x);
    if (x.ndim !== 2 || t.ndim !== 1 || t.shape[0] !== x.shape[0]) {
      throw new ShapeError(
        `softmaxCrossEntropy: expected logits [N, C] and targets [N], got ${fmt(x.shape)} and ${fmt(t.shape)}`,
      );
    }
    return [x.shape[0]!];
  },
  forward: (k, [x, t]) => k.softmaxCrossEntropy(x, t),
  // dℓᵢ/dxᵢ = softmax(xᵢ) − onehot(tᵢ)
  backward: (g, { inputs: [x, t] }) => {
    const gc = g.unsqueeze(1);
    return [
      softmax(x, 1)
        .mul(gc)
        .sub(scatterAdd(x.shape, 1, t.unsqueeze(1), gc)),
      null,
    ];
  },
};
const geluDef: OpDef<'gelu'> = {
  name: 'gelu',
  kind: 'elementwise',
  shape: ([x]) => (floatOnly('gelu', x), x.shape),
  forward: (k, [x], { approximate }) => k.gelu(x, approximate === 'tanh'),
  backward: (g, { inputs: [x], attrs }) => [apply(geluBackwardDef, [g, x], attrs)],
};
const SQRT_2_PI = Math.sqrt(2 / Math.PI),
  A = 0.044715;
/** GELU″(x) in Tensor ops (the second derivative, for the backward of geluBackward). */
function geluSecond(x: Tensor, approximate: GeluApproximate): Tensor {
  if (approximate === 'tanh') {
    // d′ = s·u′ − x·t·s·u′² + ½·x·s·u″ with t = tanh(u), s = 1 − t², u′ = c(1 + 3a x²), u″ = 6ac·x
    const x2 = x.mul(x);
    const t = x.add(x2.mul(x).mul(A)).mul(SQRT_2_PI).tanh();
    const s = t.mul(t).neg().add(1);
    const du = x2
      .mul(3 * A)
      .add(1)
      .mul(SQRT_2_PI);
    return s.mul(du.sub(x.mul(t).mul(du).mul(du)).add(x.mul(x).mul(3 * A * SQRT_2_PI)));
  }
  // φ(x)(2 − x²), φ = standard normal density
  const x2 = x.mul(x);
  return x2
    .mul(-0.5)
    .exp()
    .mul(1 / Math.sqrt(2 * Math.PI))
    .mul(x2.neg().add(2));
}
const geluBackwardDef: OpDef<'geluBackward'> = {
  name: 'geluBackward',
  kind: 'elementwise',
  shape: ([g, x]) => {
    if (g.ndim !== x.ndim || g.shape.some((d, i) => d !== x.shape[i]) || g.dtype !== x.dtype) {
      throw new ShapeError(
        `geluBackward: gradient ${fmt(g.shape)} ${g.dtype} must match input ${fmt(x.shape)} ${x.dtype}`,
      );
    }
    return x.shape;
  },
  forward: (k, [g, x], { approximate }) => k.geluBackward(g, x, approximate === 'tanh'),
  backward: (gg, { inputs: [g, x], attrs, needs }) => [
    needs[0] ? apply(geluBackwardDef, [gg, x], attrs) : null,
    needs[1] ? gg.mul(g).mul(geluSecond(x, attrs.approximate)) : null,
  ],
};

export const fusedDefs = {
  softmax: softmaxDef,
  logSoftmax: logSoftmaxDef,
  softmaxCrossEntropy: softmaxCrossEntropyDef,
  gelu: geluDef,
  geluBackward: geluBackwardDef,
} as const;

/** Softmax along `dim` in one fused kernel (the composite is `softmaxComposite`). */
export function softmax(x: Tensor, dim = -1): Tensor {
  return apply(softmaxDef, [x], { axis: normAxis(dim, x.ndim, 'softmax') });
}
/** log(softmax(x)) along `dim`, stably, in one fused kernel. */
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  return apply(logSoftmaxDef, [x], { axis: normAxis(dim, x.ndim, 'logSoftmax') });
}
/** Per-sample cross-entropy of logits [N, C] at class indices [N] (validated by the caller). */
export function softmaxCrossEntropy(logits: Tensor, targets: Tensor): Tensor {
  return apply(softmaxCrossEntropyDef, [logits, targets], null);
}
/** GELU, exact (erf) by default as torch; `'tanh'` for the tanh form. */
export function gelu(x: Tensor, approximate: GeluApproximate = 'none'): Tensor {
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new ValueError(`gelu: approximate must be 'none' or 'tanh', got ${JSON.stringify(approximate)}`);
  }
  return apply(geluDef, [x], { approximate });
}
