import { spawn } from 'node:child_process';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  FormatError,
  Generator,
  getRngState,
  loadCheckpoint,
  loadSafetensors,
  manualSeed,
  nn,
  optim,
  randn,
  readSafetensorsHeader,
  saveCheckpoint,
  saveSafetensors,
  setRngState,
  Tensor,
  tensor,
  ValueError,
  zeros,
} from '../../src/index.js';
import { bytesOf, expectSameTensor, formatErrorAsync, scratch, tempFiles } from './helpers.js';

/** A stand-in model implementing the structural interface (plain object, no nn). */
class TinyModel {
  w = tensor([
    [0.1, -0.2],
    [0.3, 0.4],
  ]);
  b = tensor([0.5, -0.5], { dtype: 'float64' });
  loaded: { strict?: boolean } | undefined;
  stateDict(): Record<string, Tensor> {
    return { 'layer.weight': this.w, 'layer.bias': this.b };
  }
  loadStateDict(sd: Record<string, Tensor>, opts: { strict?: boolean } = {}): void {
    this.loaded = opts;
    if (sd['layer.weight']) this.w.data.set(sd['layer.weight'].data);
    if (sd['layer.bias']) this.b.data.set(sd['layer.bias'].data);
  }
}

/** A stand-in optimizer whose state exercises everything the encoder handles. */
class FakeOptimizer {
  state: Record<string, unknown>;
  loaded: unknown;
  constructor(seed: number) {
    const g = new Generator(seed);
    this.state = {
      step: 7,
      lr: 0.001,
      betas: [0.9, 0.999],
      m: Float32Array.from({ length: 300 }, () => g.uniform() - 0.5),
      v: new Tensor(
        Float64Array.from({ length: 300 }, () => g.uniform() / 3),
        [3, 100],
      ),
      counts: Int32Array.from([1, -2, 3]),
      history: Array.from({ length: 200 }, () => g.uniform() * 1e-7), // stored as F64, exact
      specials: [NaN, -0, Infinity, -Infinity, 5e-324, 0.1 + 0.2, 1 / 3, Math.fround(0.1)],
      $dollar: { $$double: 'kept', plain: null },
      nested: { deep: [{ flag: true, name: 'x' }, []], empty: {} },
      base64buf: {
        dtype: 'float32',
        length: 3,
        base64: Buffer.from(new Float32Array([1.5, NaN, -0]).buffer).toString('base64'),
      },
    };
  }
  stateDict(): unknown {
    return this.state;
  }
  loadStateDict(s: unknown): void {
    this.loaded = s;
  }
}

class FakeScheduler {
  epoch = 3;
  stateDict(): unknown {
    return { epoch: this.epoch, lrs: [0.1, 0.01] };
  }
  loadStateDict(s: unknown): void {
    this.epoch = (s as { epoch: number }).epoch;
  }
}

/** Deep equality where numbers compare with Object.is and typed arrays / tensors by bytes. */
function expectSameState(a: unknown, b: unknown, path = '$'): void {
  if (b instanceof Tensor) {
    expect(a, path).toBeInstanceOf(Tensor);
    expectSameTensor(a as Tensor, b);
  } else if (ArrayBuffer.isView(b)) {
    expect(Object.getPrototypeOf(a), path).toBe(Object.getPrototypeOf(b));
    const x = a as Float32Array;
    expect(new Uint8Array(x.buffer, x.byteOffset, x.byteLength), path).toEqual(
      new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
    );
  } else if (Array.isArray(b)) {
    expect(Array.isArray(a), path).toBe(true);
    expect((a as unknown[]).length, path).toBe(b.length);
    b.forEach((x, i) => expectSameState((a as unknown[])[i], x, `${path}[${i}]`));
  } else if (typeof b === 'object' && b !== null) {
    expect(Object.keys(a as object).sort(), path).toEqual(Object.keys(b).sort());
    for (const [k, v] of Object.entries(b)) expectSameState((a as Record<string, unknown>)[k], v, `${path}.${k}`);
  } else {
    expect(Object.is(a, b), `${path}: ${String(a)} vs ${String(b)}`).toBe(true);
  }
}

describe('checkpoints: round trip', () => {
  it('restores model, optimizer, scheduler, step, extra and RNG state exactly', async () => {
    const dir = await scratch();
    const p = join(dir, 'ckpt.safetensors');
    const model = new TinyModel();
    const opt = new FakeOptimizer(1);
    const sched = new FakeScheduler();
    manualSeed(1234);
    randn([17]); // advance the global RNG to a non-trivial offset
    const extra = {
      bestAcc: 0.93,
      note: 'epoch 3',
      curve: Float64Array.from([1, 0.5, 0.25]),
      t: tensor([1, 2], { dtype: 'int32' }),
    };
    await saveCheckpoint(p, { model, optimizer: opt, scheduler: sched, step: 42, extra });
    const next = randn([5]).toArray();

    // A fresh run: different weights, empty optimizer, a different RNG position.
    const model2 = new TinyModel();
    model2.w.data.fill(0);
    model2.b.data.fill(0);
    const opt2 = new FakeOptimizer(2);
    const sched2 = new FakeScheduler();
    sched2.epoch = 0;
    manualSeed(99);
    const res = await loadCheckpoint(p, { model: model2, optimizer: opt2, scheduler: sched2 });

    expect(res.step).toBe(42);
    expect(res.rng).toEqual({ seed: 1234, offset: expect.any(Number) });
    expectSameState(res.extra, extra);
    expectSameTensor(model2.w, model.w);
    expectSameTensor(model2.b, model.b);
    expect(model2.loaded).toEqual({ strict: true });
    expectSameState(opt2.loaded, opt.state);
    expect(sched2.epoch).toBe(3);
    expect(randn([5]).toArray()).toEqual(next); // RNG restored
  });

  it('the file is a valid safetensors file whose weights keep their names; bulk state is binary', async () => {
    const dir = await scratch();
    const p = join(dir, 'ckpt.safetensors');
    await saveCheckpoint(p, { model: new TinyModel(), optimizer: new FakeOptimizer(1) });
    const all = await loadSafetensors(p);
    expect(all['layer.weight']).toBeInstanceOf(Tensor);
    expect(all['layer.bias']!.dtype).toBe('float64');
    const stateNames = Object.keys(all).filter((k) => k.startsWith('__state__/'));
    expect(stateNames.length).toBe(5); // m, v, counts, history, base64buf
    // The JSON header stays small: the 300-element arrays are not in it.
    const n = Number(new DataView((await readFile(p)).buffer).getBigUint64(0, true));
    expect(n).toBeLessThan(2000);
  });

  it('restores named generators, and can skip the global RNG', async () => {
    const dir = await scratch();
    const p = join(dir, 'ckpt.safetensors');
    const g = new Generator(5);
    g.uniform();
    await saveCheckpoint(p, { model: new TinyModel(), rng: false, generators: { loader: g } });
    const expected = g.uniform();
    const g2 = new Generator(0);
    manualSeed(77);
    const before = getRngState();
    const res = await loadCheckpoint(p, { model: new TinyModel(), generators: { loader: g2 } });
    expect(res.rng).toBeUndefined();
    expect(getRngState()).toEqual(before);
    expect(g2.uniform()).toBe(expected);
    // restoreRng: false leaves the global generator alone
    await saveCheckpoint(p, { model: new TinyModel(), rng: { seed: 3, offset: 10 } });
    await loadCheckpoint(p, { model: new TinyModel() }, { restoreRng: false });
    expect(getRngState()).toEqual(before);
    await loadCheckpoint(p, { model: new TinyModel() });
    expect(getRngState()).toEqual({ seed: 3, offset: 10 });
  });

  it('shared tensors stay shared; empty and 0-d tensors survive', async () => {
    const dir = await scratch();
    const p = join(dir, 'ckpt.safetensors');
    const shared = tensor([1, 2, 3]);
    const opt = {
      s: { a: shared, b: shared, e: zeros([0]), z: tensor(5) },
      stateDict() {
        return this.s;
      },
      loaded: undefined as unknown,
      loadStateDict(x: unknown) {
        this.loaded = x;
      },
    };
    await saveCheckpoint(p, { model: new TinyModel(), optimizer: opt });
    const opt2 = { ...opt, loaded: undefined as unknown };
    await loadCheckpoint(p, { model: new TinyModel(), optimizer: opt2 });
    const l = opt2.loaded as Record<string, Tensor>;
    expect(l['a']).toBe(l['b']);
    expectSameState(l, opt.s);
  });
});

describe('checkpoints: strictness and the wrong kind of file', () => {
  async function saved(): Promise<string> {
    const dir = await scratch();
    const p = join(dir, 'ckpt.safetensors');
    await saveCheckpoint(p, { model: new TinyModel(), optimizer: new FakeOptimizer(1), step: 3 });
    return p;
  }

  it('strict: weights must match the model by name, shape and dtype', async () => {
    const p = await saved();
    class Bigger extends TinyModel {
      extra = tensor([1]);
      override stateDict(): Record<string, Tensor> {
        return { ...super.stateDict(), 'layer2.weight': this.extra };
      }
    }
    const e = await formatErrorAsync(loadCheckpoint(p, { model: new Bigger() }));
    expect(e.message).toMatch(
      /ckpt\.safetensors: weights do not match the model \(strict\): missing from the checkpoint: "layer2.weight"/,
    );
    class Smaller extends TinyModel {
      override stateDict(): Record<string, Tensor> {
        return { 'layer.weight': this.w };
      }
    }
    expect((await formatErrorAsync(loadCheckpoint(p, { model: new Smaller() }))).message).toMatch(
      /not in the model: "layer.bias"/,
    );
    // non-strict loads what matches
    const m = new Bigger();
    m.w.data.fill(0);
    await loadCheckpoint(p, { model: m }, { strict: false });
    expect(m.loaded).toEqual({ strict: false });
    expect(m.w.toArray()).toEqual(new TinyModel().w.toArray());
    class Reshaped extends TinyModel {
      override stateDict(): Record<string, Tensor> {
        return { 'layer.weight': zeros([4]), 'layer.bias': this.b };
      }
    }
    const e2 = await formatErrorAsync(loadCheckpoint(p, { model: new Reshaped() }, { strict: false }));
    expect(e2.message).toMatch(/tensor "layer.weight": has shape \[2,2\] in the checkpoint but \[4\] in the model/);
    class Retyped extends TinyModel {
      override stateDict(): Record<string, Tensor> {
        return { 'layer.weight': this.w, 'layer.bias': zeros([2]) };
      }
    }
    expect((await formatErrorAsync(loadCheckpoint(p, { model: new Retyped() }))).message).toMatch(
      /tensor "layer.bias": is F64 in the checkpoint but float32 in the model/,
    );
  });

  it('optimizer and scheduler state must exist and be of the same kind (strict)', async () => {
    const p = await saved();
    class OtherOptimizer extends FakeOptimizer {}
    expect(
      (await formatErrorAsync(loadCheckpoint(p, { model: new TinyModel(), optimizer: new OtherOptimizer(0) }))).message,
    ).toMatch(/optimizer state was saved from FakeOptimizer and cannot be loaded into OtherOptimizer/);
    expect(
      (await formatErrorAsync(loadCheckpoint(p, { model: new TinyModel(), scheduler: new FakeScheduler() }))).message,
    ).toMatch(/has no scheduler state, but a scheduler was given/);
    expect(
      (await formatErrorAsync(loadCheckpoint(p, { model: new TinyModel(), generators: { g: new Generator(1) } })))
        .message,
    ).toMatch(/has no state for generator "g"/);
    const s = new FakeScheduler();
    await loadCheckpoint(p, { model: new TinyModel(), scheduler: s }, { strict: false });
    expect(s.epoch).toBe(3);
  });

  it('nothing is restored when validation fails', async () => {
    const p = await saved();
    class OtherOptimizer extends FakeOptimizer {}
    const m = new TinyModel();
    m.w.data.fill(9);
    manualSeed(8);
    const rng = getRngState();
    await expect(loadCheckpoint(p, { model: m, optimizer: new OtherOptimizer(0) })).rejects.toThrow(FormatError);
    expect([...m.w.data]).toEqual([9, 9, 9, 9]);
    expect(m.loaded).toBeUndefined();
    expect(getRngState()).toEqual(rng);
  });

  it('a plain safetensors file, another tapegrad file, or a future version is rejected clearly', async () => {
    const dir = await scratch();
    const p = join(dir, 'weights.safetensors');
    await saveSafetensors(p, new TinyModel().stateDict());
    expect((await formatErrorAsync(loadCheckpoint(p, { model: new TinyModel() }))).message).toMatch(
      /weights\.safetensors: is a safetensors file but not a tapegrad checkpoint .*loadSafetensors/,
    );
    await saveSafetensors(p, {}, { 'tapegrad.format': 'dataset' });
    expect((await formatErrorAsync(loadCheckpoint(p, { model: new TinyModel() }))).message).toMatch(
      /is a tapegrad "dataset" file, not a checkpoint/,
    );
    await saveSafetensors(p, new TinyModel().stateDict(), {
      'tapegrad.format': 'checkpoint',
      'tapegrad.version': '2',
      'tapegrad.state': '{"step":0}',
    });
    expect((await formatErrorAsync(loadCheckpoint(p, { model: new TinyModel() }))).message).toMatch(
      /checkpoint format version "2" is not supported \(this tapegrad reads version 1\)/,
    );
    const bad = (state: string) =>
      saveSafetensors(p, new TinyModel().stateDict(), {
        'tapegrad.format': 'checkpoint',
        'tapegrad.version': '1',
        'tapegrad.state': state,
      });
    await bad('{"step":');
    expect((await formatErrorAsync(loadCheckpoint(p, { model: new TinyModel() }))).message).toMatch(
      /checkpoint state .* is not valid JSON/,
    );
    await bad('{"step":-1}');
    expect((await formatErrorAsync(loadCheckpoint(p, { model: new TinyModel() }))).message).toMatch(
      /"step" must be a non-negative integer/,
    );
    await bad('{"step":1,"rng":{"seed":"x"}}');
    expect((await formatErrorAsync(loadCheckpoint(p, { model: new TinyModel() }))).message).toMatch(
      /"rng" must be \{ seed, offset \}/,
    );
    await bad('{"step":1,"optimizer":{"kind":"FakeOptimizer","state":{"m":{"$tensor":"__state__/nope"}}}}');
    expect(
      (await formatErrorAsync(loadCheckpoint(p, { model: new TinyModel(), optimizer: new FakeOptimizer(0) }))).message,
    ).toMatch(/state at m refers to tensor "__state__\/nope", which the file does not contain/);
    await bad('{"step":1,"extra":{"$eval":"x"}}');
    expect((await formatErrorAsync(loadCheckpoint(p, { model: new TinyModel() }))).message).toMatch(
      /unknown marker "\$eval"/,
    );
    await bad('{"step":1,"extra":{"$num":"1e999"}}');
    expect((await formatErrorAsync(loadCheckpoint(p, { model: new TinyModel() }))).message).toMatch(
      /invalid number marker/,
    );
    // a truncated checkpoint is a FormatError from the safetensors layer
    const good = join(dir, 'good.safetensors');
    await saveCheckpoint(good, { model: new TinyModel() });
    const bytes = await readFile(good);
    await saveSafetensors(p, {});
    const { writeFile } = await import('node:fs/promises');
    await writeFile(p, bytes.subarray(0, bytes.length - 1));
    expect((await formatErrorAsync(loadCheckpoint(p, { model: new TinyModel() }))).message).toMatch(
      /^loadCheckpoint: .*weights\.safetensors: /,
    );
  });

  it('state that cannot be saved is a ValueError naming where it is', async () => {
    const dir = await scratch();
    const p = join(dir, 'c.safetensors');
    const opt = (s: unknown) => ({ stateDict: () => s, loadStateDict: () => undefined });
    await expect(
      saveCheckpoint(p, { model: new TinyModel(), optimizer: opt({ a: { b: new Map() } }) }),
    ).rejects.toThrow(/optimizer state at a\.b is a Map, which cannot be saved/);
    await expect(saveCheckpoint(p, { model: new TinyModel(), optimizer: opt({ n: 10n }) })).rejects.toThrow(
      /optimizer state at n is a bigint/,
    );
    await expect(saveCheckpoint(p, { model: new TinyModel(), optimizer: opt([() => 1]) })).rejects.toThrow(
      /optimizer state at \[0\] is a function/,
    );
    await expect(saveCheckpoint(p, { model: new TinyModel(), optimizer: opt(new Uint8Array(2)) })).rejects.toThrow(
      /is a Uint8Array/,
    );
    const cyc: Record<string, unknown> = {};
    cyc['self'] = cyc;
    await expect(saveCheckpoint(p, { model: new TinyModel(), extra: cyc })).rejects.toThrow(
      /extra state at self refers back to itself/,
    );
    await expect(saveCheckpoint(p, { model: new TinyModel(), step: 1.5 })).rejects.toThrow(
      /step must be a non-negative integer/,
    );
    await expect(saveCheckpoint(p, { model: {} as TinyModel })).rejects.toThrow(ValueError);
    await expect(
      saveCheckpoint(p, {
        model: { stateDict: () => ({ '__state__/x': tensor([1]) }), loadStateDict: () => undefined },
      }),
    ).rejects.toThrow(/reserve/);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('checkpoints: atomicity', () => {
  it('a failing save keeps the previous checkpoint and leaves no temp file', async () => {
    const dir = await scratch();
    const p = join(dir, 'ckpt.safetensors');
    await saveCheckpoint(p, { model: new TinyModel(), step: 1 });
    const before = await readFile(p);
    const broken = new TinyModel();
    Object.defineProperty(broken.w, 'data', {
      get() {
        throw new Error('read-back failed');
      },
    });
    await expect(saveCheckpoint(p, { model: broken, step: 2 })).rejects.toThrow('read-back failed');
    const throwing = {
      stateDict: () => {
        throw new Error('optimizer exploded');
      },
      loadStateDict: () => undefined,
    };
    await expect(saveCheckpoint(p, { model: new TinyModel(), optimizer: throwing, step: 2 })).rejects.toThrow(
      'optimizer exploded',
    );
    expect(await readFile(p)).toEqual(before);
    expect(await tempFiles(dir)).toEqual([]);
    expect((await loadCheckpoint(p, { model: new TinyModel() })).step).toBe(1);
  });

  it('a process killed mid-write leaves the previous checkpoint in place', async () => {
    const dir = await scratch();
    const p = join(dir, 'ckpt.safetensors');
    await saveCheckpoint(p, { model: new TinyModel(), step: 5 });
    const before = await readFile(p);
    const script = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, p], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('mid-write')) resolve();
      });
    });
    child.removeAllListeners('exit');
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    expect(await readFile(p)).toEqual(before);
    expect((await loadCheckpoint(p, { model: new TinyModel() })).step).toBe(5);
    // The killed writer's temp file is the only leftover: hidden, named after the target, ending .tmp.
    const leftovers = await tempFiles(dir);
    expect(leftovers.length).toBe(1);
    expect(leftovers[0]).toMatch(/^\.ckpt\.safetensors\..*\.tmp$/);
    await unlink(join(dir, leftovers[0]!));
  });
});

describe('checkpoints: resuming training with nn and optim', () => {
  const data = () => {
    const g = new Generator(11);
    return { x: randn([16, 4], { generator: g }), y: randn([16, 1], { generator: g }) };
  };
  const build = (seed: number) => {
    manualSeed(seed);
    const model = new nn.Sequential(new nn.Linear(4, 8), new nn.Tanh(), new nn.Dropout(0.25), new nn.Linear(8, 1));
    const opt = new optim.Adam(model.parameters(), { lr: 0.01, weightDecay: 0.01, amsgrad: true });
    const sched = new StepDecay(opt);
    return { model, opt, sched };
  };
  class StepDecay {
    count = 0;
    constructor(private readonly opt: optim.Adam) {}
    step(): void {
      this.count++;
      if (this.count % 3 === 0) this.opt.paramGroups[0]!.lr *= 0.5;
    }
    stateDict(): unknown {
      return { count: this.count, lr: this.opt.paramGroups[0]!.lr };
    }
    loadStateDict(s: unknown): void {
      const st = s as { count: number; lr: number };
      this.count = st.count;
      this.opt.paramGroups[0]!.lr = st.lr;
    }
  }
  const train = (t: ReturnType<typeof build>, from: number, to: number) => {
    const { x, y } = data();
    for (let i = from; i < to; i++) {
      // Mini-batch indices drawn from the global RNG, plus Dropout's masks: RNG state matters.
      const idx = randn([8]).abs().mul(3).toArray() as number[];
      const rows = idx.map((v) => Math.min(15, Math.floor(v)));
      const xb = x.indexSelect(0, rows),
        yb = y.indexSelect(0, rows);
      t.opt.zeroGrad();
      nn.mseLoss(t.model.forward(xb), yb).backward();
      t.opt.step();
      t.sched.step();
    }
  };

  it('reproduces the uninterrupted run bit for bit', async () => {
    const straight = build(0);
    train(straight, 0, 10);

    const first = build(0);
    train(first, 0, 4);
    const dir = await scratch();
    const p = join(dir, 'resume.safetensors');
    await saveCheckpoint(p, { model: first.model, optimizer: first.opt, scheduler: first.sched, step: 4 });

    const resumed = build(999); // different init, fresh optimizer, RNG elsewhere
    const { step } = await loadCheckpoint(p, {
      model: resumed.model,
      optimizer: resumed.opt,
      scheduler: resumed.sched,
    });
    expect(step).toBe(4);
    train(resumed, step, 10);

    const a = straight.model.stateDict(),
      b = resumed.model.stateDict();
    expect(Object.keys(b)).toEqual(Object.keys(a));
    for (const k of Object.keys(a)) expect(bytesOf(b[k]!), k).toEqual(bytesOf(a[k]!));
    expect(JSON.stringify(resumed.opt.stateDict())).toBe(JSON.stringify(straight.opt.stateDict()));
    // Adam's buffers went into the binary section, not the JSON header.
    const header = await readSafetensorsHeader(p);
    expect(header.tensors.filter((e) => e.name.startsWith('__state__/optimizer/')).length).toBe(12); // 4 params × (m, v, vmax)
    expect(header.headerBytes).toBeLessThan(4000);

    // Controls, so the test can fail: leaving out the RNG or the optimizer state changes the result.
    const noRng = build(999);
    await loadCheckpoint(
      p,
      { model: noRng.model, optimizer: noRng.opt, scheduler: noRng.sched },
      { restoreRng: false },
    );
    train(noRng, 4, 10);
    expect(bytesOf(noRng.model.stateDict()['0.weight']!)).not.toEqual(bytesOf(a['0.weight']!));
    const noOpt = build(999);
    await loadCheckpoint(p, { model: noOpt.model, scheduler: noOpt.sched });
    train(noOpt, 4, 10);
    expect(bytesOf(noOpt.model.stateDict()['0.weight']!)).not.toEqual(bytesOf(a['0.weight']!));
    setRngState({ seed: 0, offset: 0 });
  });
});
