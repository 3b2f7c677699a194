/**
 * Mini-batches over in-memory tensors. Without shuffling a batch is a zero-copy view of a
 * contiguous block of rows; with shuffling it is one gather copy per batch.
 */
import { checkOptions } from '../validate.js';
import { allocate, type TypedArray } from '../dtype.js';
import { ShapeError, ValueError } from '../errors.js';
import { defaultGenerator, Generator, permutation } from '../random.js';
import { fmt, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';

/** Options of `DataLoader` (those of torch.utils.data.DataLoader that apply). */
export interface DataLoaderOptions {
  /** Rows per batch (default 1, as PyTorch). */
  batchSize?: number;
  /** Reshuffle the rows at the start of every epoch (default false). */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /**
   * Shuffle with a private stream: epoch e's order depends only on (seed, e), never on what
   * else drew random numbers, so runs are reproducible and `setEpoch` resumes exactly.
   */
  seed?: number;
  /** Shuffle by drawing from this generator instead (default: the global one, reset by manualSeed). */
  generator?: Generator;
}

/** Words of a Philox stream reserved per epoch when shuffling with `seed`. */
const EPOCH_STRIDE = 2 ** 32;

/**
 * Iterates `[xb, yb]` batches over the first dimension of `x` and `y`:
 * ```ts no-run
 * const loader = new DataLoader(x, y, { batchSize: 64, shuffle: true, seed: 0 });
 * for (let epoch = 0; epoch < 5; epoch++) for (const [xb, yb] of loader) { … }
 * ```
 * Each `for … of` is one epoch; shuffled orders differ per epoch and repeat per seed.
 */
export class DataLoader implements Iterable<[Tensor, Tensor]> {
  /** The inputs, batched along their first dim. */
  readonly x: Tensor;
  /** The targets, batched along their first dim. */
  readonly y: Tensor;
  /** Samples per batch. */
  readonly batchSize: number;
  /** Whether each epoch visits the samples in a new random order. */
  readonly shuffle: boolean;
  /** Whether a last, smaller batch is dropped. */
  readonly dropLast: boolean;
  /** The private shuffling stream's seed, if one was given. */
  readonly seed: number | undefined;
  readonly #generator: Generator | undefined;
  #epoch = 0;

  constructor(x: Tensor, y: Tensor, opts: DataLoaderOptions = {}) {
    if (!(x instanceof Tensor) || !(y instanceof Tensor)) throw new ValueError('DataLoader: x and y must be Tensors');
    if (x.ndim === 0 || y.ndim === 0)
      throw new ShapeError(
        `DataLoader: x and y need a batch dimension, got shapes ${fmt(x.shape)} and ${fmt(y.shape)}`,
      );
    if (x.shape[0] !== y.shape[0]) {
      throw new ShapeError(
        `DataLoader: x and y must have the same number of rows, got shapes ${fmt(x.shape)} and ${fmt(y.shape)}`,
      );
    }
    checkOptions('DataLoader', opts, ['batchSize', 'shuffle', 'dropLast', 'seed', 'generator']);
    const bs = opts.batchSize ?? 1;
    if (!Number.isInteger(bs) || bs <= 0)
      throw new ValueError(`DataLoader: batchSize must be a positive integer, got ${bs}`);
    if (opts.seed !== undefined && opts.generator !== undefined)
      throw new ValueError('DataLoader: pass either seed or generator, not both');
    if (opts.seed !== undefined && (!Number.isSafeInteger(opts.seed) || opts.seed < 0)) {
      throw new ValueError(`DataLoader: seed must be a non-negative safe integer, got ${opts.seed}`);
    }
    this.x = x;
    this.y = y;
    this.batchSize = bs;
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.seed = opts.seed;
    this.#generator = opts.generator;
  }

  /** Number of rows. */
  get numSamples(): number {
    return this.x.shape[0]!;
  }
  /** Batches per epoch. */
  get length(): number {
    const n = this.numSamples;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }
  /** The epoch the next iteration will run (counts from 0; each iteration advances it). */
  get epoch(): number {
    return this.#epoch;
  }
  /** Sets the next epoch, e.g. when resuming from a checkpoint (the order for epoch e is fixed by seed and e). */
  setEpoch(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < 0)
      throw new ValueError(`DataLoader.setEpoch: epoch must be a non-negative integer, got ${epoch}`);
    this.#epoch = epoch;
  }

  /** The row order of the given epoch (identity without shuffling). Consumes randomness only without `seed`. */
  #order(epoch: number): number[] | null {
    if (!this.shuffle) return null;
    const n = this.numSamples;
    if (this.seed !== undefined) {
      if (epoch * EPOCH_STRIDE > Number.MAX_SAFE_INTEGER)
        throw new ValueError(`DataLoader: epoch ${epoch} is too large to shuffle reproducibly`);
      return permutation(n, new Generator(this.seed).setState({ seed: this.seed, offset: epoch * EPOCH_STRIDE }));
    }
    return permutation(n, this.#generator ?? defaultGenerator);
  }

  /** One epoch of `[xb, yb]` batches. */
  *[Symbol.iterator](): Iterator<[Tensor, Tensor]> {
    const order = this.#order(this.#epoch++);
    const n = this.numSamples,
      bs = this.batchSize;
    for (let start = 0; start < n; start += bs) {
      const end = Math.min(n, start + bs);
      if (end - start < bs && this.dropLast) return;
      yield order
        ? [gatherRows(this.x, order, start, end), gatherRows(this.y, order, start, end)]
        : [rowRange(this.x, start, end), rowRange(this.y, start, end)];
    }
  }
}

/** Rows [start, end) of a tensor: a view of the same storage when possible (no copy). */
function rowRange(t: Tensor, start: number, end: number): Tensor {
  if (start === 0 && end === t.shape[0]) return t;
  if (t.requiresGrad || t.deviceBuffer !== null) return t.slice([[start, end]]);
  const row = sizeOf(t.shape.slice(1));
  return new Tensor(t.data.subarray(start * row, end * row) as TypedArray, [end - start, ...t.shape.slice(1)]);
}
/** Rows order[start..end) of a tensor, copied once into a new contiguous tensor. */
function gatherRows(t: Tensor, order: readonly number[], start: number, end: number): Tensor {
  if (t.requiresGrad) return t.indexSelect(0, order.slice(start, end));
  const row = sizeOf(t.shape.slice(1));
  const src = t.data;
  const out = allocate(t.dtype, (end - start) * row);
  for (let i = start; i < end; i++) {
    const r = order[i]!;
    if (row === 1) out[i - start] = src[r]!;
    else out.set(src.subarray(r * row, (r + 1) * row), (i - start) * row);
  }
  return new Tensor(out, [end - start, ...t.shape.slice(1)]);
}
