/**
 * Every primitive and composite, through gradcheck in float64, on several shapes including
 * broadcast cases. One row per op: adding an op means adding a row here.
 */
import { describe, expect, it } from 'vitest';
import {
  binaryCrossEntropyWithLogits, concat, crossEntropy, gather, gelu, gradcheck, gradgradcheck, indexSelect, logSumExp,
  matmul, mseLoss, nllLoss, pad, scatterAdd, sliceScatter, stack, tensor, where, type Tensor,
} from '../../src/index.js';
import { rnd } from '../helpers.js';

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
const bcast = [[[2, 3], [2, 3]], [[2, 3], [3]], [[2, 1], [1, 3]], [[], [2, 2]], [[3, 1, 2], [2]]];
const unary = (name: string, f: (x: Tensor) => Tensor, kind: Kind = 'any', second = true): Row => ({ name, f, shapes: same, kinds: [kind], second });
const binary = (name: string, f: (a: Tensor, b: Tensor) => Tensor, kinds: Kind[] = ['any', 'any'], second = true): Row => ({ name, f, shapes: bcast, kinds, second });

const idx = tensor([[0, 2, 1], [1, 1, 0]], { dtype: 'int32' });
const rows: Row[] = [
  // elementwise primitives
  unary('neg', (x) => x.neg()),
  unary('exp', (x) => x.exp()),
  unary('log', (x) => x.log(), 'pos'),
  unary('sqrt', (x) => x.sqrt(), 'pos'),
  unary('abs', (x) => x.abs(), 'away0'),
  unary('tanh', (x) => x.tanh()),
  unary('sigmoid', (x) => x.sigmoid()),
  unary('relu', (x) => x.relu(), 'away0'),
  unary('sign', (x) => x.sign(), 'away0'),
  unary('sin', (x) => x.sin()),
  unary('cos', (x) => x.cos()),
  unary('erf', (x) => x.erf()),
  unary('log1p', (x) => x.log1p(), 'pos'),
  unary('cast (float64 → float64 clone)', (x) => x.clone()),
  binary('add', (a, b) => a.add(b)),
  binary('sub', (a, b) => a.sub(b)),
  binary('mul', (a, b) => a.mul(b)),
  binary('div', (a, b) => a.div(b), ['any', 'away0']),
  binary('pow (tensor exponent)', (a, b) => a.pow(b), ['pos', 'any']),
  unary('pow (scalar exponent)', (x) => x.pow(3)),
  unary('pow (fractional exponent)', (x) => x.pow(-1.5), 'pos'),
  binary('maximum', (a, b) => a.maximum(b)),
  binary('minimum', (a, b) => a.minimum(b)),
  { name: 'where', f: (a, b) => where(a.gt(0), a, b), shapes: [[[2, 3], [2, 3]], [[2, 3], [3]]], kinds: ['away0', 'any'], second: true },
  // reductions
  { name: 'sum (all)', f: (x) => x.sum(), shapes: same, second: true },
  { name: 'sum (axis, keepdim)', f: (x) => x.sum(1, true), shapes: [[[2, 3]], [[2, 3, 2]]], second: true },
  { name: 'sum (two axes)', f: (x) => x.sum([0, 2]), shapes: [[[2, 3, 2]]] },
  { name: 'mean (axis)', f: (x) => x.mean(-1), shapes: [[[2, 3]], [[2, 3, 2]]] },
  { name: 'max (all)', f: (x) => x.max(), shapes: same, second: true },
  { name: 'max (axis)', f: (x) => x.max(0), shapes: [[[3, 2]], [[2, 3, 2]]] },
  { name: 'min (axes, keepdim)', f: (x) => x.min([0, 1], true), shapes: [[[3, 2]], [[2, 3, 2]]] },
  // matmul
  { name: 'matmul 2-D', f: (a, b) => a.matmul(b), shapes: [[[2, 3], [3, 4]], [[1, 1], [1, 1]]], second: true },
  { name: 'matmul batched + broadcast', f: (a, b) => a.matmul(b), shapes: [[[2, 2, 3], [3, 2]], [[2, 1, 2, 3], [3, 3, 2]], [[3, 2], [2, 2, 3]]], second: true },
  { name: 'matmul 1-D operands', f: (a, b) => a.matmul(b), shapes: [[[3], [3]], [[3], [3, 2]], [[2, 3], [3]], [[2, 3], [2, 3, 2]]] },
  { name: 'matmul transA/transB', f: (a, b) => matmul(a, b, { transA: true, transB: true }), shapes: [[[3, 2], [4, 3]], [[2, 3, 2], [4, 3]]], second: true },
  // movement
  { name: 'reshape', f: (x) => x.reshape([3, -1]), shapes: [[[2, 3]], [[6]]] },
  { name: 'permute', f: (x) => x.permute([2, 0, 1]), shapes: [[[2, 3, 2]]] },
  { name: 'transpose', f: (x) => x.transpose(0, 1), shapes: [[[2, 3]]] },
  { name: 'expand', f: (x) => x.expand([2, 3, 3]), shapes: [[[3, 1]], [[1, 3, 3]], [[3]]] },
  { name: 'squeeze/unsqueeze', f: (x) => x.squeeze().unsqueeze(0), shapes: [[[2, 1, 3]]] },
  { name: 'flatten', f: (x) => x.flatten(1), shapes: [[[2, 3, 2]]] },
  { name: 'concat', f: (a, b) => concat([a, b, a], 1), shapes: [[[2, 3], [2, 1]]] },
  { name: 'stack', f: (a, b) => stack([a, b], -1), shapes: [[[2, 3], [2, 3]]] },
  { name: 'slice (steps, negatives)', f: (x) => x.slice([[1], [-4, undefined, 2]]), shapes: [[[3, 5]]] },
  { name: 'sliceScatter', f: (x) => sliceScatter(x, [4, 5], [1, 0], [2, 2]), shapes: [[[2, 3]]] },
  { name: 'pad (zero)', f: (x) => pad(x, [[1, 0], [2, 1]]), shapes: [[[2, 3]]] },
  { name: 'pad (constant 2.5)', f: (x) => x.pad([[0, 1]], 2.5), shapes: [[[2, 3]]] },
  // indexing
  { name: 'gather', f: (x) => gather(x, 1, idx), shapes: [[[2, 3]]] },
  { name: 'scatterAdd', f: (x) => scatterAdd([2, 4], 1, idx, x), shapes: [[[2, 3]]] },
  { name: 'indexSelect', f: (x) => indexSelect(x, 0, [2, 0, 2]), shapes: [[[3, 2]]] },
  // composites (no backward of their own)
  { name: 'softmax', f: (x) => x.softmax(-1), shapes: [[[2, 3]], [[4]]], second: true },
  { name: 'logSoftmax', f: (x) => x.logSoftmax(0), shapes: [[[3, 2]]], second: true },
  { name: 'logSumExp', f: (x) => logSumExp(x, 1), shapes: [[[2, 3]]], second: true },
  { name: 'var', f: (x) => x.var(1), shapes: [[[2, 3]]], second: true },
  { name: 'std', f: (x) => x.std(), shapes: [[[2, 3]]] },
  { name: 'clamp', f: (x) => x.clamp(-0.5, 0.7), shapes: [[[2, 3]]] },
  { name: 'gelu (erf)', f: (x) => gelu(x), shapes: [[[2, 3]]], second: true },
  { name: 'gelu (tanh)', f: (x) => gelu(x, 'tanh'), shapes: [[[2, 3]]] },
  { name: 'softplus', f: (x) => x.softplus(), shapes: [[[2, 3]]], kinds: ['away0'], second: true },
  { name: 'mseLoss', f: (a, b) => mseLoss(a, b), shapes: [[[2, 3], [2, 3]]], second: true },
  { name: 'crossEntropy', f: (x) => crossEntropy(x, [2, 0]), shapes: [[[2, 3]]], second: true },
  { name: 'crossEntropy (label smoothing)', f: (x) => crossEntropy(x, [1, 2], { labelSmoothing: 0.1 }), shapes: [[[2, 3]]] },
  { name: 'nllLoss', f: (x) => nllLoss(x.logSoftmax(1), [1, 1], 'sum'), shapes: [[[2, 3]]] },
  { name: 'binaryCrossEntropyWithLogits', f: (x, t) => binaryCrossEntropyWithLogits(x, t.sigmoid()), shapes: [[[2, 3], [2, 3]]], kinds: ['away0', 'any'] },
];

describe('gradcheck table (float64)', () => {
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
