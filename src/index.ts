/** tapegrad: the public API. */
export {
  Tensor,
  tensor,
  zeros,
  ones,
  full,
  zerosLike,
  onesLike,
  scalar,
  arange,
  linspace,
  eye,
  asTensor,
} from './tensor.js';
export type {
  DType,
  TypedArray,
  NarrowIntArray,
  NestedArray,
  TensorLike,
  TensorOptions,
  FromArrayOptions,
  Dim,
  DeviceBuffer,
} from './tensor.js';
export { noGrad, enableGrad, isGradEnabled, detectAnomaly, setDetectAnomaly, isAnomalyEnabled } from './tape.js';
export { manualSeed, rand, randn, randint, permutation, Generator, getRngState, setRngState } from './random.js';
export type { GeneratorState, RandomOptions } from './random.js';
export { where, erf } from './ops/elementwise.js';
export { matmul } from './ops/matmul.js';
export {
  concat,
  stack,
  reshape,
  permute,
  transpose,
  expand,
  squeeze,
  unsqueeze,
  slice,
  pad,
  sliceScatter,
} from './ops/movement.js';
export type { SliceSpec } from './ops/movement.js';
export { gather, scatterAdd, indexSelect } from './ops/indexing.js';
export { conv1d, conv2d, convTranspose2d, unfold, fold } from './ops/conv.js';
export type { ConvOptions, ConvTransposeOptions, UnfoldOptions } from './ops/conv.js';
export { maxPool1d, maxPool2d, avgPool1d, avgPool2d, adaptiveAvgPool1d, adaptiveAvgPool2d } from './ops/pool.js';
export type { MaxPoolOptions, AvgPoolOptions } from './ops/pool.js';
export { batchNorm, layerNorm, groupNorm, rmsNorm } from './ops/norm.js';
export type { BatchNormOptions, LayerNormFnOptions, RMSNormFnOptions } from './ops/norm.js';
export { cumsum } from './ops/scan.js';
export { softmax, logSoftmax, logSumExp, variance, std, clamp, gelu, softplus } from './ops/composite.js';
export {
  mseLoss,
  crossEntropy,
  nllLoss,
  binaryCrossEntropyWithLogits,
  l1Loss,
  smoothL1Loss,
  huberLoss,
  klDiv,
  binaryCrossEntropy,
} from './nn/losses.js';
export type {
  Reduction,
  CrossEntropyOptions,
  NLLLossOptions,
  LossOptions,
  SmoothL1LossOptions,
  HuberLossOptions,
  KLDivOptions,
  KLDivReduction,
  BCELossOptions,
} from './nn/losses.js';
export {
  expm1,
  log2,
  log10,
  atan,
  asin,
  acos,
  atan2,
  floor,
  ceil,
  round,
  trunc,
} from './ops/elementwise.js';
export {
  tan,
  sinh,
  cosh,
  rsqrt,
  reciprocal,
  logaddexp,
  leakyRelu,
  elu,
  selu,
  silu,
  mish,
  hardtanh,
  relu6,
  logSigmoid,
  glu,
  prod,
  cumprod,
  norm,
  tril,
  triu,
  maskedFill,
  split,
  chunk,
  unbind,
  repeat,
  tile,
  flip,
  roll,
  oneHot,
} from './ops/composite-math.js';
export type { NormOrder } from './ops/composite-math.js';
export { sort, argsort, topk } from './ops/sort.js';
export type { SortResult } from './ops/sort.js';
export { einsum } from './ops/einsum.js';
export { isnan, isinf, isfinite } from './ops/composite.js';
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
  TapegradError,
  ShapeError,
  DTypeError,
  IndexError,
  AutogradError,
  ValueError,
  FormatError,
  BackendError,
  ExportError,
} from './errors.js';
export { broadcastShapes } from './shape.js';
export * as nn from './nn/index.js';
export { DataLoader, datasets } from './data/index.js';
export type { DataLoaderOptions, MnistDigits, MnistDigitsOptions, MnistSplit } from './data/index.js';
export * as optim from './optim/index.js';
export {
  saveSafetensors,
  loadSafetensors,
  loadSafetensorsWithMetadata,
  readSafetensorsHeader,
  encodeSafetensors,
  decodeSafetensors,
  decodeSafetensorsWithMetadata,
  saveCheckpoint,
  loadCheckpoint,
  CHECKPOINT_VERSION,
  exportOnnx,
  exportOnnxBytes,
} from './io/index.js';
export type {
  SafetensorsEntry,
  SafetensorsHeader,
  SafetensorsContents,
  SaveSafetensorsOptions,
  DecodeOptions,
  JsonValue,
  StateValue,
  StatefulModel,
  Stateful,
  StatefulGenerator,
  CheckpointContents,
  CheckpointTargets,
  SaveCheckpointOptions,
  LoadCheckpointOptions,
  LoadedCheckpoint,
  AtomicWriteOptions,
  ExportOnnxOptions,
  Exportable,
  ExportableModule,
  DynamicAxes,
} from './io/index.js';
export { setBackend, backendInfo } from './backend/gpu/index.js';
export type { BackendInfo, GpuThresholds, GpuStats, GpuMemoryLimits } from './backend/gpu/index.js';
export type { GpuMode, SetBackendOptions } from './backend/gpu/index.js';
/** Performance knobs: setNumThreads, setWasmThresholds, setGpuThresholds, setGpuKernelCacheSize, setCpuKernels, wasmInfo, gpuStats. */
export * as tuning from './tuning.js';
export { setPrintOptions, getPrintOptions } from './format.js';
export type { PrintOptions } from './format.js';
export { scaledDotProductAttention, scaledDotProductAttentionWithWeights } from './ops/attention.js';
export type { ScaledDotProductAttentionOptions, AttentionResult } from './ops/attention.js';
export type { Node, OpName, CustomOpName } from './tape.js';
export type { Shape } from './shape.js';
export type { BackendName } from './backend/dispatch.js';
export type { DeviceStorage } from './backend/buffer.js';
export type { ReadLimits } from './io/safetensors.js';
export type { GeluApproximate } from './ops/fused.js';
