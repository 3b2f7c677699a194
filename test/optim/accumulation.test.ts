/** Gradient accumulation: 4 micro-batches of 8 (each loss divided by 4) equal one batch of 32. */
import { describe, expect, it } from 'vitest';
import { manualSeed, nn, optim, slice, Tensor } from '../../src/index.js';
import { rnd } from '../helpers.js';

describe('gradient accumulation', () => {
  it('4×8 micro-batches give the gradient and the Adam step of one batch of 32 (float64, to ~1 ulp)', () => {
    const make = () => {
      manualSeed(5);
      return new nn.Sequential(
        new nn.Linear(6, 16, { dtype: 'float64' }),
        new nn.Tanh(),
        new nn.Linear(16, 3, { dtype: 'float64' }),
      );
    };
    const x = rnd([32, 6], 1).detach(),
      y = rnd([32, 3], 2).detach();
    const full = make(),
      acc = make();
    const optFull = new optim.Adam(full.parameters(), { lr: 1e-2 });
    const optAcc = new optim.Adam(acc.parameters(), { lr: 1e-2 });
    let worstGrad = 0,
      worstParam = 0;
    for (let step = 0; step < 5; step++) {
      optFull.zeroGrad();
      nn.mseLoss(full.forward(x), y).backward();
      optAcc.zeroGrad();
      const k = 4;
      for (let m = 0; m < k; m++) {
        const xs = slice(x, [[m * 8, (m + 1) * 8]]),
          ys = slice(y, [[m * 8, (m + 1) * 8]]);
        nn.mseLoss(acc.forward(xs), ys).div(k).backward(); // .grad accumulates with +=
      }
      full.parameters().forEach((p, i) => {
        const q = acc.parameters()[i]!;
        worstGrad = Math.max(worstGrad, maxAbs(p.grad!, q.grad!) / (1e-300 + maxOf(p.grad!)));
      });
      optFull.step();
      optAcc.step();
      full.parameters().forEach((p, i) => (worstParam = Math.max(worstParam, maxAbs(p, acc.parameters()[i]!))));
    }
    console.log(
      `[accumulation] worst relative grad difference ${worstGrad.toExponential(2)}, ` +
        `worst parameter difference after 5 Adam steps ${worstParam.toExponential(2)}`,
    );
    expect(worstGrad).toBeLessThan(1e-14);
    expect(worstParam).toBeLessThan(1e-13);
  });
});
const maxAbs = (a: Tensor, b: Tensor) =>
  Array.from(a.data).reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i]!)), 0);
const maxOf = (a: Tensor) => Array.from(a.data).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
