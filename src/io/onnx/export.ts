/**
 * ONNX export by tracing: the forward runs once (twice when some axes are dynamic, the second time with
 * those axes grown) while every op is recorded; each record becomes ONNX nodes (ops.ts), parameters and
 * buffers become initializers under their module paths, and anything else the graph reads is a constant.
 * Comparing the two traces tells which sizes follow a dynamic axis, as a symbolic tracer would.
 */
import { fileURLToPath } from 'node:url';
import { ExportError, ValueError } from '../../errors.js';
import { noGrad, withTracer } from '../../tape.js';
import { Tensor } from '../../tensor.js';
import { writeFileAtomic } from '../atomic.js';
import { GraphBuilder, onnxDType, type ValueInfo } from './graph.js';
import { EMITTERS, type EmitCtx, type TraceRecord } from './ops.js';

/** Dynamic axes of one named input or output: axis indices, or axis → symbolic name (PyTorch's form). */
export type DynamicAxes = readonly number[] | Readonly<Record<number, string>>;

/** Options of `exportOnnx` and `exportOnnxBytes` (as torch.onnx.export's). */
export interface ExportOnnxOptions {
  /** ONNX opset (default 17; 13–21 supported). */
  readonly opset?: number;
  /** Graph input names (default input0, input1, …). */
  readonly inputNames?: readonly string[];
  /** Graph output names (default output0, …). */
  readonly outputNames?: readonly string[];
  /** Axes whose size may change at run time, per input or output name, e.g. `{ input0: { 0: 'batch' } }`. */
  readonly dynamicAxes?: Readonly<Record<string, DynamicAxes>>;
}
const OPTION_KEYS = ['opset', 'inputNames', 'outputNames', 'dynamicAxes'];

/** A module (anything with `forward` and `namedParameters`) or a plain function of tensors. */
export interface ExportableModule {
  /** The computation to trace. */
  forward(...inputs: Tensor[]): Tensor | readonly Tensor[];
  /** The parameters, exported as named initializers. */
  namedParameters(): [string, Tensor][];
}
/** What `exportOnnx` can trace: a module or a plain function of tensors. */
export type Exportable = ExportableModule | ((...inputs: Tensor[]) => Tensor | readonly Tensor[]);

interface Trace {
  readonly records: TraceRecord[];
  readonly outputs: readonly Tensor[];
}

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
/** The first stack frame outside this package: where user code called the op. */
function callSite(): string {
  const lines = (new Error().stack ?? '').split('\n').slice(1);
  const user = lines.find((l) => !l.includes(packageRoot) && !l.includes('node:'));
  return (user ?? lines[0] ?? '').trim().replace(/^at /, '') || 'unknown';
}

function runTraced(fn: (...xs: Tensor[]) => Tensor | readonly Tensor[], inputs: readonly Tensor[]): Trace {
  const records: TraceRecord[] = [];
  const result = withTracer(
    (op, ins, attrs, out) => records.push({ op, inputs: ins, attrs, out, where: callSite() }),
    () => noGrad(() => fn(...inputs)),
  );
  const outputs = result instanceof Tensor ? [result] : [...result];
  if (outputs.length === 0 || outputs.some((t) => !(t instanceof Tensor))) {
    throw new ValueError('exportOnnx: the model must return a Tensor or an array of Tensors');
  }
  return { records, outputs };
}

/** Normalises `{ 0: 'batch' }` / `[0]` to axis → name. */
function axisNames(name: string, spec: DynamicAxes | undefined): Map<number, string> {
  const m = new Map<number, string>();
  if (spec === undefined) return m;
  if (Array.isArray(spec)) for (const a of spec as readonly number[]) m.set(a, `${name}_dim${a}`);
  else for (const [a, n] of Object.entries(spec)) m.set(Number(a), n);
  return m;
}

/** Grows `x` along `axis` by `k` (repeating its leading entries), outside any trace. */
function grow(x: Tensor, axis: number, k: number): Tensor {
  const n = x.shape[axis]!;
  if (n === 0) throw new ValueError(`exportOnnx: dynamic axis ${axis} of an example input has size 0`);
  const idx = Array.from({ length: n + k }, (_, i) => (i < n ? i : (i - n) % n));
  return noGrad(() => x.indexSelect(axis, idx));
}

/** Exports `model` (evaluated in eval mode) to ONNX bytes. See `exportOnnx`. */
export function exportOnnxBytes(
  model: Exportable,
  exampleInputs: readonly Tensor[],
  options: ExportOnnxOptions = {},
): Uint8Array {
  for (const k of Object.keys(options)) {
    if (!OPTION_KEYS.includes(k))
      throw new ValueError(`exportOnnx: unknown option '${k}' (known: ${OPTION_KEYS.join(', ')})`);
  }
  const opset = options.opset ?? 17;
  if (!Number.isInteger(opset) || opset < 13 || opset > 21) {
    throw new ValueError(`exportOnnx: opset must be an integer in [13, 21], got ${opset}`);
  }
  exampleInputs.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new ValueError(`exportOnnx: example input ${i} is not a Tensor`);
  });
  const inputNames = exampleInputs.map((_, i) => options.inputNames?.[i] ?? `input${i}`);
  const dyn = options.dynamicAxes ?? {};
  const isModule = typeof model !== 'function';
  const fn = isModule ? (...xs: Tensor[]) => model.forward(...xs) : model;

  // Parameters and buffers by identity, under their module paths.
  const named = new Map<Tensor, string>();
  if (isModule) {
    for (const [k, p] of model.namedParameters()) named.set(p, k);
    const withBuffers = model as unknown as { namedBuffers?: () => [string, Tensor][] };
    if (typeof withBuffers.namedBuffers === 'function')
      for (const [k, b] of withBuffers.namedBuffers()) named.set(b, k);
  }

  // Growth per distinct dynamic-axis name: 1, 2, 3… so each name's sizes can be told apart.
  const growth = new Map<string, number>();
  const inputAxes = inputNames.map((n) => axisNames(n, dyn[n]));
  for (const m of inputAxes) for (const s of m.values()) if (!growth.has(s)) growth.set(s, growth.size + 1);
  for (const k of Object.keys(dyn)) {
    if (!inputNames.includes(k) && !(options.outputNames ?? []).includes(k) && !/^output\d+$/.test(k)) {
      throw new ValueError(`exportOnnx: dynamicAxes names '${k}', which is neither an input nor an output name`);
    }
  }

  const training = isModule ? (model as unknown as { training?: boolean }).training : undefined;
  const setMode = (m: boolean): void => {
    const mm = model as unknown as { train?: (on?: boolean) => unknown };
    if (isModule && typeof mm.train === 'function') mm.train(m);
  };
  if (training === true) setMode(false);
  let t1: Trace, t2: Trace, inputs2: Tensor[];
  try {
    t1 = runTraced(fn, exampleInputs);
    inputs2 = exampleInputs.map((x, i) => {
      let y = x;
      for (const [a, s] of inputAxes[i]!) {
        if (a < 0 || a >= x.ndim || !Number.isInteger(a)) {
          throw new ValueError(
            `exportOnnx: dynamic axis ${a} of '${inputNames[i]}' is out of range for shape [${x.shape}]`,
          );
        }
        y = grow(y, a, growth.get(s)!);
      }
      return y;
    });
    t2 = growth.size ? runTraced(fn, inputs2) : t1;
  } finally {
    if (training === true) setMode(true);
  }

  if (t1.records.length !== t2.records.length || t1.records.some((r, k) => r.op !== t2.records[k]!.op)) {
    throw new ExportError(
      'exportOnnx: the ops the model runs depend on the size of a dynamic axis; export with fixed sizes',
    );
  }
  const twinOf = new Map<Tensor, Tensor>();
  exampleInputs.forEach((x, i) => twinOf.set(x, inputs2[i]!));
  t1.records.forEach((r, k) => {
    const r2 = t2.records[k]!;
    twinOf.set(r.out, r2.out);
    r.inputs.forEach((x, j) => twinOf.set(x, r2.inputs[j] ?? x));
  });
  t1.outputs.forEach((o, i) => twinOf.set(o, t2.outputs[i] ?? o));

  // Keep only the records the outputs depend on.
  const producer = new Map<Tensor, number>();
  // A custom op's forward ran as primitives that already produced its output: the first producer wins.
  t1.records.forEach((r, k) => producer.has(r.out) || producer.set(r.out, k));
  const needed = new Set<number>();
  const stack = [...t1.outputs];
  while (stack.length) {
    const k = producer.get(stack.pop()!);
    if (k === undefined || needed.has(k)) continue;
    needed.add(k);
    stack.push(...t1.records[k]!.inputs);
  }

  const g = new GraphBuilder();
  const names = new Map<Tensor, string>();
  exampleInputs.forEach((x, i) => {
    if (names.has(x))
      throw new ValueError(`exportOnnx: the same tensor is passed as inputs '${names.get(x)}' and '${inputNames[i]}'`);
    names.set(x, g.fresh(inputNames[i]!));
  });
  const isDynamic = (t: Tensor): boolean[] => {
    const tw = twinOf.get(t) ?? t;
    return t.shape.map((d, i) => d !== tw.shape[i]);
  };
  /** A dimension that follows a dynamic axis, read at run time from the graph input that has it. */
  const shapeOf = new Map<number, string>();
  const dimFromInput = (d1: number, d2: number): string | null => {
    for (const [i, x] of exampleInputs.entries()) {
      const a = x.shape.findIndex((d, ax) => d === d1 && inputs2[i]!.shape[ax] === d2 && d1 !== d2);
      if (a < 0) continue;
      if (!shapeOf.has(i)) shapeOf.set(i, g.node('Shape', [names.get(x)!]));
      return g.node('Gather', [shapeOf.get(i)!, g.int64s([a], 'axis')]);
    }
    return null;
  };
  /** A constant filled with one value whose shape follows dynamic axes (zeros for an initial state): Expand. */
  const dynamicFill = (t: Tensor, tw: Tensor): string | null => {
    const v = t.data[0];
    if (v === undefined || tw.ndim !== t.ndim || ![t.data, tw.data].every((d) => d.every((x) => Object.is(x, v))))
      return null;
    const dims: string[] = [];
    for (const [i, d] of t.shape.entries()) {
      const piece = d === tw.shape[i] ? g.int64s([d], 'dim') : dimFromInput(d, tw.shape[i]!);
      if (piece === null) return null;
      dims.push(piece);
    }
    const shape = dims.length ? g.node('Concat', dims, [{ name: 'axis', i: 0 }]) : g.int64s([], 'shape');
    const scalar = g.initializer(g.fresh('fill'), [], onnxDType(t.dtype, 'a constant'), t.data.slice(0, 1));
    return g.node('Expand', [scalar, shape]);
  };
  const constant = (t: Tensor, rec: TraceRecord): string => {
    const param = named.get(t);
    const tw = twinOf.get(t) ?? t;
    if (
      param === undefined &&
      tw !== t &&
      (tw.shape.some((d, i) => d !== t.shape[i]) || tw.data.some((v, i) => !Object.is(v, t.data[i])))
    ) {
      const filled = tw.shape.some((d, i) => d !== t.shape[i]) ? dynamicFill(t, tw) : null;
      if (filled !== null) {
        names.set(t, filled);
        return filled;
      }
      throw new ExportError(
        `exportOnnx: a constant of shape [${t.shape}] read by '${rec.op}' (recorded at ${rec.where}) depends on the size of a dynamic axis`,
      );
    }
    const name = g.initializer(
      g.fresh(param ?? 'const'),
      t.shape,
      onnxDType(t.dtype, `constant '${param ?? 'const'}'`),
      t.data,
    );
    names.set(t, name);
    return name;
  };

  t1.records.forEach((rec, k) => {
    if (!needed.has(k)) return;
    const emit = EMITTERS[rec.op];
    if (!emit) throw new ExportError(`exportOnnx: op '${rec.op}' has no ONNX mapping (recorded at ${rec.where})`);
    const twin = t2.records[k]!;
    const ctx: EmitCtx = {
      g,
      opset,
      rec,
      twin,
      input: (i) => {
        const t = rec.inputs[i]!;
        return names.get(t) ?? constant(t, rec);
      },
      out: g.fresh(`${rec.op}_${k}`),
      dynamic: (i) => isDynamic(i < 0 ? rec.out : rec.inputs[i]!),
      fail: (msg) => {
        throw new ExportError(`exportOnnx: ${msg} (op '${rec.op}' recorded at ${rec.where})`);
      },
    };
    emit(ctx);
    names.set(rec.out, ctx.out);
  });

  const outputNames = t1.outputs.map((_, i) => options.outputNames?.[i] ?? `output${i}`);
  const inputDimNames = new Map<number, string>([...growth].map(([s, k]) => [k, s]));
  const outputs: ValueInfo[] = t1.outputs.map((o, i) => {
    const name = outputNames[i]!;
    let src = names.get(o) ?? constant(o, { op: 'output', inputs: [], attrs: null, out: o, where: 'output' });
    if (exampleInputs.includes(o) || named.has(o) || src !== names.get(o) || !producer.has(o)) {
      src = g.node('Identity', [src]);
    }
    // Rename the producing node's output to the graph output name.
    const nd = g.nodes.find((n) => n.outputs[0] === src);
    if (nd) (nd as { outputs: readonly string[] }).outputs = [g.fresh(name)];
    const given = axisNames(name, dyn[name]);
    const tw = twinOf.get(o) ?? o;
    const dims = o.shape.map((d, a) => {
      if (tw.shape[a] === d) return d;
      return given.get(a) ?? inputDimNames.get(tw.shape[a]! - d) ?? `${name}_dim${a}`;
    });
    return { name: nd?.outputs[0] ?? name, elemType: onnxDType(o.dtype, `output '${name}'`), dims };
  });
  const inputs: ValueInfo[] = exampleInputs.map((x, i) => ({
    name: names.get(x)!,
    elemType: onnxDType(x.dtype, `input '${inputNames[i]}'`),
    dims: x.shape.map((d, a) => inputAxes[i]!.get(a) ?? d),
  }));
  return g.encode({ opset, inputs, outputs, producerVersion: '0.3.0' });
}

/**
 * Exports a model (in eval mode: dropout off, BatchNorm running statistics) or a function of tensors to an
 * ONNX file, tracing one forward pass on `exampleInputs`. Like `torch.onnx.export`.
 *
 * @example await exportOnnx(model, [x], 'model.onnx', { dynamicAxes: { input0: { 0: 'batch' } } })
 */
export async function exportOnnx(
  model: Exportable,
  exampleInputs: readonly Tensor[],
  path: string,
  options: ExportOnnxOptions = {},
): Promise<void> {
  await writeFileAtomic(path, [exportOnnxBytes(model, exampleInputs, options)]);
}
