/** The cpu backend with WebAssembly kernels on and off gives the same answers through the public API. */
import { afterAll, describe, expect, it } from 'vitest';
import { manualSeed, randn, nn, optim } from '../../src/index.js';
import { getCpuKernels, setCpuKernels } from '../../src/backend/cpu/index.js';

afterAll(() => setCpuKernels('wasm'));

function train(kernels: 'wasm' | 'reference'): number[] {
  setCpuKernels(kernels);
  manualSeed(1);
  const model = new nn.Sequential(new nn.Linear(20, 32), new nn.ReLU(), new nn.Linear(32, 5));
  const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });
  const x = randn([64, 20]);
  const y = [...Array(64).keys()].map((i) => i % 5);
  const losses: number[] = [];
  for (let i = 0; i < 20; i++) {
    opt.zeroGrad();
    const loss = nn.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  return losses;
}

describe('cpu backend kernels switch', () => {
  it('defaults to wasm and can be switched', () => {
    expect(getCpuKernels()).toBe(process.env['TAPEGRAD_KERNELS'] === 'reference' ? 'reference' : 'wasm');
    setCpuKernels('reference');
    expect(getCpuKernels()).toBe('reference');
    setCpuKernels('wasm');
  });

  it('an MLP trains to the same losses with wasm and reference kernels (float32 tolerance)', () => {
    const a = train('wasm'),
      b = train('reference');
    for (let i = 0; i < a.length; i++)
      expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(b[i]!)));
    expect(a[a.length - 1]!).toBeLessThan(a[0]!);
  });

  it('batched, transposed and broadcast matmul through Tensor ops matches the reference', () => {
    manualSeed(2);
    const a = randn([3, 1, 17, 9]),
      b = randn([4, 9, 13]);
    setCpuKernels('wasm');
    const w = a.matmul(b).data;
    setCpuKernels('reference');
    const r = a.matmul(b).data;
    setCpuKernels('wasm');
    expect(w.length).toBe(r.length);
    for (let i = 0; i < w.length; i++) expect(Math.abs(w[i]! - r[i]!)).toBeLessThan(1e-5);
  });
});
