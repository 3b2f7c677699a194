/**
 * Bad inputs to the optimizers (issue 10 items 8–10): every row expects a named error class and a
 * message fragment; the properties check that no tampered state gets through to a TypeError or NaN.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isGradEnabled, noGrad, optim, ShapeError, tensor, ValueError, type Tensor } from '../../src/index.js';

type Make = (p: Tensor[], o?: object) => optim.Optimizer;
const all: [string, Make, object][] = [
  ['GD', (p, o) => new optim.GD(p, { lr: 0.05, ...o }), {}],
  ['SGD', (p, o) => new optim.SGD(p, { lr: 0.05, ...o }), { momentum: 0.9 }],
  ['Adam', (p, o) => new optim.Adam(p, { lr: 0.05, ...o }), { amsgrad: true }],
  ['AdamW', (p, o) => new optim.AdamW(p, { lr: 0.05, ...o }), {}],
  ['RMSprop', (p, o) => new optim.RMSprop(p, { lr: 0.01, ...o }), { centered: true, momentum: 0.5 }],
  ['Adagrad', (p, o) => new optim.Adagrad(p, { lr: 0.1, ...o }), {}],
  ['Adamax', (p, o) => new optim.Adamax(p, { lr: 0.05, ...o }), {}],
  ['NAdam', (p, o) => new optim.NAdam(p, { lr: 0.05, ...o }), {}],
  ['Lion', (p, o) => new optim.Lion(p, { lr: 0.01, ...o }), {}],
  ['RAdam', (p, o) => new optim.RAdam(p, { lr: 0.05, ...o }), { decoupledWeightDecay: true, weightDecay: 0.1 }],
  ['Adadelta', (p, o) => new optim.Adadelta(p, { ...o }), {}],
  ['Rprop', (p, o) => new optim.Rprop(p, { ...o }), {}],
  ['ASGD', (p, o) => new optim.ASGD(p, { ...o }), { t0: 1 }],
  ['Adafactor', (p, o) => new optim.Adafactor(p, { ...o }), {}],
];
const params = () => [
  tensor(
    [
      [0.5, -1.5],
      [2, 0.25],
    ],
    { dtype: 'float64', requiresGrad: true },
  ),
  tensor([1.2, -0.7], { dtype: 'float64', requiresGrad: true }),
];
const lossOf = (ps: Tensor[]) => ps[0]!.mul(ps[0]!).sum().add(ps[1]!.sum().mul(ps[0]!.sum()));
function trained(
  make: Make,
  extra: object,
  steps = 3,
): { opt: optim.Optimizer; ps: Tensor[]; sd: optim.OptimizerStateDict } {
  const ps = params(),
    opt = make(ps, extra);
  for (let k = 0; k < steps; k++) {
    opt.zeroGrad();
    lossOf(ps).backward();
    opt.step();
  }
  return { opt, ps, sd: JSON.parse(JSON.stringify(opt.stateDict())) as optim.OptimizerStateDict };
}
const snapshot = (opt: optim.Optimizer, ps: Tensor[]) => JSON.stringify([opt.stateDict(), ps.map((p) => [...p.data])]);

describe('misspelled and unknown options are refused, naming the known ones (item 8)', () => {
  const rows: [string, () => unknown, RegExp][] = [
    [
      'AdamW weight_decay',
      () => new optim.AdamW(params(), { weight_decay: 0.5 } as never),
      /AdamW: unknown option weight_decay \(known: lr, betas, eps, weightDecay, amsgrad/,
    ],
    [
      'SGD mometum',
      () => new optim.SGD(params(), { mometum: 0.9 } as never),
      /SGD: unknown option mometum \(known: lr, momentum/,
    ],
    [
      'Adam beta1',
      () => new optim.Adam(params(), { beta1: 0.5 } as never),
      /Adam: unknown option beta1 \(known: .*betas/,
    ],
    [
      'GD momentum',
      () => new optim.GD(params(), { momentum: 0.9 } as never),
      /GD: unknown option momentum \(known: lr, weightDecay, maximize, skipNonFinite\)/,
    ],
    [
      'AdamW decoupledWeightDecay false',
      () => new optim.AdamW(params(), { decoupledWeightDecay: false }),
      /AdamW: option decoupledWeightDecay can only be true, got false/,
    ],
    ['options not an object', () => new optim.SGD(params(), 0.1 as never), /SGD: options must be an object, got 0\.1/],
    [
      'in a group',
      () => new optim.Lion([{ params: params(), weight_decay: 1 } as never]),
      /Lion: param group 0: unknown option weight_decay \(known: lr/,
    ],
    [
      'in a loaded group',
      () => {
        const { opt, sd } = trained(all[2]![1], {});
        sd.paramGroups[0]!['weight_decay'] = 0.5;
        opt.loadStateDict(sd);
      },
      /Adam.loadStateDict: param group 0: unknown option weight_decay/,
    ],
  ];
  for (const [what, f, re] of rows) {
    it(what, () => {
      expect(f).toThrow(ValueError);
      expect(f).toThrow(re);
    });
  }
  it('property: any key an optimizer does not know is refused by name, in the options and in a group', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: all.length - 1 }),
        fc.string({ minLength: 1, maxLength: 12 }),
        fc.boolean(),
        (oi, key, inGroup) => {
          const [name, make] = all[oi]!;
          const known = Object.keys(make(params()).defaults);
          fc.pre(![...known, 'skipNonFinite', 'params', 'initialLr', '__proto__'].includes(key));
          const f = () => (inGroup ? make([{ params: params(), [key]: 1 } as never]) : make(params(), { [key]: 1 }));
          expect(f).toThrow(ValueError);
          expect(f).toThrow(
            `${name}: ${inGroup ? 'param group 0: ' : ''}unknown option ${key} (known: ${known.join(', ')}`,
          );
        },
      ),
      { numRuns: 200 },
    );
  });
  for (const [name, make] of all) {
    it(`${name} refuses weight_decay`, () =>
      expect(() => make(params(), { weight_decay: 0.1 })).toThrow(
        new RegExp(`^${name}: unknown option weight_decay \\(known: lr`),
      ));
  }
});

describe('issue 14: bad options, parameters and calls of the new optimizers are named errors', () => {
  const mat = () => [
    tensor(
      [
        [0.5, -1.5],
        [2, 0.25],
      ],
      { dtype: 'float64', requiresGrad: true },
    ),
  ];
  const rows: [string, () => unknown, RegExp, typeof ValueError | typeof ShapeError][] = [
    [
      'RAdam betas[0] = 1',
      () => new optim.RAdam(params(), { betas: [1, 0.9] }),
      /RAdam: option betas\[0\] must be a finite number >= 0 and < 1, got 1/,
      ValueError,
    ],
    [
      'RAdam eps < 0',
      () => new optim.RAdam(params(), { eps: -1 }),
      /RAdam: option eps must be a finite number >= 0, got -1/,
      ValueError,
    ],
    [
      'Adadelta rho 1.5',
      () => new optim.Adadelta(params(), { rho: 1.5 }),
      /Adadelta: option rho must be a finite number >= 0 and <= 1, got 1\.5/,
      ValueError,
    ],
    [
      'Adadelta lr NaN',
      () => new optim.Adadelta(params(), { lr: NaN }),
      /Adadelta: option lr must be a finite number >= 0, got NaN/,
      ValueError,
    ],
    [
      'Rprop etas swapped',
      () => new optim.Rprop(params(), { etas: [1.2, 0.5] }),
      /Rprop: option etas\[0\] must be a finite number > 0 and < 1, got 1\.2/,
      ValueError,
    ],
    [
      'Rprop etas[1] <= 1',
      () => new optim.Rprop(params(), { etas: [0.5, 1] }),
      /Rprop: option etas\[1\] must be a finite number > 1, got 1/,
      ValueError,
    ],
    [
      'Rprop stepSizes min > max',
      () => new optim.Rprop(params(), { stepSizes: [1, 0.1] }),
      /Rprop: option stepSizes must have min <= max, got \[1,0\.1\]/,
      ValueError,
    ],
    [
      'Rprop etas not a pair',
      () => new optim.Rprop(params(), { etas: 0.5 as never }),
      /Rprop: option etas must be a pair \[a, b\], got 0\.5/,
      ValueError,
    ],
    [
      'ASGD lambd < 0',
      () => new optim.ASGD(params(), { lambd: -1 }),
      /ASGD: option lambd must be a finite number >= 0, got -1/,
      ValueError,
    ],
    [
      'ASGD t0 Infinity',
      () => new optim.ASGD(params(), { t0: Infinity }),
      /ASGD: option t0 must be a finite number, got Infinity/,
      ValueError,
    ],
    [
      'Adafactor beta2Decay > 0',
      () => new optim.Adafactor(params(), { beta2Decay: 0.5 }),
      /Adafactor: option beta2Decay must be a finite number <= 0, got 0\.5/,
      ValueError,
    ],
    [
      'Adafactor d < 1',
      () => new optim.Adafactor(params(), { d: 0.5 }),
      /Adafactor: option d must be a finite number >= 1, got 0\.5/,
      ValueError,
    ],
    [
      'Adafactor eps1 < 0',
      () => new optim.Adafactor(params(), { eps: [-1, 1e-3] }),
      /Adafactor: option eps\[0\] must be a finite number >= 0, got -1/,
      ValueError,
    ],
    [
      'Adafactor eps a number',
      () => new optim.Adafactor(params(), { eps: 1e-3 as never }),
      /Adafactor: option eps must be a pair \[eps1 \| null, eps2\]/,
      ValueError,
    ],
    [
      'Muon on a vector',
      () => new optim.Muon(params()),
      /Muon: param group 0: parameter 1 has shape \[2\] \(1-D\); Muon only optimizes 2-D weight matrices: .*with AdamW/,
      ShapeError,
    ],
    [
      'Muon on a scalar, in a group',
      () => new optim.Muon([{ params: [tensor(1, { dtype: 'float64', requiresGrad: true })] }]),
      /Muon: param group 0: parameter 0 has shape \[\] \(0-D\)/,
      ShapeError,
    ],
    [
      'Muon adjustLrFn in PyTorch spelling',
      () => new optim.Muon(mat(), { adjustLrFn: 'match_rms_adamw' as never }),
      /Muon: option adjustLrFn must be one of null, "original", "matchRmsAdamW", got "match_rms_adamw" \(did you mean "matchRmsAdamW"\?\)/,
      ValueError,
    ],
    [
      'Muon nsSteps 100',
      () => new optim.Muon(mat(), { nsSteps: 100 }),
      /Muon: option nsSteps must be an integer >= 0 and < 100, got 100/,
      ValueError,
    ],
    [
      'Muon nsCoefficients a pair',
      () => new optim.Muon(mat(), { nsCoefficients: [1, 2] as never }),
      /Muon: option nsCoefficients must be a triple \[a, b, c\], got \[1,2\]/,
      ValueError,
    ],
    [
      'Muon momentum < 0',
      () => new optim.Muon(mat(), { momentum: -0.5 }),
      /Muon: option momentum must be a finite number >= 0, got -0\.5/,
      ValueError,
    ],
    [
      'LBFGS lineSearchFn in PyTorch spelling',
      () => new optim.LBFGS(params(), { lineSearchFn: 'strong_wolfe' as never }),
      /LBFGS: option lineSearchFn must be one of null, "strongWolfe", got "strong_wolfe" \(did you mean "strongWolfe"\?\)/,
      ValueError,
    ],
    [
      'LBFGS historySize 0',
      () => new optim.LBFGS(params(), { historySize: 0 }),
      /LBFGS: option historySize must be an integer >= 1, got 0/,
      ValueError,
    ],
    [
      'LBFGS maxEval 2.5',
      () => new optim.LBFGS(params(), { maxEval: 2.5 }),
      /LBFGS: option maxEval must be an integer >= 1, got 2\.5/,
      ValueError,
    ],
    [
      'LBFGS two groups',
      () => new optim.LBFGS([{ params: mat() }, { params: [tensor([1], { dtype: 'float64', requiresGrad: true })] }]),
      /LBFGS: got 2 parameter groups; L-BFGS supports one/,
      ValueError,
    ],
    [
      'LBFGS mixed dtypes',
      () => new optim.LBFGS([...mat(), tensor([1], { requiresGrad: true })]),
      /LBFGS: parameter 1 is float32 but parameter 0 is float64; L-BFGS needs one dtype/,
      ValueError,
    ],
    [
      'LBFGS skipNonFinite',
      () => new optim.LBFGS(params(), { skipNonFinite: true }),
      /LBFGS: option skipNonFinite is not supported/,
      ValueError,
    ],
    [
      'LBFGS step() without a closure',
      () => new optim.LBFGS(params()).step(),
      /LBFGS.step: L-BFGS needs a closure that recomputes the loss and returns it, got undefined/,
      ValueError,
    ],
    [
      'LBFGS closure returning nothing',
      () => new optim.LBFGS(params()).step(() => undefined),
      /LBFGS.step: the closure must return the loss \(a Tensor or a number\), got undefined/,
      ValueError,
    ],
    [
      'LBFGS unknown option',
      () => new optim.LBFGS(params(), { max_iter: 3 } as never),
      /LBFGS: unknown option max_iter \(known: lr, maxIter, maxEval/,
      ValueError,
    ],
  ];
  for (const [what, f, re, cls] of rows) {
    it(what, () => {
      expect(f).toThrow(cls);
      expect(f).toThrow(re);
    });
  }
  it('LBFGS: a history of the wrong length is refused on load and changes nothing', () => {
    const ps = params(),
      opt = new optim.LBFGS(ps, { maxIter: 3, historySize: 2 });
    const closure = () => (opt.zeroGrad(), lossOf(ps).backward(), lossOf(ps));
    for (let k = 0; k < 3; k++) opt.step(closure);
    const sd = JSON.parse(JSON.stringify(opt.stateDict())) as optim.OptimizerStateDict;
    const before = snapshot(opt, ps);
    (sd.state['0'] as Record<string, unknown>)['oldDirs'] = { dtype: 'float64', length: 1, base64: 'AAAAAAAAAAA=' };
    expect(() => opt.loadStateDict(sd)).toThrow(ValueError);
    expect(() => opt.loadStateDict(sd)).toThrow(
      /LBFGS.loadStateDict: state 0.oldDirs holds 1 values, expected 12 \(2 history pairs over 6 parameters\)/,
    );
    expect(snapshot(opt, ps)).toBe(before);
  });
});

describe('step(closure) has PyTorch semantics for every optimizer (item 9)', () => {
  for (const [name, make, extra] of all) {
    it(`${name}: the closure runs once with grad mode on, step returns its value, and the update uses its gradients`, () => {
      const a = params(),
        b = params();
      const optA = make(a, extra),
        optB = make(b, extra);
      for (let k = 0; k < 3; k++) {
        optA.zeroGrad();
        const expected = lossOf(a);
        expected.backward();
        optA.step();
        let calls = 0,
          mode = false;
        const got = noGrad(() =>
          optB.step(() => {
            calls++;
            mode = isGradEnabled();
            optB.zeroGrad();
            const l = lossOf(b);
            l.backward();
            return l;
          }),
        );
        expect(calls).toBe(1);
        expect(mode).toBe(true);
        expect(got.item()).toBe(expected.item());
      }
      expect(b.map((p) => [...p.data])).toEqual(a.map((p) => [...p.data]));
    });
  }
  it('a closure that is not a function is refused', () => {
    const opt = new optim.SGD(params(), { lr: 0.1 });
    expect(() => opt.step(3 as never)).toThrow(ValueError);
    expect(() => opt.step(3 as never)).toThrow(/SGD.step: closure must be a function returning the loss, got 3/);
  });
  it('step() without a closure still returns true (or false when skipped)', () => {
    const ps = params(),
      opt = new optim.Adam(ps, { skipNonFinite: true });
    lossOf(ps).backward();
    expect(opt.step()).toBe(true);
    ps[0]!.grad!.data[0] = NaN;
    expect(opt.step()).toBe(false);
  });
});

describe('optimizer state is validated on load, and a failed load changes nothing (item 10)', () => {
  type Tamper = (s: Record<string, unknown>) => void;
  const byName = (n: string) => all.find((r) => r[0] === n)!;
  const rows: [string, string, Tamper, RegExp][] = [
    ['step = -1', 'Adam', (s) => (s['step'] = -1), /state 0\.step must be a non-negative integer, got -1/],
    ['step = 0.5', 'Adamax', (s) => (s['step'] = 0.5), /state 0\.step must be a non-negative integer, got 0\.5/],
    [
      'step = NaN',
      'NAdam',
      (s) => (s['step'] = { $num: 'NaN' }),
      /state 0\.step must be a non-negative integer, got NaN/,
    ],
    [
      'step = Infinity',
      'RMSprop',
      (s) => (s['step'] = { $num: 'Infinity' }),
      /state 0\.step must be a non-negative integer, got Infinity/,
    ],
    ['step a string', 'Adagrad', (s) => (s['step'] = '3'), /state 0\.step must be a non-negative integer, got "3"/],
    [
      'muProduct not a number',
      'NAdam',
      (s) => (s['muProduct'] = [1]),
      /state 0\.muProduct must be a finite number, got \[1\]/,
    ],
    [
      'missing expAvgSq',
      'Adam',
      (s) => delete s['expAvgSq'],
      /state 0 is missing expAvgSq \(Adam keeps step, expAvg, expAvgSq, maxExpAvgSq\?\)/,
    ],
    ['missing step', 'AdamW', (s) => delete s['step'], /state 0 is missing step/],
    ['missing sum', 'Adagrad', (s) => delete s['sum'], /state 0 is missing sum/],
    ['missing expAvg', 'Lion', (s) => delete s['expAvg'], /state 0 is missing expAvg/],
    [
      'momentumBuffer: 3',
      'SGD',
      (s) => (s['momentumBuffer'] = 3),
      /state 0\.momentumBuffer must be an encoded float64 array, got 3/,
    ],
    [
      'squareAvg: null',
      'RMSprop',
      (s) => (s['squareAvg'] = null),
      /state 0\.squareAvg must be an encoded float64 array, got null/,
    ],
    [
      'buffer of the wrong length',
      'Adamax',
      (s) => (s['expInf'] = { dtype: 'float64', length: 1, base64: 'AAAAAAAAAAA=' }),
      /state 0\.expInf holds 1 float64 values/,
    ],
    [
      'buffer bytes short of its length',
      'Adam',
      (s) => (s['expAvg'] = { dtype: 'float64', length: 4, base64: 'AAAA' }),
      /encoded float64 array has 3 bytes, expected 32/,
    ],
    [
      'a key the optimizer does not use',
      'Lion',
      (s) => (s['exp_avg'] = 1),
      /state 0 has key exp_avg, which Lion does not use \(expected expAvg\)/,
    ],
    [
      'Adafactor rowVar of the wrong length',
      'Adafactor',
      (s) => (s['rowVar'] = { dtype: 'float64', length: 1, base64: 'AAAAAAAAAAA=' }),
      /Adafactor.loadStateDict: state 0.rowVar holds 1 values, but a parameter of shape \[2,2\] needs 2/,
    ],
    [
      'Adafactor variance on a matrix',
      'Adafactor',
      (s) => (s['variance'] = { dtype: 'float64', length: 4, base64: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' }),
      /state 0 has variance, but a parameter of shape \[2,2\] keeps rowVar and colVar/,
    ],
    ['Adafactor colVar missing', 'Adafactor', (s) => delete s['colVar'], /state 0 is missing colVar/],
    [
      'Adafactor rowVar of the wrong dtype',
      'Adafactor',
      (s) => (s['rowVar'] = { dtype: 'float32', length: 2, base64: 'AAAAAAAAAAA=' }),
      /state 0.rowVar must be an encoded float64 array/,
    ],
    [
      'ASGD mu = 0',
      'ASGD',
      (s) => (s['mu'] = 0),
      /ASGD.loadStateDict: state 0.mu must be an averaging weight in \(0, 1\], got 0/,
    ],
    ['ASGD eta < 0', 'ASGD', (s) => (s['eta'] = -1), /state 0.eta must be a non-negative step size, got -1/],
    ['Rprop missing stepSize', 'Rprop', (s) => delete s['stepSize'], /Rprop keeps step, prev, stepSize/],
  ];
  for (const [what, name, tamper, re] of rows) {
    it(`${name}: ${what}`, () => {
      const [, make, extra] = byName(name);
      const { opt, ps, sd } = trained(make, extra);
      const before = snapshot(opt, ps);
      tamper(sd.state['0'] as Record<string, unknown>);
      expect(() => opt.loadStateDict(sd)).toThrow(ValueError);
      expect(() => opt.loadStateDict(sd)).toThrow(re);
      expect(snapshot(opt, ps)).toBe(before);
    });
  }
  it('state that is not an object, and a state index out of range', () => {
    const { opt, sd } = trained(byName('SGD')[1], { momentum: 0.9 });
    expect(() => opt.loadStateDict({ ...sd, state: { '0': 5 as never } })).toThrow(
      /SGD.loadStateDict: state 0 must be an object, got 5/,
    );
    expect(() => opt.loadStateDict({ ...sd, state: { '7': {} } })).toThrow(
      /state for parameter index "7", but there are 2 parameters/,
    );
    expect(() => opt.loadStateDict({ ...sd, state: { '-0': {} } })).toThrow(/state for parameter index "-0"/);
  });

  const junk = fc.oneof(
    fc.integer({ min: -3, max: 3 }),
    fc.double(),
    fc.string({ maxLength: 3 }),
    fc.constant(null),
    fc.boolean(),
    fc.constantFrom({ $num: 'NaN' }, { $num: '-0' }, { $num: '-Infinity' }),
    fc.array(fc.integer(), { maxLength: 2 }),
    fc.record({
      dtype: fc.constantFrom('float32', 'float64'),
      length: fc.integer({ min: 0, max: 5 }),
      base64: fc.constantFrom('', 'AAAAAAAAAAA=', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='),
    }),
  );
  it('property: replacing or deleting any state key either loads and steps to finite values, or is a ValueError that changes nothing', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: all.length - 1 }),
        fc.nat(),
        fc.option(junk, { nil: undefined }),
        (oi, ki, value) => {
          const [, make, extra] = all[oi]!;
          const { opt, ps, sd } = trained(make, extra);
          const s = sd.state['0'] as Record<string, unknown> | undefined;
          if (s === undefined || Object.keys(s).length === 0) return;
          const key = Object.keys(s)[ki % Object.keys(s).length]!;
          if (value === undefined) delete s[key];
          else s[key] = value;
          const before = snapshot(opt, ps);
          try {
            opt.loadStateDict(sd);
          } catch (e) {
            expect(e).toBeInstanceOf(ValueError);
            expect(snapshot(opt, ps)).toBe(before);
            return;
          }
          opt.zeroGrad();
          lossOf(ps).backward();
          opt.step();
          for (const p of ps) for (const x of p.data) expect(Number.isFinite(x)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
