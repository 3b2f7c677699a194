/**
 * Gradient checking in the manner of torch.autograd.gradcheck: the analytic Jacobian, one
 * backward pass per output element, against central differences, everything in float64.
 */
import { TapegradError, ValueError } from '../errors.js';
import { fmt, stridesOf } from '../shape.js';
import { noGrad } from '../tape.js';
import { expectTensor, Tensor, zeros } from '../tensor.js';
import { checkOptions } from '../validate.js';
import { Generator } from '../random.js';
import { runBackward } from './backward.js';
import { vjp } from './functional.js';
import { concat } from '../ops/movement.js';

/** Options of `gradcheck` and `gradgradcheck` (torch.autograd.gradcheck). */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** An element passes when |analytic − numeric| ≤ atol + rtol·|numeric|. */
  atol?: number;
  /** Relative tolerance (default 1e-3); atol defaults to 1e-5. */
  rtol?: number;
  /** Throw a GradcheckError naming the worst element instead of returning a failing report. */
  raiseOnFailure?: boolean;
  /**
   * Fail (rather than only note) when f's output does not depend on an input that is checked:
   * no gradient reaches it, so the check would pass vacuously (e.g. f closes over a tensor
   * instead of using its argument). Default false: the report's `notes` and `undefinedGrad` say so.
   */
  checkUndefinedGrad?: boolean;
}
/** The element with the largest error. */
export interface GradcheckWorst {
  /** Which input (position in `inputs`). */
  input: number;
  /** Multi-index of the input element that was perturbed. */
  index: number[];
  /** Multi-index of the output element whose derivative was compared. */
  output: number[];
  /** The gradient backward computed. */
  analytic: number;
  /** The central-difference estimate. */
  numeric: number;
}
/** What `gradcheck` found. */
export interface GradcheckReport {
  /** Whether every checked element passed. */
  ok: boolean;
  /** Largest |analytic − numeric|. */
  maxAbsError: number;
  /** Largest |analytic − numeric| / |numeric|. */
  maxRelError: number;
  /** The element that fails by the widest margin (or, if all pass, comes closest to failing). */
  worst: GradcheckWorst | null;
  /** Jacobian entries compared. */
  checked: number;
  /** E.g. that float32 inputs were promoted to float64, or that an input has no gradient path. */
  notes: string[];
  /** Positions of checked inputs that no gradient reached (f does not depend on them). */
  undefinedGrad: number[];
}

export class GradcheckError extends TapegradError {
  /**
   * @param message - What failed.
   * @param report - The full report.
   */
  constructor(
    message: string,
    readonly report: GradcheckReport,
  ) {
    super(message);
  }
}

const unravel = (i: number, shape: readonly number[]): number[] =>
  stridesOf(shape).map((s, d) => Math.floor(i / s) % shape[d]!);

/** Compares backward's gradients of `f` at `inputs` with central differences (torch.autograd.gradcheck). */
export function gradcheck(
  f: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  opts: GradcheckOptions = {},
): GradcheckReport {
  checkOptions('gradcheck', opts, ['eps', 'atol', 'rtol', 'raiseOnFailure', 'checkUndefinedGrad']);
  if (typeof f !== 'function') throw new ValueError(`gradcheck: f must be a function, got ${typeof f}`);
  if (!Array.isArray(inputs)) throw new ValueError('gradcheck: inputs must be an array of Tensors');
  inputs.forEach((x, i) => expectTensor('gradcheck', `inputs[${i}]`, x));
  const eps = opts.eps ?? 1e-6,
    atol = opts.atol ?? 1e-5,
    rtol = opts.rtol ?? 1e-3;
  if (!(atol >= 0) || !(rtol >= 0)) throw new ValueError(`gradcheck: atol and rtol must be ≥ 0, got ${atol}, ${rtol}`);
  if (!(eps > 0)) throw new ValueError(`gradcheck: eps must be > 0, got ${eps}`);
  const notes: string[] = [];
  const anyReq = inputs.some((x) => x.requiresGrad);
  // Private float64 copies: the numeric pass perturbs them in place.
  const xs = inputs.map((x, i) => {
    if (x.dtype === 'float32') notes.push(`input ${i} was promoted from float32 to float64`);
    return x.dtype === 'int32' ? x : new Tensor(Float64Array.from(x.data), x.shape);
  });
  const wrt = inputs
    .map((x, i) => (x.dtype !== 'int32' && (anyReq ? x.requiresGrad : true) ? i : -1))
    .filter((i) => i >= 0);
  if (wrt.length === 0) throw new ValueError('gradcheck: no float input to check');
  for (const i of wrt) xs[i]!.requiresGrad = true;

  const out = f(...xs);
  if (!(out instanceof Tensor)) throw new ValueError('gradcheck: f must return a Tensor');
  if (out.dtype !== 'float64')
    throw new ValueError(`gradcheck: f returned ${out.dtype}; it must compute in float64 when given float64 inputs`);
  const nOut = out.size;
  // analytic[k][e * nOut + j] = d out_j / d x_k[e]
  const analytic = wrt.map((i) => new Float64Array(xs[i]!.size * nOut));
  const reached = wrt.map(() => false);
  for (let j = 0; j < nOut && out.requiresGrad; j++) {
    const onehot = zeros(out.shape, { dtype: 'float64' });
    onehot.data[j] = 1;
    const gs = runBackward(
      out,
      onehot,
      { retainGraph: true },
      wrt.map((i) => xs[i]!),
      'gradcheck',
    );
    gs.forEach((g, k) => {
      if (!g) return;
      reached[k] = true;
      const gd = g.data;
      for (let e = 0; e < gd.length; e++) analytic[k]![e * nOut + j] = gd[e]!;
    });
  }
  const undefinedGrad = wrt.filter((i, k) => !reached[k] && nOut > 0 && xs[i]!.size > 0);
  for (const i of undefinedGrad) {
    notes.push(
      `input ${i}: the output does not depend on it (no gradient reaches it), so its check is vacuous; ` +
        `does f close over another tensor instead of using its argument?`,
    );
  }
  const report: GradcheckReport = {
    ok: true,
    maxAbsError: 0,
    maxRelError: 0,
    worst: null,
    checked: 0,
    notes,
    undefinedGrad,
  };
  let worstMargin = -1;
  noGrad(() => {
    wrt.forEach((i, k) => {
      const x = xs[i]!,
        d = x.data;
      for (let e = 0; e < d.length; e++) {
        const orig = d[e]!;
        d[e] = orig + eps;
        const plus = Float64Array.from(f(...xs).data);
        d[e] = orig - eps;
        const minus = Float64Array.from(f(...xs).data);
        d[e] = orig;
        for (let j = 0; j < nOut; j++) {
          const num = (plus[j]! - minus[j]!) / (2 * eps);
          const ana = analytic[k]![e * nOut + j]!;
          const err = Math.abs(ana - num);
          const bad = !(err <= atol + rtol * Math.abs(num)); // NaN fails
          const margin = Number.isNaN(err) ? Infinity : err / (atol + rtol * Math.abs(num));
          report.checked++;
          report.maxAbsError = Math.max(report.maxAbsError, Number.isNaN(err) ? Infinity : err);
          report.maxRelError = Math.max(
            report.maxRelError,
            Number.isNaN(err) ? Infinity : err / Math.max(Math.abs(num), 1e-300),
          );
          if (bad) report.ok = false;
          if (margin > worstMargin) {
            worstMargin = margin;
            report.worst = {
              input: i,
              index: unravel(e, x.shape),
              output: unravel(j, out.shape),
              analytic: ana,
              numeric: num,
            };
          }
        }
      }
    });
  });
  if (opts.checkUndefinedGrad && undefinedGrad.length) {
    report.ok = false;
    if (opts.raiseOnFailure) {
      throw new GradcheckError(
        `gradcheck failed: the output does not depend on input${undefinedGrad.length > 1 ? 's' : ''} ` +
          `${undefinedGrad.join(', ')} (checkUndefinedGrad)`,
        report,
      );
    }
  }
  if (!report.ok && opts.raiseOnFailure) {
    const w = report.worst!;
    throw new GradcheckError(
      `gradcheck failed: d out${fmt(w.output)} / d input${w.input}${fmt(w.index)}: analytic ${w.analytic} vs numeric ${w.numeric} ` +
        `(|error| ${Math.abs(w.analytic - w.numeric).toExponential(3)} > atol ${atol} + rtol ${rtol}·|numeric|)`,
      report,
    );
  }
  return report;
}

/**
 * Checks second derivatives: gradcheck of the vector–Jacobian product (with a fixed random
 * cotangent), whose backward runs through the backward rules themselves.
 */
export function gradgradcheck(
  f: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  opts: GradcheckOptions = {},
): GradcheckReport {
  const gen = new Generator(1234);
  let ct: Tensor | null = null;
  const h = (...xs: Tensor[]): Tensor => {
    const [out, pullback] = vjp(f, ...xs);
    if (ct === null) {
      ct = new Tensor(
        Float64Array.from({ length: out.size }, () => gen.normalPair()[0]),
        out.shape,
      );
    }
    return concat(
      pullback(ct).map((g) => g.reshape([-1])),
      0,
    );
  };
  return gradcheck(h, inputs, opts);
}
