import {
  REFERENCE,
  type Backend,
  type BufferView,
  type DeviceKernels,
  type Kernels,
  type OpKind,
  type Primitive,
} from './backend.js';
import { cpu } from './cpu/index.js';

export type { OpKind } from './backend.js';
/** A backend `setBackend` accepts: 'auto' (GPU when available and worth it), 'cpu' or 'gpu'. */
export type BackendName = 'auto' | 'cpu' | 'gpu';

/**
 * A device backend (the GPU) plugs in here. `accepts` sees every op and says whether
 * it wants it (size thresholds, dtype, mode live in the device backend). Its table names a
 * kernel or an explicit REFERENCE fallback for every primitive.
 */
export interface DeviceBackend {
  readonly name: 'gpu';
  readonly kernels: DeviceKernels;
  accepts(kind: OpKind, inputs: readonly BufferView[], outSize: number, forced: boolean): boolean;
}

let mode: BackendName = 'cpu';
let device: DeviceBackend | null = null;
let resolved: Backend | null = null;

/** A device table with every REFERENCE marker replaced by the CPU kernel. */
function resolve(d: DeviceKernels): Kernels {
  const pick = <P extends Primitive>(p: P): Kernels[P] => {
    const k = d[p];
    return k === REFERENCE ? cpu.kernels[p] : (k as Kernels[P]);
  };
  const keys = Object.keys(cpu.kernels) as Primitive[];
  return Object.fromEntries(keys.map((p) => [p, pick(p)])) as unknown as Kernels;
}

export const getMode = (): BackendName => mode;
/** @internal Set by the GPU module once it has started. */
export function installDevice(d: DeviceBackend | null, m: BackendName): void {
  device = d;
  mode = m;
  resolved = d ? { name: d.name, kernels: resolve(d.kernels) } : null;
}
export const getDevice = (): DeviceBackend | null => device;

/** Chooses the backend for one op application. */
export function pickBackend(kind: OpKind, inputs: readonly BufferView[], outSize: number): Backend {
  if (device !== null && resolved !== null && mode !== 'cpu' && device.accepts(kind, inputs, outSize, mode === 'gpu')) {
    return resolved;
  }
  return cpu;
}
