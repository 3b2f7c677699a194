/**
 * Whether the GPU suites should run here, shared by test/backend/gpu*.test.ts. They run when
 * setBackend('gpu') starts, except on a software WebGPU adapter (lavapipe, SwiftShader) picked by
 * default: that is slow, so plain `npm test` skips it; CI runs it with TAPEGRAD_GPU_MODE=webgpu.
 */
import { backendInfo, setBackend } from '../../src/index.js';

export const REQUIRE = process.env['TAPEGRAD_REQUIRE_GPU'] === '1';
/** TAPEGRAD_GPU_MODE=webgpu|headlessgl runs the suites in that mode (setBackend reads it). */
export const MODE = process.env['TAPEGRAD_GPU_MODE'];

/** '' when the GPU suites should run, else why not. */
export function gpuUnavailable(): string {
  try {
    setBackend('gpu');
    const info = backendInfo();
    if (!MODE && !REQUIRE && info.gpuMode === 'webgpu' && info.softwareAdapter) {
      return `only a software WebGPU adapter (${info.renderer}); run with TAPEGRAD_GPU_MODE=webgpu to test on it`;
    }
    return '';
  } catch (e) {
    return (e as Error).message;
  } finally {
    setBackend('cpu');
  }
}
