/**
 * Fused optimizer updates on the GPU with the exact contract of src/optim/updates.ts (in place
 * on the parameter's typed arrays): one kernel launch computes every new buffer, one readback
 * returns them. Used for float32 parameters at or above the elementwise threshold (every float32
 * parameter in 'gpu' mode); anything else (float64, AMSGrad, small tensors, CPU mode) runs the
 * update function that was registered before.
 */
import {
  adamUpdate, sgdUpdate, getUpdateKernel, resetUpdateKernel, setUpdateKernel,
  type AdamOptions, type FloatArray, type SGDOptions, type UpdateKernels,
} from '../../optim/updates.js';
import { getDevice, getMode } from '../dispatch.js';
import { thresholds } from './backend.js';
import { MAX_GPU_ELEMENTS, runKernel } from './runtime.js';
import { adamSource, sgdSource } from './source.js';

/** Whether a parameter buffer should be updated on the GPU now. */
function eligible(...xs: (FloatArray | null)[]): boolean {
  const mode = getMode();
  if (getDevice() === null || mode === 'cpu') return false;
  const n = xs[0]!.length;
  if (n === 0 || 3 * n > MAX_GPU_ELEMENTS) return false;
  if (!xs.every((x) => x === null || x instanceof Float32Array)) return false;
  return mode === 'gpu' || n >= thresholds.elementwise;
}

/** Copies segment k (length n) of a fused result into `dst`. */
const put = (dst: FloatArray, out: Float32Array, k: number): void => dst.set(out.subarray(k * dst.length, (k + 1) * dst.length));

let cpuAdam: UpdateKernels['adam'] | null = null;
let cpuSgd: UpdateKernels['sgd'] | null = null;

/** Adam/AdamW on the GPU (falls back to the previous kernel for AMSGrad, float64, small tensors). */
export const gpuAdamUpdate: UpdateKernels['adam'] = (param, grad, m, v, vmax, h: AdamOptions, step) => {
  if (vmax !== null || !eligible(param, grad, m, v)) return (cpuAdam ?? adamUpdate)(param, grad, m, v, vmax, h, step);
  const n = param.length;
  const [beta1, beta2] = h.betas, dwd = h.decoupledWeightDecay ? h.weightDecay : 0;
  const bc1 = 1 - beta1 ** step;
  const bc2 = 1 - beta2 ** step;
  const uniforms = [
    h.maximize ? -1 : 1, 1 - beta1, beta2, 1 - beta2, h.eps, h.weightDecay - dwd,
    1 - h.lr * dwd, dwd !== 0 ? 1 : 0, h.lr / bc1, Math.sqrt(bc2),
  ];
  const buf = runKernel(adamSource(n), ['array', 'array', 'array', 'array', ...uniforms.map(() => 'scalar' as const)], [param, grad, m, v, ...uniforms], 3 * n);
  const out = buf.read();
  buf.dispose();
  put(m, out, 0);
  put(v, out, 1);
  put(param, out, 2);
};

/** SGD (with or without momentum) on the GPU. */
export const gpuSgdUpdate: UpdateKernels['sgd'] = (param, grad, mbuf, h: SGDOptions, firstStep) => {
  if (!eligible(param, grad, mbuf)) return (cpuSgd ?? sgdUpdate)(param, grad, mbuf, h, firstStep);
  const n = param.length;
  const hasBuf = h.momentum !== 0 && mbuf !== null;
  const uniforms = [h.maximize ? -1 : 1, h.lr, h.momentum, 1 - h.dampening, h.weightDecay, h.nesterov ? 1 : 0, firstStep ? 1 : 0, hasBuf ? 1 : 0];
  // Without a momentum buffer the kernel never reads it; pass the gradient in its place.
  const out3 = runKernel(sgdSource(n), ['array', 'array', 'array', ...uniforms.map(() => 'scalar' as const)], [param, grad, hasBuf ? mbuf : grad, ...uniforms], 2 * n);
  const out = out3.read();
  out3.dispose();
  if (hasBuf) put(mbuf!, out, 0);
  put(param, out, 1);
};

/** Routes the optimizers' adam and sgd updates through the GPU kernels (idempotent). */
export function installGpuUpdates(): void {
  const adam = getUpdateKernel('adam'), sgd = getUpdateKernel('sgd');
  if (adam !== gpuAdamUpdate) cpuAdam = adam;
  if (sgd !== gpuSgdUpdate) cpuSgd = sgd;
  setUpdateKernel('adam', gpuAdamUpdate);
  setUpdateKernel('sgd', gpuSgdUpdate);
}
/** Puts back the updates that were registered before installGpuUpdates. */
export function uninstallGpuUpdates(): void {
  if (getUpdateKernel('adam') === gpuAdamUpdate) cpuAdam ? setUpdateKernel('adam', cpuAdam) : resetUpdateKernel('adam');
  if (getUpdateKernel('sgd') === gpuSgdUpdate) cpuSgd ? setUpdateKernel('sgd', cpuSgd) : resetUpdateKernel('sgd');
}
