import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import {
  concat,
  defineOp,
  type Exportable,
  ExportError,
  noGrad,
  randint,
  exportOnnx,
  exportOnnxBytes,
  manualSeed,
  nn,
  pad,
  randn,
  tensor,
  type Tensor,
  ValueError,
  where,
  scatterAdd,
} from '../../src/index.js';
import { Gpt } from '../../examples/lib/gpt.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs exported bytes in ONNX Runtime and returns the first output's values. */
async function runOrt(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Float32Array | Float64Array> {
  const session = await ort.InferenceSession.create(bytes);
  const inputs: Record<string, ort.Tensor> = {};
  for (const [k, t] of Object.entries(feeds)) {
    const type = t.dtype === 'float64' ? 'float64' : t.dtype === 'int32' ? 'int32' : 'float32';
    inputs[k] = new ort.Tensor(type, t.data, [...t.shape]);
  }
  const out = await session.run(inputs);
  return out[session.outputNames[0]!]!.data as Float32Array | Float64Array;
}
/** ONNX's own checker and strict shape inference, where Python's `onnx` package is installed (Debian: python3-onnx). */
const PYTHON = ['/usr/bin/python3', 'python3'].find(
  (p) => spawnSync(p, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0,
);
function onnxCheck(bytes: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'tg-onnx-check-'));
  writeFileSync(join(dir, 'm.onnx'), bytes);
  const code = [
    'import onnx, sys',
    'm = onnx.load(sys.argv[1])',
    'onnx.checker.check_model(m, full_check=True)',
    'onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)',
    'print("ok")',
  ].join('\n');
  const r = spawnSync(PYTHON!, ['-c', code, join(dir, 'm.onnx')], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : r.stderr;
}
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('exportOnnx', () => {
  it('exports an MLP that ONNX Runtime runs with the same outputs at several batch sizes', async () => {
    manualSeed(0);
    const model = new nn.Sequential(
      new nn.Linear(6, 16),
      new nn.ReLU(),
      new nn.Linear(16, 16),
      new nn.Tanh(),
      new nn.Linear(16, 3),
    );
    const bytes = exportOnnxBytes(model, [randn([4, 6])], { dynamicAxes: { input0: { 0: 'batch' } } });
    if (PYTHON) expect(onnxCheck(bytes)).toBe('ok');
    for (const n of [1, 4, 7]) {
      const x = randn([n, 6]);
      expect(maxDiff(await runOrt(bytes, { input0: x }), model.forward(x).data)).toBeLessThan(1e-5);
    }
  });

  it('stores parameters as initializers under their module paths and names dynamic axes', () => {
    const model = new nn.Sequential(new nn.Linear(3, 2));
    const bytes = exportOnnxBytes(model, [randn([5, 3])], {
      dynamicAxes: { input0: { 0: 'batch' } },
      outputNames: ['logits'],
    });
    const m = onnx.ModelProto.decode(bytes);
    expect(Number(m.opsetImport[0]!.version)).toBe(17);
    const g = m.graph!;
    const [inp, out] = [g.input![0]!, g.output![0]!];
    expect(g.initializer!.map((t) => t.name).sort()).toEqual(['0.bias', '0.weight']);
    expect(inp.type!.tensorType!.shape!.dim![0]!.dimParam).toBe('batch');
    expect(out.name).toBe('logits');
    expect(out.type!.tensorType!.shape!.dim![0]!.dimParam).toBe('batch');
    expect(Number(out.type!.tensorType!.shape!.dim![1]!.dimValue)).toBe(2);
  });

  it('exports a function of tensors (softmax, reductions, comparisons, where, movement ops) in float64', async () => {
    const w = randn([4, 5], { dtype: 'float64' });
    const f = (x: Tensor): Tensor => {
      const h = x.matmul(w).softmax(-1).mul(x.sum(1, true).exp());
      const m = h.max(1, true);
      return where(h.gt(m.mul(0.5)), h, h.neg())
        .permute([1, 0])
        .reshape([-1])
        .abs()
        .sqrt()
        .log1p();
    };
    const x = randn([3, 4], { dtype: 'float64' });
    const bytes = exportOnnxBytes(f, [x], { opset: 17 });
    if (PYTHON) expect(onnxCheck(bytes)).toBe('ok');
    expect(maxDiff(await runOrt(exportOnnxBytes(f, [x], { opset: 18 }), { input0: x }), f(x).data)).toBeLessThan(1e-12);
    expect(maxDiff(await runOrt(bytes, { input0: x }), f(x).data)).toBeLessThan(1e-12);
  });

  it('maps the math primitives', async () => {
    const f = (x: Tensor): Tensor => {
      const a = x.abs().add(0.5);
      return a
        .log2()
        .add(a.log10())
        .add(x.expm1())
        .add(x.mul(3).trunc())
        .add(x.mul(2).floor())
        .add(x.atan())
        .add(x.mul(0.5).asin())
        .add(x.mul(0.5).acos())
        .add(x.mul(3).ceil())
        .add(x.mul(3).round());
    };
    const x = randn([5, 3]).tanh(); // float32: ONNX Runtime has no float64 Atan/Asin/Acos kernels
    const bytes = exportOnnxBytes(f, [x]);
    if (PYTHON) expect(onnxCheck(bytes)).toBe('ok');
    expect(maxDiff(await runOrt(bytes, { input0: x }), f(x).data)).toBeLessThan(1e-5);
  });

  it('maps slices, concat, pad and gather (Embedding)', async () => {
    manualSeed(1);
    const emb = new nn.Embedding(10, 4);
    const f = (idx: Tensor): Tensor => {
      const e = emb.forward(idx); // [n, 4]
      const a = e.slice([null, [1, 3]]);
      return pad(concat([a, e], 1), [
        [0, 0],
        [2, 1],
      ]);
    };
    const idx = tensor([3, 1, 4, 1, 5], { dtype: 'int32' });
    const bytes = exportOnnxBytes(f, [idx], { dynamicAxes: { input0: [0] } });
    if (PYTHON) expect(onnxCheck(bytes)).toBe('ok');
    for (const ids of [
      [3, 1, 4, 1, 5],
      [9, 2],
    ]) {
      const t = tensor(ids, { dtype: 'int32' });
      expect(maxDiff(await runOrt(bytes, { input0: t }), f(t).data)).toBeLessThan(1e-6);
    }
  });

  it('writes a file atomically', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-onnx-'));
    const model = new nn.Linear(2, 2);
    await exportOnnx(model, [randn([1, 2])], join(dir, 'm.onnx'));
    expect(readFileSync(join(dir, 'm.onnx')).length).toBeGreaterThan(40);
  });

  it('golden bytes: a tiny model encodes exactly as protobufjs encodes the same ModelProto', () => {
    const w = tensor([
      [1, 2],
      [3, 4],
    ]);
    const bytes = exportOnnxBytes((x: Tensor) => x.matmul(w).relu(), [tensor([[1, -1]])]);
    expect(Buffer.from(bytes).toString('hex')).toBe(GOLDEN_TINY);
    // The same message written by an independent encoder (dims packed, fields in number order).
    const m = onnx.ModelProto.decode(bytes);
    expect(m.graph!.node!.map((n) => n.opType)).toEqual(['MatMul', 'Relu']);
    // producer_version is the package's version.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(m.producerVersion).toBe(pkg.version);
    expect(Buffer.from(onnx.ModelProto.encode(m).finish()).toString('hex')).toBe(GOLDEN_TINY);
  });

  it('refuses what it cannot export, naming the op or the argument', () => {
    expect(() => exportOnnxBytes((x: Tensor) => x, [randn([2])], { opst: 17 } as never)).toThrow(
      /unknown option 'opst'/,
    );
    expect(() => exportOnnxBytes((x: Tensor) => x, [randn([2])], { opset: 9 })).toThrow(ValueError);
    // The batch size is baked into a constant: mean over a dynamic axis divides by it.
    expect(() => exportOnnxBytes((x: Tensor) => x.mean(0), [randn([3, 2])], { dynamicAxes: { input0: [0] } })).toThrow(
      /constant .* depends on the size of a dynamic axis/,
    );
    expect(() => exportOnnxBytes((x: Tensor) => x.sum(), [randn([2])], { dynamicAxes: { nope: [0] } })).toThrow(
      /'nope'/,
    );
  });

  it('names an op without a mapping and where it was recorded', () => {
    // scatterAdd is a backward-only op with no mapping.
    const f = (x: Tensor): Tensor => scatterAdd([4], 0, [0, 0, 1], x);
    expect(() => exportOnnxBytes(f, [randn([3])])).toThrow(ExportError);
    expect(() => exportOnnxBytes(f, [randn([3])])).toThrow(
      /op 'scatterAdd' has no ONNX mapping \(recorded at .*onnx\.test\.ts/,
    );
  });

  it('exports a custom op through the primitives its forward ran', async () => {
    const softplus = defineOp({
      name: 'mySoftplus',
      forward: (x: Tensor) => x.exp().add(1).log(),
      backward: (g: Tensor, x?: Tensor) => g.mul(x!.sigmoid()),
    });
    const f = (x: Tensor): Tensor => softplus(x.mul(2)).sum(1);
    const x = randn([3, 4]);
    expect(maxDiff(await runOrt(exportOnnxBytes(f, [x]), { input0: x }), f(x).data)).toBeLessThan(1e-6);
  });
});

const GOLDEN_TINY =
  '0808120874617065677261641a05302e332e303ab0010a2b0a06696e707574300a05636f6e737412086d61746d756c5f301a084d61744d756c5f3022064d61744d756c0a210a086d61746d756c5f3012076f7574707574301a0652656c755f31220452656c75120874617065677261642a1f0a02020210014205636f6e73744a100000803f0000004000004040000080405a180a06696e70757430120e0a0c080112080a0208010a02080262190a076f757470757430120e0a0c080112080a0208010a02080242021011';

describe('exportOnnx: the example models, run by ONNX Runtime at several batch sizes', () => {
  const check = async (
    model: Exportable,
    make: (n: number) => Tensor,
    tol: number,
    ns: readonly number[] = [1, 3],
    opset = 17,
  ): Promise<number> => {
    const bytes = exportOnnxBytes(model, [make(2)], { opset, dynamicAxes: { input0: { 0: 'batch' } } });
    if (PYTHON && opset <= 17) expect(onnxCheck(bytes)).toBe('ok');
    let worst = 0;
    const run = typeof model === 'function' ? model : (x: Tensor) => model.forward(x) as Tensor;
    for (const n of ns) {
      const x = make(n);
      worst = Math.max(worst, maxDiff(await runOrt(bytes, { input0: x }), (noGrad(() => run(x)) as Tensor).data));
    }
    expect(worst).toBeLessThan(tol);
    console.log(`max |ORT − tapegrad| = ${worst.toExponential(2)}, ${bytes.length} bytes`);
    return worst;
  };

  it('the MNIST CNN (conv, relu, max pool, flatten, linear) and a BatchNorm/avg-pool variant in eval mode', async () => {
    manualSeed(2);
    const cnn = new nn.Sequential(
      new nn.Conv2d(1, 8, 3, { padding: 1 }),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Conv2d(8, 16, 3, { padding: 1 }),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Flatten(),
      new nn.Linear(784, 10),
    );
    await check(cnn, (n) => randn([n, 1, 28, 28]), 1e-5);
    const bn = new nn.Sequential(
      new nn.Conv2d(3, 4, 3, { stride: 2, padding: 1 }),
      new nn.BatchNorm2d(4),
      new nn.ReLU(),
      new nn.AvgPool2d(2),
      new nn.AdaptiveAvgPool2d(1),
      new nn.Flatten(),
      new nn.Linear(4, 2),
    );
    bn.train();
    for (let i = 0; i < 3; i++) noGrad(() => bn.forward(randn([4, 3, 16, 16]).mul(2).add(1))); // running stats move
    bn.eval();
    await check(bn, (n) => randn([n, 3, 16, 16]), 1e-5);
    const up = new nn.ConvTranspose2d(3, 2, 3, { stride: 2, padding: 1, outputPadding: 1 });
    await check(up, (n) => randn([n, 3, 5, 5]), 1e-5);
    bn.train();
    exportOnnxBytes(bn, [randn([2, 3, 16, 16])]);
    expect(bn.training).toBe(true); // restored after export
  });

  it('the char-transformer (embeddings, causal attention, LayerNorm, GELU MLP)', async () => {
    manualSeed(3);
    const gpt = new Gpt({ vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16 });
    gpt.eval();
    const make = (n: number): Tensor => randint(0, 11, [n, 8], { dtype: 'int32' });
    await check(gpt, make, 1e-5);
  });

  it('the layerNorm primitive: LayerNorm (affine or not), RMSNorm, GroupNorm at opsets 13, 17 and 18', async () => {
    manualSeed(5);
    const ln = new nn.LayerNorm([3, 4]),
      plain = new nn.LayerNorm(4, { elementwiseAffine: false }),
      rms = new nn.RMSNorm(4, { eps: 1e-6 }),
      gn = new nn.GroupNorm(2, 6);
    for (const p of [...ln.parameters(), ...rms.parameters(), ...gn.parameters()]) p.data.set(randn(p.shape).data);
    for (const opset of [13, 17, 18]) {
      await check(ln, (n) => randn([n, 3, 4]), 1e-5, [1, 3], opset);
      await check(plain, (n) => randn([n, 2, 4]), 1e-5, [1, 3], opset);
      await check(rms, (n) => randn([n, 5, 4]), 1e-5, [1, 3], opset);
      await check(gn, (n) => randn([n, 6, 2]), 1e-5, [1, 3], opset);
    }
  });

  it('LSTM and GRU (batch first, 2 layers, bidirectional)', async () => {
    manualSeed(4);
    const lstm = new nn.LSTM(4, 6, { numLayers: 2, batchFirst: true, bidirectional: true });
    await check(
      (x: Tensor) => lstm.forward(x)[0],
      (n) => randn([n, 5, 4]),
      1e-5,
    );
    const gru = new nn.GRU(4, 6, { batchFirst: true });
    await check(
      (x: Tensor) => gru.forward(x)[0],
      (n) => randn([n, 5, 4]),
      1e-5,
    );
  });
});
