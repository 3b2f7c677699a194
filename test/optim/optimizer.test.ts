/** The optimizer base: param groups, zeroGrad, skipping grad-less params, state dicts, non-finite gradients, bad input. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { optim, tensor, ValueError, type Tensor } from '../../src/index.js';

type Make = (p: Tensor[]) => optim.Optimizer;
const all: [string, Make][] = [
  ['GD', (p) => new optim.GD(p, { lr: 0.05 })],
  ['SGD', (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
  ['Adam', (p) => new optim.Adam(p, { lr: 0.05, amsgrad: true, weightDecay: 0.01 })],
  ['AdamW', (p) => new optim.AdamW(p, { lr: 0.05 })],
  ['RMSprop', (p) => new optim.RMSprop(p, { lr: 0.01, centered: true, momentum: 0.5 })],
  ['Adagrad', (p) => new optim.Adagrad(p, { lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1 })],
  ['Adamax', (p) => new optim.Adamax(p, { lr: 0.05 })],
  ['NAdam', (p) => new optim.NAdam(p, { lr: 0.05 })],
  ['Lion', (p) => new optim.Lion(p, { lr: 0.01, weightDecay: 0.1 })],
];

const loss = (w: Tensor, b: Tensor, k: number) =>
  w
    .mul(w)
    .sum()
    .add(w.sum().mul(b.sum()).mul(Math.cos(k)))
    .add(b.sub(1).mul(b.sub(1)).sum().mul(3));
function makeParams(dtype: 'float32' | 'float64') {
  return [
    tensor(
      [
        [0.5, -1.5],
        [2, 0.25],
      ],
      { dtype, requiresGrad: true },
    ),
    tensor([1.2, -0.7, 0.1], { dtype, requiresGrad: true }),
  ];
}
function train(opt: optim.Optimizer, ps: Tensor[], from: number, to: number): void {
  for (let k = from; k < to; k++) {
    opt.zeroGrad();
    loss(ps[0]!, ps[1]!, k).backward();
    opt.step();
  }
}
const bits = (t: Tensor) => [...new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)];

describe('stateDict → JSON → loadStateDict → continue equals an uninterrupted run bit for bit', () => {
  for (const [name, make] of all) {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`${name} ${dtype}`, () => {
        const a = makeParams(dtype),
          optA = make(a);
        train(optA, a, 0, 12);
        const b = makeParams(dtype),
          optB = make(b);
        train(optB, b, 0, 5);
        const saved = JSON.stringify(optB.stateDict());
        const c = b.map((p) => tensor(p.data.slice(), { shape: [...p.shape], dtype, requiresGrad: true }));
        const optC = make(c);
        optC.loadStateDict(JSON.parse(saved));
        train(optC, c, 5, 12);
        expect(c.map(bits)).toEqual(a.map(bits));
        expect(c[0]!.data.some((x, i) => x !== makeParams(dtype)[0]!.data[i])).toBe(true);
        // and the state itself is identical
        expect(JSON.stringify(optC.stateDict())).toEqual(JSON.stringify(optA.stateDict()));
      });
    }
  }
  it('stateDict is a snapshot: later steps do not change it', () => {
    const p = makeParams('float64'),
      opt = new optim.Adam(p, { lr: 0.1 });
    train(opt, p, 0, 2);
    const sd = opt.stateDict(),
      before = JSON.stringify(sd);
    train(opt, p, 2, 4);
    expect(JSON.stringify(sd)).toBe(before);
  });
  it('encodes NaN, ±Infinity and −0 in state and options without loss (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double(), { minLength: 1, maxLength: 6 }), (xs) => {
        const p = tensor(
          xs.map(() => 0),
          { dtype: 'float64', requiresGrad: true },
        );
        const opt = new optim.Adam([p]);
        p.grad = tensor(xs, { dtype: 'float64' });
        opt.step();
        const q = tensor(
          xs.map(() => 0),
          { dtype: 'float64', requiresGrad: true },
        );
        const opt2 = new optim.Adam([q]);
        opt2.loadStateDict(JSON.parse(JSON.stringify(opt.stateDict())));
        const s1 = opt.state.get(p)!,
          s2 = opt2.state.get(q)!;
        for (const k of ['expAvg', 'expAvgSq'] as const) {
          expect(new Uint8Array((s2[k] as Float64Array).buffer)).toEqual(
            new Uint8Array((s1[k] as Float64Array).buffer),
          );
        }
      }),
      { numRuns: 50 },
    );
  });
  it('loads group options (lr changed by a schedule) too', () => {
    const p = makeParams('float64'),
      opt = new optim.SGD(p, { lr: 0.1 });
    opt.paramGroups[0]!.lr = 0.025;
    const q = makeParams('float64'),
      opt2 = new optim.SGD(q, { lr: 0.1 });
    opt2.loadStateDict(JSON.parse(JSON.stringify(opt.stateDict())));
    expect(opt2.paramGroups[0]!.lr).toBe(0.025);
    expect(opt2.paramGroups[0]!.params[0]).toBe(q[0]);
  });
});

describe('param groups', () => {
  it('per-group options override the defaults; groups update independently', () => {
    const a = tensor([1], { dtype: 'float64', requiresGrad: true }),
      b = tensor([1], { dtype: 'float64', requiresGrad: true });
    const opt = new optim.SGD([{ params: [a] }, { params: [b], lr: 0.5 }], { lr: 0.1 });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.5]);
    expect(opt.paramGroups[1]!.momentum).toBe(0);
    a.grad = tensor([1], { dtype: 'float64' });
    b.grad = tensor([1], { dtype: 'float64' });
    opt.step();
    expect(a.data[0]).toBeCloseTo(0.9, 15);
    expect(b.data[0]).toBeCloseTo(0.5, 15);
  });
  it('addParamGroup adds parameters with defaults filled in', () => {
    const a = tensor([1], { requiresGrad: true }),
      b = tensor([2], { requiresGrad: true });
    const opt = new optim.Adam([a], { lr: 0.01 });
    opt.addParamGroup({ params: [b], betas: [0.5, 0.9] });
    expect(opt.paramGroups[1]).toMatchObject({ lr: 0.01, betas: [0.5, 0.9], eps: 1e-8, amsgrad: false });
  });
  it('parameters whose grad is null are skipped and get no state', () => {
    const a = tensor([1, 2], { dtype: 'float64', requiresGrad: true }),
      b = tensor([3], { dtype: 'float64', requiresGrad: true });
    const opt = new optim.Adam([a, b], { lr: 0.1 });
    a.grad = tensor([1, 1], { dtype: 'float64' });
    opt.step();
    expect([...b.data]).toEqual([3]);
    expect(opt.state.has(b)).toBe(false);
    expect(opt.state.has(a)).toBe(true);
  });
  it('zeroGrad sets grads to null, or to zeros with setToNone = false', () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const opt = new optim.SGD([a], { lr: 0.1 });
    a.grad = tensor([3, 4]);
    opt.zeroGrad(false);
    expect([...a.grad!.data]).toEqual([0, 0]);
    opt.zeroGrad();
    expect(a.grad).toBeNull();
  });
  it('defaults follow PyTorch', () => {
    const p = [tensor([1], { requiresGrad: true })];
    expect(new optim.SGD(p).defaults).toMatchObject({
      lr: 1e-3,
      momentum: 0,
      dampening: 0,
      nesterov: false,
      weightDecay: 0,
      maximize: false,
    });
    expect(new optim.Adam(p).defaults).toMatchObject({
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0,
      amsgrad: false,
    });
    expect(new optim.AdamW(p).defaults).toMatchObject({
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 1e-2,
      amsgrad: false,
    });
    expect(new optim.RMSprop(p).defaults).toMatchObject({
      lr: 1e-2,
      alpha: 0.99,
      eps: 1e-8,
      weightDecay: 0,
      momentum: 0,
      centered: false,
    });
    expect(new optim.Adagrad(p).defaults).toMatchObject({
      lr: 1e-2,
      lrDecay: 0,
      weightDecay: 0,
      initialAccumulatorValue: 0,
      eps: 1e-10,
    });
    expect(new optim.Adamax(p).defaults).toMatchObject({ lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });
    expect(new optim.NAdam(p).defaults).toMatchObject({
      lr: 2e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0,
      momentumDecay: 4e-3,
    });
    expect(new optim.Lion(p).defaults).toMatchObject({ lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0 });
  });
});

describe('non-finite gradients', () => {
  for (const [name, make] of all) {
    it(`${name}: skipNonFinite leaves every parameter and all state unchanged, then steps normally`, () => {
      const ps = makeParams('float64');
      const opt = make(ps);
      opt.skipNonFinite = true;
      train(opt, ps, 0, 2);
      const before = ps.map(bits),
        state = JSON.stringify(opt.stateDict());
      for (const bad of [NaN, Infinity, -Infinity]) {
        ps[0]!.grad = tensor(
          [
            [1, 1],
            [1, 1],
          ],
          { dtype: 'float64' },
        );
        ps[1]!.grad = tensor([1, bad, 1], { dtype: 'float64' }); // the bad value sits in the second parameter: the first must not move either
        expect(opt.step()).toBe(false);
        expect(opt.lastStepSkipped).toBe(true);
        expect(ps.map(bits)).toEqual(before);
        expect(JSON.stringify(opt.stateDict())).toBe(state);
      }
      ps[1]!.grad = tensor([1, 1, 1], { dtype: 'float64' });
      expect(opt.step()).toBe(true);
      expect(opt.lastStepSkipped).toBe(false);
      expect(ps.map(bits)).not.toEqual(before);
    });
  }
  it('the option is taken by the constructor', () => {
    const p = tensor([1], { dtype: 'float64', requiresGrad: true });
    const opt = new optim.Adam([p], { lr: 0.1, skipNonFinite: true });
    p.grad = tensor([NaN], { dtype: 'float64' });
    expect(opt.step()).toBe(false);
    expect(p.data[0]).toBe(1);
  });
  it('without it, NaN propagates into the parameter as in PyTorch', () => {
    const p = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const opt = new optim.Adam([p], { lr: 0.1 });
    p.grad = tensor([NaN, 1], { dtype: 'float64' });
    expect(opt.step()).toBe(true);
    expect(Number.isNaN(p.data[0])).toBe(true);
    expect(Number.isFinite(p.data[1])).toBe(true);
  });
});

describe('bad input throws ValueError naming the option and value', () => {
  const p = () => [tensor([1, 2], { requiresGrad: true })];
  const cases: [string, () => unknown, RegExp][] = [
    ['negative lr', () => new optim.SGD(p(), { lr: -0.1 }), /SGD.*lr.*-0\.1/],
    ['NaN lr', () => new optim.Adam(p(), { lr: NaN }), /Adam.*lr.*NaN/],
    ['Infinite lr', () => new optim.RMSprop(p(), { lr: Infinity }), /RMSprop.*lr.*Infinity/],
    ['beta1 = 1', () => new optim.Adam(p(), { betas: [1, 0.999] }), /betas\[0\].*got 1/],
    ['beta2 < 0', () => new optim.AdamW(p(), { betas: [0.9, -0.1] }), /betas\[1\].*-0\.1/],
    ['betas not a pair', () => new optim.Adam(p(), { betas: [0.9] as unknown as [number, number] }), /betas.*pair/],
    ['eps = 0', () => new optim.Adam(p(), { eps: 0 }), /eps.*got 0/],
    ['eps < 0', () => new optim.Adagrad(p(), { eps: -1e-8 }), /eps.*-1e-8/],
    ['negative weightDecay', () => new optim.Adam(p(), { weightDecay: -1 }), /weightDecay.*-1/],
    ['negative momentum', () => new optim.SGD(p(), { momentum: -0.5 }), /momentum.*-0\.5/],
    ['nesterov without momentum', () => new optim.SGD(p(), { nesterov: true }), /nesterov.*momentum 0/],
    [
      'nesterov with dampening',
      () => new optim.SGD(p(), { nesterov: true, momentum: 0.9, dampening: 0.1 }),
      /nesterov.*dampening 0\.1/,
    ],
    ['alpha > 1', () => new optim.RMSprop(p(), { alpha: 1.5 }), /alpha.*1\.5/],
    ['negative lrDecay', () => new optim.Adagrad(p(), { lrDecay: -1 }), /lrDecay.*-1/],
    [
      'negative initialAccumulatorValue',
      () => new optim.Adagrad(p(), { initialAccumulatorValue: -1 }),
      /initialAccumulatorValue.*-1/,
    ],
    ['GD with momentum', () => new optim.GD(p(), { momentum: 0.9 } as object), /GD.*momentum/],
    [
      'unknown option',
      () => new optim.Adam([{ params: p(), learningRate: 0.1 } as never]),
      /unknown option learningRate/,
    ],
    ['bad lr in a group', () => new optim.SGD([{ params: p(), lr: -1 }], { lr: 0.1 }), /param group 0.*lr.*-1/],
    ['empty params', () => new optim.SGD([], { lr: 0.1 }), /empty parameter list/],
    ['param without requiresGrad', () => new optim.SGD([tensor([1, 2])], { lr: 0.1 }), /does not require grad/],
    ['non-leaf param', () => new optim.SGD([tensor([1], { requiresGrad: true }).mul(2)], { lr: 0.1 }), /not a leaf/],
    ['not a tensor', () => new optim.SGD([{ params: [1 as never] }], { lr: 0.1 }), /not a Tensor/],
    [
      'duplicate across groups',
      () => {
        const x = p();
        return new optim.SGD([{ params: x }, { params: x }], { lr: 0.1 });
      },
      /appears more than once/,
    ],
    [
      'duplicate via addParamGroup',
      () => {
        const x = p();
        new optim.Adam(x).addParamGroup({ params: x });
      },
      /appears more than once/,
    ],
    ['skipNonFinite not boolean', () => new optim.SGD(p(), { skipNonFinite: 1 as never }), /skipNonFinite/],
  ];
  for (const [what, f, re] of cases) {
    it(what, () => {
      expect(f).toThrow(ValueError);
      expect(f).toThrow(re);
    });
  }

  const trained = () => {
    const ps = makeParams('float64'),
      opt = new optim.Adam(ps, { lr: 0.1 });
    train(opt, ps, 0, 2);
    return JSON.parse(JSON.stringify(opt.stateDict())) as optim.OptimizerStateDict;
  };
  it('a state dict from another optimizer', () => {
    const sgd = new optim.SGD(makeParams('float64'), { lr: 0.1 });
    expect(() => sgd.loadStateDict(trained())).toThrow(/from optimizer "Adam", this optimizer is 'SGD'/);
  });
  it('a state dict with mismatched shapes', () => {
    const ps = [
      tensor([[1, 2, 3]], { dtype: 'float64', requiresGrad: true }),
      tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true }),
    ];
    const opt = new optim.Adam(ps);
    expect(() => opt.loadStateDict(trained())).toThrow(ValueError);
    expect(() => opt.loadStateDict(trained())).toThrow(/state 0\.expAvg holds 4 float64 values.*shape \[1,3\]/);
  });
  it('a state dict with another dtype', () => {
    const opt = new optim.Adam(makeParams('float32'));
    expect(() => opt.loadStateDict(trained())).toThrow(/dtype float32/);
  });
  it('a state dict with a different group count or group size', () => {
    const ps = makeParams('float64');
    const two = new optim.Adam([{ params: [ps[0]!] }, { params: [ps[1]!] }]);
    expect(() => two.loadStateDict(trained())).toThrow(/1 parameter group\(s\), this optimizer has 2/);
    const one = new optim.Adam([ps[0]!]);
    expect(() => one.loadStateDict(trained())).toThrow(/param group 0 has 2 parameter\(s\) in the state dict, 1 here/);
  });
  it('a state dict with invalid options, and a failed load changes nothing', () => {
    const sd = trained();
    sd.paramGroups[0]!.lr = -3;
    const ps = makeParams('float64'),
      opt = new optim.Adam(ps, { lr: 0.1 });
    expect(() => opt.loadStateDict(sd)).toThrow(/lr.*-3/);
    expect(opt.paramGroups[0]!.lr).toBe(0.1);
    expect(opt.state.size).toBe(0);
  });
  it('a gradient whose shape does not match its parameter', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const opt = new optim.SGD([x], { lr: 0.1 });
    x.grad = tensor([1, 2, 3]);
    expect(() => opt.step()).toThrow(/gradient of shape \[3\].*parameter of shape \[2\]/);
  });
});

describe('update kernel registry', () => {
  it('setUpdateKernel swaps the function the optimizer calls; resetUpdateKernel restores it', () => {
    const calls: number[] = [];
    const original = optim.getUpdateKernel('adam');
    optim.setUpdateKernel('adam', (param, grad, m, v, vmax, h, step) => {
      calls.push(step);
      original(param, grad, m, v, vmax, h, step);
    });
    try {
      const x = tensor([1], { requiresGrad: true });
      const opt = new optim.Adam([x], { lr: 0.1 });
      for (let i = 0; i < 2; i++) {
        x.grad = tensor([1]);
        opt.step();
      }
      expect(calls).toEqual([1, 2]);
    } finally {
      optim.setUpdateKernel('adam', original);
    }
    expect(optim.getUpdateKernel('adam')).toBe(original);
    optim.setUpdateKernel('adam', optim.adamUpdate);
    optim.resetUpdateKernel('adam');
    // The default is not the bare reference: it first asks the fused kernels backends offer.
    expect(optim.getUpdateKernel('adam')).toBe(optim.defaultUpdateKernel('adam'));
    expect(optim.getUpdateKernel('adam')).not.toBe(optim.adamUpdate);
  });
  it('rejects unknown kernel names', () => {
    expect(() => optim.setUpdateKernel('nope' as 'adam', optim.adamUpdate)).toThrow(ValueError);
  });
  it('kernels update in place and allocate no state', () => {
    const p = new Float64Array([1, 2]),
      g = new Float64Array([0.5, -0.5]),
      m = new Float64Array(2),
      v = new Float64Array(2);
    optim.adamUpdate(
      p,
      g,
      m,
      v,
      null,
      {
        lr: 0.1,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: 0,
        amsgrad: false,
        decoupledWeightDecay: false,
        maximize: false,
      },
      1,
    );
    expect(p[0]).toBeLessThan(1);
    expect(p[1]).toBeGreaterThan(2);
    expect(m[0]).toBeCloseTo(0.05, 15);
  });
});
