/** An ONNX graph under construction, and its encoding as a ModelProto (onnx.proto's field numbers). */
import type { DType } from '../../dtype.js';
import { ExportError } from '../../errors.js';
import { encodeMessage, type Field } from './proto.js';

/** onnx.proto's TensorProto.DataType values. */
export const ONNX_BOOL = 9;
export const ONNX_INT64 = 7;
const ONNX_DTYPES: Readonly<Record<string, number>> = {
  float32: 1,
  float64: 11,
  int32: 6,
  uint8: 2,
  int8: 3,
  int16: 5,
};

export function onnxDType(dtype: DType, what: string): number {
  const t = ONNX_DTYPES[dtype];
  if (t === undefined) throw new ExportError(`exportOnnx: ${what} has dtype ${dtype}, which has no ONNX mapping here`);
  return t;
}

/** A node attribute, by kind. */
export type Attr =
  | { readonly name: string; readonly i: number }
  | { readonly name: string; readonly f: number }
  | { readonly name: string; readonly s: string }
  | { readonly name: string; readonly ints: readonly number[] };

/** A graph input or output: its name, element type and dims (a string for a dynamic, named axis). */
export interface ValueInfo {
  readonly name: string;
  readonly elemType: number;
  readonly dims: readonly (number | string)[];
}

interface NodeProto {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name: string;
  readonly attrs: readonly Attr[];
}
interface Initializer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly elemType: number;
  readonly raw: Uint8Array;
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: Initializer[] = [];
  #used = new Set<string>();

  /** A value name not used yet, from `base`. */
  fresh(base: string): string {
    let name = base.replace(/[^A-Za-z0-9_./:-]/g, '_') || 'v';
    for (let k = 1; this.#used.has(name); k++) name = `${base}_${k}`;
    this.#used.add(name);
    return name;
  }
  node(opType: string, inputs: readonly string[], attrs: readonly Attr[] = [], output?: string): string {
    const out = output ?? this.fresh(`${opType}_${this.nodes.length}`);
    this.nodes.push({ opType, inputs, outputs: [out], name: `${opType}_${this.nodes.length}`, attrs });
    return out;
  }
  initializer(name: string, dims: readonly number[], elemType: number, data: ArrayBufferView): string {
    this.initializers.push({ name, dims, elemType, raw: bytesOf(data) });
    return name;
  }
  /** A 1-D int64 constant (shapes, axes, pads). */
  int64s(values: readonly (number | bigint)[], base = 'const'): string {
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    return this.initializer(this.fresh(base), [values.length], ONNX_INT64, data);
  }

  encode(opts: {
    readonly opset: number;
    readonly inputs: readonly ValueInfo[];
    readonly outputs: readonly ValueInfo[];
    readonly producerVersion: string;
  }): Uint8Array {
    const valueInfo = (v: ValueInfo): Field[] => [
      { n: 1, str: v.name },
      {
        n: 2,
        msg: [
          {
            n: 1,
            msg: [
              { n: 1, int: v.elemType },
              {
                n: 2,
                msg: v.dims.map(
                  (d): Field => ({ n: 1, msg: [typeof d === 'number' ? { n: 1, int: d } : { n: 2, str: d }] }),
                ),
              },
            ],
          },
        ],
      },
    ];
    const attr = (a: Attr): Field[] => {
      if ('i' in a)
        return [
          { n: 1, str: a.name },
          { n: 3, int: a.i },
          { n: 20, int: 2 },
        ];
      if ('f' in a)
        return [
          { n: 1, str: a.name },
          { n: 2, float: a.f },
          { n: 20, int: 1 },
        ];
      if ('s' in a)
        return [
          { n: 1, str: a.name },
          { n: 4, str: a.s },
          { n: 20, int: 3 },
        ];
      return [
        { n: 1, str: a.name },
        { n: 8, ints: a.ints },
        { n: 20, int: 7 },
      ];
    };
    const graph: Field[] = [
      ...this.nodes.map(
        (nd): Field => ({
          n: 1,
          msg: [
            ...nd.inputs.map((s): Field => ({ n: 1, str: s })),
            ...nd.outputs.map((s): Field => ({ n: 2, str: s })),
            { n: 3, str: nd.name },
            { n: 4, str: nd.opType },
            ...nd.attrs.map((a): Field => ({ n: 5, msg: attr(a) })),
          ],
        }),
      ),
      { n: 2, str: 'tapegrad' },
      ...this.initializers.map(
        (t): Field => ({
          n: 5,
          msg: [
            ...(t.dims.length ? [{ n: 1, ints: t.dims }] : []),
            { n: 2, int: t.elemType },
            { n: 8, str: t.name },
            { n: 9, raw: t.raw },
          ],
        }),
      ),
      ...opts.inputs.map((v): Field => ({ n: 11, msg: valueInfo(v) })),
      ...opts.outputs.map((v): Field => ({ n: 12, msg: valueInfo(v) })),
    ];
    const irVersion = opts.opset <= 18 ? 8 : opts.opset <= 20 ? 9 : 10;
    return encodeMessage([
      { n: 1, int: irVersion },
      { n: 2, str: 'tapegrad' },
      { n: 3, str: opts.producerVersion },
      { n: 7, msg: graph },
      { n: 8, msg: [{ n: 2, int: opts.opset }] },
    ]);
  }
}
