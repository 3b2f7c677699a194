/**
 * Fused optimizer updates on the GPU with the exact contract of src/optim/updates.ts (in place
 * on the parameter's typed arrays): one kernel launch computes every new buffer, one readback
 * returns them. Used for float32 parameters at or above the elementwise threshold (every float32
 * parameter in 'gpu' mode); anything else (float64, AMSGrad, small tensors, CPU mode) runs the
 * update function that was registered before.
 */
import { offerFusedUpdates, type FloatArray, type FusedUpdates } from '../fused.js';
import { getDevice, getMode } from '../dispatch.js';
import { thresholds } from './backend.js';
import { MAX_GPU_ELEMENTS, runKernel } from './runtime.js';
import { adamSource, sgdSource } from './source.js';

/** Whether a parameter buffer should be updated on the GPU now. */
function eligible(...xs: (FloatArray | null)[]): boolean {
  const mode = getMode();
  if (getDevice() === null || mode === 'cpu') return false;
  const n = xs[0]?.length ?? 0;
  if (n === 0 || 3 * n > MAX_GPU_ELEMENTS) return false;
  if (!xs.every((x) => x === null || x instanceof Float32Array)) return false;
  return mode === 'gpu' || n >= thresholds.elementwise;
}

/** Copies segment k (length n) of a fused result into `dst`. */
const put = (dst: FloatArray, out: Float32Array, k: number): void =>
  dst.set(out.subarray(k * dst.length, (k + 1) * dst.length));

/** The fused updates the GPU offers to optim/ (declining float64, small tensors, CPU mode). */
export const gpuUpdates: FusedUpdates = {
  adam(param, grad, m, v, h, step) {
    if (!eligible(param, grad, m, v)) return false;
    const n = param.length;
    const [beta1, beta2] = h.betas,
      dwd = h.decoupledWeightDecay ? h.weightDecay : 0;
    const bc1 = 1 - beta1 ** step;
    const bc2 = 1 - beta2 ** step;
    const uniforms = [
      h.maximize ? -1 : 1,
      1 - beta1,
      beta2,
      1 - beta2,
      h.eps,
      h.weightDecay - dwd,
      1 - h.lr * dwd,
      dwd !== 0 ? 1 : 0,
      h.lr / bc1,
      Math.sqrt(bc2),
    ];
    const kinds = ['array', 'array', 'array', 'array', ...uniforms.map(() => 'scalar' as const)] as const;
    const buf = runKernel(adamSource(n), kinds, [param, grad, m, v, ...uniforms], 3 * n);
    const out = buf.read();
    buf.dispose();
    put(m, out, 0);
    put(v, out, 1);
    put(param, out, 2);
    return true;
  },
  sgd(param, grad, mbuf, h, firstStep) {
    if (!eligible(param, grad, mbuf)) return false;
    const n = param.length;
    const uniforms = [
      h.maximize ? -1 : 1,
      h.lr,
      h.momentum,
      1 - h.dampening,
      h.weightDecay,
      h.nesterov ? 1 : 0,
      firstStep ? 1 : 0,
      h.momentum !== 0 && mbuf !== null ? 1 : 0,
    ];
    // Without a momentum buffer the kernel never reads it; pass the gradient in its place.
    const kinds = ['array', 'array', 'array', ...uniforms.map(() => 'scalar' as const)] as const;
    const out2 = runKernel(
      sgdSource(n),
      kinds,
      [param, grad, h.momentum !== 0 && mbuf ? mbuf : grad, ...uniforms],
      2 * n,
    );
    const out = out2.read();
    out2.dispose();
    if (h.momentum !== 0 && mbuf) put(mbuf, out, 0);
    put(param, out, 1);
    return true;
  },
};

/** Offers the GPU's fused updates to the optimizers (idempotent). */
export const installGpuUpdates = (): void => offerFusedUpdates('gpu', gpuUpdates);
/** Withdraws them. */
export const uninstallGpuUpdates = (): void => offerFusedUpdates('gpu', null);
