/**
 * checkpoint / checkpointSequential: gradients bit-identical to the plain graph (with dropout, with
 * parameters closed over, through grad/hvp/gradgradcheck), and the tape's saved activations of a
 * deep MLP ≥ 3× smaller at their peak.
 *
 * Memory measure (deterministic, no timing, no GC): "live saved bytes" = the bytes of the distinct
 * non-leaf tensors that a not-yet-run backward closure on the tape keeps (each node keeps its inputs
 * and its output), found by walking node.inputs from the roots. Leaves (parameters, the data batch)
 * are excluded: they exist with or without the tape. The plain graph's peak is right after forward.
 * The checkpointed graph's peak is during backward, when one segment has been recomputed: we
 * measure it inside the segment function at that moment, over the outer tape (the boundaries the
 * checkpoint nodes keep) and the recomputed segment's graph together.
 */
import { describe, expect, it } from 'vitest';
import {
  checkpoint,
  checkpointSequential,
  grad,
  gradcheck,
  gradgradcheck,
  hvp,
  manualSeed,
  nn,
  Tensor,
  tensor,
  ValueError,
} from '../../src/index.js';
import { rnd } from '../helpers.js';

function liveSavedBytes(roots: readonly Tensor[]): number {
  const kept = new Set<Tensor>();
  const seen = new Set<Tensor>();
  const stack = [...roots];
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const node = t.node;
    if (node === null) continue;
    if (node.backward !== null) {
      kept.add(t);
      for (const x of node.inputs) if (x.node !== null) kept.add(x);
    }
    for (const x of node.inputs) stack.push(x);
  }
  let bytes = 0;
  for (const t of kept) bytes += t.size * (t.dtype === 'float64' ? 8 : 4);
  return bytes;
}

const bitsOf = (t: Tensor | null) => [...new Uint8Array(Float64Array.from(t!.data).buffer)];

describe('checkpoint: same values and gradients as the plain graph, bit for bit', () => {
  it('a segment with closed-over parameters and two uses of its input', () => {
    const w = rnd([4, 4], 1),
      b = rnd([4], 2),
      x0 = rnd([3, 4], 3);
    const seg = (x: Tensor) => x.matmul(w).add(b).tanh().mul(x).add(x.sigmoid());
    const run = (ck: boolean) => {
      for (const t of [w, b, x0]) t.grad = null;
      const h = x0.mul(2);
      const y = ck ? checkpoint(seg, h) : seg(h);
      const loss = y.square().sum();
      loss.backward();
      return { y: y.data, gw: w.grad, gb: b.grad, gx: x0.grad };
    };
    const plain = run(false),
      ck = run(true);
    expect([...ck.y]).toEqual([...plain.y]);
    for (const k of ['gw', 'gb', 'gx'] as const) expect(bitsOf(ck[k])).toEqual(bitsOf(plain[k]));
  });
  it('dropout draws the same masks in the recomputation (the global stream is rewound)', () => {
    const lin = new nn.Linear(8, 8, { dtype: 'float64' }),
      drop = new nn.Dropout(0.5);
    const seg = (x: Tensor) => drop.forward(lin.forward(x).relu());
    const x = rnd([5, 8], 4);
    const run = (ck: boolean) => {
      lin.zeroGrad();
      manualSeed(7);
      const y = ck ? checkpoint(seg, x) : seg(x);
      y.square().sum().backward();
      return { y: [...y.data], gw: bitsOf(lin.weight.grad), gb: bitsOf(lin.bias!.grad) };
    };
    const plain = run(false),
      ck = run(true);
    expect(ck.y).toEqual(plain.y);
    expect(ck.gw).toEqual(plain.gw);
    expect(ck.gb).toEqual(plain.gb);
    expect(ck.y.filter((v) => v === 0).length).toBeGreaterThan(5); // dropout really dropped something
    // without the rewind the recomputed masks would differ: a fresh seed gives other gradients
    lin.zeroGrad();
    manualSeed(8);
    seg(x).square().sum().backward();
    expect(bitsOf(lin.weight.grad)).not.toEqual(plain.gw);
  });
  it('the random stream after backward is where forward left it (backward does not consume draws)', () => {
    const drop = new nn.Dropout(0.3);
    const x = rnd([50], 5);
    manualSeed(11);
    const y = checkpoint((t: Tensor) => drop.forward(t.mul(3)), x);
    const next1 = new nn.Dropout(0.3).forward(tensor(new Float32Array(20).fill(1), { shape: [20] })).data.join();
    manualSeed(11);
    checkpoint((t: Tensor) => drop.forward(t.mul(3)), x);
    y.sum().backward();
    const next2 = new nn.Dropout(0.3).forward(tensor(new Float32Array(20).fill(1), { shape: [20] })).data.join();
    expect(next2).toEqual(next1);
  });
  it('higher order: grad(grad(f)) and hvp equal the plain ones; gradcheck and gradgradcheck pass', () => {
    const seg = (x: Tensor, y: Tensor) => x.tanh().mul(y).add(x.mul(x).mul(y.sin()));
    const fPlain = (x: Tensor) => seg(x, x.exp()).sum();
    const fCk = (x: Tensor) => checkpoint(seg, x, x.exp()).sum();
    const x = rnd([6], 6),
      v = rnd([6], 7);
    expect(bitsOf(grad(fCk)(x))).toEqual(bitsOf(grad(fPlain)(x)));
    expect(bitsOf(hvp(fCk, x, v))).toEqual(bitsOf(hvp(fPlain, x, v)));
    const g2 = (f: (x: Tensor) => Tensor) => grad((y: Tensor) => grad(f, { createGraph: true })(y).sum())(x);
    expect(bitsOf(g2(fCk))).toEqual(bitsOf(g2(fPlain)));
    const a = rnd([3], 8),
      b = rnd([3], 9);
    expect(gradcheck((p, q) => checkpoint(seg, p!, q!), [a, b]).ok).toBe(true);
    expect(gradgradcheck((p, q) => checkpoint(seg, p!, q!), [a, b]).ok).toBe(true);
  });
  it('under noGrad or with nothing requiring grad it is just fn; bad input is refused', () => {
    const x = tensor([1, 2, 3], { dtype: 'float64' });
    const y = checkpoint((t: Tensor) => t.mul(2), x);
    expect(y.requiresGrad).toBe(false);
    expect([...y.data]).toEqual([2, 4, 6]);
    expect(() => checkpoint(42 as never)).toThrow(ValueError);
    expect(() => checkpoint(((t: Tensor) => t) as never, [1, 2] as never)).toThrow(/input 0 must be a Tensor/);
    const w = rnd([3], 10);
    expect(() => checkpoint(((_t: Tensor) => 3) as never, w)).toThrow(/must return a Tensor/);
  });
  it('a fn that is not deterministic in shape is caught in backward', () => {
    let calls = 0;
    const w = rnd([4], 11);
    const y = checkpoint((t: Tensor) => (++calls === 1 ? t.mul(2) : t.sum()), w);
    expect(() => y.sum().backward()).toThrow(/must be deterministic/);
  });
});

describe('checkpoint: peak memory of a deep MLP', () => {
  const depth = 64,
    width = 32,
    batch = 16,
    segments = 8;
  const build = () => {
    manualSeed(3);
    return Array.from({ length: depth }, () => new nn.Linear(width, width));
  };
  const stage = (l: nn.Linear) => (x: Tensor) => l.forward(x).tanh();
  const data = () => rnd([batch, width], 12, 'any', 'float32').detach();

  it('saved activations drop ≥ 3× and the gradients stay bit-identical', () => {
    const layers = build(),
      x = data();
    // plain
    let h = x;
    for (const l of layers) h = stage(l)(h);
    const plainLoss = h.square().mean();
    const plainPeak = liveSavedBytes([plainLoss]);
    plainLoss.backward();
    const plainGrads = layers.map((l) => bitsOf(l.weight.grad));
    for (const l of layers) l.zeroGrad();

    // every segment checkpointed; measure inside each segment's recomputation
    let inBackward = false,
      lossRef: Tensor | null = null,
      ckPeak = 0;
    const per = depth / segments;
    let y = x;
    for (let s = 0; s < segments; s++) {
      const mine = layers.slice(s * per, (s + 1) * per);
      y = checkpoint((t: Tensor) => {
        let z = t;
        for (const l of mine) z = stage(l)(z);
        if (inBackward) ckPeak = Math.max(ckPeak, liveSavedBytes([lossRef!, z]));
        return z;
      }, y);
    }
    const ckLoss = y.square().mean();
    lossRef = ckLoss;
    const ckAfterForward = liveSavedBytes([ckLoss]);
    inBackward = true;
    ckLoss.backward();
    ckPeak = Math.max(ckPeak, ckAfterForward);
    expect(ckLoss.item()).toBe(plainLoss.item());
    layers.forEach((l, i) => expect(bitsOf(l.weight.grad)).toEqual(plainGrads[i]));
    const ratio = plainPeak / ckPeak;
    console.log(
      `[checkpoint] ${depth}x${width} MLP, batch ${batch}, ${segments} segments: plain ${plainPeak} B, ` +
        `checkpointed ${ckAfterForward} B after forward, ${ckPeak} B peak (÷${ratio.toFixed(2)})`,
    );
    expect(ratio).toBeGreaterThanOrEqual(3);
  });
  it('checkpointSequential (PyTorch’s split: the last run is not checkpointed) gives the same gradients', () => {
    const layers = build(),
      x = data();
    let h = x;
    for (const l of layers) h = stage(l)(h);
    h.square().mean().backward();
    const plainGrads = layers.map((l) => bitsOf(l.weight.grad));
    for (const l of layers) l.zeroGrad();
    const y = checkpointSequential(layers.map(stage), segments, x);
    const loss = y.square().mean();
    const afterForward = liveSavedBytes([loss]);
    loss.backward();
    layers.forEach((l, i) => expect(bitsOf(l.weight.grad)).toEqual(plainGrads[i]));
    // boundaries + the last (plain) segment only
    let z = x;
    for (const l of layers) z = stage(l)(z);
    expect(afterForward).toBeLessThan(liveSavedBytes([z.square().mean()]) / 4);
    expect(() => checkpointSequential([], 2, x)).toThrow(ValueError);
    expect(() => checkpointSequential(layers.map(stage), 0, x)).toThrow(/segments/);
  });
});
