/**
 * Performance knobs, grouped (`import { tuning } from 'tapegrad'`): threads and size thresholds of
 * the WebAssembly kernels, GPU offload thresholds and kernel cache, which CPU kernels run, and
 * what they report. None of them changes results beyond float rounding.
 */
export { setNumThreads } from './backend/wasm/runtime.js';
export { wasmInfo, setWasmThresholds } from './backend/wasm/index.js';
export { setWasmMemoryLimits, wasmMemoryStats } from './backend/wasm/storage.js';
export type { WasmMemoryLimits, WasmMemoryStats } from './backend/wasm/storage.js';
export { setGpuThresholds, gpuStats, setGpuKernelCacheSize, setGpuMemoryLimits } from './backend/gpu/index.js';
export type { GpuThresholds, GpuStats, GpuMemoryLimits } from './backend/gpu/index.js';
export { setCpuKernels } from './backend/cpu/index.js';
export type { CpuKernels } from './backend/cpu/index.js';
