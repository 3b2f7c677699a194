/**
 * Printing tensors the way PyTorch does (`torch/_tensor_str.py`): the same choice of fixed, integer
 * or scientific notation, the same column alignment and line wrapping, and `...` summaries past a
 * threshold. Numbers are formatted like Python's `format()` (round half to even on the exact binary
 * value), so the value part of a printout is character for character what PyTorch prints.
 */
import { ValueError } from './errors.js';
import type { DType, TypedArray } from './dtype.js';

/** Options of {@link setPrintOptions}; PyTorch's `torch.set_printoptions`, camelCased. */
export interface PrintOptions {
  /** Digits after the decimal point (default 4). */
  precision: number;
  /** Tensors with more elements than this are summarised with `...` (default 1000). */
  threshold: number;
  /** Items shown at the start and end of each summarised dimension (default 3). */
  edgeItems: number;
  /** Characters per line before wrapping (default 80). */
  linewidth: number;
  /** `true`: always scientific notation, `false`: never, `null`: chosen from the values (default). */
  sciMode: boolean | null;
}

const DEFAULTS: Readonly<PrintOptions> = Object.freeze({
  precision: 4,
  threshold: 1000,
  edgeItems: 3,
  linewidth: 80,
  sciMode: null,
});
const opts: PrintOptions = { ...DEFAULTS };

/** The symbol Node's `util.inspect` (and so `console.log`) looks for. */
export const inspectSymbol: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never;

/** The current print options (a copy). */
export function getPrintOptions(): PrintOptions {
  return { ...opts };
}

/**
 * Changes how tensors print (`torch.set_printoptions`): omitted fields keep their value,
 * `'default'` restores PyTorch's defaults. Returns the options now in force.
 */
export function setPrintOptions(o: Partial<PrintOptions> | 'default'): PrintOptions {
  if (o === 'default') {
    Object.assign(opts, DEFAULTS);
    return getPrintOptions();
  }
  if (o === null || typeof o !== 'object') {
    throw new ValueError(`setPrintOptions: expected an options object or 'default', got ${String(o)}`);
  }
  const next = { ...opts };
  for (const [k, v] of Object.entries(o)) {
    switch (k) {
      case 'precision':
      case 'threshold':
      case 'edgeItems':
      case 'linewidth': {
        const max = k === 'precision' ? 100 : Number.MAX_SAFE_INTEGER;
        const min = k === 'linewidth' ? 1 : 0;
        if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
          throw new ValueError(`setPrintOptions: ${k} must be an integer in [${min}, ${max}], got ${String(v)}`);
        }
        next[k] = v;
        break;
      }
      case 'sciMode':
        if (v !== null && typeof v !== 'boolean') {
          throw new ValueError(`setPrintOptions: sciMode must be true, false or null, got ${String(v)}`);
        }
        next.sciMode = v;
        break;
      default:
        throw new ValueError(
          `setPrintOptions: unknown option '${k}' (expected precision, threshold, edgeItems, linewidth, sciMode)`,
        );
    }
  }
  Object.assign(opts, next);
  return getPrintOptions();
}

// ---- numbers as Python formats them -----------------------------------------------------------

const nonFinite = (x: number): string => (Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf');

/** Ties (exactly ...5000 after the kept digits) round to even, as Python's format() does. */
function roundHalfEven(rounded: string, exact: string, keptLength: number): string {
  const rest = exact.slice(keptLength).replace('.', '');
  if (!/^50*$/.test(rest)) return rounded;
  const kept = exact.slice(0, keptLength).replace(/\.$/, '');
  const last = kept.replace('.', '').at(-1);
  return last !== undefined && Number(last) % 2 === 0 ? kept : rounded;
}

/** Python's `f"{x:.{p}f}"`. */
export function formatFixed(x: number, p: number): string {
  if (!Number.isFinite(x)) return nonFinite(x);
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  let s: string;
  if (a >= 1e21) {
    s = BigInt(a).toString() + (p > 0 ? `.${'0'.repeat(p)}` : '');
  } else {
    const exact = a.toFixed(100);
    const dot = exact.indexOf('.');
    s = roundHalfEven(a.toFixed(p), exact, p > 0 ? dot + 1 + p : dot);
  }
  return neg ? `-${s}` : s;
}

/** Python's `f"{x:.{p}e}"`. */
export function formatExp(x: number, p: number): string {
  if (!Number.isFinite(x)) return nonFinite(x);
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  const exact = a.toExponential(100);
  const [exactMant, exactExp] = exact.split('e') as [string, string];
  const [mant0, exp0] = a.toExponential(p).split('e') as [string, string];
  let mant = mant0;
  let e = Number(exp0);
  const kept = roundHalfEven(mant0, exactMant, p > 0 ? 2 + p : 1);
  if (kept !== mant0) {
    mant = kept;
    e = Number(exactExp);
  }
  const es = `${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return `${neg ? '-' : ''}${mant}e${es}`;
}

// ---- PyTorch's _Formatter ---------------------------------------------------------------------

class Formatter {
  readonly floating: boolean;
  intMode = true;
  sciMode = false;
  maxWidth = 1;

  constructor(
    values: readonly number[],
    dtype: DType,
    readonly precision: number,
    sci: boolean | null,
  ) {
    this.floating = dtype !== 'int32';
    if (!this.floating) {
      for (const v of values) this.maxWidth = Math.max(this.maxWidth, String(v).length);
      return;
    }
    const nz = values.filter((v) => Number.isFinite(v) && v !== 0);
    if (nz.length > 0) {
      let min = Infinity;
      let max = 0;
      for (const v of nz) {
        const a = Math.abs(v);
        if (a < min) min = a;
        if (a > max) max = a;
      }
      this.intMode = nz.every((v) => v === Math.ceil(v));
      const wide = max / min > 1000 || max > 1e8;
      if (this.intMode) {
        if (wide) {
          this.sciMode = true;
          for (const v of nz) this.maxWidth = Math.max(this.maxWidth, formatExp(v, precision).length);
        } else {
          for (const v of nz) this.maxWidth = Math.max(this.maxWidth, formatFixed(v, 0).length + 1);
        }
      } else if (wide || min < 1e-4) {
        this.sciMode = true;
        for (const v of nz) this.maxWidth = Math.max(this.maxWidth, formatExp(v, precision).length);
      } else {
        for (const v of nz) this.maxWidth = Math.max(this.maxWidth, formatFixed(v, precision).length);
      }
    }
    if (sci !== null) this.sciMode = sci;
  }

  format(v: number): string {
    let s: string;
    if (!this.floating) s = String(v);
    else if (this.sciMode) s = formatExp(v, this.precision);
    else if (this.intMode) s = formatFixed(v, 0) + (Number.isFinite(v) ? '.' : '');
    else s = formatFixed(v, this.precision);
    return s.padStart(this.maxWidth);
  }
}

// ---- PyTorch's _tensor_str --------------------------------------------------------------------

interface View {
  readonly data: TypedArray;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
}

/** The indices of one axis that a (possibly summarised) printout shows, with -1 for `...`. */
function shown(n: number, summarize: boolean, edge: number): number[] {
  if (summarize && n > 2 * edge) {
    const head = Array.from({ length: edge }, (_, i) => i);
    const tail = Array.from({ length: edge }, (_, i) => n - edge + i);
    return [...head, -1, ...tail];
  }
  return Array.from({ length: n }, (_, i) => i);
}

/** The values the formatter measures: PyTorch's get_summarized_data. */
function summarizedValues(v: View, summarize: boolean, edge: number): number[] {
  const out: number[] = [];
  const nd = v.shape.length;
  if (summarize && nd >= 2 && edge === 0) return out;
  const walk = (axis: number, off: number): void => {
    if (axis === nd) {
      out.push(v.data[off]!);
      return;
    }
    const n = v.shape[axis]!;
    // a 1-d summary with edgeItems 0 keeps everything (torch.cat of self[:0] and self[-0:])
    const idx = nd === 1 && edge === 0 ? shown(n, false, 0) : shown(n, summarize, edge);
    for (const i of idx) if (i >= 0) walk(axis + 1, off + i * v.strides[axis]!);
  };
  walk(0, 0);
  return out;
}

function vectorStr(v: View, off: number, indent: number, summarize: boolean, f: Formatter, o: PrintOptions): string {
  const n = v.shape.at(-1)!;
  const step = v.strides.at(-1)!;
  const perLine = Math.max(1, Math.floor((o.linewidth - indent) / (f.maxWidth + 2)));
  let items: string[];
  if (summarize && o.edgeItems === 0) items = ['...'];
  else items = shown(n, summarize, o.edgeItems).map((i) => (i < 0 ? ' ...' : f.format(v.data[off + i * step]!)));
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
  return `[${lines.join(`,\n${' '.repeat(indent + 1)}`)}]`;
}

function tensorStr(
  v: View,
  axis: number,
  off: number,
  indent: number,
  summarize: boolean,
  f: Formatter,
  o: PrintOptions,
): string {
  const dims = v.shape.length - axis;
  if (dims === 0) return f.format(v.data[off]!);
  if (dims === 1) return vectorStr(v, off, indent, summarize, f, o);
  const parts = shown(v.shape[axis]!, summarize, o.edgeItems).map((i) =>
    i < 0 ? '...' : tensorStr(v, axis + 1, off + i * v.strides[axis]!, indent + 1, summarize, f, o),
  );
  return `[${parts.join(`,${'\n'.repeat(dims - 1)}${' '.repeat(indent + 1)}`)}]`;
}

/** What a printout says besides the values. */
export interface TensorMeta {
  shape: readonly number[];
  dtype: DType;
  device: string;
  requiresGrad: boolean;
  /** The op that made the tensor, for a non-leaf. */
  op?: string | undefined;
}

/**
 * The body of a printout, exactly PyTorch's `_tensor_str(t, indent)`: for `tensor([[1, 2], [3, 4]])`
 * it is `[[1., 2.],\n        [3., 4.]]` (continuation lines indented by `indent + 1`).
 */
export function formatValues(
  data: TypedArray,
  shape: readonly number[],
  dtype: DType,
  indent = 7,
  o: PrintOptions = opts,
): string {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size === 0) return '[]';
  const strides = new Array<number>(shape.length);
  for (let i = shape.length - 1, s = 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  const v: View = { data, shape, strides };
  const summarize = size > o.threshold;
  const f = new Formatter(summarizedValues(v, summarize, o.edgeItems), dtype, o.precision, o.sciMode);
  return tensorStr(v, 0, 0, indent, summarize, f, o);
}

/**
 * `tensor(<values>, shape=[…], dtype=…, device=…, requiresGrad=true | gradFn=<op>)`, wrapping the
 * suffixes onto new lines past the line width as PyTorch's `_add_suffixes` does. As in PyTorch, the
 * device is named only when it is not the CPU.
 */
export function formatTensor(data: TypedArray, meta: TensorMeta, o: PrintOptions = opts): string {
  const prefix = 'tensor(';
  const indent = prefix.length;
  const body = prefix + formatValues(data, meta.shape, meta.dtype, indent, o);
  const suffixes = [`shape=[${meta.shape.join(', ')}]`, `dtype=${meta.dtype}`];
  if (meta.device !== 'cpu') suffixes.push(`device=${meta.device}`);
  if (meta.op !== undefined) suffixes.push(`gradFn=<${meta.op}>`);
  else if (meta.requiresGrad) suffixes.push('requiresGrad=true');
  const parts = [body];
  let last = body.length - body.lastIndexOf('\n') + 1;
  for (const s of suffixes) {
    if (last + s.length + 2 > o.linewidth) {
      parts.push(`,\n${' '.repeat(indent)}${s}`);
      last = indent + s.length;
    } else {
      parts.push(`, ${s}`);
      last += s.length + 2;
    }
  }
  return `${parts.join('')})`;
}
