/**
 * The WebGPU mode (Dawn through the optional `webgpu` package, in a worker thread): adapter
 * detection and reporting, what 'auto' picks, and the async readbacks. The op-by-op parity suite
 * is gpu.test.ts, run in this mode with `TAPEGRAD_GPU_MODE=webgpu` (CI does, on Mesa lavapipe).
 * Without an adapter the WebGPU part is skipped with a note, unless TAPEGRAD_REQUIRE_GPU=1 and
 * TAPEGRAD_GPU_MODE=webgpu, which turn "cannot start" into a failure.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { launch } from '../../src/backend/gpu/webgpu/device.js';
import { BackendError, type Tensor, backendInfo, randn, setBackend, tensor, tuning } from '../../src/index.js';

const { gpuStats } = tuning;
const REQUIRE = process.env['TAPEGRAD_REQUIRE_GPU'] === '1' && process.env['TAPEGRAD_GPU_MODE'] === 'webgpu';
let unavailable = '';
try {
  setBackend('gpu', { gpuMode: 'webgpu' });
} catch (e) {
  unavailable = (e as Error).message;
} finally {
  setBackend('cpu');
}
if (unavailable && !REQUIRE) console.warn(`[tapegrad] WebGPU tests skipped: ${unavailable}`);

/** Runs `f` with TAPEGRAD_GPU_MODE unset (the suite may run with it set). */
function withoutModeEnv<T>(f: () => T): T {
  const saved = process.env['TAPEGRAD_GPU_MODE'];
  delete process.env['TAPEGRAD_GPU_MODE'];
  try {
    return f();
  } finally {
    if (saved !== undefined) process.env['TAPEGRAD_GPU_MODE'] = saved;
  }
}

describe('dataAsync / itemAsync on CPU tensors', () => {
  it('resolve to the same values as .data and .item()', async () => {
    const t = tensor([1.5, -2, 3], { shape: [3] });
    expect(Array.from(await t.dataAsync())).toEqual([1.5, -2, 3]);
    expect(await t.sum().itemAsync()).toBe(2.5);
    await expect(t.itemAsync()).rejects.toThrow(/itemAsync: tensor of shape \[3\] has 3 elements, expected exactly 1/);
  });
});

describe.skipIf(unavailable !== '' && !REQUIRE)('WebGPU mode', () => {
  afterEach(() => setBackend('cpu'));

  it('starts, reports the mode and the adapter, and flags software adapters', () => {
    if (unavailable) throw new Error(`TAPEGRAD_REQUIRE_GPU=1 but WebGPU cannot start: ${unavailable}`);
    setBackend('gpu', { gpuMode: 'webgpu' });
    const info = backendInfo();
    expect(info).toMatchObject({ name: 'gpu', requested: 'gpu', gpuMode: 'webgpu' });
    expect(info.renderer).toMatch(/WebGPU\/Dawn/);
    expect(typeof info.softwareAdapter).toBe('boolean');
    const soft = /llvmpipe|lavapipe|swiftshader/i.test(info.renderer ?? '');
    if (soft) expect(info.softwareAdapter).toBe(true);
    expect(info.renderer!.includes('software adapter')).toBe(info.softwareAdapter);
    const y = tensor([1, 2, 3], { shape: [3] }).mul(2);
    expect(y.deviceBuffer?.device).toBe('gpu');
    expect(Array.from(y.data)).toEqual([2, 4, 6]);
  });

  it("'gpu' prefers WebGPU; 'auto' does not pick a software adapter", () => {
    const soft = withoutModeEnv(() => {
      setBackend('gpu', { gpuMode: 'webgpu' });
      const s = backendInfo().softwareAdapter === true;
      setBackend('gpu');
      expect(backendInfo().gpuMode).toBe('webgpu');
      setBackend('auto');
      return s;
    });
    const info = backendInfo();
    if (soft) expect(info.gpuMode).not.toBe('webgpu');
    else expect(info.gpuMode).toBe('webgpu');
    // An explicit mode wins, software or not.
    setBackend('auto', { gpuMode: 'webgpu' });
    expect(backendInfo().gpuMode).toBe('webgpu');
  });

  it('dataAsync and itemAsync read a resident tensor back without blocking, once', async () => {
    setBackend('gpu', { gpuMode: 'webgpu' });
    const x = randn([300, 7]);
    const y = x.mul(3).add(1);
    const s = y.sum();
    gpuStats(true);
    let ticked = false;
    setImmediate(() => {
      ticked = true;
    });
    const v = await y.dataAsync();
    const total = await s.itemAsync();
    expect(gpuStats().reads).toBe(2);
    expect(y.deviceBuffer).toBeNull(); // the values now live on the CPU
    expect(Array.from(await y.dataAsync())).toEqual(Array.from(v));
    expect(gpuStats().reads).toBe(2);
    expect(ticked).toBe(true);
    const want = Float32Array.from(x.data, (a) => Math.fround(Math.fround(a * 3) + 1));
    expect(Array.from(v)).toEqual(Array.from(want));
    const ref = want.reduce((a, b) => a + b, 0);
    expect(Math.abs(total - ref)).toBeLessThan(1e-3 * Math.max(1, Math.abs(ref)));
  });

  it('a long synchronous chain of launches and readbacks stays correct (no await anywhere)', () => {
    setBackend('gpu', { gpuMode: 'webgpu' });
    let t: Tensor = tensor(new Float32Array(1000).fill(1), { shape: [1000] });
    for (let i = 0; i < 200; i++) {
      t = t.add(1);
      if (i % 20 === 0) expect(t.data[999]).toBe(i + 2);
    }
    expect(t.sum().item()).toBe(201 * 1000);
  });

  it('a kernel error surfaces as a BackendError at the next readback, and the device keeps working', () => {
    setBackend('gpu', { gpuMode: 'webgpu' });
    const bad = launch('this is not WGSL', [new Float32Array([1])], null, 1);
    expect(() => bad.read()).toThrow(BackendError);
    bad.dispose();
    const ok = tensor([1, 2], { shape: [2] }).add(1);
    expect(Array.from(ok.data)).toEqual([2, 3]);
  });
});
