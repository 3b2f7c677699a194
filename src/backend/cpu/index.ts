import type { DType } from '../../dtype.js';
import { ValueError } from '../../errors.js';
import { broadcastStrides, sizeOf, stridesOf, type Shape } from '../../shape.js';
import type { ArgReduceOp, Backend, BinaryOp, BufferView, Kernels, ReduceOp, UnaryOp } from '../backend.js';
import { Buf, hostBuf, view } from '../buffer.js';
import { offerFusedUpdates, type FloatArray, type FusedUpdates } from '../fused.js';
import * as KC from './conv.js';
import * as K from './kernels.js';
import * as F from './fused.js';
import { enableWasm, wasmEnabled } from './mode.js';
import * as W from '../wasm/index.js';
import * as WR from '../wasm/resident.js';
import * as WN from '../wasm/norm.js';
import * as WS from '../wasm/strided.js';
import { withWasmConv } from '../wasm/convops.js';
import * as N from './norm.js';
import { adafactorStep, muonStep } from '../wasm/optim.js';

/** Which CPU kernels run: the WebAssembly ones or the plain TypeScript reference. */
export type CpuKernels = 'wasm' | 'reference';
/**
 * Chooses the CPU kernels: 'wasm' (WebAssembly SIMD for float32 hot paths, the default) or
 * 'reference' (the pure-TypeScript kernels only). `TAPEGRAD_KERNELS=reference` sets it at startup.
 */
export function setCpuKernels(k: CpuKernels): void {
  if (k !== 'wasm' && k !== 'reference') {
    throw new ValueError(`setCpuKernels: expected 'wasm' or 'reference', got ${JSON.stringify(k)}`);
  }
  enableWasm(k === 'wasm');
  offerFusedUpdates('wasm', wasmEnabled() ? wasmUpdates : null);
}

// Optimizer updates offered to optim/: float32 Adam/AdamW (not AMSGrad) and SGD in WebAssembly.
const isF32 = (x: FloatArray | null): x is Float32Array => x instanceof Float32Array;
const wasmUpdates: FusedUpdates = {
  adam: (p, g, m, v, h, step) => {
    if (!(isF32(p) && isF32(g) && isF32(m) && isF32(v))) return false;
    W.adamStep(p, g, m, v, h, step);
    return true;
  },
  sgd: (p, g, buf, h, first) => {
    if (!(isF32(p) && isF32(g) && (buf === null || isF32(buf)))) return false;
    W.sgdStep(p, g, buf, h, first);
    return true;
  },
  // Schedule-Free AdamW (without inner momentum) and LAMB (issue 14)
  adamwScheduleFree: (y, g, z, v, h, sc, k) => {
    if (!(isF32(y) && isF32(g) && isF32(z) && isF32(v))) return false;
    W.adamwScheduleFreeStep(y, g, z, v, h, sc, k);
    return true;
  },
  lamb: (p, g, m, v, h, count) => {
    if (!(isF32(p) && isF32(g) && isF32(m) && isF32(v))) return false;
    W.lambStep(p, g, m, v, h, count);
    return true;
  },
  muon: (p, g, b, rows, cols, h, lr) => isF32(p) && isF32(g) && isF32(b) && muonStep(p, g, b, rows, cols, h, lr),
  adafactor: (p, g, r, c, v, shape, h, step) =>
    isF32(p) &&
    isF32(g) &&
    (r === null || isF32(r)) &&
    (c === null || isF32(c)) &&
    (v === null || isF32(v)) &&
    adafactorStep(p, g, r, c, v, shape, h, step),
};
offerFusedUpdates('wasm', wasmEnabled() ? wasmUpdates : null);
export const getCpuKernels = (): CpuKernels => (wasmEnabled() ? 'wasm' : 'reference');
const f32 = (...ts: BufferView[]): boolean => wasmEnabled() && ts.every((t) => t.dtype === 'float32');
const f32a = (b: BufferView): Float32Array => b.data as Float32Array;

const out = hostBuf;
const mapOps = <K extends string, V>(ops: readonly K[], f: (op: K) => V): { [P in K]: V } =>
  Object.fromEntries(ops.map((op) => [op, f(op)])) as { [P in K]: V };

const unary =
  (op: UnaryOp) =>
  (x: BufferView): Buf => {
    const r = f32(x) ? WR.unary(op, x) : null;
    if (r) return r;
    const o = out(x.shape, x.dtype);
    if (f32(x) && W.unary(op, f32a(x), o.data as Float32Array)) return o;
    K.unary(op, x.data, o.data);
    return o;
  };
const binary =
  (op: BinaryOp) =>
  (a: BufferView, b: BufferView, os: Shape): Buf => {
    const r = f32(a, b) ? WR.binary(op, a, b, os) : null;
    if (r) return r;
    const o = out(os, a.dtype);
    if (f32(a, b) && W.binary(op, f32a(a), a.shape, f32a(b), b.shape, o.data as Float32Array, os)) return o;
    K.binary(op, a.data, a.shape, b.data, b.shape, o.data, os);
    return o;
  };
const reduce =
  (op: ReduceOp) =>
  (x: BufferView, axes: readonly number[]): Buf => {
    const r = op === 'sum' && f32(x) ? WR.sum(x, axes) : null;
    if (r) return r;
    const o = out(
      x.shape.map((d, i) => (axes.includes(i) ? 1 : d)),
      x.dtype,
    );
    if (op === 'sum' && f32(x) && W.sum(f32a(x), x.shape, axes, o.data as Float32Array)) return o;
    K.REDUCE[op](x.data, x.shape, axes, o.data);
    return o;
  };
const argReduce =
  (op: ArgReduceOp) =>
  (x: BufferView, axis: number): Buf => {
    const o = out(
      x.shape.map((d, i) => (i === axis ? 1 : d)),
      'int32',
    );
    K.argReduce(op, x.data, x.shape, axis, o.data);
    return o;
  };

/** Reads a[p] (a permutation's pick). */
const at =
  (a: readonly number[]) =>
  (p: number): number =>
    a[p]!;
/** x read through `strides` from `base` into a new buffer of shape os: resident in WebAssembly when x is, else on the host. */
function copy(x: BufferView, base: number, strides: readonly number[], os: Shape): Buf {
  const m = wasmEnabled() && x.dtype !== 'float64' ? K.merge4(os, strides) : null;
  const r = m && x.dtype === 'float32' ? WS.stridedResident(x, base, m, os) : null;
  if (r) return r;
  const o = out(os, x.dtype),
    xd = x.data;
  if (!(m && WS.stridedCopy(xd as Float32Array | Int32Array, base, m, o.data as Float32Array | Int32Array)))
    K.stridedCopy(xd, base, strides, o.data, os);
  return o;
}

/** The CPU kernel table (the reference kernels are the oracle for every faster backend). */
export const cpuKernels: Kernels = withWasmConv({
  ...mapOps(K.UNARY_OPS, unary),
  ...mapOps(K.BINARY_OPS, binary),
  ...mapOps(K.REDUCE_OPS, reduce),
  argmax: argReduce('argmax'),
  argmin: argReduce('argmin'),
  where(c, a, b, os) {
    const o = out(os, a.dtype);
    K.where(c.data, c.shape, a.data, a.shape, b.data, b.shape, o.data, os);
    return o;
  },
  matmul(a, b, os, ta, tb) {
    const r = f32(a, b) ? WR.matmul(a, b, os, ta, tb) : null;
    if (r) return r;
    const o = out(os, a.dtype);
    if (f32(a, b) && W.matmul(f32a(a), a.shape, f32a(b), b.shape, o.data as Float32Array, os, ta, tb)) return o;
    K.matmul(a.data, a.shape, b.data, b.shape, o.data, os, ta, tb);
    return o;
  },
  reshape: view,
  permute: (x, perm) => copy(x, 0, perm.map(at(stridesOf(x.shape))), perm.map(at(x.shape))),
  expand: (x, shape) => copy(x, 0, broadcastStrides(x.shape, shape), shape),
  slice(x, starts, steps, os) {
    const st = stridesOf(x.shape);
    const base = starts.reduce((acc, s, i) => acc + s * st[i]!, 0);
    return copy(
      x,
      base,
      st.map((s, i) => s * steps[i]!),
      os,
    );
  },
  sliceScatter(src, shape, starts, steps) {
    const st = stridesOf(shape);
    const base = starts.reduce((acc, s, i) => acc + s * st[i]!, 0),
      os = st.map((s, i) => s * steps[i]!);
    const m = wasmEnabled() && src.dtype === 'float32' ? K.merge4(src.shape, os) : null;
    const r = m && WS.stridedResident(src, base, m, shape, true);
    if (r) return r;
    const o = out(shape, src.dtype);
    K.stridedWrite(src.data, src.shape, o.data, base, os);
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
    const xd = x.data,
      od = o.data,
      offs = K.indexOffsets(x.shape, axis, index.data, index.shape, 'gather');
    for (let i = 0; i < offs.length; i++) od[i] = xd[offs[i]!]!;
    return o;
  },
  scatterAdd(shape, axis, index, src) {
    const o = out(shape, src.dtype);
    const sd = src.data,
      od = o.data,
      offs = K.indexOffsets(shape, axis, index.data, index.shape, 'scatterAdd');
    for (let i = 0; i < offs.length; i++) od[offs[i]!]! += sd[i]!;
    return o;
  },
  cast(x, dtype: DType) {
    const r = dtype === 'float32' && f32(x) ? WR.copy(x) : null;
    if (r) return r;
    const o = out(x.shape, dtype);
    o.data.set(x.data);
    return o;
  },
  cumsum(x, axis) {
    const o = out(x.shape, x.dtype);
    K.cumsum(x.data, x.shape, axis, o.data);
    return o;
  },
  softmax(x, axis) {
    const r = f32(x) ? WR.softmax(x, axis, false) : null;
    if (r) return r;
    const o = out(x.shape, x.dtype);
    if (f32(x) && W.softmax(f32a(x), x.shape, axis, o.data as Float32Array, false)) return o;
    F.softmax(x.data, x.shape, axis, o.data);
    return o;
  },
  logSoftmax(x, axis) {
    const r = f32(x) ? WR.softmax(x, axis, true) : null;
    if (r) return r;
    const o = out(x.shape, x.dtype);
    if (f32(x) && W.softmax(f32a(x), x.shape, axis, o.data as Float32Array, true)) return o;
    F.logSoftmax(x.data, x.shape, axis, o.data);
    return o;
  },
  softmaxCrossEntropy(x, t) {
    const [n, c] = x.shape as [number, number];
    const o = out([n], x.dtype);
    const lsm = f32(x) ? new Float32Array(n * c) : null;
    if (lsm && W.softmax(f32a(x), x.shape, 1, lsm, true)) {
      for (let i = 0, td = t.data; i < n; i++) o.data[i] = -lsm[i * c + td[i]!]!;
    } else F.softmaxCrossEntropy(x.data, n, c, t.data, o.data);
    return o;
  },
  gelu(x, tanh) {
    const r = f32(x) ? WR.gelu(x, null, tanh) : null;
    if (r) return r;
    const o = out(x.shape, x.dtype);
    if (f32(x) && W.gelu(f32a(x), null, o.data as Float32Array, tanh)) return o;
    F.gelu(x.data, tanh, o.data);
    return o;
  },
  geluBackward(g, x, tanh) {
    const r = f32(g, x) ? WR.gelu(x, g, tanh) : null;
    if (r) return r;
    const o = out(x.shape, x.dtype);
    if (f32(g, x) && W.gelu(f32a(x), f32a(g), o.data as Float32Array, tanh)) return o;
    F.geluBackward(g.data, x.data, tanh, o.data);
    return o;
  },
  layerNorm(x, w, b, n, eps, rms) {
    const r = f32(x, ...(w ? [w] : []), ...(b ? [b] : [])) ? WN.layerNorm(x, w, b, n, eps, rms) : null;
    if (r) return r;
    const o = out(x.shape, x.dtype);
    N.layerNorm(x.data, w ? w.data : null, b ? b.data : null, n, eps, rms, o.data);
    return o;
  },
  layerNormBackward(g, x, n, eps, rms) {
    const r = f32(g, x) ? WN.layerNormBackward(g, x, n, eps, rms) : null;
    if (r) return r;
    const o = out(x.shape, x.dtype);
    N.layerNormBackward(g.data, x.data, n, eps, rms, o.data);
    return o;
  },
  argsort(x, axis, descending) {
    const o = out(x.shape, 'int32');
    K.argsort(x.data, x.shape, axis, descending, o.data);
    return o;
  },
  // Convolution and pooling (./conv.ts: im2col + the packed GEMM, WebAssembly for float32).
  conv2d: (x, w, bias, g, keep) =>
    new Buf(KC.conv2d(x.data, w.data, g, w.shape[0]!, bias ? bias.data : null, keep), [g.n, w.shape[0]!, g.ho, g.wo]),
  convTranspose2d: (y, w, g) => new Buf(KC.conv2dInput(y.data, w.data, g, w.shape[0]!), [g.n, g.c, g.h, g.w]),
  conv2dWeight: (x, gy, g, cols) => {
    const o = gy.shape[1]!;
    return new Buf(KC.conv2dWeight(x.data, gy.data, g, o, cols), [o, g.c / g.groups, g.kh, g.kw]);
  },
  unfold(x, g) {
    const o = out([g.n, g.c * g.kh * g.kw, g.ho * g.wo], x.dtype);
    KC.im2col(x.data, g, o.data);
    return o;
  },
  fold(cols, g) {
    const o = out([g.n, g.c, g.h, g.w], cols.dtype);
    KC.col2im(cols.data, g, o.data);
    return o;
  },
  maxPool2dIndices: (x, g) => new Buf(KC.maxPoolIndices(x.data, g), [...x.shape.slice(0, -2), g.ho, g.wo]),
  maxPoolGather(x, idx, hw) {
    const o = out(idx.shape, x.dtype);
    KC.planeGather(x.data, idx.data as Int32Array, hw, idx.shape[idx.shape.length - 1]!, o.data);
    return o;
  },
  maxPoolScatter(g, idx, hw, shape) {
    const o = out(shape, g.dtype);
    KC.planeScatter(g.data, idx.data as Int32Array, hw, idx.shape[idx.shape.length - 1]!, o.data);
    return o;
  },
});

/** The reference backend: always present, pure TypeScript (plus WebAssembly for float32 hot paths). */
export const cpu: Backend = { name: 'cpu', kernels: cpuKernels };
