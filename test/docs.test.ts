/**
 * Every ```ts block in docs/ and README.md is type-checked with the strict compiler options of the project
 * (`import ... from 'tapegrad'` resolves to src/), and runs (blocks marked `ts no-run` are only type-checked).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'test', '.docs-snippets');
const files = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

interface Snippet {
  file: string;
  index: number;
  path: string;
  run: boolean;
}
const snippets: Snippet[] = [];
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
for (const file of files) {
  const text = readFileSync(join(root, file), 'utf8');
  [...text.matchAll(/^```ts( no-run)?\n([\s\S]*?)^```/gm)].forEach((m, index) => {
    const path = join(dir, `${file.replace(/[/.]/g, '_')}_${index}.ts`);
    writeFileSync(path, `${m[2]}\nexport {};\n`);
    snippets.push({ file, index, path, run: !m[1] });
  });
}
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docs snippets type-check', () => {
  it('tsc --strict over every snippet', () => {
    const { config } = ts.readConfigFile(join(root, 'tsconfig.json'), (p) => ts.sys.readFile(p));
    const parsed = ts.parseJsonConfigFileContent(config, ts.sys, root);
    const options: ts.CompilerOptions = {
      ...parsed.options,
      noEmit: true,
      declaration: false,
      sourceMap: false,
      strict: true,
      baseUrl: root,
      paths: { tapegrad: ['src/index.ts'] },
    };
    const program = ts.createProgram(
      snippets.map((s) => s.path),
      options,
    );
    const wanted = new Set(snippets.map((s) => s.path));
    const errors = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file === undefined || wanted.has(d.file.fileName) || !d.file.fileName.includes('node_modules'))
      .map((d) => {
        const msg = ts.flattenDiagnosticMessageText(d.messageText, '\n');
        if (!d.file || d.start === undefined) return msg;
        const s = snippets.find((x) => x.path === d.file!.fileName);
        const { line } = d.file.getLineAndCharacterOfPosition(d.start);
        const where = s ? `${s.file} block ${s.index + 1}, line ${line + 1}` : `${d.file.fileName}:${line + 1}`;
        return `${where}: ${msg}`;
      });
    expect(errors).toEqual([]);
  }, 180_000);
});

describe('docs snippets run', () => {
  for (const s of snippets.filter((x) => x.run)) {
    it(`${s.file} #${s.index + 1}`, async () => {
      const log = console.log;
      console.log = () => {};
      try {
        await import(s.path);
      } finally {
        console.log = log;
      }
    });
  }
});
