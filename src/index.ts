/** tapegrad: the public API. */
export { Tensor, tensor, zeros, ones, full, zerosLike, onesLike, scalar, arange, linspace, eye, asTensor } from './tensor.js';
export type { DType, TypedArray, NestedArray, TensorLike, TensorOptions, FromArrayOptions, Dim, DeviceBuffer } from './tensor.js';
export { noGrad, enableGrad, isGradEnabled } from './tape.js';
export { manualSeed, rand, randn, randint, permutation, Generator, getRngState, setRngState } from './random.js';
export type { GeneratorState, RandomOptions } from './random.js';
export { where, erf } from './ops/elementwise.js';
export { matmul } from './ops/matmul.js';
export { concat, stack, reshape, permute, transpose, expand, squeeze, unsqueeze, slice, pad, sliceScatter } from './ops/movement.js';
export type { SliceSpec } from './ops/movement.js';
export { gather, scatterAdd, indexSelect } from './ops/indexing.js';
export { cumsum } from './ops/scan.js';
export {
  softmax, logSoftmax, logSumExp, variance, std, clamp, gelu, softplus,
  mseLoss, crossEntropy, nllLoss, binaryCrossEntropyWithLogits,
} from './ops/composite.js';
export type { Reduction, CrossEntropyOptions } from './ops/composite.js';
export { grad, valueAndGrad, vjp, hvp } from './autograd/functional.js';
export type { GradOptions } from './autograd/functional.js';
export type { BackwardOptions } from './autograd/backward.js';
export { defineOp } from './autograd/custom.js';
export type { CustomOpSpec } from './autograd/custom.js';
export { checkpoint, checkpointSequential } from './autograd/checkpoint.js';
export type { SequentialStage } from './autograd/checkpoint.js';
export { gradcheck, gradgradcheck, GradcheckError } from './autograd/gradcheck.js';
export type { GradcheckOptions, GradcheckReport, GradcheckWorst } from './autograd/gradcheck.js';
export {
  TapegradError, ShapeError, DTypeError, IndexError, AutogradError, ValueError, FormatError, BackendError, ExportError,
} from './errors.js';
export { broadcastShapes } from './shape.js';
export * as nn from './nn/index.js';
export { DataLoader, datasets } from './data/index.js';
export type { DataLoaderOptions, MnistDigits, MnistDigitsOptions, MnistSplit } from './data/index.js';
export * as optim from './optim/index.js';
export {
  saveSafetensors, loadSafetensors, loadSafetensorsWithMetadata, readSafetensorsHeader, encodeSafetensors,
  decodeSafetensors, decodeSafetensorsWithMetadata, saveCheckpoint, loadCheckpoint, CHECKPOINT_VERSION,
  exportOnnx, exportOnnxBytes,
} from './io/index.js';
export type {
  SafetensorsEntry, SafetensorsHeader, SafetensorsContents, SaveSafetensorsOptions, DecodeOptions, JsonValue, StateValue,
  StatefulModel, Stateful, StatefulGenerator, CheckpointContents, CheckpointTargets, SaveCheckpointOptions,
  LoadCheckpointOptions, LoadedCheckpoint, AtomicWriteOptions, ExportOnnxOptions, Exportable, ExportableModule, DynamicAxes,
} from './io/index.js';
export { setBackend, backendInfo } from './backend/gpu/index.js';
export type { BackendInfo, GpuThresholds, GpuStats } from './backend/gpu/index.js';
/** Performance knobs: setNumThreads, setWasmThresholds, setGpuThresholds, setGpuKernelCacheSize, setCpuKernels, wasmInfo, gpuStats. */
export * as tuning from './tuning.js';
