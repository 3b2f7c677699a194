/**
 * tapegrad vs TF.js (tfjs-backend-wasm and tfjs-backend-cpu) in one process, with benny.
 *   npm run bench            full run (several minutes)
 *   npm run bench:quick      CI smoke run (< 60 s, small sizes, asserts nothing about speed)
 * Options: --quick, --only=<substring of a suite name>, --no-rss, --out=<file>.
 * Results: bench/results/latest.json (or --out) and a printed table of ratios (tapegrad / peer).
 */
import b from 'benny';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gelu, manualSeed, randn, optim, nn, type Tensor } from '../src/index.js';
import { geluComposite } from '../src/ops/fused-oracles.js';
import { getNumThreads, setNumThreads, startThreads, wasmInfo } from '../src/backend/wasm/index.js';
import { initTf, tf, useTf, type TfBackend } from './lib/tf.js';
import { childImports, tapegradMlp, tfMlp, type Step } from './lib/mlp.js';
import { tapegradGpt, tfGpt } from './lib/gpt.js';
import { tapegradCnn, tfCnn, tfCnnError, torchCnn } from './lib/cnn.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice(7);
const out =
  args.find((a) => a.startsWith('--out='))?.slice(6) ?? join(here, 'results', quick ? 'quick.json' : 'latest.json');
const THREADS = Math.min(2, availableParallelism());

interface Row {
  suite: string;
  impl: string;
  metric: string;
  unit: string;
  value: number;
  medianMs: number;
  samples: number;
}
const rows: Row[] = [];

type Impl = { name: string; setup: () => () => void };
/** Runs one benny suite; `work` converts ops/s to the metric (e.g. flops per op / 1e9 → GFLOP/s). */
async function suite(name: string, metric: string, unit: string, work: number, impls: Impl[]): Promise<void> {
  if (only && !name.includes(only)) return;
  const opts = quick
    ? { maxTime: 0.15, minSamples: 3, initCount: 1, delay: 0 }
    : { maxTime: 3, minSamples: 10, delay: 0.05 };
  const summary = await b.suite(
    name,
    ...impls.map((im) => {
      const body = im.setup();
      return b.add(im.name, () => body, opts);
    }),
  );
  const line: string[] = [];
  for (const r of summary.results) {
    const med = r.details.median;
    rows.push({ suite: name, impl: r.name, metric, unit, value: work / med, medianMs: med * 1e3, samples: r.samples });
    line.push(`${r.name} ${(work / med).toPrecision(3)}`);
  }
  console.log(`${name} [${unit}]: ${line.join(', ')}`);
}

const tfImpl = (backend: TfBackend, make: () => () => void): Impl => ({
  name: `tfjs-${backend}`,
  setup: () => {
    useTf(backend);
    const body = make();
    return () => {
      useTf(backend);
      body();
    };
  },
});
const tgImpl = (name: string, threads: number, make: () => () => void): Impl => ({
  name,
  setup: () => {
    setNumThreads(threads);
    if (threads > 1) startThreads();
    const body = make();
    return () => {
      if (getNumThreads() !== threads) setNumThreads(threads);
      body();
    };
  },
});

async function main(): Promise<void> {
  await initTf();
  manualSeed(0);
  const info = {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memGiB: +(totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    wasm: wasmInfo(),
    quick,
  };
  console.log(
    `tapegrad bench ${quick ? '(quick)' : ''}: ${info.cpu}, ${info.cores} cores, node ${info.node}, relaxed-SIMD ${info.wasm.relaxedSimd}`,
  );

  // ---- matmul ---------------------------------------------------------------------------
  for (const n of quick ? [128, 256] : [128, 256, 512, 1024]) {
    const tfCase = (be: TfBackend, ta = false, tb = false) =>
      tfImpl(be, () => {
        const x = tf.randomNormal([n, n]),
          y = tf.randomNormal([n, n]);
        return () => tf.matMul(x, y, ta, tb).dispose();
      });
    const tgCase = (name: string, th: number, ta = false, tb = false) =>
      tgImpl(name, th, () => {
        const x = randn([n, n]),
          y = randn([n, n]);
        return () => void nnMatmul(x, y, ta, tb);
      });
    const impls = [tgCase('tapegrad', THREADS), tgCase('tapegrad-1t', 1), tfCase('wasm')];
    if (n <= 512) impls.push(tfCase('cpu'));
    await suite(`matmul ${n}`, 'GFLOP/s', 'GFLOP/s', (2 * n ** 3) / 1e9, impls);
    if (n === (quick ? 256 : 512)) {
      // Aᵀ·B: the shape of a weight gradient (what the matmul backward pass runs).
      await suite(`matmul ${n} transA`, 'GFLOP/s', 'GFLOP/s', (2 * n ** 3) / 1e9, [
        tgCase('tapegrad', THREADS, true),
        tgCase('tapegrad-1t', 1, true),
        tfCase('wasm', true),
        tfCase('cpu', true),
      ]);
    }
  }

  // ---- elementwise ----------------------------------------------------------------------
  for (const op of ['add', 'mul', 'exp'] as const) {
    for (const n of quick ? [1e5] : [1e5, 1e6, 1e7]) {
      const bytes = (op === 'exp' ? 8 : 12) * n;
      const impls: Impl[] = [
        tgImpl('tapegrad', THREADS, () => {
          const x = randn([n]),
            y = randn([n]);
          return op === 'exp' ? () => void x.exp() : op === 'add' ? () => void x.add(y) : () => void x.mul(y);
        }),
        // TF.js's lifetime rule: inputs in wasm memory (resident), each result disposed.
        tgImpl('tapegrad-resident-disposed', THREADS, () => {
          const x = randn([n]).add(0),
            y = randn([n]).add(0);
          return op === 'exp'
            ? () => x.exp().dispose()
            : op === 'add'
              ? () => x.add(y).dispose()
              : () => x.mul(y).dispose();
        }),
        ...(['wasm', 'cpu'] as const).map((be) =>
          tfImpl(be, () => {
            const x = tf.randomNormal([n]),
              y = tf.randomNormal([n]);
            return op === 'exp'
              ? () => tf.exp(x).dispose()
              : op === 'add'
                ? () => tf.add(x, y).dispose()
                : () => tf.mul(x, y).dispose();
          }),
        ),
      ];
      await suite(`${op} ${n.toExponential(0).replace('+', '')}`, 'GB/s', 'GB/s', bytes / 1e9, impls);
    }
  }

  // ---- fused GELU forward + backward on [16,32,256] (a transformer MLP activation) ---------
  for (const approximate of ['none', 'tanh'] as const) {
    const shape = [16, 32, 256];
    const tg = (name: string, f: (x: Tensor) => Tensor) =>
      tgImpl(name, THREADS, () => {
        const x = randn(shape).requiresGrad_(),
          g = randn(shape);
        return () => {
          x.grad = null;
          f(x).backward(g);
        };
      });
    await suite(`gelu ${approximate === 'none' ? 'erf' : 'tanh'} [16,32,256] fwd+bwd`, 'steps/s', 'steps/s', 1, [
      tg('tapegrad', (x) => gelu(x, approximate)),
      tg('tapegrad-composite', (x) => geluComposite(x, approximate)),
      tfImpl('wasm', () => {
        const x = tf.randomNormal(shape),
          g = tf.randomNormal(shape);
        const f = (t: typeof x) =>
          approximate === 'none'
            ? tf.mul(tf.mul(t, 0.5), tf.add(tf.erf(tf.mul(t, Math.SQRT1_2)), 1))
            : tf.mul(
                tf.mul(t, 0.5),
                tf.add(tf.tanh(tf.mul(tf.add(t, tf.mul(tf.pow(t, 3), 0.044715)), Math.sqrt(2 / Math.PI))), 1),
              );
        const vjp = tf.grad(f);
        return () =>
          tf.tidy(() => {
            vjp(x, g);
          });
      }),
    ]);
  }

  // ---- reductions -----------------------------------------------------------------------
  const R = quick ? 256 : 2048,
    C = quick ? 256 : 1024;
  for (const axis of [0, 1]) {
    await suite(`sum axis ${axis} [${R},${C}]`, 'GB/s', 'GB/s', (4 * R * C) / 1e9, [
      tgImpl('tapegrad', THREADS, () => {
        const x = randn([R, C]);
        return () => void x.sum(axis);
      }),
      ...(['wasm', 'cpu'] as const).map((be) =>
        tfImpl(be, () => {
          const x = tf.randomNormal([R, C]);
          return () => tf.sum(x, axis).dispose();
        }),
      ),
    ]);
  }

  // ---- Adam step over 1M parameters -----------------------------------------------------
  const P = quick ? 1e5 : 1e6;
  await suite(`adam step ${P.toExponential(0).replace('+', '')} params`, 'steps/s', 'steps/s', 1, [
    tgImpl('tapegrad', THREADS, () => {
      const p = new nn.Parameter(randn([P]));
      p.grad = randn([P]);
      const opt = new optim.Adam([p], { lr: 1e-3 });
      return () => opt.step();
    }),
    ...(['wasm', 'cpu'] as const).map((be) =>
      tfImpl(be, () => {
        const v = tf.variable(tf.randomNormal([P]), true, `adam-${be}-${Math.round(P)}`);
        const g = tf.randomNormal([P]);
        const opt = tf.train.adam(1e-3);
        return () => opt.applyGradients([{ name: v.name, tensor: g }]);
      }),
    ),
  ]);

  // ---- Muon and Adafactor steps: the fused WebAssembly kernels vs the reference update (issue 14) ----
  // 'tapegrad' is the default (fused, float32), 'tapegrad-unfused' the TypeScript reference kernel.
  const reference = {
    muon: () => optim.setUpdateKernel('muon', optim.muonUpdate),
    adafactor: () => optim.setUpdateKernel('adafactor', optim.adafactorUpdate),
  };
  const fusedVsReference = (name: 'muon' | 'adafactor', make: () => optim.Optimizer): Impl[] =>
    [true, false].map((fused) =>
      tgImpl(fused ? 'tapegrad' : 'tapegrad-unfused', THREADS, () => {
        const opt = make();
        return () => {
          if (!fused) reference[name]();
          opt.step();
          if (!fused) optim.resetUpdateKernel(name);
        };
      }),
    );
  const withGrad = (shape: number[]): nn.Parameter => {
    const p = new nn.Parameter(randn(shape));
    p.grad = randn(shape);
    return p;
  };
  for (const [r, c] of quick
    ? [[128, 128]]
    : [
        [256, 256],
        [256, 1024],
      ]) {
    await suite(
      `muon step [${r},${c}]`,
      'steps/s',
      'steps/s',
      1,
      fusedVsReference('muon', () => new optim.Muon([withGrad([r!, c!])], { lr: 0.02 })),
    );
  }
  for (const shape of quick ? [[256, 256]] : [[1024, 1024], [4096, 256], [1 << 20]]) {
    await suite(
      `adafactor step [${shape.join(',')}]`,
      'steps/s',
      'steps/s',
      1,
      fusedVsReference('adafactor', () => new optim.Adafactor([withGrad(shape)], { lr: 1e-2, weightDecay: 0.01 })),
    );
  }

  // ---- MLP training steps ---------------------------------------------------------------
  const mlps: [number[], number][] = quick
    ? [[[784, 128, 10], 64]]
    : [
        [[784, 128, 10], 64],
        [[784, 512, 512, 10], 128],
      ];
  for (const [sizes, batch] of mlps) {
    const mk = (s: Step) => () => s.step();
    await suite(`mlp ${sizes.join('-')} b${batch} adam`, 'steps/s', 'steps/s', 1, [
      tgImpl('tapegrad', THREADS, () => mk(tapegradMlp(sizes, batch))),
      tgImpl('tapegrad-1t', 1, () => mk(tapegradMlp(sizes, batch))),
      tfImpl('wasm', () => mk(tfMlp(tf, sizes, batch))),
      ...(quick || sizes.length === 3 ? [tfImpl('cpu', () => mk(tfMlp(tf, sizes, batch)))] : []),
    ]);
  }

  // ---- GPT-style char model step (examples/lib/gpt.ts: 2 layers, d=64, 4 heads, T=32, b16, AdamW) ----
  {
    const mk = (s: Step) => () => s.step();
    await suite('gpt 2x64 h4 T32 b16 adamw', 'steps/s', 'steps/s', 1, [
      tgImpl('tapegrad', THREADS, () => mk(tapegradGpt())),
      ...(quick ? [] : [tgImpl('tapegrad-1t', 1, () => mk(tapegradGpt()))]),
      tfImpl('wasm', () => mk(tfGpt(tf))),
    ]);
  }

  // ---- CNN training step (the models issue's LeNet-ish CNN, batch 32, Adam) ----------------------
  const cnnSuite = 'cnn lenet b32 adam';
  if (!only || cnnSuite.includes(only)) {
    // TF.js's WASM backend has no Conv2DBackpropFilter kernel: record that instead of a number.
    useTf('wasm');
    const wasmErr = tfCnnError(tf);
    if (wasmErr) console.log(`${cnnSuite}: tfjs-wasm cannot train it: ${wasmErr}`);
    const mk = (s: Step) => () => s.step();
    // TF.js-CPU runs ~0.3–0.5 steps/s: a short run so the suite stays minutes, not tens of minutes.
    await suite(cnnSuite, 'steps/s', 'steps/s', 1, [
      tgImpl('tapegrad', THREADS, () => mk(tapegradCnn(32))),
      tgImpl('tapegrad-1t', 1, () => mk(tapegradCnn(32))),
      ...(wasmErr ? [] : [tfImpl('wasm', () => mk(tfCnn(tf, 32)))]),
      tfImpl('cpu', () => mk(tfCnn(tf, 32))),
    ]);
    // PyTorch, when importable, in a child process after the in-process rounds, same thread count.
    const pt = torchCnn(32, THREADS, quick ? 1 : 5, quick ? 0.3 : 2);
    if (typeof pt === 'string') console.log(`${cnnSuite}: PyTorch peer skipped (${pt})`);
    else {
      const med = [...pt.stepsPerSec].sort((a, b2) => a - b2)[Math.floor(pt.stepsPerSec.length / 2)]!;
      console.log(
        `${cnnSuite}: pytorch ${pt.version} ${med.toPrecision(3)} steps/s (rounds ${pt.stepsPerSec.map((v) => v.toFixed(0)).join(', ')})`,
      );
      rows.push({
        suite: cnnSuite,
        impl: 'pytorch',
        metric: 'steps/s',
        unit: 'steps/s',
        value: med,
        medianMs: 1e3 / med,
        samples: pt.stepsPerSec.length,
      });
      const tg = rows.find((r) => r.suite === cnnSuite && r.impl === 'tapegrad')?.value;
      if (tg !== undefined) console.log(`${cnnSuite}: tapegrad ÷ pytorch = ${(tg / med).toFixed(2)}`);
    }
  }

  // ---- peak RSS over training steps (one child process each) -------------------------------
  const rss: Record<string, { maxRssMB: number; rssMB: number[] }> = {};
  if (!args.includes('--no-rss') && (!only || 'rss'.includes(only))) {
    const steps = quick ? 30 : 1000;
    for (const impl of ['tapegrad', 'tfjs-wasm', 'tfjs-cpu']) {
      const r = spawnSync(process.execPath, [...childImports(), join(here, 'rss-child.ts'), impl, String(steps)], {
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`rss child ${impl} failed:\n${r.stderr}`);
      const line = r.stdout.trim().split('\n').pop()!;
      rss[impl] = JSON.parse(line) as { maxRssMB: number; rssMB: number[] };
      console.log(
        `peak RSS ${impl} over ${steps} steps: ${rss[impl]!.maxRssMB} MB (samples ${rss[impl]!.rssMB.join(', ')})`,
      );
      rows.push({
        suite: `peak RSS mlp 784-128-10 b64 x${steps}`,
        impl,
        metric: 'MB',
        unit: 'MB',
        value: rss[impl]!.maxRssMB,
        medianMs: 0,
        samples: 1,
      });
    }
  }

  // ---- table --------------------------------------------------------------------------
  const suites = [...new Set(rows.map((r) => r.suite))];
  const table = suites.map((s) => {
    const get = (impl: string) => rows.find((r) => r.suite === s && r.impl === impl)?.value;
    const tg = get('tapegrad'),
      tg1 = get('tapegrad-1t'),
      w = get('tfjs-wasm'),
      c = get('tfjs-cpu');
    const unit = rows.find((r) => r.suite === s)!.unit;
    const ratio = (x?: number, y?: number) => (x !== undefined && y !== undefined ? +(x / y).toFixed(2) : null);
    return {
      suite: s,
      unit,
      tapegrad: tg,
      tapegrad1t: tg1,
      tfjsWasm: w,
      tfjsCpu: c,
      vsWasm: ratio(tg, w),
      vsWasm1t: ratio(tg1, w),
      vsCpu: ratio(tg, c),
    };
  });
  const fmt = (v: number | undefined | null) =>
    v === undefined || v === null ? '—' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  console.log(
    `\n| benchmark | unit | tapegrad (${THREADS}t) | tapegrad (1t) | tfjs-wasm | tfjs-cpu | ×wasm | ×wasm (1t) | ×cpu |`,
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const t of table) {
    console.log(
      `| ${t.suite} | ${t.unit} | ${fmt(t.tapegrad)} | ${fmt(t.tapegrad1t)} | ${fmt(t.tfjsWasm)} | ${fmt(t.tfjsCpu)} | ${fmt(t.vsWasm)} | ${fmt(t.vsWasm1t)} | ${fmt(t.vsCpu)} |`,
    );
  }
  console.log('(peak RSS: lower is better, so its ratio below 1 is good)');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ ...info, table, rows }, null, 2) + '\n');
  console.log(`\nwrote ${out}`);
}

function nnMatmul(x: Tensor, y: Tensor, ta: boolean, tb: boolean): Tensor {
  return ta || tb ? matmulT(x, y, ta, tb) : x.matmul(y);
}
import { matmul as matmulT0 } from '../src/ops/matmul.js';
const matmulT = (x: Tensor, y: Tensor, transA: boolean, transB: boolean): Tensor => matmulT0(x, y, { transA, transB });

await main();
