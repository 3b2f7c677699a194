/**
 * Start-up failures of the GPU backend. This file runs everywhere (no display needed): it removes
 * DISPLAY before the first start attempt, so headless-gl cannot get a context. It asks for the
 * headless-gl mode explicitly (a WebGPU adapter needs no display and may well start).
 */
import { describe, expect, it, vi } from 'vitest';
import { BackendError, tensor } from '../../src/index.js';
import { backendInfo, setBackend } from '../../src/backend/gpu/index.js';

describe.skipIf(process.platform !== 'linux')('GPU backend start-up errors', () => {
  delete process.env['DISPLAY'];

  it("setBackend('gpu') throws a BackendError that says why and how to fix it", () => {
    let err: unknown;
    try {
      setBackend('gpu', { gpuMode: 'headlessgl' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BackendError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^GPU backend cannot start: /);
    // Whatever is missing here (gpu.js, the gl binary, the display), the message names it and a fix.
    expect(msg).toMatch(/no X display|gl native binary|gpu\.js is not installed/);
    expect(msg).toMatch(/xvfb-run -a|npm install gpu\.js/);
    expect(backendInfo().name).toBe('cpu');
  });

  it("setBackend('auto') falls back to the CPU with one warning", () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      setBackend('auto', { gpuMode: 'headlessgl' });
      setBackend('auto', { gpuMode: 'headlessgl' });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/setBackend\('auto'\) is using the CPU/);
      const info = backendInfo();
      expect(info).toMatchObject({ name: 'cpu', requested: 'auto' });
      expect(info.reason).toMatch(/GPU backend cannot start/);
      expect(Array.from(tensor([1, 2]).mul(2).data)).toEqual([2, 4]);
    } finally {
      warn.mockRestore();
      setBackend('cpu');
    }
  });

  it('rejects unknown backend names, GPU modes and options', () => {
    expect(() => setBackend('tpu' as 'cpu')).toThrow(/unknown backend "tpu"/);
    expect(() => setBackend('gpu', { gpuMode: 'cuda' as 'webgpu' })).toThrow(
      /setBackend: options.gpuMode must be 'webgpu' or 'headlessgl', got "cuda"/,
    );
    expect(() => setBackend('gpu', { mode: 'webgpu' } as never)).toThrow(/mode/);
    const saved = process.env['TAPEGRAD_GPU_MODE'];
    process.env['TAPEGRAD_GPU_MODE'] = 'metal';
    try {
      expect(() => setBackend('auto')).toThrow(/TAPEGRAD_GPU_MODE must be 'webgpu' or 'headlessgl', got "metal"/);
    } finally {
      if (saved === undefined) delete process.env['TAPEGRAD_GPU_MODE'];
      else process.env['TAPEGRAD_GPU_MODE'] = saved;
    }
    expect(backendInfo().name).toBe('cpu');
  });
});
