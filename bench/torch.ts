/**
 * tapegrad vs PyTorch (CPU), an optional peer: runs only where `python3 -c 'import torch'` works
 * (tries `python3`, then `/usr/bin/python3`). Rounds alternate between a PyTorch process and
 * tapegrad in this process, with the same thread count (torch.set_num_threads); medians of rounds.
 * Then peak RSS: each training workload for 1,000 steps (--quick: 30) in its own tapegrad and
 * PyTorch process, a plain synchronous loop (no tidy/dispose), maxRSS as the OS reports it.
 *   npx tsx bench/torch.ts [--quick] [--rounds=N] [--threads=N] [--only=substring] [--no-rss] [--out=file]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gelu, randn, type Tensor } from '../src/index.js';
import { tapegradCnn } from './lib/cnn.js';
import { tapegradGpt } from './lib/gpt.js';
import { setNumThreads, startThreads, wasmInfo } from '../src/backend/wasm/index.js';
import { childImports, tapegradMlp } from './lib/mlp.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const rounds = Number(args.find((a) => a.startsWith('--rounds='))?.slice(9) ?? (quick ? 1 : 5));
const only = args.find((a) => a.startsWith('--only='))?.slice(7) ?? '';
const out =
  args.find((a) => a.startsWith('--out='))?.slice(6) ??
  join(here, 'results', quick ? 'torch-quick.json' : 'torch.json');
const THREADS = Number(args.find((a) => a.startsWith('--threads='))?.slice(10) ?? Math.min(2, availableParallelism()));
const BUDGET = quick ? 0.1 : 1;

function findPython(): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}

function medianSeconds(fn: () => void): number {
  for (let i = 0; i < 3; i++) fn();
  const times: number[] = [];
  const end = performance.now() + BUDGET * 1e3;
  while (performance.now() < end || times.length < 5) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1e3);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}
const step = (s: { step(): void }) => () => s.step();
const TINY_OPS = 300;
/** The same chain as torch_peer.py's tiny_ops: the per-op cost of recording and backward. */
const tinyOps = () => {
  const x = randn([8]).requiresGrad_();
  return () => {
    x.grad = null;
    let h = x;
    for (let i = 0; i < TINY_OPS / 3; i++) h = h.mul(0.9).add(0.1).tanh();
    h.sum().backward();
  };
};
const geluStep = (approximate: 'none' | 'tanh') => {
  const x = randn([16, 32, 256]).requiresGrad_(),
    g = randn([16, 32, 256]);
  return () => {
    x.grad = null;
    gelu(x, approximate).backward(g);
  };
};
const a = randn([1e6]),
  b = randn([1e6]),
  m1 = randn([1024, 1024]),
  m2 = randn([1024, 1024]);
const keep: Tensor[] = [];
const workloads: Record<string, [() => () => void, number, string]> = {
  'add 1e6': [() => () => void a.add(b), 12e6 / 1e9, 'GB/s'],
  'matmul 1024': [() => () => void m1.matmul(m2), (2 * 1024 ** 3) / 1e9, 'GFLOP/s'],
  'mlp 784-128-10 b64 adam': [
    () => {
      const s = tapegradMlp([784, 128, 10], 64);
      return () => s.step();
    },
    1,
    'steps/s',
  ],
  'mlp 784-512-512-10 b128 adam': [
    () => {
      const s = tapegradMlp([784, 512, 512, 10], 128);
      return () => s.step();
    },
    1,
    'steps/s',
  ],
  'gelu erf [16,32,256] fwd+bwd': [() => geluStep('none'), 1, 'steps/s'],
  'gelu tanh [16,32,256] fwd+bwd': [() => geluStep('tanh'), 1, 'steps/s'],
  'gpt 2x64 h4 T32 b16 adamw': [() => step(tapegradGpt()), 1, 'steps/s'],
  'cnn lenet b32 adam': [() => step(tapegradCnn(32)), 1, 'steps/s'],
  '300 tiny ops + backward': [tinyOps, TINY_OPS / 1e6, 'Mops/s'],
};
void keep;

const py = findPython();
if (py === null) {
  console.log('PyTorch peer skipped: neither python3 nor /usr/bin/python3 can import torch');
  process.exit(0);
}
setNumThreads(THREADS);
if (THREADS > 1) startThreads();
const names = Object.keys(workloads).filter((n) => n.includes(only));
const tg: Record<string, number[]> = {},
  pt: Record<string, number[]> = {};
let torchVersion = '';
for (let r = 0; r < rounds; r++) {
  const p = spawnSync(py, [join(here, 'peers', 'torch_peer.py'), String(THREADS), String(BUDGET), only], {
    encoding: 'utf8',
  });
  if (p.status !== 0) throw new Error(`torch peer failed:\n${p.stderr}`);
  const res = JSON.parse(p.stdout.trim().split('\n').pop()!) as { torch: string; values: Record<string, number> };
  torchVersion = res.torch;
  for (const n of names) {
    (pt[n] ??= []).push(res.values[n]!);
    const [make, work] = workloads[n]!;
    (tg[n] ??= []).push(work / medianSeconds(make()));
  }
}
const med = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
const f = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
console.log(
  `tapegrad vs PyTorch ${torchVersion} (${py}), ${THREADS} threads, ${rounds} interleaved rounds, relaxed-SIMD ${wasmInfo().relaxedSimd}`,
);
console.log('| workload | unit | tapegrad | PyTorch | tapegrad ÷ PyTorch |\n|---|---|---:|---:|---:|');
const table = names.map((n) => {
  const t = med(tg[n]!),
    p = med(pt[n]!);
  console.log(`| ${n} | ${workloads[n]![2]} | ${f(t)} | ${f(p)} | ${(t / p).toFixed(2)} |`);
  return {
    workload: n,
    unit: workloads[n]![2],
    tapegrad: t,
    torch: p,
    ratio: t / p,
    tapegradRounds: tg[n],
    torchRounds: pt[n],
  };
});

// Peak RSS of the training workloads, each in its own process (tapegrad and PyTorch alternately).
const rss: { workload: string; steps: number; tapegradMB: number; torchMB: number; ratio: number }[] = [];
if (!args.includes('--no-rss')) {
  const steps = quick ? 30 : 1000;
  for (const n of names.filter((x) => workloads[x]![2] === 'steps/s' && !x.startsWith('gelu'))) {
    const t = spawnSync(
      process.execPath,
      [...childImports(), join(here, 'rss-child.ts'), 'tapegrad', String(steps), n],
      {
        encoding: 'utf8',
      },
    );
    if (t.status !== 0) throw new Error(`rss child failed:\n${t.stderr}`);
    const p = spawnSync(py, [join(here, 'peers', 'torch_peer.py'), String(THREADS), '--rss', n, String(steps)], {
      encoding: 'utf8',
    });
    if (p.status !== 0) throw new Error(`torch rss peer failed:\n${p.stderr}`);
    const last = (o: string) => JSON.parse(o.trim().split('\n').pop()!) as { maxRssMB: number };
    const tMB = last(t.stdout).maxRssMB,
      pMB = last(p.stdout).maxRssMB;
    rss.push({ workload: n, steps, tapegradMB: tMB, torchMB: pMB, ratio: tMB / pMB });
  }
  console.log('\n| peak RSS | steps | tapegrad MB | PyTorch MB | tapegrad ÷ PyTorch |\n|---|---:|---:|---:|---:|');
  for (const r of rss)
    console.log(`| ${r.workload} | ${r.steps} | ${r.tapegradMB} | ${r.torchMB} | ${r.ratio.toFixed(2)} |`);
}
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify(
    { date: new Date().toISOString(), node: process.version, torch: torchVersion, threads: THREADS, table, rss },
    null,
    2,
  ) + '\n',
);
