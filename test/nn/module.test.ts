import { describe, expect, it } from 'vitest';
import {
  nn,
  manualSeed,
  tensor,
  zeros,
  noGrad,
  type Tensor,
  TapegradError,
  Generator,
  type TensorLike,
} from '../../src/index.js';

class Block extends nn.Module {
  fc = new nn.Linear(4, 4);
  norm = new nn.LayerNorm(4);
  drop = new nn.Dropout(0.1);
  forward(x: Tensor): Tensor {
    return this.drop.forward(this.norm.forward(this.fc.forward(x).relu()));
  }
}
class Net extends nn.Module {
  emb = new nn.Embedding(10, 4);
  blocks = [new Block(), new Block()];
  scale = new nn.Parameter(tensor([1]));
  notAParam = tensor([1, 2, 3]);
  head = new nn.Linear(4, 3);
  forward(idx: Tensor): Tensor {
    let h = this.emb.forward(idx);
    for (const b of this.blocks) h = b.forward(h);
    return this.head.forward(h.mul(this.scale));
  }
}

describe('Module', () => {
  it('finds parameters and children by property, in definition order (own parameters first, as PyTorch)', () => {
    const net = new Net();
    expect(net.namedParameters().map(([k]) => k)).toEqual([
      'scale',
      'emb.weight',
      'blocks.0.fc.weight',
      'blocks.0.fc.bias',
      'blocks.0.norm.weight',
      'blocks.0.norm.bias',
      'blocks.1.fc.weight',
      'blocks.1.fc.bias',
      'blocks.1.norm.weight',
      'blocks.1.norm.bias',
      'head.weight',
      'head.bias',
    ]);
    expect(net.namedChildren().map(([k]) => k)).toEqual(['emb', 'blocks.0', 'blocks.1', 'head']);
    expect(net.modules().length).toBe(1 + 1 + 2 * 4 + 1);
    expect(net.parameters().every((p) => p instanceof nn.Parameter && p.requiresGrad && p.isLeaf)).toBe(true);
    expect(net.numParameters()).toBe(40 + 2 * (20 + 8) + 1 + 15);
  });
  it('counts a shared parameter once', () => {
    class Tied extends nn.Module {
      a = new nn.Linear(3, 3);
      b = new nn.Linear(3, 3);
      constructor() {
        super();
        (this.b as { weight: nn.Parameter }).weight = this.a.weight;
      }
      forward(x: Tensor): Tensor {
        return this.b.forward(this.a.forward(x));
      }
    }
    expect(new Tied().namedParameters().map(([k]) => k)).toEqual(['a.weight', 'a.bias', 'b.bias']);
  });
  it('train()/eval() reach every sub-module', () => {
    const net = new Net();
    expect(net.modules().every((m) => m.training)).toBe(true);
    net.eval();
    expect(net.modules().some((m) => m.training)).toBe(false);
    net.train();
    expect(net.blocks[1]!.drop.training).toBe(true);
  });
  it('zeroGrad clears every gradient', () => {
    const net = new Net();
    net
      .forward(tensor([1, 2], { dtype: 'int32' }))
      .sum()
      .backward();
    expect(net.parameters().every((p) => p.grad !== null)).toBe(true);
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
  });
  it('Parameter shares storage and rejects int32', () => {
    const t = tensor([1, 2]);
    const p = new nn.Parameter(t);
    expect(p.data).toBe(t.data);
    expect(p.requiresGrad).toBe(true);
    expect(() => new nn.Parameter(tensor([1], { dtype: 'int32' }))).toThrow(/only float tensors/);
  });
});

describe('stateDict / loadStateDict', () => {
  const mlp = (seed: number) => {
    manualSeed(seed);
    return new nn.Sequential(new nn.Linear(3, 5), new nn.Tanh(), new nn.Linear(5, 2));
  };
  it('round-trips values into the same parameter objects', () => {
    const a = mlp(1),
      b = mlp(2);
    const x = tensor([[0.1, -0.2, 0.3]]);
    const before = b.parameters();
    expect(noGrad(() => a.forward(x)).data).not.toEqual(noGrad(() => b.forward(x)).data);
    const sd = a.stateDict();
    expect(Object.keys(sd)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(sd['0.weight']!.requiresGrad).toBe(false);
    expect(b.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(b.parameters()).toEqual(before);
    expect(b.parameters().every((p, i) => p === before[i])).toBe(true);
    expect(noGrad(() => b.forward(x)).data).toEqual(noGrad(() => a.forward(x)).data);
    // A copy, not an alias.
    a.parameters()[0]!.data[0] = 42;
    expect(b.parameters()[0]!.data[0]).not.toBe(42);
  });
  it('strict mode names missing and unexpected keys, and writes nothing', () => {
    const m = mlp(1);
    const sd = mlp(2).stateDict();
    const w0 = Float32Array.from(m.parameters()[0]!.data);
    delete sd['2.bias'];
    sd['3.weight'] = zeros([1]);
    let err: unknown;
    try {
      m.loadStateDict(sd);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(nn.StateDictError);
    expect(err).toBeInstanceOf(TapegradError);
    expect((err as Error).message).toBe(
      'loadStateDict(Sequential): missing keys: "2.bias"; unexpected keys: "3.weight"',
    );
    expect((err as nn.StateDictError).missingKeys).toEqual(['2.bias']);
    expect(m.parameters()[0]!.data).toEqual(w0);
    // Non-strict loads what matches and reports the rest.
    expect(m.loadStateDict(sd, { strict: false })).toEqual({ missingKeys: ['2.bias'], unexpectedKeys: ['3.weight'] });
    expect(m.parameters()[0]!.data).toEqual(sd['0.weight']!.data);
  });
  it('shape and dtype mismatches are errors even when not strict', () => {
    const m = mlp(1);
    const sd = m.stateDict();
    const bad = { ...sd, '0.weight': zeros([3, 5]), '2.bias': zeros([2], { dtype: 'float64' }) };
    expect(() => m.loadStateDict(bad, { strict: false })).toThrow(
      'loadStateDict(Sequential): shape mismatch for "0.weight": state dict has [3,5], model expects [5,3]; dtype mismatch for "2.bias": state dict has float64, model expects float32',
    );
  });
});

describe('init', () => {
  const bounds = (t: Tensor): [number, number] => {
    let lo = Infinity,
      hi = -Infinity;
    for (const v of t.data) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    return [lo, hi];
  };
  const moments = (t: Tensor): [number, number] => {
    const d = Array.from(t.data);
    const mu = d.reduce((a, b) => a + b, 0) / d.length;
    return [mu, Math.sqrt(d.reduce((a, b) => a + (b - mu) ** 2, 0) / d.length)];
  };
  it('Linear defaults to PyTorch: U(±1/√fanIn) for weight and bias', () => {
    const l = new nn.Linear(400, 300, { generator: new Generator(0) });
    const b = 1 / Math.sqrt(400);
    const [lo, hi] = bounds(l.weight);
    expect(lo).toBeGreaterThanOrEqual(-b);
    expect(hi).toBeLessThanOrEqual(b);
    expect(lo).toBeLessThan(-0.99 * b);
    expect(hi).toBeGreaterThan(0.99 * b);
    near(moments(l.weight)[1], b / Math.sqrt(3)); // std of U(-b, b)
    const [blo, bhi] = bounds(l.bias!);
    expect(blo).toBeGreaterThanOrEqual(-b);
    expect(bhi).toBeLessThanOrEqual(b);
  });
  it('the same seed gives the same model; different seeds differ', () => {
    const make = () => new nn.Sequential(new nn.Linear(20, 10), new nn.ReLU(), new nn.Linear(10, 3));
    manualSeed(5);
    const a = make();
    manualSeed(5);
    const b = make();
    manualSeed(6);
    const c = make();
    a.parameters().forEach((p, i) => expect(p.data).toEqual(b.parameters()[i]!.data));
    expect(a.parameters()[0]!.data).not.toEqual(c.parameters()[0]!.data);
    const g1 = new nn.Linear(5, 5, { generator: new Generator(9) }),
      g2 = new nn.Linear(5, 5, { generator: new Generator(9) });
    expect(g1.weight.data).toEqual(g2.weight.data);
  });
  const near = (a: number, b: number) => expect(Math.abs(a / b - 1)).toBeLessThan(0.02);
  it('xavier and kaiming scales', () => {
    const g = new Generator(1);
    const t = () => zeros([200, 300], { dtype: 'float64' });
    const xb = Math.sqrt(6 / 500);
    expect(bounds(nn.init.xavierUniform(t(), { generator: g }))[1]).toBeLessThanOrEqual(xb);
    near(moments(nn.init.xavierUniform(t(), { generator: g }))[1], xb / Math.sqrt(3));
    near(moments(nn.init.xavierNormal(t(), { generator: g, gain: 2 }))[1], 2 * Math.sqrt(2 / 500));
    near(moments(nn.init.kaimingNormal(t(), { generator: g }))[1], Math.sqrt(2 / 300));
    near(
      moments(nn.init.kaimingNormal(t(), { generator: g, mode: 'fanOut', nonlinearity: 'relu' }))[1],
      Math.sqrt(2 / 200),
    );
    expect(bounds(nn.init.kaimingUniform(t(), { generator: g }))[1]).toBeLessThanOrEqual(Math.sqrt(6 / 300));
    expect(moments(nn.init.kaimingNormal(t(), { generator: g }))[0]).toBeCloseTo(0, 2);
    expect(nn.init.zeros(t()).data.every((v) => v === 0)).toBe(true);
    expect(nn.init.ones(t()).data.every((v) => v === 1)).toBe(true);
    expect(nn.init.calculateGain('tanh')).toBeCloseTo(5 / 3);
    expect(() => nn.init.xavierUniform(zeros([3]))).toThrow(
      /xavierUniform: fan in and fan out need a tensor with at least 2 dimensions, got shape \[3\]/,
    );
  });
  it('Embedding is N(0, 1)', () => {
    const [mu, sd] = moments(new nn.Embedding(100, 100, { generator: new Generator(3) }).weight);
    expect(mu).toBeCloseTo(0, 1);
    expect(sd).toBeCloseTo(1, 1);
  });
});

describe('training', () => {
  it('a tiny MLP overfits a small batch', () => {
    manualSeed(0);
    const model = new nn.Sequential(new nn.Linear(4, 16), new nn.Tanh(), new nn.Linear(16, 3));
    const x = tensor([
      [1, 0, 0, 1],
      [0, 1, 1, 0],
      [1, 1, 0, 0],
      [0, 0, 1, 1],
      [1, 0, 1, 0],
      [0, 1, 0, 1],
    ]);
    const y = [0, 1, 2, 0, 1, 2];
    let loss = Infinity;
    for (let step = 0; step < 300; step++) {
      const l = nn.crossEntropy(model.forward(x), y);
      model.zeroGrad();
      l.backward();
      noGrad(() => {
        for (const p of model.parameters()) {
          const d = p.data,
            g = p.grad!.data;
          for (let i = 0; i < d.length; i++) d[i] = d[i]! - 0.5 * g[i]!;
        }
      });
      loss = l.item();
    }
    expect(loss).toBeLessThan(0.02);
    const pred = noGrad(() => model.forward(x)).argmax(1);
    expect(Array.from(pred.data)).toEqual(y);
  });
});

// A module with a non-tensor forward signature still type-checks as a Module.
class Scale extends nn.Module {
  forward(x: Tensor, s: TensorLike): Tensor {
    return x.mul(s);
  }
}
it('modules may take several arguments', () => {
  expect(new Scale().forward(tensor([2]), 3).item()).toBe(6);
});
