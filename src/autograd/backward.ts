import { AutogradError } from '../errors.js';
import { fmt, shapeEq } from '../shape.js';
import { enableGrad, isAnomalyEnabled, noGrad, withReleaseScope, type Node } from '../tape.js';
import { asTensor, full, type Tensor, type TensorLike } from '../tensor.js';

/** Options of `Tensor.backward` (torch.Tensor.backward). */
export interface BackwardOptions {
  /** Keep the saved tensors so backward can run through this graph again. */
  retainGraph?: boolean;
  /** Record the backward pass itself, for higher-order gradients (implies retainGraph). */
  createGraph?: boolean;
}

const FREED = (node: Node) => (): never => {
  throw new AutogradError(
    `backward: trying to backward through the graph a second time (op '${node.op}'): its saved tensors were freed; pass { retainGraph: true } to the first backward`,
  );
};

/** Tensors with a node reachable from `root`, in decreasing node id (a reverse topological order). */
function reachable(root: Tensor, stopAt: ReadonlySet<Tensor> | null): Tensor[] {
  const seen = new Set<Node>();
  const out: Tensor[] = [];
  const stack: Tensor[] = [root];
  while (stack.length) {
    const t = stack.pop()!;
    const node = t.node;
    if (node === null || seen.has(node)) continue;
    seen.add(node);
    out.push(t);
    if (stopAt?.has(t)) continue;
    for (const x of node.inputs) if (x.requiresGrad && x.node !== null && !seen.has(x.node)) stack.push(x);
  }
  return out.sort((a, b) => b.node!.id - a.node!.id);
}

function seed(root: Tensor, gradOutput: TensorLike | undefined, op: string): Tensor {
  if (!root.requiresGrad)
    throw new AutogradError(
      `${op}: the tensor does not require grad and has no grad history (did you forget requiresGrad: true, or run under noGrad?)`,
    );
  if (gradOutput === undefined) {
    if (root.size !== 1) {
      throw new AutogradError(
        `${op}: gradOutput is required for a non-scalar output of shape ${fmt(root.shape)} (grad can be implicitly created only for scalar outputs)`,
      );
    }
    return full(root.shape, 1, { dtype: root.dtype });
  }
  const g = asTensor(gradOutput, root.dtype);
  if (!shapeEq(g.shape, root.shape))
    throw new AutogradError(`${op}: gradOutput shape ${fmt(g.shape)} must equal the output's shape ${fmt(root.shape)}`);
  if (g.dtype !== root.dtype)
    throw new AutogradError(`${op}: gradOutput dtype ${g.dtype} must equal the output's dtype ${root.dtype}`);
  return g;
}

/** Anomaly mode: the first non-finite gradient names the op whose backward produced it and where it was recorded. */
function checkFiniteGrads(node: Node, gs: readonly (Tensor | null)[]): void {
  gs.forEach((gi, i) => {
    if (!gi) return;
    const d = gi.data;
    for (let j = 0; j < d.length; j++) {
      const v = d[j]!;
      if (!Number.isFinite(v)) {
        throw new AutogradError(
          `backward (anomaly mode): function '${node.op}' returned ${v} in its gradient for input ${i} ` +
            `(shape ${fmt(gi.shape)}, at flat index ${j}); the op was recorded at:\n${
              node.stack ?? '  (not recorded: the ' + 'forward pass ran outside anomaly mode)'
            }`,
        );
      }
    }
  });
}

const acc = (a: Tensor | undefined, b: Tensor): Tensor => (a === undefined ? b : a.add(b));
/** Into `.grad`: a buffer of its own (gradients inside the walk may alias each other or gradOutput). */
const accOwned = (a: Tensor | null, b: Tensor, createGraph: boolean): Tensor =>
  a !== null ? a.add(createGraph ? b : b.detach()) : createGraph ? b : b.clone();

/**
 * The reverse walk. With `targets`, returns their gradients and leaves `.grad` alone
 * (torch.autograd.grad); without, accumulates into leaves' `.grad` (Tensor.backward).
 */
export function runBackward(
  root: Tensor,
  gradOutput: TensorLike | undefined,
  opts: BackwardOptions,
  targets: readonly Tensor[] | null,
  op = 'backward',
): (Tensor | null)[] {
  const g0 = seed(root, gradOutput, op);
  const createGraph = opts.createGraph ?? false;
  const retain = opts.retainGraph ?? createGraph;
  const stopAt = targets ? new Set(targets) : null;
  const kept: Tensor[] = [];
  const walk = (): (Tensor | null)[] => {
    const grads = new Map<Tensor, Tensor>([[root, g0]]);
    const order = reachable(root, stopAt);
    for (const t of order) {
      const g = grads.get(t);
      if (g === undefined) continue;
      const node = t.node!;
      if (!targets && t.retainsGrad) kept.push((t.grad = accOwned(t.grad, g, createGraph)));
      if (stopAt?.has(t)) continue;
      if (node.backward === null) FREED(node)();
      const gs = node.backward!(g);
      if (isAnomalyEnabled()) checkFiniteGrads(node, gs);
      if (!retain) node.backward = null;
      node.inputs.forEach((x, i) => {
        const gi = gs[i];
        if (gi && x.requiresGrad) grads.set(x, acc(grads.get(x), gi));
      });
      if (!targets) grads.delete(t); // let intermediate gradients be collected early
    }
    if (targets) return targets.map((x) => grads.get(x) ?? null);
    for (const [x, g] of grads) {
      if (x.node === null && x.requiresGrad) kept.push((x.grad = accOwned(x.grad, g, createGraph)));
    }
    return [];
  };
  if (createGraph) return enableGrad(walk);
  // Everything the walk creates is internal except the gradients it hands out: release the rest's
  // device buffers now (see tape.ts), so a synchronous training loop holds flat GPU memory.
  let out: (Tensor | null)[] = [];
  return withReleaseScope(
    () => (out = noGrad(walk)),
    () => [...out, ...kept],
  );
}

export function backward(root: Tensor, gradOutput: TensorLike | undefined, opts: BackwardOptions = {}): void {
  runBackward(root, gradOutput, opts, null);
}
