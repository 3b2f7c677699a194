/** Forward values of every elementwise and reduction primitive against plain-JS references on random broadcast shapes. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Generator, Tensor, concat, cumsum, gather, scatterAdd, sliceScatter, tensor, where } from '../../src/index.js';
import type { BinaryOp, ReduceOp, UnaryOp } from '../../src/backend/backend.js';
import { PRIMITIVES, registry, type Primitive } from '../../src/ops/registry.js';
import { erf } from '../../src/backend/cpu/kernels.js';
import { gelu, crossEntropy } from '../../src/index.js';
import { conv2d, convTranspose2d, fold, maxPool2d, ones, unfold } from '../../src/index.js';
import { apply } from '../../src/ops/define.js';
import { layerNorm, rmsNorm } from '../../src/index.js';
import { rnd } from '../helpers.js';
import {
  conv2dRef,
  convAttrsOf,
  convCases,
  convOpts,
  convTCases,
  convTranspose2dRef,
  maxPool2dRef,
  windows,
  type RefConv,
} from './conv-oracle.js';

const gen = (shape: readonly number[], seed: number, pos = false): Tensor => {
  const g = new Generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(
    Float64Array.from({ length: n }, () => (pos ? 0.1 + 3 * g.uniform() : 6 * g.uniform() - 3)),
    shape,
  );
};
/** Reads t at a multi-index of the broadcast output shape. */
const at = (t: Tensor, idx: number[]): number => {
  let off = 0,
    stride = 1;
  for (let d = t.ndim - 1; d >= 0; d--) {
    const i = idx[idx.length - t.ndim + d]!;
    off += (t.shape[d] === 1 ? 0 : i) * stride;
    stride *= t.shape[d]!;
  }
  return t.data[off]!;
};
const indices = (shape: readonly number[]): number[][] => {
  let out: number[][] = [[]];
  for (const d of shape) out = out.flatMap((p) => Array.from({ length: d }, (_, i) => [...p, i]));
  return out;
};
const pair = fc
  .array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 3 })
  .chain((s) => fc.tuple(fc.constant(s), fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length })))
  .map(([s, ones]) => [s, s.map((d, i) => (ones[i] ? 1 : d))] as const);

type Un = readonly [(t: Tensor) => Tensor, (x: number) => number, boolean?];
const unary: { readonly [P in Exclude<UnaryOp, 'erf'>]: Un } = {
  neg: [(t) => t.neg(), (x) => -x],
  exp: [(t) => t.exp(), Math.exp],
  log: [(t) => t.log(), Math.log, true],
  sqrt: [(t) => t.sqrt(), Math.sqrt, true],
  abs: [(t) => t.abs(), Math.abs],
  tanh: [(t) => t.tanh(), Math.tanh],
  sigmoid: [(t) => t.sigmoid(), (x) => 1 / (1 + Math.exp(-x))],
  relu: [(t) => t.relu(), (x) => Math.max(0, x)],
  sign: [(t) => t.sign(), Math.sign],
  sin: [(t) => t.sin(), Math.sin],
  cos: [(t) => t.cos(), Math.cos],
  log1p: [(t) => t.log1p(), Math.log1p, true],
  expm1: [(t) => t.expm1(), Math.expm1],
  atan: [(t) => t.atan(), Math.atan],
  asin: [(t) => t.mul(0.3).asin(), (x) => Math.asin(x * 0.3)],
  acos: [(t) => t.mul(0.3).acos(), (x) => Math.acos(x * 0.3)],
  floor: [(t) => t.floor(), Math.floor],
  ceil: [(t) => t.ceil(), Math.ceil],
  trunc: [(t) => t.trunc(), Math.trunc],
  round: [
    (t) => t.mul(2).round(),
    (x) => {
      // half to even, on a grid that hits ties
      const r = Math.round(x * 2);
      return Math.abs((x * 2) % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
    },
  ],
  log2: [(t) => t.log2(), Math.log2, true],
  log10: [(t) => t.log10(), Math.log10, true],
};
type Bin = readonly [(a: Tensor, b: Tensor) => Tensor, (x: number, y: number) => number];
const binary: { readonly [P in BinaryOp | 'where']: Bin } = {
  add: [(a, b) => a.add(b), (x, y) => x + y],
  sub: [(a, b) => a.sub(b), (x, y) => x - y],
  mul: [(a, b) => a.mul(b), (x, y) => x * y],
  div: [(a, b) => a.div(b), (x, y) => x / y],
  pow: [(a, b) => a.abs().pow(b), (x, y) => Math.abs(x) ** y],
  maximum: [(a, b) => a.maximum(b), Math.max],
  minimum: [(a, b) => a.minimum(b), Math.min],
  gt: [(a, b) => a.gt(b), (x, y) => +(x > y)],
  le: [(a, b) => a.le(b), (x, y) => +(x <= y)],
  eq: [(a, b) => a.eq(b), (x, y) => +(x === y)],
  ne: [(a, b) => a.ne(b), (x, y) => +(x !== y)],
  lt: [(a, b) => a.lt(b), (x, y) => +(x < y)],
  ge: [(a, b) => a.ge(b), (x, y) => +(x >= y)],
  where: [(a, b) => where(a.gt(0), a, b), (x, y) => (x > 0 ? x : y)],
  atan2: [(a, b) => a.atan2(b), Math.atan2],
};

const unaryCheck =
  ([f, ref, pos]: Un, name: string) =>
  (): void => {
    const x = gen([3, 4], name.length, pos);
    // exact, except the stable sigmoid form which may differ from the naive one by an ulp
    f(x).data.forEach((v, i) =>
      expect(Math.abs(v - ref(x.data[i]!))).toBeLessThanOrEqual(name === 'sigmoid' ? 3e-16 * Math.abs(v) : 0),
    );
  };
const binaryCheck =
  ([f, ref]: Bin) =>
  (): void => {
    fc.assert(
      fc.property(pair, fc.nat(), ([sa, sb], seed) => {
        const a = gen(sa, seed),
          b = gen(sb, seed + 1);
        const out = f(a, b);
        indices(out.shape).forEach((idx, k) => expect(out.data[k]).toBe(ref(at(a, idx), at(b, idx))));
      }),
      { numRuns: 40, seed: 11 },
    );
  };
const reduceCheck = (op: ReduceOp) => (): void => {
  const [init, comb] = (
    { sum: [0, (p: number, q: number) => p + q], max: [-Infinity, Math.max], min: [Infinity, Math.min] } as const
  )[op];
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
      fc.nat(),
      fc.nat(),
      (shape, seed, mask) => {
        const x = gen(shape, seed);
        const axes = shape.map((_, i) => i).filter((i) => (mask >> i) & 1);
        const keep = shape.map((d, i) => (axes.includes(i) ? 1 : d));
        const want = new Map<string, number>();
        indices(shape).forEach((idx, k) => {
          const key = idx.map((v, i) => (axes.includes(i) ? 0 : v)).join();
          want.set(key, comb(want.get(key) ?? init, x.data[k]!));
        });
        const got = x[op](axes, true);
        expect(got.shape).toEqual(keep);
        indices(keep).forEach((idx, k) => expect(got.data[k]).toBeCloseTo(want.get(idx.join())!, 12));
      },
    ),
    { numRuns: 60, seed: 12 },
  );
};
/** Hand-computed reference values. */
const exact = (got: () => Tensor, want: unknown, shape?: number[]) => (): void => {
  const t = got();
  expect(t.toArray()).toEqual(want);
  if (shape) expect(t.shape).toEqual(shape);
};
const m23 = () =>
  tensor(
    [
      [1, 5, 3],
      [4, 2, 6],
    ],
    { dtype: 'float64' },
  );
/** Relative closeness to a composite oracle (the same tensor computed from pad, slices, matmul, max). */
const close = (a: Tensor, b: Tensor, tol = 1e-9): void => {
  expect(a.shape).toEqual(b.shape);
  let worst = 0;
  for (let i = 0; i < a.size; i++) {
    worst = Math.max(worst, Math.abs(a.data[i]! - b.data[i]!) / (1 + Math.abs(b.data[i]!)));
  }
  expect(worst).toBeLessThan(tol);
};
const i32 = (v: number[][]) => tensor(v, { dtype: 'int32' });
const unfoldOpts = { stride: [2, 1], padding: 1, dilation: [1, 2] };
const unfoldRef: RefConv = { stride: [2, 1], padding: [1, 1], dilation: [1, 2] };

/** One forward check per primitive (typed by the registry, so a primitive without one does not compile). */
const forward: { readonly [P in Primitive]: () => void } = {
  ...(Object.fromEntries(Object.entries(unary).map(([k, u]) => [k, unaryCheck(u, k)])) as {
    [P in keyof typeof unary]: () => void;
  }),
  erf: () => {
    const known: [number, number][] = [
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [-1.5, -0.9661051464753108],
    ];
    for (const [x, v] of known) expect(Math.abs(erf(x) - v)).toBeLessThan(2e-16 * 8);
    const t = tensor(
      known.map(([x]) => x),
      { dtype: 'float64' },
    ).erf();
    known.forEach(([, v], i) => expect(Math.abs(t.data[i]! - v)).toBeLessThan(2e-16 * 8));
  },
  ...(Object.fromEntries(Object.entries(binary).map(([k, b]) => [k, binaryCheck(b)])) as {
    [P in keyof typeof binary]: () => void;
  }),
  cast: exact(() => tensor([1.5, -2.25, 3]).to('float64'), [1.5, -2.25, 3]),
  sum: reduceCheck('sum'),
  max: reduceCheck('max'),
  min: reduceCheck('min'),
  argmax: exact(() => m23().argmax(1), [1, 2]),
  argmin: exact(() => m23().argmin(0, true), [[0, 1, 0]]),
  matmul: () => {
    const a = gen([2, 1, 3, 4], 1),
      b = gen([3, 4, 2], 2);
    const out = a.matmul(b);
    expect(out.shape).toEqual([2, 3, 3, 2]);
    indices(out.shape).forEach(([p, q, i, j], k) => {
      let s = 0;
      for (let r = 0; r < 4; r++) s += a.data[p! * 12 + i! * 4 + r]! * b.data[q! * 8 + r * 2 + j!]!;
      expect(out.data[k]).toBeCloseTo(s, 12);
    });
  },
  reshape: exact(
    () => m23().reshape([3, 2]),
    [
      [1, 5],
      [3, 4],
      [2, 6],
    ],
  ),
  permute: exact(
    () => m23().permute([1, 0]),
    [
      [1, 4],
      [5, 2],
      [3, 6],
    ],
  ),
  expand: exact(
    () => tensor([[1], [2]]).expand([2, 3]),
    [
      [1, 1, 1],
      [2, 2, 2],
    ],
  ),
  slice: exact(() => m23().slice([[1], [0, undefined, 2]]), [[4, 6]]),
  sliceScatter: exact(
    () => sliceScatter(tensor([[7, 8]]), [2, 3], [1, 0], [1, 2]),
    [
      [0, 0, 0],
      [7, 0, 8],
    ],
  ),
  concat: exact(
    () => concat([m23(), tensor([[9], [10]], { dtype: 'float64' })], 1),
    [
      [1, 5, 3, 9],
      [4, 2, 6, 10],
    ],
  ),
  gather: exact(
    () =>
      gather(
        m23(),
        1,
        tensor(
          [
            [2, 0],
            [1, 1],
          ],
          { dtype: 'int32' },
        ),
      ),
    [
      [3, 1],
      [2, 2],
    ],
  ),
  scatterAdd: exact(
    () =>
      scatterAdd(
        [2, 3],
        1,
        tensor(
          [
            [2, 2],
            [0, 1],
          ],
          { dtype: 'int32' },
        ),
        tensor([
          [1, 2],
          [3, 4],
        ]),
      ),
    [
      [0, 0, 3],
      [3, 4, 0],
    ],
  ),
  argsort: () => {
    exact(() => tensor([3, 1, 2, 1]).argsort(), [1, 3, 2, 0])(); // stable
    exact(
      () =>
        tensor([
          [3, 1, NaN],
          [0, 0, -1],
        ]).argsort(1, true),
      [
        [2, 0, 1],
        [0, 1, 2],
      ],
    )(); // NaN largest
  },
  cumsum: () => {
    exact(
      () => cumsum(m23(), 1),
      [
        [1, 6, 9],
        [4, 6, 12],
      ],
    )();
    exact(
      () => m23().cumsum(0),
      [
        [1, 5, 3],
        [5, 7, 9],
      ],
    )();
    // against a running sum on random 3-D input, every axis
    const x = gen([2, 3, 4], 5);
    for (let ax = 0; ax < 3; ax++) {
      const got = x.cumsum(ax);
      indices(x.shape).forEach((idx, k) => {
        let s = 0;
        for (let j = 0; j <= idx[ax]!; j++)
          s += at(
            x,
            idx.map((v, d) => (d === ax ? j : v)),
          );
        expect(got.data[k]).toBeCloseTo(s, 12);
      });
    }
  },
  softmax: () => {
    const x = gen([2, 3, 4], 6);
    for (let ax = 0; ax < 3; ax++) {
      const got = x.softmax(ax);
      indices(x.shape).forEach((idx, k) => {
        let s = 0;
        for (let j = 0; j < x.shape[ax]!; j++)
          s += Math.exp(
            at(
              x,
              idx.map((v, d) => (d === ax ? j : v)),
            ),
          );
        expect(got.data[k]).toBeCloseTo(Math.exp(x.data[k]!) / s, 14);
      });
    }
    exact(
      () =>
        tensor(
          [
            [0, 0],
            [1000, 1000],
          ],
          { dtype: 'float64' },
        ).softmax(1),
      [
        [0.5, 0.5],
        [0.5, 0.5],
      ],
    )();
  },
  logSoftmax: () => {
    const x = gen([3, 4], 7);
    const got = x.logSoftmax(1);
    indices(x.shape).forEach(([i], k) => {
      let s = 0;
      for (let j = 0; j < 4; j++) s += Math.exp(x.data[i! * 4 + j]!);
      expect(got.data[k]).toBeCloseTo(x.data[k]! - Math.log(s), 14);
    });
    tensor([[1000, 1000]], { dtype: 'float64' })
      .logSoftmax(-1)
      .data.forEach((v) => expect(v).toBeCloseTo(-Math.LN2, 12));
  },
  softmaxCrossEntropy: () => {
    const x = gen([3, 4], 8),
      t = [3, 0, 0];
    const got = crossEntropy(x, t, { reduction: 'none' });
    t.forEach((c, i) => {
      let s = 0;
      for (let j = 0; j < 4; j++) s += Math.exp(x.data[i * 4 + j]!);
      expect(got.data[i]).toBeCloseTo(Math.log(s) - x.data[i * 4 + c]!, 14);
    });
  },
  gelu: () => {
    // torch.nn.functional.gelu (torch 1.13, float64) at x = −3, −0.5, 0, 1, 2.5
    const x = tensor([-3, -0.5, 0, 1, 2.5], { dtype: 'float64' });
    const erfForm = [-0.00404969409489031, -0.15426876936299344, 0, 0.841344746068543, 2.4844758366855597];
    const tanhForm = [-0.0036373920817729943, -0.15428599017485606, 0, 0.8411919906082768, 2.484915733910001];
    gelu(x).data.forEach((v, i) => expect(v).toBeCloseTo(erfForm[i]!, 14));
    gelu(x, 'tanh').data.forEach((v, i) => expect(v).toBeCloseTo(tanhForm[i]!, 14));
  },
  geluBackward: () => {
    // d/dx GELU against x ↦ Φ(x) + x φ(x) in plain JS
    const x = gen([7], 9).requiresGrad_();
    gelu(x).sum().backward();
    x.data.forEach((v, i) => {
      const want = 0.5 * (1 + erf(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI);
      expect(x.grad!.data[i]).toBeCloseTo(want, 14);
    });
  },
  layerNorm: () => {
    // torch.nn.functional.layer_norm(x, [3], w, b, 1e-5) (torch 1.13, float64); rms_norm by hand in torch
    const x = tensor(
        [
          [1, 2, 4],
          [-1, 0.5, 3],
        ],
        { dtype: 'float64' },
      ),
      w = tensor([0.5, 1, 2], { dtype: 'float64' }),
      b = tensor([0.1, 0, -0.2], { dtype: 'float64' });
    const ln = [-0.43452076572514897, -0.2672603828625746, 2.4726038286257435, -0.4555828790463038];
    const rms = [0.18898222300588385, 0.7559288920235354, 3.0237155680941417, -0.27050085081474223];
    for (const xx of [x, x.to('float32')]) {
      const digits = xx.dtype === 'float64' ? 12 : 5;
      const [ww, bb] = [w.to(xx.dtype), b.to(xx.dtype)];
      layerNorm(xx, 3, { weight: ww, bias: bb })
        .data.slice(0, 4)
        .forEach((v, i) => expect(v).toBeCloseTo(ln[i]!, digits));
      rmsNorm(xx, [3], { weight: ww, eps: 1e-6 })
        .data.slice(0, 4)
        .forEach((v, i) => expect(v).toBeCloseTo(rms[i]!, digits));
    }
  },
  layerNormBackward: () => {
    // x.grad and w.grad of (layer_norm(x, [3], w, b) · g).sum() in torch 1.13 (float64)
    const x = tensor(
      [
        [1, 2, 4],
        [-1, 0.5, 3],
      ],
      { dtype: 'float64', requiresGrad: true },
    );
    const w = tensor([0.5, 1, 2], { dtype: 'float64', requiresGrad: true });
    const g = tensor(
      [
        [0.3, -1, 2],
        [1, 1, -0.5],
      ],
      { dtype: 'float64' },
    );
    layerNorm(x, 3, { weight: w, bias: tensor([0.1, 0, -0.2], { dtype: 'float64' }) })
      .mul(g)
      .sum()
      .backward();
    const gx = [0.8361331837943704, -1.254217300224002, 0.4180841164296323, -0.26284362468786193];
    const gw = [-1.431878217527697, 0.06523024502755503, 2.01600588066193];
    gx.forEach((v, i) => expect(x.grad!.data[i]).toBeCloseTo(v, 12));
    gw.forEach((v, i) => expect(w.grad!.data[i]).toBeCloseTo(v, 12));
  },
  conv2d: () => {
    const x = tensor([
      [
        [
          [0, 1, 2, 3],
          [4, 5, 6, 7],
          [8, 9, 10, 11],
          [12, 13, 14, 15],
        ],
      ],
    ]);
    exact(
      () => conv2d(x, ones([1, 1, 3, 3])),
      [
        [
          [
            [45, 54],
            [81, 90],
          ],
        ],
      ],
    )();
    for (const c of convCases) {
      const xx = rnd(c.x, 1),
        w = rnd(c.w, 2),
        b = rnd([c.w[0]!], 3);
      close(conv2d(xx, w, b, convOpts(c)), conv2dRef(xx, w, b, c));
      close(conv2d(xx.float(), w.float(), b.float(), convOpts(c)), conv2dRef(xx, w, b, c).float(), 1e-5);
    }
  },
  convTranspose2d: () => {
    for (const c of convTCases) {
      const y = rnd(c.y, 1),
        w = rnd(c.w, 2);
      const out = convTranspose2d(y, w, null, { ...convOpts(c), outputPadding: c.outputPadding });
      // The definition: the input-gradient of the conv oracle, at the output's size.
      close(out, convTranspose2dRef(y, w, [...out.shape], c));
    }
  },
  conv2dWeight: () => {
    for (const c of convCases) {
      const x = rnd(c.x, 1),
        w = rnd(c.w, 2).detach().requiresGrad_();
      const gy = rnd(conv2dRef(x, w, null, c).shape, 3);
      conv2dRef(x.detach(), w, null, c).mul(gy).sum().backward(); // the oracle's weight gradient
      close(apply(registry.conv2dWeight, [x, gy], convAttrsOf(c, [c.w[2]!, c.w[3]!])), w.grad!);
    }
  },
  unfold: () => {
    const x = rnd([2, 3, 5, 6], 1);
    close(unfold(x, [2, 3], unfoldOpts), windows(x, 2, 3, unfoldRef).reshape([2, 3 * 6, -1]));
    exact(
      () => unfold(m23().reshape([1, 1, 2, 3]), 2),
      [
        [
          [1, 5],
          [5, 3],
          [4, 2],
          [2, 6],
        ],
      ],
    )();
  },
  fold: () => {
    // The adjoint of unfold: <unfold(x), c> = <x, fold(c)>; and fold(unfold(ones)) counts the windows per pixel.
    const x = rnd([2, 3, 5, 6], 1),
      u = unfold(x, [2, 3], unfoldOpts),
      c = rnd(u.shape, 2);
    const lhs = u.mul(c).sum().item(),
      rhs = x
        .mul(fold(c, [5, 6], [2, 3], unfoldOpts))
        .sum()
        .item();
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-9);
    exact(
      () => fold(unfold(ones([1, 1, 3, 3]), 2), 3, 2),
      [
        [
          [
            [1, 2, 1],
            [2, 4, 2],
            [1, 2, 1],
          ],
        ],
      ],
    )();
  },
  maxPool2dIndices: () => {
    const t = tensor([
      [
        [
          [1, 5, 2, 0],
          [3, 4, 9, 1],
          [0, 0, 1, 1],
          [7, 0, 2, 8],
        ],
      ],
    ]);
    const g = { planes: 1, h: 4, w: 4, kh: 2, kw: 2, ho: 2, wo: 2, sh: 2, sw: 2, ph: 0, pw: 0, dh: 1, dw: 1 };
    exact(
      () => apply(registry.maxPool2dIndices, [t], { g }),
      [
        [
          [
            [1, 6],
            [12, 15],
          ],
        ],
      ],
    )();
    // padding never wins, ties go to the first, a NaN wins
    const p = tensor([
      [
        [
          [-3, -3],
          [NaN, -5],
        ],
      ],
    ]);
    const gp = { ...g, h: 2, w: 2, ho: 3, wo: 3, sh: 1, sw: 1, ph: 1, pw: 1 };
    exact(
      () => apply(registry.maxPool2dIndices, [p], { g: gp }),
      [
        [
          [
            [0, 0, 1],
            [2, 2, 1],
            [2, 2, 3],
          ],
        ],
      ],
    )();
  },
  maxPoolGather: () => {
    exact(
      () =>
        apply(
          registry.maxPoolGather,
          [
            m23(),
            i32([
              [2, 0],
              [1, 1],
            ]),
          ],
          { hw: 3 },
        ),
      [
        [3, 1],
        [2, 2],
      ],
    )();
    const x = rnd([2, 3, 7, 6], 1);
    close(maxPool2d(x, 3, { stride: 2, padding: 1 }), maxPool2dRef(x, 3, { stride: [2, 2], padding: [1, 1] }));
  },
  maxPoolScatter: exact(
    () =>
      apply(
        registry.maxPoolScatter,
        [
          m23(),
          i32([
            [2, 2, 0],
            [3, 1, 0],
          ]),
        ],
        { hw: 4, shape: [2, 4] },
      ),
    [
      [3, 0, 6, 0],
      [6, 2, 0, 4],
    ],
  ),
};

describe('forward values of every primitive against plain JS / hand-computed values', () => {
  for (const p of PRIMITIVES) it(p, forward[p]);
});
