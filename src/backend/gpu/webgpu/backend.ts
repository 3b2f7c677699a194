/**
 * The WebGPU mode's kernel table: the same primitives, fallbacks and thresholds as the
 * headless-gl mode (../backend.ts), with WGSL shaders (wgsl.ts) run by the device worker.
 */
import { broadcastStrides, sizeOf, stridesOf, type Shape } from '../../../shape.js';
import {
  REFERENCE,
  type BinaryOp,
  type BufferView,
  type DeviceKernels,
  type ReduceOp,
  type UnaryOp,
} from '../../backend.js';
import { Buf, view } from '../../buffer.js';
import { cpuKernels as cpu } from '../../cpu/index.js';
import type { DeviceBackend } from '../../dispatch.js';
import { gpuBackend } from '../backend.js';
import { MAX_GPU_ELEMENTS } from '../runtime.js';
import { WgpuBuffer, launch, type Input } from './device.js';
import {
  BINARY_WGSL,
  UNARY_WGSL,
  chunkReduceWgsl,
  elementwiseWgsl,
  gatherWgsl,
  matmulWgsl,
  reduceWgsl,
  type WKind,
} from './wgsl.js';

/** A buffer whose values live on the WebGPU device now. */
export const onWebGpu = (t: BufferView): boolean => {
  const d = t.deviceBuffer;
  return d instanceof WgpuBuffer && !d.disposed && !d.spilled;
};
/** The operand as a kernel input: its device buffer, or its values (uploaded with the launch). */
function input(t: BufferView): Input {
  const d = t.deviceBuffer;
  if (d instanceof WgpuBuffer && !d.disposed && !d.spilled) return d;
  const v = t.data;
  return v instanceof Float32Array ? v : Float32Array.from(v);
}

const fits = (n: number): boolean => n > 0 && n <= MAX_GPU_ELEMENTS;
const allF32 = (ts: readonly BufferView[]): boolean =>
  ts.every((t) => t.dtype === 'float32' && t.size <= MAX_GPU_ELEMENTS);
const out = (b: WgpuBuffer, shape: Shape): Buf => new Buf(b, shape, 'float32');

function strided(x: BufferView, strides: readonly number[], base: number, shape: Shape): Buf {
  return out(launch(gatherWgsl(strides, base, shape), [input(x)], null, sizeOf(shape)), shape);
}

/** Elementwise over broadcast inputs; one-element inputs become scalars. */
function elementwise(expr: string, helpers: readonly string[], xs: readonly BufferView[], os: Shape): Buf {
  const ins: Input[] = [];
  const scalars: number[] = [];
  const spec = xs.map((x) => {
    let kind: WKind;
    if (x.size === 1 && !onWebGpu(x)) {
      kind = { buf: false, slot: scalars.length };
      scalars.push(x.data[0]!);
    } else {
      kind = { buf: true };
      ins.push(input(x));
    }
    return { kind, strides: broadcastStrides(x.shape, os) };
  });
  const src = elementwiseWgsl(expr, helpers, spec, os);
  return out(launch(src, ins, scalars.length ? Float32Array.from(scalars) : null, sizeOf(os)), os);
}

const TWO_PASS_MIN = 4096;
const TWO_PASS_MAX_ROWS = 4096;
function twoPass(op: ReduceOp, x: BufferView, axes: readonly number[], os: Shape, rows: number, R: number): Buf {
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
  const partial = out(launch(chunkReduceWgsl(op, rows, R, C), [input(flat)], null, rows * nc), [rows, nc]);
  const res = out(launch(reduceWgsl(op, [rows, nc], [1]), [input(partial)], null, rows), os);
  partial.dispose();
  if (flat instanceof Buf) flat.dispose();
  return res;
}

const unary =
  (op: UnaryOp) =>
  (x: BufferView): Buf => {
    const code = UNARY_WGSL[op];
    if (code === null || x.dtype !== 'float32' || !fits(x.size)) return cpu[op](x);
    return elementwise(code[0], code[1], [x], x.shape);
  };
const binary =
  (op: BinaryOp) =>
  (a: BufferView, b: BufferView, os: Shape): Buf => {
    const code = BINARY_WGSL[op];
    if (code === null || !allF32([a, b]) || !fits(sizeOf(os))) return cpu[op](a, b, os);
    return elementwise(code[0], code[1], [a, b], os);
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
    return out(launch(reduceWgsl(op, x.shape, axes), [input(x)], null, rows), os);
  };
const mapOps = <K extends string, V>(ops: Record<K, unknown>, f: (op: K) => V): { [P in K]: V } =>
  Object.fromEntries(Object.keys(ops).map((op) => [op, f(op as K)])) as { [P in K]: V };

const kernels: DeviceKernels = {
  // Everything the headless-gl table delegates to the CPU is delegated here too.
  ...gpuBackend.kernels,
  ...mapOps(UNARY_WGSL, (op) => (UNARY_WGSL[op] === null ? REFERENCE : unary(op))),
  ...mapOps(BINARY_WGSL, (op) => (BINARY_WGSL[op] === null ? REFERENCE : binary(op))),
  sum: reduce('sum'),
  max: reduce('max'),
  min: reduce('min'),

  where(c, a, b, os) {
    if (!allF32([c, a, b]) || !fits(sizeOf(os))) return cpu.where(c, a, b, os);
    return elementwise('select(z, y, x != 0.0)', [], [c, a, b], os);
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
    const src = matmulWgsl(batch, aB, bB, m, n, k, ars, acs, brs, bcs);
    return out(launch(src, [input(a), input(b)], null, sizeOf(os)), os);
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
    if (steps.some((s) => s < 0) || x.dtype !== 'float32' || !fits(sizeOf(os)) || !fits(x.size)) {
      return cpu.slice(x, starts, steps, os);
    }
    const st = stridesOf(x.shape);
    const base = starts.reduce((acc, s, i) => acc + s * st[i]!, 0);
    return strided(
      x,
      st.map((s, i) => s * steps[i]!),
      base,
      os,
    );
  },

  cast(x, dtype) {
    if (x.dtype === 'float32' && dtype === 'float32' && fits(x.size)) return strided(x, stridesOf(x.shape), 0, x.shape);
    return cpu.cast(x, dtype);
  },
};

/** The WebGPU mode's device backend: the headless-gl mode's `accepts` rules, WGSL kernels. */
export const webgpuBackend: DeviceBackend = {
  name: 'gpu',
  kernels,
  accepts(kind, inputs, outSize, forced) {
    if (!fits(outSize) || !allF32(inputs)) return false;
    if (forced || inputs.some(onWebGpu)) return true;
    return gpuBackend.accepts(kind, inputs, outSize, false);
  },
};
