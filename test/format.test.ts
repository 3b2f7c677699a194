/**
 * Printing. The `torch` strings are what PyTorch prints for the same values (torch/_tensor_str.py with the
 * default print options, or the ones named); we compare our value part with PyTorch's value part, i.e. the
 * printout without the suffixes that differ by design (we always name shape and dtype; PyTorch names the
 * dtype only when it is not the default, and int64 where we have int32).
 */
import { inspect } from 'node:util';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  arange,
  ones,
  setPrintOptions,
  getPrintOptions,
  tensor,
  zeros,
  ValueError,
  type Tensor,
} from '../src/index.js';
import { formatExp, formatFixed } from '../src/format.js';

afterEach(() => {
  setPrintOptions('default');
});

/** Our printout with the shape/dtype/grad suffixes removed: what PyTorch prints for a default-dtype tensor. */
const values = (t: Tensor): string => String(t).replace(/,\s+shape=\[[^\]]*\][\s\S]*\)$/, ')');

const cases: [string, () => Tensor, string][] = [
  [
    '2-d integers',
    () =>
      tensor([
        [1, 2],
        [3, 4],
      ]),
    'tensor([[1., 2.],\n        [3., 4.]])',
  ],
  ['mixed signs', () => tensor([1.5, -2.25, 3]), 'tensor([ 1.5000, -2.2500,  3.0000])'],
  ['scalar', () => tensor(3), 'tensor(3.)'],
  ['zeros', () => zeros([2]), 'tensor([0., 0.])'],
  ['negative zero', () => tensor([-0, 1]), 'tensor([-0., 1.])'],
  ['non-finite', () => tensor([1, NaN, Infinity, -Infinity]), 'tensor([1., nan, inf, -inf])'],
  ['fixed, wide values', () => tensor([100, 2.5]), 'tensor([100.0000,   2.5000])'],
  ['small values → scientific', () => tensor([1e-5, 1, 1000]), 'tensor([1.0000e-05, 1.0000e+00, 1.0000e+03])'],
  ['large ratio of integers → scientific', () => tensor([1, 2000]), 'tensor([1.0000e+00, 2.0000e+03])'],
  ['empty', () => zeros([0]), 'tensor([])'],
  [
    'line wrapping at 80 columns',
    () => arange(20),
    'tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n        14., 15., 16., 17., 18., 19.])',
  ],
  [
    'summarised 1-d (torch.arange(2000.))',
    () => arange(2000),
    'tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03])',
  ],
  [
    '3-d (torch.ones(2, 2, 2))',
    () => ones([2, 2, 2]),
    'tensor([[[1., 1.],\n         [1., 1.]],\n\n        [[1., 1.],\n         [1., 1.]]])',
  ],
];

describe('values print as PyTorch prints them', () => {
  for (const [name, make, torch] of cases) {
    it(name, () => {
      expect(values(make())).toBe(torch);
    });
  }

  it('summarised 2-d integers (torch.arange(2000).reshape(40, 50))', () => {
    const t = arange(0, 2000, 1, { dtype: 'int32' }).reshape([40, 50]);
    expect(values(t)).toBe(
      [
        'tensor([[   0,    1,    2,  ...,   47,   48,   49],',
        '        [  50,   51,   52,  ...,   97,   98,   99],',
        '        [ 100,  101,  102,  ...,  147,  148,  149],',
        '        ...,',
        '        [1850, 1851, 1852,  ..., 1897, 1898, 1899],',
        '        [1900, 1901, 1902,  ..., 1947, 1948, 1949],',
        '        [1950, 1951, 1952,  ..., 1997, 1998, 1999]])',
      ].join('\n'),
    );
  });

  it('precision (torch.set_printoptions(precision=2))', () => {
    setPrintOptions({ precision: 2 });
    expect(values(tensor([1.2345, 2.5]))).toBe('tensor([1.23, 2.50])');
  });

  it('sciMode: false keeps the width measured in scientific notation, as PyTorch does', () => {
    setPrintOptions({ sciMode: false });
    expect(values(tensor([1e-5, 1], { dtype: 'float64' }))).toBe('tensor([    0.0000,     1.0000])');
    setPrintOptions({ sciMode: true });
    expect(values(tensor([1, 2]))).toBe('tensor([1.0000e+00, 2.0000e+00])');
  });

  it('threshold and edgeItems (torch.set_printoptions(threshold=5, edgeitems=2))', () => {
    setPrintOptions({ threshold: 5, edgeItems: 2 });
    expect(values(arange(1, 7))).toBe('tensor([1., 2.,  ..., 5., 6.])');
    setPrintOptions({ threshold: 5, edgeItems: 1 });
    expect(values(arange(12).reshape([3, 4]))).toBe(
      'tensor([[ 0.,  ...,  3.],\n        ...,\n        [ 8.,  ..., 11.]])',
    );
  });

  it('a 100×100 tensor prints in a few lines, not 200,000 characters', () => {
    const s = String(ones([100, 100]));
    expect(s.split('\n')).toHaveLength(7);
    expect(s.length).toBeLessThan(400);
  });
});

describe('suffixes: shape, dtype, device, requiresGrad or the op', () => {
  it('names shape and dtype, and requiresGrad on a leaf', () => {
    expect(String(tensor([1, 2], { requiresGrad: true }))).toBe(
      'tensor([1., 2.], shape=[2], dtype=float32, requiresGrad=true)',
    );
    expect(String(tensor([1, 2], { dtype: 'int32' }))).toBe('tensor([1, 2], shape=[2], dtype=int32)');
  });

  it('names the op that made a non-leaf', () => {
    const x = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    expect(String(x.mul(2))).toBe('tensor([2., 4.], shape=[2], dtype=float64, gradFn=<mul>)');
  });

  it('wraps suffixes past the line width like PyTorch', () => {
    const s = String(tensor([1e-5, 1, 1000], { requiresGrad: true }));
    expect(s).toBe('tensor([1.0000e-05, 1.0000e+00, 1.0000e+03], shape=[3], dtype=float32,\n       requiresGrad=true)');
  });

  it('util.inspect and console.log show the same text', () => {
    const t = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(inspect(t)).toBe(String(t));
    expect(inspect({ t })).toContain('tensor([[1., 2.],');
  });
});

describe('setPrintOptions', () => {
  it('keeps omitted fields and refuses unknown keys and bad values', () => {
    expect(setPrintOptions({ precision: 6 })).toEqual({ ...getPrintOptions(), precision: 6 });
    expect(getPrintOptions().threshold).toBe(1000);
    expect(() => setPrintOptions({ precison: 3 } as never)).toThrow(/unknown option 'precison' \(expected precision/);
    expect(() => setPrintOptions({ precision: -1 })).toThrow(ValueError);
    expect(() => setPrintOptions({ linewidth: 0 })).toThrow(/linewidth must be an integer in \[1,/);
    expect(() => setPrintOptions({ sciMode: 'yes' } as never)).toThrow(/sciMode must be true, false or null/);
    expect(getPrintOptions().precision).toBe(6);
    expect(setPrintOptions('default')).toEqual({
      precision: 4,
      threshold: 1000,
      edgeItems: 3,
      linewidth: 80,
      sciMode: null,
    });
  });
});

describe('numbers format like Python format()', () => {
  it('rounds exact ties to even, and keeps the sign of zero', () => {
    expect(formatFixed(0.125, 2)).toBe('0.12'); // f"{0.125:.2f}"
    expect(formatFixed(0.375, 2)).toBe('0.38');
    expect(formatFixed(2.5, 0)).toBe('2');
    expect(formatFixed(3.5, 0)).toBe('4');
    expect(formatFixed(1.03125, 4)).toBe('1.0312');
    expect(formatFixed(-0, 4)).toBe('-0.0000');
    expect(formatFixed(0.1, 1)).toBe('0.1');
    expect(formatFixed(1e22, 1)).toBe('10000000000000000000000.0');
    expect(formatExp(12.5, 1)).toBe('1.2e+01'); // f"{12.5:.1e}"
    expect(formatExp(9.5, 0)).toBe('1e+01');
    expect(formatExp(0, 4)).toBe('0.0000e+00');
    expect(formatExp(-1.5e-300, 2)).toBe('-1.50e-300');
    expect(formatExp(NaN, 2)).toBe('nan');
  });

  it('agrees with toFixed/toExponential everywhere but at exact ties', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e20, max: 1e20 }),
        fc.integer({ min: 0, max: 8 }),
        (x, p) => {
          const tie = (s: string) => /^50*$/.test(s);
          const a = Math.abs(x);
          const fixedRest = a.toFixed(100).split('.')[1]!.slice(p);
          if (!tie(fixedRest)) expect(formatFixed(x, p)).toBe((x < 0 || Object.is(x, -0) ? '-' : '') + a.toFixed(p));
          const [m, e] = a.toExponential(p).split('e') as [string, string];
          const expRest = a
            .toExponential(100)
            .split('e')[0]!
            .replace('.', '')
            .slice(p + 1);
          const sign = e.startsWith('-') ? '-' : '+';
          const want = `${x < 0 || Object.is(x, -0) ? '-' : ''}${m}e${sign}${e.replace(/^[+-]/, '').padStart(2, '0')}`;
          if (!tie(expRest)) expect(formatExp(x, p)).toBe(want);
        },
      ),
    );
  });
});
