import { describe, expect, it } from 'vitest';
import {
  gradcheck,
  gradgradcheck,
  nn,
  Generator,
  manualSeed,
  noGrad,
  tensor,
  Tensor,
  DTypeError,
  ShapeError,
  IndexError,
} from '../../src/index.js';
import { rnd } from '../helpers.js';

const f64 = { dtype: 'float64' as const, generator: new Generator(7) };
/** gradcheck w.r.t. the input and every parameter: parameters are passed as extra inputs and written into the module. */
function checkLayer(m: nn.Module & { forward(x: Tensor): Tensor }, x: Tensor): void {
  const named = m.namedParameters();
  const f = (xi: Tensor, ...ps: Tensor[]): Tensor => {
    // Swap in the checked tensors for the module's parameters by rebinding the properties.
    const saved = named.map(([k, p], i) => [k, p, ps[i]!] as const);
    for (const [k, , t] of saved) setPath(m, k, t);
    try {
      return m.forward(xi);
    } finally {
      for (const [k, p] of saved) setPath(m, k, p);
    }
  };
  const inputs = [x, ...named.map(([, p]) => new Tensor(Float64Array.from(p.data), p.shape).requiresGrad_())];
  const r = gradcheck(f, inputs);
  expect(r.ok, JSON.stringify(r.worst)).toBe(true);
  // Not vacuous: the swapped-in parameters really are what forward used.
  f(inputs[0]!, ...inputs.slice(1))
    .sum()
    .backward();
  for (const t of inputs.slice(1)) expect(t.grad, 'parameter unused by forward').not.toBeNull();
}
function setPath(root: object, path: string, v: Tensor): void {
  const parts = path.split('.');
  let o = root as Record<string, unknown>;
  for (const p of parts.slice(0, -1))
    o = (o[p] ?? (o as unknown as nn.Sequential).at?.(Number(p))) as Record<string, unknown>;
  Object.defineProperty(o, parts.at(-1)!, { value: v, writable: true, configurable: true, enumerable: true });
}

describe('layers: gradcheck in float64', () => {
  it('Linear (with and without bias, batched input)', () => {
    checkLayer(new nn.Linear(3, 4, f64), rnd([2, 3], 1));
    checkLayer(new nn.Linear(3, 2, { ...f64, bias: false }), rnd([2, 3], 2));
    checkLayer(new nn.Linear(3, 2, f64), rnd([2, 2, 3], 3));
  });
  it('activations', () => {
    for (const m of [new nn.Tanh(), new nn.Sigmoid(), new nn.GELU(), new nn.GELU({ approximate: 'tanh' })])
      checkLayer(m, rnd([3, 4], 4));
    checkLayer(new nn.ReLU(), rnd([3, 4], 5, 'away0'));
  });
  it('LayerNorm (1-D and 2-D normalized shapes, with and without affine)', () => {
    const ln = new nn.LayerNorm(4, { dtype: 'float64' });
    ln.weight!.data.set([1.5, -0.5, 2, 0.7]);
    ln.bias!.data.set([0.1, 0.2, -0.3, 0.4]);
    checkLayer(ln, rnd([3, 4], 6));
    checkLayer(new nn.LayerNorm([2, 3], { dtype: 'float64', elementwiseAffine: false }), rnd([2, 2, 3], 7));
  });
  it('Embedding (gradient with respect to the table, repeated indices accumulate)', () => {
    const e = new nn.Embedding(5, 3, f64);
    const w = new Tensor(Float64Array.from(e.weight.data), e.weight.shape).requiresGrad_();
    const idx = tensor(
      [
        [0, 2],
        [2, 4],
      ],
      { dtype: 'int32' },
    );
    const r = gradcheck(
      (wt: Tensor) => {
        setPath(e, 'weight', wt);
        return e.forward(idx);
      },
      [w],
    );
    expect(r.ok).toBe(true);
  });
  it('Embedding: the fused row lookup equals indexSelect bit for bit, and is differentiable twice', () => {
    const e = new nn.Embedding(7, 5, { generator: new Generator(4) });
    const idx = tensor(
      [
        [0, 6, 2],
        [2, 2, 5],
        [1, 0, 6],
        [3, 3, 3],
      ],
      { dtype: 'int32' },
    );
    const w = new Tensor(Float32Array.from(e.weight.data), e.weight.shape).requiresGrad_();
    const gy = rnd([4, 3, 5], 3).to('float32');
    const y = e.forward(idx);
    y.backward(gy);
    const ref = w.indexSelect(0, idx.reshape([-1])).reshape([4, 3, 5]);
    ref.backward(gy);
    expect(Array.from(y.data)).toEqual(Array.from(ref.data));
    expect(Array.from(e.weight.grad!.data)).toEqual(Array.from(w.grad!.data));
    const e64 = new nn.Embedding(5, 3, f64);
    const w64 = new Tensor(Float64Array.from(e64.weight.data), e64.weight.shape).requiresGrad_();
    const flat = tensor([4, 0, 4, 1], { dtype: 'int32' });
    const f = (wt: Tensor): Tensor => {
      setPath(e64, 'weight', wt);
      return e64.forward(flat).mul(e64.forward(flat)); // second derivative ≠ 0
    };
    expect(gradcheck(f, [w64]).ok).toBe(true);
    expect(gradgradcheck(f, [w64]).ok).toBe(true);
  });
  it('Sequential MLP and Flatten', () => {
    const g = new Generator(3);
    const mlp = new nn.Sequential(
      new nn.Flatten(),
      new nn.Linear(6, 5, { dtype: 'float64', generator: g }),
      new nn.Tanh(),
      new nn.Linear(5, 2, { dtype: 'float64', generator: g }),
    );
    checkLayer(mlp, rnd([2, 2, 3], 8));
  });
  it('losses (functions and modules agree)', () => {
    const logits = rnd([4, 3], 9),
      y = [0, 2, 1, 2];
    expect(gradcheck((l) => new nn.CrossEntropyLoss({ labelSmoothing: 0.1 }).forward(l, y), [logits]).ok).toBe(true);
    expect(gradcheck((l) => new nn.NLLLoss().forward(l.logSoftmax(1), y), [logits]).ok).toBe(true);
    const t = tensor(
      [
        [0, 1, 1],
        [1, 0, 0.5],
        [0, 0, 1],
        [1, 1, 0],
      ],
      { dtype: 'float64' },
    );
    expect(gradcheck((l) => new nn.BCEWithLogitsLoss().forward(l, t), [logits]).ok).toBe(true);
    expect(gradcheck((l) => new nn.MSELoss({ reduction: 'sum' }).forward(l, t), [logits]).ok).toBe(true);
    expect(new nn.CrossEntropyLoss().forward(logits, y).item()).toBeCloseTo(nn.crossEntropy(logits, y).item(), 12);
  });
});

describe('layers: behaviour', () => {
  it('Linear computes x Wᵀ + b with weight [out, in]', () => {
    const l = new nn.Linear(2, 3, { dtype: 'float64' });
    l.weight.data.set([1, 2, 3, 4, 5, 6]);
    l.bias!.data.set([0.5, 0, -1]);
    expect(l.forward(tensor([[1, 1]], { dtype: 'float64' })).toArray()).toEqual([[3.5, 7, 10]]);
    expect(l.weight.shape).toEqual([3, 2]);
    expect(l.forward(tensor([[1, 1]], { dtype: 'float64' })).requiresGrad).toBe(true);
  });
  it('Linear validates its input', () => {
    const l = new nn.Linear(4, 2);
    expect(() => l.forward(tensor([[1, 2, 3]]))).toThrow(ShapeError);
    expect(() => l.forward(tensor([[1, 2, 3]]))).toThrow(/Linear: expected input of shape \[…, 4\], got \[1,3\]/);
    expect(() => l.forward(tensor([[1, 2, 3, 4]], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => new nn.Linear(0, 2)).toThrow(/inFeatures must be a positive integer/);
    expect(() => new nn.Linear(2, 2, { dtype: 'int32' })).toThrow(DTypeError);
  });
  it('Dropout: seeded inverted dropout in training, identity in eval', () => {
    const x = tensor(new Float32Array(10000).fill(1), { shape: [100, 100] });
    const d = new nn.Dropout(0.3, { generator: new Generator(1) });
    const y = d.forward(x).data;
    const zeros = y.filter((v) => v === 0).length;
    expect(zeros / y.length).toBeGreaterThan(0.27);
    expect(zeros / y.length).toBeLessThan(0.33);
    for (const v of y) if (v !== 0) expect(v).toBeCloseTo(1 / 0.7, 6);
    // Same seed → same mask.
    expect(new nn.Dropout(0.3, { generator: new Generator(1) }).forward(x).data).toEqual(y);
    d.eval();
    expect(d.forward(x)).toBe(x);
    expect(new nn.Dropout(1).forward(x).data.every((v) => v === 0)).toBe(true);
    expect(() => new nn.Dropout(1.5)).toThrow(/Dropout: p must be in \[0, 1\]/);
  });
  it('Dropout gradient is the mask (scaled)', () => {
    const x = rnd([4, 5], 11);
    const d = new nn.Dropout(0.5, { generator: new Generator(2) });
    const y = d.forward(x);
    y.sum().backward();
    const g = x.grad!.data,
      yd = y.data,
      xd = x.data;
    for (let i = 0; i < g.length; i++) expect(g[i]).toBeCloseTo(yd[i] === 0 ? 0 : yd[i]! / xd[i]!, 10);
  });
  it('LayerNorm normalises the last dims (mean 0, biased var 1)', () => {
    const y = new nn.LayerNorm(8, { dtype: 'float64', eps: 0 }).forward(rnd([3, 8], 12));
    for (let r = 0; r < 3; r++) {
      const row = Array.from(y.data.subarray(r * 8, r * 8 + 8));
      const mu = row.reduce((a, b) => a + b) / 8;
      expect(mu).toBeCloseTo(0, 10);
      expect(row.reduce((a, b) => a + (b - mu) ** 2, 0) / 8).toBeCloseTo(1, 10);
    }
    expect(() => new nn.LayerNorm(8).forward(tensor([[1, 2, 3]]))).toThrow(
      /LayerNorm: expected input of shape \[…, 8\], got \[1,3\]/,
    );
  });
  it('Embedding looks up rows and checks the range', () => {
    const e = new nn.Embedding(4, 2);
    const out = e.forward([3, 0, 3]);
    expect(out.shape).toEqual([3, 2]);
    expect(Array.from(out.data.subarray(0, 2))).toEqual(Array.from(e.weight.data.subarray(6, 8)));
    expect(
      e.forward(
        tensor(
          [
            [1, 2],
            [0, 3],
          ],
          { dtype: 'int32' },
        ),
      ).shape,
    ).toEqual([2, 2, 2]);
    expect(() => e.forward([4])).toThrow(IndexError);
    expect(() => e.forward([4])).toThrow(/Embedding: index 4 is out of range for 4 embeddings/);
  });
  it('Flatten keeps the batch dim', () => {
    expect(new nn.Flatten().forward(tensor(new Float32Array(24), { shape: [2, 3, 4] })).shape).toEqual([2, 12]);
  });
  it('Sequential names children 0, 1, … and indexes them', () => {
    manualSeed(0);
    const s = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2));
    expect(s.namedParameters().map(([k]) => k)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(s.at(-1)).toBeInstanceOf(nn.Linear);
    expect(s.length).toBe(3);
    expect(s.toString()).toContain('(0): Linear(3 → 4)');
    expect(noGrad(() => s.forward(tensor([[1, 2, 3]]))).shape).toEqual([1, 2]);
  });
});
