import type { Tensor } from '../tensor.js';
import type { Backend } from './backend.js';
import { cpu } from './cpu/index.js';

/** What kind of work an op is, for choosing where it runs. */
export type OpKind = 'elementwise' | 'matmul' | 'reduce' | 'other';
export type BackendName = 'auto' | 'cpu' | 'gpu';

/**
 * A device backend (the GPU) plugs in here. `accepts` sees every op and says whether
 * it wants it (size thresholds, dtype, mode live in the device backend).
 */
export interface DeviceBackend extends Backend {
  accepts(kind: OpKind, inputs: readonly Tensor[], outSize: number, forced: boolean): boolean;
}

let mode: BackendName = 'cpu';
let device: DeviceBackend | null = null;

export const getMode = (): BackendName => mode;
/** @internal Set by the GPU module once it has started. */
export function installDevice(d: DeviceBackend | null, m: BackendName): void {
  device = d;
  mode = m;
}
export const getDevice = (): DeviceBackend | null => device;

/** Chooses the backend for one op application. */
export function pickBackend(kind: OpKind, inputs: readonly Tensor[], outSize: number): Backend {
  if (device !== null && mode !== 'cpu' && device.accepts(kind, inputs, outSize, mode === 'gpu')) return device;
  return cpu;
}
