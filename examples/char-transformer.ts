/**
 * A GPT-style character model on Moby-Dick (public domain; examples/data/moby-dick.txt, see its README):
 * token + position embeddings, 2 pre-norm blocks of causal multi-head self-attention
 * (`scaledDotProductAttention` with `isCausal`) and a GELU MLP, LayerNorm, trained with AdamW and
 * linear warmup + cosine decay (`optim.LambdaLR`). The model is examples/lib/gpt.ts, which the
 * benchmark bench/gpt.ts times too.
 *
 * The first 90% of the text trains, the last 10% validates. Reports the validation loss in bits per
 * character against the unigram baseline (the cross-entropy of the validation text under the training
 * text's character frequencies), prints a sample, and writes char-transformer.svg (train and validation bits/char).
 *
 *   npx tsx examples/char-transformer.ts [--steps 1500] [--lr 3e-3] [--seed 0] [--out out/] [--quick]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Generator, manualSeed, noGrad, optim, Tensor } from '../src/index.js';
import { Gpt, makeOptimizer, warmupCosine, type GptConfig } from './lib/gpt.js';
import { lineChartSvg } from './lib/plot.js';
import { fmtTime, Progress } from './lib/progress.js';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string' },
    lr: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    quick: { type: 'boolean' },
    'sample-length': { type: 'string' },
  },
});
const quick = args.quick ?? false;
const steps = Number(args.steps ?? (quick ? 3 : 1500));
const lr = Number(args.lr ?? 3e-3);
const seed = Number(args.seed ?? 0);
const outDir = resolve(args.out ?? 'out');
const sampleLength = Number(args['sample-length'] ?? (quick ? 10 : 400));
const batchSize = 16,
  blockSize = 32,
  evalBatches = quick ? 1 : 40,
  evalEvery = quick ? 2 : 100;
const LN2 = Math.LN2;

// ---- data ---------------------------------------------------------------------------------------
const text = readFileSync(new URL('./data/moby-dick.txt', import.meta.url), 'utf8').replace(/\r\n/g, '\n');
const chars = [...new Set(text)].sort();
const stoi = new Map(chars.map((c, i) => [c, i]));
const ids = Int32Array.from(text, (c) => stoi.get(c)!);
const nTrain = Math.floor(0.9 * ids.length);
const trainIds = ids.subarray(0, nTrain),
  valIds = ids.subarray(nTrain);
console.log(
  `Moby-Dick: ${ids.length.toLocaleString('en')} characters, vocabulary ${chars.length}; ` +
    `${trainIds.length.toLocaleString('en')} train, ${valIds.length.toLocaleString('en')} validation`,
);

// Unigram baseline: validation cross-entropy (bits/char) under the training character frequencies (add-one smoothed).
const counts = new Float64Array(chars.length).fill(1);
for (const c of trainIds) counts[c]! += 1;
const total = counts.reduce((a, b) => a + b, 0);
let unigram = 0;
for (const c of valIds) unigram -= Math.log2(counts[c]! / total);
unigram /= valIds.length;

function batch(src: Int32Array, g: Generator): { x: Tensor; y: Tensor } {
  const x = new Int32Array(batchSize * blockSize),
    y = new Int32Array(batchSize * blockSize);
  for (let b = 0; b < batchSize; b++) {
    const start = Math.floor(g.uniform() * (src.length - blockSize - 1));
    x.set(src.subarray(start, start + blockSize), b * blockSize);
    y.set(src.subarray(start + 1, start + blockSize + 1), b * blockSize);
  }
  return { x: new Tensor(x, [batchSize, blockSize]), y: new Tensor(y, [batchSize, blockSize]) };
}

// ---- model ----------------------------------------------------------------------------------------
manualSeed(seed);
const cfg: GptConfig = { vocabSize: chars.length, blockSize, nLayer: 2, nHead: 4, nEmbd: 64, dropout: 0 };
const model = new Gpt(cfg);
const opt = makeOptimizer(model, lr);
const warmup = Math.max(1, Math.min(100, Math.floor(steps / 10)));
const sched = new optim.LambdaLR(opt, { lrLambda: warmupCosine(warmup, steps) });
console.log(
  `model: ${cfg.nLayer} layers, d=${cfg.nEmbd}, ${cfg.nHead} heads, context ${blockSize}; ` +
    `${model.numParameters().toLocaleString('en')} parameters; AdamW lr ${lr}, warmup ${warmup} + cosine, ${steps} steps of batch ${batchSize}`,
);

/** Mean validation (or training) loss in bits/char over fixed batches. */
function evaluate(src: Int32Array, seedOffset: number): number {
  model.eval();
  const g = new Generator(seed + seedOffset);
  let s = 0;
  noGrad(() => {
    for (let i = 0; i < evalBatches; i++) {
      const { x, y } = batch(src, g);
      s += model.loss(x, y).item();
    }
  });
  model.train();
  return s / evalBatches / LN2;
}

const data = new Generator(seed + 1);
const trainCurve: [number, number][] = [],
  valCurve: [number, number][] = [];
const bar = new Progress('training', steps);
let smooth = NaN,
  val = NaN;
const t0 = performance.now();
for (let s = 1; s <= steps; s++) {
  const { x, y } = batch(trainIds, data);
  const loss = model.loss(x, y);
  opt.zeroGrad();
  loss.backward();
  optim.clipGradNorm(model.parameters(), 1);
  opt.step();
  sched.step();
  const l = loss.item() / LN2;
  smooth = Number.isNaN(smooth) ? l : 0.95 * smooth + 0.05 * l;
  if (s % evalEvery === 0 || s === steps) {
    val = evaluate(valIds, 2);
    trainCurve.push([s, smooth]);
    valCurve.push([s, val]);
  }
  bar.update(s, `train ${smooth.toFixed(3)} bits/char  val ${Number.isNaN(val) ? '—' : val.toFixed(3)}`);
}
const trainCpuMs = bar.cpuMs();
const trainMs = bar.done();
const stepMs = (performance.now() - t0) / steps; // includes the periodic evaluations

// ---- sample -------------------------------------------------------------------------------------------
function sample(prompt: string, n: number, temperature: number, g: Generator): string {
  const out = Array.from(prompt, (c) => stoi.get(c) ?? 0);
  model.eval();
  noGrad(() => {
    for (let i = 0; i < n; i++) {
      const ctx = out.slice(-blockSize);
      const logits = model.forward(new Tensor(Int32Array.from(ctx), [1, ctx.length]));
      const last = logits
        .slice([null, [ctx.length - 1, ctx.length]])
        .reshape([-1])
        .div(temperature)
        .softmax(-1).data;
      let u = g.uniform(),
        k = 0;
      while (k < last.length - 1 && (u -= last[k]!) > 0) k++;
      out.push(k);
    }
  });
  return out.map((k) => chars[k]).join('');
}
const finalTrain = evaluate(trainIds, 3);
const finalVal = evaluate(valIds, 2);
console.log('\n| model | validation bits/char | train bits/char | steps | ms/step | wall time (CPU time) |');
console.log('|---|---:|---:|---:|---:|---:|');
console.log(`| unigram (train frequencies) | ${unigram.toFixed(3)} | — | — | — | — |`);
console.log(
  `| GPT ${cfg.nLayer}×${cfg.nEmbd}, ${cfg.nHead} heads | ${finalVal.toFixed(3)} | ${finalTrain.toFixed(3)} | ${steps} | ` +
    `${stepMs.toFixed(1)} | ${fmtTime(trainMs)} (${fmtTime(trainCpuMs)}) |`,
);
console.log(
  `validation: ${finalVal.toFixed(3)} bits/char vs unigram ${unigram.toFixed(3)} (${(100 * (1 - finalVal / unigram)).toFixed(1)}% lower)`,
);
console.log(
  `\nsample (temperature 0.8):\n${sample('Call me Ishmael. ', sampleLength, 0.8, new Generator(seed + 4))}\n`,
);

mkdirSync(outDir, { recursive: true });
writeFileSync(
  join(outDir, 'char-transformer.svg'),
  await lineChartSvg({
    title: 'GPT-style character model on Moby-Dick',
    xLabel: 'training step',
    yLabel: 'bits per character',
    series: [
      { name: 'train (smoothed)', points: trainCurve },
      { name: 'validation', points: valCurve },
      {
        name: 'unigram baseline',
        points: [
          [1, unigram],
          [steps, unigram],
        ],
      },
    ],
  }),
);
console.log(`wrote ${join(outDir, 'char-transformer.svg')}`);
