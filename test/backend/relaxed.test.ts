/**
 * Relaxed SIMD: detected by WebAssembly.validate, never required. On Node 20 `TAPEGRAD_RELAXED_SIMD=1`
 * turns on V8's flag at load; the kernels must then still agree with the reference kernels.
 */
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

const script = `
import * as W from './src/backend/wasm/index.ts';
import * as K from './src/backend/cpu/kernels.ts';
W.forceWasm(true);
const n = 37, a = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i)), b = a.map((v) => v * 0.5 + 0.1);
const o = new Float32Array(n * n), r = new Float32Array(n * n);
W.matmul(a, [n, n], b, [n, n], o, [n, n], false, false);
K.matmul(a, [n, n], b, [n, n], r, [n, n], false, false);
let worst = 0;
for (let i = 0; i < o.length; i++) worst = Math.max(worst, Math.abs(o[i] - r[i]) / (1 + Math.abs(r[i])));
console.log(JSON.stringify({ relaxed: W.wasmInfo().relaxedSimd, worst }));
`;
const run = (flag: string): { relaxed: boolean; worst: number } => {
  const p = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, TAPEGRAD_RELAXED_SIMD: flag },
  });
  expect(p.status, p.stderr).toBe(0);
  return JSON.parse(p.stdout.trim().split('\n').pop()!) as { relaxed: boolean; worst: number };
};

it('TAPEGRAD_RELAXED_SIMD=1 enables relaxed SIMD where the engine has it, and results stay within float32 tolerance', () => {
  const on = run('1');
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= 20) expect(on.relaxed).toBe(true);
  expect(on.worst).toBeLessThan(1e-5);
  const off = run('0');
  expect(off.relaxed).toBe(false);
  expect(off.worst).toBeLessThan(1e-5);
});
