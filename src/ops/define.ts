import type { Backend } from '../backend/backend.js';
import { pickBackend, type OpKind } from '../backend/dispatch.js';
import { ShapeError } from '../errors.js';
import { broadcastAxes, fmt, shapeEq, sizeOf, type Shape } from '../shape.js';
import { isAnomalyEnabled, isGradEnabled, newNodeId, noteCreated, versionOf } from '../tape.js';
import { AutogradError } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** What a backward rule sees: the op's inputs and output (saved on the tape), attrs, and which inputs need a gradient. */
export interface Ctx<A> {
  readonly inputs: readonly Tensor[];
  readonly out: Tensor;
  readonly attrs: A;
  readonly needs: readonly boolean[];
}
/** One gradient per input; null/undefined where none is needed. */
export type Grads = readonly (Tensor | null | undefined)[];

/**
 * Everything about one primitive: its shape rule (which validates), its forward (a backend
 * kernel call) and its backward (written in Tensor ops, so it is itself differentiable).
 * Gradients may be returned in the broadcast output shape: `apply` sums them back.
 */
export interface OpDef<A> {
  readonly name: string;
  readonly kind: OpKind;
  shape(inputs: readonly Tensor[], attrs: A): Shape;
  forward(be: Backend, inputs: readonly Tensor[], attrs: A, outShape: Shape): Tensor;
  /** Absent for ops with no gradient (comparisons, argmax). */
  backward?(gradOut: Tensor, ctx: Ctx<A>): Grads;
}

/** Sums a gradient over broadcast axes so it has `shape` (the one place broadcasting is undone). */
export function sumToShape(g: Tensor, shape: Shape, op: string): Tensor {
  if (shapeEq(g.shape, shape)) return g;
  const { axes, lead } = broadcastAxes(shape, g.shape);
  if (lead < 0 || shape.some((d, i) => d !== 1 && d !== g.shape[lead + i])) {
    throw new ShapeError(`${op}: gradient of shape ${fmt(g.shape)} cannot be summed to input shape ${fmt(shape)}`);
  }
  return (axes.length ? g.sum(axes, true) : g).reshape(shape);
}

/** Applies a primitive: shape check, dispatch, forward, and (when recording) a tape node. */
export function apply<A>(def: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor {
  const outShape = def.shape(inputs, attrs);
  const out = def.forward(pickBackend(def.kind, inputs, sizeOf(outShape)), inputs, attrs, outShape);
  noteCreated(out);
  const rule = def.backward;
  if (rule && isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    const needs = inputs.map((t) => t.requiresGrad);
    const ctx: Ctx<A> = { inputs, out, attrs, needs };
    const saved = [...inputs, out];
    const versions = saved.map(versionOf);
    out.requiresGrad = true;
    out.node = {
      id: newNodeId(),
      op: def.name,
      inputs,
      ...(isAnomalyEnabled() ? { stack: recordedAt() } : {}),
      backward: (g) => {
        checkVersions(def.name, saved, versions);
        const gs = rule(g, ctx);
        return inputs.map((x, i) => {
          const gi = gs[i];
          return needs[i] && gi ? sumToShape(gi, x.shape, def.name) : null;
        });
      },
    };
  }
  return out;
}

/**
 * Refuses to differentiate through a tensor that was written in place after it was saved
 * (an optimizer step between forward and backward): the gradient would use the new values.
 */
export function checkVersions(op: string, saved: readonly Tensor[], versions: readonly number[], lastIsOutput = true): void {
  for (let i = 0; i < saved.length; i++) {
    const v = versionOf(saved[i]!);
    if (v !== versions[i]) {
      const which = lastIsOutput && i === saved.length - 1 ? 'its output' : `input ${i}`;
      throw new AutogradError(
        `backward: one of the variables needed for gradient computation has been modified by an in-place operation: ` +
          `${which} of '${op}' (shape ${fmt(saved[i]!.shape)}) is at version ${v}; expected version ${versions[i]} ` +
          `(was an optimizer step or loadStateDict run between the forward pass and backward()?)`,
      );
    }
  }
}

/** The user-code part of the current stack, for anomaly mode. */
export function recordedAt(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 60;
  const lines = (new Error().stack ?? '').split('\n').slice(1);
  Error.stackTraceLimit = limit;
  const user = lines.filter((l) => !/[\\/]tapegrad[\\/](src|dist)[\\/]|[\\/]src[\\/](ops|autograd|tensor|nn)[\\/.]/.test(l));
  return (user.length ? user : lines).slice(0, 8).join('\n');
}
