/**
 * One peak-RSS measurement in its own process: `tsx bench/rss-child.ts <impl> <steps> [workload]`,
 * impl one of tapegrad | tfjs-wasm | tfjs-cpu. Trains the workload (default the 784-128-10 batch-64
 * MLP with Adam; tapegrad also runs the other training workloads of bench/torch.ts by name) in a
 * plain synchronous loop and prints JSON { maxRssMB, rssMB: [samples], steps }.
 */
import { setTimeout as sleep } from 'node:timers/promises';

const impl = process.argv[2] ?? 'tapegrad';
const steps = Number(process.argv[3] ?? 1000);
const workload = process.argv[4] ?? 'mlp 784-128-10 b64 adam';
const sizes = [784, 128, 10],
  batch = 64;

let runner: { step(): void };
if (impl === 'tapegrad' && workload !== 'mlp 784-128-10 b64 adam') {
  const { tapegradMlp } = await import('./lib/mlp.js');
  const { tapegradGpt } = await import('./lib/gpt.js');
  const { tapegradCnn } = await import('./lib/cnn.js');
  const make: Record<string, () => { step(): void }> = {
    'mlp 784-512-512-10 b128 adam': () => tapegradMlp([784, 512, 512, 10], 128),
    'gpt 2x64 h4 T32 b16 adamw': () => tapegradGpt(),
    'cnn lenet b32 adam': () => tapegradCnn(32),
  };
  const mk = make[workload];
  if (!mk) throw new Error(`rss-child: unknown workload '${workload}' (known: ${Object.keys(make).join(', ')})`);
  runner = mk();
} else if (impl === 'tapegrad') {
  const { tapegradMlp } = await import('./lib/mlp.js');
  runner = tapegradMlp(sizes, batch);
} else {
  const { tf, initTf, useTf } = await import('./lib/tf.js');
  const { tfMlp } = await import('./lib/mlp.js');
  await initTf();
  useTf(impl === 'tfjs-wasm' ? 'wasm' : 'cpu');
  await sleep(0);
  runner = tfMlp(tf, sizes, batch);
}
const samples: number[] = [];
const every = Math.max(1, Math.floor(steps / 10));
for (let i = 0; i < steps; i++) {
  runner.step();
  if ((i + 1) % every === 0) samples.push(+(process.memoryUsage().rss / 2 ** 20).toFixed(1));
}
const maxRssMB = +(process.resourceUsage().maxRSS / 1024).toFixed(1);
process.stdout.write(JSON.stringify({ impl, steps, maxRssMB, rssMB: samples }) + '\n');
