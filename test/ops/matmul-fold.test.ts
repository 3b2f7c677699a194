/** matmul of a batched operand against a matrix runs as one GEMM over folded rows: same values and gradients. */
import { describe, expect, it } from 'vitest';
import { grad, type Tensor, zeros } from '../../src/index.js';
import { rnd } from '../helpers.js';

describe('matmul folds [..., M, K] @ [K, N] into one product', () => {
  it('equals the batched product (b expanded to the batch), in value and in both gradients', () => {
    for (const tb of [false, true]) {
      const a = rnd([2, 3, 4, 5], 1),
        b = rnd(tb ? [6, 5] : [5, 6], 2);
      const folded = (x: Tensor, y: Tensor) => x.matmul(y, { transB: tb }).pow(2).sum();
      const batched = (x: Tensor, y: Tensor) =>
        x
          .matmul(y.expand([2, 3, ...y.shape]), { transB: tb })
          .pow(2)
          .sum();
      expect(folded(a, b).item()).toBeCloseTo(batched(a, b).item(), 10);
      const g1 = grad(folded, { argnums: [0, 1] })(a, b) as Tensor[];
      const g2 = grad(batched, { argnums: [0, 1] })(a, b) as Tensor[];
      g1.forEach((g, i) => {
        expect(g.shape).toEqual(g2[i]!.shape);
        g.data.forEach((v, j) => expect(v).toBeCloseTo(g2[i]!.data[j]!, 10));
      });
    }
  });
  it('keeps empty shapes right', () => {
    expect(zeros([2, 3, 0]).matmul(zeros([0, 4])).shape).toEqual([2, 3, 4]);
    expect(zeros([2, 0, 5]).matmul(zeros([5, 4])).shape).toEqual([2, 0, 4]);
    expect(zeros([2, 3, 5]).matmul(zeros([5, 0])).shape).toEqual([2, 3, 0]);
  });
});
