/**
 * loadCheckpoint is all-or-nothing for every target, and optimizer state inside a checkpoint file is
 * validated like a state dict (issue 10 items 10 and 11): a bad-input table plus rollback rows.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Generator,
  loadCheckpoint,
  nn,
  optim,
  saveCheckpoint,
  tensor,
  ValueError,
  type Tensor,
} from '../../src/index.js';
import { scratch } from './helpers.js';

const x = tensor([
  [1, -2],
  [0.5, 3],
]);
function setup(make: (ps: Tensor[]) => optim.Optimizer, steps = 2) {
  const model = new nn.Linear(2, 2);
  const opt = make(model.parameters());
  for (let k = 0; k < steps; k++) {
    opt.zeroGrad();
    model.forward(x).pow(2).sum().backward();
    opt.step();
  }
  return { model, opt };
}
const snap = (model: nn.Linear, opt: optim.Optimizer) =>
  JSON.stringify([opt.stateDict(), Object.entries(model.stateDict()).map(([k, t]) => [k, [...t.data]])]);
type Make = (ps: Tensor[]) => optim.Optimizer;
const adam: Make = (ps) => new optim.Adam(ps, { lr: 0.01 });
const sgd: Make = (ps) => new optim.SGD(ps, { lr: 0.01, momentum: 0.9 });

/** Saves a checkpoint whose optimizer state was tampered with after stateDict(). */
async function tampered(make: Make, tamper: (s: Record<string, unknown>) => void): Promise<string> {
  const { model, opt } = setup(make, 3);
  const sd = opt.stateDict();
  tamper(sd.state['0'] as Record<string, unknown>);
  opt.stateDict = () => sd;
  const path = join(await scratch(), 'ckpt.safetensors');
  await saveCheckpoint(path, { model, optimizer: opt, step: 3 });
  return path;
}

describe('optimizer state inside a checkpoint is validated, and nothing is restored when it is bad', () => {
  const rows: [string, Make, (s: Record<string, unknown>) => void, RegExp][] = [
    [
      'step = -1',
      adam,
      (s) => (s['step'] = -1),
      /Adam.loadStateDict: state 0\.step must be a non-negative integer, got -1/,
    ],
    ['step = 0.5', adam, (s) => (s['step'] = 0.5), /state 0\.step must be a non-negative integer, got 0\.5/],
    ['step = NaN', adam, (s) => (s['step'] = NaN), /state 0\.step must be a non-negative integer, got NaN/],
    ['missing expAvgSq', adam, (s) => delete s['expAvgSq'], /state 0 is missing expAvgSq/],
    [
      'momentumBuffer: 3',
      sgd,
      (s) => (s['momentumBuffer'] = 3),
      /SGD.loadStateDict: state 0\.momentumBuffer must be an encoded float32 array, got 3/,
    ],
    [
      'buffer of another dtype',
      adam,
      (s) => (s['expAvg'] = { dtype: 'float64', length: 4, base64: Buffer.alloc(32).toString('base64') }),
      /state 0\.expAvg holds 4 float64 values.*dtype float32/,
    ],
  ];
  for (const [what, make, tamper, re] of rows) {
    it(what, async () => {
      const path = await tampered(make, tamper);
      const { model, opt } = setup(make, 1);
      const before = snap(model, opt);
      const err = await loadCheckpoint(path, { model, optimizer: opt }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValueError);
      expect((err as Error).message).toMatch(re);
      expect(snap(model, opt)).toBe(before);
    });
  }
});

describe('loadCheckpoint is all-or-nothing for every target', () => {
  async function saved() {
    const { model, opt } = setup(adam, 3);
    const sched = new optim.StepLR(opt, { stepSize: 1, gamma: 0.5 });
    sched.step();
    const gen = new Generator(7);
    gen.uniform();
    const path = join(await scratch(), 'ckpt.safetensors');
    await saveCheckpoint(path, { model, optimizer: opt, scheduler: sched, generators: { data: gen }, step: 3 });
    return path;
  }
  function fresh() {
    const { model, opt } = setup(adam, 1);
    const gen = new Generator(1);
    const sched = new optim.StepLR(opt, { stepSize: 1, gamma: 0.5 });
    return { model, opt, gen, sched, before: snap(model, opt), genBefore: JSON.stringify(gen.getState()) };
  }

  it('a scheduler that refuses its state: the optimizer already restored is put back, the model untouched', async () => {
    const path = await saved();
    const { model, opt, gen, sched, before, genBefore } = fresh();
    sched.loadStateDict = () => {
      throw new ValueError('StepLR.loadStateDict: refused (test)');
    };
    await expect(
      loadCheckpoint(path, { model, optimizer: opt, scheduler: sched, generators: { data: gen } }),
    ).rejects.toThrow(/refused \(test\)/);
    expect(snap(model, opt)).toBe(before);
    expect(JSON.stringify(gen.getState())).toBe(genBefore);
  });

  it('a model that refuses its weights: optimizer, scheduler and generators are put back', async () => {
    const path = await saved();
    const { model, opt, gen, sched, before, genBefore } = fresh();
    const schedBefore = JSON.stringify(sched.stateDict());
    const lrBefore = opt.paramGroups[0]!.lr;
    model.loadStateDict = () => {
      throw new ValueError('Linear.loadStateDict: refused (test)');
    };
    await expect(
      loadCheckpoint(path, { model, optimizer: opt, scheduler: sched, generators: { data: gen } }),
    ).rejects.toThrow(/refused \(test\)/);
    expect(snap(model, opt)).toBe(before);
    expect(opt.paramGroups[0]!.lr).toBe(lrBefore);
    expect(JSON.stringify(sched.stateDict())).toBe(schedBefore);
    expect(JSON.stringify(gen.getState())).toBe(genBefore);
  });

  it('and when every target accepts, all of them are restored', async () => {
    const path = await saved();
    const { model, opt, gen, sched, before, genBefore } = fresh();
    await loadCheckpoint(path, { model, optimizer: opt, scheduler: sched, generators: { data: gen } });
    expect(snap(model, opt)).not.toBe(before);
    expect(JSON.stringify(gen.getState())).not.toBe(genBefore);
    expect(sched.lastEpoch).toBe(1);
  });
});
