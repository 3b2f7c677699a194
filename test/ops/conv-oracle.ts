/** Composite oracles for the conv and pooling primitives: pad + strided slices + stack + matmul / max / mean. */
import { matmul, stack, zeros, type Tensor } from '../../src/index.js';

export interface RefConv {
  stride?: [number, number];
  padding?: [number, number];
  dilation?: [number, number];
  groups?: number;
}
/** Windows of x [N, C, H, W] → [N, C, kh·kw, Ho, Wo] (padded with `value`). */
export function windows(x: Tensor, kh: number, kw: number, o: RefConv, value = 0): Tensor {
  const [sh, sw] = o.stride ?? [1, 1], [ph, pw] = o.padding ?? [0, 0], [dh, dw] = o.dilation ?? [1, 1];
  const [, , H, W] = x.shape as [number, number, number, number];
  const xp = ph || pw ? x.pad([[0, 0], [0, 0], [ph, ph], [pw, pw]], value) : x;
  const ho = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1, wo = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  const parts: Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      parts.push(xp.slice([null, null, [i * dh, i * dh + (ho - 1) * sh + 1, sh], [j * dw, j * dw + (wo - 1) * sw + 1, sw]]));
    }
  }
  return stack(parts, 2);
}
export function conv2dRef(x: Tensor, w: Tensor, bias: Tensor | null, o: RefConv = {}): Tensor {
  const [n, c] = x.shape as [number, number];
  const [oc, cg, kh, kw] = w.shape as [number, number, number, number];
  const g = o.groups ?? 1;
  const win = windows(x, kh, kw, o);
  const [ho, wo] = [win.shape[3]!, win.shape[4]!];
  const col = win.reshape([n, g, (c / g) * kh * kw, ho * wo]);
  const y = matmul(w.reshape([g, oc / g, cg * kh * kw]), col).reshape([n, oc, ho, wo]);
  return bias ? y.add(bias.reshape([1, oc, 1, 1])) : y;
}
/** convTranspose2d as the input-gradient of the conv oracle (the definition of a transposed conv). */
export function convTranspose2dRef(y: Tensor, w: Tensor, xShape: number[], o: RefConv = {}): Tensor {
  const x0 = zeros(xShape, { dtype: y.dtype, requiresGrad: true });
  conv2dRef(x0, w.detach(), null, o).mul(y.detach()).sum().backward();
  return x0.grad!;
}
export const maxPool2dRef = (x: Tensor, k: number, o: RefConv = {}): Tensor => windows(x, k, k, o, -1e30).max(2);
export const avgPool2dRef = (x: Tensor, k: number, o: RefConv = {}): Tensor => windows(x, k, k, o, 0).mean(2);
