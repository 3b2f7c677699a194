/**
 * Modules: a tree of layers that owns parameters and buffers. Children and parameters are found
 * the way PyTorch finds them, by looking at the module's own properties (a `Parameter`, a
 * `Module`, or an array of Modules), plus anything registered explicitly with `registerModule` /
 * `registerParameter` (how `Sequential` names its children "0", "1", …). Buffers (running
 * statistics and other non-trained state) are registered explicitly with `registerBuffer`.
 */
import { bumpVersion } from '../tape.js';
import { checkOptions } from '../validate.js';
import type { DType, TypedArray } from '../dtype.js';
import { DTypeError, ValueError } from '../errors.js';
import { fmt, shapeEq } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkKeys } from '../ops/options.js';
export { checkKeys };

/**
 * A trainable tensor: a leaf that requires grad and that modules collect in `parameters()`.
 * `new Parameter(t)` shares `t`'s storage.
 */
export class Parameter extends Tensor {
  /** Wraps a float tensor's storage (shared) or a typed array; `shape` defaults to the source's shape. */
  constructor(data: Tensor | TypedArray, shape?: readonly number[]) {
    if (data instanceof Tensor) {
      if (data.dtype === 'int32')
        throw new DTypeError(`Parameter: only float tensors can be parameters, got int32 of shape ${fmt(data.shape)}`);
      super(data.data, shape ?? data.shape);
    } else {
      super(data, shape ?? [data.length]);
      if (this.dtype === 'int32')
        throw new DTypeError('Parameter: only float tensors can be parameters, got an Int32Array');
    }
    this.requiresGrad = true;
  }
}

/** A problem loading a state dict: missing or unexpected keys, or a tensor of the wrong shape or dtype. */
export class StateDictError extends ValueError {
  constructor(
    message: string,
    /** Keys the model has that the state dict lacks. */
    readonly missingKeys: readonly string[],
    /** Keys the state dict has that the model lacks. */
    readonly unexpectedKeys: readonly string[],
    /** Keys whose tensor has the wrong shape or dtype (or is not a tensor). */
    readonly mismatched: readonly string[],
  ) {
    super(message);
  }
}

/** Options for `Module.loadStateDict` (torch.nn.Module.load_state_dict). */
export interface LoadStateDictOptions {
  /** Require the keys to match the model's exactly (default true, as PyTorch). */
  strict?: boolean;
}
/** What `loadStateDict` reports (non-strict mode lists the keys that did not match). */
export interface LoadStateDictResult {
  /** Keys the model has that the state dict lacks. */
  missingKeys: string[];
  /** Keys the state dict has that the model lacks. */
  unexpectedKeys: string[];
}

/** Options for `Module.registerBuffer` (torch.nn.Module.register_buffer). */
export interface RegisterBufferOptions {
  /** Part of `stateDict()` (default true, as PyTorch); a non-persistent buffer is state that is rebuilt, not saved. */
  persistent?: boolean;
}

/** Any module, whatever its forward's signature (what `children()` and `modules()` hold). */
export type AnyModule = Module<never[], unknown>;
type Entry = AnyModule | Parameter;
interface Buffer {
  tensor: Tensor | null;
  persistent: boolean;
}

/**
 * Base class of every layer. Subclasses define `forward(...)`; the type parameters say what it
 * takes and returns (by default tensors in, one tensor out), so `const m: nn.Module = new
 * nn.Linear(2, 2); m.forward(x)` type-checks.
 */
export abstract class Module<In extends unknown[] = Tensor[], Out = Tensor> {
  /** True after `train()` (the default), false after `eval()`; read by Dropout, BatchNorm and friends. */
  training = true;
  readonly #registered = new Map<string, Entry | null>();
  readonly #buffers = new Map<string, Buffer>();

  /** The computation; every layer defines it (containers that only hold modules define one that throws). */
  abstract forward(...inputs: In): Out;

  /** The layer's name in messages and `toString()` (the class name by default). */
  get name(): string {
    return this.constructor.name;
  }

  /** Registers (or, with null, hides) a child under an explicit name. */
  protected registerModule(name: string, module: AnyModule | null): void {
    this.#checkName(name);
    this.#registered.set(name, module);
  }
  /** Registers (or, with null, hides) a parameter under an explicit name. */
  protected registerParameter(name: string, param: Parameter | null): void {
    this.#checkName(name);
    this.#registered.set(name, param);
  }
  #checkName(name: string): void {
    if (typeof name !== 'string' || name === '' || name.includes('.')) {
      throw new ValueError(`${this.name}: invalid child name ${JSON.stringify(name)} (a non-empty string without '.')`);
    }
  }

  /**
   * Registers a buffer: a tensor that is part of the module's state but not a parameter (running
   * statistics, say). It is readable and assignable as `this[name]`, lives in `stateDict()`
   * unless `persistent: false`, and `null` registers an absent buffer (left out of the state dict).
   */
  registerBuffer(name: string, tensor: Tensor | null, opts: RegisterBufferOptions = {}): void {
    this.#checkName(name);
    checkKeys(opts, ['persistent'], `${this.name}.registerBuffer`);
    if (tensor !== null && !(tensor instanceof Tensor)) {
      throw new ValueError(
        `${this.name}.registerBuffer: buffer "${name}" must be a Tensor or null, got ${typeof tensor}`,
      );
    }
    if (tensor instanceof Parameter) {
      throw new ValueError(`${this.name}.registerBuffer: "${name}" is a Parameter; register it as a parameter instead`);
    }
    if (this.#registered.has(name))
      throw new ValueError(`${this.name}.registerBuffer: "${name}" is already a child or parameter`);
    const own = Object.getOwnPropertyDescriptor(this, name);
    if (own && !this.#buffers.has(name) && (own.value instanceof Module || own.value instanceof Parameter)) {
      throw new ValueError(`${this.name}.registerBuffer: "${name}" is already a child or parameter`);
    }
    const entry: Buffer = { tensor, persistent: opts.persistent ?? true };
    this.#buffers.set(name, entry);
    const layer = this.name;
    Object.defineProperty(this, name, {
      configurable: true,
      enumerable: false,
      get: () => entry.tensor,
      set: (v: Tensor | null) => {
        if (v !== null && (!(v instanceof Tensor) || v instanceof Parameter)) {
          throw new ValueError(`${layer}: buffer "${name}" can only be set to a Tensor (not a Parameter) or null`);
        }
        entry.tensor = v;
      },
    });
  }
  /** This module's and its descendants' buffers (non-null ones) with their dotted names. */
  namedBuffers(opts: { persistentOnly?: boolean } = {}): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [p, m] of this.namedModules()) {
      for (const [k, b] of m.#buffers) {
        if (b.tensor !== null && (!opts.persistentOnly || b.persistent)) out.push([p ? `${p}.${k}` : k, b.tensor]);
      }
    }
    return out;
  }
  /** This module's and its descendants' non-null buffers (torch.nn.Module.buffers). */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /** Direct entries in a fixed order: explicit registrations, then own properties in definition order. */
  #entries(): [string, Entry][] {
    const out: [string, Entry][] = [];
    for (const [k, v] of this.#registered) if (v !== null) out.push([k, v]);
    for (const [k, v] of Object.entries(this)) {
      if (this.#registered.has(k)) continue;
      if (v instanceof Parameter || v instanceof Module) out.push([k, v]);
      else if (Array.isArray(v) && v.length > 0 && v.every((m) => m instanceof Module)) {
        v.forEach((m: Module, i) => out.push([`${k}.${i}`, m]));
      }
    }
    return out;
  }

  /** Direct sub-modules with their names. */
  namedChildren(): [string, AnyModule][] {
    return this.#entries().filter((e): e is [string, AnyModule] => e[1] instanceof Module);
  }
  /** Direct sub-modules (torch.nn.Module.children). */
  children(): AnyModule[] {
    return this.namedChildren().map(([, m]) => m);
  }
  /** This module and all below it, depth first, each once; the root's name is ''. */
  namedModules(prefix = ''): [string, AnyModule][] {
    const out: [string, AnyModule][] = [];
    const seen = new Set<AnyModule>();
    const visit = (m: AnyModule, p: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([p, m]);
      for (const [k, c] of m.namedChildren()) visit(c, p ? `${p}.${k}` : k);
    };
    visit(this, prefix);
    return out;
  }
  /** This module and all below it, depth first (torch.nn.Module.modules). */
  modules(): AnyModule[] {
    return this.namedModules().map(([, m]) => m);
  }
  /** Every parameter with its dotted path ("0.weight"), each shared parameter once. */
  namedParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Parameter>();
    for (const [p, m] of this.namedModules()) {
      for (const [k, v] of m.#entries()) {
        if (!(v instanceof Parameter) || seen.has(v)) continue;
        seen.add(v);
        out.push([p ? `${p}.${k}` : k, v]);
      }
    }
    return out;
  }
  /** Every parameter, each shared one once (torch.nn.Module.parameters). */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }
  /** Total number of scalar parameters. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }
  /** Clears `.grad` on every parameter. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Sets training mode on this module and every sub-module. */
  train(mode = true): this {
    if (typeof mode !== 'boolean')
      throw new ValueError(`${this.name}.train: mode must be a boolean, got ${typeof mode}`);
    for (const m of this.modules()) m.training = mode;
    return this;
  }
  /** Evaluation mode: `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /**
   * The parameters and persistent buffers by dotted name (each module's parameters, then its
   * buffers, then its children's, as PyTorch orders them), as tensors that share storage with
   * the model and carry no gradient.
   */
  stateDict(): Record<string, Tensor> {
    const sd: Record<string, Tensor> = {};
    for (const [k, t] of this.#stateEntries()) sd[k] = t.detach();
    return sd;
  }
  /** Parameters (each shared one once) and persistent buffers, in state-dict order. */
  #stateEntries(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Parameter>();
    for (const [p, m] of this.namedModules()) {
      for (const [k, v] of m.#entries()) {
        if (!(v instanceof Parameter) || seen.has(v)) continue;
        seen.add(v);
        out.push([p ? `${p}.${k}` : k, v]);
      }
      for (const [k, b] of m.#buffers) if (b.tensor !== null && b.persistent) out.push([p ? `${p}.${k}` : k, b.tensor]);
    }
    return out;
  }

  /**
   * Copies values into the existing parameters and buffers (in place, so optimizers keep their references).
   * Everything is checked before anything is written: missing or unexpected keys (strict mode),
   * and shape or dtype mismatches (always) throw a StateDictError listing every problem.
   */
  loadStateDict(stateDict: Readonly<Record<string, Tensor>>, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    checkOptions('loadStateDict', opts, ['strict']);
    const strict = opts.strict ?? true;
    const own = new Map<string, Tensor>(this.#stateEntries());
    const missingKeys = [...own.keys()].filter((k) => !Object.hasOwn(stateDict, k));
    const unexpectedKeys = Object.keys(stateDict).filter((k) => !own.has(k));
    const mismatched: string[] = [];
    const problems: string[] = [];
    for (const [k, p] of own) {
      if (!Object.hasOwn(stateDict, k)) continue;
      const t = stateDict[k];
      if (!(t instanceof Tensor)) {
        mismatched.push(k);
        problems.push(`"${k}" is not a Tensor (got ${typeof t})`);
      } else if (!shapeEq(t.shape, p.shape)) {
        mismatched.push(k);
        problems.push(`shape mismatch for "${k}": state dict has ${fmt(t.shape)}, model expects ${fmt(p.shape)}`);
      } else if (t.dtype !== p.dtype) {
        mismatched.push(k);
        problems.push(`dtype mismatch for "${k}": state dict has ${t.dtype}, model expects ${p.dtype}`);
      }
    }
    const list = (ks: readonly string[]): string => ks.map((k) => `"${k}"`).join(', ');
    if (strict && unexpectedKeys.length) problems.unshift(`unexpected keys: ${list(unexpectedKeys)}`);
    if (strict && missingKeys.length) problems.unshift(`missing keys: ${list(missingKeys)}`);
    if (problems.length) {
      throw new StateDictError(
        `loadStateDict(${this.name}): ${problems.join('; ')}`,
        missingKeys,
        unexpectedKeys,
        mismatched,
      );
    }
    for (const [k, p] of own) {
      const t = stateDict[k];
      if (t && t !== p) {
        p.data.set(t.data);
        bumpVersion(p);
      }
    }
    return { missingKeys, unexpectedKeys };
  }

  /** A one-line-per-layer summary, e.g. `Sequential(\n  (0): Linear(784 → 128)\n …)`. */
  toString(): string {
    const kids = this.namedChildren();
    const head = `${this.name}${this.extraRepr() ? `(${this.extraRepr()})` : kids.length ? '' : '()'}`;
    if (!kids.length) return head;
    const body = kids.map(([k, m]) => `  (${k}): ${m.toString().split('\n').join('\n  ')}`).join('\n');
    return `${head}(\n${body}\n)`;
  }
  /** Extra text for `toString()` (sizes, options). */
  protected extraRepr(): string {
    return '';
  }
}

/** A module mapping one tensor to one tensor: what `Sequential` chains. */
export interface UnaryModule extends Module {
  forward(x: Tensor): Tensor;
}

/** Checks a layer's dtype option (float layers only). */
export function floatDType(dtype: DType | undefined, layer: string): 'float32' | 'float64' {
  const d = dtype ?? 'float32';
  if (d !== 'float32' && d !== 'float64')
    throw new DTypeError(`${layer}: dtype must be 'float32' or 'float64', got ${JSON.stringify(d)}`);
  return d;
}
