import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { grad, hvp, tensor, valueAndGrad, vjp, type Tensor } from '../../src/index.js';

const v64 = (xs: number[]): Tensor => tensor(xs, { dtype: 'float64' });

describe('functional transforms', () => {
  it('grad differentiates at arguments that do not require grad', () => {
    const g = grad((x: Tensor) => x.pow(3).sum())(v64([1, 2, 3]));
    expect(g.toArray()).toEqual([3, 12, 27]);
  });

  it('argnums selects arguments; an array returns an array', () => {
    const f = (x: Tensor, y: Tensor): Tensor => x.mul(y).sum();
    const [gx, gy] = grad(f, { argnums: [0, 1] })(v64([1, 2]), v64([3, 4]));
    expect(gx!.toArray()).toEqual([3, 4]);
    expect(gy!.toArray()).toEqual([1, 2]);
    expect(grad(f, { argnums: 1 })(v64([1, 2]), v64([3, 4])).toArray()).toEqual([1, 2]);
    expect(() => grad(f, { argnums: 2 })(v64([1]), v64([1]))).toThrow(/argnums 2 is out of range/);
  });

  it('valueAndGrad returns both; the user tensor gets no .grad', () => {
    const x = tensor([2], { dtype: 'float64', requiresGrad: true });
    const [v, g] = valueAndGrad((t: Tensor) => t.mul(t).sum())(x);
    expect(v.item()).toBe(4);
    expect(g.item()).toBe(4);
    expect(x.grad).toBeNull();
  });

  it('nests: grad(grad(f)) is the second derivative', () => {
    const f = (x: Tensor): Tensor => x.pow(4).sum();
    const d2 = grad((x: Tensor) => grad(f)(x).sum())(v64([1, 2, -3]));
    expect(d2.toArray()).toEqual([12, 48, 108]);
    const d3 = grad((x: Tensor) => grad((y: Tensor) => grad(f)(y).sum())(x).sum())(v64([1, 2]));
    expect(d3.toArray()).toEqual([24, 48]);
  });

  it('vjp maps cotangents of a non-scalar output', () => {
    const [out, pullback] = vjp((x: Tensor) => x.mul(x), v64([1, 2, 3]));
    expect(out.toArray()).toEqual([1, 4, 9]);
    expect(pullback(v64([1, 1, 0]))[0]!.toArray()).toEqual([2, 4, 0]);
    expect(pullback(v64([0, 0, 1]))[0]!.toArray()).toEqual([0, 0, 6]);
  });

  it('hvp of a cubic equals the analytic Hessian-vector product (property)', () => {
    // f(x) = Σ a_i x_i³ + (Σ x_i)², H = diag(6 a_i x_i) + 2·11ᵀ
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.double({ min: -3, max: 3, noNaN: true }),
            fc.double({ min: -3, max: 3, noNaN: true }),
            fc.double({ min: -3, max: 3, noNaN: true }),
          ),
          { minLength: 1, maxLength: 6 },
        ),
        (rows) => {
          const a = v64(rows.map((r) => r[0])),
            x = v64(rows.map((r) => r[1])),
            v = v64(rows.map((r) => r[2]));
          const f = (t: Tensor): Tensor => a.mul(t.pow(3)).sum().add(t.sum().pow(2));
          const got = hvp(f, x, v).data;
          const vs = rows.reduce((s, r) => s + r[2], 0);
          rows.forEach(([ai, xi, vi], i) => {
            const want = 6 * ai * xi * vi + 2 * vs;
            expect(Math.abs(got[i]! - want)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(want)));
          });
        },
      ),
      { numRuns: 50, seed: 7 },
    );
  });

  it('rejects a non-scalar f', () => {
    expect(() => grad((x: Tensor) => x.mul(2))(v64([1, 2]))).toThrow(/scalar/);
  });
});
