/** The committed .wasm (and its base64 twin) must be what `npm run build:wasm` makes from assembly/. */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('wasm build', () => {
  it('the committed binaries match their AssemblyScript source', () => {
    const out = execFileSync(process.execPath, ['src/backend/wasm/build.mjs', '--check'], { encoding: 'utf8' });
    expect(out).toContain('matches');
  }, 120_000);

  it('worker threads do not keep the process alive', () => {
    const code = `
      import { setNumThreads, startThreads, matmul, setWasmThresholds } from './src/backend/wasm/index.ts';
      setNumThreads(2); setWasmThresholds({ parallelFlops: 0 });
      const ready = startThreads(20000);
      const n = 200, a = new Float32Array(n * n).fill(1), o = new Float32Array(n * n);
      matmul(a, [n, n], a, [n, n], o, [n, n], false, false);
      console.log(JSON.stringify({ ready, v: o[0] }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ ready: 2, v: 200 });
  }, 120_000);
});
