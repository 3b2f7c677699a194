/**
 * The layering of src/ (see /docs/contributing.md): user code → Tensor → ops/ → backend/.
 * `npm run check:deps` (CI) fails on any violation. Type-only imports count too.
 */
const CORE_LOOP = '^src/(tensor\\.ts|tape\\.ts|ops/|autograd/)';
module.exports = {
  forbidden: [
    {
      name: 'only-tensor-ops-loop',
      comment: 'The one import cycle eager autograd needs is Tensor ↔ ops (with autograd/ and the tape node type); no other cycle.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaSomeNot: CORE_LOOP },
    },
    {
      name: 'backend-below-tensor',
      comment: 'backend/ speaks buffers: it imports nothing from Tensor, the tape, ops/, autograd/, optim/ or above.',
      severity: 'error',
      from: { path: '^src/backend/' },
      to: { path: '^src/(tensor|tape|index)\\.ts$|^src/(ops|autograd|optim|nn|io|data)/' },
    },
    {
      name: 'optim-uses-public-tensor-api',
      comment: 'optim/ uses Tensor and the fused kernels backends offer (backend/fused.ts), not backend internals or ops/.',
      severity: 'error',
      from: { path: '^src/optim/' },
      to: { path: '^src/(ops|autograd)/|^src/backend/', pathNot: '^src/backend/fused\\.ts$' },
    },
    {
      name: 'core-does-not-import-upper-layers',
      comment: 'tensor, tape, ops/ and autograd/ never import optim/, nn/, io/ or data/.',
      severity: 'error',
      from: { path: '^src/(tensor|tape|shape|dtype|errors|random)\\.ts$|^src/(ops|autograd)/' },
      to: { path: '^src/(optim|nn|io|data)/' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/backend/wasm/(assembly/|build\\.mjs$)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
