import { describe, expect, it } from 'vitest';
import {
  DataLoader,
  Generator,
  arange,
  manualSeed,
  tensor,
  ShapeError,
  ValueError,
  type Tensor,
} from '../../src/index.js';

const x = arange(0, 20).reshape([10, 2]); // row r = [2r, 2r+1]
const y = tensor(Int32Array.from({ length: 10 }, (_, i) => i));
const rowsOf = (t: Tensor): number[] => Array.from(t.data);
const epoch = (l: DataLoader): [number[], number[]][] => [...l].map(([a, b]) => [rowsOf(a), rowsOf(b)]);

describe('DataLoader', () => {
  it('batches in order without shuffling, as zero-copy views', () => {
    const l = new DataLoader(x, y, { batchSize: 4 });
    const batches = [...l];
    expect(l.length).toBe(3);
    expect(batches.map(([a, b]) => [a.shape, b.shape])).toEqual([
      [[4, 2], [4]],
      [[4, 2], [4]],
      [[2, 2], [2]],
    ]);
    expect(rowsOf(batches[2]![1])).toEqual([8, 9]);
    expect(rowsOf(batches[1]![0])).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
    expect(batches[1]![0].data.buffer).toBe(x.data.buffer); // a view, not a copy
    expect(batches[0]![1].dtype).toBe('int32');
  });
  it('dropLast drops the short batch', () => {
    const l = new DataLoader(x, y, { batchSize: 4, dropLast: true });
    expect(l.length).toBe(2);
    expect([...l].length).toBe(2);
    expect(new DataLoader(x, y, { batchSize: 20, dropLast: true }).length).toBe(0);
    expect([...new DataLoader(x, y, { batchSize: 20 })][0]![0]).toBe(x);
  });
  it('shuffles x and y together, a permutation per epoch', () => {
    const l = new DataLoader(x, y, { batchSize: 3, shuffle: true, seed: 1 });
    const e0 = epoch(l),
      e1 = epoch(l);
    for (const e of [e0, e1]) {
      const ys = e.flatMap(([, b]) => b);
      expect([...ys].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      for (const [a, b] of e) b.forEach((r, i) => expect(a.slice(2 * i, 2 * i + 2)).toEqual([2 * r, 2 * r + 1]));
    }
    expect(e0).not.toEqual(e1);
    expect(l.epoch).toBe(2);
  });
  it('with seed: the same orders on every run, independent of other randomness; setEpoch resumes', () => {
    const a = new DataLoader(x, y, { batchSize: 4, shuffle: true, seed: 7 });
    const b = new DataLoader(x, y, { batchSize: 4, shuffle: true, seed: 7 });
    const ea = [epoch(a), epoch(a), epoch(a)];
    manualSeed(123); // the global stream does not matter
    expect([epoch(b), epoch(b), epoch(b)]).toEqual(ea);
    const c = new DataLoader(x, y, { batchSize: 4, shuffle: true, seed: 7 });
    c.setEpoch(2);
    expect(epoch(c)).toEqual(ea[2]);
    expect(epoch(new DataLoader(x, y, { batchSize: 4, shuffle: true, seed: 8 }))).not.toEqual(ea[0]);
  });
  it('with a generator or the global stream: reproducible from the seed', () => {
    const run = (mk: () => DataLoader) => {
      const l = mk();
      return [epoch(l), epoch(l)];
    };
    expect(run(() => new DataLoader(x, y, { batchSize: 5, shuffle: true, generator: new Generator(3) }))).toEqual(
      run(() => new DataLoader(x, y, { batchSize: 5, shuffle: true, generator: new Generator(3) })),
    );
    manualSeed(4);
    const g1 = run(() => new DataLoader(x, y, { batchSize: 5, shuffle: true }));
    manualSeed(4);
    expect(run(() => new DataLoader(x, y, { batchSize: 5, shuffle: true }))).toEqual(g1);
  });
  it('validates its arguments', () => {
    expect(() => new DataLoader(x, tensor([1, 2]))).toThrow(ShapeError);
    expect(() => new DataLoader(x, tensor([1, 2]))).toThrow(
      'DataLoader: x and y must have the same number of rows, got shapes [10,2] and [2]',
    );
    expect(() => new DataLoader(x, y, { batchSize: 0 })).toThrow(ValueError);
    expect(() => new DataLoader(x, y, { seed: 1, generator: new Generator(1) })).toThrow(/either seed or generator/);
  });
});
