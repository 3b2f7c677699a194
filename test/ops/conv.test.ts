import { describe, expect, it } from 'vitest';
import {
  adaptiveAvgPool2d,
  arange,
  avgPool1d,
  avgPool2d,
  conv1d,
  conv2d,
  convTranspose2d,
  gradcheck,
  gradgradcheck,
  maxPool1d,
  maxPool2d,
  ones,
  tensor,
  type Tensor,
} from '../../src/index.js';
import { rnd } from '../helpers.js';
import { avgPool2dRef, conv2dRef, maxPool2dRef } from './conv-oracle.js';

// The primitives (conv2d, convTranspose2d, conv2dWeight, unfold, fold, maxPool2dIndices, maxPoolGather,
// maxPoolScatter) are checked against the composite oracle and by gradcheck (first and second order) in the
// typed op tables, test/ops/forward-reference.test.ts and test/ops/gradcheck-table.test.ts, on the cases of
// ./conv-oracle.ts. This file covers the user-facing functions: options, errors, conv1d, pooling composites.

const close = (a: Tensor, b: Tensor, tol = 1e-9): void => {
  expect(a.shape).toEqual(b.shape);
  let worst = 0;
  for (let i = 0; i < a.size; i++)
    worst = Math.max(worst, Math.abs(a.data[i]! - b.data[i]!) / (1 + Math.abs(b.data[i]!)));
  expect(worst).toBeLessThan(tol);
};
const ok = (r: { ok: boolean; maxAbsError: number }): void => expect(r.ok, `max error ${r.maxAbsError}`).toBe(true);

describe('conv2d', () => {
  it('reference values (4×4 arange, 3×3 ones)', () => {
    const x = arange(16).reshape([1, 1, 4, 4]);
    expect(conv2d(x, ones([1, 1, 3, 3])).toArray()).toEqual([
      [
        [
          [45, 54],
          [81, 90],
        ],
      ],
    ]);
    expect(conv2d(x, ones([1, 1, 3, 3]), tensor([1]), { stride: 2, padding: 1 }).toArray()).toEqual([
      [
        [
          [11, 25],
          [52, 91],
        ],
      ],
    ]);
  });
  it("padding 'same' keeps the size (extra zero at the end, as torch) and 'valid' is none", () => {
    const x = rnd([1, 2, 5, 6], 7),
      w = rnd([3, 2, 4, 3], 8);
    const y = conv2d(x, w, null, { padding: 'same' });
    expect(y.shape).toEqual([1, 3, 5, 6]);
    const ref = conv2dRef(
      x.pad([
        [0, 0],
        [0, 0],
        [1, 2],
        [1, 1],
      ]),
      w,
      null,
    );
    close(y, ref);
    expect(conv2d(x, w, null, { padding: 'valid' }).shape).toEqual([1, 3, 2, 4]);
  });
  it('unbatched input and float32 gradients agree with float64', () => {
    const x = rnd([2, 5, 5], 9),
      w = rnd([3, 2, 3, 3], 10);
    expect(conv2d(x, w).shape).toEqual([3, 3, 3]);
    const x32 = x.float().detach().requiresGrad_(),
      w32 = w.float().detach().requiresGrad_();
    conv2d(x32, w32, null, { padding: 1 }).square().sum().backward();
    conv2d(x, w, null, { padding: 1 }).square().sum().backward();
    close(x32.grad!.double(), x.grad!, 1e-5);
    close(w32.grad!.double(), w.grad!, 1e-5);
  });
  it('errors name the op, the shapes and what was expected', () => {
    const x = rnd([1, 3, 5, 5], 1);
    expect(() => conv2d(x, rnd([2, 2, 3, 3], 2))).toThrow(
      'conv2d: input has 3 channels but weight of shape [2,2,3,3] expects 2 × groups=1 = 2',
    );
    expect(() => conv2d(x, rnd([2, 3, 7, 7], 2))).toThrow(/smaller than the dilated kernel 7×7/);
    expect(() => conv2d(x, rnd([2, 3, 3, 3], 2), null, { strides: 2 } as object)).toThrow(
      "conv2d: unknown option 'strides' (known options: stride, padding, dilation, groups)",
    );
    expect(() => conv2d(x, rnd([2, 3, 3, 3], 2), null, { stride: 2, padding: 'same' })).toThrow(
      /padding='same' needs stride 1/,
    );
    expect(() => conv2d(x, rnd([2, 3, 3, 3], 2).float())).toThrow(/dtype float64 and weight dtype float32 differ/);
    expect(() => conv2d(x, rnd([3, 1, 3, 3], 2), null, { groups: 2 })).toThrow(/not divisible by groups=2/);
  });
});

describe('conv1d', () => {
  it('is conv2d over a height-1 image; gradcheck', () => {
    const x = rnd([2, 3, 9], 1),
      w = rnd([4, 3, 3], 2),
      b = rnd([4], 3);
    const y = conv1d(x, w, b, { stride: 2, padding: 1, dilation: 2 });
    close(
      y,
      conv2dRef(x.unsqueeze(2), w.unsqueeze(2), b, { stride: [1, 2], padding: [0, 1], dilation: [1, 2] }).squeeze(2),
    );
    ok(gradcheck((a: Tensor, c: Tensor) => conv1d(a, c, null, { padding: 'same' }), [x, w]));
    expect(conv1d(x, w, null, { padding: 'same' }).shape).toEqual([2, 4, 9]);
  });
});

describe('convTranspose2d', () => {
  it('rejects a too-large outputPadding', () => {
    expect(() =>
      convTranspose2d(rnd([1, 1, 3, 3], 1), rnd([1, 1, 3, 3], 2), null, { stride: 2, outputPadding: 2 }),
    ).toThrow('convTranspose2d: outputPadding 2 must be smaller than stride 2 or dilation 1');
  });
});

describe('pooling', () => {
  it('maxPool2d matches the oracle; the gradient goes to the max', () => {
    const x = rnd([2, 3, 7, 6], 1);
    close(maxPool2d(x, 3, { stride: 2, padding: 1 }), maxPool2dRef(x, 3, { stride: [2, 2], padding: [1, 1] }));
    close(maxPool2d(x, 2), maxPool2dRef(x, 2, { stride: [2, 2] }));
    close(maxPool2d(x, 2, { stride: 1, dilation: 2 }), maxPool2dRef(x, 2, { stride: [1, 1], dilation: [2, 2] }));
    const t = tensor(
      [
        [
          [
            [1, 5, 2, 0],
            [3, 4, 9, 1],
            [0, 0, 1, 1],
            [7, 0, 2, 8],
          ],
        ],
      ],
      { requiresGrad: true },
    );
    const y = maxPool2d(t, 2);
    expect(y.toArray()).toEqual([
      [
        [
          [5, 9],
          [7, 8],
        ],
      ],
    ]);
    y.sum().backward();
    expect(t.grad!.toArray()).toEqual([
      [
        [
          [0, 1, 0, 0],
          [0, 0, 1, 0],
          [0, 0, 0, 0],
          [1, 0, 0, 1],
        ],
      ],
    ]);
  });
  it('maxPool2d ceilMode follows PyTorch (last window starts inside the input)', () => {
    const x = arange(25).reshape([1, 1, 5, 5]);
    expect(maxPool2d(x, 2, { ceilMode: true }).toArray()).toEqual([
      [
        [
          [6, 8, 9],
          [16, 18, 19],
          [21, 23, 24],
        ],
      ],
    ]);
    expect(maxPool2d(x, 2).shape).toEqual([1, 1, 2, 2]);
    expect(maxPool2d(arange(16).reshape([1, 1, 4, 4]), 2, { stride: 2, padding: 1, ceilMode: true }).shape).toEqual([
      1, 1, 3, 3,
    ]);
  });
  it('maxPool1d', () => {
    const x = tensor([[[1, 3, 2, 5, 4, 0, 6]]]);
    expect(maxPool1d(x, 2).toArray()).toEqual([[[3, 5, 4]]]);
    expect(maxPool1d(x, 3, { stride: 2, padding: 1 }).toArray()).toEqual([[[3, 5, 5, 6]]]);
  });
  it('avgPool2d matches the oracle; countIncludePad, ceilMode and divisorOverride as PyTorch; gradcheck', () => {
    const x = rnd([2, 2, 6, 7], 3);
    close(avgPool2d(x, 3, { stride: 2, padding: 1 }), avgPool2dRef(x, 3, { stride: [2, 2], padding: [1, 1] }));
    close(avgPool2d(x, 2), avgPool2dRef(x, 2, { stride: [2, 2] }));
    ok(
      gradcheck((a: Tensor) => avgPool2d(a, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }), [x]),
    );
    ok(gradgradcheck((a: Tensor) => avgPool2d(a, 2, { stride: 1 }).square(), [x]));
    const t = arange(16, undefined, 1, { dtype: 'float64' }).reshape([1, 1, 4, 4]);
    // torch.nn.functional.avg_pool2d(torch.arange(16.).view(1,1,4,4), 3, 2, 1, count_include_pad=False)
    expect(avgPool2d(t, 3, { stride: 2, padding: 1, countIncludePad: false }).toArray()).toEqual([
      [
        [
          [2.5, 4],
          [8.5, 10],
        ],
      ],
    ]);
    // ... count_include_pad=True: divisors 9 everywhere
    close(
      avgPool2d(t, 3, { stride: 2, padding: 1 }),
      tensor(
        [
          [
            [
              [10 / 9, 24 / 9],
              [51 / 9, 90 / 9],
            ],
          ],
        ],
        { dtype: 'float64' },
      ),
      1e-15,
    );
    // ceil_mode=True on 5×5 with kernel 2: last windows are clipped to the input and divided by their size
    const five = arange(25).reshape([1, 1, 5, 5]);
    expect(avgPool2d(five, 2, { ceilMode: true }).toArray()).toEqual([
      [
        [
          [3, 5, 6.5],
          [13, 15, 16.5],
          [20.5, 22.5, 24],
        ],
      ],
    ]);
    expect(avgPool2d(t, 2, { divisorOverride: 2 }).toArray()).toEqual([
      [
        [
          [5, 9],
          [21, 25],
        ],
      ],
    ]);
    expect(avgPool1d(tensor([[[1, 2, 3, 4, 5]]]), 2).toArray()).toEqual([[[1.5, 3.5]]]);
  });
  it('adaptiveAvgPool2d uses PyTorch bins; gradcheck', () => {
    const x = arange(30).reshape([1, 1, 5, 6]);
    // bins for 5 → 3: [0,2) [1,4) [3,5); for 6 → 4: [0,2) [1,3) [3,5) [4,6)
    const y = adaptiveAvgPool2d(x, [3, 4]);
    const bins = (n: number, o: number): [number, number][] =>
      Array.from({ length: o }, (_, i) => [Math.floor((i * n) / o), Math.ceil(((i + 1) * n) / o)]);
    const want = bins(5, 3).map(([a, b]) =>
      bins(6, 4).map(([c, d]) => {
        let s = 0;
        for (let i = a; i < b; i++) for (let j = c; j < d; j++) s += i * 6 + j;
        return s / ((b - a) * (d - c));
      }),
    );
    expect((y.toArray() as number[][][][])[0]![0]!.flat().map((v) => +v.toFixed(4))).toEqual(
      want.flat().map((v) => +v.toFixed(4)),
    );
    expect(adaptiveAvgPool2d(x, 1).shape).toEqual([1, 1, 1, 1]);
    expect(adaptiveAvgPool2d(x, [null, 2]).shape).toEqual([1, 1, 5, 2]);
    ok(gradcheck((a: Tensor) => adaptiveAvgPool2d(a, [2, 4]), [rnd([2, 2, 5, 7], 1)]));
  });
});
