/** `nn`: modules, layers, losses and initialisers. Import as `import { nn } from 'tapegrad'`. */
export { Module, Parameter, StateDictError } from './module.js';
export type {
  UnaryModule,
  AnyModule,
  LoadStateDictOptions,
  LoadStateDictResult,
  RegisterBufferOptions,
} from './module.js';
export { ModuleList, ModuleDict } from './container.js';
export { Conv1d, Conv2d, ConvTranspose2d, MaxPool1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d } from './conv.js';
export type { ConvLayerOptions, ConvTransposeLayerOptions } from './conv.js';
export { BatchNorm1d, BatchNorm2d, GroupNorm, RMSNorm } from './norm.js';
export type { BatchNormLayerOptions, GroupNormLayerOptions, RMSNormLayerOptions } from './norm.js';
export {
  Linear,
  Sequential,
  ReLU,
  GELU,
  Tanh,
  Sigmoid,
  Identity,
  Dropout,
  LayerNorm,
  Embedding,
  Flatten,
} from './layers.js';
export type { LayerOptions, LinearOptions, LayerNormOptions, EmbeddingOptions } from './layers.js';
export {
  mseLoss,
  crossEntropy,
  nllLoss,
  binaryCrossEntropyWithLogits,
  MSELoss,
  CrossEntropyLoss,
  NLLLoss,
  BCEWithLogitsLoss,
  l1Loss,
  smoothL1Loss,
  huberLoss,
  klDiv,
  binaryCrossEntropy,
  L1Loss,
  SmoothL1Loss,
  HuberLoss,
  KLDivLoss,
  BCELoss,
} from './losses.js';
export type {
  LossOptions,
  CrossEntropyOptions,
  Reduction,
  NLLLossOptions,
  SmoothL1LossOptions,
  HuberLossOptions,
  KLDivOptions,
  KLDivReduction,
  BCELossOptions,
} from './losses.js';
export {
  LeakyReLU,
  ELU,
  SELU,
  SiLU,
  Mish,
  Hardtanh,
  ReLU6,
  LogSigmoid,
  GLU,
  Softmax,
  LogSoftmax,
} from './activation.js';
export {
  leakyRelu,
  elu,
  selu,
  silu,
  mish,
  hardtanh,
  relu6,
  logSigmoid,
  glu,
  oneHot,
} from '../ops/composite-math.js';
export { softmax, logSoftmax, gelu } from '../ops/composite.js';
export * as init from './init.js';
export type { InitOptions, KaimingOptions, Nonlinearity, FanMode } from './init.js';
export { MultiheadAttention, TransformerEncoderLayer } from './attention.js';
export type {
  MultiheadAttentionOptions,
  MultiheadAttentionForwardOptions,
  TransformerEncoderLayerOptions,
  TransformerEncoderLayerForwardOptions,
  TransformerActivation,
} from './attention.js';
export { RNNBase, RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell } from './recurrent.js';
export type { RecurrentMode, RecurrentOptions, RNNOptions, CellOptions, RNNCellOptions } from './recurrent.js';
export { scaledDotProductAttention } from '../ops/attention.js';
