import { describe, expect, it } from 'vitest';
import { datasets } from '../../src/index.js';

describe('datasets.mnistDigits', () => {
  const d = datasets.mnistDigits();
  it('has the documented shapes, dtypes and ranges', () => {
    expect(d.train.x.shape).toEqual([8000, 784]);
    expect(d.train.y.shape).toEqual([8000]);
    expect(d.test.x.shape).toEqual([2000, 784]);
    expect(d.train.x.dtype).toBe('float32');
    expect(d.train.y.dtype).toBe('int32');
    let lo = Infinity,
      hi = -Infinity;
    for (const v of d.train.x.data) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBe(0);
    expect(hi).toBe(1);
  });
  it('splits by class: 200 test images per digit, interleaved round-robin', () => {
    const counts = (y: ArrayLike<number>) =>
      Array.from(y).reduce((c, v) => (c[v]!++, c), new Array<number>(10).fill(0));
    expect(counts(d.test.y.data)).toEqual(new Array(10).fill(200));
    expect(counts(d.train.y.data)).toEqual([801, 927, 791, 832, 780, 663, 814, 870, 744, 778]);
    expect(Array.from(d.test.y.data.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    expect(Array.from(d.train.y.data.subarray(0, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
  it('is deterministic and train/test do not overlap', () => {
    const again = datasets.mnistDigits();
    const same = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => {
      if (a.length !== b.length) return false;
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
      return true;
    };
    expect(same(again.train.x.data, d.train.x.data)).toBe(true);
    expect(same(again.test.x.data, d.test.x.data)).toBe(true);
    expect(same(again.test.y.data, d.test.y.data)).toBe(true);
    const key = (x: Float32Array | Float64Array | Int32Array, i: number) =>
      Array.from(x.subarray(i * 784, (i + 1) * 784)).join(',');
    const train = new Set(Array.from({ length: 8000 }, (_, i) => key(d.train.x.data, i)));
    let shared = 0;
    for (let i = 0; i < 2000; i++) if (train.has(key(d.test.x.data, i))) shared++;
    expect(shared).toBeLessThan(5); // the package itself may contain a few duplicate images
  });
  it('takes smaller splits and rejects impossible ones', () => {
    const s = datasets.mnistDigits({ trainPerDigit: 10, testPerDigit: 5 });
    expect(s.train.x.shape).toEqual([100, 784]);
    expect(s.test.y.shape).toEqual([50]);
    // The test images are each class's last ones, whatever the train size: the 5th-from-last 0 here…
    const img = (t: Float32Array | Float64Array | Int32Array, i: number) =>
      Array.from(t.subarray(i * 784, (i + 1) * 784));
    // …is the 195th test 0 of the default split (row 195·10).
    expect(img(s.test.x.data, 0)).toEqual(img(d.test.x.data, 1950));
    expect(img(s.train.x.data, 0)).toEqual(img(d.train.x.data, 0));
    expect(() => datasets.mnistDigits({ testPerDigit: 900 })).toThrow(/testPerDigit must be an integer in \[0, 863\)/);
    expect(() => datasets.mnistDigits({ testPerDigit: 200, trainPerDigit: 700 })).toThrow(/trainPerDigit/);
  });
});
