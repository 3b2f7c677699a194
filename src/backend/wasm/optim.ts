/**
 * Fused WebAssembly Muon and Adafactor updates (issue 14), over float32, with the contracts of
 * muonUpdate and adafactorUpdate in src/optim/updates.ts; offered by the cpu backend as fused
 * updates (backend/fused.ts). Everything stays in WebAssembly memory for the whole step: the
 * parameter, gradient and state are copied in once and the results copied out once.
 * Bit-identical to the reference except Muon's Newton–Schulz matmuls (f32 GEMM, see assembly/optim.ts).
 */
import type { AdafactorStepHyper, MuonStepHyper } from '../fused.js';
import { parallelFlops } from './index.js';
import { alloc, F32, f32Index, K, memory, reset, SCRATCH_LIMIT, runGemm, threadsAvailable } from './runtime.js';

/** The kernels of assembly/optim.ts (booleans as 0/1). */
interface OptimExports {
  muonMomentum(
    g: number,
    buf: number,
    x: number,
    R: number,
    C: number,
    w: number,
    mom: number,
    nest: number,
    t: number,
  ): void;
  divideBy(x: number, n: number, d: number): void;
  axpby(x: number, y: number, n: number, alpha: number, beta: number): void;
  muonApply(p: number, x: number, R: number, C: number, decay: number, nlr: number, transpose: number): void;
  adafactorSquares(g: number, R: number, C: number, rows: number, cols: number): void;
  adafactorFactored(
    g: number,
    rowVar: number,
    colVar: number,
    u: number,
    R: number,
    C: number,
    rowMean: number,
    floor: number,
    sign: number,
    acc: number,
  ): number;
  adafactorVector(g: number, v: number, u: number, n: number, w: number, floor: number, sign: number): number;
  adafactorApply(p: number, u: number, n: number, decay: number, s: number): void;
}
const M = K as unknown as OptimExports;

const copyIn = (src: Float32Array, p: number): void => F32.set(src, f32Index(p));
const view = (p: number, n: number): Float32Array => F32.subarray(f32Index(p), f32Index(p) + n);
/** ATen's lerp, as `lerp` in src/optim/updates.ts (backend/ does not import optim/). */
const lerp = (a: number, b: number, w: number): number => (Math.abs(w) < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w));

/** C = A @ B (m×k by k×n, strided operands) in WebAssembly memory, split over the threads as matmul does. */
function gemm(
  a: number,
  ars: number,
  acs: number,
  b: number,
  brs: number,
  bcs: number,
  c: number,
  m: number,
  k: number,
  n: number,
): void {
  runGemm([a, ars, acs, b, brs, bcs, c, m, k, n], 2 * m * n * k >= parallelFlops ? threadsAvailable() : 1);
}

/**
 * One Muon step on a rows×cols float32 matrix in place (p, its gradient g, the momentum buffer buf), with the
 * shape-adjusted lr; false (nothing changed) when the step would not fit the WebAssembly scratch memory.
 */
export function muonStep(
  p: Float32Array,
  g: Float32Array,
  buf: Float32Array,
  rows: number,
  cols: number,
  h: MuonStepHyper,
  adjustedLr: number,
): boolean {
  const len = rows * cols,
    tall = rows > cols,
    m = tall ? cols : rows,
    n = tall ? rows : cols;
  if (4 * (5 * len + 2 * m * m) > SCRATCH_LIMIT) return false;
  if (len === 0) return true;
  const [a, b, c] = h.nsCoefficients;
  reset();
  const pp = alloc(len),
    pg = alloc(len),
    pb = alloc(len),
    pA = alloc(m * m),
    pB = alloc(m * m);
  let x = alloc(len),
    y = alloc(len);
  copyIn(g, pg);
  copyIn(buf, pb);
  M.muonMomentum(pg, pb, x, rows, cols, 1 - h.momentum, h.momentum, h.nesterov ? 1 : 0, tall ? 1 : 0);
  buf.set(view(pb, len));
  // Newton–Schulz on X (m×n, m ≤ n): X /= max(‖X‖, ε); repeat A = XXᵀ, B = bA + cA², X = aX + BX.
  M.divideBy(x, len, Math.max(Math.sqrt(K.sumSquares(x, len)), h.eps));
  for (let s = 0; s < h.nsSteps; s++) {
    gemm(x, n, 1, x, 1, n, pA, m, n, m);
    gemm(pA, m, 1, pA, m, 1, pB, m, m, m);
    M.axpby(pA, pB, m * m, b, c);
    gemm(pB, m, 1, x, n, 1, y, m, m, n);
    M.axpby(x, y, len, a, 1);
    [x, y] = [y, x];
  }
  copyIn(p, pp);
  M.muonApply(pp, x, rows, cols, 1 - h.lr * h.weightDecay, -adjustedLr, tall ? 1 : 0);
  p.set(view(pp, len));
  return true;
}

/**
 * One Adafactor step (1-based `step`) in place over float32 p with gradient g and its factored (rowVar, colVar
 * for ≥ 2-D `shape`) or full (variance) second moments; false (nothing changed) when it declines.
 */
export function adafactorStep(
  p: Float32Array,
  g: Float32Array,
  rowVar: Float32Array | null,
  colVar: Float32Array | null,
  variance: Float32Array | null,
  shape: readonly number[],
  h: AdafactorStepHyper,
  step: number,
): boolean {
  const n = p.length,
    factored = rowVar !== null && colVar !== null && shape.length >= 2;
  const R = factored ? shape[shape.length - 2]! : 0,
    C = factored ? shape[shape.length - 1]! : 0;
  if (n === 0 || (!factored && variance === null)) return false;
  if (4 * (4 * n + 3 * (R + C)) > SCRATCH_LIMIT) return false;
  const eps1 = h.eps[0] ?? 2 ** -23,
    floor = eps1 * eps1,
    sign = h.maximize ? -1 : 1;
  const w = step ** h.beta2Decay,
    rhoT = Math.min(h.lr, 1 / step ** 0.5);
  reset();
  const pp = alloc(n),
    pg = alloc(n),
    pu = alloc(n);
  copyIn(p, pp);
  copyIn(g, pg);
  const alpha = Math.max(h.eps[1], Math.sqrt(K.sumSquares(pp, n)) / n ** 0.5) * rhoT;
  let uu = 0;
  if (factored) {
    const pr = alloc(2 * R),
      pc = alloc(2 * C),
      prv = alloc(R),
      pcv = alloc(C);
    const rowSq = new Float64Array(memory.buffer, pr, R),
      colSq = new Float64Array(memory.buffer, pc, C);
    for (let o = 0, bR = 0, bC = 0; o < n; o += R * C, bR += R, bC += C) {
      M.adafactorSquares(pg + 4 * o, R, C, pr, pc);
      let rs = 0;
      for (let r = 0; r < R; r++) {
        const nr = Math.sqrt(rowSq[r]!);
        rowVar[bR + r] = lerp(rowVar[bR + r]!, (nr * nr) / C, w);
      }
      for (let c = 0; c < C; c++) {
        const nc = Math.sqrt(colSq[c]!);
        colVar[bC + c] = lerp(colVar[bC + c]!, (nc * nc) / R, w);
      }
      for (let r = 0; r < R; r++) rs += rowVar[bR + r]!;
      copyIn(rowVar.subarray(bR, bR + R), prv);
      copyIn(colVar.subarray(bC, bC + C), pcv);
      uu = M.adafactorFactored(pg + 4 * o, prv, pcv, pu + 4 * o, R, C, Math.max(rs / R, eps1), floor, sign, uu);
    }
  } else if (variance !== null) {
    const pv = alloc(n);
    copyIn(variance, pv);
    uu = M.adafactorVector(pg, pv, pu, n, w, floor, sign);
    variance.set(view(pv, n));
  }
  const denom = Math.max(1, Math.sqrt(uu) / (n ** 0.5 * h.d));
  M.adafactorApply(pp, pu, n, h.weightDecay !== 0 ? 1 - h.lr * h.weightDecay : 1, -alpha / denom);
  p.set(view(pp, n));
  return true;
}
