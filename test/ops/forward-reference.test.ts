/** Forward values of every elementwise and reduction primitive against plain-JS references on random broadcast shapes. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Generator, Tensor, where } from '../../src/index.js';
import { erf } from '../../src/backend/cpu/kernels.js';

const gen = (shape: readonly number[], seed: number, pos = false): Tensor => {
  const g = new Generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(Float64Array.from({ length: n }, () => (pos ? 0.1 + 3 * g.uniform() : 6 * g.uniform() - 3)), shape);
};
/** Reads t at a multi-index of the broadcast output shape. */
const at = (t: Tensor, idx: number[]): number => {
  let off = 0, stride = 1;
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

const unary: [string, (t: Tensor) => Tensor, (x: number) => number, boolean?][] = [
  ['neg', (t) => t.neg(), (x) => -x], ['exp', (t) => t.exp(), Math.exp], ['log', (t) => t.log(), Math.log, true],
  ['sqrt', (t) => t.sqrt(), Math.sqrt, true], ['abs', (t) => t.abs(), Math.abs], ['tanh', (t) => t.tanh(), Math.tanh],
  ['sigmoid', (t) => t.sigmoid(), (x) => 1 / (1 + Math.exp(-x))], ['relu', (t) => t.relu(), (x) => Math.max(0, x)],
  ['sign', (t) => t.sign(), Math.sign], ['sin', (t) => t.sin(), Math.sin], ['cos', (t) => t.cos(), Math.cos],
  ['log1p', (t) => t.log1p(), Math.log1p, true],
];
const binary: [string, (a: Tensor, b: Tensor) => Tensor, (x: number, y: number) => number][] = [
  ['add', (a, b) => a.add(b), (x, y) => x + y], ['sub', (a, b) => a.sub(b), (x, y) => x - y],
  ['mul', (a, b) => a.mul(b), (x, y) => x * y], ['div', (a, b) => a.div(b), (x, y) => x / y],
  ['pow', (a, b) => a.abs().pow(b), (x, y) => Math.abs(x) ** y], ['maximum', (a, b) => a.maximum(b), Math.max],
  ['minimum', (a, b) => a.minimum(b), Math.min], ['gt', (a, b) => a.gt(b), (x, y) => +(x > y)],
  ['le', (a, b) => a.le(b), (x, y) => +(x <= y)], ['where', (a, b) => where(a.gt(0), a, b), (x, y) => (x > 0 ? x : y)],
];

describe('forward values against plain JS', () => {
  for (const [name, f, ref, pos] of unary) {
    it(name, () => {
      const x = gen([3, 4], name.length, pos);
      // exact, except the stable sigmoid form which may differ from the naive one by an ulp
      f(x).data.forEach((v, i) => expect(Math.abs(v - ref(x.data[i]!))).toBeLessThanOrEqual(name === 'sigmoid' ? 3e-16 * Math.abs(v) : 0));
    });
  }
  it('erf matches known values to 1e-15', () => {
    const known: [number, number][] = [[0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527], [3, 0.9999779095030014], [-1.5, -0.9661051464753108]];
    for (const [x, v] of known) expect(Math.abs(erf(x) - v)).toBeLessThan(2e-16 * 8);
  });
  for (const [name, f, ref] of binary) {
    it(`${name} with broadcasting`, () => {
      fc.assert(fc.property(pair, fc.nat(), ([sa, sb], seed) => {
        const a = gen(sa, seed), b = gen(sb, seed + 1);
        const out = f(a, b);
        indices(out.shape).forEach((idx, k) => expect(out.data[k]).toBe(ref(at(a, idx), at(b, idx))));
      }), { numRuns: 40, seed: 11 });
    });
  }
  it('sum/max/min over any axes', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }), fc.nat(), fc.nat(), (shape, seed, mask) => {
      const x = gen(shape, seed);
      const axes = shape.map((_, i) => i).filter((i) => (mask >> i) & 1);
      const keep = shape.map((d, i) => (axes.includes(i) ? 1 : d));
      for (const [op, init, comb] of [['sum', 0, (p: number, q: number) => p + q], ['max', -Infinity, Math.max], ['min', Infinity, Math.min]] as const) {
        const want = new Map<string, number>();
        indices(shape).forEach((idx, k) => {
          const key = idx.map((v, i) => (axes.includes(i) ? 0 : v)).join();
          want.set(key, comb(want.get(key) ?? init, x.data[k]!));
        });
        const got = (x as unknown as Record<string, (d: number[], k: boolean) => Tensor>)[op]!.call(x, axes, true);
        expect(got.shape).toEqual(keep);
        indices(keep).forEach((idx, k) => expect(got.data[k]).toBeCloseTo(want.get(idx.join())!, 12));
      }
    }), { numRuns: 60, seed: 12 });
  });
  it('matmul (batched, broadcast) against a triple loop', () => {
    const a = gen([2, 1, 3, 4], 1), b = gen([3, 4, 2], 2);
    const out = a.matmul(b);
    expect(out.shape).toEqual([2, 3, 3, 2]);
    indices(out.shape).forEach(([p, q, i, j], k) => {
      let s = 0;
      for (let r = 0; r < 4; r++) s += a.data[p! * 12 + i! * 4 + r]! * b.data[q! * 8 + r * 2 + j!]!;
      expect(out.data[k]).toBeCloseTo(s, 12);
    });
  });
});
