/**
 * Public controls of where ops run: setBackend('auto' | 'cpu' | 'gpu'), backendInfo(),
 * setGpuThresholds(). Importing this module does not load gpu.js; setBackend('gpu' | 'auto') does.
 */
import { checkOptions } from '../../validate.js';
import { BackendError, ValueError } from '../../errors.js';
import { getMode, installDevice, type BackendName } from '../dispatch.js';
import { DEFAULT_THRESHOLDS, gpuBackend, thresholds, type GpuThresholds } from './backend.js';
import { gpuUpdates, uninstallGpuUpdates } from './optim.js';
import { offerFusedUpdates } from '../fused.js';
import { webgpuBackend } from './webgpu/backend.js';
import { enforceWebGpuLimits, setWebGpuCacheCapacity, startWebGpu, type WebGpuRuntime } from './webgpu/device.js';
import { webgpuUpdates } from './webgpu/optim.js';
import {
  DEFAULT_MEMORY_LIMITS,
  enforceLimits,
  memoryLimits,
  resetStats,
  setCacheCapacity,
  startRuntime,
  stats,
  type GpuMemoryLimits,
  type GpuStats,
  type Runtime,
} from './runtime.js';

export type { GpuThresholds } from './backend.js';
export type { GpuStats, GpuMemoryLimits } from './runtime.js';
export { gpuUpdates } from './optim.js';

/** Which backend runs the eligible ops, and why. */
export interface BackendInfo {
  /** Where eligible ops run now. */
  name: 'cpu' | 'gpu';
  /** What setBackend asked for. */
  requested: BackendName;
  /** The GPU mode in use: 'webgpu' (Dawn, WGSL shaders) or 'headlessgl' (gpu.js on WebGL 1). */
  gpuMode?: GpuMode;
  /** The WebGPU adapter, or the GL renderer and version strings, when started. */
  renderer?: string;
  /** True when the adapter is a software one (llvmpipe, lavapipe, SwiftShader): slower than the CPU backend. */
  softwareAdapter?: boolean;
  /** Why 'auto' is running on the CPU, when it is. */
  reason?: string;
  /** The size thresholds above which ops go to the GPU. */
  thresholds: GpuThresholds;
}

/** A GPU mode: WebGPU through the `webgpu` package (Dawn), or gpu.js on headless-gl. */
export type GpuMode = 'webgpu' | 'headlessgl';
/** Options of {@link setBackend}. */
export interface SetBackendOptions {
  /**
   * Which GPU mode to use. Default: the `TAPEGRAD_GPU_MODE` environment variable if set, else
   * WebGPU when the `webgpu` package finds an adapter, then headless-gl ('auto' skips a software
   * WebGPU adapter, since it is slower than the CPU kernels).
   */
  gpuMode?: GpuMode;
}

let requested: BackendName = 'cpu';
let rt: Runtime | WebGpuRuntime | null = null;
let fallbackReason: string | undefined;
let warned = false;

/**
 * Chooses where ops run. 'cpu' (the default): always the CPU. 'gpu': every supported float32 op
 * on the GPU whatever its size (throws a BackendError saying why when the GPU cannot start).
 * 'auto': the GPU for float32 ops above the thresholds (or whose inputs are already on the GPU);
 * if the GPU cannot start, the CPU, with one console warning. float64 and int32 always run on the CPU.
 */
export function setBackend(name: BackendName, options: SetBackendOptions = {}): void {
  if (name !== 'cpu' && name !== 'gpu' && name !== 'auto') {
    throw new ValueError(`setBackend: unknown backend ${JSON.stringify(name)} (expected 'auto', 'cpu' or 'gpu')`);
  }
  const { gpuMode } = checkOptions('setBackend', options, ['gpuMode']);
  const envMode = process.env['TAPEGRAD_GPU_MODE'] || undefined;
  const want = gpuMode ?? envMode;
  if (want !== undefined && want !== 'webgpu' && want !== 'headlessgl') {
    const what = gpuMode !== undefined ? 'options.gpuMode' : 'TAPEGRAD_GPU_MODE';
    throw new ValueError(`setBackend: ${what} must be 'webgpu' or 'headlessgl', got ${JSON.stringify(want)}`);
  }
  requested = name;
  fallbackReason = undefined;
  if (name === 'cpu') {
    installDevice(null, 'cpu');
    uninstallGpuUpdates();
    return;
  }
  try {
    rt = start(name, want);
  } catch (e) {
    if (name === 'gpu' || !(e instanceof BackendError)) {
      installDevice(null, 'cpu');
      requested = 'cpu';
      throw e;
    }
    fallbackReason = e.message;
    installDevice(null, 'cpu');
    if (!warned) {
      warned = true;
      console.warn(`tapegrad: setBackend('auto') is using the CPU. ${e.message}`);
    }
    return;
  }
  const web = rt.mode === 'webgpu';
  installDevice(web ? webgpuBackend : gpuBackend, name);
  offerFusedUpdates('gpu', web ? webgpuUpdates : gpuUpdates);
}

/** Starts the requested GPU mode, or the first that works: WebGPU (hardware for 'auto'), then headless-gl. */
function start(name: 'gpu' | 'auto', want: GpuMode | undefined): Runtime | WebGpuRuntime {
  if (want === 'headlessgl') return startRuntime();
  let web: WebGpuRuntime | null = null;
  let why: string;
  try {
    web = startWebGpu();
    why = `its adapter, ${web.renderer}, is a software one; setBackend('gpu') or gpuMode: 'webgpu' would use it`;
  } catch (e) {
    if (!(e instanceof BackendError)) throw e;
    if (want === 'webgpu') throw e;
    why = e.message;
  }
  if (web && (name === 'gpu' || !web.software || want === 'webgpu')) return web;
  try {
    return startRuntime();
  } catch (e) {
    if (!(e instanceof BackendError)) throw e;
    if (web && name === 'gpu') return web;
    throw new BackendError(`${e.message} (WebGPU not used: ${why})`);
  }
}

/** The current backend, what was requested and the GPU thresholds. */
export function backendInfo(): BackendInfo {
  const onGpu = rt !== null && getMode() !== 'cpu';
  const info: BackendInfo = { name: onGpu ? 'gpu' : 'cpu', requested, thresholds: { ...thresholds } };
  if (onGpu && rt) {
    info.gpuMode = rt.mode;
    info.renderer = rt.renderer;
    if (rt.mode === 'webgpu') info.softwareAdapter = rt.software;
  }
  if (fallbackReason !== undefined) info.reason = fallbackReason;
  return info;
}

/** Sets the 'auto' size thresholds (omitted fields keep their value); returns the result. */
export function setGpuThresholds(t: Partial<GpuThresholds> | 'default'): GpuThresholds {
  const next =
    t === 'default' ? DEFAULT_THRESHOLDS : checkOptions('setGpuThresholds', t, ['elementwise', 'matmul', 'reduce']);
  for (const key of ['elementwise', 'matmul', 'reduce'] as const) {
    const v = next[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !(v >= 0))
      throw new ValueError(`setGpuThresholds: ${key} must be a non-negative number, got ${v}`);
    thresholds[key] = v;
  }
  return { ...thresholds };
}

/** Counters of GPU work and readbacks since the last reset (for tests and profiling). */
export function gpuStats(reset = false): GpuStats {
  const s = { ...stats };
  if (reset) resetStats();
  return s;
}

/** Maximum number of compiled kernels kept; least recently used ones are destroyed beyond it. */
export function setGpuKernelCacheSize(n: number): void {
  if (!Number.isFinite(n) || n < 1) throw new ValueError(`setGpuKernelCacheSize: expected a positive number, got ${n}`);
  setCacheCapacity(n);
  setWebGpuCacheCapacity(n);
}

/**
 * Bounds the GPU texture pool (see docs/gpu.md): past `maxTextures` resident textures or
 * `maxBytes` of values, the least recently used are moved to CPU memory (they stay readable and
 * are uploaded again when a kernel needs them). `'default'` restores 1024 textures / 1 GiB.
 * Returns the limits now in force.
 */
export function setGpuMemoryLimits(limits: Partial<GpuMemoryLimits> | 'default'): GpuMemoryLimits {
  const next =
    limits === 'default'
      ? DEFAULT_MEMORY_LIMITS
      : checkOptions('setGpuMemoryLimits', limits, ['maxTextures', 'maxBytes']);
  for (const key of ['maxTextures', 'maxBytes'] as const) {
    const v = next[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      throw new ValueError(`setGpuMemoryLimits: ${key} must be a positive integer, got ${String(v)}`);
    }
  }
  Object.assign(memoryLimits, next);
  enforceLimits();
  enforceWebGpuLimits();
  return { ...memoryLimits };
}
