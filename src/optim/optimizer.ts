/**
 * Optimizers are declared, not subclassed: an `OptimizerDef` gives the options (each with its default
 * and check), the per-parameter state (a slot table the compiler checks against the state type) with
 * its `init`, and a pure `update` over typed arrays. One driver, `Optimizer`, does the rest once, with
 * PyTorch's semantics (torch/optim/optimizer.py): param groups, step (with a closure), zeroGrad,
 * skipNonFinite, and a JSON-safe state dict that is validated before anything is loaded.
 */
import { ValueError } from '../errors.js';
import { bumpVersion, enableGrad, noGrad } from '../tape.js';
import { Tensor } from '../tensor.js';
import {
  decodeValue,
  encodeValue,
  isEncodedArray,
  isObject,
  show,
  type FloatArray,
  type StateJson,
} from '../io/codec.js';
import { checkLr, type Field, type Fields } from './validate.js';

/** Options every parameter group has. */
export interface BaseGroupOptions {
  /** Learning rate. */
  lr: number;
}
/** A parameter group as the optimizer holds it: the parameters and every option, filled in from the defaults. */
export type ParamGroup<O extends BaseGroupOptions = BaseGroupOptions> = O & {
  /** The group's parameters. */
  params: Tensor[];
  /** Set by learning-rate schedulers: the lr the schedule starts from. */
  initialLr?: number;
};
/** A parameter group as the user writes it: options left out take the optimizer's defaults. */
export type ParamGroupInput<O extends BaseGroupOptions = BaseGroupOptions> = Partial<O> & {
  /** The group's parameters. */
  params: Iterable<Tensor>;
  /** The lr schedulers start from (default: the group's lr). */
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
/**
 * What each state key holds, as checked on load: `count` a non-negative integer, `number` a finite
 * number, `buffer` an array of the parameter's dtype and size, `buffer?` the same or absent (created lazily),
 * `array` / `array?` an array of the parameter's dtype of another length (Adafactor's row and column
 * factors, L-BFGS's history), whose length the declaration's `checkState` checks.
 */
export type Slots<S> = {
  readonly [K in keyof S]-?: undefined extends S[K]
    ? 'buffer?' | 'array?'
    : S[K] extends number
      ? 'count' | 'number'
      : S[K] extends FloatArray
        ? 'buffer' | 'array'
        : 'count' | 'number' | 'buffer' | 'buffer?' | 'array' | 'array?';
};

/** An optimizer, declared: see docs/optimizers.md ("Declaring an optimizer"). */
export interface OptimizerDef<O extends BaseGroupOptions, S extends ParamState> {
  /** Used in messages, state dicts and checkpoints ('Adam'). */
  readonly name: string;
  /** Every option with its default and check; the keys are the only options accepted. */
  readonly options: Fields<O>;
  /** Checks across options (nesterov needs momentum); throws a ValueError naming them. */
  check?(o: O, where: string): void;
  /** Checks a parameter when it is added (Muon takes only matrices); throws a named error. */
  checkParam?(shape: readonly number[], where: string): void;
  /** The state keys and what they hold. */
  readonly state: Slots<S>;
  /** Checks a loaded state beyond its slots (the lengths of `array` slots); throws a ValueError naming the key. */
  checkState?(s: S, shape: readonly number[], o: O, where: string): void;
  /** The state a parameter starts with, before its first update (`shape`: the parameter's shape). */
  init(param: FloatArray, o: O, shape: readonly number[]): S;
  /** One update in place of `param` and `state` (run with gradient recording off). */
  update(param: FloatArray, grad: FloatArray, state: S, o: O, shape: readonly number[]): void;
}

/** The JSON-safe snapshot returned by `stateDict()`; `JSON.parse(JSON.stringify(sd))` loads back bit-exactly. */
export interface OptimizerStateDict {
  /** Which optimizer wrote it ('Adam', 'SGD', …). */
  optimizer: string;
  /** Per-parameter state keyed by the parameter's index across all groups, in order. */
  state: { [index: string]: { [key: string]: StateJson } };
  /** Each group's options, with `params` holding parameter indices. */
  paramGroups: {
    [key: string]: StateJson;
    /** Indices of the group's parameters. */
    params: number[];
  }[];
}

const isTensor = (v: unknown): v is Tensor => v instanceof Tensor;
const shape = (p: Tensor): string => `[${p.shape.join(',')}]`;

/** A zero-filled state buffer with the dtype and size of a parameter (or of its data). */
export function zerosFor(p: Tensor | FloatArray): FloatArray {
  const n = p instanceof Tensor ? p.size : p.length;
  const f64 = p instanceof Tensor ? p.dtype === 'float64' : p instanceof Float64Array;
  return f64 ? new Float64Array(n) : new Float32Array(n);
}

/** The driver every declared optimizer runs on. */
export class Optimizer<O extends BaseGroupOptions = BaseGroupOptions, S extends ParamState = ParamState> {
  /** The optimizer's name, used in messages and state dicts. */
  readonly name: string;
  /** Options a group gets when it does not set them. */
  readonly defaults: Readonly<O>;
  /** The parameter groups, each with its parameters and its options (torch: param_groups). */
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state, created at a parameter's first update. */
  readonly state = new Map<Tensor, S>();
  /** Skip a step that finds a non-finite gradient (see `OptimizerOptions.skipNonFinite`). */
  skipNonFinite: boolean;
  /** True when the last step() was skipped because of a non-finite gradient (see `skipNonFinite`). */
  lastStepSkipped = false;
  readonly #def: OptimizerDef<O, S>;

  constructor(def: OptimizerDef<O, S>, params: Params<O>, options: Partial<O> & OptimizerOptions = {}) {
    this.#def = def;
    const name = (this.name = def.name);
    if (!isObject(options)) throw new ValueError(`${name}: options must be an object, got ${show(options)}`);
    const { skipNonFinite, ...rest } = options;
    if (skipNonFinite !== undefined && typeof skipNonFinite !== 'boolean') {
      throw new ValueError(`${name}: option skipNonFinite must be a boolean, got ${show(skipNonFinite)}`);
    }
    this.skipNonFinite = skipNonFinite ?? false;
    const base = Object.fromEntries(Object.entries(def.options).map(([k, f]) => [k, (f as Field<unknown>).default]));
    this.defaults = Object.freeze(this.#fill(base as unknown as O, rest, name, ['skipNonFinite']));
    if (params === null || typeof params !== 'object' || !(Symbol.iterator in params)) {
      throw new ValueError(
        `${name}: params must be an iterable of Tensors or of parameter groups, got ${show(params)}`,
      );
    }
    const list: unknown[] = [...(params as Iterable<unknown>)];
    if (list.length === 0) throw new ValueError(`${name}: optimizer got an empty parameter list`);
    if (list.every(isTensor)) this.addParamGroup({ params: list } as unknown as ParamGroupInput<O>);
    else for (const g of list) this.addParamGroup(g as ParamGroupInput<O>);
  }

  /** `base` with `input`'s options laid over it, every key known and every value checked. */
  #fill(base: O, input: Record<string, unknown>, where: string, extra: string[] = []): O {
    const known = Object.keys(this.#def.options);
    for (const k of Object.keys(input)) {
      if (!known.includes(k) && !extra.includes(k)) {
        throw new ValueError(
          `${where}: unknown option ${k} (known: ${[...known, ...extra.filter((x) => x !== 'params')].join(', ')})`,
        );
      }
    }
    const o: Record<string, unknown> = { ...(base as object) };
    for (const [k, v] of Object.entries(input)) if (known.includes(k) && v !== undefined) o[k] = v;
    for (const [k, v] of Object.entries(o)) if (Array.isArray(v)) o[k] = [...v];
    for (const k of known) (this.#def.options as Record<string, Fields<O>[keyof O]>)[k]!.check(where, k, o[k]);
    this.#def.check?.(o as unknown as O, where);
    return o as unknown as O;
  }

  /** Adds a parameter group; its options default to the optimizer's. */
  addParamGroup(input: ParamGroupInput<O>): void {
    const where = `${this.name}: param group ${this.paramGroups.length}`;
    if (!isObject(input) || !('params' in input))
      throw new ValueError(`${where} must be an object with a params field, got ${show(input)}`);
    const raw: unknown = input.params;
    const iterable = raw !== null && typeof raw === 'object' && Symbol.iterator in raw;
    const params: unknown[] = isTensor(raw) ? [raw] : iterable ? [...(raw as Iterable<unknown>)] : [];
    if (params.length === 0)
      throw new ValueError(`${where}: params must be a non-empty list of Tensors, got ${show(raw)}`);
    const seen = new Set<Tensor>(this.paramGroups.flatMap((g) => g.params));
    params.forEach((p, i) => {
      const what = `${where}: parameter ${i}`;
      if (!isTensor(p)) throw new ValueError(`${what} is not a Tensor (got ${typeof p})`);
      if (p.dtype !== 'float32' && p.dtype !== 'float64') {
        throw new ValueError(`${what} has dtype ${p.dtype}; only float32 and float64 can be optimized`);
      }
      if (!p.requiresGrad)
        throw new ValueError(`${what} (shape ${shape(p)}) does not require grad; create it with requiresGrad: true`);
      if (!p.isLeaf)
        throw new ValueError(`${what} is not a leaf tensor; optimize the leaves (use detach().requiresGrad_())`);
      if (seen.has(p)) throw new ValueError(`${what} appears more than once (in this or another parameter group)`);
      this.#def.checkParam?.(p.shape, what);
      seen.add(p);
    });
    const opts = this.#fill(this.defaults, input, where, ['params', 'initialLr']);
    const group = { ...opts, params: params as Tensor[] } as ParamGroup<O>;
    if (input.initialLr !== undefined) group.initialLr = checkLr(`${where} (initialLr)`, input.initialLr);
    this.paramGroups.push(group);
  }

  /**
   * Updates every parameter that has a gradient (parameters whose `.grad` is null are skipped).
   * Without a closure, returns true, or false when the step was skipped for a non-finite gradient
   * (`skipNonFinite`). With one, runs it first with gradient recording on (it should zero the
   * gradients, recompute the loss and call backward) and returns what it returned, as PyTorch does.
   */
  step(): boolean;
  step<L>(closure: () => L): L;
  step<L>(closure?: () => L): boolean | L {
    if (closure !== undefined && typeof closure !== 'function') {
      throw new ValueError(`${this.name}.step: closure must be a function returning the loss, got ${show(closure)}`);
    }
    const loss = closure === undefined ? undefined : enableGrad(closure);
    const done = this.#update();
    return closure === undefined ? done : (loss as L);
  }

  #update(): boolean {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        const g = p.grad;
        if (g === null) continue;
        if (g.size !== p.size || g.dtype !== p.dtype) {
          throw new ValueError(
            `${this.name}.step: gradient of shape [${g.shape.join(',')}] ${g.dtype} does not match its parameter of shape ${shape(p)} ${p.dtype}`,
          );
        }
        if (this.skipNonFinite && !g.data.every((x) => Number.isFinite(x))) return !(this.lastStepSkipped = true);
      }
    }
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          if (p.grad === null) continue;
          const param = p.data as FloatArray;
          let s = this.state.get(p);
          if (s === undefined) this.state.set(p, (s = this.#def.init(param, group, p.shape)));
          this.#def.update(param, p.grad.data as FloatArray, s, group, p.shape);
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
    const paramGroups = this.paramGroups.map(({ params, ...opts }) => {
      const enc = encodeValue(opts) as { [key: string]: StateJson };
      return { ...enc, params: params.map((p) => (index.set(p, index.size), index.size - 1)) };
    });
    const state: OptimizerStateDict['state'] = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[String(i)] = encodeValue(s) as { [key: string]: StateJson };
    }
    return { optimizer: this.name, state, paramGroups };
  }

  /**
   * Restores a snapshot from `stateDict()` (of an optimizer of the same kind over parameters of the same
   * shapes). Everything is checked first — options, every state key against the optimizer's slots, step
   * counters, buffer dtypes and sizes — and a failed load changes nothing.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const where = `${this.name}.loadStateDict`;
    if (!isObject(sd) || !Array.isArray(sd.paramGroups) || !isObject(sd.state)) {
      throw new ValueError(`${where}: expected an object { optimizer, state, paramGroups }, got ${show(sd)}`);
    }
    if (sd.optimizer !== this.name) {
      throw new ValueError(
        `${where}: the state dict is from optimizer ${show(sd.optimizer)}, this optimizer is '${this.name}'`,
      );
    }
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new ValueError(
        `${where}: the state dict has ${sd.paramGroups.length} parameter group(s), this optimizer has ${this.paramGroups.length}`,
      );
    }
    const all = this.paramGroups.flatMap((g) => g.params);
    const newOpts = sd.paramGroups.map((sg: unknown, gi) => {
      const at = `${where}: param group ${gi}`,
        n = this.paramGroups[gi]!.params.length;
      if (!isObject(sg) || !Array.isArray(sg.params) || sg.params.length !== n) {
        throw new ValueError(
          `${at} has ${isObject(sg) && Array.isArray(sg.params) ? sg.params.length : show(sg)} parameter(s) in the state dict, ${n} here`,
        );
      }
      const { params: _ignored, initialLr, ...rest } = decodeValue(sg, at) as Record<string, unknown>;
      const opts = this.#fill(this.defaults, rest, at) as unknown as Record<string, unknown>;
      if (initialLr !== undefined) opts.initialLr = checkLr(`${at} (initialLr)`, initialLr);
      return opts;
    });
    const newState = new Map<Tensor, S>();
    const slots = this.#def.state as Record<string, Slots<S>[keyof S]>;
    const expected = Object.entries(slots)
      .map(([k, v]) => (v.endsWith('?') ? `${k}?` : k))
      .join(', ');
    const groupOf = (p: Tensor) => newOpts[this.paramGroups.findIndex((g) => g.params.includes(p))]!;
    for (const [key, entry] of Object.entries(sd.state)) {
      const i = Number(key),
        p = all[i];
      if (!/^\d+$/.test(key) || p === undefined) {
        throw new ValueError(
          `${where}: state for parameter index ${show(key)}, but there are ${all.length} parameters`,
        );
      }
      const at = `${where}: state ${i}`;
      if (!isObject(entry)) throw new ValueError(`${at} must be an object, got ${show(entry)}`);
      const s = decodeValue(entry, at) as Record<string, unknown>;
      for (const [k, v] of Object.entries(s)) {
        const slot = slots[k],
          raw = entry[k];
        if (slot === undefined)
          throw new ValueError(`${at} has key ${k}, which ${this.name} does not use (expected ${expected})`);
        if (slot === 'buffer' || slot === 'buffer?') {
          if (!isEncodedArray(raw))
            throw new ValueError(`${at}.${k} must be an encoded ${p.dtype} array, got ${show(raw)}`);
          if (raw.dtype !== p.dtype || raw.length !== p.size) {
            throw new ValueError(
              `${at}.${k} holds ${raw.length} ${raw.dtype} values, but parameter ${i} has shape ${shape(p)} (${p.size} values) and dtype ${p.dtype}`,
            );
          }
        } else if (slot === 'array' || slot === 'array?') {
          if (!isEncodedArray(raw) || raw.dtype !== p.dtype) {
            throw new ValueError(`${at}.${k} must be an encoded ${p.dtype} array, got ${show(raw)}`);
          }
        } else if (
          typeof v !== 'number' ||
          !Number.isFinite(v) ||
          (slot === 'count' && !(Number.isSafeInteger(v) && v >= 0))
        ) {
          const want = slot === 'count' ? 'a non-negative integer' : 'a finite number';
          throw new ValueError(`${at}.${k} must be ${want}, got ${typeof v === 'number' ? String(v) : show(raw)}`);
        }
      }
      const missing = Object.keys(slots).filter((k) => !slots[k]!.endsWith('?') && !(k in s));
      if (missing.length)
        throw new ValueError(`${at} is missing ${missing.join(', ')} (${this.name} keeps ${expected})`);
      this.#def.checkState?.(s as S, p.shape, groupOf(p) as unknown as O, at);
      newState.set(p, s as S);
    }
    // Everything checked: commit.
    this.paramGroups.forEach((g, gi) => Object.assign(g, newOpts[gi]));
    this.state.clear();
    for (const [p, s] of newState) this.state.set(p, s);
  }
}

/** The class of a declared optimizer: `new Adam(params, options)`. */
export interface OptimizerClass<O extends BaseGroupOptions, S extends ParamState> {
  new (params: Params<O>, options?: Partial<O> & OptimizerOptions): Optimizer<O, S>;
  /** The declaration, to build a variant from (AdamW is Adam's with other options). */
  readonly def: OptimizerDef<O, S>;
}

/** Turns a declaration into a class: `export class Adam extends defineOptimizer(adam) {}`. */
export function defineOptimizer<O extends BaseGroupOptions, S extends ParamState>(
  def: OptimizerDef<O, S>,
): OptimizerClass<O, S> {
  return class extends Optimizer<O, S> {
    static readonly def = def;
    constructor(params: Params<O>, options: Partial<O> & OptimizerOptions = {}) {
      super(def, params, options);
    }
  };
}
