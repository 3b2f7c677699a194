/**
 * Index validation's int32 fast pass (validate.ts checkIndexValues): int32 indices in range pass, anything
 * else gets the full check's message; gather/indexSelect/Embedding results equal a naive loop.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gather, indexSelect, nn, Tensor } from '../../src/index.js';
import { checkIndexValues } from '../../src/validate.js';

describe('int32 index check', () => {
  it('accepts int32 indices in [0, size) and refuses the rest with the full message', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -3, max: 12 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 10 }),
        (v, n) => {
          const ok = v.every((j) => j >= 0 && j < n);
          const run = (): void => checkIndexValues('op', 'index', Int32Array.from(v), n, `size ${n}`);
          if (ok) expect(run).not.toThrow();
          else {
            const bad = v.findIndex((j) => !(j >= 0 && j < n));
            expect(run).toThrow(
              `op: index ${v[bad]} is out of range for size ${n} (index[${bad}]; expected an integer in [0, ${n}))`,
            );
          }
        },
      ),
    );
    expect(() => checkIndexValues('op', 'index', Int32Array.from([0, -1]))).toThrow(
      /index -1 is out of range for int32/,
    );
    expect(() => checkIndexValues('op', 'index', Int32Array.from([0, 2 ** 31 - 1]))).not.toThrow();
  });
  it('gather / indexSelect / Embedding along axis 0 equal a naive loop and refuse bad indices', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
        (d, c, raw) => {
          const idx = raw.map((j) => j % d);
          const x = new Tensor(
            Float32Array.from({ length: d * c }, (_, i) => i * 0.5 - 1),
            [d, c],
          );
          const want = idx.flatMap((j) => Array.from({ length: c }, (_, k) => x.data[j * c + k]!));
          expect(Array.from(indexSelect(x, 0, idx).data)).toEqual(want);
          const full = new Tensor(Int32Array.from(idx.flatMap((j) => Array(c).fill(j))), [idx.length, c]);
          expect(Array.from(gather(x, 0, full).data)).toEqual(want);
        },
      ),
    );
    const x = new Tensor(Float32Array.from([1, 2, 3, 4]), [2, 2]);
    expect(() => gather(x, 0, new Tensor(Int32Array.from([0, 2, 1, 1]), [2, 2]))).toThrow(/index 2 is out of range/);
    expect(() => new nn.Embedding(3, 2).forward(new Tensor(Int32Array.from([1, 3]), [2]))).toThrow(/out of range/);
  });
});
