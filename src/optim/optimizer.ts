/**
 * The optimizer base class: parameter groups with per-group options, step / zeroGrad,
 * and a JSON-safe state dict, with PyTorch's semantics (torch/optim/optimizer.py).
 * Subclasses supply option checks, the state a parameter starts with, and the update
 * (which calls a pure kernel from updates.ts).
 */
import { ValueError } from '../errors.js';
import { bumpVersion, noGrad } from '../tape.js';
import { Tensor } from '../tensor.js';
import { decodeValue, encodeValue, isEncodedArray, type StateJson } from './codec.js';
import type { FloatArray } from './updates.js';
import { checkLr, show } from './validate.js';

/** Options every parameter group has. */
export interface BaseGroupOptions {
  lr: number;
}
/** A parameter group as the optimizer holds it: the parameters and every option, filled in from the defaults. */
export type ParamGroup<O extends BaseGroupOptions = BaseGroupOptions> = O & {
  params: Tensor[];
  /** Set by learning-rate schedulers: the lr the schedule starts from. */
  initialLr?: number;
};
/** A parameter group as the user writes it: options left out take the optimizer's defaults. */
export type ParamGroupInput<O extends BaseGroupOptions = BaseGroupOptions> = Partial<O> & {
  params: Iterable<Tensor>;
  initialLr?: number;
};
/** Parameters to optimize: tensors, or parameter groups with their own options. */
export type Params<O extends BaseGroupOptions = BaseGroupOptions> = Iterable<Tensor> | Iterable<ParamGroupInput<O>>;

/** Options of the optimizer itself (not per group). */
export interface OptimizerOptions {
  /**
   * When true, a step() that finds a NaN or ±Infinity in any gradient changes nothing
   * (parameters and state stay as they were), returns false and sets `lastStepSkipped`.
   * When false (the default) non-finite values propagate into parameters as in PyTorch.
   */
  skipNonFinite?: boolean;
}

/** Per-parameter state: step counters and other scalars, and buffers of the parameter's dtype. */
export type ParamState = Record<string, number | FloatArray>;

/** The JSON-safe snapshot returned by `stateDict()`; `JSON.parse(JSON.stringify(sd))` loads back bit-exactly. */
export interface OptimizerStateDict {
  /** Which optimizer wrote it ('Adam', 'SGD', …). */
  optimizer: string;
  /** Per-parameter state keyed by the parameter's index across all groups, in order. */
  state: { [index: string]: { [key: string]: StateJson } };
  /** Each group's options, with `params` holding parameter indices. */
  paramGroups: { [key: string]: StateJson; params: number[] }[];
}

const isTensor = (v: unknown): v is Tensor => v instanceof Tensor;

/** A zero-filled state buffer with the dtype and size of a parameter (or of its data). */
export function zerosFor(p: Tensor | FloatArray): FloatArray {
  if (p instanceof Tensor) return p.dtype === 'float64' ? new Float64Array(p.size) : new Float32Array(p.size);
  return p instanceof Float64Array ? new Float64Array(p.length) : new Float32Array(p.length);
}

export abstract class Optimizer<O extends BaseGroupOptions = BaseGroupOptions, S extends ParamState = ParamState> {
  /** The optimizer's name, used in messages and state dicts. */
  readonly name: string;
  /** Options a group gets when it does not set them. */
  readonly defaults: Readonly<O>;
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state, created at a parameter's first update. */
  readonly state = new Map<Tensor, S>();
  skipNonFinite: boolean;
  /** True when the last step() was skipped because of a non-finite gradient (see `skipNonFinite`). */
  lastStepSkipped = false;

  protected constructor(name: string, params: Params<O>, defaults: O, options: OptimizerOptions = {}) {
    this.name = name;
    if (options.skipNonFinite !== undefined && typeof options.skipNonFinite !== 'boolean') {
      throw new ValueError(`${name}: option skipNonFinite must be a boolean, got ${show(options.skipNonFinite)}`);
    }
    this.skipNonFinite = options.skipNonFinite ?? false;
    this.checkGroup(defaults, `${name}`);
    this.defaults = Object.freeze({ ...defaults });
    if (params === null || typeof params !== 'object' || !(Symbol.iterator in params)) {
      throw new ValueError(`${name}: params must be an iterable of Tensors or of parameter groups, got ${show(params)}`);
    }
    const list: unknown[] = [...(params as Iterable<unknown>)];
    if (list.length === 0) throw new ValueError(`${name}: optimizer got an empty parameter list`);
    if (list.every(isTensor)) this.addParamGroup({ params: list } as unknown as ParamGroupInput<O>);
    else for (const g of list) this.addParamGroup(g as ParamGroupInput<O>);
  }

  /** Throws a `ValueError` naming the option and value when a group's options are invalid. */
  protected abstract checkGroup(options: O, where: string): void;
  /** The state a parameter starts with, before its first update. */
  protected abstract initState(param: Tensor, group: ParamGroup<O>): S;
  /** Applies one update in place (called with gradient recording off). */
  protected abstract updateParam(param: FloatArray, grad: FloatArray, state: S, group: ParamGroup<O>): void;
  /** The keys a parameter's state may have (checked by loadStateDict). */
  protected abstract get stateKeys(): readonly string[];

  /** Adds a parameter group; its options default to the optimizer's. */
  addParamGroup(input: ParamGroupInput<O>): void {
    const gi = this.paramGroups.length;
    const where = `${this.name}: param group ${gi}`;
    if (input === null || typeof input !== 'object' || !('params' in input)) {
      throw new ValueError(`${where} must be an object with a params field, got ${show(input)}`);
    }
    const raw: unknown = input.params;
    const params: unknown[] = isTensor(raw) ? [raw] : raw !== null && typeof raw === 'object' && Symbol.iterator in raw ? [...(raw as Iterable<unknown>)] : [];
    if (params.length === 0) throw new ValueError(`${where}: params must be a non-empty list of Tensors, got ${show(raw)}`);
    const seen = new Set<Tensor>();
    for (const g of this.paramGroups) for (const p of g.params) seen.add(p);
    params.forEach((p, i) => {
      if (!isTensor(p)) throw new ValueError(`${where}: parameter ${i} is not a Tensor (got ${typeof p})`);
      if (p.dtype !== 'float32' && p.dtype !== 'float64') throw new ValueError(`${where}: parameter ${i} has dtype ${p.dtype}; only float32 and float64 can be optimized`);
      if (!p.requiresGrad) throw new ValueError(`${where}: parameter ${i} (shape [${p.shape.join(',')}]) does not require grad; create it with requiresGrad: true`);
      if (!p.isLeaf) throw new ValueError(`${where}: parameter ${i} is not a leaf tensor; optimize the leaves (use detach().requiresGrad_())`);
      if (seen.has(p)) throw new ValueError(`${where}: parameter ${i} appears more than once (in this or another parameter group)`);
      seen.add(p);
    });
    const known = new Set([...Object.keys(this.defaults), 'params', 'initialLr']);
    for (const k of Object.keys(input)) {
      if (!known.has(k)) throw new ValueError(`${where}: unknown option ${k} (known: ${[...known].filter((x) => x !== 'params').join(', ')})`);
    }
    const opts = { ...this.defaults } as Record<string, unknown>;
    for (const [k, v] of Object.entries(input)) if (k !== 'params' && v !== undefined) opts[k] = Array.isArray(v) ? [...v] : v;
    for (const [k, v] of Object.entries(opts)) if (Array.isArray(v)) opts[k] = [...v];
    this.checkGroup(opts as unknown as O, where);
    if (opts.initialLr !== undefined) checkLr(`${where} (initialLr)`, opts.initialLr);
    this.paramGroups.push({ ...opts, params: params as Tensor[] } as ParamGroup<O>);
  }

  /**
   * Updates every parameter that has a gradient (parameters whose `.grad` is null are skipped).
   * Returns true, or false when the step was skipped for a non-finite gradient (`skipNonFinite`).
   */
  step(): boolean {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        const g = p.grad;
        if (g === null) continue;
        if (g.size !== p.size || g.dtype !== p.dtype) {
          throw new ValueError(`${this.name}.step: gradient of shape [${g.shape.join(',')}] ${g.dtype} does not match its parameter of shape [${p.shape.join(',')}] ${p.dtype}`);
        }
        if (this.skipNonFinite) {
          const d = g.data;
          for (let i = 0; i < d.length; i++) {
            if (!Number.isFinite(d[i]!)) {
              this.lastStepSkipped = true;
              return false;
            }
          }
        }
      }
    }
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          if (p.grad === null) continue;
          let s = this.state.get(p);
          if (s === undefined) {
            s = this.initState(p, group);
            this.state.set(p, s);
          }
          this.updateParam(p.data as FloatArray, p.grad.data as FloatArray, s, group);
          bumpVersion(p); // a forward recorded before this step can no longer be differentiated
        }
      }
    });
    this.lastStepSkipped = false;
    return true;
  }

  /** Clears gradients: sets `.grad` to null (PyTorch's default), or fills it with zeros when `setToNone` is false. */
  zeroGrad(setToNone = true): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (setToNone) p.grad = null;
        else if (p.grad !== null) p.grad.data.fill(0);
      }
    }
  }

  /** A JSON-safe snapshot of every group's options and every parameter's state (copied, not shared). */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    let next = 0;
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...opts } = g;
      const enc = encodeValue(opts) as { [key: string]: StateJson };
      return { ...enc, params: params.map((p) => (index.set(p, next), next++)) };
    });
    const state: OptimizerStateDict['state'] = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[String(i)] = encodeValue(s) as { [key: string]: StateJson };
    }
    return { optimizer: this.name, state, paramGroups };
  }

  /** Restores a snapshot from `stateDict()` (of an optimizer of the same kind over parameters of the same shapes). */
  loadStateDict(sd: OptimizerStateDict): void {
    const where = `${this.name}.loadStateDict`;
    if (sd === null || typeof sd !== 'object' || !Array.isArray(sd.paramGroups) || sd.state === null || typeof sd.state !== 'object') {
      throw new ValueError(`${where}: expected an object { optimizer, state, paramGroups }, got ${show(sd)}`);
    }
    if (sd.optimizer !== this.name) {
      throw new ValueError(`${where}: the state dict is from optimizer ${show(sd.optimizer)}, this optimizer is '${this.name}'`);
    }
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new ValueError(`${where}: the state dict has ${sd.paramGroups.length} parameter group(s), this optimizer has ${this.paramGroups.length}`);
    }
    const all: Tensor[] = [];
    const groupOf: ParamGroup<O>[] = [];
    const newOpts = sd.paramGroups.map((sg, gi) => {
      const mine = this.paramGroups[gi]!;
      if (!Array.isArray(sg.params) || sg.params.length !== mine.params.length) {
        throw new ValueError(`${where}: param group ${gi} has ${Array.isArray(sg.params) ? sg.params.length : show(sg.params)} parameter(s) in the state dict, ${mine.params.length} here`);
      }
      for (const p of mine.params) (all.push(p), groupOf.push(mine));
      const { params: _ignored, ...rest } = sg;
      const opts = decodeValue(rest, `${where}: param group ${gi}`) as Record<string, unknown>;
      const known = new Set([...Object.keys(this.defaults), 'initialLr']);
      for (const k of Object.keys(opts)) if (!known.has(k)) throw new ValueError(`${where}: param group ${gi} has unknown option ${k}`);
      const merged = { ...this.defaults, ...opts } as unknown as O;
      this.checkGroup(merged, `${where}: param group ${gi}`);
      return merged;
    });
    const newState = new Map<Tensor, S>();
    const allowed = new Set(this.stateKeys);
    for (const [key, entry] of Object.entries(sd.state)) {
      const i = Number(key);
      if (!Number.isInteger(i) || i < 0 || i >= all.length) {
        throw new ValueError(`${where}: state for parameter index ${show(key)}, but there are ${all.length} parameters`);
      }
      const p = all[i]!;
      const s = decodeValue(entry, `${where}: state ${i}`);
      if (s === null || typeof s !== 'object' || Array.isArray(s)) throw new ValueError(`${where}: state ${i} must be an object, got ${show(entry)}`);
      for (const [k, v] of Object.entries(s as Record<string, unknown>)) {
        if (!allowed.has(k)) throw new ValueError(`${where}: state ${i} has key ${k}, which ${this.name} does not use (expected ${[...allowed].join(', ')})`);
        const raw = (entry as Record<string, unknown>)[k];
        if (isEncodedArray(raw)) {
          if (raw.dtype !== p.dtype || raw.length !== p.size) {
            throw new ValueError(`${where}: state ${i}.${k} holds ${raw.length} ${raw.dtype} values, but parameter ${i} has shape [${p.shape.join(',')}] (${p.size} values) and dtype ${p.dtype}`);
          }
        } else if (typeof v !== 'number') {
          throw new ValueError(`${where}: state ${i}.${k} must be a number or an encoded array, got ${show(raw)}`);
        }
      }
      newState.set(p, s as S);
    }
    // Everything checked: commit.
    this.paramGroups.forEach((g, gi) => Object.assign(g, newOpts[gi]));
    this.state.clear();
    for (const [p, s] of newState) this.state.set(p, s);
  }
}
