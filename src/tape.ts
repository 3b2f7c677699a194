import type { Primitive } from './backend/backend.js';
import type { Tensor } from './tensor.js';

/** A user op's name (defineOp), distinct from the built-in primitives at the type level. */
export type CustomOpName = string & { readonly customOp: true };
/** What made a tape node: a primitive, a checkpointed segment (autograd/checkpoint.ts), or a custom op. */
export type OpName = Primitive | 'checkpoint' | CustomOpName;

/** A recorded application of an op: its output holds it as `.node`. */
export interface Node {
  /** Monotonic: creation order is a topological order. */
  readonly id: number;
  readonly op: OpName;
  readonly inputs: readonly Tensor[];
  /** Maps the output's gradient to one gradient per input (null = none). Null once freed. */
  backward: ((gradOut: Tensor) => readonly (Tensor | null)[]) | null;
}

let nextId = 0;
let gradEnabled = true;

export const newNodeId = (): number => nextId++;
export const isGradEnabled = (): boolean => gradEnabled;

function withGradMode<T>(mode: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = mode;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs `fn` with recording off and returns its result (synchronous functions only). */
export const noGrad = <T>(fn: () => T): T => withGradMode(false, fn);
/** Runs `fn` with recording on, e.g. inside a `noGrad` block. */
export const enableGrad = <T>(fn: () => T): T => withGradMode(true, fn);

/** Sees every op applied (recording or not): how `exportOnnx` traces a forward pass. */
export type Tracer = (op: string, inputs: readonly Tensor[], attrs: unknown, out: Tensor) => void;
let tracer: Tracer | null = null;
/** The active tracer, if a trace is running. */
export const activeTracer = (): Tracer | null => tracer;
/** Runs `fn` with `t` seeing every op (one trace at a time; synchronous functions only). */
export function withTracer<T>(t: Tracer, fn: () => T): T {
  const prev = tracer;
  tracer = t;
  try {
    return fn();
  } finally {
    tracer = prev;
  }
}
