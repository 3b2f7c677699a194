/**
 * Smoke-runs every examples/*.ts with --quick and a temporary --out folder, as a child process
 * (`node --import tsx`), so the examples never rot: exit code 0 and the files each one promises.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSafetensors, nn } from '../src/index.js';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const examples = readdirSync(join(root, 'examples'))
  .filter((f) => f.endsWith('.ts'))
  .sort();
const outRoot = mkdtempSync(join(tmpdir(), 'tapegrad-examples-'));
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

/** Files an example must write into --out (examples not listed only need to exit 0). */
const expectedFiles: Record<string, readonly string[]> = {
  'mnist.ts': ['loss-curves.svg', 'best-model.safetensors'],
  'optimizers-rosenbrock.ts': ['optimizers-rosenbrock-loss.svg', 'optimizers-rosenbrock-paths.svg'],
  'multi-task.ts': ['multi-task.svg'],
  'optimizer-zoo.ts': ['optimizer-zoo.svg', 'optimizer-zoo-cnn.svg'],
  'char-transformer.ts': ['char-transformer.svg'],
  'recommender.ts': ['recommender.svg'],
  'sequence-lstm.ts': ['sequence-lstm.svg'],
  'mnist-cnn.ts': ['cnn-loss.svg', 'cnn.safetensors'],
};

describe('examples run with --quick', () => {
  it('finds the examples', () => {
    expect(examples).toEqual(
      expect.arrayContaining(['mnist.ts', 'linear-regression.ts', 'custom-op-gradcheck.ts', 'hessian-vector.ts']),
    );
  });
  // Generous: the examples run concurrently in child processes, and a loaded 2-core machine slows them ~10×.
  const timeoutMs = 180_000;
  for (const file of examples) {
    it.concurrent(file, { timeout: timeoutMs + 5_000 }, async () => {
      const out = join(outRoot, file.replace(/\.ts$/, ''));
      let stdout = '',
        stderr = '';
      try {
        ({ stdout, stderr } = await run(
          process.execPath,
          ['--import', 'tsx', join('examples', file), '--quick', '--out', out],
          {
            cwd: root,
            timeout: timeoutMs,
            maxBuffer: 16 * 1024 * 1024,
            env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
          },
        ));
      } catch (e) {
        const err = e as Error & { code?: number; stdout?: string; stderr?: string };
        throw new Error(`${file} failed (exit ${err.code}):\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
      }
      expect(stdout.length, `${file} printed nothing`).toBeGreaterThan(0);
      for (const f of expectedFiles[file] ?? []) {
        expect(existsSync(join(out, f)), `${file} should write ${f}\n${stdout}\n${stderr}`).toBe(true);
        if (f.endsWith('.svg')) expect(readFileSync(join(out, f), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
      }
      if (file === 'optimizer-zoo.ts') {
        expect(stdout).toMatch(/\| optimizer\s+\| best lr \(of grid\) \| steps to loss [\d.]+ \| time to target \|/);
        for (const m of ['GD', 'Adam', 'Lion', 'SGDScheduleFree', 'AdamWScheduleFree', 'Prodigy', 'Lamb', 'Lars'])
          expect(stdout).toContain(`| ${m} `);
        // Both tasks: the MLP and the CNN each print a table with every optimizer, Muon included.
        expect(stdout).toMatch(/MNIST 784-128-10 MLP: [\s\S]*\| Muon \+ AdamW [\s\S]*MNIST LeNet-ish CNN/);
        expect(stdout).toMatch(/MNIST LeNet-ish CNN \(examples\/mnist-cnn\.ts\): [\s\S]*\| Muon \+ AdamW /);
      }
      if (file === 'char-transformer.ts') expect(stdout).toMatch(/validation: \d+\.\d+ bits\/char vs unigram \d+\.\d+/);
      if (file === 'recommender.ts') expect(stdout).toMatch(/\| rank-8 MF \(\d+ epochs\) \| \d+\.\d+ \|/);
      if (file === 'sequence-lstm.ts')
        for (const m of ['LSTM', 'GRU']) expect(stdout).toMatch(new RegExp(`\\| ${m} \\| \\d+ \\| \\d+\\.\\d%`));
      if (file === 'mnist.ts') {
        expect(stdout).toMatch(/\| method\s+\|\s+lr \| epochs \| steps \| train loss \| test accuracy \| wall time \|/);
        for (const m of ['GD (full batch)', 'SGD', 'SGD + momentum 0.9', 'Adam']) expect(stdout).toContain(`| ${m}`);
        // The checkpoint is an ordinary safetensors file that loads into the same architecture.
        const weights = await loadSafetensors(join(out, 'best-model.safetensors'));
        const model = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
        const sd = Object.fromEntries(Object.entries(weights).filter(([k]) => !k.startsWith('__')));
        expect(model.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
      }
    });
  }
});
