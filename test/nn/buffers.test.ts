import { describe, expect, it } from 'vitest';
import { nn, tensor, zeros, ones, Tensor, noGrad } from '../../src/index.js';

class Stats extends nn.Module {
  declare running: Tensor;
  declare scratch: Tensor;
  fc = new nn.Linear(2, 2);
  constructor() {
    super();
    this.registerBuffer('running', zeros([2]));
    this.registerBuffer('scratch', ones([3]), { persistent: false });
    this.registerBuffer('absent', null);
  }
  forward(x: Tensor): Tensor {
    if (this.training) this.running = this.running.add(x.detach().mean(0));
    return this.fc.forward(x);
  }
}
class Outer extends nn.Module {
  inner = new Stats();
  layers = new nn.ModuleList([new nn.Linear(2, 3), new nn.ReLU()]);
  heads = new nn.ModuleDict({ a: new nn.Linear(3, 1), b: new nn.Linear(3, 2) });
  forward(x: Tensor): Tensor {
    let h = this.inner.forward(x);
    for (const m of this.layers) h = (m as nn.Module).forward(h);
    return this.heads.get('a').forward(h);
  }
}

describe('buffers', () => {
  it('are in stateDict in PyTorch order (own params, own buffers, children); non-persistent and null ones are not', () => {
    const m = new Outer();
    // Stats has no parameters of its own, so its buffer comes before its child fc's parameters.
    expect(Object.keys(m.stateDict())).toEqual([
      'inner.running',
      'inner.fc.weight',
      'inner.fc.bias',
      'layers.0.weight',
      'layers.0.bias',
      'heads.a.weight',
      'heads.a.bias',
      'heads.b.weight',
      'heads.b.bias',
    ]);
    expect(m.namedBuffers().map(([k]) => k)).toEqual(['inner.running', 'inner.scratch']);
    expect(m.namedBuffers({ persistentOnly: true }).map(([k]) => k)).toEqual(['inner.running']);
    expect(m.parameters().length).toBe(8);
    expect(m.stateDict()['inner.running']!.requiresGrad).toBe(false);
  });
  it('are read and reassigned as properties; reassignment is what stateDict sees', () => {
    const s = new Stats();
    s.forward(
      tensor([
        [1, 2],
        [3, 4],
      ]),
    );
    expect(Array.from(s.running.data)).toEqual([2, 3]);
    expect(Array.from(s.stateDict()['running']!.data)).toEqual([2, 3]);
    s.eval();
    s.forward(tensor([[1, 2]]));
    expect(Array.from(s.running.data)).toEqual([2, 3]);
    expect(() => {
      (s as unknown as { running: unknown }).running = 3;
    }).toThrow(/buffer "running" can only be set to a Tensor/);
  });
  it('load strictly and all-or-nothing, in place', () => {
    const a = new Stats(),
      b = new Stats();
    a.running.data.set([5, 6]);
    const held = b.running;
    b.loadStateDict(a.stateDict());
    expect(b.running).toBe(held);
    expect(Array.from(b.running.data)).toEqual([5, 6]);
    const sd = a.stateDict();
    delete sd['running'];
    const w = Float32Array.from(b.fc.weight.data);
    sd['fc.weight'] = zeros([2, 2]);
    expect(() => b.loadStateDict(sd)).toThrow('loadStateDict(Stats): missing keys: "running"');
    expect(b.fc.weight.data).toEqual(w);
    expect(() => b.loadStateDict({ ...a.stateDict(), running: zeros([3]) })).toThrow(
      'shape mismatch for "running": state dict has [3], model expects [2]',
    );
    expect(() => b.loadStateDict({ ...a.stateDict(), scratch: zeros([3]) })).toThrow('unexpected keys: "scratch"');
  });
  it('validates names, values and options', () => {
    class Bad extends nn.Module {
      fc = new nn.Linear(1, 1);
      forward(x: Tensor): Tensor {
        return x;
      }
      add(name: string, t: unknown, o?: object): void {
        this.registerBuffer(name, t as Tensor, o);
      }
    }
    const m = new Bad();
    expect(() => m.add('a.b', zeros([1]))).toThrow(/invalid child name "a.b"/);
    expect(() => m.add('x', 3)).toThrow('Bad.registerBuffer: buffer "x" must be a Tensor or null, got number');
    expect(() => m.add('x', m.fc.weight)).toThrow(/is a Parameter/);
    expect(() => m.add('fc', zeros([1]))).toThrow(/"fc" is already a child or parameter/);
    expect(() => m.add('x', zeros([1]), { persistant: false })).toThrow(
      "Bad.registerBuffer: unknown option 'persistant' (known options: persistent)",
    );
  });
});

describe('train/eval', () => {
  it('propagates through children, lists and dicts, and returns the module', () => {
    const m = new Outer();
    expect(m.eval()).toBe(m);
    expect(m.modules().every((c) => !c.training)).toBe(true);
    m.inner.train();
    expect(m.training).toBe(false);
    expect(m.inner.fc.training).toBe(true);
    m.train();
    expect(m.modules().every((c) => c.training)).toBe(true);
    expect(() => m.train('yes' as unknown as boolean)).toThrow(/mode must be a boolean/);
  });
});

describe('typed forward', () => {
  it('nn.Module has forward(...tensors): Tensor', () => {
    const m: nn.Module = new nn.Linear(2, 2);
    const y: Tensor = noGrad(() => m.forward(ones([1, 2])));
    expect(y.shape).toEqual([1, 2]);
  });
});

describe('ModuleList / ModuleDict', () => {
  it('ModuleList registers "0", "1", … and supports at/set/append/insert', () => {
    const l = new nn.ModuleList<nn.Linear>([new nn.Linear(1, 2)]);
    l.append(new nn.Linear(2, 3)).insert(0, new nn.Linear(4, 1));
    expect(l.length).toBe(3);
    expect(l.at(-1).outFeatures).toBe(3);
    expect(l.namedParameters().map(([k, p]) => `${k}:${p.shape.join('x')}`)).toEqual([
      '0.weight:1x4',
      '0.bias:1',
      '1.weight:2x1',
      '1.bias:2',
      '2.weight:3x2',
      '2.bias:3',
    ]);
    l.set(1, new nn.Linear(1, 5, { bias: false }));
    expect(Object.keys(l.stateDict())).toEqual(['0.weight', '0.bias', '1.weight', '2.weight', '2.bias']);
    expect(() => l.at(3)).toThrow('ModuleList.at: index 3 is out of range for 3 modules');
    expect(() => l.append(3 as unknown as nn.Linear)).toThrow('ModuleList.append: expected a Module, got number');
    expect(() => l.forward()).toThrow(/has no forward/);
    expect([...l].length).toBe(3);
  });
  it('ModuleDict keeps insertion order and pops', () => {
    const d = new nn.ModuleDict<nn.AnyModule>({ enc: new nn.Linear(1, 1), dec: new nn.Linear(1, 2) });
    expect(d.keys()).toEqual(['enc', 'dec']);
    expect(Object.keys(d.stateDict())).toEqual(['enc.weight', 'enc.bias', 'dec.weight', 'dec.bias']);
    d.pop('enc');
    expect(d.has('enc')).toBe(false);
    expect(Object.keys(d.stateDict())).toEqual(['dec.weight', 'dec.bias']);
    expect(() => d.get('enc')).toThrow('ModuleDict.get: no module under key "enc" (keys: dec)');
    expect(() => d.set('a.b', new nn.ReLU())).toThrow(/invalid child name/);
  });
});
