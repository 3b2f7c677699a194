/**
 * Resident float32 storage in WebAssembly memory (src/backend/wasm/{pool,storage,resident}.ts):
 * the block pool, spilling under limits, release in backward, values equal with the switch on
 * and off, flat pool memory over a synchronous training loop, and `.data` views that never go stale.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { gelu, manualSeed, nn, optim, randn, sliceScatter, tensor, tuning, type Tensor } from '../../src/index.js';
import { BackendError, ValueError } from '../../src/errors.js';
import { BlockPool, classBytes, classOf } from '../../src/backend/wasm/pool.js';
import { residentAddress, type WasmBuffer } from '../../src/backend/wasm/storage.js';
import { memory, startThreads } from '../../src/backend/wasm/runtime.js';
import { PARALLEL_ELEMENTS } from '../../src/backend/wasm/resident.js';

const { setWasmMemoryLimits, wasmMemoryStats } = tuning;
// Small tensors keep the tests fast: let every float32 result of 64+ elements be resident.
beforeEach(() => {
  setWasmMemoryLimits({ resident: true, minResidentElements: 0 });
});
afterEach(() => {
  setWasmMemoryLimits('default');
});
const isResident = (t: Tensor): boolean => t.deviceBuffer?.device === 'wasm';
/** In a live block of wasm memory (not spilled). */
const inWasm = (t: Tensor): boolean => residentAddress(t) >= 0;

describe('block pool', () => {
  it('size classes are increasing 64-byte multiples that hold their requests, within 1.2× above 1 KiB', () => {
    for (let c = 1; c < 100; c++) expect(classBytes(c)).toBeGreaterThan(classBytes(c - 1));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (bytes) => {
        const c = classOf(bytes),
          size = classBytes(c);
        expect(size % 64).toBe(0);
        expect(size).toBeGreaterThanOrEqual(bytes);
        if (c > 0) expect(classBytes(c - 1)).toBeLessThan(bytes);
        if (bytes > 1024) expect(size).toBeLessThanOrEqual(bytes * 1.2 + 64);
      }),
    );
  });
  it('reuses freed blocks (also a little larger ones), grows only when none fits, refuses a double free', () => {
    const ends: number[] = [];
    const pool = new BlockPool(1024, (end) => ends.push(end), 1 << 20);
    const a = pool.take(1000),
      b = pool.take(5000);
    expect(a).toBe(1024);
    expect(b).toBe(1024 + classBytes(classOf(1000)));
    pool.give(a);
    expect(pool.take(900)).toBe(a); // same class
    pool.give(b);
    expect(pool.take(4500)).toBe(b); // one class smaller: takes the free 5000-byte block
    expect(pool.counters.blocksInUse).toBe(2);
    const carved = pool.counters.carved;
    pool.give(b);
    expect(pool.take(100_000)).toBeGreaterThan(b); // nothing that large is free: carved
    expect(pool.counters.carved).toBeGreaterThan(carved);
    expect(ends.length).toBe(3);
    expect(() => pool.give(b)).toThrow(BackendError);
    expect(() => pool.take(2 << 20)).toThrow(/does not fit/);
  });
});

describe('resident storage', () => {
  it('float32 kernel outputs are resident; float64 and int32 stay on the host', () => {
    const x = randn([8, 16]),
      y = randn([16]);
    expect(isResident(x.add(y))).toBe(true);
    expect(isResident(x.matmul(randn([16, 8])))).toBe(true);
    expect(isResident(x.softmax(-1))).toBe(true);
    expect(isResident(x.sum(0))).toBe(true);
    const d = randn([8, 16], { dtype: 'float64' });
    expect(d.add(d).deviceBuffer).toBeNull();
    expect(d.exp().deviceBuffer).toBeNull();
    const i = tensor(
      Array.from({ length: 128 }, (_, k) => k),
      { dtype: 'int32' },
    );
    expect(i.add(i).deviceBuffer).toBeNull();
    setWasmMemoryLimits({ resident: false });
    expect(x.add(y).deviceBuffer).toBeNull();
  });

  it('permute, slice, expand and sliceScatter of a resident tensor read it in place: resident results, equal to the host copy', () => {
    const shapes = fc
      .tuple(fc.integer({ min: 64, max: 70 }), fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 3 }))
      .map(([a, rest]) => [a, ...rest]);
    fc.assert(
      fc.property(shapes, fc.integer({ min: 0, max: 1000 }), (shape, seed) => {
        manualSeed(seed);
        const host = randn(shape),
          res = host.add(0);
        expect(isResident(res)).toBe(true);
        const perm = shape.map((_, i) => i).reverse();
        const cases: [Tensor, Tensor][] = [
          [host.permute(perm), res.permute(perm)],
          [host.slice(shape.map((d) => [d > 1 ? 1 : 0, d])), res.slice(shape.map((d) => [d > 1 ? 1 : 0, d]))],
          [host.unsqueeze(0).expand([3, ...shape]), res.unsqueeze(0).expand([3, ...shape])],
        ];
        const starts = shape.map((d) => (d > 2 ? 1 : 0)),
          steps = shape.map((d) => (d > 3 ? 2 : 1)),
          big = shape.map((d, i) => starts[i]! + (d - 1) * steps[i]! + 3);
        cases.push([sliceScatter(host, big, starts, steps), sliceScatter(res, big, starts, steps)]);
        for (const [h, r] of cases) {
          expect(isResident(r)).toBe(true);
          expect(r.shape).toEqual(h.shape);
          expect(new Uint32Array(r.data.slice().buffer)).toEqual(new Uint32Array(h.data.slice().buffer));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('by default small results stay on the host unless an input is resident', () => {
    setWasmMemoryLimits('default');
    const x = randn([8, 16]);
    expect(x.exp().deviceBuffer).toBeNull();
    const big = randn([128, 128]).exp();
    expect(isResident(big)).toBe(true);
    expect(isResident(big.sum(0))).toBe(true); // 128 values, but read in place from a resident input
  });

  it('`.data` views stay valid after later ops reuse the freed blocks', () => {
    const x = randn([64, 64]).add(0), // resident inputs: the ops below need no scratch
      y = randn([64, 64]).add(0);
    const a = x.mul(y);
    const v = a.reshape([4096]); // a second handle on the same block
    const addr = residentAddress(a);
    expect(addr).toBeGreaterThan(0);
    const d = a.data; // migrates a: a copy, and a's handle on the block is gone
    const snapshot = Float32Array.from(d);
    expect(a.deviceBuffer).toBeNull();
    expect(isResident(v)).toBe(true);
    const dv = v.data; // the last handle: the block goes back to the pool
    let reused = false;
    for (let k = 0; k < 20; k++) {
      const t = k % 2 ? x.add(y) : x.sub(y);
      reused ||= residentAddress(t) === addr;
      t.dispose();
    }
    expect(reused).toBe(true); // the block was handed out again…
    expect(Array.from(d)).toEqual(Array.from(snapshot)); // …and neither view saw it
    expect(Array.from(dv)).toEqual(Array.from(snapshot));
    expect(a.data).toBe(d);
    d[0] = 42; // a host tensor now: writes through .data are the tensor's own
    expect(a.data[0]).toBe(42);
  });

  it('a view read before the memory grows keeps its values, and kernels see the grown memory', () => {
    const a = randn([1000]).mul(3);
    const d = a.data;
    const snapshot = Array.from(d);
    const before = memory.buffer.byteLength;
    const big = randn([1 << 21]).add(1); // 8 MiB more: the pool grows the memory
    expect(memory.buffer.byteLength).toBeGreaterThan(before);
    expect(Array.from(d)).toEqual(snapshot);
    const s = big.sum().item();
    let ref = 0;
    for (const v of big.data) ref += v;
    expect(Math.abs(s - ref) / ref).toBeLessThan(1e-5);
  });

  it('the garbage collector returns the blocks of dropped tensors once the event loop turns', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const x = randn([4096]);
    const f0 = wasmMemoryStats().finalized;
    (() => {
      for (let k = 0; k < 50; k++) x.mul(k);
    })();
    for (let k = 0; k < 20 && wasmMemoryStats().finalized - f0 < 50; k++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(wasmMemoryStats().finalized - f0).toBeGreaterThanOrEqual(50);
  });

  it('spills least recently used blocks past the limits; spilled tensors keep their values', () => {
    setWasmMemoryLimits({ maxBlocks: 4 });
    const x = randn([256]);
    const before = wasmMemoryStats().spilled;
    const held = Array.from({ length: 12 }, (_, k) => x.mul(k));
    const s = wasmMemoryStats();
    expect(s.residentBlocks).toBeLessThanOrEqual(4);
    expect(s.spilled - before).toBeGreaterThanOrEqual(8);
    expect(isResident(held[11]!)).toBe(true);
    const xd = x.data;
    held.forEach((t, k) => expect(Array.from(t.data)).toEqual(Array.from(xd, (v) => Math.fround(v * k))));
    // a spilled input still feeds a kernel (copied in)
    expect(Array.from(held[0]!.add(held[1]!).data)).toEqual(Array.from(xd, (v) => Math.fround(v)));
    setWasmMemoryLimits({ maxBytes: 0 });
    expect(wasmMemoryStats().residentBlocks).toBe(0);
  });

  it('a spilled tensor feeds kernels in place and comes back into wasm memory on its second use', () => {
    setWasmMemoryLimits({ maxBlocks: 2 });
    const base = randn([4096]);
    const xs = Array.from(base.data);
    const x = base.add(0),
      z = randn([4096]).add(0);
    expect(isResident(x)).toBe(true);
    for (let k = 0; k < 3; k++) void z.mul(k); // dead results push x out of the set
    expect(x.deviceBuffer).not.toBeNull();
    expect(inWasm(x)).toBe(false);
    const r0 = wasmMemoryStats().restored;
    const once = x.mul(2); // read in place: not migrated to the host, not restored yet
    expect(x.deviceBuffer).not.toBeNull();
    expect(wasmMemoryStats().restored - r0).toBe(0);
    const twice = x.mul(3); // the second read restores it
    expect(wasmMemoryStats().restored - r0).toBe(1);
    expect(inWasm(x)).toBe(true);
    expect(Array.from(once.data)).toEqual(xs.map((v) => Math.fround(v * 2)));
    expect(Array.from(twice.data)).toEqual(xs.map((v) => Math.fround(v * 3)));
    expect(Array.from(x.data)).toEqual(xs);
    // A spilled block whose array was handed out (read() by its only handle) is never restored.
    const y = randn([4096]).add(0);
    for (let k = 0; k < 3; k++) void z.mul(k);
    expect(inWasm(y)).toBe(false);
    const h = y.deviceBuffer as WasmBuffer;
    const yd = h.read();
    expect(h.source()).toBe(yd);
    expect(h.source()).toBe(yd);
    expect(h.read()).toBe(yd);
  });

  it('nn.Linear keeps one resident block per output: the product before the bias is released at once', () => {
    const lin = new nn.Linear(64, 192);
    for (const shape of [
      [512, 64],
      [16, 32, 64],
    ]) {
      const x = randn(shape).add(0).requiresGrad_();
      const s0 = wasmMemoryStats();
      const y = lin.forward(x);
      const s1 = wasmMemoryStats();
      expect(s1.residentBlocks - s0.residentBlocks).toBe(1);
      expect(isResident(y)).toBe(true);
      // the gradients are those of the composite x·Wᵀ + b
      const gy = randn(y.shape);
      y.backward(gy);
      const g2 = (a: Tensor) => a.reshape([-1, a.shape.at(-1)!]);
      const wantW = g2(gy).matmul(g2(x.detach()), { transA: true }),
        wantB = g2(gy).sum(0);
      expect(Array.from(lin.weight.grad!.data)).toEqual(Array.from(wantW.data));
      expect(Array.from(lin.bias!.grad!.data)).toEqual(Array.from(wantB.data));
      expect(Array.from(x.grad!.data)).toEqual(Array.from(gy.matmul(lin.weight.detach()).data));
      lin.zeroGrad();
    }
  });

  it('backward releases the resident buffers it creates, except the gradients it hands out', () => {
    const w = randn([32, 32]).requiresGrad_();
    const x = randn([16, 32]);
    const loss = gelu(x.matmul(w)).softmax(-1).mul(x.sum(1, true)).sum();
    const s0 = wasmMemoryStats();
    loss.backward();
    const s1 = wasmMemoryStats();
    expect(s1.released - s0.released).toBeGreaterThanOrEqual(4);
    expect(w.grad).not.toBeNull();
    expect(w.grad!.data.length).toBe(32 * 32); // the kept gradient is readable
    expect(() => {
      const t = x.add(1);
      t.deviceBuffer!.dispose();
      return t.data;
    }).toThrow(BackendError);
  });

  it('refuses bad limits', () => {
    expect(() => setWasmMemoryLimits({ maxBlocks: -1 })).toThrow(ValueError);
    expect(() => setWasmMemoryLimits({ maxBytes: 1.5 })).toThrow(/non-negative integer/);
    expect(() => setWasmMemoryLimits({ minResidentElements: Number.NaN })).toThrow(/minResidentElements/);
    expect(() => setWasmMemoryLimits({ resident: 1 as unknown as boolean })).toThrow(/boolean/);
    expect(() => setWasmMemoryLimits({ maxBlock: 3 } as never)).toThrow(/unknown option 'maxBlock'/);
  });
});

describe('values with residency on and off', () => {
  const run = (on: boolean, f: () => Tensor): number[] => {
    setWasmMemoryLimits({ resident: on, minResidentElements: 0 });
    try {
      return Array.from(f().data);
    } finally {
      setWasmMemoryLimits({ resident: true });
    }
  };
  it('are bitwise equal for chains of elementwise, reductions, softmax, GELU and matmul (fwd and bwd)', () => {
    const dims = fc.integer({ min: 1, max: 40 });
    fc.assert(
      fc.property(dims, dims, dims, fc.integer({ min: 0, max: 1e6 }), fc.boolean(), (m, k, n, seed, tanh) => {
        const chain = (): Tensor => {
          manualSeed(seed);
          const a = randn([m, k]).requiresGrad_(),
            b = randn([k, n]).requiresGrad_(),
            c = randn([n]),
            r = randn([m, 1]);
          const h = gelu(a.matmul(b).add(c).mul(r), tanh ? 'tanh' : 'none');
          const y = h.softmax(-1).add(h.logSoftmax(-1).exp()).sub(h.relu().sqrt()).div(h.abs().add(1));
          const loss = y.sum(0).sum().add(y.sum(1).sigmoid().sum());
          loss.backward();
          return a.grad!.reshape([-1]).add(b.grad!.sum(0).sum()).add(loss);
        };
        expect(run(true, chain)).toEqual(run(false, chain));
      }),
      { numRuns: 40 },
    );
  });
});

describe('a synchronous training loop without tidy or dispose', () => {
  it('holds the pool flat over 2,000 steps', () => {
    manualSeed(3);
    setWasmMemoryLimits({ maxBlocks: 256 });
    const model = new nn.Sequential(new nn.Linear(32, 64), new nn.GELU(), new nn.Linear(64, 10));
    const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
    const x = randn([16, 32]);
    const target = Array.from({ length: 16 }, (_, i) => i % 10);
    const carved: number[] = [];
    let first = 0,
      last = 0;
    for (let step = 0; step < 2000; step++) {
      opt.zeroGrad();
      const loss = nn.crossEntropy(model.forward(x), target);
      loss.backward();
      opt.step();
      if (step === 0) first = loss.item();
      last = loss.item();
      if (step % 200 === 199) carved.push(wasmMemoryStats().poolCarvedBytes);
    }
    const s = wasmMemoryStats();
    expect(s.residentBlocks).toBeLessThanOrEqual(256);
    expect(s.created).toBeGreaterThan(2000 * 4); // the loop did run resident
    expect(new Set(carved.slice(1)).size).toBe(1); // no growth after the first 400 steps
    expect(last).toBeLessThan(first);
  });
});

describe('large resident elementwise ops and GELU split across threads', () => {
  afterEach(() => tuning.setNumThreads(2));
  it('are bitwise equal for 1 and 2 threads and equal to the host values (same shape, scalar, rows, columns)', () => {
    manualSeed(7);
    const n = PARALLEL_ELEMENTS + 1237; // not a multiple of a task: a ragged last task and a scalar tail
    const x = randn([n]).add(0),
      y = randn([n]).add(0).abs().add(0.5);
    const m = randn([3 * 97, 1031]).add(0),
      row = randn([1031]),
      col = randn([3 * 97, 1]);
    const cases: [string, () => Tensor][] = [
      ['add', () => x.add(y)],
      ['div', () => x.div(y)],
      ['maximum', () => x.maximum(y)],
      ['gt', () => x.gt(y)],
      ['scalar mul', () => x.mul(1.7)],
      ['scalar rsub', () => tensor(2).sub(x)],
      ['row bias', () => m.add(row)],
      ['column scale', () => m.mul(col)],
      ['exp', () => x.exp()],
      ['sigmoid', () => x.sigmoid()],
      ['neg', () => x.neg()],
      ['gelu', () => gelu(x)],
      ['gelu tanh', () => gelu(x, 'tanh')],
      [
        'gelu backward',
        () => {
          const v = x.detach().requiresGrad_();
          gelu(v).backward(y);
          return v.grad!;
        },
      ],
    ];
    const run = (threads: number, resident = true): Float32Array[] => {
      tuning.setNumThreads(threads);
      if (threads > 1) expect(startThreads(20_000)).toBe(threads);
      return cases.map(([name, f]) => {
        const r = f();
        expect(isResident(r), name).toBe(resident);
        return Float32Array.from(r.data as Float32Array);
      });
    };
    const one = run(1),
      two = run(2);
    setWasmMemoryLimits({ resident: false });
    const host = run(1, false);
    cases.forEach(([name], i) => {
      expect(Buffer.from(two[i]!.buffer).equals(Buffer.from(one[i]!.buffer)), name).toBe(true);
      expect(Buffer.from(host[i]!.buffer).equals(Buffer.from(one[i]!.buffer)), name).toBe(true);
    });
  });
});
