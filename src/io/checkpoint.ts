/**
 * Training checkpoints: model weights, optimizer and scheduler state, step, RNG state and any extra
 * JSON, in ONE safetensors file, written atomically (temp file + fsync + rename).
 *
 * Layout (format version 1):
 * - the model's `stateDict()` tensors under their own names, so the file is an ordinary safetensors
 *   weights file that PyTorch / HF tooling can open;
 * - tensors found inside optimizer / scheduler / extra state under reserved names `__state__/…`
 *   (Tensors, Float32/Float64/Int32 arrays, optimizers' base64-encoded buffers, and plain number
 *   arrays of 64+ elements, stored as F64), so every value, NaN and -0 included, survives exactly,
 *   bulk state is binary, and the JSON header stays small;
 * - `__metadata__`: `tapegrad.format` = "checkpoint", `tapegrad.version` = "1", and
 *   `tapegrad.state` = JSON of { step, rng, generators, optimizer: { kind, state }, scheduler, extra }
 *   where a tensor inside a state is the marker `{ "$tensor": "__state__/…" }`.
 *
 * A single file (rather than a directory) is what makes the replacement truly atomic: one rename
 * swaps the old checkpoint for the complete new one, with no window where neither exists.
 */
import { MAX_STATE_DEPTH, nestingDepth } from '../validate.js';
import type { TypedArray } from '../dtype.js';
import { FormatError, ValueError } from '../errors.js';
import { getRngState, setRngState, type GeneratorState } from '../random.js';
import { Tensor } from '../tensor.js';
import { writeFileAtomic, type AtomicWriteOptions } from './atomic.js';
import { decodeArray, decodeNumber, encodeNumber, isObject as isObj, kindOf, setOwn, typeName } from './codec.js';
import { encode, SafetensorsReader, type SafetensorsEntry } from './safetensors.js';

/** Format version written into checkpoints; loadCheckpoint reads only this version. */
export const CHECKPOINT_VERSION = 1;
const STATE_PREFIX = '__state__/';
/** Plain number arrays at least this long are stored as F64 tensors instead of JSON. */
const ARRAY_AS_TENSOR = 64;

/** A JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What optimizer, scheduler and extra state may hold: JSON plus tensors and typed arrays. */
export type StateValue =
  | null
  | boolean
  | number
  | string
  | Tensor
  | Float32Array
  | Float64Array
  | Int32Array
  | StateValue[]
  | { [key: string]: StateValue };

/** A model: anything with a tensor state dict (nn.Module fits). */
export interface StatefulModel {
  /** The model's tensors by name. */
  stateDict(): Record<string, Tensor>;
  /** Copies tensors into the model. */
  loadStateDict(stateDict: Record<string, Tensor>, opts?: { strict?: boolean }): void;
}

/** An optimizer or scheduler: anything whose state round-trips through `StateValue`s. */
export interface Stateful {
  /** The state, as JSON-compatible values and tensors. */
  stateDict(): unknown;
  /** Restores what stateDict returned. */
  loadStateDict(state: unknown): void;
}

/** A random generator whose state can be saved (tapegrad's `Generator` fits). */
export interface StatefulGenerator {
  /** The generator's state. */
  getState(): GeneratorState;
  /** Restores a state from getState. */
  setState(state: GeneratorState): unknown;
}

/** What `saveCheckpoint` saves. */
export interface CheckpointContents {
  /** The model whose state dict is saved. */
  model: StatefulModel;
  /** An optimizer whose state is saved. */
  optimizer?: Stateful;
  /** A learning-rate scheduler whose state is saved. */
  scheduler?: Stateful;
  /** Training step (a non-negative integer, default 0). */
  step?: number;
  /** RNG state to save: `true` (default) saves the global generator's, `false` none, or an explicit state. */
  rng?: boolean | GeneratorState;
  /** Further generators (e.g. a DataLoader's) whose state is saved by name. */
  generators?: Record<string, StatefulGenerator>;
  /** Anything else to keep: JSON, Tensors and typed arrays (see `StateValue`). */
  extra?: unknown;
}

/** Options of `saveCheckpoint`. */
export type SaveCheckpointOptions = AtomicWriteOptions;

/** What `loadCheckpoint` restores into. */
export interface CheckpointTargets {
  /** The model to load the weights into. */
  model: StatefulModel;
  /** An optimizer to restore. */
  optimizer?: Stateful;
  /** A scheduler to restore. */
  scheduler?: Stateful;
  /** Named generators to restore, under the names they were saved with. */
  generators?: Record<string, StatefulGenerator>;
}

/** Options of `loadCheckpoint`. */
export interface LoadCheckpointOptions {
  /**
   * Default true: the checkpoint's weights must match the model's names exactly, an optimizer,
   * scheduler or generator passed in must have saved state of the same kind in the checkpoint.
   * With false, missing pieces are skipped and the model is loaded with `{ strict: false }`.
   */
  strict?: boolean;
  /** Restore the global RNG state saved with the checkpoint (default true). */
  restoreRng?: boolean;
}

/** What `loadCheckpoint` returns besides restoring the targets. */
export interface LoadedCheckpoint {
  /** The step saved with the checkpoint (0 if none). */
  step: number;
  /** The `extra` value saved with the checkpoint, if any. */
  extra: StateValue | undefined;
  /** The global RNG state saved with the checkpoint, if any. */
  rng: GeneratorState | undefined;
}

interface StateDoc {
  step: number;
  rng?: GeneratorState;
  generators?: Record<string, GeneratorState>;
  optimizer?: { kind: string; state: JsonValue };
  scheduler?: { kind: string; state: JsonValue };
  extra?: JsonValue;
}

// ---------------------------------------------------------------------------------------------
// helpers

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isRngState = (v: unknown): v is GeneratorState => isObj(v) && isCount(v['seed']) && isCount(v['offset']);
const list = (names: string[]): string =>
  names
    .slice(0, 8)
    .map((n) => JSON.stringify(n))
    .join(', ') + (names.length > 8 ? `, … (${names.length} in all)` : '');

// ---------------------------------------------------------------------------------------------
// state encoding: StateValue <-> JSON with tensor markers

class Encoder {
  readonly tensors: Record<string, Tensor> = {};
  private readonly ids = new Map<object, string>();
  private n = 0;
  private readonly stack = new Set<object>();
  constructor(private readonly op: string) {}

  private add(kind: string, source: object, t: () => Tensor): string {
    let key = this.ids.get(source);
    if (key === undefined) {
      key = `${STATE_PREFIX}${kind}/${this.n++}`;
      this.ids.set(source, key);
      setOwn(this.tensors, key, t());
    }
    return key;
  }

  encode(v: unknown, what: string, path: string): JsonValue {
    const fail = (why: string): ValueError =>
      new ValueError(
        `${this.op}: ${what} at ${path || '(root)'} ${why}; a checkpoint holds JSON values, Tensors and Float32/Float64/Int32 arrays`,
      );
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
    if (typeof v === 'number') return encodeNumber(v) as JsonValue;
    if (typeof v !== 'object') throw fail(`is ${v === undefined ? 'undefined' : `a ${typeof v}`}`);
    if (v instanceof Tensor) return { $tensor: this.add(what.split(' ')[0]!, v, () => v) };
    if (v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array) {
      return { $typed: this.add(what.split(' ')[0]!, v, () => new Tensor(v as TypedArray, [v.length])) };
    }
    if (ArrayBuffer.isView(v)) throw fail(`is a ${kindOf(v)}, which cannot be saved`);
    if (this.stack.has(v)) throw fail('refers back to itself (a cycle)');
    this.stack.add(v);
    try {
      if (Array.isArray(v)) {
        if (v.length >= ARRAY_AS_TENSOR && v.every((x) => typeof x === 'number')) {
          return {
            $f64: this.add(what.split(' ')[0]!, v, () => new Tensor(Float64Array.from(v as number[]), [v.length])),
          };
        }
        return Array.from({ length: v.length }, (_, i) =>
          v[i] === undefined ? null : this.encode(v[i], what, `${path}[${i}]`),
        );
      }
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) throw fail(`is a ${kindOf(v)}, which cannot be saved`);
      const packed = base64Array(v as Record<string, unknown>);
      if (packed) return { $b64: this.add(what.split(' ')[0]!, v, () => packed) };
      const out: Record<string, JsonValue> = {};
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined) continue;
        setOwn(out, k.startsWith('$') ? `$${k}` : k, this.encode(x, what, path ? `${path}.${k}` : k));
      }
      return out;
    } finally {
      this.stack.delete(v);
    }
  }
}

/**
 * Optimizers serialize their buffers as `{ dtype: 'float32' | 'float64', length, base64 }` (see
 * optim/codec.ts) so their state dicts are plain JSON. In a checkpoint such an object is moved out of
 * the JSON header into a binary tensor (4/3 smaller, and the header stays far below its 100 MB
 * limit) and rebuilt byte for byte on load. Anything not exactly in that canonical form stays JSON.
 */
function base64Array(o: Record<string, unknown>): Tensor | undefined {
  const keys = Object.keys(o);
  if (keys.length !== 3 || !hasOwn(o, 'dtype') || !hasOwn(o, 'length') || !hasOwn(o, 'base64')) return undefined;
  const { dtype, length, base64 } = o;
  if ((dtype !== 'float32' && dtype !== 'float64') || typeof length !== 'number' || typeof base64 !== 'string')
    return undefined;
  const data = decodeArray({ dtype, length, base64 }, 'saveCheckpoint', true);
  return data && new Tensor(data, [length]);
}

class Decoder {
  private readonly cache = new Map<string, StateValue>();
  constructor(
    private readonly tensors: Record<string, Tensor>,
    private readonly fail: (problem: string) => FormatError,
  ) {}

  private tensor(key: unknown, path: string): Tensor {
    if (typeof key !== 'string' || !hasOwn(this.tensors, key)) {
      throw this.fail(
        `state at ${path || '(root)'} refers to tensor ${JSON.stringify(key)}, which the file does not contain`,
      );
    }
    return this.tensors[key]!;
  }

  decode(v: unknown, path: string): StateValue {
    if (v === null || typeof v === 'boolean' || typeof v === 'string' || typeof v === 'number') return v;
    if (Array.isArray(v)) return v.map((x, i) => this.decode(x, `${path}[${i}]`));
    if (!isObj(v)) throw this.fail(`state at ${path || '(root)'} is not JSON`);
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0]!.startsWith('$') && !keys[0]!.startsWith('$$')) {
      const m = keys[0]!;
      const arg = v[m];
      const cacheKey = `${m}:${String(arg)}`;
      const hit = this.cache.get(cacheKey);
      if (hit !== undefined) return hit;
      let out: StateValue;
      if (m === '$num') {
        const x = decodeNumber(arg);
        if (x === undefined)
          throw this.fail(`state at ${path || '(root)'} has an invalid number marker ${JSON.stringify(arg)}`);
        return x;
      } else if (m === '$tensor') {
        out = this.tensor(arg, path);
      } else if (m === '$typed') {
        out = this.tensor(arg, path).data;
      } else if (m === '$b64') {
        const t = this.tensor(arg, path);
        if ((t.dtype !== 'float32' && t.dtype !== 'float64') || t.ndim !== 1)
          throw this.fail(`state at ${path || '(root)'}: tensor ${JSON.stringify(arg)} should be a 1-d float array`);
        const d = t.data;
        out = {
          dtype: t.dtype,
          length: d.length,
          base64: Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64'),
        };
      } else if (m === '$f64') {
        const t = this.tensor(arg, path);
        if (t.dtype !== 'float64' || t.ndim !== 1)
          throw this.fail(`state at ${path || '(root)'}: tensor ${JSON.stringify(arg)} should be a 1-d float64 array`);
        out = Array.from(t.data);
      } else {
        throw this.fail(`state at ${path || '(root)'} has an unknown marker ${JSON.stringify(m)}`);
      }
      this.cache.set(cacheKey, out);
      return out;
    }
    const out: Record<string, StateValue> = {};
    for (const k of keys) {
      if (k.startsWith('$') && !k.startsWith('$$'))
        throw this.fail(`state at ${path || '(root)'} has a stray marker key ${JSON.stringify(k)}`);
      const name = k.startsWith('$') ? k.slice(1) : k;
      setOwn(out, name, this.decode(v[k], path ? `${path}.${name}` : name));
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// save

function checkStateful(x: unknown, what: string, op: string, needsTensors = false): void {
  const o = x as { stateDict?: unknown; loadStateDict?: unknown } | null;
  if (
    typeof o !== 'object' ||
    o === null ||
    typeof o.stateDict !== 'function' ||
    typeof o.loadStateDict !== 'function'
  ) {
    throw new ValueError(
      `${op}: ${what} must be an object with stateDict() and loadStateDict()${needsTensors ? ' (an nn.Module)' : ''}, got ${typeName(x)}`,
    );
  }
}

function modelTensors(model: StatefulModel, op: string): Record<string, Tensor> {
  const sd: unknown = model.stateDict();
  if (!isObj(sd))
    throw new ValueError(`${op}: model.stateDict() must return an object of Tensors, got ${typeName(sd)}`);
  const out: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(sd)) {
    if (!(t instanceof Tensor))
      throw new ValueError(`${op}: model.stateDict()["${name}"] is not a Tensor (got ${typeName(t)})`);
    if (name.startsWith(STATE_PREFIX))
      throw new ValueError(
        `${op}: model tensor name "${name}" starts with "${STATE_PREFIX}", which checkpoints reserve`,
      );
    setOwn(out, name, t);
  }
  return out;
}

/**
 * Saves a training checkpoint to one safetensors file at `path`, atomically: until the new file is
 * complete and durable the previous checkpoint at `path` stays in place, and a failed save leaves
 * no temp file. Everything is snapshotted synchronously when the call is made.
 */
export async function saveCheckpoint(
  path: string,
  contents: CheckpointContents,
  opts: SaveCheckpointOptions = {},
): Promise<void> {
  const op = 'saveCheckpoint';
  if (!isObj(contents))
    throw new ValueError(
      `${op}: contents must be an object { model, optimizer?, scheduler?, step?, rng?, extra? }, got ${typeName(contents)}`,
    );
  checkStateful(contents.model, 'model', op, true);
  const tensors = modelTensors(contents.model, op);
  const step = contents.step ?? 0;
  if (!isCount(step)) throw new ValueError(`${op}: step must be a non-negative integer, got ${String(step)}`);
  const doc: StateDoc = { step };

  const rng = contents.rng ?? true;
  if (rng === true) doc.rng = getRngState();
  else if (rng !== false) {
    if (!isRngState(rng))
      throw new ValueError(`${op}: rng must be true, false or a { seed, offset } state, got ${JSON.stringify(rng)}`);
    doc.rng = { seed: rng.seed, offset: rng.offset };
  }
  if (contents.generators !== undefined) {
    if (!isObj(contents.generators))
      throw new ValueError(`${op}: generators must be an object of generators, got ${typeName(contents.generators)}`);
    const gens: Record<string, GeneratorState> = {};
    for (const [name, g] of Object.entries(contents.generators)) {
      const s: unknown =
        typeof (g as Partial<StatefulGenerator> | null)?.getState === 'function' ? g.getState() : undefined;
      if (!isRngState(s))
        throw new ValueError(`${op}: generators["${name}"] must have getState() returning { seed, offset }`);
      setOwn(gens, name, { seed: s.seed, offset: s.offset });
    }
    doc.generators = gens;
  }

  for (const [what, v] of [
    ['extra', contents.extra],
    ['optimizer state', contents.optimizer?.stateDict?.()],
  ] as const) {
    if (nestingDepth(v) > MAX_STATE_DEPTH)
      throw new ValueError(`${op}: ${what} is nested more than ${MAX_STATE_DEPTH} levels deep`);
  }
  const enc = new Encoder(op);
  if (contents.optimizer !== undefined) {
    checkStateful(contents.optimizer, 'optimizer', op);
    doc.optimizer = {
      kind: kindOf(contents.optimizer),
      state: enc.encode(contents.optimizer.stateDict(), 'optimizer state', ''),
    };
  }
  if (contents.scheduler !== undefined) {
    checkStateful(contents.scheduler, 'scheduler', op);
    doc.scheduler = {
      kind: kindOf(contents.scheduler),
      state: enc.encode(contents.scheduler.stateDict(), 'scheduler state', ''),
    };
  }
  if (contents.extra !== undefined) doc.extra = enc.encode(contents.extra, 'extra state', '');
  for (const [k, t] of Object.entries(enc.tensors)) setOwn(tensors, k, t);

  const metadata = {
    'tapegrad.format': 'checkpoint',
    'tapegrad.version': String(CHECKPOINT_VERSION),
    'tapegrad.state': JSON.stringify(doc),
  };
  const bytes = encode(op, tensors, metadata);
  await writeFileAtomic(path, [bytes], opts);
}

// ---------------------------------------------------------------------------------------------
// load

const FILE_DTYPE: Record<string, string> = {
  F32: 'float32',
  F64: 'float64',
  I32: 'int32',
  F16: 'float32',
  BF16: 'float32',
};

function parseDoc(md: Record<string, string>, r: SafetensorsReader): StateDoc {
  const format = md['tapegrad.format'];
  if (format === undefined) {
    throw r.fail(
      'is a safetensors file but not a tapegrad checkpoint (its __metadata__ has no "tapegrad.format"); plain weight files load with loadSafetensors',
    );
  }
  if (format !== 'checkpoint') throw r.fail(`is a tapegrad ${JSON.stringify(format)} file, not a checkpoint`);
  const version = md['tapegrad.version'];
  if (version !== String(CHECKPOINT_VERSION)) {
    throw r.fail(
      `checkpoint format version ${JSON.stringify(version ?? null)} is not supported (this tapegrad reads version ${CHECKPOINT_VERSION})`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(md['tapegrad.state'] ?? '');
  } catch (e) {
    throw r.fail(
      `checkpoint state ("tapegrad.state" in __metadata__) is not valid JSON (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  const bad = (what: string): FormatError => r.fail(`checkpoint state is malformed: ${what}`);
  if (nestingDepth(doc) > MAX_STATE_DEPTH) throw bad(`nested more than ${MAX_STATE_DEPTH} levels deep`);
  if (!isObj(doc)) throw bad('not an object');
  if (!isCount(doc['step'])) throw bad(`"step" must be a non-negative integer, got ${JSON.stringify(doc['step'])}`);
  if (doc['rng'] !== undefined && !isRngState(doc['rng']))
    throw bad(`"rng" must be { seed, offset }, got ${JSON.stringify(doc['rng'])}`);
  if (doc['generators'] !== undefined) {
    if (!isObj(doc['generators'])) throw bad('"generators" must be an object');
    for (const [k, s] of Object.entries(doc['generators']))
      if (!isRngState(s)) throw bad(`generators[${JSON.stringify(k)}] must be { seed, offset }`);
  }
  for (const part of ['optimizer', 'scheduler'] as const) {
    const p = doc[part];
    if (p !== undefined && (!isObj(p) || typeof p['kind'] !== 'string' || !hasOwn(p, 'state')))
      throw bad(`"${part}" must be { kind, state }`);
  }
  return doc as unknown as StateDoc;
}

/**
 * Restores a checkpoint written by `saveCheckpoint` into `targets` and returns `{ step, extra, rng }`.
 * The file, its state and (in strict mode) the match between its weights and the model are all
 * checked before anything is allocated or restored; a bad file is a `FormatError`. All or nothing:
 * when any target refuses its state (an optimizer validates every step counter and buffer), the
 * targets already restored are put back as they were and nothing else is touched.
 */
export async function loadCheckpoint(
  path: string,
  targets: CheckpointTargets,
  opts: LoadCheckpointOptions = {},
): Promise<LoadedCheckpoint> {
  const op = 'loadCheckpoint';
  const strict = opts.strict ?? true;
  if (!isObj(targets))
    throw new ValueError(
      `${op}: targets must be an object { model, optimizer?, scheduler? }, got ${typeName(targets)}`,
    );
  checkStateful(targets.model, 'model', op, true);
  if (targets.optimizer !== undefined) checkStateful(targets.optimizer, 'optimizer', op);
  if (targets.scheduler !== undefined) checkStateful(targets.scheduler, 'scheduler', op);

  const r = await SafetensorsReader.open(path, op);
  try {
    const doc = parseDoc(r.header.metadata, r);
    const modelEntries: SafetensorsEntry[] = [];
    const stateEntries: SafetensorsEntry[] = [];
    for (const e of r.header.tensors) (e.name.startsWith(STATE_PREFIX) ? stateEntries : modelEntries).push(e);

    // Match the weights against the model before reading any of them.
    const current = modelTensors(targets.model, op);
    const inFile = new Map(modelEntries.map((e) => [e.name, e]));
    const missing = Object.keys(current).filter((k) => !inFile.has(k));
    const unexpected = modelEntries.map((e) => e.name).filter((k) => !hasOwn(current, k));
    if (strict && (missing.length || unexpected.length)) {
      const parts = [
        missing.length ? `missing from the checkpoint: ${list(missing)}` : '',
        unexpected.length ? `not in the model: ${list(unexpected)}` : '',
      ];
      throw r.fail(`weights do not match the model (strict): ${parts.filter(Boolean).join('; ')}`);
    }
    for (const [name, t] of Object.entries(current)) {
      const e = inFile.get(name);
      if (!e) continue;
      if (e.shape.length !== t.shape.length || e.shape.some((d, i) => d !== t.shape[i])) {
        throw r.fail(
          `has shape [${e.shape.join(',')}] in the checkpoint but [${t.shape.join(',')}] in the model`,
          name,
        );
      }
      if (FILE_DTYPE[e.dtype] !== t.dtype)
        throw r.fail(`is ${e.dtype} in the checkpoint but ${t.dtype} in the model`, name);
    }
    for (const part of ['optimizer', 'scheduler'] as const) {
      const target = targets[part];
      const saved = doc[part];
      if (target === undefined || !strict) continue;
      if (!saved)
        throw r.fail(`has no ${part} state, but a ${part} was given to restore (pass { strict: false } to skip it)`);
      if (saved.kind !== kindOf(target))
        throw r.fail(`${part} state was saved from ${saved.kind} and cannot be loaded into ${kindOf(target)} (strict)`);
    }
    if (targets.generators !== undefined && strict) {
      for (const name of Object.keys(targets.generators)) {
        if (!doc.generators || !hasOwn(doc.generators, name))
          throw r.fail(`has no state for generator ${JSON.stringify(name)} (pass { strict: false } to skip it)`);
      }
    }

    // Read, then decode every state, then restore: nothing is touched if any step fails.
    const weights: Record<string, Tensor> = {};
    for (const e of modelEntries) setOwn(weights, e.name, await r.read(e));
    const stateTensors: Record<string, Tensor> = {};
    for (const e of stateEntries) setOwn(stateTensors, e.name, await r.read(e));
    const dec = new Decoder(stateTensors, (p) => r.fail(p));
    const optState = targets.optimizer && doc.optimizer ? dec.decode(doc.optimizer.state, '') : undefined;
    const schedState = targets.scheduler && doc.scheduler ? dec.decode(doc.scheduler.state, '') : undefined;
    const extra = doc.extra === undefined ? undefined : dec.decode(doc.extra, '');

    // Restore. A target that refuses its state (each load is itself all-or-nothing) undoes the ones
    // restored before it from their snapshots; the model, checked above, goes last, the RNG after it.
    const undo: (() => void)[] = [];
    const restore = (target: Stateful, state: unknown): void => {
      const before = target.stateDict();
      target.loadStateDict(state);
      undo.push(() => target.loadStateDict(before));
    };
    try {
      if (optState !== undefined) restore(targets.optimizer!, optState);
      if (schedState !== undefined) restore(targets.scheduler!, schedState);
      for (const [name, g] of Object.entries(targets.generators ?? {})) {
        const s = doc.generators?.[name];
        if (!s) continue;
        const before = g.getState();
        g.setState({ seed: s.seed, offset: s.offset });
        undo.push(() => g.setState(before));
      }
      targets.model.loadStateDict(weights, { strict });
    } catch (e) {
      for (const u of undo.reverse()) u();
      throw e;
    }
    if (doc.rng && opts.restoreRng !== false) setRngState(doc.rng);
    return { step: doc.step, extra, rng: doc.rng };
  } finally {
    await r.close();
  }
}
