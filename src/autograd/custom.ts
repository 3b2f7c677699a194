/** User-defined ops: a forward and a backward in one call, usable like any built-in. */
import { AutogradError, ValueError } from '../errors.js';
import { apply, type Def, type Grads } from '../ops/define.js';
import { noGrad, runUserCode, type CustomOpName } from '../tape.js';
import { asTensor, Tensor, type TensorLike } from '../tensor.js';

/** How `defineOp` builds a differentiable op: its forward and backward (like torch.autograd.Function). */
export interface CustomOpSpec {
  /** Used in error messages and on the tape. */
  name: string;
  /** Computes the output from the inputs; runs with recording off. */
  forward: (...inputs: Tensor[]) => Tensor;
  /**
   * Maps the output's gradient to the inputs' gradients: `backward(gradOut, ...inputs, output)`.
   * Return one Tensor per input (a single Tensor for a one-input op); null means "no gradient".
   * Written with Tensor ops it is differentiable itself, so higher-order gradients work.
   * Gradients in a broadcast shape are summed back to each input's shape.
   */
  backward: (gradOut: Tensor, ...inputsThenOutput: Tensor[]) => Tensor | null | readonly (Tensor | null)[];
}

function checkGrads(name: string, r: unknown, inputs: readonly Tensor[]): Grads {
  const list = r === null || r instanceof Tensor ? [r] : r;
  if (!Array.isArray(list) || list.length !== inputs.length) {
    throw new AutogradError(
      `${name}: backward returned ${Array.isArray(list) ? list.length : typeof list} gradient(s) for ${inputs.length} input(s)`,
    );
  }
  list.forEach((gi: unknown, i) => {
    if (gi !== null && !(gi instanceof Tensor))
      throw new AutogradError(`${name}: backward must return Tensors or null, got ${typeof gi} for input ${i}`);
    const want = inputs[i]?.dtype;
    if (gi instanceof Tensor && gi.dtype !== want) {
      throw new AutogradError(`${name}: gradient for input ${i} has dtype ${gi.dtype}, expected ${want}`);
    }
  });
  return list as Grads;
}

/** Defines an op from a forward and a backward; returns a function that behaves like a built-in. */
export const defineOp = (spec: CustomOpSpec): ((...inputs: TensorLike[]) => Tensor) => defineOpWith(true, spec);
/** @internal defineOp; `user: false` for built-ins whose backward keeps nothing (its temporaries are released). */
export function defineOpWith(user: boolean, spec: CustomOpSpec): (...inputs: TensorLike[]) => Tensor {
  const { name } = spec;
  if (typeof spec.forward !== 'function' || typeof spec.backward !== 'function') {
    throw new ValueError(`defineOp(${name}): forward and backward must both be functions`);
  }
  return (...args: TensorLike[]): Tensor => {
    const first = args.find((a): a is Tensor => a instanceof Tensor);
    if (!first) throw new ValueError(`${name}: at least one input must be a Tensor`);
    const inputs = args.map((a) => (a instanceof Tensor ? a : asTensor(a, first.dtype)));
    // The output shape is only known once forward has run, so forward runs in the shape step.
    let out: Tensor | null = null;
    const def: Def<CustomOpName, readonly Tensor[], null> = {
      name: name as CustomOpName,
      kind: 'other',
      shape: (ins) => {
        const y = noGrad(() => spec.forward(...ins.map((t) => t.detach())));
        if (!(y instanceof Tensor)) throw new ValueError(`${name}: forward must return a Tensor, got ${typeof y}`);
        out = y.node === null && !ins.includes(y) ? y : y.detach();
        return out.shape;
      },
      forward: () => {
        if (out === null) throw new ValueError(`${name}: forward did not run`);
        return out;
      },
      backward: (g, c) => {
        const gi = runUserCode(user ? [g] : null, () => spec.backward(g, ...c.inputs, c.out));
        return checkGrads(name, gi, c.inputs);
      },
    };
    return apply(def, inputs, null);
  };
}
