/**
 * Every primitive and composite, through gradcheck in float64, on several shapes including
 * broadcast cases. One row per op: adding an op means adding a row here.
 */
import { describe, expect, it } from 'vitest';
import {
  binaryCrossEntropyWithLogits, concat, crossEntropy, cumsum, gather, gelu, gradcheck, gradgradcheck, indexSelect, logSumExp,
  matmul, mseLoss, nllLoss, pad, scatterAdd, sliceScatter, stack, tensor, where, type Tensor,
} from '../../src/index.js';
import { PRIMITIVES, registry, type Primitive } from '../../src/ops/registry.js';
import { rnd } from '../helpers.js';

type Kind = 'any' | 'pos' | 'away0';
interface Row {
  name: string;
  f: (...xs: Tensor[]) => Tensor;
  /** One list of input shapes per case. */
  shapes: number[][][];
  kinds?: Kind[];
  /** Also check second derivatives. */
  second?: boolean;
}

const same = [[[3]], [[2, 3]], [[2, 1, 3]]];
const bcast = [[[2, 3], [2, 3]], [[2, 3], [3]], [[2, 1], [1, 3]], [[], [2, 2]], [[3, 1, 2], [2]]];
const unary = (name: string, f: (x: Tensor) => Tensor, kind: Kind = 'any', second = true): Row => ({ name, f, shapes: same, kinds: [kind], second });
const binary = (name: string, f: (a: Tensor, b: Tensor) => Tensor, kinds: Kind[] = ['any', 'any'], second = true): Row => ({ name, f, shapes: bcast, kinds, second });

const idx = tensor([[0, 2, 1], [1, 1, 0]], { dtype: 'int32' });
/** A primitive with `backward: null` (its output is not differentiable): the test checks it records nothing. */
interface NoGradient {
  noGradient: (x: Tensor) => Tensor;
}
type Rows = readonly [Row, ...Row[]];
const cmp = (f: (a: Tensor, b: Tensor) => Tensor): NoGradient => ({ noGradient: (x) => f(x, x.mul(0.5)) });

/** One entry per primitive (typed by the registry, so a primitive without a row does not compile). */
const primitives: { readonly [P in Primitive]: Rows | NoGradient } = {
  neg: [unary('neg', (x) => x.neg())],
  exp: [unary('exp', (x) => x.exp())],
  log: [unary('log', (x) => x.log(), 'pos')],
  sqrt: [unary('sqrt', (x) => x.sqrt(), 'pos')],
  abs: [unary('abs', (x) => x.abs(), 'away0')],
  tanh: [unary('tanh', (x) => x.tanh())],
  sigmoid: [unary('sigmoid', (x) => x.sigmoid())],
  relu: [unary('relu', (x) => x.relu(), 'away0')],
  sign: [unary('sign', (x) => x.sign(), 'away0')],
  sin: [unary('sin', (x) => x.sin())],
  cos: [unary('cos', (x) => x.cos())],
  erf: [unary('erf', (x) => x.erf())],
  log1p: [unary('log1p', (x) => x.log1p(), 'pos')],
  cast: [unary('cast (float64 → float64 clone)', (x) => x.clone())],
  add: [binary('add', (a, b) => a.add(b))],
  sub: [binary('sub', (a, b) => a.sub(b))],
  mul: [binary('mul', (a, b) => a.mul(b))],
  div: [binary('div', (a, b) => a.div(b), ['any', 'away0'])],
  pow: [
    binary('pow (tensor exponent)', (a, b) => a.pow(b), ['pos', 'any']),
    unary('pow (scalar exponent)', (x) => x.pow(3)),
    unary('pow (fractional exponent)', (x) => x.pow(-1.5), 'pos'),
  ],
  maximum: [binary('maximum', (a, b) => a.maximum(b))],
  minimum: [binary('minimum', (a, b) => a.minimum(b))],
  eq: cmp((a, b) => a.eq(b)),
  ne: cmp((a, b) => a.ne(b)),
  lt: cmp((a, b) => a.lt(b)),
  le: cmp((a, b) => a.le(b)),
  gt: cmp((a, b) => a.gt(b)),
  ge: cmp((a, b) => a.ge(b)),
  where: [{ name: 'where', f: (a, b) => where(a.gt(0), a, b), shapes: [[[2, 3], [2, 3]], [[2, 3], [3]]], kinds: ['away0', 'any'], second: true }],
  sum: [
    { name: 'sum (all)', f: (x) => x.sum(), shapes: same, second: true },
    { name: 'sum (axis, keepdim)', f: (x) => x.sum(1, true), shapes: [[[2, 3]], [[2, 3, 2]]], second: true },
    { name: 'sum (two axes)', f: (x) => x.sum([0, 2]), shapes: [[[2, 3, 2]]] },
  ],
  max: [
    { name: 'max (all)', f: (x) => x.max(), shapes: same, second: true },
    { name: 'max (axis)', f: (x) => x.max(0), shapes: [[[3, 2]], [[2, 3, 2]]] },
  ],
  min: [{ name: 'min (axes, keepdim)', f: (x) => x.min([0, 1], true), shapes: [[[3, 2]], [[2, 3, 2]]] }],
  argmax: { noGradient: (x) => x.argmax(0) },
  argmin: { noGradient: (x) => x.argmin() },
  matmul: [
    { name: 'matmul 2-D', f: (a, b) => a.matmul(b), shapes: [[[2, 3], [3, 4]], [[1, 1], [1, 1]]], second: true },
    { name: 'matmul batched + broadcast', f: (a, b) => a.matmul(b), shapes: [[[2, 2, 3], [3, 2]], [[2, 1, 2, 3], [3, 3, 2]], [[3, 2], [2, 2, 3]]], second: true },
    { name: 'matmul 1-D operands', f: (a, b) => a.matmul(b), shapes: [[[3], [3]], [[3], [3, 2]], [[2, 3], [3]], [[2, 3], [2, 3, 2]]] },
    { name: 'matmul transA/transB', f: (a, b) => matmul(a, b, { transA: true, transB: true }), shapes: [[[3, 2], [4, 3]], [[2, 3, 2], [4, 3]]], second: true },
  ],
  reshape: [
    { name: 'reshape', f: (x) => x.reshape([3, -1]), shapes: [[[2, 3]], [[6]]] },
    { name: 'squeeze/unsqueeze', f: (x) => x.squeeze().unsqueeze(0), shapes: [[[2, 1, 3]]] },
    { name: 'flatten', f: (x) => x.flatten(1), shapes: [[[2, 3, 2]]] },
  ],
  permute: [
    { name: 'permute', f: (x) => x.permute([2, 0, 1]), shapes: [[[2, 3, 2]]] },
    { name: 'transpose', f: (x) => x.transpose(0, 1), shapes: [[[2, 3]]] },
  ],
  expand: [{ name: 'expand', f: (x) => x.expand([2, 3, 3]), shapes: [[[3, 1]], [[1, 3, 3]], [[3]]] }],
  concat: [
    { name: 'concat', f: (a, b) => concat([a, b, a], 1), shapes: [[[2, 3], [2, 1]]] },
    { name: 'stack', f: (a, b) => stack([a, b], -1), shapes: [[[2, 3], [2, 3]]] },
  ],
  slice: [{ name: 'slice (steps, negatives)', f: (x) => x.slice([[1], [-4, undefined, 2]]), shapes: [[[3, 5]]] }],
  sliceScatter: [
    { name: 'sliceScatter', f: (x) => sliceScatter(x, [4, 5], [1, 0], [2, 2]), shapes: [[[2, 3]]] },
    { name: 'pad (zero)', f: (x) => pad(x, [[1, 0], [2, 1]]), shapes: [[[2, 3]]] },
    { name: 'pad (constant 2.5)', f: (x) => x.pad([[0, 1]], 2.5), shapes: [[[2, 3]]] },
  ],
  gather: [
    { name: 'gather', f: (x) => gather(x, 1, idx), shapes: [[[2, 3]]] },
    { name: 'indexSelect', f: (x) => indexSelect(x, 0, [2, 0, 2]), shapes: [[[3, 2]]] },
  ],
  scatterAdd: [{ name: 'scatterAdd', f: (x) => scatterAdd([2, 4], 1, idx, x), shapes: [[[2, 3]]] }],
  cumsum: [
    { name: 'cumsum (last axis)', f: (x) => x.cumsum(-1), shapes: [[[2, 3]], [[4]]], second: true },
    { name: 'cumsum (first axis, 3-D)', f: (x) => cumsum(x, 0), shapes: [[[3, 2, 2]]], second: true },
  ],
};

const composites: Row[] = [
  { name: 'mean (axis)', f: (x) => x.mean(-1), shapes: [[[2, 3]], [[2, 3, 2]]] },
  { name: 'softmax', f: (x) => x.softmax(-1), shapes: [[[2, 3]], [[4]]], second: true },
  { name: 'logSoftmax', f: (x) => x.logSoftmax(0), shapes: [[[3, 2]]], second: true },
  { name: 'logSumExp', f: (x) => logSumExp(x, 1), shapes: [[[2, 3]]], second: true },
  { name: 'var', f: (x) => x.var(1), shapes: [[[2, 3]]], second: true },
  { name: 'std', f: (x) => x.std(), shapes: [[[2, 3]]] },
  { name: 'clamp', f: (x) => x.clamp(-0.5, 0.7), shapes: [[[2, 3]]] },
  { name: 'gelu (erf)', f: (x) => gelu(x), shapes: [[[2, 3]]], second: true },
  { name: 'gelu (tanh)', f: (x) => gelu(x, 'tanh'), shapes: [[[2, 3]]] },
  { name: 'softplus', f: (x) => x.softplus(), shapes: [[[2, 3]]], kinds: ['away0'], second: true },
  { name: 'mseLoss', f: (a, b) => mseLoss(a, b), shapes: [[[2, 3], [2, 3]]], second: true },
  { name: 'crossEntropy', f: (x) => crossEntropy(x, [2, 0]), shapes: [[[2, 3]]], second: true },
  { name: 'crossEntropy (label smoothing)', f: (x) => crossEntropy(x, [1, 2], { labelSmoothing: 0.1 }), shapes: [[[2, 3]]] },
  { name: 'nllLoss', f: (x) => nllLoss(x.logSoftmax(1), [1, 1], 'sum'), shapes: [[[2, 3]]] },
  { name: 'binaryCrossEntropyWithLogits', f: (x, t) => binaryCrossEntropyWithLogits(x, t.sigmoid()), shapes: [[[2, 3], [2, 3]]], kinds: ['away0', 'any'] },
];


const rows: Row[] = [
  ...PRIMITIVES.flatMap((p) => {
    const e = primitives[p];
    return 'noGradient' in e ? [] : e;
  }),
  ...composites,
];

describe('primitives without a gradient (backward: null)', () => {
  for (const p of PRIMITIVES) {
    const e = primitives[p];
    if (!('noGradient' in e)) continue;
    it(p, () => {
      expect(registry[p].backward).toBeNull();
      const y = e.noGradient(rnd([2, 3], 7, 'any').requiresGrad_());
      expect(y.requiresGrad).toBe(false);
      expect(y.node).toBeNull();
    });
  }
});

describe('gradcheck table (float64)', () => {
  for (const row of rows) {
    it(row.name, () => {
      row.shapes.forEach((shapes, c) => {
        const xs = shapes.map((s, i) => rnd(s, 100 * c + i + 1, row.kinds?.[i] ?? 'any'));
        const r = gradcheck(row.f, xs);
        expect(r.ok, `${row.name} case ${c} (${JSON.stringify(shapes)}): ${JSON.stringify(r.worst)}`).toBe(true);
        expect(r.checked).toBeGreaterThan(0);
        if (row.second && c === 0) {
          const r2 = gradgradcheck(row.f, xs);
          expect(r2.ok, `${row.name} second order: ${JSON.stringify(r2.worst)}`).toBe(true);
        }
      });
    });
  }
});
