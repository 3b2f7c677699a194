/**
 * Fused optimizer updates that a backend OFFERS over plain float buffers (in place). The optimizer
 * side (optim/updates.ts) asks `fusedUpdates()` before running its reference update; a kernel
 * returns false to decline (dtype, size, mode), and the next one or the reference runs instead.
 * backend/ never imports optim/: these are the only types the two sides share.
 */
export type FloatArray = Float32Array | Float64Array;

/** Adam/AdamW hyper-parameters for one step (the fields of optim's AdamOptions that the update reads). */
export interface AdamStepHyper {
  readonly lr: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  /** L2 penalty added to the gradient, or with decoupledWeightDecay the decay rate. */
  readonly weightDecay: number;
  /** θ ← θ·(1 − lr·wd) before the step instead of an L2 term (AdamW). */
  readonly decoupledWeightDecay: boolean;
  readonly maximize: boolean;
}
/** SGD hyper-parameters for one step (the fields of optim's SGDOptions). */
export interface SgdStepHyper {
  readonly lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  readonly maximize: boolean;
}

/** Schedule-Free AdamW hyper-parameters for one step (optim's AdamWScheduleFreeOptions, without inner momentum). */
export interface AdamWScheduleFreeStepHyper {
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
}
/** LAMB hyper-parameters for one step (the fields of optim's LambOptions). */
export interface LambStepHyper {
  readonly lr: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly epsRoot: number;
  readonly weightDecay: number;
}

/** Muon hyper-parameters for one step (optim's MuonOptions; lr scales the weight decay, the step uses adjustedLr). */
export interface MuonStepHyper {
  readonly lr: number;
  readonly weightDecay: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly nsCoefficients: readonly [number, number, number];
  readonly eps: number;
  readonly nsSteps: number;
}
/** Adafactor hyper-parameters for one step (the fields of optim's AdafactorOptions). */
export interface AdafactorStepHyper {
  readonly lr: number;
  readonly beta2Decay: number;
  readonly eps: readonly [number | null, number];
  readonly d: number;
  readonly weightDecay: number;
  readonly maximize: boolean;
}

export interface FusedUpdates {
  /** Adam/AdamW (no AMSGrad) at 1-based `step`; true when it ran. */
  adam(param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, h: AdamStepHyper, step: number): boolean;
  /** SGD; `buf` is null without momentum, `firstStep` means it is not initialised yet. True when it ran. */
  sgd(param: FloatArray, grad: FloatArray, buf: FloatArray | null, h: SgdStepHyper, firstStep: boolean): boolean;
  /** Schedule-Free AdamW without inner momentum at 0-based step k, scheduled lr and average weight ckp1; true when it ran. */
  adamwScheduleFree?(
    y: FloatArray,
    grad: FloatArray,
    z: FloatArray,
    v: FloatArray,
    h: AdamWScheduleFreeStepHyper,
    sc: { readonly lr: number; readonly ckp1: number },
    k: number,
  ): boolean;
  /** LAMB at 1-based `count` (the trust ratio over the whole tensor); true when it ran. */
  lamb?(param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, h: LambStepHyper, count: number): boolean;
  /** Muon on a rows×cols matrix with the shape-adjusted lr `adjustedLr`; true when it ran. */
  muon?(
    param: FloatArray,
    grad: FloatArray,
    buf: FloatArray,
    rows: number,
    cols: number,
    h: MuonStepHyper,
    adjustedLr: number,
  ): boolean;
  /** Adafactor at 1-based `step`: rowVar and colVar for ≥ 2-D `shape`, else variance; true when it ran. */
  adafactor?(
    param: FloatArray,
    grad: FloatArray,
    rowVar: FloatArray | null,
    colVar: FloatArray | null,
    variance: FloatArray | null,
    shape: readonly number[],
    h: AdafactorStepHyper,
    step: number,
  ): boolean;
}

/** Who may offer kernels, in the order they are asked. */
export type FusedProvider = 'gpu' | 'wasm';
const ORDER: readonly FusedProvider[] = ['gpu', 'wasm'];
const offers = new Map<FusedProvider, FusedUpdates>();
let active: readonly FusedUpdates[] = [];

/** A backend offers (or, with null, withdraws) its fused update kernels. */
export function offerFusedUpdates(by: FusedProvider, kernels: FusedUpdates | null): void {
  if (kernels) offers.set(by, kernels);
  else offers.delete(by);
  active = ORDER.flatMap((p) => offers.get(p) ?? []);
}
/** The offered kernels, best first. */
export const fusedUpdates = (): readonly FusedUpdates[] => active;
