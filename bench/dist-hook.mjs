// `node --import ./bench/dist-hook.mjs --import tsx bench/<suite>.ts` times the built package (dist/, what
// `import 'tapegrad'` loads) instead of src/ through tsx: every import of tapegrad's src/*.js resolves to the same
// file in dist/ (run `npm run build` first). tsx's on-the-fly transform adds per-call work (esbuild's keepNames
// wrappers) that compiled code does not have, which matters for op-overhead-bound workloads.
import { existsSync } from 'node:fs';
import { register } from 'node:module';

if (!existsSync(new URL('../dist/index.js', import.meta.url))) {
  throw new Error('bench/dist-hook.mjs: dist/ is missing; run `npm run build` first');
}
process.env['TAPEGRAD_BENCH_DIST'] = '1';
register('./dist-resolve.mjs', import.meta.url);
