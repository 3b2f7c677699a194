/**
 * Every primitive and composite, through gradcheck in float64, on several shapes including
 * broadcast cases. One row per op: adding an op means adding a row here.
 */
import { describe, expect, it } from 'vitest';
import {
  binaryCrossEntropyWithLogits,
  concat,
  crossEntropy,
  cumsum,
  gather,
  gelu,
  grad,
  gradcheck,
  gradgradcheck,
  indexSelect,
  logSumExp,
  matmul,
  mseLoss,
  nllLoss,
  pad,
  scatterAdd,
  sliceScatter,
  stack,
  tensor,
  where,
  type Tensor,
  atan2,
  binaryCrossEntropy,
  einsum,
  huberLoss,
  klDiv,
  l1Loss,
  logaddexp,
  smoothL1Loss,
  sort,
  topk,
} from '../../src/index.js';
import { conv2d, convTranspose2d, fold, maxPool2d, unfold, zeros } from '../../src/index.js';
import { apply } from '../../src/ops/define.js';
import { PRIMITIVES, registry, type Primitive } from '../../src/ops/registry.js';
import { scaledDotProductAttention } from '../../src/ops/attention.js';
import { crossEntropyComposite, rnd } from '../helpers.js';
import { geluComposite, logSoftmaxComposite, softmaxComposite } from '../../src/ops/fused-oracles.js';

/** g · GELU′(x) as a function of both (the geluBackward primitive, reached through grad with createGraph). */
const geluVjp =
  (approximate: 'none' | 'tanh') =>
  (x: Tensor, g: Tensor): Tensor =>
    grad((y: Tensor) => gelu(y, approximate).mul(g).sum(), { createGraph: true })(x) as Tensor;
import { convAttrsOf, convCases, convOpts, convTCases } from './conv-oracle.js';
import { groupNorm, layerNorm, rmsNorm } from '../../src/ops/norm.js';
import { layerNormComposite, rmsNormComposite } from '../../src/ops/fused-oracles.js';

/** The input gradient of layerNorm (or rmsNorm) with a weight, as a function of x, g and w (reaches layerNormBackward). */
const normVjp =
  (rms: boolean) =>
  (x: Tensor, g: Tensor, w: Tensor): Tensor =>
    grad(
      (y: Tensor) =>
        (rms ? rmsNorm(y, y.shape.at(-1)!, { weight: w }) : layerNorm(y, y.shape.at(-1)!, { weight: w })).mul(g).sum(),
      { createGraph: true },
    )(x) as Tensor;

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
const bcast = [
  [
    [2, 3],
    [2, 3],
  ],
  [[2, 3], [3]],
  [
    [2, 1],
    [1, 3],
  ],
  [[], [2, 2]],
  [[3, 1, 2], [2]],
];
const unary = (name: string, f: (x: Tensor) => Tensor, kind: Kind = 'any', second = true): Row => ({
  name,
  f,
  shapes: same,
  kinds: [kind],
  second,
});
const binary = (
  name: string,
  f: (a: Tensor, b: Tensor) => Tensor,
  kinds: Kind[] = ['any', 'any'],
  second = true,
): Row => ({ name, f, shapes: bcast, kinds, second });

const idx = tensor(
  [
    [0, 2, 1],
    [1, 1, 0],
  ],
  { dtype: 'int32' },
);
/** A primitive with `backward: null` (its output is not differentiable): the test checks it records nothing. */
interface NoGradient {
  noGradient: (x: Tensor) => Tensor;
}
type Rows = readonly [Row, ...Row[]];
const cmp = (f: (a: Tensor, b: Tensor) => Tensor): NoGradient => ({ noGradient: (x) => f(x, x.mul(0.5)) });
const nonEmpty = (rs: Row[]): Rows => {
  const [first, ...rest] = rs;
  if (!first) throw new Error('a primitive needs at least one row');
  return [first, ...rest];
};

// Convolution and pooling: the cases of ./conv-oracle.ts (also used by conv.test.ts), tanh/square so that
// the second order is not trivially zero.
const conv2dRows = nonEmpty(
  convCases.map((c) => ({
    name: `conv2d ${JSON.stringify(c)}`,
    f: (x: Tensor, w: Tensor, b: Tensor) => conv2d(x, w, b, convOpts(c)).tanh(),
    shapes: [[c.x, c.w, [c.w[0]!]]],
    second: true,
  })),
);
const convTRows = nonEmpty(
  convTCases.map((c) => ({
    name: `convTranspose2d ${JSON.stringify(c)}`,
    f: (y: Tensor, w: Tensor, b: Tensor) =>
      convTranspose2d(y, w, b, { ...convOpts(c), outputPadding: c.outputPadding }).tanh(),
    shapes: [[c.y, c.w, [c.w[1]! * (c.groups ?? 1)]]],
    second: true,
  })),
);
/** conv2dWeight(x, gy) is only reached through conv2d's backward: applied directly here. */
const convWRows = nonEmpty(
  convCases.slice(1, 3).map((c) => {
    const a = convAttrsOf(c, [c.w[2]!, c.w[3]!]);
    return {
      name: `conv2dWeight ${JSON.stringify(c)}`,
      f: (x: Tensor, gy: Tensor) => apply(registry.conv2dWeight, [x, gy], a).tanh(),
      shapes: [[c.x, [...conv2d(zeros(c.x), zeros(c.w), null, convOpts(c)).shape]]],
      second: true,
    };
  }),
);
const unfoldOpts = { stride: [2, 1], padding: 1, dilation: [1, 2] };
const planeIdx = tensor(
  [
    [0, 2, 2],
    [3, 1, 0],
  ],
  { dtype: 'int32' },
);

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
  where: [
    {
      name: 'where',
      f: (a, b) => where(a.gt(0), a, b),
      shapes: [
        [
          [2, 3],
          [2, 3],
        ],
        [[2, 3], [3]],
      ],
      kinds: ['away0', 'any'],
      second: true,
    },
  ],
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
    {
      name: 'matmul 2-D',
      f: (a, b) => a.matmul(b),
      shapes: [
        [
          [2, 3],
          [3, 4],
        ],
        [
          [1, 1],
          [1, 1],
        ],
      ],
      second: true,
    },
    {
      name: 'matmul batched + broadcast',
      f: (a, b) => a.matmul(b),
      shapes: [
        [
          [2, 2, 3],
          [3, 2],
        ],
        [
          [2, 1, 2, 3],
          [3, 3, 2],
        ],
        [
          [3, 2],
          [2, 2, 3],
        ],
      ],
      second: true,
    },
    {
      name: 'matmul 1-D operands',
      f: (a, b) => a.matmul(b),
      shapes: [
        [[3], [3]],
        [[3], [3, 2]],
        [[2, 3], [3]],
        [
          [2, 3],
          [2, 3, 2],
        ],
      ],
    },
    {
      name: 'matmul transA/transB',
      f: (a, b) => matmul(a, b, { transA: true, transB: true }),
      shapes: [
        [
          [3, 2],
          [4, 3],
        ],
        [
          [2, 3, 2],
          [4, 3],
        ],
      ],
      second: true,
    },
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
    {
      name: 'concat',
      f: (a, b) => concat([a, b, a], 1),
      shapes: [
        [
          [2, 3],
          [2, 1],
        ],
      ],
    },
    {
      name: 'stack',
      f: (a, b) => stack([a, b], -1),
      shapes: [
        [
          [2, 3],
          [2, 3],
        ],
      ],
    },
  ],
  slice: [
    { name: 'slice (steps, negatives)', f: (x) => x.slice([[1], [-4, undefined, 2]]), shapes: [[[3, 5]]] },
    {
      name: 'slice (negative steps)',
      f: (x) =>
        x
          .slice([
            [undefined, undefined, -1],
            [-1, 0, -2],
          ])
          .mul(2),
      shapes: [[[3, 5]]],
      second: true,
    },
  ],
  sliceScatter: [
    { name: 'sliceScatter', f: (x) => sliceScatter(x, [4, 5], [1, 0], [2, 2]), shapes: [[[2, 3]]] },
    {
      name: 'pad (zero)',
      f: (x) =>
        pad(x, [
          [1, 0],
          [2, 1],
        ]),
      shapes: [[[2, 3]]],
    },
    { name: 'pad (constant 2.5)', f: (x) => x.pad([[0, 1]], 2.5), shapes: [[[2, 3]]] },
  ],
  gather: [
    { name: 'gather', f: (x) => gather(x, 1, idx), shapes: [[[2, 3]]] },
    {
      name: 'sort values (argsort + gather)',
      f: (x) => sort(x, 1).values.mul(tensor([1, 2, 3, 4], { dtype: 'float64' })),
      shapes: [[[3, 4]]],
      second: true,
    },
    { name: 'sort descending, dim 0', f: (x) => x.sort(0, true).values.pow(2), shapes: [[[4, 2]]], second: true },
    { name: 'topk', f: (x) => topk(x, 2, 1).values.exp(), shapes: [[[3, 5]]], second: true },
    {
      name: 'topk (smallest)',
      f: (x) => x.topk(3, 0, false).values.mul(x.topk(3, 0, false).values),
      shapes: [[[4, 2]]],
    },
    { name: 'indexSelect', f: (x) => indexSelect(x, 0, [2, 0, 2]), shapes: [[[3, 2]]] },
  ],
  scatterAdd: [{ name: 'scatterAdd', f: (x) => scatterAdd([2, 4], 1, idx, x), shapes: [[[2, 3]]] }],
  cumsum: [
    { name: 'cumsum (last axis)', f: (x) => x.cumsum(-1), shapes: [[[2, 3]], [[4]]], second: true },
    { name: 'cumsum (first axis, 3-D)', f: (x) => cumsum(x, 0), shapes: [[[3, 2, 2]]], second: true },
  ],
  softmax: [
    {
      name: 'softmax (fused, last axis)',
      f: (x) => x.softmax(-1),
      shapes: [[[2, 3]], [[4]], [[2, 2, 5]]],
      second: true,
    },
    { name: 'softmax (fused, middle axis)', f: (x) => x.softmax(1), shapes: [[[2, 3, 2]]], second: true },
  ],
  logSoftmax: [
    {
      name: 'logSoftmax (fused, last axis)',
      f: (x) => x.logSoftmax(-1),
      shapes: [[[2, 3]], [[3, 1, 4]]],
      second: true,
    },
    { name: 'logSoftmax (fused, first axis)', f: (x) => x.logSoftmax(0), shapes: [[[3, 2]]], second: true },
  ],
  softmaxCrossEntropy: [
    { name: 'crossEntropy (fused softmax + NLL)', f: (x) => crossEntropy(x, [2, 0]), shapes: [[[2, 3]]], second: true },
    {
      name: 'crossEntropy (fused, sum, repeated class)',
      f: (x) => crossEntropy(x, [1, 1, 0], { reduction: 'sum' }),
      shapes: [[[3, 4]]],
      second: true,
    },
  ],
  gelu: [
    { name: 'gelu (fused, erf)', f: (x) => gelu(x), shapes: [[[2, 3]], [[5]]], kinds: ['any'], second: true },
    { name: 'gelu (fused, tanh)', f: (x) => gelu(x, 'tanh'), shapes: [[[2, 3]]], second: true },
  ],
  geluBackward: [
    {
      name: 'geluBackward (erf) in x and g',
      f: geluVjp('none'),
      shapes: [
        [
          [2, 3],
          [2, 3],
        ],
      ],
      second: true,
    },
    {
      name: 'geluBackward (tanh) in x and g',
      f: geluVjp('tanh'),
      shapes: [
        [
          [2, 3],
          [2, 3],
        ],
      ],
      second: true,
    },
  ],
  layerNorm: [
    { name: 'layerNorm (fused)', f: (x) => layerNorm(x, 3), shapes: [[[2, 3]], [[2, 2, 3]]], second: true },
    {
      name: 'layerNorm (fused, weight and bias, 2 dims)',
      f: (x, w, b) => layerNorm(x, [2, 3], { weight: w, bias: b }),
      shapes: [
        [
          [2, 2, 3],
          [2, 3],
          [2, 3],
        ],
      ],
      second: true,
    },
    {
      name: 'rmsNorm (fused, weight)',
      f: (x, w) => rmsNorm(x, 4, { weight: w }),
      shapes: [[[3, 4], [4]]],
      second: true,
    },
    { name: 'groupNorm (fused rows)', f: (x) => groupNorm(x, 2), shapes: [[[2, 4, 3]]], second: true },
  ],
  layerNormBackward: [
    {
      name: 'layerNormBackward in x and g (weight)',
      f: normVjp(false),
      shapes: [[[2, 3], [2, 3], [3]]],
      second: true,
    },
    {
      name: 'layerNormBackward (rms) in x and g',
      f: normVjp(true),
      shapes: [[[2, 4], [2, 4], [4]]],
      second: true,
    },
  ],
  // issue 12
  expm1: [unary('expm1', (x) => x.expm1())],
  log2: [unary('log2', (x) => x.log2(), 'pos')],
  log10: [unary('log10', (x) => x.log10(), 'pos')],
  atan: [unary('atan', (x) => x.atan())],
  asin: [unary('asin', (x) => x.mul(0.45).asin())],
  acos: [unary('acos', (x) => x.mul(0.45).acos())],
  atan2: [binary('atan2', (a, b) => atan2(a, b), ['away0', 'away0'])],
  // piecewise constant: a zero gradient (checked numerically), no second order
  floor: [unary('floor (zero gradient)', (x) => x.floor().add(x), 'any', false)],
  ceil: [unary('ceil (zero gradient)', (x) => x.ceil().mul(x), 'any', false)],
  round: [unary('round (zero gradient)', (x) => x.round().add(x), 'any', false)],
  trunc: [unary('trunc (zero gradient)', (x) => x.trunc().mul(x), 'any', false)],
  argsort: { noGradient: (x) => x.argsort(-1) },
  conv2d: conv2dRows,
  convTranspose2d: convTRows,
  conv2dWeight: convWRows,
  unfold: [
    { name: 'unfold', f: (x) => unfold(x, [2, 3], unfoldOpts).square(), shapes: [[[2, 3, 5, 6]]], second: true },
  ],
  fold: [
    { name: 'fold', f: (c) => fold(c, [5, 6], [2, 3], unfoldOpts).square(), shapes: [[[2, 18, 12]]], second: true },
  ],
  maxPool2dIndices: {
    noGradient: (x) =>
      apply(registry.maxPool2dIndices, [x], {
        g: { planes: 1, h: 2, w: 3, kh: 2, kw: 2, ho: 1, wo: 2, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1 },
      }),
  },
  maxPoolGather: [
    {
      name: 'maxPoolGather',
      f: (x) => apply(registry.maxPoolGather, [x, planeIdx], { hw: 4 }).square(),
      shapes: [[[2, 4]]],
      second: true,
    },
    {
      name: 'maxPool2d (padding, stride)',
      f: (x) => maxPool2d(x, 3, { stride: 2, padding: 1 }).square(),
      shapes: [[[2, 3, 7, 6]]],
      second: true,
    },
    { name: 'maxPool2d (overlapping windows)', f: (x) => maxPool2d(x, 2, { stride: 1 }), shapes: [[[2, 3, 7, 6]]] },
  ],
  maxPoolScatter: [
    {
      name: 'maxPoolScatter (repeated indices)',
      f: (g) => apply(registry.maxPoolScatter, [g, planeIdx], { hw: 4, shape: [2, 4] }).square(),
      shapes: [[[2, 3]]],
      second: true,
    },
  ],
};

const composites: Row[] = [
  { name: 'mean (axis)', f: (x) => x.mean(-1), shapes: [[[2, 3]], [[2, 3, 2]]] },
  { name: 'softmax (composite oracle)', f: (x) => softmaxComposite(x, -1), shapes: [[[2, 3]], [[4]]], second: true },
  { name: 'logSoftmax (composite oracle)', f: (x) => logSoftmaxComposite(x, 0), shapes: [[[3, 2]]], second: true },
  { name: 'logSumExp', f: (x) => logSumExp(x, 1), shapes: [[[2, 3]]], second: true },
  { name: 'var', f: (x) => x.var(1), shapes: [[[2, 3]]], second: true },
  { name: 'std', f: (x) => x.std(), shapes: [[[2, 3]]] },
  { name: 'clamp', f: (x) => x.clamp(-0.5, 0.7), shapes: [[[2, 3]]] },
  { name: 'gelu (erf, composite oracle)', f: (x) => geluComposite(x), shapes: [[[2, 3]]], second: true },
  { name: 'gelu (tanh, composite oracle)', f: (x) => geluComposite(x, 'tanh'), shapes: [[[2, 3]]] },
  { name: 'layerNorm (composite oracle)', f: (x) => layerNormComposite(x, 1), shapes: [[[2, 3]]], second: true },
  { name: 'rmsNorm (composite oracle)', f: (x) => rmsNormComposite(x, 1, 1e-6), shapes: [[[2, 3]]], second: true },
  { name: 'softplus', f: (x) => x.softplus(), shapes: [[[2, 3]]], kinds: ['away0'], second: true },
  {
    name: 'mseLoss',
    f: (a, b) => mseLoss(a, b),
    shapes: [
      [
        [2, 3],
        [2, 3],
      ],
    ],
    second: true,
  },
  {
    name: 'crossEntropy (composite oracle)',
    f: (x) => crossEntropyComposite(x, [2, 0]),
    shapes: [[[2, 3]]],
    second: true,
  },
  {
    name: 'crossEntropy (label smoothing)',
    f: (x) => crossEntropy(x, [1, 2], { labelSmoothing: 0.1 }),
    shapes: [[[2, 3]]],
  },
  { name: 'nllLoss', f: (x) => nllLoss(x.logSoftmax(1), [1, 1], 'sum'), shapes: [[[2, 3]]] },
  {
    name: 'binaryCrossEntropyWithLogits',
    f: (x, t) => binaryCrossEntropyWithLogits(x, t.sigmoid()),
    shapes: [
      [
        [2, 3],
        [2, 3],
      ],
    ],
    kinds: ['away0', 'any'],
  },
  {
    name: 'scaledDotProductAttention (causal, fused)',
    f: (q, k, v) => scaledDotProductAttention(q, k, v, { isCausal: true }),
    shapes: [
      [
        [2, 3, 2],
        [2, 3, 2],
        [2, 3, 2],
      ],
    ],
    second: true,
  },
  {
    name: 'scaledDotProductAttention (float mask, composite)',
    f: (q, k, v, m) => scaledDotProductAttention(q, k, v, { attnMask: m, fused: false }),
    shapes: [
      [
        [3, 2],
        [4, 2],
        [4, 3],
        [3, 4],
      ],
    ],
    second: true,
  },
  // ---- issue 12: composites -----------------------------------------------------------------
  unary('tan', (x) => x.mul(0.5).tan()),
  unary('sinh', (x) => x.sinh()),
  unary('cosh', (x) => x.cosh()),
  unary('rsqrt', (x) => x.rsqrt(), 'pos'),
  unary('reciprocal', (x) => x.reciprocal(), 'away0'),
  binary('logaddexp', (a, b) => logaddexp(a, b)),
  unary('leakyRelu', (x) => x.leakyRelu(0.2), 'away0'),
  unary('elu', (x) => x.elu(0.7), 'away0'),
  unary('selu', (x) => x.selu(), 'away0'),
  unary('silu', (x) => x.silu()),
  unary('mish', (x) => x.mish()),
  unary('hardtanh', (x) => x.hardtanh(-0.4, 0.8), 'any'),
  unary('relu6', (x) => x.mul(2.5).relu6(), 'away0'),
  unary('logSigmoid', (x) => x.logSigmoid()),
  { name: 'glu', f: (x) => x.glu(1), shapes: [[[2, 4]], [[3, 2, 2]]], second: true },
  { name: 'prod (all)', f: (x) => x.prod(), shapes: [[[5]], [[2, 3]]], second: true },
  { name: 'prod (dim, keepdim)', f: (x) => x.prod(1, true), shapes: [[[2, 3]], [[2, 5, 2]]], second: true },
  { name: 'cumprod', f: (x) => x.cumprod(-1), shapes: [[[5]], [[2, 3]], [[3, 7]]], second: true },
  { name: 'cumprod (dim 0)', f: (x) => x.cumprod(0), shapes: [[[4, 2]]], second: true },
  { name: 'norm (2, all)', f: (x) => x.norm(), shapes: [[[2, 3]]], second: true },
  { name: 'norm (fro, dims, keepdim)', f: (x) => x.norm('fro', [0, 2], true), shapes: [[[2, 3, 2]]], second: true },
  { name: 'norm (1, dim)', f: (x) => x.norm(1, 1), shapes: [[[2, 3]]], kinds: ['away0'], second: true },
  { name: 'norm (inf, dim)', f: (x) => x.norm(Infinity, 0), shapes: [[[3, 2]]], kinds: ['away0'] },
  { name: 'norm (-inf)', f: (x) => x.norm(-Infinity), shapes: [[[3, 2]]], kinds: ['away0'] },
  { name: 'norm (p = 3, dim)', f: (x) => x.norm(3, -1), shapes: [[[2, 3]]], kinds: ['away0'], second: true },
  { name: 'tril', f: (x) => x.tril(), shapes: [[[3, 3]], [[2, 3, 4]]], second: true },
  { name: 'triu (k = 1, k = -1)', f: (x) => x.triu(1).add(x.triu(-1)), shapes: [[[3, 4]]], second: true },
  { name: 'maskedFill', f: (x) => x.maskedFill(x.gt(0.5), -1).mul(x), shapes: [[[2, 3]]], second: true },
  {
    name: 'maskedFill (tensor value)',
    f: (x, v) => x.maskedFill(tensor([[1, 0, 1]]), v.sum()),
    shapes: [[[2, 3], [2]]],
  },
  { name: 'split (size)', f: (x) => concat(x.split(2, 1).reverse(), 1), shapes: [[[2, 5]]], second: true },
  {
    name: 'split (sections)',
    f: (x) => {
      const [a, b] = x.split([1, 2], 0);
      return a!.mul(b!.sum(0));
    },
    shapes: [[[3, 2]]],
    second: true,
  },
  { name: 'chunk', f: (x) => concat(x.chunk(3, 0).reverse(), 0), shapes: [[[5, 2]]] },
  {
    name: 'unbind',
    f: (x) => {
      const [a, b, c] = x.unbind(1);
      return a!.mul(b!).add(c!);
    },
    shapes: [[[2, 3]]],
    second: true,
  },
  { name: 'repeat', f: (x) => x.repeat(2, 1, 3), shapes: [[[2, 3]], [[3]], [[1, 2, 2]]], second: true },
  { name: 'tile', f: (x) => x.tile([2]), shapes: [[[2, 3]]] },
  { name: 'flip', f: (x) => x.flip([0, -1]), shapes: [[[2, 3]], [[2, 3, 2]]] },
  { name: 'roll (dims)', f: (x) => x.roll([1, -2], [0, 1]), shapes: [[[2, 3]], [[3, 4, 2]]] },
  { name: 'roll (flattened)', f: (x) => x.roll(4), shapes: [[[2, 3]]] },
  {
    name: 'einsum matmul',
    f: (a, b) => einsum('ij,jk->ik', a, b),
    shapes: [
      [
        [2, 3],
        [3, 4],
      ],
    ],
    second: true,
  },
  {
    name: 'einsum batched + ellipsis',
    f: (a, b) => einsum('...ij,...jk', a, b),
    shapes: [
      [
        [2, 2, 3],
        [2, 3, 2],
      ],
      [
        [2, 2, 3],
        [3, 2],
      ],
    ],
    second: true,
  },
  {
    name: 'einsum trace, diagonal, outer',
    f: (a, b) => einsum('ii,i,j->j', a, a.sum(0), b),
    shapes: [[[3, 3], [2]]],
    second: true,
  },
  {
    name: 'einsum three operands',
    f: (a, b, c) => einsum('ab,bc,ca->', a, b, c),
    shapes: [
      [
        [2, 3],
        [3, 4],
        [4, 2],
      ],
    ],
    second: true,
  },
  { name: 'einsum transpose + sum', f: (a) => einsum('ijk->kj', a), shapes: [[[2, 3, 4]]] },
  // ---- issue 12: losses ---------------------------------------------------------------------
  {
    name: 'l1Loss',
    f: (a, b) => l1Loss(a, b),
    shapes: [
      [
        [2, 3],
        [2, 3],
      ],
    ],
  },
  {
    name: 'smoothL1Loss (beta 0.5)',
    f: (a, b) => smoothL1Loss(a, b, { beta: 0.5 }),
    shapes: [
      [
        [3, 4],
        [3, 4],
      ],
    ],
    second: true,
  },
  {
    name: 'huberLoss (delta 0.7, sum)',
    f: (a, b) => huberLoss(a, b, { delta: 0.7, reduction: 'sum' }),
    shapes: [
      [
        [3, 4],
        [3, 4],
      ],
    ],
    second: true,
  },
  {
    name: 'klDiv (batchmean)',
    f: (a, b) => klDiv(a.logSoftmax(1), b.softmax(1), { reduction: 'batchmean' }),
    shapes: [
      [
        [2, 3],
        [2, 3],
      ],
    ],
    second: true,
  },
  {
    name: 'klDiv (logTarget, mean)',
    f: (a, b) => klDiv(a.logSoftmax(1), b.logSoftmax(1), { logTarget: true }),
    shapes: [
      [
        [2, 3],
        [2, 3],
      ],
    ],
    second: true,
  },
  {
    name: 'binaryCrossEntropy',
    f: (a, b) => binaryCrossEntropy(a.sigmoid(), b.sigmoid()),
    shapes: [
      [
        [2, 3],
        [2, 3],
      ],
    ],
    second: true,
  },
  {
    name: 'binaryCrossEntropy (weight, sum)',
    f: (a, b) => binaryCrossEntropy(a.sigmoid(), b.sigmoid(), { weight: b.exp(), reduction: 'sum' }),
    shapes: [
      [
        [2, 3],
        [2, 3],
      ],
    ],
  },
  { name: 'crossEntropy (ignoreIndex)', f: (x) => crossEntropy(x, [2, -100, 1]), shapes: [[[3, 3]]], second: true },
  {
    name: 'crossEntropy (probability targets)',
    f: (x, t) => crossEntropy(x, t.softmax(1)),
    shapes: [
      [
        [2, 3],
        [2, 3],
      ],
    ],
    second: true,
  },
  {
    name: 'crossEntropy ([N, C, d] and weights)',
    f: (x, w) =>
      crossEntropy(
        x,
        tensor(
          [
            [0, 2],
            [1, 1],
          ],
          { dtype: 'int32' },
        ),
        { weight: w.exp() },
      ),
    shapes: [[[2, 3, 2], [3]]],
    second: true,
  },
  {
    name: 'crossEntropy (smoothing + weight + ignore)',
    f: (x) =>
      crossEntropy(x, [0, 3, 3], {
        labelSmoothing: 0.2,
        weight: tensor([1, 2, 0.5, 3], { dtype: 'float64' }),
        ignoreIndex: 0,
      }),
    shapes: [[[3, 4]]],
  },
  {
    name: 'nllLoss (ignoreIndex, none)',
    f: (x) => nllLoss(x, [1, 0], { ignoreIndex: 0, reduction: 'none' }),
    shapes: [[[2, 3]]],
  },
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
  it('prod and cumprod: exact gradients with one and with two zeros (first and second order)', () => {
    for (const vals of [
      [2, 0, 3, -1.5],
      [0, 2, 0, 3],
      [1.5, -2, 0.5, 0],
    ]) {
      const x = tensor(vals, { dtype: 'float64', requiresGrad: true });
      for (const f of [
        (t: Tensor) => t.prod(),
        (t: Tensor) => t.cumprod(0).mul(tensor([1, 2, 3, 4], { dtype: 'float64' })),
      ]) {
        expect(gradcheck(f, [x]).ok).toBe(true);
        expect(gradgradcheck(f, [x]).ok).toBe(true);
      }
    }
    const x = tensor([2, 0, 3], { dtype: 'float64', requiresGrad: true });
    x.prod().backward();
    expect(Array.from(x.grad!.data)).toEqual([0, 6, 0]);
  });
  it('norm (2) of a zero vector has gradient 0, not NaN', () => {
    const x = tensor([0, 0, 0], { dtype: 'float64', requiresGrad: true });
    x.norm().backward();
    expect(Array.from(x.grad!.data)).toEqual([0, 0, 0]);
  });

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
