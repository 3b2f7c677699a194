/**
 * The GPU backend: float32 kernels generated per shape (see source.ts) and run through gpu.js
 * in headless-gl mode. Results stay on the GPU as textures (GpuBuffer) and feed the next kernel
 * directly; they are read back only when `.data` is asked for. Everything it does not implement
 * (int32/float64, gather/scatter, concat, argmax, …) is delegated to the CPU reference backend,
 * which reads its inputs back through `.data`.
 */
import type { DType } from '../../dtype.js';
import { broadcastStrides, sizeOf, stridesOf, type Shape } from '../../shape.js';
import {
  REFERENCE,
  type BinaryOp,
  type BufferView,
  type DeviceKernels,
  type OpKind,
  type ReduceOp,
  type UnaryOp,
} from '../backend.js';
import { Buf, view } from '../buffer.js';
import { cpuKernels as cpu } from '../cpu/index.js';
import type { DeviceBackend } from '../dispatch.js';
import { GpuBuffer, MAX_GPU_ELEMENTS, runKernel } from './runtime.js';
import {
  BINARY_SRC,
  UNARY_SRC,
  chunkReduceSource,
  elementwiseSource,
  gatherSource,
  matmulSource,
  reduceSource,
  type ArgKind,
  type KernelSource,
} from './source.js';

/** Per-kind size thresholds for 'auto' (see docs/gpu.md for how the defaults were chosen). */
export interface GpuThresholds {
  /** Output elements of an elementwise/movement op. */
  elementwise: number;
  /** Multiply-adds (m·n·k per batch) of a matmul. */
  matmul: number;
  /** Input elements of a reduction. */
  reduce: number;
}
export const DEFAULT_THRESHOLDS: Readonly<GpuThresholds> = Object.freeze({
  elementwise: 1 << 17,
  matmul: 1 << 18,
  reduce: 1 << 17,
});
export const thresholds: GpuThresholds = { ...DEFAULT_THRESHOLDS };

/** A buffer whose values live in a texture of our runtime. */
export const onGpu = (t: BufferView): boolean => {
  const d = t.deviceBuffer;
  return d instanceof GpuBuffer && !d.disposed && !d.spilled;
};

interface Arg {
  kind: ArgKind;
  value: unknown;
}
/** How an input reaches a kernel: its texture if resident, a uniform if it is one value, else an upload. */
function arg(t: BufferView): Arg {
  const d = t.deviceBuffer;
  if (d instanceof GpuBuffer && !d.disposed && !d.spilled) return { kind: 'texture', value: d.texture };
  if (t.size === 1) return { kind: 'scalar', value: t.data[0]! };
  return { kind: 'array', value: t.data };
}

const fits = (n: number): boolean => n > 0 && n <= MAX_GPU_ELEMENTS;
const allF32 = (ts: readonly BufferView[]): boolean =>
  ts.every((t) => t.dtype === 'float32' && t.size <= MAX_GPU_ELEMENTS);

function run(src: KernelSource, args: readonly Arg[], shape: Shape): Buf {
  const buf = runKernel(
    src,
    args.map((a) => a.kind),
    args.map((a) => a.value),
    sizeOf(shape),
  );
  return new Buf(buf, shape, 'float32');
}

function strided(x: BufferView, strides: readonly number[], base: number, shape: Shape): Buf {
  const a = arg(x);
  return run(gatherSource(a.kind, strides, base, shape), [a], shape);
}

/** Multiply-adds of a matmul, from sizes alone: for 2-D, |A|·|B|/|out| = k². */
export function matmulWork(inputs: readonly BufferView[], outSize: number): number {
  const [a, b] = inputs;
  if (!a || !b || outSize === 0) return 0;
  const k = Math.sqrt((a.size * b.size) / outSize);
  return outSize * k;
}

/** Reductions of more than this many elements into few outputs run in two passes. */
const TWO_PASS_MIN = 4096;
const TWO_PASS_MAX_ROWS = 4096;
function twoPass(op: ReduceOp, x: BufferView, axes: readonly number[], os: Shape, rows: number, R: number): Buf {
  // Kept axes first, reduced axes last, contiguous: a [rows, R] array.
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const perm = [...kept, ...axes];
  const st = stridesOf(x.shape);
  const flat: BufferView = perm.every((p, i) => p === i)
    ? x
    : strided(
        x,
        perm.map((p) => st[p]!),
        0,
        perm.map((p) => x.shape[p]!),
      );
  const C = Math.ceil(Math.sqrt(R));
  const nc = Math.ceil(R / C);
  const a = arg(flat);
  const partial = run(chunkReduceSource(op, a.kind, rows, R, C), [a], [rows, nc]);
  const p = arg(partial);
  const out = run(reduceSource(op, p.kind, [rows, nc], [1]), [p], os);
  partial.dispose();
  if (flat instanceof Buf) flat.dispose();
  return out;
}

const unary =
  (op: UnaryOp) =>
  (x: BufferView): Buf => {
    const code = UNARY_SRC[op];
    if (code === null || x.dtype !== 'float32' || !fits(x.size)) return cpu[op](x);
    const [expr, natives] = code;
    const a = arg(x);
    return run(
      elementwiseSource(expr, natives, [{ kind: a.kind, strides: stridesOf(x.shape) }], x.shape, ['a']),
      [a],
      x.shape,
    );
  };
const binary =
  (op: BinaryOp) =>
  (a: BufferView, b: BufferView, os: Shape): Buf => {
    const code = BINARY_SRC[op];
    if (code === null || !allF32([a, b]) || !fits(sizeOf(os))) return cpu[op](a, b, os);
    const [expr, natives] = code;
    const xa = arg(a),
      xb = arg(b);
    const src = elementwiseSource(
      expr,
      natives,
      [
        { kind: xa.kind, strides: broadcastStrides(a.shape, os) },
        { kind: xb.kind, strides: broadcastStrides(b.shape, os) },
      ],
      os,
      ['a', 'b'],
    );
    return run(src, [xa, xb], os);
  };
const reduce =
  (op: ReduceOp) =>
  (x: BufferView, axes: readonly number[]): Buf => {
    const os = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    if (x.dtype !== 'float32' || !fits(x.size) || !fits(sizeOf(os))) return cpu[op](x, axes);
    if (axes.length === 0 || axes.every((ax) => x.shape[ax] === 1)) return strided(x, stridesOf(x.shape), 0, os);
    const rows = sizeOf(os),
      R = x.size / rows;
    if (R > TWO_PASS_MIN && rows <= TWO_PASS_MAX_ROWS) return twoPass(op, x, axes, os, rows, R);
    const a = arg(x);
    return run(reduceSource(op, a.kind, x.shape, axes), [a], os);
  };
const mapOps = <K extends string, V>(ops: Record<K, unknown>, f: (op: K) => V): { [P in K]: V } =>
  Object.fromEntries(Object.keys(ops).map((op) => [op, f(op as K)])) as { [P in K]: V };

/** The GPU's kernel table: a shader per primitive, or REFERENCE (the CPU kernel, reading inputs back). */
const kernels: DeviceKernels = {
  // A null source means "no shader yet": the explicit REFERENCE fallback.
  ...mapOps(UNARY_SRC, (op) => (UNARY_SRC[op] === null ? REFERENCE : unary(op))),
  ...mapOps(BINARY_SRC, (op) => (BINARY_SRC[op] === null ? REFERENCE : binary(op))),
  sum: reduce('sum'),
  max: reduce('max'),
  min: reduce('min'),
  argmax: REFERENCE,
  argmin: REFERENCE,

  where(c, a, b, os) {
    if (!allF32([c, a, b]) || !fits(sizeOf(os))) return cpu.where(c, a, b, os);
    const xs = [arg(c), arg(a), arg(b)];
    const strides = [c, a, b].map((t) => ({ strides: broadcastStrides(t.shape, os) }));
    const src = elementwiseSource(
      '(x != 0.0 ? y : z)',
      [],
      xs.map((x, i) => ({ kind: x.kind, strides: strides[i]?.strides ?? [] })),
      os,
      ['a', 'b', 'c'],
    );
    return run(src, xs, os);
  },

  matmul(a, b, os, ta, tb) {
    if (!allF32([a, b]) || !fits(sizeOf(os))) return cpu.matmul(a, b, os, ta, tb);
    const nd = os.length;
    const m = os[nd - 2]!,
      n = os[nd - 1]!,
      k = ta ? a.shape[a.shape.length - 2]! : a.shape[a.shape.length - 1]!;
    if (k === 0) return cpu.matmul(a, b, os, ta, tb);
    const [ars, acs] = ta ? [1, m] : [k, 1];
    const [brs, bcs] = tb ? [1, k] : [n, 1];
    const batch = os.slice(0, nd - 2);
    const aB = broadcastStrides(a.shape.slice(0, -2), batch).map((s) => s * m * k);
    const bB = broadcastStrides(b.shape.slice(0, -2), batch).map((s) => s * k * n);
    const xa = arg(a),
      xb = arg(b);
    // A one-element operand still has to be indexed like an array.
    const fix = (x: Arg, t: BufferView): Arg => (x.kind === 'scalar' ? { kind: 'array', value: t.data } : x);
    const pa = fix(xa, a),
      pb = fix(xb, b);
    return run(matmulSource(pa.kind, pb.kind, batch, aB, bB, m, n, k, ars, acs, brs, bcs), [pa, pb], os);
  },

  reshape: view,

  permute(x, perm) {
    const os = perm.map((p) => x.shape[p]!);
    if (x.dtype !== 'float32' || !fits(x.size)) return cpu.permute(x, perm);
    const st = stridesOf(x.shape);
    return strided(
      x,
      perm.map((p) => st[p]!),
      0,
      os,
    );
  },

  expand(x, shape) {
    if (x.dtype !== 'float32' || !fits(sizeOf(shape)) || !fits(x.size)) return cpu.expand(x, shape);
    return strided(x, broadcastStrides(x.shape, shape), 0, shape);
  },

  slice(x, starts, steps, os) {
    const back = steps.some((s) => s < 0); // negative steps: the CPU kernel
    if (back || x.dtype !== 'float32' || !fits(sizeOf(os)) || !fits(x.size)) return cpu.slice(x, starts, steps, os);
    const st = stridesOf(x.shape);
    const base = starts.reduce((acc, s, i) => acc + s * st[i]!, 0);
    return strided(
      x,
      st.map((s, i) => s * steps[i]!),
      base,
      os,
    );
  },

  sliceScatter: REFERENCE,
  concat: REFERENCE,
  gather: REFERENCE,
  scatterAdd: REFERENCE,
  cumsum: REFERENCE,
  softmax: REFERENCE,
  logSoftmax: REFERENCE,
  softmaxCrossEntropy: REFERENCE,
  gelu: REFERENCE,
  geluBackward: REFERENCE,
  layerNorm: REFERENCE,
  layerNormBackward: REFERENCE,
  argsort: REFERENCE,
  // Convolution and pooling: no shaders yet (the CPU's im2col + GEMM kernels run).
  conv2d: REFERENCE,
  convTranspose2d: REFERENCE,
  conv2dWeight: REFERENCE,
  unfold: REFERENCE,
  fold: REFERENCE,
  maxPool2dIndices: REFERENCE,
  maxPoolGather: REFERENCE,
  maxPoolScatter: REFERENCE,

  cast(x, dtype: DType) {
    if (x.dtype === 'float32' && dtype === 'float32' && fits(x.size)) return strided(x, stridesOf(x.shape), 0, x.shape);
    return cpu.cast(x, dtype);
  },
};

export const gpuBackend: DeviceBackend = {
  name: 'gpu',
  kernels,

  accepts(kind: OpKind, inputs: readonly BufferView[], outSize: number, forced: boolean): boolean {
    if (!fits(outSize) || !allF32(inputs)) return false;
    if (forced) return true;
    // An input already on the GPU keeps the chain there (a readback costs more than a small kernel).
    if (inputs.some(onGpu)) return true;
    switch (kind) {
      case 'matmul':
        return matmulWork(inputs, outSize) >= thresholds.matmul;
      case 'reduce':
        return (inputs[0]?.size ?? 0) >= thresholds.reduce;
      default:
        return outSize >= thresholds.elementwise;
    }
  },
};
