/**
 * Memory of the LeNet-ish CNN training step in a plain synchronous loop (no dispose, no yielding):
 * `tsx bench/cnn-memory.ts [steps]` prints RSS and heap every tenth of the run, then JSON
 * { steps, rssMB, heapMB, stepsPerSec }. Flat means the last samples do not grow with the step count.
 */
import { tapegradCnn } from './lib/cnn.js';

const steps = Number(process.argv[2] ?? 1000);
const runner = tapegradCnn(32);
const every = Math.max(1, Math.floor(steps / 10));
const rssMB: number[] = [];
const heapMB: number[] = [];
const t0 = performance.now();
for (let i = 0; i < steps; i++) {
  runner.step();
  if ((i + 1) % every === 0) {
    const m = process.memoryUsage();
    rssMB.push(+(m.rss / 2 ** 20).toFixed(1));
    heapMB.push(+(m.heapUsed / 2 ** 20).toFixed(1));
    console.error(`step ${i + 1}: rss ${rssMB.at(-1)} MB, heap ${heapMB.at(-1)} MB`);
  }
}
const stepsPerSec = +(steps / ((performance.now() - t0) / 1e3)).toFixed(2);
console.log(JSON.stringify({ steps, rssMB, heapMB, stepsPerSec }));
