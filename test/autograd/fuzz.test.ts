/**
 * Random float64 graphs against finite differences (issue 10's adversarial fuzzing, kept in the
 * suite): fast-check builds a program of ops over two [2, 3] inputs (values reused, so gradients
 * accumulate through fan-out; reductions broadcast back), and gradcheck compares every Jacobian
 * entry with central differences. Deterministic (seeded in test/setup.ts); ~1–3 s.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gradcheck, tensor, type Tensor } from '../../src/index.js';

type Op = (xs: Tensor[], i: number, j: number) => Tensor;
/** Each op keeps shape [2, 3] and is smooth on the values it can meet (no kinks, no poles). */
const OPS: [string, Op][] = [
  ['add', (xs, i, j) => xs[i]!.add(xs[j]!)],
  ['sub', (xs, i, j) => xs[i]!.sub(xs[j]!)],
  ['mul', (xs, i, j) => xs[i]!.mul(xs[j]!)],
  ['div', (xs, i, j) => xs[i]!.div(xs[j]!.mul(xs[j]!).add(1))],
  ['tanh', (xs, i) => xs[i]!.tanh()],
  ['sigmoid', (xs, i) => xs[i]!.sigmoid()],
  ['sin', (xs, i) => xs[i]!.sin()],
  ['exp∘tanh', (xs, i) => xs[i]!.tanh().exp()],
  ['softplus', (xs, i) => xs[i]!.softplus()],
  ['sqrt(1+x²)', (xs, i) => xs[i]!.square().add(1).sqrt()],
  ['log(1+x²)', (xs, i) => xs[i]!.square().log1p()],
  ['pow', (xs, i) => xs[i]!.square().add(0.5).pow(1.5)],
  ['softmax', (xs, i) => xs[i]!.softmax(1)],
  ['logSoftmax', (xs, i) => xs[i]!.logSoftmax(0)],
  ['+ row sums', (xs, i, j) => xs[i]!.add(xs[j]!.sum(1, true))],
  ['* column means', (xs, i, j) => xs[i]!.mul(xs[j]!.mean(0, true))],
  ['+ logSumExp', (xs, i, j) => xs[i]!.add(xs[j]!.logSumExp(1, true))],
  ['matmul', (xs, i, j) => xs[i]!.matmul(xs[j]!.transpose(0, 1)).matmul(xs[j]!).mul(0.1)],
  ['reshape/permute', (xs, i) => xs[i]!.reshape([3, 2]).permute([1, 0]).mul(0.5).add(xs[i]!)],
  [
    'concat/slice',
    (xs, i, j) =>
      xs[i]!.slice([null, [0, 2]])
        .pad([
          [0, 0],
          [0, 1],
        ])
        .add(
          xs[j]!.slice([null, [1, 3]]).pad([
            [0, 0],
            [1, 0],
          ]),
        ),
  ],
  ['gelu', (xs, i) => xs[i]!.gelu()],
  ['var', (xs, i, j) => xs[i]!.add(xs[j]!.var(1, true))],
];

const step = fc.record({ op: fc.nat(OPS.length - 1), i: fc.nat(100), j: fc.nat(100) });
const values = fc.array(fc.double({ min: -1.5, max: 1.5, noNaN: true }), { minLength: 6, maxLength: 6 });

describe('random graphs: analytic gradients match central differences', () => {
  it('first order, float64', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 8 }), values, values, (prog, a, b) => {
        const f = (x: Tensor, y: Tensor): Tensor => {
          const xs = [x, y];
          for (const s of prog) xs.push(OPS[s.op]![1](xs, s.i % xs.length, s.j % xs.length));
          return xs[xs.length - 1]!;
        };
        const x = tensor(a, { dtype: 'float64', shape: [2, 3], requiresGrad: true });
        const y = tensor(b, { dtype: 'float64', shape: [2, 3], requiresGrad: true });
        const r = gradcheck(f, [x, y], { atol: 1e-6, rtol: 1e-4 });
        if (!r.ok) throw new Error(`${prog.map((s) => OPS[s.op]![0]).join(' → ')}: ${JSON.stringify(r.worst)}`);
        expect(r.ok).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});
