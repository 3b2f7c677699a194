/** tapegrad optim: optimizers, learning-rate schedulers, gradient clipping, multi-task gradients. */
export { Optimizer, zerosFor } from './optimizer.js';
export type {
  BaseGroupOptions,
  ParamGroup,
  ParamGroupInput,
  Params,
  OptimizerOptions,
  ParamState,
  OptimizerStateDict,
} from './optimizer.js';
export { GD, SGD } from './sgd.js';
export { defineOptimizer } from './optimizer.js';
export type { OptimizerDef, OptimizerClass, Slots } from './optimizer.js';
export type { Field, Fields, RangeSpec } from './validate.js';
export { fields } from './validate.js';
export type { GDOptions, SGDOptions, SGDState } from './sgd.js';
export { Adam, AdamW } from './adam.js';
export type { AdamOptions, AdamState } from './adam.js';
export { RMSprop } from './rmsprop.js';
export type { RMSpropOptions, RMSpropState } from './rmsprop.js';
export { Adagrad } from './adagrad.js';
export type { AdagradOptions, AdagradState } from './adagrad.js';
export { Adamax } from './adamax.js';
export type { AdamaxOptions, AdamaxState } from './adamax.js';
export { NAdam } from './nadam.js';
export type { NAdamOptions, NAdamState } from './nadam.js';
export { Lion } from './lion.js';
export type { LionOptions, LionState } from './lion.js';
export { RAdam } from './radam.js';
export type { RAdamOptions, RAdamState } from './radam.js';
export { Adadelta } from './adadelta.js';
export type { AdadeltaOptions, AdadeltaState } from './adadelta.js';
export { Rprop } from './rprop.js';
export type { RpropOptions, RpropState } from './rprop.js';
export { ASGD } from './asgd.js';
export type { ASGDOptions, ASGDState } from './asgd.js';
export { Adafactor } from './adafactor.js';
export type { AdafactorOptions, AdafactorState } from './adafactor.js';
export { Muon } from './muon.js';
export type { MuonOptions, MuonState } from './muon.js';
export { LBFGS, cubicInterpolate } from './lbfgs.js';
export type { LBFGSOptions, LBFGSState } from './lbfgs.js';
export {
  radamUpdate,
  adadeltaUpdate,
  rpropUpdate,
  asgdUpdate,
  asgdSchedule,
  adafactorUpdate,
  muonUpdate,
  newtonSchulz,
  muonAdjustedLr,
} from './updates.js';
export { clipGradNorm, clipGradValue } from './clip.js';
export type { ClipGradNormOptions } from './clip.js';
export {
  sgdUpdate,
  adamUpdate,
  rmspropUpdate,
  adagradUpdate,
  adamaxUpdate,
  nadamUpdate,
  nadamMu,
  lionUpdate,
  lerp,
  getUpdateKernel,
  setUpdateKernel,
  resetUpdateKernel,
  defaultUpdateKernel,
} from './updates.js';
export type {
  FloatArray,
  UpdateKernels,
  UpdateKernelName,
} from './updates.js';
export type { StateJson, EncodedArray, EncodedNumber } from './codec.js';
export {
  LRScheduler,
  StepLR,
  MultiStepLR,
  ExponentialLR,
  CosineAnnealingLR,
  LinearLR,
  LambdaLR,
  OneCycleLR,
  SequentialLR,
  ReduceLROnPlateau,
} from './schedulers.js';
export type { AnyOptimizer, SchedulerStateDict, OneCycleLROptions, ReduceLROnPlateauOptions } from './schedulers.js';
export { ConstantLR, PolynomialLR, CosineAnnealingWarmRestarts, CyclicLR, ChainedScheduler } from './schedulers.js';
export type { CyclicLROptions } from './schedulers.js';
export { multiTaskBackward } from './multitask.js';
export type { MultiTaskOptions, MultiTaskReport } from './multitask.js';
export * as swa from './swa.js';
export { AveragedModel, SWALR, updateBn, getEmaMultiAvgFn, getSwaMultiAvgFn, getEmaAvgFn, getSwaAvgFn } from './swa.js';
export type { AvgFn, MultiAvgFn, AveragedModelOptions, SWALROptions } from './swa.js';
export type { MultiTaskMethod } from './multitask.js';
export { GradNorm, UncertaintyWeighting, DWA } from './multitask-weighting.js';
export type { WeightingReport, GradNormOptions, GradNormReport } from './multitask-weighting.js';
// Schedule-Free, Prodigy, LAMB, LARS (issue 14)
export { SGDScheduleFree, AdamWScheduleFree } from './schedulefree.js';
export type {
  SGDScheduleFreeOptions,
  AdamWScheduleFreeOptions,
  SGDScheduleFreeState,
  AdamWScheduleFreeState,
} from './schedulefree.js';
export type { ScheduleFreeState } from './schedulefree.js';
export { Prodigy } from './prodigy.js';
export type { ProdigyOptions, ProdigyState, ProdigyEstimate, ProdigyStateDict } from './prodigy.js';
export { Lamb, Lars } from './lamb.js';
export type { LambOptions, LambState, LarsOptions, LarsState } from './lamb.js';
export {
  sgdScheduleFreeUpdate,
  adamwScheduleFreeUpdate,
  prodigyAccumulate,
  prodigyStep,
  lambUpdate,
  larsUpdate,
} from './updates.js';
export type { ScheduleFreeScalars, ProdigyScalars } from './updates.js';
