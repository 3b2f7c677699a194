/** docs/tensors.md's op table lists every primitive of the registry (in the primitives column) and every exported composite op. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PRIMITIVES } from '../src/ops/registry.js';
import * as composite from '../src/ops/composite.js';
import * as math from '../src/ops/composite-math.js';
import * as sortOps from '../src/ops/sort.js';
import * as einsumOps from '../src/ops/einsum.js';
import * as losses from '../src/nn/losses.js';
import * as api from '../src/index.js';

const doc = readFileSync(new URL('../docs/tensors.md', import.meta.url), 'utf8');
const table = doc.slice(doc.indexOf('| family | primitives | composites |'));
const rows = table
  .slice(0, table.indexOf('\n\n'))
  .split('\n')
  .slice(2)
  .map((r) => r.split('|').map((c) => c.trim()));
const names = (cell: string): Set<string> =>
  new Set([...cell.matchAll(/`([^`]+)`/g)].flatMap((m) => m[1]!.split(/[\s/]+/)).filter(Boolean));
const primitivesCol = new Set(rows.flatMap((r) => [...names(r[2] ?? '')]));
const compositesCol = new Set(rows.flatMap((r) => [...names(r[3] ?? '')]));

const HELPERS = new Set(['checkOptions', 'SELU_ALPHA', 'SELU_SCALE']);
// Composites that live in primitive modules (thin wrappers).
const WRAPPERS = ['mean', 'flatten', 'squeeze', 'unsqueeze', 'transpose', 'stack', 'pad', 'indexSelect'];

describe('docs/tensors.md op table', () => {
  it('lists every primitive in the primitives column', () => {
    const prims: readonly string[] = PRIMITIVES;
    expect(prims.filter((p) => !primitivesCol.has(p))).toEqual([]);
    expect([...primitivesCol].filter((p) => !prims.includes(p))).toEqual([]);
  });
  it('lists every exported composite op in the composites column, and each is public', () => {
    const mods = [composite, math, sortOps, einsumOps, losses];
    const exported = mods.flatMap((m) =>
      Object.entries(m)
        .filter(([k, v]) => typeof v === 'function' && /^[a-z]/.test(k) && !HELPERS.has(k))
        .map(([k]) => k),
    );
    const wanted = [...new Set([...exported, ...WRAPPERS])];
    expect(wanted.filter((c) => !compositesCol.has(c) && !primitivesCol.has(c))).toEqual([]);
    // Public as a function or as a Tensor method.
    const publicNames = new Set([...Object.keys(api), ...Object.getOwnPropertyNames(api.Tensor.prototype)]);
    expect([...compositesCol].filter((c) => !publicNames.has(c))).toEqual([]);
  });
});
