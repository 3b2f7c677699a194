/**
 * Fused Adam/AdamW and SGD(momentum) updates in WebGPU mode, with the contract of ../optim.ts:
 * in place on the parameter's typed arrays, one launch and one readback per parameter.
 */
import type { FloatArray, FusedUpdates } from '../../fused.js';
import { getDevice, getMode } from '../../dispatch.js';
import { thresholds } from '../backend.js';
import { MAX_GPU_ELEMENTS } from '../runtime.js';
import { launch } from './device.js';
import { adamWgsl, sgdWgsl } from './wgsl.js';

function eligible(...xs: (FloatArray | null)[]): boolean {
  const mode = getMode();
  if (getDevice() === null || mode === 'cpu') return false;
  const n = xs[0]?.length ?? 0;
  if (n === 0 || 3 * n > MAX_GPU_ELEMENTS) return false;
  if (!xs.every((x) => x === null || x instanceof Float32Array)) return false;
  return mode === 'gpu' || n >= thresholds.elementwise;
}
const put = (dst: FloatArray, o: Float32Array, k: number): void =>
  dst.set(o.subarray(k * dst.length, (k + 1) * dst.length));
const f32 = (x: FloatArray): Float32Array => x as Float32Array;

/** The fused updates the WebGPU mode offers to optim/. */
export const webgpuUpdates: FusedUpdates = {
  adam(param, grad, m, v, h, step) {
    if (!eligible(param, grad, m, v)) return false;
    const n = param.length;
    const [beta1, beta2] = h.betas,
      dwd = h.decoupledWeightDecay ? h.weightDecay : 0;
    const u = Float32Array.from([
      h.maximize ? -1 : 1,
      1 - beta1,
      beta2,
      1 - beta2,
      h.eps,
      h.weightDecay - dwd,
      1 - h.lr * dwd,
      dwd !== 0 ? 1 : 0,
      h.lr / (1 - beta1 ** step),
      Math.sqrt(1 - beta2 ** step),
    ]);
    const buf = launch(adamWgsl(n), [f32(param), f32(grad), f32(m), f32(v)], u, 3 * n);
    const o = buf.read();
    buf.dispose();
    put(m, o, 0);
    put(v, o, 1);
    put(param, o, 2);
    return true;
  },
  sgd(param, grad, mbuf, h, firstStep) {
    if (!eligible(param, grad, mbuf)) return false;
    const n = param.length;
    const hasBuf = h.momentum !== 0 && mbuf !== null;
    const u = Float32Array.from([
      h.maximize ? -1 : 1,
      h.lr,
      h.momentum,
      1 - h.dampening,
      h.weightDecay,
      h.nesterov ? 1 : 0,
      firstStep ? 1 : 0,
      hasBuf ? 1 : 0,
    ]);
    const buf = launch(sgdWgsl(n), [f32(param), f32(grad), f32(hasBuf && mbuf ? mbuf : grad)], u, 2 * n);
    const o = buf.read();
    buf.dispose();
    if (hasBuf && mbuf) put(mbuf, o, 0);
    put(param, o, 1);
    return true;
  },
};
