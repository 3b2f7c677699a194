import { describe, expect, it } from 'vitest';
import {
  AutogradError,
  enableGrad,
  noGrad,
  ones,
  randn,
  manualSeed,
  tensor,
  zeros,
  type Tensor,
} from '../../src/index.js';

const f64 = (v: number, requiresGrad = true): Tensor => tensor(v, { dtype: 'float64', requiresGrad });

describe('backward', () => {
  it("micrograd's sanity check: y = -20, dy/dx = 46", () => {
    const x = f64(-4);
    const z = x.mul(2).add(2).add(x);
    const q = z.relu().add(z.mul(x));
    const h = z.mul(z).relu();
    const y = h.add(q).add(q.mul(x));
    y.backward();
    expect(y.item()).toBe(-20);
    expect(x.grad!.item()).toBe(46);
  });

  it("micrograd's 'more ops' check", () => {
    const a = f64(-4),
      b = f64(2);
    let c = a.add(b);
    let d = a.mul(b).add(b.pow(3));
    c = c.add(c.add(1));
    c = c.add(c.add(1).add(a.neg()));
    d = d.add(d.mul(2).add(b.add(a).relu()));
    d = d.add(d.mul(3).add(b.sub(a).relu()));
    const e = c.sub(d);
    const f = e.pow(2);
    let g = f.div(2);
    g = g.add(tensor(10, { dtype: 'float64' }).div(f));
    g.backward();
    expect(g.item()).toBeCloseTo(24.70408163265306, 12);
    expect(a.grad!.item()).toBeCloseTo(138.83381924198252, 10);
    expect(b.grad!.item()).toBeCloseTo(645.5772594752186, 10);
  });

  it('sums the gradient of a tensor used several times', () => {
    const x = f64(3);
    x.mul(x).add(x).backward();
    expect(x.grad!.item()).toBe(7);
  });

  it('accumulates into .grad across backward calls until zeroGrad', () => {
    const x = f64(2);
    x.mul(3).backward();
    x.mul(3).backward();
    expect(x.grad!.item()).toBe(6);
    x.zeroGrad();
    expect(x.grad).toBeNull();
  });

  it('walks a 100,000-op chain without overflowing the stack', () => {
    const x = f64(1);
    let y = x;
    for (let i = 0; i < 100_000; i++) y = y.mul(1);
    y.backward();
    expect(x.grad!.item()).toBe(1);
  });

  it('frees the graph after backward unless retainGraph', () => {
    const x = f64(2);
    const y = x.mul(x);
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expect(x.grad!.item()).toBe(8);
    expect(() => y.backward()).toThrow(/second time.*retainGraph/);
  });

  it('needs gradOutput for non-scalar outputs, and checks its shape', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.mul(2);
    expect(() => y.backward()).toThrow(AutogradError);
    expect(() => y.backward()).toThrow(/non-scalar output of shape \[2\]/);
    expect(() => y.backward(ones([3]))).toThrow(/gradOutput shape \[3\] must equal the output's shape \[2\]/);
    y.backward(tensor([1, 10]));
    expect(x.grad!.toArray()).toEqual([2, 20]);
  });

  it('stores .grad on leaves only, unless retainGrad', () => {
    const x = f64(2);
    const h = x.mul(3);
    const k = x.mul(4).retainGrad();
    h.add(k).mul(k).backward();
    expect(h.grad).toBeNull();
    expect(k.grad!.item()).toBe(6 + 2 * 8);
  });

  it('refuses backward through a tensor without history', () => {
    expect(() => tensor([1]).sum().backward()).toThrow(/does not require grad/);
  });

  it('records nothing under noGrad, and again under enableGrad', () => {
    const x = f64(2);
    const y = noGrad(() => x.mul(x));
    expect(y.requiresGrad).toBe(false);
    expect(y.node).toBeNull();
    const z = noGrad(() => enableGrad(() => x.mul(x)));
    expect(z.requiresGrad).toBe(true);
  });

  it('gives .grad its own buffer (gradients of add alias inside the walk)', () => {
    const a = f64(1),
      b = f64(2);
    a.add(b).backward();
    expect(a.grad).not.toBe(b.grad);
    a.grad!.data[0] = 42;
    expect(b.grad!.item()).toBe(1);
  });

  it('matches hand-derived matmul gradients', () => {
    const A = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float64', requiresGrad: true },
    );
    const B = tensor(
      [
        [5, 6, 7],
        [8, 9, 10],
      ],
      { dtype: 'float64', requiresGrad: true },
    );
    A.matmul(B).sum().backward();
    // d/dA sum(AB) = 1 Bᵀ: each row of A gets the row sums of B; d/dB = Aᵀ 1: column sums of A.
    expect(A.grad!.toArray()).toEqual([
      [18, 27],
      [18, 27],
    ]);
    expect(B.grad!.toArray()).toEqual([
      [4, 4, 4],
      [6, 6, 6],
    ]);
  });

  it('matches the hand-derived softmax Jacobian', () => {
    const x = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const s = x.softmax(0);
    const v = tensor([1, 0, 0], { dtype: 'float64' });
    s.backward(v);
    const p = s.data;
    // J = diag(p) − p pᵀ, so vᵀJ = p₀ (e₀ − p).
    const expected = [p[0]! * (1 - p[0]!), -p[0]! * p[1]!, -p[0]! * p[2]!];
    x.grad!.data.forEach((g, i) => expect(g).toBeCloseTo(expected[i]!, 15));
  });

  it('keeps the heap flat over 10,000 forward+backward iterations (no tidy, no dispose)', () => {
    manualSeed(0);
    const W1 = randn([16, 32], { requiresGrad: true }),
      W2 = randn([32, 4], { requiresGrad: true });
    const x = randn([8, 16]);
    const step = (): void => {
      const loss = x.matmul(W1).relu().matmul(W2).logSoftmax(1).mean();
      loss.backward();
      W1.zeroGrad();
      W2.zeroGrad();
    };
    for (let i = 0; i < 500; i++) step();
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 10_000; i++) step();
    global.gc?.();
    const after = process.memoryUsage().heapUsed;
    expect(after - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('zeros work as gradOutput and give zero gradients', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.exp().backward(zeros([3]));
    expect(Array.from(x.grad!.data)).toEqual([0, 0, 0]);
  });
});
