import { DTypeError, ShapeError } from '../errors.js';
import { broadcastShapes, fmt, sizeOf } from '../shape.js';
import { activeTracer } from '../tape.js';
import { expectTensor, type Tensor } from '../tensor.js';
import { checkOptions } from '../validate.js';
import { apply, type OpDef } from './define.js';

const dims = (t: Tensor, trans: boolean): [number, number] => {
  const r = t.shape[t.ndim - 2] ?? 1,
    c = t.shape[t.ndim - 1] ?? 1;
  return trans ? [c, r] : [r, c];
};

/**
 * The primitive: op(a) @ op(b), op = optional transpose of the last two axes. Backward passes
 * use the flags instead of materialising transposes.
 */
export const matmulDef: OpDef<'matmul'> = {
  name: 'matmul',
  kind: 'matmul',
  shape: ([a, b], { ta, tb }) => {
    if (a.dtype !== b.dtype)
      throw new DTypeError(`matmul: dtypes ${a.dtype} and ${b.dtype} differ; cast one explicitly`);
    if (a.dtype === 'int32') throw new DTypeError('matmul: expected float tensors, got int32');
    const [m, k] = dims(a, ta),
      [k2, n] = dims(b, tb);
    if (k !== k2)
      throw new ShapeError(
        `matmul: shapes ${fmt(a.shape)} and ${fmt(b.shape)} are incompatible: inner dimensions ${k} ≠ ${k2}`,
      );
    return [...broadcastShapes('matmul (batch dimensions)', a.shape.slice(0, -2), b.shape.slice(0, -2)), m, n];
  },
  forward: (k, [a, b], { ta, tb }, os) => k.matmul(a, b, os, ta, tb),
  backward: (g, { inputs: [a, b], attrs: { ta, tb }, needs }) => [
    needs[0] ? (ta ? mm(b, g, tb, true) : mm(g, b, false, !tb)) : null,
    needs[1] ? (tb ? mm(g, a, true, ta) : mm(a, g, !ta, false)) : null,
  ],
};
const mm = (a: Tensor, b: Tensor, ta: boolean, tb: boolean): Tensor => apply(matmulDef, [a, b], { ta, tb });

/** Matrix product with NumPy semantics: 1-D operands are promoted and the added axis removed; batch dims broadcast. */
export function matmul(a: Tensor, b: Tensor, opts: { transA?: boolean; transB?: boolean } = {}): Tensor {
  expectTensor('matmul', 'first operand', a);
  expectTensor('matmul', 'second operand', b);
  checkOptions('matmul', opts, ['transA', 'transB']);
  if (a.ndim === 0 || b.ndim === 0)
    throw new ShapeError(`matmul: operands must be at least 1-D, got shapes ${fmt(a.shape)} and ${fmt(b.shape)}`);
  const a2 = a.ndim === 1 ? a.unsqueeze(0) : a;
  const b2 = b.ndim === 1 ? b.unsqueeze(1) : b;
  const ta = opts.transA ?? false,
    tb = opts.transB ?? false;
  // A batched a against a matrix b (a Linear on [B, T, C]): one GEMM over the folded rows, so b's gradient is
  // one product too. Nothing reads the folded product again (the view holds its values): its handle goes now.
  const fold = a2.ndim > 2 && b2.ndim === 2 && !ta;
  const o2 = fold
    ? mm(a2.reshape([sizeOf(a2.shape.slice(0, -1)), a2.shape.at(-1)!]), b2, false, tb)
    : mm(a2, b2, ta, tb);
  let out = fold ? o2.reshape([...a2.shape.slice(0, -1), b2.shape[tb ? 0 : 1]!]) : o2;
  if (out !== o2 && activeTracer() === null) o2.dispose();
  if (b.ndim === 1) out = out.squeeze(-1);
  if (a.ndim === 1) out = out.squeeze(out.ndim - (b.ndim === 1 ? 1 : 2));
  return out;
}
