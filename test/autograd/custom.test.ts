import { describe, expect, it } from 'vitest';
import { defineOp, grad, gradcheck, GradcheckError, hvp, tensor, type Tensor } from '../../src/index.js';
import { rnd } from '../helpers.js';

const softplus = defineOp({
  name: 'softplus',
  forward: (x) => x.exp().add(1).log(),
  backward: (g, x) => g.mul(x.sigmoid()),
});
const wrongSoftplus = defineOp({
  name: 'wrongSoftplus',
  forward: (x) => x.exp().add(1).log(),
  backward: (g, x) => g.mul(x.tanh()), // deliberately wrong
});
// A two-input op whose backward uses its saved output: f(a, b) = a·e^b.
const scaledExp = defineOp({
  name: 'scaledExp',
  forward: (a, b) => a.mul(b.exp()),
  backward: (g, a, _b, out) => [g.mul(out.div(a)), g.mul(out)],
});

describe('defineOp', () => {
  it('behaves like a built-in: values, tape, backward', () => {
    const x = tensor([0, 1], { dtype: 'float64', requiresGrad: true });
    const y = softplus(x);
    expect(y.data[0]).toBeCloseTo(Math.log(2), 15);
    expect(y.node?.op).toBe('softplus');
    y.sum().backward();
    expect(x.grad!.data[1]).toBeCloseTo(1 / (1 + Math.exp(-1)), 15);
  });

  it('passes gradcheck, including second order through a backward written in Tensor ops', () => {
    expect(gradcheck((x) => softplus(x), [rnd([2, 3], 1)]).ok).toBe(true);
    expect(gradcheck((a, b) => scaledExp(a, b), [rnd([2, 3], 2, 'away0'), rnd([3], 3)]).ok).toBe(true);
    const h = hvp(
      (x: Tensor) => softplus(x).sum(),
      tensor([0.5], { dtype: 'float64' }),
      tensor([1], { dtype: 'float64' }),
    );
    const s = 1 / (1 + Math.exp(-0.5));
    expect(h.item()).toBeCloseTo(s * (1 - s), 14);
  });

  it('sums broadcast gradients back to each input (scalar-like input broadcast)', () => {
    const a = rnd([1], 4, 'away0'),
      b = rnd([2, 3], 5);
    expect(gradcheck((x, y) => scaledExp(x, y), [a, b]).ok).toBe(true);
  });

  it('gradcheck catches a wrong backward and names the worst element', () => {
    const x = rnd([2, 3], 6);
    const r = gradcheck((t) => wrongSoftplus(t), [x]);
    expect(r.ok).toBe(false);
    expect(r.worst).not.toBeNull();
    const w = r.worst!;
    const xi = x.data[w.index[0]! * 3 + w.index[1]!]!;
    expect(w.numeric).toBeCloseTo(1 / (1 + Math.exp(-xi)), 6);
    expect(w.analytic).toBeCloseTo(Math.tanh(xi), 12);
    expect(() => gradcheck((t) => wrongSoftplus(t), [x], { raiseOnFailure: true })).toThrow(GradcheckError);
    expect(() => gradcheck((t) => wrongSoftplus(t), [x], { raiseOnFailure: true })).toThrow(
      /d out\[\d,\d\] \/ d input0\[\d,\d\]: analytic/,
    );
  });

  it('notes float32 inputs promoted to float64', () => {
    const x = tensor([0.3, -0.2], { requiresGrad: true });
    const r = gradcheck((t) => softplus(t), [x]);
    expect(r.ok).toBe(true);
    expect(r.notes.join()).toMatch(/promoted from float32/);
  });

  it('rejects a backward that returns the wrong number of gradients', () => {
    const bad = defineOp({ name: 'bad', forward: (a, b) => a.add(b), backward: (g) => g });
    const a = tensor([1], { requiresGrad: true });
    expect(() => bad(a, 2).sum().backward()).toThrow(/bad: backward returned 1 gradient\(s\) for 2 input\(s\)/);
  });

  it('works inside grad()', () => {
    expect(grad((x: Tensor) => softplus(x).sum())(tensor([0], { dtype: 'float64' })).item()).toBe(0.5);
  });
});

describe('defineOp: tensors a user backward is handed or makes stay valid after backward', () => {
  it('keeps stashed gradients readable (float32, large enough to live in WebAssembly memory)', async () => {
    const { checkpoint, randn } = await import('../../src/index.js');
    const x = randn([256, 256]).requiresGrad_();
    const seen: Tensor[] = [];
    const double = defineOp({
      name: 'stashingDouble',
      forward: (a: Tensor) => a.mul(2),
      backward: (g: Tensor) => {
        const r = g.mul(2);
        seen.push(g, r);
        return r;
      },
    });
    double(x).exp().sum().backward();
    const e = x.mul(2).exp().data;
    expect(seen[0]!.data[5]).toBe(e[5]); // g = exp(2x)
    expect(seen[1]!.data[5]).toBe(x.grad!.data[5]);
    // A checkpointed segment's recompute runs user code in backward too.
    const kept: Tensor[] = [];
    x.grad = null;
    checkpoint((a: Tensor) => {
      const h = a.mul(3);
      kept.push(h);
      return h.tanh();
    }, x)
      .sum()
      .backward();
    expect(kept).toHaveLength(2);
    expect(kept[1]!.data[7]).toBe(Math.fround(x.data[7]! * 3)); // the recompute's h, made during backward
  });
});
