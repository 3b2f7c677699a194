/**
 * Recurrent layers, written with Tensor ops (so they need no backward of their own), with PyTorch's
 * parameter names, layouts, gate order and initialisation, so a state dict moves to and from torch by name:
 * `weight_ih_l{k}[_reverse]` [G·H, in], `weight_hh_l{k}[_reverse]` [G·H, H], `bias_ih_l{k}…`, `bias_hh_l{k}…`
 * with G = 1 (RNN), 4 (LSTM: gates i, f, g, o) or 3 (GRU: gates r, z, n); the cells use `weight_ih`, `weight_hh`,
 * `bias_ih`, `bias_hh`. Every weight starts U(−1/√H, 1/√H), as torch.
 *
 *   RNN:  h' = tanh(W_ih x + b_ih + W_hh h + b_hh)            (or relu)
 *   LSTM: i, f, g, o = σ, σ, tanh, σ of (W_ih x + b_ih + W_hh h + b_hh);  c' = f c + i g;  h' = o tanh(c')
 *   GRU:  r = σ(W_ir x + b_ir + W_hr h + b_hr);  z = σ(W_iz x + b_iz + W_hz h + b_hz)
 *         n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn));  h' = (1 − z) n + z h
 */
import type { DType } from '../dtype.js';
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import { concat, stack } from '../ops/movement.js';
import { defaultGenerator, rand, type Generator } from '../random.js';
import { fmt } from '../shape.js';
import { Tensor, zeros } from '../tensor.js';
import * as init from './init.js';
import { floatDType, Module, Parameter } from './module.js';
import { checkOptions, checkPositiveInt, checkProbability } from './options.js';

/** Which recurrence a layer runs (cuDNN's names, as torch's `mode`). */
export type RecurrentMode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';
const gateCount: Record<RecurrentMode, number> = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 };

interface StepWeights {
  wih: Tensor;
  whh: Tensor;
  bih: Tensor | null;
  bhh: Tensor | null;
}
const cols = (t: Tensor, i: number, h: number): Tensor => t.slice([null, [i * h, (i + 1) * h]]);

/**
 * One time step. `gi` = x W_ihᵀ + b_ih (precomputed for the whole sequence), h/c the state.
 * Returns the new [h, c] (c only for LSTM).
 */
function step(
  mode: RecurrentMode,
  gi: Tensor,
  h: Tensor,
  c: Tensor | null,
  w: StepWeights,
  hs: number,
): [Tensor, Tensor | null] {
  let gh = h.matmul(w.whh, { transB: true });
  if (w.bhh) gh = gh.add(w.bhh);
  switch (mode) {
    case 'RNN_TANH':
      return [gi.add(gh).tanh(), null];
    case 'RNN_RELU':
      return [gi.add(gh).relu(), null];
    case 'LSTM': {
      const g = gi.add(gh);
      const i = cols(g, 0, hs).sigmoid(),
        f = cols(g, 1, hs).sigmoid();
      const gg = cols(g, 2, hs).tanh(),
        o = cols(g, 3, hs).sigmoid();
      const c2 = f.mul(c!).add(i.mul(gg));
      return [o.mul(c2.tanh()), c2];
    }
    case 'GRU': {
      const r = cols(gi, 0, hs)
        .add(cols(gh, 0, hs))
        .sigmoid();
      const z = cols(gi, 1, hs)
        .add(cols(gh, 1, hs))
        .sigmoid();
      const n = cols(gi, 2, hs)
        .add(r.mul(cols(gh, 2, hs)))
        .tanh();
      return [n.add(z.mul(h.sub(n))), null]; // (1 − z) n + z h
    }
  }
}

function inputProjection(x: Tensor, w: StepWeights): Tensor {
  const y = x.matmul(w.wih, { transB: true });
  return w.bih ? y.add(w.bih) : y;
}

function checkFloat(op: string, what: string, t: unknown, dtype: DType): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new ValueError(`${op}: ${what} must be a Tensor, got ${typeof t}`);
  if (t.dtype !== dtype)
    throw new DTypeError(`${op}: ${what} dtype ${t.dtype} does not match the layer's ${dtype} parameters`);
}

function parseMode(op: string, nonlinearity: unknown): RecurrentMode {
  if (nonlinearity === undefined || nonlinearity === 'tanh') return 'RNN_TANH';
  if (nonlinearity === 'relu') return 'RNN_RELU';
  throw new ValueError(`${op}: nonlinearity must be 'tanh' or 'relu', got ${JSON.stringify(nonlinearity)}`);
}

/** Options of `LSTM` and `GRU` (those of torch.nn.LSTM), plus dtype and generator. */
export interface RecurrentOptions {
  /** Stacked layers (default 1). */
  numLayers?: number;
  /** Learnable biases b_ih and b_hh (default true). */
  bias?: boolean;
  /** Input and output are [N, L, features] instead of [L, N, features] (default false, as torch). */
  batchFirst?: boolean;
  /** Dropout on each layer's output except the last, while training (default 0). */
  dropout?: number;
  /** A second pass from the end; outputs of both directions are concatenated (default false). */
  bidirectional?: boolean;
  /** Parameter dtype: 'float32' (default) or 'float64'. */
  dtype?: DType;
  /** Stream for the initial values (default: the global generator). */
  generator?: Generator;
}
/** Options of `RNN` (torch.nn.RNN). */
export interface RNNOptions extends RecurrentOptions {
  /** The activation (default 'tanh'). */
  nonlinearity?: 'tanh' | 'relu';
}
const baseKeys = ['numLayers', 'bias', 'batchFirst', 'dropout', 'bidirectional', 'dtype', 'generator'] as const;

/** The shared machinery of RNN, LSTM and GRU (torch.nn.RNNBase). */
export abstract class RNNBase<
  In extends unknown[] = [x: Tensor, h0?: Tensor | null],
  Out = [Tensor, Tensor],
> extends Module<In, Out> {
  /** Which recurrence this layer runs. */
  readonly mode: RecurrentMode;
  /** Features of each input step. */
  readonly inputSize: number;
  /** Features of the hidden state. */
  readonly hiddenSize: number;
  /** Stacked layers. */
  readonly numLayers: number;
  /** Whether the layers have biases. */
  readonly bias: boolean;
  /** Whether input and output are [N, L, features]. */
  readonly batchFirst: boolean;
  /** Dropout between layers while training. */
  readonly dropout: number;
  /** Whether a second pass runs from the end. */
  readonly bidirectional: boolean;
  readonly #weights: StepWeights[][] = []; // [layer][direction]
  readonly #generator: Generator | undefined;
  readonly #dtype: 'float32' | 'float64';

  protected constructor(
    op: string,
    mode: RecurrentMode,
    inputSize: number,
    hiddenSize: number,
    opts: RNNOptions,
    extraKeys: readonly string[] = [],
  ) {
    super();
    checkOptions(op, opts, [...baseKeys, ...extraKeys]);
    checkPositiveInt(op, 'inputSize', inputSize);
    checkPositiveInt(op, 'hiddenSize', hiddenSize);
    this.mode = mode;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.numLayers = opts.numLayers ?? 1;
    checkPositiveInt(op, 'numLayers', this.numLayers);
    this.bias = opts.bias ?? true;
    this.batchFirst = opts.batchFirst ?? false;
    this.dropout = opts.dropout ?? 0;
    checkProbability(op, 'dropout', this.dropout);
    this.bidirectional = opts.bidirectional ?? false;
    const dtype = (this.#dtype = floatDType(opts.dtype, op));
    const g = opts.generator ?? defaultGenerator;
    this.#generator = opts.generator;
    const gh = gateCount[mode] * hiddenSize,
      dirs = this.bidirectional ? 2 : 1;
    const bound = 1 / Math.sqrt(hiddenSize);
    const param = (shape: number[]): Parameter =>
      new Parameter(init.uniform(zeros(shape, { dtype }), -bound, bound, { generator: g }));
    for (let layer = 0; layer < this.numLayers; layer++) {
      const row: StepWeights[] = [];
      const inSize = layer === 0 ? inputSize : hiddenSize * dirs;
      for (let d = 0; d < dirs; d++) {
        const sfx = `_l${layer}${d === 1 ? '_reverse' : ''}`;
        const w: StepWeights = { wih: param([gh, inSize]), whh: param([gh, hiddenSize]), bih: null, bhh: null };
        this.registerParameter(`weight_ih${sfx}`, w.wih as Parameter);
        this.registerParameter(`weight_hh${sfx}`, w.whh as Parameter);
        if (this.bias) {
          w.bih = param([gh]);
          w.bhh = param([gh]);
          this.registerParameter(`bias_ih${sfx}`, w.bih as Parameter);
          this.registerParameter(`bias_hh${sfx}`, w.bhh as Parameter);
        }
        row.push(w);
      }
      this.#weights.push(row);
    }
  }

  /**
   * Runs the stack. x: [L, N, in] ([N, L, in] with batchFirst, or unbatched [L, in]); h0 (and c0):
   * [D·numLayers, N, H] (unbatched [D·numLayers, H]), zeros by default.
   * Returns the last layer's outputs [L, N, D·H] and the final states [D·numLayers, N, H].
   */
  protected run(op: string, x: Tensor, h0: Tensor | null, c0: Tensor | null): [Tensor, Tensor, Tensor | null] {
    checkFloat(op, 'input', x, this.#dtype);
    const batched = x.ndim === 3;
    if (!batched && x.ndim !== 2) {
      throw new ShapeError(
        `${op}: input must be [L, N, ${this.inputSize}] (or [N, L, ${this.inputSize}] with batchFirst, ` +
          `or unbatched [L, ${this.inputSize}]), got ${fmt(x.shape)}`,
      );
    }
    if (x.shape[x.ndim - 1] !== this.inputSize) {
      throw new ShapeError(
        `${op}: input has ${x.shape[x.ndim - 1]} features, expected inputSize ${this.inputSize} (shape ${fmt(x.shape)})`,
      );
    }
    let seq = !batched ? x.unsqueeze(1) : this.batchFirst ? x.transpose(0, 1) : x; // [L, N, in]
    const [len, n] = seq.shape as [number, number];
    if (len === 0) throw new ShapeError(`${op}: the input sequence is empty`);
    const dirs = this.bidirectional ? 2 : 1,
      hs = this.hiddenSize;
    const want = [dirs * this.numLayers, n, hs];
    const state = (t: Tensor | null, what: string): Tensor => {
      if (t === null) return zeros(want, { dtype: this.#dtype });
      checkFloat(op, what, t, this.#dtype);
      const expected = batched ? want : [want[0]!, hs];
      if (t.ndim !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
        throw new ShapeError(`${op}: ${what} must be ${fmt(expected)}, got ${fmt(t.shape)}`);
      }
      return batched ? t : t.unsqueeze(1);
    };
    const hInit = state(h0, this.mode === 'LSTM' ? 'h0' : 'hx');
    const cInit = this.mode === 'LSTM' ? state(c0, 'c0') : null;
    const hOut: Tensor[] = [],
      cOut: Tensor[] = [];
    for (let layer = 0; layer < this.numLayers; layer++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < dirs; d++) {
        const w = this.#weights[layer]![d]!;
        const idx = layer * dirs + d;
        const gi = inputProjection(seq, w); // [L, N, G·H]
        let h = hInit.slice([[idx, idx + 1]]).reshape([n, hs]);
        let c = cInit ? cInit.slice([[idx, idx + 1]]).reshape([n, hs]) : null;
        const ys: Tensor[] = new Array<Tensor>(len);
        for (let s = 0; s < len; s++) {
          const t = d === 0 ? s : len - 1 - s;
          [h, c] = step(this.mode, gi.slice([[t, t + 1]]).reshape([n, gi.shape[2]!]), h, c, w, hs);
          ys[t] = h;
        }
        outs.push(stack(ys, 0));
        hOut.push(h);
        if (c) cOut.push(c);
      }
      seq = dirs === 1 ? outs[0]! : concat(outs, 2);
      if (this.training && this.dropout > 0 && layer < this.numLayers - 1) {
        const keep = rand(seq.shape, { dtype: this.#dtype, generator: this.#generator ?? defaultGenerator }).ge(
          this.dropout,
        );
        seq = this.dropout === 1 ? seq.mul(0) : seq.mul(keep.mul(1 / (1 - this.dropout)));
      }
    }
    let out = seq;
    let hN = stack(hOut, 0),
      cN = cOut.length ? stack(cOut, 0) : null;
    if (!batched) {
      out = out.squeeze(1);
      hN = hN.squeeze(1);
      cN = cN ? cN.squeeze(1) : null;
    } else if (this.batchFirst) {
      out = out.transpose(0, 1);
    }
    return [out, hN, cN];
  }

  protected override extraRepr(): string {
    const extra = [
      this.numLayers !== 1 ? `numLayers=${this.numLayers}` : '',
      this.bias ? '' : 'bias=false',
      this.batchFirst ? 'batchFirst' : '',
      this.dropout ? `dropout=${this.dropout}` : '',
      this.bidirectional ? 'bidirectional' : '',
      this.mode === 'RNN_RELU' ? "nonlinearity='relu'" : '',
    ].filter(Boolean);
    return [`${this.inputSize}`, `${this.hiddenSize}`, ...extra].join(', ');
  }
}

/** torch.nn.RNN (Elman): forward(x, h0?) → [output, hN]. */
export class RNN extends RNNBase {
  /** The activation. */
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super('RNN', parseMode('RNN', opts?.nonlinearity), inputSize, hiddenSize, opts, ['nonlinearity']);
    this.nonlinearity = this.mode === 'RNN_RELU' ? 'relu' : 'tanh';
  }
  forward(x: Tensor, h0: Tensor | null = null): [Tensor, Tensor] {
    const [out, h] = this.run('RNN', x, h0, null);
    return [out, h];
  }
}

/** torch.nn.LSTM: forward(x, [h0, c0]?) → [output, [hN, cN]]; gate order i, f, g, o. */
export class LSTM extends RNNBase<[x: Tensor, hx?: readonly [Tensor, Tensor] | null], [Tensor, [Tensor, Tensor]]> {
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super('LSTM', 'LSTM', inputSize, hiddenSize, opts);
  }
  forward(x: Tensor, hx: readonly [Tensor, Tensor] | null = null): [Tensor, [Tensor, Tensor]] {
    if (hx !== null && (!Array.isArray(hx) || hx.length !== 2))
      throw new ValueError('LSTM: hx must be a pair [h0, c0]');
    const [out, h, c] = this.run('LSTM', x, hx ? hx[0] : null, hx ? hx[1] : null);
    return [out, [h, c!]];
  }
}

/** torch.nn.GRU: forward(x, h0?) → [output, hN]; gate order r, z, n. */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super('GRU', 'GRU', inputSize, hiddenSize, opts);
  }
  forward(x: Tensor, h0: Tensor | null = null): [Tensor, Tensor] {
    const [out, h] = this.run('GRU', x, h0, null);
    return [out, h];
  }
}

// ---- cells -------------------------------------------------------------------
/** Options of `LSTMCell` and `GRUCell` (torch.nn.LSTMCell). */
export interface CellOptions {
  /** Learnable biases b_ih and b_hh (default true). */
  bias?: boolean;
  /** Parameter dtype: 'float32' (default) or 'float64'. */
  dtype?: DType;
  /** Stream for the initial values (default: the global generator). */
  generator?: Generator;
}
/** Options of `RNNCell` (torch.nn.RNNCell). */
export interface RNNCellOptions extends CellOptions {
  /** The activation (default 'tanh'). */
  nonlinearity?: 'tanh' | 'relu';
}

abstract class CellBase<In extends unknown[] = [x: Tensor, hx?: Tensor | null], Out = Tensor> extends Module<In, Out> {
  /** Features of the input. */
  readonly inputSize: number;
  /** Features of the hidden state. */
  readonly hiddenSize: number;
  /** Input-to-hidden weight, [gates·hiddenSize, inputSize] (torch: weight_ih). */
  declare readonly weightIh: Parameter;
  /** Hidden-to-hidden weight, [gates·hiddenSize, hiddenSize] (torch: weight_hh). */
  declare readonly weightHh: Parameter;
  /** Input-to-hidden bias, or null without bias (torch: bias_ih). */
  declare readonly biasIh: Parameter | null;
  /** Hidden-to-hidden bias, or null without bias (torch: bias_hh). */
  declare readonly biasHh: Parameter | null;
  /** Which recurrence this cell runs. */
  protected readonly mode: RecurrentMode;
  readonly #dtype: 'float32' | 'float64';
  protected constructor(
    op: string,
    mode: RecurrentMode,
    inputSize: number,
    hiddenSize: number,
    opts: RNNCellOptions,
    extraKeys: readonly string[] = [],
  ) {
    super();
    checkOptions(op, opts, ['bias', 'dtype', 'generator', ...extraKeys]);
    checkPositiveInt(op, 'inputSize', inputSize);
    checkPositiveInt(op, 'hiddenSize', hiddenSize);
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.mode = mode;
    const dtype = (this.#dtype = floatDType(opts.dtype, op));
    const g = opts.generator ?? defaultGenerator;
    const gh = gateCount[mode] * hiddenSize,
      bound = 1 / Math.sqrt(hiddenSize);
    const param = (shape: number[]): Parameter =>
      new Parameter(init.uniform(zeros(shape, { dtype }), -bound, bound, { generator: g }));
    const def = (name: string, key: string, p: Parameter | null): void => {
      if (p) this.registerParameter(name, p);
      Object.defineProperty(this, key, { value: p, enumerable: false, writable: false });
    };
    def('weight_ih', 'weightIh', param([gh, inputSize]));
    def('weight_hh', 'weightHh', param([gh, hiddenSize]));
    const bias = opts.bias ?? true;
    def('bias_ih', 'biasIh', bias ? param([gh]) : null);
    def('bias_hh', 'biasHh', bias ? param([gh]) : null);
  }
  /** x [N, in] or [in]; states [N, H] or [H]. */
  protected cell(op: string, x: Tensor, h0: Tensor | null, c0: Tensor | null): [Tensor, Tensor | null] {
    checkFloat(op, 'input', x, this.#dtype);
    if ((x.ndim !== 1 && x.ndim !== 2) || x.shape[x.ndim - 1] !== this.inputSize) {
      throw new ShapeError(`${op}: input must be [N, ${this.inputSize}] or [${this.inputSize}], got ${fmt(x.shape)}`);
    }
    const batched = x.ndim === 2;
    const xb = batched ? x : x.unsqueeze(0);
    const n = xb.shape[0]!,
      hs = this.hiddenSize;
    const state = (t: Tensor | null, what: string): Tensor => {
      if (t === null) return zeros([n, hs], { dtype: this.#dtype });
      checkFloat(op, what, t, this.#dtype);
      const expected = batched ? [n, hs] : [hs];
      if (t.ndim !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
        throw new ShapeError(`${op}: ${what} must be ${fmt(expected)}, got ${fmt(t.shape)}`);
      }
      return batched ? t : t.unsqueeze(0);
    };
    const w: StepWeights = { wih: this.weightIh, whh: this.weightHh, bih: this.biasIh, bhh: this.biasHh };
    const h = state(h0, this.mode === 'LSTM' ? 'h0' : 'hx');
    const c = this.mode === 'LSTM' ? state(c0, 'c0') : null;
    let [h2, c2] = step(this.mode, inputProjection(xb, w), h, c, w, hs);
    if (!batched) {
      h2 = h2.squeeze(0);
      c2 = c2 ? c2.squeeze(0) : null;
    }
    return [h2, c2];
  }
  protected override extraRepr(): string {
    return `${this.inputSize}, ${this.hiddenSize}${this.biasIh ? '' : ', bias=false'}`;
  }
}

/** torch.nn.RNNCell: forward(x, h?) → h'. */
export class RNNCell extends CellBase {
  /** The activation. */
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(inputSize: number, hiddenSize: number, opts: RNNCellOptions = {}) {
    super('RNNCell', parseMode('RNNCell', opts?.nonlinearity), inputSize, hiddenSize, opts, ['nonlinearity']);
    this.nonlinearity = this.mode === 'RNN_RELU' ? 'relu' : 'tanh';
  }
  forward(x: Tensor, hx: Tensor | null = null): Tensor {
    return this.cell('RNNCell', x, hx, null)[0];
  }
}
/** torch.nn.LSTMCell: forward(x, [h, c]?) → [h', c']. */
export class LSTMCell extends CellBase<[x: Tensor, hx?: readonly [Tensor, Tensor] | null], [Tensor, Tensor]> {
  constructor(inputSize: number, hiddenSize: number, opts: CellOptions = {}) {
    super('LSTMCell', 'LSTM', inputSize, hiddenSize, opts);
  }
  forward(x: Tensor, hx: readonly [Tensor, Tensor] | null = null): [Tensor, Tensor] {
    if (hx !== null && (!Array.isArray(hx) || hx.length !== 2))
      throw new ValueError('LSTMCell: hx must be a pair [h, c]');
    const [h, c] = this.cell('LSTMCell', x, hx ? hx[0] : null, hx ? hx[1] : null);
    return [h, c!];
  }
}
/** torch.nn.GRUCell: forward(x, h?) → h'. */
export class GRUCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, opts: CellOptions = {}) {
    super('GRUCell', 'GRU', inputSize, hiddenSize, opts);
  }
  forward(x: Tensor, hx: Tensor | null = null): Tensor {
    return this.cell('GRUCell', x, hx, null)[0];
  }
}
