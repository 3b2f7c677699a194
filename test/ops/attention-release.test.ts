/**
 * The fused attention frees the resident blocks of its [.., L, S] temporaries (scores, scaled, masked,
 * and the forward's weights once the backward has read them): values and gradients equal the
 * composite's with residency on, and a forward + backward leaves no more resident blocks than
 * the composite's tape would.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manualSeed, randn, scaledDotProductAttention, tuning, type Tensor } from '../../src/index.js';

const { setWasmMemoryLimits, wasmMemoryStats } = tuning;
beforeEach(() => {
  setWasmMemoryLimits({ resident: true, minResidentElements: 0 });
});
afterEach(() => {
  setWasmMemoryLimits('default');
});

const close = (a: Tensor, b: Tensor): void => {
  const x = a.data,
    y = b.data;
  expect(x.length).toBe(y.length);
  for (let i = 0; i < x.length; i++) expect(Math.abs(x[i]! - y[i]!)).toBeLessThan(1e-5);
};

describe('fused attention with resident temporaries', () => {
  for (const opts of [{ isCausal: true }, {}, { scale: 1 }] as const) {
    it(`matches the composite and releases its temporaries (${JSON.stringify(opts)})`, () => {
      manualSeed(3);
      const mk = (): Tensor[] =>
        [randn([2, 3, 8, 4]), randn([2, 3, 8, 4]), randn([2, 3, 8, 4])].map((t) => t.requiresGrad_());
      const [q, k, v] = mk() as [Tensor, Tensor, Tensor];
      const [q2, k2, v2] = [q, k, v].map((t) => t.detach().clone().requiresGrad_()) as [Tensor, Tensor, Tensor];
      const g = randn([2, 3, 8, 4]);
      const before = wasmMemoryStats().residentBlocks;
      const y = scaledDotProductAttention(q, k, v, opts);
      // After the forward: the output and the weights kept for the backward (inputs are host tensors here).
      expect(wasmMemoryStats().residentBlocks - before).toBe(2);
      const prod = y.mul(g),
        loss = prod.sum();
      loss.backward();
      // After the backward: y, y·g, the loss and the resident gradients only (the weights were freed).
      const live = [y, prod, loss, q.grad, k.grad, v.grad].filter((t) => t?.deviceBuffer?.device === 'wasm');
      expect(wasmMemoryStats().residentBlocks - before).toBe(live.length);
      const y2 = scaledDotProductAttention(q2, k2, v2, { ...opts, fused: false });
      y2.mul(g).sum().backward();
      close(y, y2);
      close(q.grad!, q2.grad!);
      close(k.grad!, k2.grad!);
      close(v.grad!, v2.grad!);
      // A second backward through a retained graph recomputes the weights and gives the same gradients.
      const [q3, k3, v3] = [q, k, v].map((t) => t.detach().clone().requiresGrad_()) as [Tensor, Tensor, Tensor];
      const y3 = scaledDotProductAttention(q3, k3, v3, opts);
      y3.mul(g).sum().backward(undefined, { retainGraph: true });
      const first = q3.grad!.data.slice();
      y3.mul(g).sum().backward();
      const twice = q3.grad!.data;
      for (let i = 0; i < first.length; i++) expect(twice[i]!).toBeCloseTo(2 * first[i]!, 4);
    });
  }
});
