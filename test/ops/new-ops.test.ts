/**
 * Issue 12 ops: forward reference values (plain JS math, hand-derived values and known PyTorch
 * outputs) and fast-check properties of the shape ops against naive references.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  arange,
  atan2,
  binaryCrossEntropy,
  crossEntropy,
  einsum,
  Generator,
  huberLoss,
  klDiv,
  l1Loss,
  logaddexp,
  nllLoss,
  nn,
  oneHot,
  smoothL1Loss,
  sort,
  tensor,
  Tensor,
  topk,
  ValueError,
  ShapeError,
  IndexError,
  type NestedArray,
} from '../../src/index.js';

const f64 = (v: NestedArray): Tensor => tensor(v, { dtype: 'float64' });
const gen = (shape: readonly number[], seed: number, lo = -3, hi = 3): Tensor => {
  const g = new Generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(
    Float64Array.from({ length: n }, () => lo + (hi - lo) * g.uniform()),
    shape,
  );
};
const arr = (t: Tensor): number[] => Array.from(t.data);
const close = (got: Tensor, want: readonly number[], tol = 1e-12): void => {
  expect(got.size).toBe(want.length);
  got.data.forEach((v, i) => {
    const w = want[i]!;
    if (Number.isNaN(w)) expect(v).toBeNaN();
    else if (!Number.isFinite(w)) expect(v).toBe(w);
    else expect(Math.abs(v - w), `element ${i}: ${v} vs ${w}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(w)));
  });
};
const idxOf = (shape: readonly number[]): number[][] => {
  let out: number[][] = [[]];
  for (const d of shape) out = out.flatMap((p) => Array.from({ length: d }, (_, i) => [...p, i]));
  return out;
};
const offset = (shape: readonly number[], idx: readonly number[]): number =>
  idx.reduce((acc, v, i) => acc * shape[i]! + v, 0);
const shapeArb = (maxRank = 3, maxDim = 4) =>
  fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: 1, maxLength: maxRank });

describe('new elementwise ops: forward values', () => {
  const x = gen([40], 1);
  const unit = gen([40], 2, -1, 1);
  const pos = gen([40], 3, 0.01, 50);
  const cases: [string, Tensor, (t: Tensor) => Tensor, (v: number) => number, number][] = [
    ['expm1', x, (t) => t.expm1(), Math.expm1, 0],
    ['log2', pos, (t) => t.log2(), Math.log2, 0],
    ['log10', pos, (t) => t.log10(), Math.log10, 0],
    ['atan', x, (t) => t.atan(), Math.atan, 0],
    ['asin', unit, (t) => t.asin(), Math.asin, 0],
    ['acos', unit, (t) => t.acos(), Math.acos, 0],
    ['floor', x, (t) => t.floor(), Math.floor, 0],
    ['ceil', x, (t) => t.ceil(), Math.ceil, 0],
    ['trunc', x, (t) => t.trunc(), Math.trunc, 0],
    ['tan', x, (t) => t.tan(), Math.tan, 1e-13],
    ['sinh', x, (t) => t.sinh(), Math.sinh, 1e-15],
    ['cosh', x, (t) => t.cosh(), Math.cosh, 1e-15],
    ['rsqrt', pos, (t) => t.rsqrt(), (v) => 1 / Math.sqrt(v), 1e-15],
    ['reciprocal', x, (t) => t.reciprocal(), (v) => 1 / v, 0],
  ];
  for (const [name, input, f, ref, tol] of cases) {
    it(name, () => close(f(input), arr(input).map(ref), tol));
  }
  it('sinh is accurate near 0 (through expm1), log2/log10 exact at powers', () => {
    close(f64([1e-10, -3e-12]).sinh(), [1e-10, -3e-12], 1e-15);
    expect(arr(f64([8, 1024, 0.125]).log2())).toEqual([3, 10, -3]);
    expect(arr(f64([1000, 1e-3]).log10())).toEqual([3, -3]);
  });
  it('round: half to even, as torch.round, and with decimals', () => {
    expect(arr(f64([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6, 3]).round())).toEqual([0, 2, 2, -0, -2, -2, 2, -3, 3]);
    close(f64([1.2345, -0.125, 12.5]).round(2), [1.23, -0.12, 12.5]);
    expect(arr(tensor([2.5, 3.5]).round())).toEqual([2, 4]);
  });
  it('atan2 with broadcasting covers all quadrants', () => {
    const y = f64([[1], [-1], [0]]),
      xx = f64([1, -1, 0]);
    const got = atan2(y, xx);
    expect(got.shape).toEqual([3, 3]);
    close(
      got,
      [
        [1, 1],
        [1, -1],
        [1, 0],
        [-1, 1],
        [-1, -1],
        [-1, 0],
        [0, 1],
        [0, -1],
        [0, 0],
      ].map(([a, b]) => Math.atan2(a!, b!)),
    );
  });
  it('floor/ceil/round/trunc have zero gradients (PyTorch), not none', () => {
    const t = f64([1.5, -0.3]).requiresGrad_();
    t.floor().add(t.round()).sum().backward();
    expect(arr(t.grad!)).toEqual([0, 0]);
  });
  it('logaddexp: stable for large and infinite values', () => {
    const a = gen([20], 4),
      b = gen([20], 5);
    close(
      logaddexp(a, b),
      arr(a).map((v, i) => Math.log(Math.exp(v) + Math.exp(b.data[i]!))),
      1e-14,
    );
    close(logaddexp(f64([1000, -Infinity, Infinity, -1000]), f64([1000, -Infinity, 3, -1000])), [
      1000 + Math.LN2,
      -Infinity,
      Infinity,
      -1000 + Math.LN2,
    ]);
  });
});

describe('activations: known PyTorch outputs', () => {
  it('leakyRelu, elu, selu, silu, mish, hardtanh, relu6, logSigmoid, glu', () => {
    close(f64([-2, 0, 3]).leakyRelu(), [-0.02, 0, 3]);
    close(f64([-2, 3]).leakyRelu(0.2), [-0.4, 3]);
    close(f64([-1, 0, 2]).elu(), [-0.6321205588285577, 0, 2]);
    close(f64([-1, 1]).selu(), [-1.1113307378125625, 1.0507009873554805]);
    close(f64([1, -2]).silu(), [0.7310585786300049, -0.2384058440442351]);
    close(f64([1, -1]).mish(), [0.8650983882673103, -0.30340146137410895]);
    close(f64([-2, 0.5, 2]).hardtanh(), [-1, 0.5, 1]);
    close(f64([-1, 3, 7]).relu6(), [0, 3, 6]);
    close(f64([-1, -800, 800]).logSigmoid(), [-1.3132616875182228, -800, 0]);
    close(f64([1, 2, 3, 4]).glu(), [0.9525741268224334, 1.964027580075817]);
  });
  it('elu and selu keep finite gradients for large inputs (no where-NaN)', () => {
    const t = tensor([100, 1000], { requiresGrad: true });
    t.elu().add(t.selu()).sum().backward();
    expect(arr(t.grad!).every(Number.isFinite)).toBe(true);
  });
  it('leakyRelu gradient at 0 is the slope; hardtanh gradient is 0 at the edges (as torch)', () => {
    const t = f64([0, -1, 1, 0.5]).requiresGrad_();
    t.leakyRelu(0.1).sum().backward();
    expect(t.grad!.data[0]).toBeCloseTo(0.1, 15);
    t.zeroGrad();
    t.hardtanh().sum().backward();
    expect(arr(t.grad!)).toEqual([1, 0, 0, 1]);
  });
  it('modules: names, options, defaults; unknown options refused', () => {
    const x = gen([2, 4], 9);
    close(new nn.LeakyReLU(0.3).forward(x), arr(x.leakyRelu(0.3)));
    close(new nn.LeakyReLU({ negativeSlope: 0.3 }).forward(x), arr(x.leakyRelu(0.3)));
    close(new nn.ELU().forward(x), arr(x.elu()));
    close(new nn.SELU().forward(x), arr(x.selu()));
    close(new nn.SiLU().forward(x), arr(x.silu()));
    close(new nn.Mish().forward(x), arr(x.mish()));
    close(new nn.Hardtanh({ minVal: -0.5, maxVal: 2 }).forward(x), arr(x.hardtanh(-0.5, 2)));
    close(new nn.ReLU6().forward(x), arr(x.relu6()));
    close(new nn.LogSigmoid().forward(x), arr(x.logSigmoid()));
    close(new nn.GLU().forward(x), arr(x.glu(-1)));
    close(new nn.GLU({ dim: 0 }).forward(x), arr(x.glu(0)));
    close(new nn.Softmax({ dim: 1 }).forward(x), arr(x.softmax(1)));
    close(new nn.LogSoftmax(0).forward(x), arr(x.logSoftmax(0)));
    expect(() => new nn.LeakyReLU({ slope: 0.1 } as never)).toThrow(
      /unknown option 'slope' \(known options: negativeSlope\)/,
    );
    expect(() => new nn.Softmax({} as never)).toThrow(ValueError);
    expect(() => x.glu(0).glu(0)).toThrow(/even size/);
  });
});

describe('reductions and scans', () => {
  it('prod and cumprod against loops, with zeros', () => {
    const x = f64([
      [2, 0, 3, -1.5],
      [1, 2, 3, 4],
    ]);
    close(x.prod(1), [0, 24]);
    close(x.prod(0, true), [2, 0, 9, -6]);
    expect(x.prod(0, true).shape).toEqual([1, 4]);
    close(x.prod(), [0]);
    close(x.cumprod(1), [2, 0, 0, -0, 1, 2, 6, 24]);
    close(x.cumprod(0), [2, 0, 3, -1.5, 2, 0, 9, -6]);
    expect(f64([]).prod().item()).toBe(1);
    fc.assert(
      fc.property(shapeArb(3, 7), fc.nat(), fc.nat(), (shape, seed, d) => {
        const t = gen(shape, seed, -1.5, 1.5);
        const axis = d % shape.length;
        const cp = t.cumprod(axis),
          p = t.prod(axis);
        idxOf(shape).forEach((idx) => {
          let want = 1;
          for (let k = 0; k <= idx[axis]!; k++)
            want *=
              t.data[
                offset(
                  shape,
                  idx.map((v, i) => (i === axis ? k : v)),
                )
              ]!;
          expect(cp.data[offset(shape, idx)]).toBeCloseTo(want, 12);
        });
        idxOf(p.shape).forEach((idx, j) => {
          let want = 1;
          for (let k = 0; k < shape[axis]!; k++)
            want *= t.data[offset(shape, [...idx.slice(0, axis), k, ...idx.slice(axis)])]!;
          expect(p.data[j]).toBeCloseTo(want, 12);
        });
      }),
      { numRuns: 40, seed: 21 },
    );
  });
  it('norm: p = 2, fro, 1, ±inf, 0, 3 (values as torch.norm)', () => {
    const x = f64([
      [3, -4],
      [0, 12],
    ]);
    expect(x.norm().item()).toBeCloseTo(13, 14);
    close(x.norm('fro', 1), [5, 12]);
    close(x.norm(1, 0, true), [3, 16]);
    expect(x.norm(1, 0, true).shape).toEqual([1, 2]);
    expect(x.norm(Infinity).item()).toBe(12);
    expect(x.norm(-Infinity).item()).toBe(0);
    expect(x.norm(0).item()).toBe(3);
    expect(x.norm(3).item()).toBeCloseTo((27 + 64 + 1728) ** (1 / 3), 13);
    expect(() => x.norm(NaN)).toThrow(ValueError);
  });
});

describe('sort, argsort, topk', () => {
  it('stable, with NaN as the largest value (torch.sort(stable=True))', () => {
    const s = sort(tensor([3, 1, 2, 1]));
    expect(arr(s.values)).toEqual([1, 1, 2, 3]);
    expect(arr(s.indices)).toEqual([1, 3, 2, 0]);
    expect(s.indices.dtype).toBe('int32');
    expect(arr(tensor([3, 1, 2, 1]).sort(-1, true).indices)).toEqual([0, 2, 1, 3]);
    const n = sort(tensor([1, NaN, 0]));
    expect(arr(n.indices)).toEqual([2, 0, 1]);
    expect(arr(tensor([1, NaN, 0]).argsort(0, true))).toEqual([1, 0, 2]);
  });
  it('along any dim, against a naive stable sort; topk is its prefix', () => {
    fc.assert(
      fc.property(shapeArb(3, 5), fc.nat(), fc.nat(), fc.boolean(), (shape, seed, d, desc) => {
        const t = gen(shape, seed).round(); // ties on purpose
        const axis = d % shape.length;
        const { values, indices } = t.sort(axis, desc);
        const k = 1 + (seed % shape[axis]!);
        const top = topk(t, k, axis, desc);
        expect(top.values.shape).toEqual(shape.map((s, i) => (i === axis ? k : s)));
        idxOf(shape.map((s, i) => (i === axis ? 1 : s))).forEach((base) => {
          const at = (k2: number): number[] => base.map((v, i) => (i === axis ? k2 : v));
          const row = Array.from({ length: shape[axis]! }, (_, k2) => ({ v: t.data[offset(shape, at(k2))]!, k: k2 }));
          row.sort((a, b) => (desc ? b.v - a.v : a.v - b.v));
          row.forEach((r, j) => {
            expect(indices.data[offset(shape, at(j))]).toBe(r.k);
            expect(values.data[offset(shape, at(j))]).toBe(r.v);
          });
          for (let j = 0; j < k; j++) expect(top.values.data[offset(top.values.shape, at(j))]).toBe(row[j]!.v);
        });
      }),
      { numRuns: 60, seed: 22 },
    );
  });
  it('topk checks k', () => {
    expect(() => topk(tensor([1, 2]), 3)).toThrow(/k must be an integer in \[0, 2\]/);
    expect(arr(topk(tensor([1, 5, 3]), 2, 0, false).indices)).toEqual([0, 2]);
  });
});

describe('masks, splitting, tiling: against naive references', () => {
  it('tril/triu with diagonal offsets, batched', () => {
    const m = arange(12, undefined, 1, { dtype: 'float64' }).reshape([3, 4]).add(1);
    expect(m.tril().toArray()).toEqual([
      [1, 0, 0, 0],
      [5, 6, 0, 0],
      [9, 10, 11, 0],
    ]);
    expect(m.tril(-1).toArray()).toEqual([
      [0, 0, 0, 0],
      [5, 0, 0, 0],
      [9, 10, 0, 0],
    ]);
    expect(m.triu(1).toArray()).toEqual([
      [0, 2, 3, 4],
      [0, 0, 7, 8],
      [0, 0, 0, 12],
    ]);
    expect(m.reshape([1, 3, 4]).expand([2, 3, 4]).triu().toArray()).toEqual([m.triu().toArray(), m.triu().toArray()]);
    expect(() => arange(3).tril()).toThrow(ShapeError);
  });
  it('maskedFill broadcasts the mask; -inf fill makes causal masks', () => {
    const s = f64([
      [1, 2],
      [3, 4],
    ]);
    const causal = tensor([
      [0, 1],
      [0, 0],
    ]);
    expect(s.maskedFill(causal, -Infinity).softmax(-1).toArray()).toEqual([
      [1, 0],
      [1 / (1 + Math.E), Math.E / (1 + Math.E)],
    ]);
    expect(s.maskedFill(tensor([1, 0]), 7).toArray()).toEqual([
      [7, 2],
      [7, 4],
    ]);
    expect(() =>
      tensor([1, 2]).maskedFill(
        tensor([
          [1, 0],
          [0, 1],
        ]),
        0,
      ),
    ).toThrow(/must broadcast to the input's shape/);
  });
  it('split/chunk/unbind: pieces concatenate back, with PyTorch piece sizes', () => {
    fc.assert(
      fc.property(shapeArb(3, 7), fc.nat(), fc.integer({ min: 1, max: 8 }), (shape, d, size) => {
        const t = gen(shape, d);
        const axis = d % shape.length,
          n = shape[axis]!;
        const pieces = t.split(size, axis);
        expect(pieces.map((p) => p.shape[axis])).toEqual(
          Array.from({ length: Math.ceil(n / size) }, (_, i) => Math.min(size, n - i * size)),
        );
        const chunks = t.chunk(size, axis);
        const cs = Math.ceil(n / size);
        expect(chunks.map((p) => p.shape[axis])).toEqual(
          Array.from({ length: Math.ceil(n / cs) }, (_, i) => Math.min(cs, n - i * cs)),
        );
        let off = 0;
        for (const p of [...pieces]) {
          idxOf(p.shape).forEach((idx, j) =>
            expect(p.data[j]).toBe(
              t.data[
                offset(
                  shape,
                  idx.map((v, i) => (i === axis ? v + off : v)),
                )
              ],
            ),
          );
          off += p.shape[axis]!;
        }
        const ub = t.unbind(axis);
        expect(ub.length).toBe(n);
        ub.forEach((u, k) =>
          idxOf(u.shape).forEach((idx, j) =>
            expect(u.data[j]).toBe(t.data[offset(shape, [...idx.slice(0, axis), k, ...idx.slice(axis)])]),
          ),
        );
      }),
      { numRuns: 60, seed: 23 },
    );
    expect(() => arange(5).split([2, 2])).toThrow(/sum to 4, but dimension 0 has size 5/);
  });
  it('repeat and tile against the index formula out[i] = x[i mod shape]', () => {
    fc.assert(
      fc.property(
        shapeArb(3, 3),
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 4 }),
        fc.nat(),
        (shape, reps, seed) => {
          const t = gen(shape, seed);
          const check = (out: Tensor, r: number[]): void => {
            const s = [...new Array<number>(r.length - shape.length).fill(1), ...shape];
            expect(out.shape).toEqual(s.map((d, i) => d * r[i]!));
            idxOf(out.shape).forEach((idx, j) =>
              expect(out.data[j]).toBe(
                t.data[
                  offset(
                    s,
                    idx.map((v, i) => v % s[i]!),
                  )
                ],
              ),
            );
          };
          const tr = [...new Array<number>(Math.max(0, shape.length - reps.length)).fill(1), ...reps];
          check(t.tile(reps), tr);
          if (reps.length >= shape.length) check(t.repeat(reps), reps);
          else expect(() => t.repeat(reps)).toThrow(ShapeError);
        },
      ),
      { numRuns: 60, seed: 24 },
    );
    expect(arange(2).repeat(2, 2).toArray()).toEqual([
      [0, 1, 0, 1],
      [0, 1, 0, 1],
    ]);
  });
  it('flip and roll against index formulas', () => {
    fc.assert(
      fc.property(shapeArb(3, 4), fc.nat(), fc.integer({ min: -9, max: 9 }), (shape, m, shift) => {
        const t = gen(shape, m);
        const axes = shape.map((_, i) => i).filter((i) => (m >> i) & 1);
        const f = t.flip(axes);
        idxOf(shape).forEach((idx, j) =>
          expect(f.data[j]).toBe(
            t.data[
              offset(
                shape,
                idx.map((v, i) => (axes.includes(i) ? shape[i]! - 1 - v : v)),
              )
            ],
          ),
        );
        const axis = m % shape.length;
        const r = t.roll(shift, axis);
        idxOf(shape).forEach((idx, j) => {
          const n = shape[axis]!;
          expect(r.data[j]).toBe(
            t.data[
              offset(
                shape,
                idx.map((v, i) => (i === axis ? (((v - shift) % n) + n) % n : v)),
              )
            ],
          );
        });
        const flat = t.roll(shift),
          size = t.size;
        flat.data.forEach((v, j) => expect(v).toBe(t.data[(((j - shift) % size) + size) % size]));
      }),
      { numRuns: 60, seed: 25 },
    );
    expect(arange(5).roll(2).toArray()).toEqual([3, 4, 0, 1, 2]);
  });
  it('slices with negative steps follow Python (CPython slice.indices)', () => {
    // CPython's PySlice_AdjustIndices, written out independently of src/.
    const pyIndices = (n: number, start: number | undefined, stop: number | undefined, step: number): number[] => {
      const adj = (v: number | undefined, dflt: number): number => {
        if (v === undefined) return dflt;
        if (v < 0) return Math.max(v + n, step < 0 ? -1 : 0);
        return Math.min(v, step < 0 ? n - 1 : n);
      };
      const s = adj(start, step < 0 ? n - 1 : 0),
        e = adj(stop, step < 0 ? -1 : n);
      const out: number[] = [];
      for (let i = s; step > 0 ? i < e : i > e; i += step) out.push(i);
      return out;
    };
    const opt = fc.option(fc.integer({ min: -8, max: 8 }), { nil: undefined });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        opt,
        opt,
        fc.integer({ min: -4, max: 4 }).filter((s) => s !== 0),
        (n, a, b, step) => {
          const x = arange(n, undefined, 1, { dtype: 'float64' });
          expect(arr(x.slice([[a, b, step]]))).toEqual(pyIndices(n, a, b, step));
        },
      ),
      { numRuns: 300, seed: 26 },
    );
    expect(() => arange(3).slice([[0, 3, 0]])).toThrow(/non-zero integer/);
  });
  it('oneHot (int32), inferring numClasses', () => {
    const o = oneHot(tensor([2, 0], { dtype: 'int32' }), 4);
    expect(o.dtype).toBe('int32');
    expect(o.toArray()).toEqual([
      [0, 0, 1, 0],
      [1, 0, 0, 0],
    ]);
    expect(oneHot(tensor([[1, 0]])).toArray()).toEqual([
      [
        [0, 1],
        [1, 0],
      ],
    ]);
    expect(() => oneHot([3], 3)).toThrow(IndexError);
    expect(() => oneHot([-1])).toThrow(IndexError);
  });
});

describe('einsum against a naive loop over all labels', () => {
  /** Sums the product of operand entries over every assignment of the labels. */
  const naive = (eq: string, ops: Tensor[]): { shape: number[]; data: number[] } => {
    const [lhs, rhs] = eq.split('->') as [string, string];
    const specs = lhs.split(',');
    const size = new Map<string, number>();
    specs.forEach((s, k) => [...s].forEach((l, i) => size.set(l, ops[k]!.shape[i]!)));
    const labels = [...size.keys()];
    const outShape = [...rhs].map((l) => size.get(l)!);
    const out = new Array<number>(outShape.reduce((a, b) => a * b, 1)).fill(0);
    idxOf(labels.map((l) => size.get(l)!)).forEach((assign) => {
      const val = (l: string): number => assign[labels.indexOf(l)]!;
      let p = 1;
      specs.forEach((s, k) => (p *= ops[k]!.data[offset(ops[k]!.shape, [...s].map(val))]!));
      const o = offset(outShape, [...rhs].map(val));
      out[o] = out[o]! + p;
    });
    return { shape: outShape, data: out };
  };
  const cases = [
    'ij,jk->ik',
    'ij->ji',
    'ii->i',
    'ii->',
    'ij->',
    'i,j->ij',
    'bij,bjk->bik',
    'ab,bc,ca->',
    'iij,jk->ik',
    'abc,cd->abd',
    'ij,ij->ij',
    'ij,ij->',
    'i,i->i',
    'abc->cab',
    'ab,ab,ab->a',
    'bn,anm,bm->ba',
  ];
  it.each(cases)('%s', (eq) => {
    const specs = eq.split('->')[0]!.split(',');
    const dims: Record<string, number> = { a: 2, b: 3, c: 2, d: 4, i: 3, j: 2, k: 4, n: 3, m: 2 };
    const ops = specs.map((s, k) =>
      gen(
        [...s].map((l) => dims[l]!),
        30 + k,
      ),
    );
    const want = naive(eq, ops);
    const got = einsum(eq, ...ops);
    expect(got.shape).toEqual(want.shape);
    close(got, want.data, 1e-12);
  });
  it('implicit output and ellipsis broadcasting, as torch.einsum', () => {
    const a = gen([2, 3], 1),
      b = gen([3, 4], 2);
    close(einsum('ij,jk', a, b), arr(a.matmul(b)));
    close(einsum('ba', a), arr(a.T)); // implicit output is alphabetical: 'ab'
    const x = gen([2, 1, 2, 3], 3),
      y = gen([4, 3, 2], 4);
    const got = einsum('...ij,...jk->...ik', x, y);
    expect(got.shape).toEqual([2, 4, 2, 2]);
    close(got, arr(x.matmul(y)), 1e-12);
    expect(() => einsum('ij,jk->ik', a, a)).toThrow(/label 'j' has sizes 3 and 2/);
    expect(() => einsum('ij->ik', a)).toThrow(/output label 'k'/);
    expect(() => einsum('ij', a, b)).toThrow(/names 1 operands, but 2 were given/);
  });
});

describe('losses: values as torch.nn.functional', () => {
  const p = f64([1, 2, 3]),
    t = f64([2, 2, 5]);
  it('l1Loss, smoothL1Loss (beta), huberLoss (delta)', () => {
    expect(l1Loss(p, t).item()).toBe(1);
    expect(l1Loss(p, t, { reduction: 'sum' }).item()).toBe(3);
    expect(smoothL1Loss(p, t).item()).toBeCloseTo(2 / 3, 15); // [0.5, 0, 1.5]
    expect(smoothL1Loss(f64([0.5]), f64([0])).item()).toBeCloseTo(0.125, 15);
    expect(smoothL1Loss(p, t, { beta: 0 }).item()).toBe(1);
    expect(smoothL1Loss(p, t, { beta: 4, reduction: 'none' }).toArray()).toEqual([0.125, 0, 0.5]);
    expect(huberLoss(p, t).item()).toBeCloseTo(2 / 3, 15);
    expect(huberLoss(p, t, { delta: 2 }).item()).toBeCloseTo(2.5 / 3, 15); // [0.5, 0, 2·(2 − 1)]
    expect(huberLoss(p, t, { delta: 0.5, reduction: 'none' }).toArray()).toEqual([0.375, 0, 0.875]);
    expect(() => l1Loss(p, t, { reduce: 'sum' } as never)).toThrow(/unknown option 'reduce'/);
  });
  it('klDiv: mean, batchmean, sum, logTarget; zero targets contribute 0', () => {
    const inp = f64([[0.25, 0.75]]).log(),
      tg = f64([[0.5, 0.5]]);
    const kl = 0.5 * Math.log(2) + 0.5 * Math.log(2 / 3);
    expect(klDiv(inp, tg, { reduction: 'batchmean' }).item()).toBeCloseTo(kl, 15);
    expect(klDiv(inp, tg).item()).toBeCloseTo(kl / 2, 15);
    expect(klDiv(inp, tg.log(), { logTarget: true, reduction: 'sum' }).item()).toBeCloseTo(kl, 15);
    expect(klDiv(inp, f64([[0, 1]]), 'sum').item()).toBeCloseTo(-Math.log(0.75), 15);
    const tz = f64([[0, 1]]).requiresGrad_();
    klDiv(inp, tz, 'sum').backward();
    expect(arr(tz.grad!).every(Number.isFinite)).toBe(true);
  });
  it('binaryCrossEntropy on probabilities, clamped at 100 as PyTorch, with weights', () => {
    expect(binaryCrossEntropy(f64([0.9, 0.2]), f64([1, 0])).item()).toBeCloseTo(0.16425203348601805, 15);
    expect(binaryCrossEntropy(f64([0]), f64([1])).item()).toBe(100);
    expect(
      binaryCrossEntropy(f64([0.9, 0.2]), f64([1, 0]), { weight: f64([2, 0]), reduction: 'sum' }).item(),
    ).toBeCloseTo(-2 * Math.log(0.9), 15);
    expect(() => binaryCrossEntropy(f64([1.5]), f64([1]))).toThrow(/probabilities in \[0, 1\]/);
  });
  it('crossEntropy: ignoreIndex, weights, label smoothing (torch formulas and known values)', () => {
    const x = f64([
      [1, 2, 3],
      [1, 0, 0],
      [0.5, -1, 2],
    ]);
    const lp = x.logSoftmax(1);
    const l = (i: number, c: number): number => -lp.data[i * 3 + c]!;
    expect(crossEntropy(f64([[1, 2, 3]]), [2]).item()).toBeCloseTo(0.40760596444438, 12);
    expect(crossEntropy(f64([[1, 2, 3]]), [2], { labelSmoothing: 0.1 }).item()).toBeCloseTo(
      0.9 * 0.40760596444438 + 0.1 * 1.40760596444438,
      12,
    );
    expect(crossEntropy(x, [2, -100, 0]).item()).toBeCloseTo((l(0, 2) + l(2, 0)) / 2, 14);
    expect(crossEntropy(x, [2, 1, 0], { ignoreIndex: 1, reduction: 'sum' }).item()).toBeCloseTo(l(0, 2) + l(2, 0), 14);
    expect(crossEntropy(x, [2, -100, 0], { reduction: 'none' }).toArray()).toEqual([l(0, 2), 0, l(2, 0)]);
    const w = f64([0.5, 2, 3]);
    expect(crossEntropy(x, [2, 1, 0], { weight: w }).item()).toBeCloseTo(
      (3 * l(0, 2) + 2 * l(1, 1) + 0.5 * l(2, 0)) / 5.5,
      14,
    );
    // smoothing with weights (torch): ((1 − ε)·Σ w_t·l_t + ε/C·Σ_i Σ_c w_c·l_ic) / Σ w_t
    const eps = 0.3;
    const smooth = [0, 1, 2].reduce((s, i) => s + [0, 1, 2].reduce((a, c) => a + w.data[c]! * l(i, c), 0), 0);
    const nll = 3 * l(0, 2) + 2 * l(1, 1) + 0.5 * l(2, 0);
    expect(crossEntropy(x, [2, 1, 0], { weight: w, labelSmoothing: eps }).item()).toBeCloseTo(
      ((1 - eps) * nll + (eps / 3) * smooth) / 5.5,
      14,
    );
    expect(() => crossEntropy(x, [2, 1, 0], { ignore: 1 } as never)).toThrow(/unknown option 'ignore'/);
  });
  it('crossEntropy: probability targets equal one-hot class targets; [N, C, d1, d2] equals the flattened form', () => {
    const x = gen([4, 3], 7);
    const y = [2, 0, 1, 1];
    const hot = oneHot(y, 3).to('float64');
    expect(crossEntropy(x, hot).item()).toBeCloseTo(crossEntropy(x, y).item(), 14);
    expect(crossEntropy(x, hot, { labelSmoothing: 0.2 }).item()).toBeCloseTo(
      crossEntropy(x, y, { labelSmoothing: 0.2 }).item(),
      14,
    );
    close(crossEntropy(x, hot, { reduction: 'none' }), arr(crossEntropy(x, y, { reduction: 'none' })), 1e-14);
    const z = gen([2, 3, 2, 2], 8);
    const tz = tensor(
      [
        [
          [0, 2],
          [1, 1],
        ],
        [
          [2, 2],
          [0, 1],
        ],
      ],
      { dtype: 'int32' },
    );
    const flat = z.permute([0, 2, 3, 1]).reshape([8, 3]);
    expect(crossEntropy(z, tz).item()).toBeCloseTo(crossEntropy(flat, tz.reshape([8])).item(), 14);
    expect(crossEntropy(z, tz, { reduction: 'none' }).shape).toEqual([2, 2, 2]);
    expect(nllLoss(z.logSoftmax(1), tz, 'sum').item()).toBeCloseTo(
      crossEntropy(z, tz, { reduction: 'sum' }).item(),
      13,
    );
    // unbatched [C] input with a 0-d target
    expect(crossEntropy(f64([1, 2, 3]), tensor(2, { dtype: 'int32' })).item()).toBeCloseTo(0.40760596444438, 12);
    expect(() => crossEntropy(z, tensor([[0, 1]], { dtype: 'int32' }))).toThrow(/targets must have shape \[2,2,2\]/);
  });
  it('loss modules carry their options', () => {
    const x = gen([3, 4], 11),
      y = [1, 0, 3];
    expect(new nn.CrossEntropyLoss({ ignoreIndex: 0, labelSmoothing: 0.1 }).forward(x, y).item()).toBeCloseTo(
      crossEntropy(x, y, { ignoreIndex: 0, labelSmoothing: 0.1 }).item(),
      15,
    );
    expect(new nn.NLLLoss({ ignoreIndex: 3 }).forward(x, y).item()).toBeCloseTo(
      nllLoss(x, y, { ignoreIndex: 3 }).item(),
      15,
    );
    const a = gen([5], 12),
      b = gen([5], 13);
    expect(new nn.L1Loss().forward(a, b).item()).toBe(l1Loss(a, b).item());
    expect(new nn.SmoothL1Loss({ beta: 0.3 }).forward(a, b).item()).toBe(smoothL1Loss(a, b, { beta: 0.3 }).item());
    expect(new nn.HuberLoss({ delta: 0.3, reduction: 'sum' }).forward(a, b).item()).toBe(
      huberLoss(a, b, { delta: 0.3, reduction: 'sum' }).item(),
    );
    expect(new nn.KLDivLoss({ reduction: 'batchmean' }).forward(a.logSoftmax(0), b.softmax(0)).item()).toBe(
      klDiv(a.logSoftmax(0), b.softmax(0), { reduction: 'batchmean' }).item(),
    );
    expect(new nn.BCELoss().forward(a.sigmoid(), b.sigmoid()).item()).toBe(
      binaryCrossEntropy(a.sigmoid(), b.sigmoid()).item(),
    );
    expect(() => new nn.HuberLoss({ beta: 1 } as never)).toThrow(/unknown option 'beta'/);
  });
});

describe('issue-12 ops: errors name the op, the argument and what was expected', () => {
  const x = arange(6, undefined, 1, { dtype: 'float64' }).reshape([2, 3]);
  it.each<[string, () => unknown, RegExp]>([
    ['split size', () => x.split(0, 1), /split: splitSize must be an integer ≥ 1, got 0/],
    ['chunk count', () => x.chunk(1.5), /chunk: chunks must be an integer ≥ 1, got 1.5/],
    ['roll lengths', () => x.roll([1, 2], [0]), /roll: shifts \[1,2\] and dims \[0\] must have the same length/],
    ['roll shift', () => x.roll(0.5, 0), /roll: shifts must be integers/],
    ['flip axis', () => x.flip(2), /flip: axis 2 is out of range for a tensor of rank 2/],
    ['repeat count', () => x.repeat(1, -1), /repeat: each repeat must be an integer ≥ 0, got -1/],
    ['tril diagonal', () => x.tril(0.5), /tril: diagonal must be an integer/],
    [
      'norm dtype',
      () => arange(3, undefined, 1, { dtype: 'int32' }).norm(),
      /norm: expected a float tensor, got int32/,
    ],
    ['einsum subscript', () => einsum('i1,i->', x, x), /einsum: invalid subscript '1'/],
    [
      'einsum rank',
      () => einsum('ijk->', x),
      /einsum: subscripts 'ijk' name 3 dimensions but the operand has shape \[2,3\]/,
    ],
    ['sort dim', () => x.sort(2), /sort: axis 2 is out of range/],
    [
      'klDiv shapes',
      () => klDiv(x, x.reshape([3, 2])),
      /klDiv: input shape \[2,3\] and target shape \[3,2\] must be equal/,
    ],
    ['huber delta', () => huberLoss(x, x, { delta: 0 }), /huberLoss: delta must be positive, got 0/],
    [
      'crossEntropy weight',
      () => crossEntropy(x, [0, 1], { weight: f64([1, 2]) }),
      /crossEntropy: weight must have shape \[3\], got \[2\]/,
    ],
    ['crossEntropy target', () => crossEntropy(x, [0, 3]), /crossEntropy: target 3 is not a class index in \[0, 3\)/],
    [
      'crossEntropy soft + ignoreIndex',
      () => crossEntropy(x, x.softmax(1), { ignoreIndex: 0 }),
      /ignoreIndex applies to class-index targets/,
    ],
    ['hardtanh range', () => x.hardtanh(1, -1), /hardtanh: minVal 1 must not exceed maxVal -1/],
  ])('%s', (_name, f, re) => expect(f).toThrow(re));
});
