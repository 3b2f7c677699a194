/**
 * Gradient checkpointing (torch.utils.checkpoint, jax.checkpoint): a segment's forward runs once,
 * its graph is dropped, and only the segment's inputs stay on the tape; backward runs the segment
 * again (with the random stream rewound, so dropout draws the same masks) and differentiates that
 * fresh graph. Memory for activations goes from the whole network to the segment boundaries plus
 * one segment, for about one extra forward pass.
 */
import { AutogradError, ValueError } from '../errors.js';
import { getRngState, setRngState } from '../random.js';
import { enableGrad, isGradEnabled, newNodeId, runUserCode, versionOf } from '../tape.js';
import { checkVersions } from '../ops/define.js';
import { Tensor } from '../tensor.js';
import { runBackward } from './backward.js';

/**
 * The tensors `y`'s graph reads from outside the call that built it: tensors that require grad and
 * are leaves or were made before node id `start` (the segment's inputs and closed-over parameters).
 */
function boundaryOf(y: Tensor, start: number): Tensor[] {
  const out: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack = [y];
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    if (t.node === null || t.node.id < start) {
      if (t.requiresGrad) out.push(t);
      continue;
    }
    for (const x of t.node.inputs) if (x.requiresGrad && !seen.has(x)) stack.push(x);
  }
  return out;
}

/**
 * Runs `fn(...inputs)` so that backward recomputes it instead of keeping its intermediate tensors.
 * The result and its gradients are those of `fn(...inputs)` bit for bit: the recomputation runs
 * the same ops on the same values, the global random stream (`manualSeed`'s) is rewound to where
 * it stood when `fn` first ran, and parameters `fn` closes over get their gradients like inputs.
 * With `createGraph` the recomputed backward is recorded, so higher-order gradients work.
 *
 * `fn` must be deterministic given its inputs and the global random stream (an explicit
 * `Generator` it draws from is not rewound) and must return one Tensor. Side effects run twice
 * (a BatchNorm in training mode updates its running statistics again during backward, as in PyTorch).
 */
export function checkpoint<Args extends Tensor[]>(fn: (...inputs: Args) => Tensor, ...inputs: Args): Tensor {
  if (typeof fn !== 'function') throw new ValueError(`checkpoint: fn must be a function, got ${typeof fn}`);
  inputs.forEach((x, i) => {
    if (!(x instanceof Tensor)) throw new ValueError(`checkpoint: input ${i} must be a Tensor, got ${typeof x}`);
  });
  if (!isGradEnabled()) return fn(...inputs);
  const rng = getRngState();
  const start = newNodeId();
  const y = fn(...inputs);
  if (!(y instanceof Tensor)) throw new ValueError(`checkpoint: fn must return a Tensor, got ${typeof y}`);
  if (!y.requiresGrad || y.node === null || y.node.id < start) return y; // nothing recorded inside: nothing to drop
  const boundary = boundaryOf(y, start);
  const shape = [...y.shape];
  const versions = boundary.map(versionOf); // the recompute must see the values the forward saw
  const out = y.detach(); // the values stay; the segment's graph (reachable only from y) becomes garbage
  out.requiresGrad = true;
  out.node = {
    id: newNodeId(),
    op: 'checkpoint',
    inputs: boundary,
    backward: (g: Tensor) => {
      checkVersions('checkpoint', boundary, versions, false);
      const createGraph = isGradEnabled(); // the reverse walk records itself exactly when createGraph is on
      const now = getRngState();
      setRngState(rng);
      let yr: Tensor;
      try {
        yr = runUserCode([g], () => enableGrad(() => fn(...inputs)));
      } finally {
        setRngState(now);
      }
      if (!(yr instanceof Tensor) || yr.shape.length !== shape.length || yr.shape.some((d, i) => d !== shape[i])) {
        const got = yr instanceof Tensor ? `shape [${yr.shape.join(',')}]` : typeof yr;
        throw new AutogradError(
          `checkpoint: recomputing fn gave ${got}, ` +
            `the forward gave [${shape.join(',')}]: fn must be deterministic`,
        );
      }
      if (!yr.requiresGrad) return boundary.map(() => null);
      return runBackward(yr, g, { createGraph, retainGraph: createGraph }, boundary, 'checkpoint');
    },
  };
  return out;
}

/** A layer for checkpointSequential: a function of one Tensor, or anything with `forward(x)` (a Module). */
export type SequentialStage =
  | ((x: Tensor) => Tensor)
  | {
      /** The stage's computation. */
      forward(x: Tensor): Tensor;
    };

/**
 * torch.utils.checkpoint.checkpoint_sequential: splits `stages` into `segments` runs of consecutive
 * stages and checkpoints every run but the last (which backward needs at once anyway).
 */
export function checkpointSequential(stages: readonly SequentialStage[], segments: number, input: Tensor): Tensor {
  if (!Array.isArray(stages) || stages.length === 0) {
    throw new ValueError('checkpointSequential: stages must be a non-empty array');
  }
  if (!Number.isInteger(segments) || segments < 1) {
    throw new ValueError(`checkpointSequential: segments must be a positive integer, got ${String(segments)}`);
  }
  const call = stages.map((s, i) => {
    if (typeof s === 'function') return s;
    if (s !== null && typeof s === 'object' && typeof s.forward === 'function') return (x: Tensor) => s.forward(x);
    throw new ValueError(`checkpointSequential: stage ${i} must be a function or have forward(x)`);
  });
  const size = Math.floor(call.length / segments);
  const run =
    (from: number, to: number) =>
    (x: Tensor): Tensor => {
      for (let i = from; i <= to; i++) x = call[i]!(x);
      return x;
    };
  let x = input;
  let end = -1;
  for (let s = 0; s < segments - 1 && size > 0; s++) {
    const from = s * size;
    end = (s + 1) * size - 1;
    x = checkpoint(run(from, end), x);
  }
  return run(end + 1, call.length - 1)(x);
}
