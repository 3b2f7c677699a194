/**
 * GPU benchmark (issue 5), self-contained: our GPU backend (gpu.js on headless-gl), our CPU
 * backend and TF.js (cpu and wasm backends) on the same inputs in one run, written as a JSON table.
 *
 *   xvfb-run -a npx tsx bench/gpu.ts [--quick] [--out bench/gpu-results.json]
 *   bench/gpu-machine.sh is the wrapper that sets up a display and runs this on any machine.
 *
 * Timings are medians of wall-clock runs after one warm-up (which includes kernel compilation).
 * GPU work is synchronised by reading the result back, so "gpu" rows include upload + readback;
 * "gpu-resident" rows chain 10 ops on textures already on the GPU and read back once.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import os from 'node:os';
import { Generator, Tensor, optim } from '../src/index.js';
import { backendInfo, setBackend } from '../src/backend/gpu/index.js';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const outPath =
  args[args.indexOf('--out') + 1] && args.includes('--out')
    ? args[args.indexOf('--out') + 1]!
    : 'bench/gpu-results.json';
const maxSeconds = Number(process.env['BENCH_MAX_SECONDS'] ?? (quick ? 1.5 : 3));

const MATMUL = quick ? [256, 512, 1024] : [256, 512, 1024, 2048];
const ELEMENTWISE = quick ? [1e5, 1e6] : [1e5, 1e6, 1e7];

interface Row {
  suite: string;
  size: string;
  impl: string;
  ms: number;
  reps: number;
  note?: string;
}
const rows: Row[] = [];

function data(n: number, seed: number): Float32Array {
  const g = new Generator(seed);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = 2 * g.uniform() - 1;
  return d;
}

/** Median ms of fn over repetitions after one warm-up, stopping at `maxSeconds` or 7 reps. */
async function time(fn: () => unknown | Promise<unknown>): Promise<{ ms: number; reps: number }> {
  await fn();
  const ts: number[] = [];
  const start = performance.now();
  while (ts.length < 7 && (ts.length < 2 || performance.now() - start < maxSeconds * 1000)) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return { ms: ts[Math.floor(ts.length / 2)]!, reps: ts.length };
}

async function record(suite: string, size: string, impl: string, fn: () => unknown, note?: string): Promise<void> {
  try {
    const r = await time(fn);
    rows.push({ suite, size, impl, ...r, ...(note ? { note } : {}) });
    console.log(
      `${suite.padEnd(12)} ${size.padEnd(14)} ${impl.padEnd(14)} ${r.ms.toFixed(2).padStart(10)} ms  (${r.reps} reps)`,
    );
  } catch (e) {
    rows.push({ suite, size, impl, ms: NaN, reps: 0, note: `failed: ${(e as Error).message.split('\n')[0]}` });
    console.log(`${suite} ${size} ${impl} failed: ${(e as Error).message.split('\n')[0]}`);
  }
}

async function tfBackends(): Promise<string[]> {
  const names = ['cpu'];
  try {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    setWasmPaths(dir + '/');
    if (await tf.setBackend('wasm')) names.push('wasm');
  } catch (e) {
    console.log(`TF.js wasm backend unavailable: ${(e as Error).message}`);
  }
  return names;
}

async function main(): Promise<void> {
  let gpuOk = true;
  try {
    setBackend('gpu');
  } catch (e) {
    gpuOk = false;
    console.log(`GPU backend unavailable, GPU rows skipped: ${(e as Error).message}`);
  }
  const info = backendInfo();
  setBackend('cpu');
  const tfNames = await tfBackends();
  const ours = gpuOk ? (['cpu', 'gpu'] as const) : (['cpu'] as const);

  // ---- matmul n×n @ n×n ------------------------------------------------------------------
  for (const n of MATMUL) {
    const a = new Tensor(data(n * n, 1), [n, n]),
      b = new Tensor(data(n * n, 2), [n, n]);
    for (const be of ours) {
      setBackend(be);
      await record('matmul', `${n}`, `tapegrad-${be}`, () => a.matmul(b).data);
      if (be === 'gpu') {
        const ga = a.add(0),
          gb = b.add(0); // resident copies
        await record(
          'matmul',
          `${n}`,
          'tapegrad-gpu-resident',
          () =>
            ga.matmul(gb).slice([
              [0, 1],
              [0, 1],
            ]).data,
          'inputs on GPU; one element read back',
        );
      }
      setBackend('cpu');
    }
    for (const t of tfNames) {
      await tf.setBackend(t);
      const ta = tf.tensor2d(a.data as Float32Array, [n, n]),
        tb = tf.tensor2d(b.data as Float32Array, [n, n]);
      await record('matmul', `${n}`, `tfjs-${t}`, () => tf.tidy(() => tf.matMul(ta, tb).dataSync()));
      ta.dispose();
      tb.dispose();
    }
  }

  // ---- elementwise: a + b, then relu ---------------------------------------------------------
  for (const n of ELEMENTWISE) {
    const a = new Tensor(data(n, 3), [n]),
      b = new Tensor(data(n, 4), [n]);
    for (const be of ours) {
      setBackend(be);
      await record('elementwise', `${n}`, `tapegrad-${be}`, () => a.add(b).data, 'a.add(b)');
      if (be === 'gpu') {
        const ga = a.add(0),
          gb = b.add(0);
        await record(
          'elementwise',
          `${n}`,
          'tapegrad-gpu-resident',
          () => {
            let x = ga;
            for (let i = 0; i < 10; i++) x = x.add(gb);
            return x.slice([[0, 1]]).data;
          },
          '10 chained adds on GPU, one element read back; per add = ms/10',
        );
        rows[rows.length - 1]!.ms /= 10;
      }
      setBackend('cpu');
    }
    for (const t of tfNames) {
      await tf.setBackend(t);
      const ta = tf.tensor1d(a.data as Float32Array),
        tb = tf.tensor1d(b.data as Float32Array);
      await record('elementwise', `${n}`, `tfjs-${t}`, () => tf.tidy(() => tf.add(ta, tb).dataSync()), 'add');
      ta.dispose();
      tb.dispose();
    }
  }

  // ---- one MLP training step: 256×784 → 256 → 10, MSE, Adam ----------------------------------
  const B = 256,
    D = 784,
    H = 256,
    C = 10;
  const X = new Tensor(data(B * D, 5), [B, D]),
    Y = new Tensor(data(B * C, 6), [B, C]);
  for (const be of ours) {
    setBackend(be);
    const W1 = new Tensor(
      data(D * H, 7).map((v) => v * 0.05),
      [D, H],
    ).requiresGrad_();
    const b1 = new Tensor(new Float32Array(H), [H]).requiresGrad_();
    const W2 = new Tensor(
      data(H * C, 8).map((v) => v * 0.1),
      [H, C],
    ).requiresGrad_();
    const b2 = new Tensor(new Float32Array(C), [C]).requiresGrad_();
    const opt = new optim.Adam([W1, b1, W2, b2], { lr: 1e-3 });
    await record(
      'mlp-step',
      `${B}x${D}-${H}-${C}`,
      `tapegrad-${be}`,
      () => {
        opt.zeroGrad();
        const loss = X.matmul(W1).add(b1).relu().matmul(W2).add(b2).sub(Y).square().mean();
        loss.backward();
        opt.step();
        return loss.item();
      },
      'forward + backward + Adam',
    );
    setBackend('cpu');
  }
  for (const t of tfNames) {
    await tf.setBackend(t);
    const tX = tf.tensor2d(X.data as Float32Array, [B, D]),
      tY = tf.tensor2d(Y.data as Float32Array, [B, C]);
    const W1 = tf.variable(
      tf.tensor2d(
        data(D * H, 7).map((v) => v * 0.05),
        [D, H],
      ),
    );
    const b1 = tf.variable(tf.zeros([H]));
    const W2 = tf.variable(
      tf.tensor2d(
        data(H * C, 8).map((v) => v * 0.1),
        [H, C],
      ),
    );
    const b2 = tf.variable(tf.zeros([C]));
    const opt = tf.train.adam(1e-3);
    // tfjs-core alone registers no gradients, so the backward pass is written out (same work).
    await record(
      'mlp-step',
      `${B}x${D}-${H}-${C}`,
      `tfjs-${t}`,
      () => {
        const v = tf.tidy(() => {
          const h = tf.relu(tf.add(tf.matMul(tX, W1), b1));
          const d = tf.sub(tf.add(tf.matMul(h, W2), b2), tY);
          const loss = tf.mean(tf.square(d));
          const dP = tf.mul(d, 2 / (B * C));
          const dH = tf.mul(tf.matMul(dP, W2, false, true), tf.step(h));
          opt.applyGradients({
            [W2.name]: tf.matMul(h, dP, true, false),
            [b2.name]: tf.sum(dP, 0),
            [W1.name]: tf.matMul(tX, dH, true, false),
            [b1.name]: tf.sum(dH, 0),
          });
          return loss.dataSync()[0];
        });
        return v;
      },
      'forward + backward + Adam',
    );
  }

  const result = {
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '',
      node: process.version,
      platform: process.platform,
    },
    gpu: gpuOk
      ? { mode: info.gpuMode, renderer: info.renderer, glRenderer: process.env['TAPEGRAD_GL_RENDERER'] ?? null }
      : null,
    quick,
    rows,
  };
  mkdirSync(dirname(join(process.cwd(), outPath)), { recursive: true });
  writeFileSync(outPath, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${outPath}`);
}

await main();
