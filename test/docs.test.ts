/** Every ```ts block in docs/ and README.md runs (blocks marked `ts no-run` are skipped). */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'test', '.docs-snippets');
const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

mkdirSync(dir, { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docs snippets run', () => {
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    const blocks = [...text.matchAll(/^```ts( no-run)?\n([\s\S]*?)^```/gm)];
    blocks.forEach((m, i) => {
      if (m[1]) return;
      it(`${file} #${i + 1}`, async () => {
        const path = join(dir, `${file.replace(/[/.]/g, '_')}_${i}.ts`);
        writeFileSync(path, `${m[2]}\nexport {};\n`);
        const log = console.log;
        console.log = () => {};
        try {
          await import(path);
        } finally {
          console.log = log;
        }
      });
    });
  }
});
