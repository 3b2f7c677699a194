/** Whether the CPU backend uses its WebAssembly kernels (its own module, so kernel files need not import index.ts). */
let useWasm = process.env['TAPEGRAD_KERNELS'] !== 'reference';
export const wasmEnabled = (): boolean => useWasm;
export const enableWasm = (on: boolean): void => {
  useWasm = on;
};
