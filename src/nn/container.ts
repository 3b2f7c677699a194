/** Containers that hold sub-modules without chaining them: ModuleList and ModuleDict, as in PyTorch. */
import { IndexError, ValueError } from '../errors.js';
import { Module, type AnyModule } from './module.js';

function checkModule(m: unknown, op: string): AnyModule {
  if (!(m instanceof Module)) throw new ValueError(`${op}: expected a Module, got ${m === null ? 'null' : typeof m}`);
  return m as AnyModule;
}

/**
 * A list of modules, registered as children "0", "1", … (so their parameters and buffers are the
 * container's, under the same names as PyTorch's nn.ModuleList). It has no forward of its own.
 */
export class ModuleList<M extends AnyModule = AnyModule> extends Module<never[], never> {
  readonly #items: M[] = [];
  constructor(modules: Iterable<M> = []) {
    super();
    this.extend(modules);
  }
  /** Number of modules. */
  get length(): number {
    return this.#items.length;
  }
  #index(i: number, op: string, n = this.#items.length): number {
    if (!Number.isInteger(i) || i < -n || i >= n) {
      throw new IndexError(`ModuleList.${op}: index ${i} is out of range for ${this.#items.length} modules`);
    }
    return i < 0 ? i + n : i;
  }
  /** The module at `i` (negative counts from the end). */
  at(i: number): M {
    return this.#items[this.#index(i, 'at')]!;
  }
  /** Replaces the module at `i`. */
  set(i: number, m: M): this {
    const j = this.#index(i, 'set');
    this.#items[j] = checkModule(m, 'ModuleList.set') as M;
    this.registerModule(String(j), m);
    return this;
  }
  /** Adds a module at the end (torch.nn.ModuleList.append). */
  append(m: M): this {
    this.#items.push(checkModule(m, 'ModuleList.append') as M);
    this.registerModule(String(this.#items.length - 1), m);
    return this;
  }
  /** Adds every module of `ms` at the end (torch.nn.ModuleList.extend). */
  extend(ms: Iterable<M>): this {
    for (const m of ms) this.append(m);
    return this;
  }
  /** Inserts before index `i` (0 ≤ i ≤ length, or negative); later modules are renumbered. */
  insert(i: number, m: M): this {
    const n = this.#items.length;
    const j = i === n ? n : this.#index(i, 'insert', n);
    this.#items.splice(j, 0, checkModule(m, 'ModuleList.insert') as M);
    for (let k = j; k < this.#items.length; k++) this.registerModule(String(k), this.#items[k]!);
    return this;
  }
  /** Iterates over the modules in order. */
  [Symbol.iterator](): Iterator<M> {
    return this.#items[Symbol.iterator]();
  }
  forward(): never {
    throw new ValueError('ModuleList: has no forward(); iterate over it and call each module');
  }
}

/**
 * A string-keyed map of modules, registered as children under their keys (insertion order), as
 * PyTorch's nn.ModuleDict. It has no forward of its own.
 */
export class ModuleDict<M extends AnyModule = AnyModule> extends Module<never[], never> {
  readonly #items = new Map<string, M>();
  constructor(modules: Readonly<Record<string, M>> | Iterable<readonly [string, M]> = {}) {
    super();
    const entries =
      Symbol.iterator in modules ? [...(modules as Iterable<readonly [string, M]>)] : Object.entries(modules);
    for (const [k, m] of entries) this.set(k, m);
  }
  /** Number of modules. */
  get size(): number {
    return this.#items.size;
  }
  /** Whether a module is stored under `key`. */
  has(key: string): boolean {
    return this.#items.has(key);
  }
  /** The module under `key`; throws when there is none. */
  get(key: string): M {
    const m = this.#items.get(key);
    if (!m)
      throw new IndexError(
        `ModuleDict.get: no module under key ${JSON.stringify(key)} (keys:` + ` ${[...this.#items.keys()].join(', ')})`,
      );
    return m;
  }
  /** Stores (or replaces) the module under `key`. */
  set(key: string, m: M): this {
    this.registerModule(key, checkModule(m, 'ModuleDict.set'));
    this.#items.set(key, m);
    return this;
  }
  /** Removes and returns the module under `key`. */
  pop(key: string): M {
    const m = this.get(key);
    this.#items.delete(key);
    this.registerModule(key, null);
    return m;
  }
  /** The keys, in insertion order. */
  keys(): string[] {
    return [...this.#items.keys()];
  }
  /** The modules, in insertion order. */
  values(): M[] {
    return [...this.#items.values()];
  }
  /** [key, module] pairs, in insertion order. */
  entries(): [string, M][] {
    return [...this.#items.entries()];
  }
  forward(): never {
    throw new ValueError('ModuleDict: has no forward(); call the modules it holds');
  }
}
