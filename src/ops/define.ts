import type { ArgReduceOp, BinaryOp, Buf, Kernels, OpKind, Primitive, ReduceOp, UnaryOp } from '../backend/backend.js';
import type { DType } from '../dtype.js';
import { pickBackend } from '../backend/dispatch.js';
import { ShapeError } from '../errors.js';
import { broadcastAxes, fmt, shapeEq, sizeOf, type Shape } from '../shape.js';
import {
  activeTracer,
  isAnomalyEnabled,
  isGradEnabled,
  newNodeId,
  noteCreated,
  versionOf,
  type OpName,
} from '../tape.js';
import { AutogradError } from '../errors.js';
import { Tensor } from '../tensor.js';
import type { ConvAttrs, ConvTAttrs, ConvWAttrs, UnfoldAttrs } from './conv.js';
import type { PlaneAttrs, PlaneScatterAttrs, PoolIdxAttrs } from './pool.js';
import type { NormAttrs } from './norm-fused.js';

export type { Primitive } from '../backend/backend.js';

/** What a backward rule sees: the op's inputs and output (saved on the tape), attrs, and which inputs need a gradient. */
export interface Ctx<I extends readonly Tensor[], A> {
  readonly inputs: I;
  readonly out: Tensor;
  readonly attrs: A;
  readonly needs: readonly boolean[];
}
/** One gradient per input; null/undefined where none is needed. */
export type Grads = readonly (Tensor | null | undefined)[];

/** The backward of an op: a rule, or `null` for "no gradient" (comparisons, argmax) — never just absent. */
export type BackwardRule<I extends readonly Tensor[], A> = ((gradOut: Tensor, ctx: Ctx<I, A>) => Grads) | null;

/**
 * Everything about one op: its shape rule (which validates), its forward (a kernel call, returning
 * a buffer) and its backward (written in Tensor ops, so it is itself differentiable).
 * Gradients may be returned in the broadcast output shape: `apply` sums them back.
 */
export interface Def<N extends OpName, I extends readonly Tensor[], A> {
  readonly name: N;
  readonly kind: OpKind;
  shape(inputs: I, attrs: A): Shape;
  /** A kernel result (`Buf`); a custom op may return the Tensor its user forward computed. */
  forward(kernels: Kernels, inputs: I, attrs: A, outShape: Shape): Buf | Tensor;
  readonly backward: BackwardRule<I, A>;
}

/** Per-primitive input tuples and attrs: the one declaration `OpDef<P>` is checked against. */
export interface Sig<I extends readonly Tensor[], A> {
  readonly inputs: I;
  readonly attrs: A;
}
type T1 = readonly [Tensor];
type T2 = readonly [Tensor, Tensor];
type Axes = { readonly axes: readonly number[]; readonly keepdim: boolean };
export interface SliceAttrs {
  readonly starts: readonly number[];
  readonly steps: readonly number[];
  /** slice: output shape; sliceScatter: full shape. */
  readonly shape: Shape;
}
export type Sigs = { readonly [P in UnaryOp]: Sig<T1, null> } & { readonly [P in BinaryOp]: Sig<T2, null> } & {
  readonly [P in ReduceOp]: Sig<T1, Axes>;
} & { readonly [P in ArgReduceOp]: Sig<T1, { readonly axis: number; readonly keepdim: boolean }> } & {
  readonly where: Sig<readonly [Tensor, Tensor, Tensor], null>;
  readonly cast: Sig<T1, DType>;
  readonly matmul: Sig<T2, { readonly ta: boolean; readonly tb: boolean }>;
  readonly reshape: Sig<T1, Shape>;
  readonly permute: Sig<T1, readonly number[]>;
  readonly expand: Sig<T1, Shape>;
  readonly slice: Sig<T1, SliceAttrs>;
  readonly sliceScatter: Sig<T1, SliceAttrs>;
  readonly concat: Sig<readonly Tensor[], { readonly axis: number }>;
  readonly gather: Sig<T2, { readonly axis: number }>;
  readonly scatterAdd: Sig<T2, { readonly axis: number; readonly shape: Shape }>;
  readonly cumsum: Sig<T1, { readonly axis: number }>;
  readonly softmax: Sig<T1, { readonly axis: number }>;
  readonly logSoftmax: Sig<T1, { readonly axis: number }>;
  readonly softmaxCrossEntropy: Sig<T2, null>;
  readonly gelu: Sig<T1, { readonly approximate: 'none' | 'tanh' }>;
  readonly geluBackward: Sig<T2, { readonly approximate: 'none' | 'tanh' }>;
  /** Inputs x, then the weight and the bias where the attrs say so. */
  readonly layerNorm: Sig<readonly [Tensor, ...Tensor[]], NormAttrs>;
  readonly layerNormBackward: Sig<T2, NormAttrs>;
  readonly argsort: Sig<T1, { readonly axis: number; readonly descending: boolean }>;
  /** Inputs x, weight and an optional bias. */
  readonly conv2d: Sig<readonly [Tensor, Tensor, ...Tensor[]], ConvAttrs>;
  readonly convTranspose2d: Sig<T2, ConvTAttrs>;
  readonly conv2dWeight: Sig<T2, ConvWAttrs>;
  readonly unfold: Sig<T1, UnfoldAttrs>;
  readonly fold: Sig<T1, UnfoldAttrs>;
  readonly maxPool2dIndices: Sig<T1, PoolIdxAttrs>;
  readonly maxPoolGather: Sig<T2, PlaneAttrs>;
  readonly maxPoolScatter: Sig<T2, PlaneScatterAttrs>;
};
// Every primitive has a signature (and nothing else does).
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const sigsCoverPrimitives: Exact<keyof Sigs, Primitive> = true;
void sigsCoverPrimitives;

export type Inputs<P extends Primitive> = Sigs[P]['inputs'];
export type Attrs<P extends Primitive> = Sigs[P]['attrs'];
/** One primitive's definition. The registry (ops/registry.ts) holds one per Primitive. */
export type OpDef<P extends Primitive> = Def<P, Inputs<P>, Attrs<P>>;

/** Sums a gradient over broadcast axes so it has `shape` (the one place broadcasting is undone). */
export function sumToShape(g: Tensor, shape: Shape, op: string): Tensor {
  if (shapeEq(g.shape, shape)) return g;
  const { axes, lead } = broadcastAxes(shape, g.shape);
  if (lead < 0 || shape.some((d, i) => d !== 1 && d !== g.shape[lead + i])) {
    throw new ShapeError(`${op}: gradient of shape ${fmt(g.shape)} cannot be summed to input shape ${fmt(shape)}`);
  }
  return (axes.length ? g.sum(axes, true) : g).reshape(shape);
}

/** The one place a kernel result becomes a Tensor. */
const toTensor = (r: Buf | Tensor): Tensor => (r instanceof Tensor ? r : new Tensor(r.storage, r.shape, r.dtype));

/** Applies an op: shape check, dispatch, forward, and (when recording) a tape node. */
export function apply<N extends OpName, I extends readonly Tensor[], A>(
  def: Def<N, I, A>,
  inputs: I,
  attrs: A,
): Tensor {
  const outShape = def.shape(inputs, attrs);
  const be = pickBackend(def.kind, inputs, sizeOf(outShape));
  const out = toTensor(def.forward(be.kernels, inputs, attrs, outShape));
  noteCreated(out);
  activeTracer()?.(def.name, inputs, attrs, out);
  const rule = def.backward;
  if (rule && isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    const needs = inputs.map((t) => t.requiresGrad);
    const ctx: Ctx<I, A> = { inputs, out, attrs, needs };
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
export function checkVersions(
  op: string,
  saved: readonly Tensor[],
  versions: readonly number[],
  lastIsOutput = true,
): void {
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
  const user = lines.filter(
    (l) => !/[\\/]tapegrad[\\/](src|dist)[\\/]|[\\/]src[\\/](ops|autograd|tensor|nn)[\\/.]/.test(l),
  );
  return (user.length ? user : lines).slice(0, 8).join('\n');
}

/**
 * One OpDef per key of a complete rule table (`Record<UnaryOp, …>` etc., which the compiler checks):
 * `f(op, rules[op])`. The one cast is sound because the keys are exactly those of `rules`.
 */
export function defsFor<K extends Primitive, R>(
  rules: { readonly [P in K]: R },
  f: <P extends K>(op: P, rule: R) => OpDef<P>,
): { readonly [P in K]: OpDef<P> } {
  return Object.fromEntries(Object.keys(rules).map((op) => [op, f(op as K, rules[op as K])])) as { [P in K]: OpDef<P> };
}
