/**
 * The CPU backend's convolution and pooling kernels with float32 inputs and outputs kept in WebAssembly
 * memory (storage.ts): a resident input is read in place instead of being migrated to the host (a copy
 * out, then a copy back in), and a large result stays resident for the next kernel. Anything else (other
 * dtypes, WebAssembly off, a call that does not fit the scratch memory) runs the wrapped kernel.
 */
import type { Kernels } from '../backend.js';
import { Buf, type BufferView } from '../buffer.js';
import { wasmEnabled } from '../cpu/mode.js';
import * as WC from './conv.js';
import { srcOf } from './storage.js';

const on = (...xs: (BufferView | null)[]): boolean =>
  wasmEnabled() && xs.every((x) => x === null || x.dtype === 'float32');
const src = (x: BufferView | null): WC.Src | null => (x === null ? null : srcOf(x));
const idxOf = (x: BufferView): Int32Array | null => (x.data instanceof Int32Array ? x.data : null);

/** `k` with its conv and pooling kernels run on (resident) WebAssembly memory where they apply. */
export function withWasmConv(k: Kernels): Kernels {
  return {
    ...k,
    conv2d(x, w, bias, g, keep) {
      if (on(x, w, bias)) {
        const sx = src(x)!,
          sw = src(w)!,
          sb = src(bias),
          o = w.shape[0]!;
        const n = g.n * o * g.ho * g.wo;
        const r = WC.conv2dAt(sx, sw, sb, g, o, WC.keepResident(n, sx, sw, sb));
        if (r) return new Buf(r, [g.n, o, g.ho, g.wo], 'float32');
      }
      return k.conv2d(x, w, bias, g, keep);
    },
    convTranspose2d(y, w, g) {
      if (on(y, w)) {
        const sy = src(y)!,
          sw = src(w)!;
        const r = WC.conv2dInputAt(sy, sw, g, w.shape[0]!, WC.keepResident(g.n * g.c * g.h * g.w, sy, sw));
        if (r) return new Buf(r, [g.n, g.c, g.h, g.w], 'float32');
      }
      return k.convTranspose2d(y, w, g);
    },
    conv2dWeight(x, gy, g, cols) {
      if (on(x, gy)) {
        const o = gy.shape[1]!;
        const r = WC.conv2dWeight(src(x)!, src(gy)!, g, o);
        if (r) return new Buf(r, [o, g.c / g.groups, g.kh, g.kw]);
      }
      return k.conv2dWeight(x, gy, g, cols);
    },
    maxPool2dIndices(x, g) {
      if (on(x)) {
        const r = WC.maxPoolIndicesAt(src(x)!, g);
        if (r) return new Buf(r, [...x.shape.slice(0, -2), g.ho, g.wo]);
      }
      return k.maxPool2dIndices(x, g);
    },
    maxPoolGather(x, idx, hw) {
      const ix = idxOf(idx);
      if (on(x) && ix) {
        const sx = src(x)!;
        const r = WC.planeGatherAt(sx, ix, hw, idx.shape[idx.shape.length - 1]!, WC.keepResident(ix.length, sx));
        if (r) return new Buf(r, idx.shape, 'float32');
      }
      return k.maxPoolGather(x, idx, hw);
    },
    maxPoolScatter(g, idx, hw, shape) {
      const ix = idxOf(idx);
      if (on(g) && ix) {
        const sg = src(g)!,
          n = shape.reduce((a, b) => a * b, 1);
        const r = WC.planeScatterAt(sg, ix, hw, idx.shape[idx.shape.length - 1]!, n, WC.keepResident(n, sg));
        if (r) return new Buf(r, shape, 'float32');
      }
      return k.maxPoolScatter(g, idx, hw, shape);
    },
  };
}
