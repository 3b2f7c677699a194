/** `nn`: modules, layers, losses and initialisers. Import as `import { nn } from 'tapegrad'`. */
export { Module, Parameter, StateDictError } from './module.js';
export type { UnaryModule, LoadStateDictOptions, LoadStateDictResult } from './module.js';
export { Linear, Sequential, ReLU, GELU, Tanh, Sigmoid, Identity, Dropout, LayerNorm, Embedding, Flatten } from './layers.js';
export type { LayerOptions, LinearOptions, LayerNormOptions, EmbeddingOptions } from './layers.js';
export {
  mseLoss, crossEntropy, nllLoss, binaryCrossEntropyWithLogits,
  MSELoss, CrossEntropyLoss, NLLLoss, BCEWithLogitsLoss,
} from './losses.js';
export type { LossOptions, CrossEntropyOptions, Reduction } from './losses.js';
export * as init from './init.js';
export type { InitOptions, KaimingOptions, Nonlinearity, FanMode } from './init.js';
