/**
 * How each traced op becomes ONNX nodes: one emitter per op name. An op without an entry is refused by
 * `exportOnnx` with an error naming it and where it was recorded.
 */
import type { PoolGeom } from '../../backend/backend.js';
import type { DType } from '../../dtype.js';
import type { ConvAttrs } from '../../ops/conv.js';
import type { Tensor } from '../../tensor.js';
import type { NormAttrs } from '../../ops/norm-fused.js';
import { type Attr, type GraphBuilder, ONNX_BOOL, ONNX_INT64, onnxDType } from './graph.js';

/** One traced application: the op's name, inputs, attributes and output, and where user code called it. */
export interface TraceRecord {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly attrs: unknown;
  readonly out: Tensor;
  readonly where: string;
}

/** What an emitter sees: the record (and its twin from the second, resized trace, if axes are dynamic). */
export interface EmitCtx {
  readonly g: GraphBuilder;
  readonly opset: number;
  readonly rec: TraceRecord;
  /** The same op in the trace with grown dynamic axes; equal to `rec` when there are none. */
  readonly twin: TraceRecord;
  /** Value name of input `i`. */
  input(i: number): string;
  /** The value name the op's output must be written to. */
  readonly out: string;
  /** Per dimension of `rec.inputs[i]` (or of the output for i = -1): does its size follow a dynamic axis? */
  dynamic(i: number): readonly boolean[];
  fail(msg: string): never;
}
export type Emitter = (c: EmitCtx) => void;

const INT64_MIN = -(2n ** 63n);

const attrsOf = <A>(c: EmitCtx): A => c.rec.attrs as A;
const simple =
  (opType: string): Emitter =>
  (c) => {
    c.g.node(
      opType,
      c.rec.inputs.map((_, i) => c.input(i)),
      [],
      c.out,
    );
  };
/** A scalar constant of `dtype`, broadcast by ONNX's elementwise ops. */
function scalar(g: GraphBuilder, v: number, dtype: DType): string {
  const data = dtype === 'float64' ? Float64Array.of(v) : dtype === 'int32' ? Int32Array.of(v) : Float32Array.of(v);
  return g.initializer(g.fresh('scalar'), [], onnxDType(dtype, 'a constant'), data);
}
/** ONNX comparisons give booleans; ours give 0/1 in the inputs' dtype. */
const compare =
  (opType: string, negate = false): Emitter =>
  (c) => {
    let b = c.g.node(opType, [c.input(0), c.input(1)]);
    if (negate) b = c.g.node('Not', [b]);
    c.g.node('Cast', [b], [{ name: 'to', i: onnxDType(c.rec.out.dtype, 'a comparison') }], c.out);
  };
/** Reductions: axes become an input in opset 13 (ReduceSum) / 18 (ReduceMax, ReduceMin). */
const reduce =
  (opType: string, axesAsInputFrom: number): Emitter =>
  (c) => {
    const { axes, keepdim } = attrsOf<{ axes: readonly number[]; keepdim: boolean }>(c);
    if (axes.length === 0) {
      c.g.node('Identity', [c.input(0)], [], c.out);
      return;
    }
    const keep: Attr = { name: 'keepdims', i: keepdim ? 1 : 0 };
    if (c.opset >= axesAsInputFrom) c.g.node(opType, [c.input(0), c.g.int64s(axes, 'axes')], [keep], c.out);
    else c.g.node(opType, [c.input(0)], [keep, { name: 'axes', ints: axes }], c.out);
  };
const argReduce =
  (opType: string): Emitter =>
  (c) => {
    const { axis, keepdim } = attrsOf<{ axis: number; keepdim: boolean }>(c);
    const idx = c.g.node(
      opType,
      [c.input(0)],
      [
        { name: 'axis', i: axis },
        { name: 'keepdims', i: keepdim ? 1 : 0 },
      ],
    );
    c.g.node('Cast', [idx], [{ name: 'to', i: onnxDType(c.rec.out.dtype, opType) }], c.out);
  };
const swapLast = (rank: number): number[] =>
  [...Array(rank).keys()].map((i) => (i === rank - 2 ? rank - 1 : i === rank - 1 ? rank - 2 : i));

/** A target shape from the two traces: a dynamic entry becomes 0 (copy the input's dim) or one -1. */
function reshapeTarget(c: EmitCtx): number[] {
  const target = attrsOf<readonly number[]>(c),
    target2 = c.twin.attrs as readonly number[];
  const x = c.rec.inputs[0]!,
    dynIn = c.dynamic(0);
  let inferred = false;
  return target.map((d, i) => {
    if (d === target2[i]) return d;
    if (i < x.ndim && dynIn[i] && x.shape[i] === d && c.twin.inputs[0]!.shape[i] === target2[i]) return 0;
    if (inferred) c.fail(`reshape to [${target}] has more than one dimension that follows a dynamic axis`);
    inferred = true;
    return -1;
  });
}

const UNARY: Readonly<Record<string, string>> = {
  neg: 'Neg',
  exp: 'Exp',
  log: 'Log',
  sqrt: 'Sqrt',
  abs: 'Abs',
  tanh: 'Tanh',
  sigmoid: 'Sigmoid',
  relu: 'Relu',
  sign: 'Sign',
  sin: 'Sin',
  cos: 'Cos',
  erf: 'Erf',
  floor: 'Floor',
  ceil: 'Ceil',
  round: 'Round',
  tan: 'Tan',
  asin: 'Asin',
  acos: 'Acos',
  atan: 'Atan',
  sinh: 'Sinh',
  cosh: 'Cosh',
  reciprocal: 'Reciprocal',
};
const BINARY: Readonly<Record<string, string>> = {
  add: 'Add',
  sub: 'Sub',
  mul: 'Mul',
  div: 'Div',
  pow: 'Pow',
  maximum: 'Max',
  minimum: 'Min',
};

export const EMITTERS: Readonly<Record<string, Emitter>> = {
  ...Object.fromEntries(Object.entries(UNARY).map(([op, onnx]) => [op, simple(onnx)])),
  ...Object.fromEntries(Object.entries(BINARY).map(([op, onnx]) => [op, simple(onnx)])),
  log1p: (c) => {
    const one = scalar(c.g, 1, c.rec.inputs[0]!.dtype);
    c.g.node('Log', [c.g.node('Add', [c.input(0), one])], [], c.out);
  },
  expm1: (c) => {
    const one = scalar(c.g, 1, c.rec.inputs[0]!.dtype);
    c.g.node('Sub', [c.g.node('Exp', [c.input(0)]), one], [], c.out);
  },
  log2: (c) => {
    c.g.node('Div', [c.g.node('Log', [c.input(0)]), scalar(c.g, Math.LN2, c.rec.inputs[0]!.dtype)], [], c.out);
  },
  log10: (c) => {
    c.g.node('Div', [c.g.node('Log', [c.input(0)]), scalar(c.g, Math.LN10, c.rec.inputs[0]!.dtype)], [], c.out);
  },
  trunc: (c) => {
    const mag = c.g.node('Floor', [c.g.node('Abs', [c.input(0)])]);
    c.g.node('Mul', [c.g.node('Sign', [c.input(0)]), mag], [], c.out);
  },
  eq: compare('Equal'),
  ne: compare('Equal', true),
  lt: compare('Less'),
  le: compare('LessOrEqual'),
  gt: compare('Greater'),
  ge: compare('GreaterOrEqual'),
  where: (c) => {
    const cond = c.g.node('Cast', [c.input(0)], [{ name: 'to', i: ONNX_BOOL }]);
    c.g.node('Where', [cond, c.input(1), c.input(2)], [], c.out);
  },
  cast: (c) => {
    c.g.node('Cast', [c.input(0)], [{ name: 'to', i: onnxDType(c.rec.out.dtype, 'cast') }], c.out);
  },
  sum: reduce('ReduceSum', 13),
  max: reduce('ReduceMax', 18),
  min: reduce('ReduceMin', 18),
  argmax: argReduce('ArgMax'),
  argmin: argReduce('ArgMin'),
  matmul: (c) => {
    const { ta, tb } = attrsOf<{ ta: boolean; tb: boolean }>(c);
    const [a, b] = c.rec.inputs as [Tensor, Tensor];
    const side = (i: number, t: Tensor, trans: boolean): string =>
      trans ? c.g.node('Transpose', [c.input(i)], [{ name: 'perm', ints: swapLast(t.ndim) }]) : c.input(i);
    c.g.node('MatMul', [side(0, a, ta), side(1, b, tb)], [], c.out);
  },
  reshape: (c) => {
    c.g.node('Reshape', [c.input(0), c.g.int64s(reshapeTarget(c), 'shape')], [], c.out);
  },
  permute: (c) => {
    c.g.node('Transpose', [c.input(0)], [{ name: 'perm', ints: attrsOf<readonly number[]>(c) }], c.out);
  },
  expand: (c) => {
    const shape = attrsOf<readonly number[]>(c),
      shape2 = c.twin.attrs as readonly number[];
    const x = c.rec.inputs[0]!,
      dynIn = c.dynamic(0),
      lead = shape.length - x.ndim;
    const target = shape.map((d, i) => {
      if (d === shape2[i]) return d;
      // Expand broadcasts: a 1 keeps the input's (dynamic) size there.
      if (i >= lead && dynIn[i - lead]) return 1;
      return c.fail(`expand to [${shape}] grows a size-1 axis to a dynamic size`);
    });
    c.g.node('Expand', [c.input(0), c.g.int64s(target, 'shape')], [], c.out);
  },
  slice: (c) => {
    const { starts, steps } = attrsOf<{ starts: readonly number[]; steps: readonly number[] }>(c);
    const x = c.rec.inputs[0]!,
      x2 = c.twin.inputs[0]!,
      out = c.rec.out,
      out2 = c.twin.out;
    const axes: number[] = [],
      s: bigint[] = [],
      e: bigint[] = [],
      st: number[] = [];
    x.shape.forEach((n, a) => {
      const start = starts[a]!,
        step = steps[a]!,
        len = out.shape[a]!;
      if (n !== x2.shape[a]) {
        // A dynamic axis must be taken whole.
        if (start !== 0 || step !== 1 || len !== n || out2.shape[a] !== x2.shape[a]) {
          c.fail(`slice takes part of a dynamic axis (${a})`);
        }
        return;
      }
      if (start === 0 && step === 1 && len === n) return;
      const end = start + step * len;
      axes.push(a);
      s.push(BigInt(start));
      e.push(end < 0 ? INT64_MIN : len === 0 ? BigInt(start) : BigInt(end));
      st.push(step);
    });
    if (axes.length === 0) {
      c.g.node('Identity', [c.input(0)], [], c.out);
      return;
    }
    const g = c.g;
    g.node(
      'Slice',
      [c.input(0), g.int64s(s, 'starts'), g.int64s(e, 'ends'), g.int64s(axes, 'axes'), g.int64s(st, 'steps')],
      [],
      c.out,
    );
  },
  sliceScatter: (c) => {
    // Zeros with `src` written at `starts` (step 1): a constant Pad, which is how `pad` is built.
    const { starts, steps, shape } = attrsOf<{
      starts: readonly number[];
      steps: readonly number[];
      shape: readonly number[];
    }>(c);
    const src = c.rec.inputs[0]!,
      twin = c.twin.attrs as { shape: readonly number[] };
    if (steps.some((s) => s !== 1)) c.fail('sliceScatter with steps other than 1 has no ONNX mapping');
    const after = shape.map((n, a) => n - starts[a]! - src.shape[a]!);
    const after2 = twin.shape.map((n, a) => n - starts[a]! - c.twin.inputs[0]!.shape[a]!);
    if (after.some((v, a) => v !== after2[a])) c.fail('sliceScatter pads by an amount that follows a dynamic axis');
    c.g.node('Pad', [c.input(0), c.g.int64s([...starts, ...after], 'pads')], [{ name: 'mode', s: 'constant' }], c.out);
  },
  concat: (c) => {
    c.g.node(
      'Concat',
      c.rec.inputs.map((_, i) => c.input(i)),
      [{ name: 'axis', i: attrsOf<{ axis: number }>(c).axis }],
      c.out,
    );
  },
  gather: (c) => {
    const idx = c.g.node('Cast', [c.input(1)], [{ name: 'to', i: ONNX_INT64 }]);
    c.g.node('GatherElements', [c.input(0), idx], [{ name: 'axis', i: attrsOf<{ axis: number }>(c).axis }], c.out);
  },
  conv2d: (c) => {
    const a = attrsOf<ConvAttrs>(c); // inputs: x, weight and (fused) bias
    c.g.node(
      'Conv',
      c.rec.inputs.map((_, i) => c.input(i)),
      [
        { name: 'strides', ints: a.stride },
        { name: 'pads', ints: [...a.padBegin, ...a.padEnd] },
        { name: 'dilations', ints: a.dilation },
        { name: 'group', i: a.groups },
      ],
      c.out,
    );
  },
  convTranspose2d: (c) => {
    const a = attrsOf<ConvAttrs & { inSize: readonly [number, number] }>(c);
    const w = c.rec.inputs[1]!;
    c.g.node(
      'ConvTranspose',
      c.rec.inputs.map((_, i) => c.input(i)),
      [
        { name: 'kernel_shape', ints: [w.shape[2]!, w.shape[3]!] },
        { name: 'strides', ints: a.stride },
        { name: 'dilations', ints: a.dilation },
        { name: 'group', i: a.groups },
        { name: 'pads', ints: [...a.padBegin, ...a.padEnd] },
        { name: 'output_shape', ints: a.inSize },
      ],
      c.out,
    );
  },
  maxPool2dIndices: (c) => {
    // Our indices are flat within each plane; ONNX's are flat over the whole NCHW tensor: take them mod H·W.
    const { g } = attrsOf<{ g: PoolGeom }>(c);
    const x = c.rec.inputs[0]!;
    if (x.ndim !== 4) c.fail(`max pooling of a rank-${x.ndim} input (expected N, C, H, W)`);
    const pads = [g.ph, g.pw, g.ph, g.pw];
    const size = (n: number, k: number, s: number, p: number, d: number, ceil: boolean): number =>
      (ceil ? Math.ceil : Math.floor)((n + 2 * p - d * (k - 1) - 1) / s) + 1;
    const fits = (ceil: boolean): boolean =>
      size(g.h, g.kh, g.sh, g.ph, g.dh, ceil) === g.ho && size(g.w, g.kw, g.sw, g.pw, g.dw, ceil) === g.wo;
    const ceil = fits(false) ? 0 : fits(true) ? 1 : c.fail('max pooling whose output size ONNX cannot reproduce');
    const values = c.g.fresh('maxpool_values'),
      flat = c.g.fresh('maxpool_indices');
    c.g.nodes.push({
      opType: 'MaxPool',
      inputs: [c.input(0)],
      outputs: [values, flat],
      name: `MaxPool_${c.g.nodes.length}`,
      attrs: [
        { name: 'kernel_shape', ints: [g.kh, g.kw] },
        { name: 'strides', ints: [g.sh, g.sw] },
        { name: 'pads', ints: pads },
        { name: 'dilations', ints: [g.dh, g.dw] },
        { name: 'ceil_mode', i: ceil },
      ],
    });
    const inPlane = c.g.node('Mod', [flat, c.g.int64s([g.h * g.w], 'plane')]);
    c.g.node('Cast', [inPlane], [{ name: 'to', i: onnxDType(c.rec.out.dtype, 'maxPool2dIndices') }], c.out);
  },
  maxPoolGather: (c) => {
    const idx = c.g.node('Cast', [c.input(1)], [{ name: 'to', i: ONNX_INT64 }]);
    c.g.node('GatherElements', [c.input(0), idx], [{ name: 'axis', i: -1 }], c.out);
  },
  detach: simple('Identity'),
  alias: simple('Identity'),
  // fused primitives (ops/fused.ts)
  softmax: (c) => softmaxLike(c, 'Softmax'),
  logSoftmax: (c) => softmaxLike(c, 'LogSoftmax'),
  softmaxCrossEntropy: (c) => {
    const labels = c.g.node('Cast', [c.input(1)], [{ name: 'to', i: ONNX_INT64 }]);
    c.g.node('SoftmaxCrossEntropyLoss', [c.input(0), labels], [{ name: 'reduction', s: 'none' }], c.out);
  },
  gelu: (c) => {
    const { approximate } = attrsOf<{ approximate: 'none' | 'tanh' }>(c);
    const g = c.g,
      x = c.input(0),
      dt = c.rec.inputs[0]!.dtype;
    if (approximate === 'tanh') {
      // x·σ(2u), u = √(2/π)(x + 0.044715x³)
      const x3 = g.node('Mul', [g.node('Mul', [x, x]), x]);
      const inner = g.node('Add', [x, g.node('Mul', [x3, scalar(g, 0.044715, dt)])]);
      const s = g.node('Sigmoid', [g.node('Mul', [inner, scalar(g, 2 * Math.sqrt(2 / Math.PI), dt)])]);
      g.node('Mul', [x, s], [], c.out);
      return;
    }
    const e = g.node('Erf', [g.node('Mul', [x, scalar(g, Math.SQRT1_2, dt)])]);
    g.node('Mul', [g.node('Mul', [x, scalar(g, 0.5, dt)]), g.node('Add', [e, scalar(g, 1, dt)])], [], c.out);
  },
  layerNorm: (c) => layerNormEmit(c),
};
/**
 * layerNorm: LayerNormalization from opset 17 (a ones Scale when there is no weight); RMS normalisation,
 * and every form before opset 17, as ReduceMean / Sub / Mul / Add / Sqrt / Div.
 */
function layerNormEmit(c: EmitCtx): void {
  const a = attrsOf<NormAttrs>(c);
  const g = c.g,
    x = c.input(0),
    xin = c.rec.inputs[0]!,
    dt = xin.dtype;
  const w = a.weight ? c.input(1) : null,
    b = a.bias ? c.input(a.weight ? 2 : 1) : null;
  if (!a.rms && c.opset >= 17) {
    const shape = xin.shape.slice(xin.ndim - a.dims);
    const ones = dt === 'float64' ? new Float64Array(a.n).fill(1) : new Float32Array(a.n).fill(1);
    const scale = w ?? g.initializer(g.fresh('ones'), shape, onnxDType(dt, 'layerNorm'), ones);
    const attrs = [
      { name: 'axis', i: -a.dims },
      { name: 'epsilon', f: a.eps },
    ];
    g.node('LayerNormalization', [x, scale, ...(b ? [b] : [])], attrs, c.out);
    return;
  }
  const axes = Array.from({ length: a.dims }, (_, i) => xin.ndim - a.dims + i);
  const keep = { name: 'keepdims', i: 1 };
  const mean = (t: string): string =>
    c.opset >= 18
      ? g.node('ReduceMean', [t, g.int64s(axes, 'axes')], [keep])
      : g.node('ReduceMean', [t], [{ name: 'axes', ints: axes }, keep]);
  const d = a.rms ? x : g.node('Sub', [x, mean(x)]);
  const s = g.node('Sqrt', [g.node('Add', [mean(g.node('Mul', [d, d])), scalar(g, a.eps, dt)])]);
  let y = g.node('Div', [d, s]);
  if (w) y = g.node('Mul', [y, w]);
  if (b) y = g.node('Add', [y, b]);
  g.node('Identity', [y], [], c.out);
}
/** Softmax / LogSoftmax take any axis from opset 13; before it they flatten to 2-D, right only for the last axis. */
function softmaxLike(c: EmitCtx, opType: string): void {
  const { axis } = attrsOf<{ axis: number }>(c);
  if (c.opset < 13 && axis !== c.rec.inputs[0]!.ndim - 1) c.fail(`${opType} over a non-last axis needs opset ≥ 13`);
  c.g.node(opType, [c.input(0)], [{ name: 'axis', i: axis }], c.out);
}
