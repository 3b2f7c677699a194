/**
 * Times (and, under `node --cpu-prof`, profiles) the GPT-style training step of bench/lib/gpt.ts alone:
 *   npx tsx bench/gpt-prof.ts [--steps=N] [--threads=T]
 *   node --cpu-prof --import tsx bench/gpt-prof.ts --threads=1   (one .cpuprofile per thread)
 * Prints wall-clock quantiles and the process CPU time per step (steadier than wall time on a shared
 * machine). The PyTorch peer of the same step: npx tsx bench/torch.ts --only=gpt.
 */
import { setNumThreads, startThreads } from '../src/backend/wasm/index.js';
import { tapegradGpt } from './lib/gpt.js';

const arg = (k: string, d: number): number =>
  Number(process.argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d);
const threads = arg('threads', 2),
  n = arg('steps', 30);
setNumThreads(threads);
if (threads > 1) startThreads();
const s = tapegradGpt();
for (let i = 0; i < 5; i++) s.step();
const ts: number[] = [];
const c0 = process.cpuUsage();
for (let i = 0; i < n; i++) {
  const t0 = performance.now();
  s.step();
  ts.push(performance.now() - t0);
}
const cpu = process.cpuUsage(c0);
ts.sort((a, b) => a - b);
const q = (p: number): string => ts[Math.min(n - 1, Math.floor(p * n))]!.toFixed(1);
console.log(
  `gpt step ms (${threads} threads, ${n} steps): median ${q(0.5)}, min ${q(0)}, p90 ${q(0.9)}; ` +
    `process CPU ${((cpu.user + cpu.system) / 1e3 / n).toFixed(1)} ms/step`,
);
