import type { BinaryOp, UnaryOp } from '../backend/backend.js';
import type { DType } from '../dtype.js';
import { DTypeError } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import { asTensor, full, notATensor, Tensor, type TensorLike } from '../tensor.js';
import { INT32_MAX, INT32_MIN } from '../validate.js';
import { apply, defsFor, type Ctx, type Grads, type OpDef } from './define.js';

function requireFloat(op: string, ...ts: Tensor[]): void {
  for (const t of ts)
    if (t.dtype === 'int32')
      throw new DTypeError(`${op}: expected a float tensor, got int32 (cast with .to('float32') first)`);
}
function sameDType(op: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) {
    throw new DTypeError(
      `${op}: dtypes ${a.dtype} and ${b.dtype} differ; cast one explicitly with .to('${a.dtype}') or .to('${b.dtype}')`,
    );
  }
}

// ---- unary ------------------------------------------------------------------
/** (1 − x)(1 + x): 1 − x² without cancellation near |x| = 1. */
const oneMinusSq = (x: Tensor): Tensor => x.neg().add(1).mul(x.add(1));
const zeroGrad = (g: Tensor): Tensor => full(g.shape, 0, { dtype: g.dtype });
type UnaryRule = (g: Tensor, x: Tensor, out: Tensor) => Tensor | null;
const unaryRules: Record<UnaryOp, UnaryRule> = {
  neg: (g) => g.neg(),
  exp: (g, _x, y) => g.mul(y),
  log: (g, x) => g.div(x),
  sqrt: (g, _x, y) => g.div(y.mul(2)),
  abs: (g, x) => g.mul(x.sign()),
  tanh: (g, _x, y) => g.mul(y.mul(y).neg().add(1)),
  sigmoid: (g, _x, y) => g.mul(y.mul(y.neg().add(1))),
  relu: (g, x) => g.mul(x.gt(0)),
  sign: () => null,
  sin: (g, x) => g.mul(x.cos()),
  cos: (g, x) => g.mul(x.sin()).neg(),
  erf: (g, x) =>
    g.mul(
      x
        .mul(x)
        .neg()
        .exp()
        .mul(2 / Math.sqrt(Math.PI)),
    ),
  log1p: (g, x) => g.div(x.add(1)),
  expm1: (g, _x, y) => g.mul(y.add(1)),
  log2: (g, x) => g.div(x.mul(Math.LN2)),
  log10: (g, x) => g.div(x.mul(Math.LN10)),
  atan: (g, x) => g.div(x.mul(x).add(1)),
  asin: (g, x) => g.div(oneMinusSq(x).sqrt()),
  acos: (g, x) => g.div(oneMinusSq(x).sqrt()).neg(),
  // Piecewise constant: a zero gradient (not none), as PyTorch.
  floor: (g) => zeroGrad(g),
  ceil: (g) => zeroGrad(g),
  round: (g) => zeroGrad(g),
  trunc: (g) => zeroGrad(g),
};
export const unaryDefs = defsFor(
  unaryRules,
  <P extends UnaryOp>(op: P, rule: UnaryRule): OpDef<P> => ({
    name: op,
    kind: 'elementwise',
    shape: ([x]) => (requireFloat(op, x), x.shape),
    forward: (k, [x]) => k[op](x),
    backward: (g, { inputs: [x], out }) => [rule(g, x, out)],
  }),
);

const unary =
  (op: UnaryOp) =>
  (x: Tensor): Tensor =>
    apply(unaryDefs[op], [x] as const, null);
export const neg = unary('neg');
export const exp = unary('exp');
export const log = unary('log');
export const sqrt = unary('sqrt');
export const abs = unary('abs');
export const tanh = unary('tanh');
export const sigmoid = unary('sigmoid');
export const relu = unary('relu');
export const sign = unary('sign');
export const sin = unary('sin');
export const cos = unary('cos');
/** Elementwise Gauss error function (torch.erf). */
export const erf = unary('erf');
export const log1p = unary('log1p');
/** Elementwise e^x - 1, accurate near 0 (torch.expm1). */
export const expm1 = unary('expm1');
/** Elementwise base-2 logarithm (torch.log2). */
export const log2 = unary('log2');
/** Elementwise base-10 logarithm (torch.log10). */
export const log10 = unary('log10');
/** Elementwise arctangent (torch.atan). */
export const atan = unary('atan');
/** Elementwise arcsine (torch.asin). */
export const asin = unary('asin');
/** Elementwise arccosine (torch.acos). */
export const acos = unary('acos');
/** Elementwise floor; zero gradient (torch.floor). */
export const floor = unary('floor');
/** Elementwise ceiling; zero gradient (torch.ceil). */
export const ceil = unary('ceil');
/** Elementwise rounding toward zero; zero gradient (torch.trunc). */
export const trunc = unary('trunc');
const roundHalfEven = unary('round');
/** Rounds half to even (as torch.round); `decimals` rounds to that many decimal places. */
export function round(x: Tensor, decimals = 0): Tensor {
  if (!Number.isInteger(decimals)) throw new DTypeError(`round: decimals must be an integer, got ${decimals}`);
  if (decimals === 0) return roundHalfEven(x);
  const s = 10 ** decimals;
  return roundHalfEven(x.mul(s)).div(s);
}

// ---- binary -----------------------------------------------------------------
type BinaryRule = (g: Tensor, ctx: Ctx<readonly [Tensor, Tensor], null>) => Grads;
const half = (t: Tensor): Tensor => t.mul(0.5);
const binaryRules: Record<BinaryOp, BinaryRule | null> = {
  add: (g) => [g, g],
  sub: (g) => [g, g.neg()],
  mul: (g, { inputs: [a, b] }) => [g.mul(b), g.mul(a)],
  div: (g, { inputs: [, b], out, needs }) => [g.div(b), needs[1] ? g.mul(out).div(b).neg() : null],
  pow: (g, { inputs: [a, b], out, needs }) => {
    // d/da a^b = b a^(b-1) (0 where b = 0, as PyTorch); d/db a^b = a^b log a (0 where a = 0 and b ≥ 0).
    let ga: Tensor | null = null;
    if (needs[0]) {
      const d = b.mul(a.pow(b.sub(1)));
      ga = g.mul(b.size === 1 && !b.requiresGrad ? (b.data[0] === 0 ? d.mul(0) : d) : where(b.eq(0), 0, d));
    }
    const gb = needs[1] ? g.mul(where(a.eq(0).mul(b.ge(0)), 0, out.mul(a.log()))) : null;
    return [ga, gb];
  },
  maximum: (g, { inputs: [a, b] }) => [g.mul(a.gt(b).add(half(a.eq(b)))), g.mul(a.lt(b).add(half(a.eq(b))))],
  minimum: (g, { inputs: [a, b] }) => [g.mul(a.lt(b).add(half(a.eq(b)))), g.mul(a.gt(b).add(half(a.eq(b))))],
  eq: null,
  ne: null,
  lt: null,
  le: null,
  gt: null,
  ge: null,
  atan2: (g, { inputs: [y, x] }) => {
    const r2 = x.mul(x).add(y.mul(y));
    return [g.mul(x).div(r2), g.mul(y).div(r2).neg()];
  },
};
/** Binary ops that also take int32 (exact in int32, and never differentiated): comparisons and ring arithmetic. */
const INT_OK = new Set<BinaryOp>(['add', 'sub', 'mul', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge']);
export const binaryDefs = defsFor(
  binaryRules,
  <P extends BinaryOp>(op: P, rule: BinaryRule | null): OpDef<P> => ({
    name: op,
    kind: 'elementwise',
    shape: ([a, b]) => {
      if (!INT_OK.has(op)) requireFloat(op, a, b);
      sameDType(op, a, b);
      return broadcastShapes(op, a.shape, b.shape);
    },
    forward: (k, [a, b], _attrs, os) => k[op](a, b, os),
    backward: rule,
  }),
);

/** Lifts a scalar operand to a 0-d tensor of the other operand's dtype. */
export function lift(a: TensorLike, b: TensorLike, op: string): [Tensor, Tensor] {
  if (a instanceof Tensor) return [a, asTensor(b, a.dtype, op, 'second operand')];
  if (b instanceof Tensor) return [asTensor(a, b.dtype, op, 'first operand'), b];
  if (typeof a !== 'number') throw notATensor(op, 'first operand', a, true);
  if (typeof b !== 'number') throw notATensor(op, 'second operand', b, true);
  throw new DTypeError(`${op}: at least one operand must be a Tensor`);
}
const binary =
  (op: BinaryOp) =>
  (a: TensorLike, b: TensorLike): Tensor =>
    apply(binaryDefs[op], lift(a, b, op), null);
export const add = binary('add');
export const sub = binary('sub');
export const mul = binary('mul');
export const div = binary('div');
export const pow = binary('pow');
export const maximum = binary('maximum');
export const minimum = binary('minimum');
export const eq = binary('eq');
export const ne = binary('ne');
export const lt = binary('lt');
export const le = binary('le');
export const gt = binary('gt');
export const ge = binary('ge');
/** atan2(y, x): the angle of (x, y) in (−π, π], elementwise with broadcasting. */
export const atan2 = binary('atan2');

// ---- where, cast --------------------------------------------------------------
export const whereDef: OpDef<'where'> = {
  name: 'where',
  kind: 'elementwise',
  shape: ([c, a, b]) => (sameDType('where', a, b), broadcastShapes('where', c.shape, a.shape, b.shape)),
  forward: (k, [c, a, b], _attrs, os) => k.where(c, a, b, os),
  backward: (g, { inputs: [c] }) => {
    const zero = asTensor(0, g.dtype);
    return [null, where(c, g, zero), where(c, zero, g)];
  },
};
/** Picks `a` where `cond` is non-zero, else `b` (broadcasting all three). */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  if (!(cond instanceof Tensor)) throw notATensor('where', 'condition', cond);
  const [x, y] = lift(a, b, 'where');
  return apply(whereDef, [cond, x, y], null);
}

export const castDef: OpDef<'cast'> = {
  name: 'cast',
  kind: 'elementwise',
  shape: ([x]) => x.shape,
  forward: (k, [x], dtype) => k.cast(x, dtype),
  backward: (g, { inputs: [x] }) => [x.dtype === 'int32' ? null : g.to(x.dtype)],
};
export function cast(x: Tensor, dtype: DType): Tensor {
  if (dtype === 'int32' && x.dtype !== 'int32') {
    // Truncation toward zero, as torch; values that do not fit int32 (or NaN) are refused rather than wrapped.
    const d = x.data;
    for (let i = 0; i < d.length; i++) {
      const v = Math.trunc(d[i]!);
      if (!(v >= INT32_MIN && v <= INT32_MAX)) {
        throw new DTypeError(
          `cast: value ${d[i]} at flat index ${i} does not fit int32 (expected [${INT32_MIN}, ${INT32_MAX}])`,
        );
      }
    }
  }
  if (dtype === 'int32' && x.requiresGrad) return apply(castDef, [x.detach()], dtype);
  return apply(castDef, [x], dtype);
}
