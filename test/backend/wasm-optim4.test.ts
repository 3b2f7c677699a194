/**
 * The fused WebAssembly Schedule-Free AdamW and LAMB updates against the TypeScript kernels in
 * src/optim/updates.ts (float32, several steps, sizes across the chunk boundary), and their
 * registration through the cpu backend.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as W from '../../src/backend/wasm/index.js';
import {
  adamwScheduleFreeUpdate,
  getUpdateKernel,
  lambUpdate,
  type AdamWScheduleFreeOptions,
  type LambOptions,
} from '../../src/optim/updates.js';
import { optim, tensor } from '../../src/index.js';
import { fusedUpdates } from '../../src/backend/fused.js';

function rnd(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}
function close(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol: number): string | null {
  if (a.length !== b.length) return `length ${a.length} ≠ ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!,
      y = b[i]!;
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (x === y) continue;
    if (!(Math.abs(x - y) <= atol + rtol * Math.abs(y))) return `at ${i}: wasm ${x} vs reference ${y}`;
  }
  return null;
}

describe('wasm Schedule-Free AdamW and LAMB vs src/optim/updates.ts', () => {
  it('adamwScheduleFree over several steps (both lerp branches, with and without weight decay)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40000 }),
        fc.integer(),
        fc.constantFrom(0, 0.05),
        fc.constantFrom(0.9, 0.3),
        (n, seed, wd, beta1) => {
          const h: AdamWScheduleFreeOptions = {
            lr: 1e-2,
            betas: [beta1, 0.999],
            eps: 1e-8,
            weightDecay: wd,
            warmupSteps: 0,
            r: 0,
            weightLrPower: 2,
            innerMomentum: 0,
          };
          const y1 = rnd(n, seed),
            y2 = y1.slice(),
            z1 = y1.slice(),
            z2 = y1.slice();
          const v1 = new Float32Array(n),
            v2 = new Float32Array(n);
          let weightSum = 0;
          for (let k = 0; k < 4; k++) {
            const g = rnd(n, seed + k + 1);
            weightSum += 1e-4;
            const sc = { lr: h.lr, ckp1: k === 0 ? 1 : 1e-4 / weightSum };
            W.adamwScheduleFreeStep(y1, g, z1, v1, h, sc, k);
            adamwScheduleFreeUpdate(y2, g, z2, v2, null, h, sc, k);
          }
          for (const [a, b] of [
            [y1, y2],
            [z1, z2],
            [v1, v2],
          ] as const) {
            const err = close(a, b, 1e-6, 1e-5);
            if (err) throw new Error(err);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('lamb over several steps (norms across chunks, weight decay, epsRoot)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40000 }),
        fc.integer(),
        fc.constantFrom(0, 0.01),
        fc.constantFrom(0, 1e-8),
        (n, seed, wd, epsRoot) => {
          const h: LambOptions = { lr: 1e-2, betas: [0.9, 0.999], eps: 1e-6, epsRoot, weightDecay: wd };
          const p1 = rnd(n, seed),
            p2 = p1.slice();
          const m1 = new Float32Array(n),
            v1 = new Float32Array(n),
            m2 = new Float32Array(n),
            v2 = new Float32Array(n);
          for (let t = 1; t <= 3; t++) {
            const g = rnd(n, seed + t);
            W.lambStep(p1, g, m1, v1, h, t);
            lambUpdate(p2, g, m2, v2, h, t);
          }
          for (const [a, b] of [
            [p1, p2],
            [m1, m2],
            [v1, v2],
          ] as const) {
            const err = close(a, b, 1e-6, 1e-5);
            if (err) throw new Error(err);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('lamb with a zero parameter keeps the trust ratio at 1', () => {
    const h: LambOptions = { lr: 0.1, betas: [0.9, 0.999], eps: 1e-6, epsRoot: 0, weightDecay: 0 };
    const p1 = new Float32Array(5),
      p2 = new Float32Array(5),
      g = rnd(5, 3);
    W.lambStep(p1, g, new Float32Array(5), new Float32Array(5), h, 1);
    lambUpdate(p2, g, new Float32Array(5), new Float32Array(5), h, 1);
    expect(close(p1, p2, 1e-7, 1e-6)).toBeNull();
    expect(p1.some((x) => x !== 0)).toBe(true);
  });

  it('the cpu backend offers them as fused updates: float32 through WebAssembly and float64 through the reference', () => {
    expect(fusedUpdates().some((f) => f.lamb !== undefined && f.adamwScheduleFree !== undefined)).toBe(true);
    expect(getUpdateKernel('lamb')).not.toBe(lambUpdate);
    for (const dtype of ['float32', 'float64'] as const) {
      const p = tensor([1, -2, 3], { dtype, requiresGrad: true });
      const opt = new optim.Lamb([p], { lr: 0.1 });
      p.grad = tensor([0.5, 0.5, -1], { dtype });
      opt.step();
      const q = new Float64Array([1, -2, 3]);
      lambUpdate(q, new Float64Array([0.5, 0.5, -1]), new Float64Array(3), new Float64Array(3), opt.paramGroups[0]!, 1);
      [...p.data].forEach((x, i) => expect(x).toBeCloseTo(q[i]!, dtype === 'float32' ? 5 : 15));
    }
  });
});
