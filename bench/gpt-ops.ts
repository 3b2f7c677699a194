/**
 * Per-primitive breakdown of the GPT-style training step (bench/lib/gpt.ts): calls and kernel
 * milliseconds per step for every primitive, to find what to fuse. Not a benchmark (the timing wraps
 * every kernel call):  npx tsx bench/gpt-ops.ts [--steps=N] [--threads=T]
 */
import { registry } from '../src/ops/registry.js';
import { setNumThreads, startThreads } from '../src/backend/wasm/index.js';
import { tapegradGpt } from './lib/gpt.js';

const steps = Number(process.argv.find((a) => a.startsWith('--steps='))?.slice(8) ?? 10);
const threads = Number(process.argv.find((a) => a.startsWith('--threads='))?.slice(10) ?? 2);
setNumThreads(threads);
if (threads > 1) startThreads();
const stats = new Map<string, { calls: number; ms: number; elems: number }>();
for (const def of Object.values(registry)) {
  const fwd = def.forward as (...a: unknown[]) => { shape?: readonly number[] };
  (def as { forward: unknown }).forward = (...a: unknown[]) => {
    const t0 = performance.now();
    const r = fwd.apply(def, a);
    const s = stats.get(def.name) ?? { calls: 0, ms: 0, elems: 0 };
    s.calls++;
    s.ms += performance.now() - t0;
    s.elems += (r.shape ?? []).reduce((x, y) => x * y, 1);
    stats.set(def.name, s);
    return r;
  };
}
const s = tapegradGpt();
for (let i = 0; i < 3; i++) s.step();
stats.clear();
const t0 = performance.now();
for (let i = 0; i < steps; i++) s.step();
const total = (performance.now() - t0) / steps;
let kernels = 0,
  calls = 0;
const rows = [...stats].sort((a, b) => b[1].ms - a[1].ms);
for (const [, v] of rows) {
  kernels += v.ms / steps;
  calls += v.calls / steps;
}
console.log(
  `step ${total.toFixed(1)} ms; kernels ${kernels.toFixed(1)} ms in ${calls} calls; rest ${(total - kernels).toFixed(1)} ms`,
);
for (const [k, v] of rows)
  console.log(
    `${k.padEnd(22)} ${String(v.calls / steps).padStart(5)} calls ${(v.ms / steps).toFixed(2).padStart(7)} ms` +
      `  ${((v.ms / v.calls) * 1e3).toFixed(0).padStart(6)} µs/call  ${(v.elems / v.calls).toFixed(0).padStart(7)} elems/call`,
  );
