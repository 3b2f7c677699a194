/**
 * A/B of WASM residency (tuning.setWasmMemoryLimits({ resident })) in one process, rounds
 * interleaved, CPU time per call (process.cpuUsage, all threads), medians and quartiles, and wall-time medians:
 *   npx tsx bench/resident.ts [--rounds=N] [--tf] [--only=substring] [--max-blocks=N] [--max-mb=N] [--host-first]
 * Workloads: add 1e6 float32 (host inputs, result dropped, as bench/run.ts), add 1e6 with
 * resident inputs and the result disposed (TF.js's own lifetime rule), GELU [16,32,256]
 * forward+backward, the MLP 784-128-10 b64 Adam step; with --tf, TF.js-WASM add and GELU too.
 */
import { gelu, manualSeed, randn, tuning } from '../src/index.js';
import { startThreads } from '../src/backend/wasm/index.js';
import { tapegradMlp } from './lib/mlp.js';

const args = process.argv.slice(2);
const rounds = Number(args.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 15);
const withTf = args.includes('--tf');
const only = args.find((a) => a.startsWith('--only='))?.slice(7);
const num = (k: string): number | undefined => {
  const v = args.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3);
  return v === undefined ? undefined : Number(v);
};
const maxBlocks = num('max-blocks'),
  maxBytes = num('max-mb');
const limits = {
  ...(maxBlocks !== undefined ? { maxBlocks } : {}),
  ...(maxBytes !== undefined ? { maxBytes: maxBytes * 2 ** 20 } : {}),
};
tuning.setNumThreads(2);
startThreads();

/** CPU milliseconds per call of `f`, over `reps` calls. */
const wallTimes = new Map<string, number[]>();
function cpuMs(f: () => void, reps: number, key: string): number {
  const c0 = process.cpuUsage(),
    t0 = performance.now();
  for (let i = 0; i < reps; i++) f();
  const c = process.cpuUsage(c0);
  wallTimes.set(key, [...(wallTimes.get(key) ?? []), (performance.now() - t0) / reps]);
  return (c.user + c.system) / 1e3 / reps;
}
type Case = { name: string; reps: number; make: () => () => void; ab: boolean };
const n = 1e6,
  shape = [16, 32, 256];
const cases: Case[] = [
  {
    name: 'add 1e6 (host in, dropped)',
    reps: 20,
    ab: true,
    make: () => {
      const x = randn([n]),
        y = randn([n]);
      return () => void x.add(y);
    },
  },
  {
    name: 'add 1e6 (resident in, disposed)',
    reps: 20,
    ab: true,
    make: () => {
      const x = randn([n]).add(0),
        y = randn([n]).add(0);
      return () => x.add(y).dispose();
    },
  },
  {
    name: 'gelu erf [16,32,256] fwd+bwd',
    reps: 10,
    ab: true,
    make: () => {
      const x = randn(shape).requiresGrad_(),
        g = randn(shape);
      return () => {
        x.grad = null;
        gelu(x).backward(g);
      };
    },
  },
  {
    name: 'mlp 784-128-10 b64 adam step',
    reps: 10,
    ab: true,
    make: () => {
      const s = tapegradMlp([784, 128, 10], 64);
      return () => s.step();
    },
  },
];

if (withTf) {
  const { initTf, tf, useTf } = await import('./lib/tf.js');
  await initTf();
  useTf('wasm');
  cases.push(
    {
      name: 'tfjs-wasm add 1e6 (disposed)',
      reps: 20,
      ab: false,
      make: () => {
        const x = tf.randomNormal([n]),
          y = tf.randomNormal([n]);
        return () => tf.add(x, y).dispose();
      },
    },
    {
      name: 'tfjs-wasm gelu erf [16,32,256] fwd+bwd',
      reps: 10,
      ab: false,
      make: () => {
        const x = tf.randomNormal(shape),
          g = tf.randomNormal(shape);
        const f = (t: typeof x) => tf.mul(tf.mul(t, 0.5), tf.add(tf.erf(tf.mul(t, Math.SQRT1_2)), 1));
        const vjp = tf.grad(f);
        return () => tf.tidy(() => void vjp(x, g));
      },
    },
  );
}

const quart = (v: number[]): [number, number, number] => {
  const s = [...v].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))]!;
  return [q(0.25), q(0.5), q(0.75)];
};
manualSeed(0);
for (const c of cases) {
  if (only && !c.name.includes(only)) continue;
  const modes = c.ab ? (args.includes('--host-first') ? [false, true] : [true, false]) : [true];
  const bodies = modes.map((on) => {
    tuning.setWasmMemoryLimits({ ...limits, resident: on });
    const f = c.make();
    f();
    return f;
  });
  const times = modes.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    modes.forEach((on, i) => {
      tuning.setWasmMemoryLimits({ ...limits, resident: on });
      times[i]!.push(cpuMs(bodies[i]!, c.reps, `${c.name} ${on}`));
    });
    await new Promise((res) => setTimeout(res, 5)); // let finalizers run between rounds, as benny does
  }
  const st = tuning.wasmMemoryStats();
  tuning.setWasmMemoryLimits('default');
  const line = modes.map((on, i) => {
    const [q1, med, q3] = quart(times[i]!);
    const wall = quart(wallTimes.get(`${c.name} ${on}`)!)[1];
    const label = c.ab ? (on ? 'resident' : 'host') : '';
    return `${label} cpu ${med.toFixed(3)} ms [${q1.toFixed(3)}–${q3.toFixed(3)}], wall ${wall.toFixed(3)}`;
  });
  const mem = `blocks created ${st.created}, spilled ${st.spilled}, released ${st.released}, finalized ${st.finalized}`;
  console.log(`${c.name}: ${line.join(' | ')}${c.ab ? ` (${mem})` : ''}`);
}
