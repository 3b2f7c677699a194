/**
 * Nothing silent (issue 10): one row per bad input and its neighbours, each expecting a named
 * TapegradError subclass and a message fragment naming the op, the argument and the expectation.
 * (Optimizer options, closures and state: test/optim/bad-inputs.test.ts.)
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AutogradError,
  BackendError,
  DTypeError,
  FormatError,
  IndexError,
  ShapeError,
  TapegradError,
  ValueError,
  arange,
  binaryCrossEntropyWithLogits,
  concat,
  decodeSafetensors,
  detectAnomaly,
  encodeSafetensors,
  full,
  gather,
  gradcheck,
  isfinite,
  isinf,
  isnan,
  linspace,
  loadSafetensors,
  manualSeed,
  matmul,
  nn,
  ones,
  optim,
  pad,
  rand,
  randint,
  sliceScatter,
  randn,
  saveSafetensors,
  scatterAdd,
  setDetectAnomaly,
  softplus,
  stack,
  tensor,
  tuning,
  where,
  zeros,
  DataLoader,
  Tensor,
} from '../src/index.js';

const { setCpuKernels, setGpuMemoryLimits, setGpuThresholds, setNumThreads, setWasmThresholds } = tuning;
import * as init from '../src/nn/init.js';
import { planAlloc, MAX_PAGES } from '../src/backend/wasm/runtime.js';
import { removeOrphanTemps } from '../src/io/atomic.js';

type Cls = new (...args: never[]) => TapegradError;
const x2 = () => ones([2, 3]);
/** [case, thunk, error class, message fragment] */
const rows: [string, () => unknown, Cls, string | RegExp][] = [
  // 3. index checks happen before Int32Array.from, for every container
  ['crossEntropy target 1.5', () => nn.crossEntropy(zeros([1, 3]), [1.5]), IndexError, 'crossEntropy: index 1.5'],
  ['crossEntropy target NaN', () => nn.crossEntropy(zeros([1, 3]), [NaN]), IndexError, 'index NaN'],
  ['crossEntropy target 2**32', () => nn.crossEntropy(zeros([1, 3]), [2 ** 32]), IndexError, 'out of range'],
  [
    'crossEntropy target 3 of 3 classes',
    () => nn.crossEntropy(zeros([1, 3]), [3]),
    ValueError,
    'not a class index in [0, 3)',
  ],
  [
    'crossEntropy float-tensor target 0.5',
    () => nn.crossEntropy(zeros([1, 3]), tensor([0.5])),
    IndexError,
    'not an integer',
  ],
  ['nllLoss target -1', () => nn.nllLoss(zeros([1, 3]), [-1]), IndexError, 'out of range'],
  ['gather number[] 1.5', () => x2().gather(0, [1.5] as never), IndexError, 'gather: index 1.5'],
  ['gather bare number', () => ones([3]).gather(0, 1 as never), IndexError, 'got the number 1'],
  [
    'gather negative (tensor)',
    () => ones([3]).gather(0, tensor([-1], { dtype: 'int32' })),
    IndexError,
    'index -1 is out of range for axis 0',
  ],
  ['gather negative (number[])', () => gather(ones([3]), 0, [-1]), IndexError, 'index -1'],
  ['gather past the end', () => ones([3]).gather(0, [3]), IndexError, 'axis 0 of size 3'],
  ['indexSelect 1.7', () => ones([3, 2]).indexSelect(0, [1.7]), IndexError, 'indexSelect: index 1.7'],
  ['indexSelect string', () => ones([3, 2]).indexSelect(0, ['1'] as never), IndexError, 'index "1"'],
  ['scatterAdd index 2 into size 2', () => scatterAdd([2], 0, [2], ones([1])), IndexError, 'scatterAdd: index 2'],
  ['Embedding 1.7', () => new nn.Embedding(4, 2).forward([1.7]), IndexError, 'Embedding: index 1.7'],
  ['Embedding 4 of 4', () => new nn.Embedding(4, 2).forward([4]), IndexError, 'out of range for 4 embeddings'],
  ['Embedding paddingIdx 9', () => new nn.Embedding(4, 2, { paddingIdx: 9 }), IndexError, 'paddingIdx 9'],
  // 6. int32 range at creation and in sums
  ['int32 tensor 2**31', () => tensor([2 ** 31], { dtype: 'int32' }), DTypeError, 'does not fit int32'],
  ['int32 tensor 1.5', () => tensor([1.5], { dtype: 'int32' }), DTypeError, 'value 1.5'],
  ['int32 full 2**31', () => full([2], 2 ** 31, { dtype: 'int32' }), DTypeError, 'full: value 2147483648'],
  [
    'int32 from Float32Array NaN',
    () => tensor(new Float32Array([NaN]), { dtype: 'int32' }),
    DTypeError,
    'does not fit int32',
  ],
  ['int32 sum overflow', () => full([3], 2 ** 30, { dtype: 'int32' }).sum(), DTypeError, 'sum: int32 overflow'],
  ['int32 sum(0) overflow', () => full([3, 1], 2 ** 30, { dtype: 'int32' }).sum(0), DTypeError, 'int32 overflow'],
  ['cast 3e9 to int32', () => tensor([3e9]).to('int32'), DTypeError, 'cast: value'],
  ['arange int32 past 2**31', () => arange(2 ** 31 - 1, 2 ** 31 + 1, 1, { dtype: 'int32' }), DTypeError, 'arange'],
  ['randint high past int32', () => randint(0, 2 ** 32, [2]), DTypeError, 'randint'],
  // 12. other typed-array kinds
  ['BigInt64Array', () => tensor(new BigInt64Array(2) as never), DTypeError, 'unsupported typed array BigInt64Array'],
  ['Tensor constructor Uint8Array', () => new Tensor(new Uint8Array(2) as never, [2]), DTypeError, 'Uint8Array'],
  ['Uint32Array past int32', () => tensor(new Uint32Array([2 ** 32 - 1])), DTypeError, 'does not fit int32'],
  ['dtype int8', () => tensor(new Float32Array(2), { dtype: 'int8' as never }), DTypeError, 'unknown dtype "int8"'],
  // 13. other silent acceptances
  ['randn std -1', () => randn([2], { std: -1 }), ValueError, 'randn: std must be ≥ 0'],
  ['randn mean NaN', () => randn([2], { mean: NaN }), ValueError, 'randn: mean must be a finite number'],
  ['rand low NaN', () => rand([2], { low: NaN }), ValueError, 'rand: low must be a finite number'],
  ['rand low > high', () => rand([2], { low: 2, high: 1 }), ValueError, 'need low ≤ high'],
  ['slice(5)', () => ones([3]).slice(5 as never), IndexError, 'slice: ranges must be an array'],
  ['slice([5])', () => ones([3]).slice([5] as never), IndexError, 'range 0 must be null or [start, stop?, step?]'],
  [
    'setWasmThresholds NaN',
    () => setWasmThresholds({ minElements: NaN }),
    ValueError,
    'minElements must be a finite number',
  ],
  ['setWasmThresholds -1', () => setWasmThresholds({ parallelFlops: -1 }), ValueError, 'parallelFlops must be ≥ 0'],
  [
    'setWasmThresholds typo',
    () => setWasmThresholds({ minElement: 5 } as never),
    ValueError,
    "unknown option 'minElement'",
  ],
  [
    "pad 'reflect'",
    () => pad(ones([2]), [[1, 1]], 'reflect' as never),
    ValueError,
    'constant padding is the only mode',
  ],
  ['pad widths not pairs', () => pad(ones([2]), [1, 1] as never), ShapeError, 'pairs'],
  ['where(1, a, b)', () => where(1 as never, ones([2]), ones([2])), ValueError, 'where: condition must be a Tensor'],
  [
    'where(cond, "a", b)',
    () => where(ones([2]), 'a' as never, ones([2])),
    ValueError,
    'where: first operand must be a Tensor or a number',
  ],
  // 8. options objects refuse unknown keys (everything except the optimizers, tested elsewhere)
  [
    'Linear bais',
    () => new nn.Linear(2, 2, { bais: false } as never),
    ValueError,
    "Linear: unknown option 'bais' (known options: bias",
  ],
  ['LayerNorm epsilon', () => new nn.LayerNorm(2, { epsilon: 1 } as never), ValueError, "unknown option 'epsilon'"],
  [
    'Embedding padding_idx',
    () => new nn.Embedding(4, 2, { padding_idx: 0 } as never),
    ValueError,
    "unknown option 'padding_idx'",
  ],
  ['Dropout seed', () => new nn.Dropout(0.5, { seed: 1 } as never), ValueError, "Dropout: unknown option 'seed'"],
  ['GELU approx', () => new nn.GELU({ approx: 'tanh' } as never), ValueError, "unknown option 'approx'"],
  [
    'CrossEntropyLoss label_smoothing',
    () => new nn.CrossEntropyLoss({ label_smoothing: 0.1 } as never),
    ValueError,
    "unknown option 'label_smoothing'",
  ],
  ['MSELoss reduce', () => new nn.MSELoss({ reduce: 'sum' } as never), ValueError, "MSELoss: unknown option 'reduce'"],
  [
    'crossEntropy options typo',
    () => nn.crossEntropy(zeros([1, 2]), [0], { smoothing: 0.1 } as never),
    ValueError,
    "unknown option 'smoothing'",
  ],
  [
    'tensor requires_grad',
    () => tensor([1], { requires_grad: true } as never),
    ValueError,
    "tensor: unknown option 'requires_grad'",
  ],
  ['zeros dtyp', () => zeros([2], { dtyp: 'float64' } as never), ValueError, "zeros: unknown option 'dtyp'"],
  ['randn sd', () => randn([2], { sd: 2 } as never), ValueError, "randn: unknown option 'sd'"],
  ['rand min', () => rand([2], { min: 2 } as never), ValueError, "rand: unknown option 'min'"],
  ['randint low in options', () => randint(0, 2, [2], { low: 1 } as never), ValueError, "unknown option 'low'"],
  ['linspace steps', () => linspace(0, 1, 3, { steps: 3 } as never), ValueError, "unknown option 'steps'"],
  [
    'init.uniform gain',
    () => init.uniform(zeros([2]), 0, 1, { gain: 2 } as never),
    ValueError,
    "uniform: unknown option 'gain'",
  ],
  [
    'init.kaimingNormal fan',
    () => init.kaimingNormal(zeros([2, 2]), { fan: 'in' } as never),
    ValueError,
    "unknown option 'fan'",
  ],
  [
    'loadStateDict strictness',
    () => new nn.Linear(1, 1).loadStateDict({}, { strictness: false } as never),
    ValueError,
    "unknown option 'strictness'",
  ],
  [
    'gradcheck tol',
    () => gradcheck((a) => a, [ones([1])], { tol: 1 } as never),
    ValueError,
    "gradcheck: unknown option 'tol'",
  ],
  [
    'matmul transposeB',
    () => matmul(ones([2, 2]), ones([2, 2]), { transposeB: true } as never),
    ValueError,
    "unknown option 'transposeB'",
  ],
  [
    'setGpuThresholds typo',
    () => setGpuThresholds({ elementWise: 1 } as never),
    ValueError,
    "unknown option 'elementWise'",
  ],
  [
    'setGpuMemoryLimits 0',
    () => setGpuMemoryLimits({ maxTextures: 0 }),
    ValueError,
    'maxTextures must be a positive integer',
  ],
  [
    'setGpuMemoryLimits typo',
    () => setGpuMemoryLimits({ textures: 5 } as never),
    ValueError,
    "unknown option 'textures'",
  ],
  ['setCpuKernels typo', () => setCpuKernels('wasm-simd' as never), ValueError, "expected 'wasm' or 'reference'"],
  ['setNumThreads 0', () => setNumThreads(0), ValueError, 'setNumThreads: expected a positive integer'],
  [
    'DataLoader batch_size',
    () => new DataLoader(ones([4, 1]), ones([4]), { batch_size: 2 } as never),
    ValueError,
    "unknown option 'batch_size'",
  ],
  [
    'decodeSafetensors maxTensor',
    () => decodeSafetensors(new Uint8Array(16), { maxTensor: 1 } as never),
    ValueError,
    "unknown option 'maxTensor'",
  ],
  ['options not an object', () => zeros([2], 'float64' as never), ValueError, 'zeros: options must be an object'],
  // 15. named errors where bare RangeError/TypeError escaped
  ['expand([-1, 2])', () => ones([2]).expand([-1, 2]), ShapeError, 'expand: invalid target shape [-1,2]'],
  [
    'sliceScatter past the end',
    () => sliceScatter(ones([65, 2]), [68, 5], [1, 0], [2, 1]),
    ShapeError,
    'sliceScatter: src [65,2] at [1,0] step [2,1] does not fit in [68,5]',
  ],
  ['sliceScatter rank', () => sliceScatter(ones([2]), [4, 4], [0, 0], [1, 1]), ShapeError, 'does not fit in [4,4]'],
  ['sliceScatter step 0', () => sliceScatter(ones([2]), [4], [0], [0]), ShapeError, 'step [0]'],
  ['sliceScatter fractional start', () => sliceScatter(ones([2]), [4], [0.5], [1]), ShapeError, 'at [0.5]'],
  [
    'sliceScatter shape not an array',
    () => sliceScatter(ones([2]), ones([4]) as unknown as number[], [0], [1]),
    ShapeError,
    'does not fit in',
  ],
  [
    'sliceScatter fractional shape',
    () => sliceScatter(ones([2]), [4.5], [0], [1]),
    ShapeError,
    /sliceScatter: invalid shape \[4\.5\]/,
  ],
  ['expand(2)', () => ones([2]).expand(2 as never), ShapeError, 'expand: shape must be an array'],
  ['arange(0, Infinity)', () => arange(0, Infinity), ValueError, 'arange: start and stop must be finite'],
  ['arange(0, 1e12)', () => arange(0, 1e12), ShapeError, 'more than the 4294967295 one tensor can hold'],
  ['arange(NaN)', () => arange(NaN), ValueError, 'finite'],
  ['linspace(0, Infinity, 3)', () => linspace(0, Infinity, 3), ValueError, 'linspace: start and stop must be finite'],
  [
    'zeros([2**16, 2**16, 2**16])',
    () => zeros([2 ** 16, 2 ** 16, 2 ** 16]),
    ShapeError,
    'zeros: shape [65536,65536,65536] has 281474976710656 elements',
  ],
  ['zeros([2**53, 2])', () => zeros([2 ** 53, 2]), ShapeError, 'dimensions must be non-negative integers'],
  ['zeros(5)', () => zeros(5 as never), ShapeError, 'wrap it: [5]'],
  ['ones([2.5])', () => ones([2.5]), ShapeError, 'invalid shape [2.5]'],
  ['randn([2**33])', () => randn([2 ** 33]), ShapeError, 'randn: shape [8589934592]'],
  [
    'tensor(Float32Array, shape overflow)',
    () => tensor(new Float32Array(2), { shape: [2 ** 40] }),
    ShapeError,
    'tensor: shape',
  ],
  ['stack([1, 2])', () => stack([1, 2] as never), ValueError, 'stack: tensors[0] must be a Tensor, got 1'],
  ['stack(tensor)', () => stack(ones([2]) as never), ShapeError, 'stack: expected an array of Tensors'],
  ['concat([t, 2])', () => concat([ones([1]), 2] as never), ValueError, 'concat: tensors[1] must be a Tensor'],
  [
    'reshape(6)',
    () => ones([6]).reshape(6 as never),
    ShapeError,
    'reshape: shape must be an array of integers, got 6 (wrap it: [6])',
  ],
  [
    'reshape(["6"])',
    () => ones([6]).reshape(['6'] as never),
    ShapeError,
    'reshape: shape must be an array of integers',
  ],
  ["sum('0')", () => ones([2]).sum('0' as never), IndexError, 'sum: dim must be an integer or an array of integers'],
  ['sum(null)', () => ones([2]).sum(null as never), IndexError, 'got null'],
  ['sum(0, "yes")', () => ones([2]).sum(0, 'yes' as never), ValueError, 'sum: keepdim must be a boolean'],
  ['mean([0.5])', () => ones([2]).mean([0.5]), IndexError, 'mean: dim'],
  ['argmax("0")', () => ones([2]).argmax('0' as never), IndexError, 'argmax: dim'],
  [
    'crossEntropy(2, [0])',
    () => nn.crossEntropy(2 as never, [0]),
    ValueError,
    'crossEntropy: input must be a Tensor, got 2',
  ],
  ['mseLoss(2, t)', () => nn.mseLoss(2 as never, ones([1])), ValueError, 'mseLoss: input must be a Tensor'],
  ['BCE(t, 1)', () => binaryCrossEntropyWithLogits(ones([1]), 1 as never), ValueError, 'target must be a Tensor'],
  ['matmul(t, 2)', () => ones([2, 2]).matmul(2 as never), ValueError, 'matmul: second operand must be a Tensor, got 2'],
  [
    'add(t, "1")',
    () => ones([2]).add('1' as never),
    ValueError,
    'add: second operand must be a Tensor or a number, got "1"',
  ],
  [
    'mul(t, {})',
    () => ones([2]).mul({} as never),
    ValueError,
    'mul: second operand must be a Tensor or a number, got an object',
  ],
  [
    'a tensor from a second copy of the package',
    () => ones([2]).add(foreignTensor() as never),
    ValueError,
    'a Tensor from a different copy of tapegrad',
  ],
  [
    'matmul with a foreign tensor',
    () => matmul(ones([2, 2]), foreignTensor() as never),
    ValueError,
    'different copy of tapegrad',
  ],
  ['tensor("abc")', () => tensor('abc' as never), ValueError, 'tensor: values must be a number, a nested array'],
  ['tensor nested 100 deep', () => tensor(nested(100) as never), ShapeError, 'deeper than 64 levels'],
  ['isnan(2)', () => isnan(2 as never), ValueError, 'isnan: input must be a Tensor'],
  [
    'setDetectAnomaly("yes")',
    () => setDetectAnomaly('yes' as never),
    ValueError,
    'setDetectAnomaly: expected a boolean',
  ],
  // 14. gradcheck refuses vacuous passes under checkUndefinedGrad
  [
    'gradcheck closure, checkUndefinedGrad',
    () =>
      gradcheck(() => closed.mul(2), [ones([2], { dtype: 'float64' })], {
        checkUndefinedGrad: true,
        raiseOnFailure: true,
      }),
    TapegradError,
    'does not depend on input 0',
  ],
  // 1. wasm32 addresses: past 4 GiB a named error (the arithmetic, tested at any size)
  [
    'wasm scratch past 4 GiB',
    () => planAlloc(2 ** 31, 2 ** 30, 2 ** 31),
    BackendError,
    'more than the 4294967296 bytes (4 GiB)',
  ],
  ['wasm scratch of 2**33 slots', () => planAlloc(0, 2 ** 33, 65536), BackendError, '4 GiB'],
  ['wasm scratch of 1.5 slots', () => planAlloc(0, 1.5, 65536), BackendError, 'invalid scratch request'],
];
function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}
/** What a Tensor of another copy of tapegrad looks like from here: a branded object that is not our class. */
function foreignTensor(): object {
  return { shape: [2], dtype: 'float32', [Symbol.for('tapegrad.Tensor')]: true };
}
const closed = ones([2], { dtype: 'float64' });

describe('bad inputs: each a named TapegradError whose message names the op and what was expected', () => {
  it.each(rows)('%s', (_name, thunk, cls, fragment) => {
    let caught: unknown = null;
    try {
      thunk();
    } catch (e) {
      caught = e;
    }
    expect(caught, 'expected a throw').toBeInstanceOf(cls);
    expect(caught).toBeInstanceOf(TapegradError);
    const msg = (caught as Error).message;
    if (typeof fragment === 'string') expect(msg).toContain(fragment);
    else expect(msg).toMatch(fragment);
  });

  it('neighbours that are fine stay fine', () => {
    expect(nn.crossEntropy(zeros([2, 3]), [0, 2]).item()).toBeCloseTo(Math.log(3), 6);
    expect(
      ones([3])
        .gather(0, tensor([2, 0]))
        .toArray(),
    ).toEqual([1, 1]); // float index tensors with integer values
    expect(tensor([2 ** 31 - 1, -(2 ** 31)], { dtype: 'int32' }).toArray()).toEqual([2 ** 31 - 1, -(2 ** 31)]);
    expect(
      full([3], 2 ** 29, { dtype: 'int32' })
        .sum()
        .item(),
    ).toBe(3 * 2 ** 29);
    expect(
      full([2], -(2 ** 30), { dtype: 'int32' })
        .sum()
        .item(),
    ).toBe(-(2 ** 31));
    expect(tensor([2.7, -2.7]).to('int32').toArray()).toEqual([2, -2]); // cast truncates toward zero, as torch
    expect(zeros([2 ** 40, 0]).sum(0).shape).toEqual([0]);
    expect(
      zeros([2 ** 40, 0])
        .sum()
        .item(),
    ).toBe(0);
    expect(randn([2], { std: 0 }).toArray()).toEqual([0, 0]);
    expect(pad(ones([1]), [[1, 0]], 5).toArray()).toEqual([5, 1]);
    expect(ones([3]).slice([[5]]).shape).toEqual([0]);
    expect(arange(0, 3, 1, { dtype: 'int32' }).toArray()).toEqual([0, 1, 2]);
  });
});

describe('12. typed arrays of other kinds', () => {
  it('narrow integer arrays are taken by value as int32 and round-trip through safetensors', async () => {
    const kinds = [
      new Uint8Array([0, 255]),
      new Int8Array([-128, 127]),
      new Uint16Array([0, 65535]),
      new Int16Array([-32768, 32767]),
      new Uint8ClampedArray([3, 250]),
      new Uint32Array([0, 2 ** 31 - 1]),
    ];
    const dir = await mkdtemp(join(tmpdir(), 'tg-u8-'));
    try {
      const named: Record<string, Tensor> = {};
      kinds.forEach((a, i) => {
        const t = tensor(a);
        expect(t.dtype).toBe('int32');
        expect(t.data).toBeInstanceOf(Int32Array);
        expect(Array.from(t.data)).toEqual(Array.from(a));
        named[`k${i}`] = t;
      });
      named['f'] = tensor(new Uint8Array([1, 2]), { dtype: 'float32' });
      await saveSafetensors(join(dir, 'a.safetensors'), named);
      const back = await loadSafetensors(join(dir, 'a.safetensors'));
      for (const [k, t] of Object.entries(named)) {
        expect(back[k]!.dtype).toBe(t.dtype);
        expect(Array.from(back[k]!.data)).toEqual(Array.from(t.data));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('5. softplus and BCE-with-logits are finite for any finite x', () => {
  it('at ±3e38 in float32 and ±1.7e308 in float64', () => {
    expect(softplus(tensor([3e38, -3e38, 0])).toArray()).toEqual([Math.fround(3e38), 0, Math.fround(Math.log(2))]);
    expect(softplus(tensor([1.7e308], { dtype: 'float64' })).item()).toBe(1.7e308);
    const l = binaryCrossEntropyWithLogits(tensor([3e38, -3e38]), tensor([1, 0]), 'none').toArray() as number[];
    expect(l).toEqual([0, 0]);
    const x = tensor([3e38, -3e38], { requiresGrad: true });
    softplus(x).sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([1, 0]);
  });
});

describe('7. version counters: in-place writes after a forward are refused in backward', () => {
  it('an optimizer step between forward and backward is an AutogradError naming the op', () => {
    const w = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { requiresGrad: true },
    );
    const loss = w.matmul(tensor([[1], [1]])).sum();
    const opt = new optim.SGD([w], { lr: 0.1 });
    w.grad = ones([2, 2]);
    opt.step();
    expect(() => loss.backward()).toThrow(AutogradError);
    const again = w.matmul(tensor([[1], [1]])).sum();
    w.grad = ones([2, 2]);
    opt.step();
    expect(() => again.backward()).toThrow(
      /modified by an in-place operation: input 0 of 'matmul' \(shape \[2,2\]\) is at version 2; expected version 1/,
    );
  });
  it('views share the counter; loadStateDict and nn.init bump it; a fresh forward is fine', () => {
    const lin = new nn.Linear(2, 1);
    const y = lin.forward(ones([1, 2])).sum();
    lin.loadStateDict(new nn.Linear(2, 1).stateDict());
    expect(() => y.backward()).toThrow(/in-place operation/);
    const w = zeros([4], { requiresGrad: true });
    const z = w.reshape([2, 2]).exp().sum();
    init.normal(w);
    expect(() => z.backward()).toThrow(/of 'exp'/);
    w.exp().sum().backward();
    expect(w.grad!.shape).toEqual([4]);
    expect(w.version).toBe(1);
  });
});

describe('18. isnan / isinf / isfinite and anomaly mode', () => {
  it('classify values (no gradient)', () => {
    const v = tensor([0, -1, NaN, Infinity, -Infinity]);
    expect(isnan(v).toArray()).toEqual([0, 0, 1, 0, 0]);
    expect(isinf(v).toArray()).toEqual([0, 0, 0, 1, 1]);
    expect(isfinite(v).toArray()).toEqual([1, 1, 0, 0, 0]);
    expect(v.isnan().requiresGrad).toBe(false);
    const i = tensor([1, 2], { dtype: 'int32' });
    expect([isnan(i).toArray(), isinf(i).toArray(), isfinite(i).toArray()]).toEqual([
      [0, 0],
      [0, 0],
      [1, 1],
    ]);
    const g = tensor([1, NaN], { requiresGrad: true });
    expect(isfinite(g).requiresGrad).toBe(false);
  });
  it('detectAnomaly names the op whose backward made the first non-finite gradient and where it was recorded', () => {
    const x = tensor([0, 4], { requiresGrad: true });
    // Outside anomaly mode: Infinity silently (sqrt'(0)).
    x.sqrt().sum().backward();
    expect(x.grad!.data[0]).toBe(Infinity);
    x.grad = null;
    let err: unknown = null;
    try {
      detectAnomaly(() => {
        const y = x.mul(2).sqrt(); // recorded here
        y.sum().backward();
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AutogradError);
    const msg = (err as Error).message;
    expect(msg).toContain("function 'sqrt' returned Infinity in its gradient for input 0");
    expect(msg).toContain('bad-inputs.test.ts');
    expect(msg).not.toMatch(/src[\\/]ops[\\/]/);
  });
  it('the global switch', () => {
    setDetectAnomaly(true);
    try {
      const x = tensor([-1], { requiresGrad: true });
      expect(() => x.log().sum().backward()).not.toThrow(); // -1 → grad -1: finite
      const z = tensor([0], { requiresGrad: true });
      expect(() => z.log().sum().backward()).toThrow(/function 'log' returned Infinity/);
    } finally {
      setDetectAnomaly(false);
    }
    const z = tensor([0], { requiresGrad: true });
    expect(() => z.log().sum().backward()).not.toThrow();
  });
});

describe('14. gradcheck does not pass vacuously', () => {
  it('notes an input f does not depend on; fails under checkUndefinedGrad', () => {
    const x = ones([2], { dtype: 'float64' });
    const r = gradcheck(() => closed.mul(2), [x]);
    expect(r.ok).toBe(true);
    expect(r.undefinedGrad).toEqual([0]);
    expect(r.notes.join(' ')).toContain('does not depend on it');
    expect(gradcheck(() => closed.mul(2), [x], { checkUndefinedGrad: true }).ok).toBe(false);
    const fine = gradcheck((a) => a.mul(a), [x], { checkUndefinedGrad: true });
    expect(fine.ok).toBe(true);
    expect(fine.undefinedGrad).toEqual([]);
  });
});

describe('1. wasm scratch allocator arithmetic (no 32-bit wrap past 2 GiB)', () => {
  it('plans pointers in doubles', () => {
    // The bug: (top + n*4 + 63) & ~63 wrapped negative once top + n*4 ≥ 2³¹.
    const big = planAlloc(2 ** 31 - 64, 2 ** 28, 2 ** 31);
    expect(big.p).toBe(2 ** 31 - 64);
    expect(big.top).toBe(2 ** 31 - 64 + 2 ** 30);
    expect(big.top % 64).toBe(0);
    expect(big.grow).toBeGreaterThan(0);
    expect(2 ** 31 + big.grow * 65536).toBeGreaterThanOrEqual(big.top);
    expect(planAlloc(100, 1, 65536)).toEqual({ p: 100, top: 128, grow: 0 });
    const edge = planAlloc(MAX_PAGES * 65536 - 128, 16, MAX_PAGES * 65536);
    expect(edge.top).toBe(MAX_PAGES * 65536 - 64);
    expect(edge.grow).toBe(0);
  });
});

describe('4. sums over a leading axis do not accumulate float32 error', () => {
  it('full([2**20, 2], 0.1).sum(0) within float32 rounding of the float64 sum, WASM and reference alike', () => {
    const exact = Math.fround(0.1) * 2 ** 20;
    for (const k of ['wasm', 'reference'] as const) {
      setCpuKernels(k);
      try {
        for (const shape of [
          [2 ** 20, 2],
          [2 ** 20, 1],
          [2 ** 18, 3, 2],
        ]) {
          const s = full(shape, 0.1).sum(0).data;
          for (const v of s) expect(Math.abs(v - exact * (shape[0] === 2 ** 18 ? 0.25 : 1)) / exact).toBeLessThan(1e-6);
        }
      } finally {
        setCpuKernels('wasm');
      }
    }
  });
});

describe('16–17. files', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  it("later saves remove temp files of killed saves (dead pid), never a live writer's", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tg-orphans-'));
    dirs.push(dir);
    const p = join(dir, 'w.safetensors');
    const dead = 2 ** 22 + 12345; // above pid_max defaults: no such process
    const orphan = `.w.safetensors.${dead}.1abc.tmp`;
    const live = `.w.safetensors.${process.ppid}.2abc.tmp`; // a live process (our parent)
    const mine = `.w.safetensors.${process.pid}.3abc.tmp`; // an in-flight save of ours
    const other = `.x.safetensors.${dead}.4abc.tmp`; // another file's temp: not ours to judge
    for (const n of [orphan, live, mine, other]) await writeFile(join(dir, n), 'partial');
    await saveSafetensors(p, { a: ones([2]) });
    const left = await readdir(dir);
    expect(left).not.toContain(orphan);
    expect(left).toEqual(expect.arrayContaining([live, mine, other, 'w.safetensors']));
    expect(await removeOrphanTemps(p)).toEqual([]);
  });
  it('a header with too many tensors is refused before it is parsed; the limit can be raised', () => {
    const many: Record<string, Tensor> = {};
    for (let i = 0; i < 50; i++) many[`t${i}`] = zeros([0]);
    const bytes = encodeSafetensors(many);
    expect(() => decodeSafetensors(bytes, { maxTensors: 10 })).toThrow(FormatError);
    expect(() => decodeSafetensors(bytes, { maxTensors: 10 })).toThrow(/more than 10 tensors \(the maxTensors limit\)/);
    expect(Object.keys(decodeSafetensors(bytes, { maxTensors: 50 }))).toHaveLength(50);
    expect(Object.keys(decodeSafetensors(bytes))).toHaveLength(50);
    expect(() => decodeSafetensors(bytes, { maxTensors: -1 })).toThrow(ValueError);
  });
  it('a forged header of many empty entries is refused before JSON.parse', () => {
    const parts: string[] = [];
    for (let i = 0; i < 100_001; i++) parts.push(`"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`);
    let h = `{${parts.join(',')}}`;
    h += ' '.repeat((8 - (h.length % 8)) % 8);
    const hb = new TextEncoder().encode(h);
    const bytes = new Uint8Array(8 + hb.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(hb.length), true);
    bytes.set(hb, 8);
    expect(() => decodeSafetensors(bytes)).toThrow(/more than 100000 tensors/);
  });
});

describe('Embedding paddingIdx (13)', () => {
  it('zero row, zero output and no gradient at the padding index', () => {
    manualSeed(0);
    const e = new nn.Embedding(4, 2, { paddingIdx: 0 });
    expect(Array.from(e.weight.data.subarray(0, 2))).toEqual([0, 0]);
    const out = e.forward([0, 2, 0]);
    expect((out.toArray() as number[][])[0]).toEqual([0, 0]);
    out.sum().backward();
    expect(Array.from(e.weight.grad!.data)).toEqual([0, 0, 0, 0, 1, 1, 0, 0]);
    expect(new nn.Embedding(4, 2, { paddingIdx: -1 }).paddingIdx).toBe(3);
  });
});

describe('15. deep nesting in checkpoints is bounded on save and on load', () => {
  it('saving state nested 20k deep is a ValueError; loading state nested 100k deep is a FormatError', async () => {
    const { saveCheckpoint, loadCheckpoint, CHECKPOINT_VERSION } = await import('../src/index.js');
    const dir = await mkdtemp(join(tmpdir(), 'tg-deep-'));
    try {
      const model = new nn.Linear(2, 1);
      const p = join(dir, 'c.safetensors');
      await expect(saveCheckpoint(p, { model, extra: nested(20_000) as never })).rejects.toThrow(ValueError);
      await expect(saveCheckpoint(p, { model, extra: nested(20_000) as never })).rejects.toThrow(
        /nested more than 1000 levels/,
      );
      await saveCheckpoint(p, { model, extra: nested(50) as never }); // shallow nesting is fine
      const deep = `{"step":0,"extra":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
      const bytes = encodeSafetensors(model.stateDict(), {
        'tapegrad.format': 'checkpoint',
        'tapegrad.version': String(CHECKPOINT_VERSION),
        'tapegrad.state': deep,
      });
      const q = join(dir, 'deep.safetensors');
      await writeFile(q, bytes);
      await expect(loadCheckpoint(q, { model })).rejects.toThrow(FormatError);
      await expect(loadCheckpoint(q, { model })).rejects.toThrow(/nested more than 1000 levels deep/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('7. version counters through gradient checkpointing', () => {
  it('a step between a checkpointed forward and backward is refused', async () => {
    const { checkpoint } = await import('../src/index.js');
    const w = tensor([1, 2], { requiresGrad: true });
    const y = checkpoint((a: Tensor) => a.mul(a).exp(), w).sum();
    w.grad = ones([2]);
    new optim.SGD([w], { lr: 0.1 }).step();
    expect(() => y.backward()).toThrow(/input 0 of 'checkpoint'/);
  });
});
