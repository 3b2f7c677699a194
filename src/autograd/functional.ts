/** JAX-style functional transforms over the tape: grad, valueAndGrad, vjp, hvp. */
import { AutogradError, ValueError } from '../errors.js';
import { alias } from '../ops/movement.js';
import { isGradEnabled, enableGrad } from '../tape.js';
import { Tensor, type TensorLike } from '../tensor.js';
import { runBackward } from './backward.js';

/** Options of `grad`, `valueAndGrad` and `vjp` (as torch.func.grad). */
export interface GradOptions {
  /** Which positional arguments to differentiate (default 0). An array returns an array of gradients. */
  argnums?: number | readonly number[];
  /**
   * Record the gradient computation so it can be differentiated again. Default: on when this
   * call is itself being differentiated (an argument already requires grad while recording), so
   * grad(grad(f)) just works; off otherwise.
   */
  createGraph?: boolean;
}

function differentiable(x: Tensor): Tensor {
  if (x.dtype === 'int32') throw new AutogradError(`grad: cannot differentiate with respect to an int32 argument`);
  if (x.requiresGrad && isGradEnabled()) return alias(x); // a fresh differentiation point that stays connected to outer graphs
  return x.detach().requiresGrad_();
}

function argnumList(argnums: number | readonly number[] | undefined, n: number): number[] {
  const list = argnums === undefined ? [0] : typeof argnums === 'number' ? [argnums] : [...argnums];
  for (const i of list) {
    if (!Number.isInteger(i) || i < 0 || i >= n)
      throw new ValueError(`grad: argnums ${i} is out of range for ${n} argument(s)`);
  }
  return list;
}

/** A function of tensors (or numbers) returning a scalar tensor, as `grad` differentiates it. */
type Fn<Args extends TensorLike[]> = (...args: Args) => Tensor;
/** Options whose `argnums` is an array: one gradient per listed argument. */
type Many = GradOptions & { argnums: readonly number[] };
/** Options whose `argnums` is one index (or left out): a single gradient. */
type One = GradOptions & { argnums?: number };

/** Returns f's value and its gradient(s) with respect to the arguments in `argnums`. */
export function valueAndGrad<Args extends TensorLike[]>(f: Fn<Args>, opts?: One): (...args: Args) => [Tensor, Tensor];
export function valueAndGrad<Args extends TensorLike[]>(f: Fn<Args>, opts: Many): (...args: Args) => [Tensor, Tensor[]];
export function valueAndGrad<Args extends TensorLike[]>(f: Fn<Args>, opts: GradOptions = {}) {
  return (...args: Args): [Tensor, Tensor | Tensor[]] => {
    const nums = argnumList(opts.argnums, args.length);
    const nested = nums.some((i) => args[i] instanceof Tensor && (args[i] as Tensor).requiresGrad) && isGradEnabled();
    const createGraph = opts.createGraph ?? nested;
    const inputs = [...args] as TensorLike[];
    const wrt = nums.map((i) => {
      const a = args[i];
      if (!(a instanceof Tensor))
        throw new ValueError(`grad: argument ${i} must be a Tensor to be differentiated, got ${typeof a}`);
      return (inputs[i] = differentiable(a));
    });
    const out = enableGrad(() => f(...(inputs as Args)));
    if (!(out instanceof Tensor) || out.size !== 1) {
      throw new AutogradError(
        `grad: f must return a scalar Tensor, got ${out instanceof Tensor ? `shape [${out.shape}]` : typeof out} (use vjp for non-scalar outputs)`,
      );
    }
    const gs = out.requiresGrad ? runBackward(out, undefined, { createGraph }, wrt, 'grad') : wrt.map(() => null);
    const grads = gs.map((g, k) => g ?? wrt[k]!.detach().mul(0));
    return [createGraph ? out : out.detach(), typeof opts.argnums === 'object' ? grads : grads[0]!];
  };
}

/** grad(f)(…args): the gradient of scalar f at args, JAX-style (args need not require grad). */
export function grad<Args extends TensorLike[]>(f: Fn<Args>, opts?: One): (...args: Args) => Tensor;
export function grad<Args extends TensorLike[]>(f: Fn<Args>, opts: Many): (...args: Args) => Tensor[];
export function grad<Args extends TensorLike[]>(f: Fn<Args>, opts: GradOptions = {}) {
  const vg = valueAndGrad(f, opts as Many);
  return (...args: Args): Tensor | Tensor[] => vg(...args)[1];
}

/** Returns f(...primals) and a function mapping an output cotangent to one gradient per primal. */
export function vjp(f: (...args: Tensor[]) => Tensor, ...primals: Tensor[]): [Tensor, (ct: TensorLike) => Tensor[]] {
  const nested = primals.some((p) => p.requiresGrad) && isGradEnabled();
  const inputs = primals.map(differentiable);
  const out = enableGrad(() => f(...inputs));
  const pullback = (ct: TensorLike): Tensor[] => {
    const gs = out.requiresGrad
      ? runBackward(out, ct, { createGraph: nested, retainGraph: true }, inputs, 'vjp')
      : inputs.map(() => null);
    return gs.map((g, k) => g ?? inputs[k]!.detach().mul(0));
  };
  return [nested ? out : out.detach(), pullback];
}

/** Hessian-vector product H(x)·v of scalar f, by differentiating ⟨∇f(x), v⟩ (exact, via createGraph). */
export function hvp(f: (x: Tensor) => Tensor, x: Tensor, v: Tensor): Tensor {
  const inner = (y: Tensor): Tensor => grad(f, { createGraph: true })(y).mul(v).sum();
  return grad(inner)(x);
}
