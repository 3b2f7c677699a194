/** TF.js peers in this process: @tensorflow/tfjs-backend-cpu and @tensorflow/tfjs-backend-wasm. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { rmSync } from 'node:fs';

export { tf };
export type TfBackend = 'cpu' | 'wasm';

/**
 * tfjs-core's Node entry (a CJS bundle) leaves out the gradient registrations, and its ESM
 * dist cannot be imported by Node (extensionless imports). Bundle register_all_gradients with
 * esbuild (already here as tsx's dependency) once into a CJS file and require it: gradients
 * register in tfjs's global registry and call ops through its global engine, so the second
 * copy of the op code is harmless.
 */
async function registerGradients(require: NodeJS.Require): Promise<void> {
  const esbuild = (await import('esbuild')) as typeof import('esbuild');
  const outfile = join(tmpdir(), `tapegrad-bench-tf-gradients-${process.pid}.cjs`);
  await esbuild.build({
    entryPoints: [require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile,
    logLevel: 'error',
  });
  require(outfile);
  rmSync(outfile, { force: true });
}

let ready = false;
/** Initialises both backends once (wasm loads its .wasm from node_modules). */
export async function initTf(): Promise<void> {
  if (ready) return;
  const require = createRequire(import.meta.url);
  await registerGradients(require);
  setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs-backend-wasm failed to initialise');
  if (!(await tf.setBackend('cpu'))) throw new Error('tfjs-backend-cpu failed to initialise');
  ready = true;
}
/**
 * Switches backend synchronously (both are initialised, so setBackend's body runs to completion
 * before its first await). Cheap when already current: call it at the top of every timed body.
 */
export function useTf(b: TfBackend): void {
  if (tf.getBackend() !== b) void tf.setBackend(b);
}
