import { ValueError } from './errors.js';
import type { Primitive } from './backend/backend.js';
import type { Tensor } from './tensor.js';

/** A user op's name (defineOp), distinct from the built-in primitives at the type level. */
export type CustomOpName = string & {
  /** Type-level brand; never present at run time. */
  readonly customOp: true;
};
/** What made a tape node: a primitive, a checkpointed segment (autograd/checkpoint.ts), or a custom op. */
export type OpName = Primitive | 'checkpoint' | CustomOpName;

/** A recorded application of an op: its output holds it as `.node`. */
export interface Node {
  /** Monotonic: creation order is a topological order. */
  readonly id: number;
  /** The op's name ('add', 'matmul', a custom op's name, …). */
  readonly op: OpName;
  /** The op's tensor inputs. */
  readonly inputs: readonly Tensor[];
  /** Maps the output's gradient to one gradient per input (null = none). Null once freed. */
  backward: ((gradOut: Tensor) => readonly (Tensor | null)[]) | null;
  /** Where the op was recorded (a stack trace), captured only in anomaly mode. */
  readonly stack?: string;
}

let nextId = 0;
let gradEnabled = true;

export const newNodeId = (): number => nextId++;
/** Whether ops are being recorded for backward (torch.is_grad_enabled). */
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

// ---- version counters ---------------------------------------------------------------
// Keyed by storage (the typed array), so views that share it (reshape, detach) share the count.
const versions = new WeakMap<object, number>();
/** How many in-place writes the tensor's storage has seen (0 for device-resident storage). */
export const versionOf = (t: Tensor): number => (t.deviceBuffer !== null ? 0 : (versions.get(t.data) ?? 0));
/** Records an in-place write into `t`'s values (optimizers, loadStateDict, nn.init call this). */
export function bumpVersion(t: Tensor): void {
  const d = t.data;
  versions.set(d, (versions.get(d) ?? 0) + 1);
}

// ---- anomaly mode -----------------------------------------------------------------------
let anomaly = false;
/** Whether anomaly mode is on: ops record where they were created, backward checks every gradient. */
export const isAnomalyEnabled = (): boolean => anomaly;
/** Turns anomaly mode on or off globally (like torch.autograd.set_detect_anomaly). */
export function setDetectAnomaly(on: boolean): void {
  if (typeof on !== 'boolean') throw new ValueError(`setDetectAnomaly: expected a boolean, got ${typeof on}`);
  anomaly = on;
}
/**
 * Runs `fn` with anomaly mode on (like torch.autograd.detect_anomaly): every op records the stack
 * where it was created, and backward raises an AutogradError naming the first op whose backward
 * produced a NaN or ±Infinity, with that stack. Slow: use it to hunt a NaN, not to train.
 */
export function detectAnomaly<T>(fn: () => T): T {
  const prev = anomaly;
  anomaly = true;
  try {
    return fn();
  } finally {
    anomaly = prev;
  }
}

// ---- release scopes ----------------------------------------------------------------------
// Device memory cannot wait for GC in a loop that never yields. Inside a backward pass (without
// createGraph) every tensor an op creates is internal to the pass unless it becomes a result
// (a .grad, or a returned gradient), so the pass releases the others' device buffers when it ends.
let sink: Tensor[] | null = null;
/** @internal Records a device-resident op output while a release scope is open. */
export function noteCreated(t: Tensor): void {
  if (sink !== null && t.deviceBuffer !== null) sink.push(t);
}
/** Runs `fn` in a release scope: device buffers its ops create are disposed at its end, but `keep`'s pass outwards. */
export function withReleaseScope<T>(fn: () => T, keep: () => Iterable<Tensor | null>): T {
  const prev = sink;
  const mine: Tensor[] = [];
  sink = mine;
  let result: T;
  try {
    result = fn();
  } finally {
    sink = prev;
  }
  const kept = new Set<Tensor | null>(keep());
  for (const t of mine) {
    if (kept.has(t)) prev?.push(t);
    else if (!handedOut.has(t)) t.deviceBuffer?.dispose();
  }
  return result;
}
const handedOut = new WeakSet<Tensor>();
/** @internal Runs user code inside a backward pass (a defineOp backward, a checkpoint's recompute): tensors it is handed or makes may be kept by it, so none is released. */
export function runUserCode<T>(handed: readonly Tensor[] | null, fn: () => T): T {
  if (handed === null) return fn();
  for (const t of handed) handedOut.add(t);
  const prev = sink;
  sink = null;
  try {
    return fn();
  } finally {
    sink = prev;
  }
}
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
