/** multiTaskBackward: weighted sums and PCGrad projections, checked against the paper's formulas on linear losses. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Generator, optim, tensor, ValueError } from '../../src/index.js';

// L_k = c_k · x has gradient exactly c_k, so expectations are plain vector algebra.
const linearLosses = (x: ReturnType<typeof tensor>, cs: number[][]) =>
  cs.map((c) => x.mul(tensor(c, { dtype: 'float64' })).sum());
const dotp = (a: number[], b: number[]) => a.reduce((s, ai, i) => s + ai * b[i]!, 0);

describe('multiTaskBackward', () => {
  it('weighted: writes Σ wₖ·∇Lₖ into .grad', () => {
    const x = tensor([0.5, -1, 2], { dtype: 'float64', requiresGrad: true });
    const cs = [
      [1, 2, 3],
      [-1, 0, 4],
    ];
    const r = optim.multiTaskBackward(linearLosses(x, cs), [x], { weights: [0.3, 2] });
    expect([...x.grad!.data]).toEqual([0.3 * 1 + 2 * -1, 0.3 * 2 + 0, 0.3 * 3 + 2 * 4]);
    expect(r.taskGradNorms[0]).toBeCloseTo(0.3 * Math.hypot(1, 2, 3), 14);
    expect(r.conflicts).toBe(0);
  });
  it('pcgrad on two conflicting gradients: each is projected onto the other’s normal plane, then summed', () => {
    const x = tensor([0, 0], { dtype: 'float64', requiresGrad: true });
    const g1 = [1, 0],
      g2 = [-1, 1]; // g1·g2 = −1 < 0
    const r = optim.multiTaskBackward(linearLosses(x, [g1, g2]), [x], { method: 'pcgrad' });
    // g1' = g1 − (g1·g2/|g2|²)·g2 = [1,0] + ½[−1,1] = [½, ½]; g2' = g2 − (g2·g1/|g1|²)·g1 = [−1,1] + [1,0] = [0, 1]
    expect(x.grad!.data[0]).toBeCloseTo(0.5, 15);
    expect(x.grad!.data[1]).toBeCloseTo(1.5, 15);
    expect(r.conflicts).toBe(1);
    expect(r.cosine[0]![1]).toBeCloseTo(-1 / Math.SQRT2, 14);
  });
  it('pcgrad leaves non-conflicting gradients alone (equals the plain sum)', () => {
    const x = tensor([0, 0, 0], { dtype: 'float64', requiresGrad: true });
    optim.multiTaskBackward(
      linearLosses(x, [
        [1, 2, 0],
        [0, 1, 1],
        [3, 0, 1],
      ]),
      [x],
      { method: 'pcgrad' },
    );
    expect([...x.grad!.data]).toEqual([4, 3, 2]);
  });
  // Values on a 1e-3 grid in [-10, 10]: no subnormal products, so the bound is purely relative.
  const milli = fc.integer({ min: -10_000, max: 10_000 }).map((v) => v / 1000);
  it('property: with two tasks the PCGrad direction never increases either loss to first order', () => {
    fc.assert(
      fc.property(
        fc.array(milli, { minLength: 3, maxLength: 3 }),
        fc.array(milli, { minLength: 3, maxLength: 3 }),
        (a, b) => {
          const x = tensor([0, 0, 0], { dtype: 'float64', requiresGrad: true });
          optim.multiTaskBackward(linearLosses(x, [a, b]), [x], { method: 'pcgrad' });
          const d = [...x.grad!.data];
          const scale = (dotp(a, a) + dotp(b, b)) * 1e-12;
          expect(dotp(d, a)).toBeGreaterThanOrEqual(-scale);
          expect(dotp(d, b)).toBeGreaterThanOrEqual(-scale);
        },
      ),
      { numRuns: 200, seed: 5 },
    );
  });
  it('works with a shared graph and several parameters, accumulates onto existing grads, and an optimizer step uses it', () => {
    const w = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float64', requiresGrad: true },
    );
    const b = tensor([0.5, -0.5], { dtype: 'float64', requiresGrad: true });
    const h = w.sum(1).add(b); // shared trunk
    const l1 = h.square().sum(),
      l2 = h.sum().mul(-1);
    b.grad = tensor([10, 10], { dtype: 'float64' });
    optim.multiTaskBackward([l1, l2], [w, b], { weights: [1, 1] });
    // h = [3.5, 6.5]; ∂l1/∂h = 2h = [7, 13]; ∂l2/∂h = [−1, −1]; ∂h/∂b = I, ∂h_i/∂w_ij = 1
    expect([...b.grad!.data]).toEqual([10 + 6, 10 + 12]);
    expect([...w.grad!.data]).toEqual([6, 6, 12, 12]);
    const opt = new optim.GD([w, b], { lr: 0.1 });
    opt.step();
    expect(b.data[0]).toBeCloseTo(0.5 - 1.6, 14);
  });
  it('the shuffled order comes from the given generator (reproducible)', () => {
    const run = (seed: number) => {
      const x = tensor([0, 0], { dtype: 'float64', requiresGrad: true });
      optim.multiTaskBackward(
        linearLosses(x, [
          [1, 0],
          [-1, 1],
          [0, -1],
        ]),
        [x],
        { method: 'pcgrad', generator: new Generator(seed) },
      );
      return [...x.grad!.data];
    };
    expect(run(3)).toEqual(run(3));
  });
  it('bad input', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(() => optim.multiTaskBackward([], [x])).toThrow(ValueError);
    expect(() => optim.multiTaskBackward([x.mul(1)], [x])).toThrow(/loss 0 must be a scalar/);
    expect(() => optim.multiTaskBackward([x.sum()], [x], { weights: [1, 2] })).toThrow(/one number per loss \(1\)/);
    expect(() => optim.multiTaskBackward([x.sum()], [x], { method: 'nope' as 'pcgrad' })).toThrow(
      /method must be one of/,
    );
    expect(() => optim.multiTaskBackward([x.sum()], [x], { methd: 'pcgrad' } as never)).toThrow(/unknown option methd/);
  });
});
