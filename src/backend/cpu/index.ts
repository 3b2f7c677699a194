import { allocate, type DType } from '../../dtype.js';
import { broadcastStrides, sizeOf, stridesOf, type Shape } from '../../shape.js';
import { Tensor } from '../../tensor.js';
import type { Backend } from '../backend.js';
import * as K from './kernels.js';
import * as W from '../wasm/index.js';
import { adamUpdate, getUpdateKernel, setUpdateKernel, sgdUpdate, type FloatArray } from '../../optim/updates.js';
import { adamwScheduleFreeUpdate, lambUpdate } from '../../optim/updates.js';

export type CpuKernels = 'wasm' | 'reference';
let useWasm = process.env['TAPEGRAD_KERNELS'] !== 'reference';
/**
 * Chooses the CPU kernels: 'wasm' (WebAssembly SIMD for float32 hot paths, the default) or
 * 'reference' (the pure-TypeScript kernels only). `TAPEGRAD_KERNELS=reference` sets it at startup.
 */
export function setCpuKernels(k: CpuKernels): void {
  useWasm = k === 'wasm';
  installUpdates();
}

// Optimizer updates: float32 Adam/AdamW (not AMSGrad) and SGD run in WebAssembly; everything
// else, and every float64 parameter, keeps the reference update.
const isF32 = (x: FloatArray | null): x is Float32Array => x instanceof Float32Array;
const wasmAdam: typeof adamUpdate = (p, g, m, v, vmax, h, step) =>
  useWasm && vmax === null && isF32(p) && isF32(g) && isF32(m) && isF32(v)
    ? W.adamStep(p, g, m, v, h, step) : adamUpdate(p, g, m, v, vmax, h, step);
const wasmSgd: typeof sgdUpdate = (p, g, buf, h, first) =>
  useWasm && isF32(p) && isF32(g) && (buf === null || isF32(buf))
    ? W.sgdStep(p, g, buf, h, first) : sgdUpdate(p, g, buf, h, first);
const wasmSF: typeof adamwScheduleFreeUpdate = (y, g, z, v, m, h, sc, k) =>
  useWasm && m === null && isF32(y) && isF32(g) && isF32(z) && isF32(v)
    ? W.adamwScheduleFreeStep(y, g, z, v, h, sc, k) : adamwScheduleFreeUpdate(y, g, z, v, m, h, sc, k);
const wasmLamb: typeof lambUpdate = (p, g, m, v, h, count) =>
  useWasm && isF32(p) && isF32(g) && isF32(m) && isF32(v) ? W.lambStep(p, g, m, v, h, count) : lambUpdate(p, g, m, v, h, count);
function installUpdates(): void {
  // Only replace the reference (or our own) kernels: a GPU or user kernel stays in place.
  const a = getUpdateKernel('adam'), s = getUpdateKernel('sgd');
  if (a === adamUpdate || a === wasmAdam) setUpdateKernel('adam', useWasm ? wasmAdam : adamUpdate);
  if (s === sgdUpdate || s === wasmSgd) setUpdateKernel('sgd', useWasm ? wasmSgd : sgdUpdate);
  // Schedule-Free AdamW (without inner momentum) and LAMB (issue 14)
  const sf = getUpdateKernel('adamwScheduleFree'), lb = getUpdateKernel('lamb');
  if (sf === adamwScheduleFreeUpdate || sf === wasmSF) setUpdateKernel('adamwScheduleFree', useWasm ? wasmSF : adamwScheduleFreeUpdate);
  if (lb === lambUpdate || lb === wasmLamb) setUpdateKernel('lamb', useWasm ? wasmLamb : lambUpdate);
}
installUpdates();
export const getCpuKernels = (): CpuKernels => (useWasm ? 'wasm' : 'reference');
const f32 = (...ts: Tensor[]): boolean => useWasm && ts.every((t) => t.dtype === 'float32');

const out = (shape: Shape, dtype: DType): Tensor => new Tensor(allocate(dtype, sizeOf(shape)), shape);

/** The reference backend: always present, pure TypeScript, no native build. */
export const cpu: Backend = {
  name: 'cpu',
  unary(op, x) {
    const o = out(x.shape, x.dtype);
    if (f32(x) && W.unary(op, x.data as Float32Array, o.data as Float32Array)) return o;
    K.unary(op, x.data, o.data);
    return o;
  },
  binary(op, a, b, os) {
    const o = out(os, a.dtype);
    if (f32(a, b) && W.binary(op, a.data as Float32Array, a.shape, b.data as Float32Array, b.shape, o.data as Float32Array, os)) return o;
    K.binary(op, a.data, a.shape, b.data, b.shape, o.data, os);
    return o;
  },
  where(c, a, b, os) {
    const o = out(os, a.dtype);
    K.where(c.data, c.shape, a.data, a.shape, b.data, b.shape, o.data, os);
    return o;
  },
  reduce(op, x, axes) {
    const o = out(x.shape.map((d, i) => (axes.includes(i) ? 1 : d)), x.dtype);
    if (op === 'sum' && f32(x) && W.sum(x.data as Float32Array, x.shape, axes, o.data as Float32Array)) return o;
    K.reduce(op, x.data, x.shape, axes, o.data);
    return o;
  },
  argReduce(op, x, axis) {
    const o = out(x.shape.map((d, i) => (i === axis ? 1 : d)), 'int32');
    K.argReduce(op, x.data, x.shape, axis, o.data);
    return o;
  },
  matmul(a, b, os, ta, tb) {
    const o = out(os, a.dtype);
    if (f32(a, b) && W.matmul(a.data as Float32Array, a.shape, b.data as Float32Array, b.shape, o.data as Float32Array, os, ta, tb)) return o;
    K.matmul(a.data, a.shape, b.data, b.shape, o.data, os, ta, tb);
    return o;
  },
  permute(x, perm) {
    const st = stridesOf(x.shape);
    const os = perm.map((p) => x.shape[p]!);
    const o = out(os, x.dtype);
    K.stridedCopy(x.data, 0, perm.map((p) => st[p]!), o.data, os);
    return o;
  },
  expand(x, shape) {
    const o = out(shape, x.dtype);
    K.stridedCopy(x.data, 0, broadcastStrides(x.shape, shape), o.data, shape);
    return o;
  },
  slice(x, starts, steps, os) {
    const st = stridesOf(x.shape);
    const o = out(os, x.dtype);
    const base = starts.reduce((acc, s, i) => acc + s * st[i]!, 0);
    K.stridedCopy(x.data, base, st.map((s, i) => s * steps[i]!), o.data, os);
    return o;
  },
  sliceScatter(src, shape, starts, steps) {
    const st = stridesOf(shape);
    const o = out(shape, src.dtype);
    const base = starts.reduce((acc, s, i) => acc + s * st[i]!, 0);
    K.stridedWrite(src.data, src.shape, o.data, base, st.map((s, i) => s * steps[i]!));
    return o;
  },
  concat(xs, axis, os) {
    const o = out(os, xs[0]!.dtype);
    const outer = sizeOf(os.slice(0, axis));
    const rowOut = sizeOf(os.slice(axis));
    let off = 0;
    for (const x of xs) {
      const row = sizeOf(x.shape.slice(axis));
      const d = x.data;
      for (let r = 0; r < outer; r++) o.data.set(d.subarray(r * row, (r + 1) * row), r * rowOut + off);
      off += row;
    }
    return o;
  },
  gather(x, axis, index) {
    const o = out(index.shape, x.dtype);
    const xd = x.data, od = o.data;
    K.indexWalk(x.shape, axis, index.data, index.shape, (i, xo) => { od[i] = xd[xo]!; }, 'gather');
    return o;
  },
  scatterAdd(shape, axis, index, src) {
    const o = out(shape, src.dtype);
    const sd = src.data, od = o.data;
    K.indexWalk(shape, axis, index.data, index.shape, (i, xo) => { od[xo] += sd[i]!; }, 'scatterAdd');
    return o;
  },
  cast(x, dtype) {
    const o = out(x.shape, dtype);
    o.data.set(x.data);
    return o;
  },
};
