/** `nn`: modules, layers, losses and initialisers. Import as `import { nn } from 'tapegrad'`. */
export { Module, Parameter, StateDictError } from './module.js';
export type { UnaryModule, LoadStateDictOptions, LoadStateDictResult } from './module.js';
export { Linear, Sequential, ReLU, GELU, Tanh, Sigmoid, Identity, Dropout, LayerNorm, Embedding, Flatten } from './layers.js';
export type { LayerOptions, LinearOptions, LayerNormOptions } from './layers.js';
export {
  mseLoss, crossEntropy, nllLoss, binaryCrossEntropyWithLogits,
  MSELoss, CrossEntropyLoss, NLLLoss, BCEWithLogitsLoss,
  l1Loss, smoothL1Loss, huberLoss, klDiv, binaryCrossEntropy, L1Loss, SmoothL1Loss, HuberLoss, KLDivLoss, BCELoss,
} from './losses.js';
export type {
  LossOptions, CrossEntropyOptions, Reduction, NLLLossOptions, SmoothL1LossOptions, HuberLossOptions, KLDivOptions,
  KLDivReduction, BCELossOptions,
} from './losses.js';
export {
  LeakyReLU, ELU, SELU, SiLU, Mish, Hardtanh, ReLU6, LogSigmoid, GLU, Softmax, LogSoftmax,
} from './activation.js';
export {
  leakyRelu, elu, selu, silu, mish, hardtanh, relu6, logSigmoid, glu, oneHot,
} from '../ops/composite-math.js';
export { softmax, logSoftmax, gelu } from '../ops/composite.js';
export * as init from './init.js';
export type { InitOptions, KaimingOptions, Nonlinearity, FanMode } from './init.js';
