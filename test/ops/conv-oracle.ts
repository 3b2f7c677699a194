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
  const [sh, sw] = o.stride ?? [1, 1],
    [ph, pw] = o.padding ?? [0, 0],
    [dh, dw] = o.dilation ?? [1, 1];
  const [, , H, W] = x.shape as [number, number, number, number];
  const xp =
    ph || pw
      ? x.pad(
          [
            [0, 0],
            [0, 0],
            [ph, ph],
            [pw, pw],
          ],
          value,
        )
      : x;
  const ho = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1,
    wo = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  const parts: Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      parts.push(
        xp.slice([null, null, [i * dh, i * dh + (ho - 1) * sh + 1, sh], [j * dw, j * dw + (wo - 1) * sw + 1, sw]]),
      );
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

/** The conv2d cases the op tables and conv.test.ts share: input and weight shapes, and the options. */
export interface ConvCase extends RefConv {
  x: number[];
  w: number[];
}
export const convCases: ConvCase[] = [
  { x: [2, 3, 5, 6], w: [4, 3, 3, 3] },
  { x: [1, 2, 7, 5], w: [3, 2, 3, 2], stride: [2, 1], padding: [1, 0] },
  { x: [2, 4, 6, 6], w: [6, 2, 3, 3], groups: 2, padding: [1, 1], dilation: [2, 1] },
  { x: [1, 3, 8, 7], w: [2, 3, 2, 3], groups: 1, stride: [3, 2], padding: [1, 2], dilation: [1, 2] },
  { x: [3, 1, 4, 4], w: [2, 1, 1, 1] },
];
/** Transposed-conv cases: input y [N, Cin, H, W], weight [Cin, Cout/groups, kh, kw]. */
export interface ConvTCase extends RefConv {
  y: number[];
  w: number[];
  outputPadding?: [number, number];
}
export const convTCases: ConvTCase[] = [
  { y: [2, 3, 4, 4], w: [3, 2, 3, 3] },
  { y: [1, 4, 3, 5], w: [4, 3, 3, 2], stride: [2, 2], padding: [1, 0], outputPadding: [1, 1] },
  { y: [1, 4, 3, 3], w: [4, 1, 2, 2], groups: 2, stride: [2, 3], dilation: [2, 1] },
];
export const convOpts = (
  c: RefConv,
): { stride?: number[]; padding?: number[]; dilation?: number[]; groups?: number } => ({
  stride: c.stride,
  padding: c.padding,
  dilation: c.dilation,
  groups: c.groups,
});
/** The attrs of the conv primitives for a case (symmetric padding), as ops/conv.ts builds them. */
export const convAttrsOf = (c: RefConv, kernel: [number, number]) =>
  ({
    stride: c.stride ?? [1, 1],
    padBegin: c.padding ?? [0, 0],
    padEnd: c.padding ?? [0, 0],
    dilation: c.dilation ?? [1, 1],
    groups: c.groups ?? 1,
    kernel,
  }) as const;
