/**
 * The gpu.js runtime: lazy loading and start-up diagnosis, the kernel cache (LRU), and the
 * texture-backed DeviceBuffer that keeps results resident on the GPU.
 *
 * gpu.js and gl are optional dependencies, loaded with createRequire only when a GPU backend is
 * asked for. We describe the small part of gpu.js we use with local structural types, so this
 * file type-checks (and the package builds) whether or not gpu.js is installed.
 */
import { createRequire } from 'node:module';
import { BackendError } from '../../errors.js';
import { Block, Handle } from '../refcounted.js';
import { NATIVE, type ArgKind, type KernelSource } from './source.js';

// ---- the slice of gpu.js and gl we use ------------------------------------------------------
/** A gpu.js output texture (GLTexture). */
interface GTexture {
  toArray(): unknown;
  delete(): void;
  readonly texture: unknown;
}
/** A gpu.js kernel run shortcut. */
interface GKernel {
  (...args: unknown[]): unknown;
  readonly kernel: { readonly constructor: { readonly name: string }; readonly fallbackReason?: string | null };
  destroy(removeCanvasReferences?: boolean): void;
}
interface GKernelSettings {
  output: number[];
  pipeline: true;
  immutable: true;
  precision: 'single';
  optimizeFloatMemory: boolean;
  argumentTypes: string[];
  tactic: 'precision';
  nativeFunctions: { name: string; source: string }[];
}
interface GGPU {
  createKernel(source: string, settings: GKernelSettings): GKernel;
  readonly Kernel: { readonly name: string } | null;
  readonly mode: string;
}
interface GpuJsModule {
  GPU: new (settings: { context: unknown }) => GGPU;
}
interface WebGLish {
  getParameter(p: number): unknown;
  getExtension(name: string): unknown;
  readonly VERSION: number;
  readonly RENDERER: number;
  readonly MAX_TEXTURE_SIZE: number;
}
type CreateGL = (w: number, h: number, opts: { preserveDrawingBuffer: boolean }) => WebGLish | null;

// ---- limits ---------------------------------------------------------------------------------
/**
 * Largest tensor the GPU path takes: float index arithmetic is exact below 2^24, and a
 * memory-optimized texture holds 4 values per texel, so 2^24 values need 2048² texels
 * (well under the 8192² that is known to be safe).
 */
export const MAX_GPU_ELEMENTS = 1 << 24;
/** Values packed 4 per RGBA texel: 4× less texture memory and readback. */
const OPTIMIZE_FLOAT_MEMORY = true;
const TEXTURE_ARG = OPTIMIZE_FLOAT_MEMORY ? 'MemoryOptimizedNumberTexture' : 'NumberTexture';
const ARG_TYPE: Record<ArgKind, string> = { texture: TEXTURE_ARG, array: 'Array', scalar: 'Float' };

// ---- statistics (tests count readbacks with these) -------------------------------------------
/** Counters of GPU activity (uploads, readbacks, kernel runs), see `tuning.gpuStats`. */
export interface GpuStats {
  /** Textures read back to the CPU (`tensor.data` on a GPU-resident tensor). */
  reads: number;
  /** CPU arrays uploaded as kernel arguments. */
  uploads: number;
  /** Kernel launches. */
  runs: number;
  /** Kernels compiled (cache misses). */
  compiles: number;
  /** Kernels destroyed after LRU eviction. */
  destroyed: number;
  /** Output textures alive now (resident on the GPU). */
  liveTextures: number;
  /** Bytes of float32 values in resident textures. */
  liveBytes: number;
  /** Textures moved to CPU memory because the pool was over its limits (least recently used first). */
  spilled: number;
  /** Textures released deterministically at the end of a backward pass (intermediate gradients). */
  scopeReleased: number;
  /** Compiled kernels in the cache now. */
  cachedKernels: number;
}
export const stats: GpuStats = {
  reads: 0,
  uploads: 0,
  runs: 0,
  compiles: 0,
  destroyed: 0,
  liveTextures: 0,
  cachedKernels: 0,
  liveBytes: 0,
  spilled: 0,
  scopeReleased: 0,
};
export function resetStats(): void {
  stats.reads = stats.uploads = stats.runs = stats.compiles = stats.destroyed = stats.spilled = stats.scopeReleased = 0;
}

/**
 * The texture pool's bounds. GC cannot bound GPU memory in a loop that never yields
 * (FinalizationRegistry callbacks wait for the event loop), so past either limit the least
 * recently used textures are read back into CPU memory (where the JS heap's own GC frees them)
 * and deleted. A spilled tensor stays readable; a later kernel uploads it again.
 */
export interface GpuMemoryLimits {
  /** Most output textures resident at once (default 1024). */
  maxTextures: number;
  /** Most bytes of values resident at once (default 1 GiB). */
  maxBytes: number;
}
export const DEFAULT_MEMORY_LIMITS: Readonly<GpuMemoryLimits> = Object.freeze({ maxTextures: 1024, maxBytes: 2 ** 30 });
export const memoryLimits: GpuMemoryLimits = { ...DEFAULT_MEMORY_LIMITS };
/** Resident storages, least recently used first (Map keeps insertion order; a use re-inserts). */
const resident = new Map<Storage, true>();
function touch(s: Storage): void {
  resident.delete(s);
  resident.set(s, true);
}
/** Spills least-recently-used textures until the pool is within its limits (never `keep`). */
export function enforceLimits(keep: Storage | null = null): void {
  for (const s of resident.keys()) {
    if (stats.liveTextures <= memoryLimits.maxTextures && stats.liveBytes <= memoryLimits.maxBytes) return;
    if (s !== keep) s.spill();
  }
}

// ---- start-up -------------------------------------------------------------------------------
export interface Runtime {
  readonly gpu: GGPU;
  readonly mode: 'headlessgl';
  readonly renderer: string;
  readonly maxTextureSize: number;
}

const FIX_INSTALL =
  'Install the optional peer dependencies with `npm install gpu.js@2.24.1 gl@9.0.0-rc.10` ' +
  '(gl@9 ships prebuilt ANGLE and builds its binding with node-gyp; gl@8 needs libxi-dev to build).';
const FIX_DISPLAY =
  'headless-gl needs an X display: run under `xvfb-run -a node …` ' +
  '(Debian/Ubuntu: `apt-get install -y xvfb xauth libgl1-mesa-dri libglx-mesa0`), or set DISPLAY to a running X server.';

let runtime: Runtime | null = null;
let startError: BackendError | null = null;

function fail(why: string, fix: string): never {
  throw new BackendError(`GPU backend cannot start: ${why}. ${fix}`);
}

/** Starts gpu.js in headless-gl mode once; throws a BackendError saying why and how to fix it. */
export function startRuntime(): Runtime {
  if (runtime) return runtime;
  if (startError) throw startError;
  try {
    runtime = boot();
    return runtime;
  } catch (e) {
    startError = e instanceof BackendError ? e : new BackendError(`GPU backend cannot start: ${(e as Error).message}`);
    throw startError;
  }
}

function boot(): Runtime {
  const require = createRequire(import.meta.url);
  let GPU: GpuJsModule['GPU'];
  try {
    GPU = (require('gpu.js') as GpuJsModule).GPU;
  } catch (e) {
    fail(`gpu.js is not installed (${firstLine(e)})`, FIX_INSTALL);
  }
  let createGL: CreateGL;
  try {
    createGL = require('gl') as CreateGL;
  } catch (e) {
    fail(
      `the gl native binary (headless-gl) did not load (${firstLine(e)})`,
      `${FIX_INSTALL} Then \`npm rebuild gl\`.`,
    );
  }
  if (process.platform === 'linux' && !process.env['DISPLAY']) fail('no X display (DISPLAY is not set)', FIX_DISPLAY);
  const gl = createGL(2, 2, { preserveDrawingBuffer: true });
  if (!gl) fail(`gl could not create a WebGL context on DISPLAY=${process.env['DISPLAY'] ?? ''}`, FIX_DISPLAY);
  if (!gl.getExtension('OES_texture_float'))
    fail(
      'the WebGL context has no float textures (OES_texture_float)',
      'Use a Mesa or vendor GL driver that supports float textures.',
    );
  const gpu = new GPU({ context: gl });
  const kind = gpu.Kernel?.name ?? 'none';
  if (kind !== 'HeadlessGLKernel') {
    fail(
      `gpu.js chose ${kind} (mode "${gpu.mode}") instead of headless-gl, i.e. it fell back to its cpu mode`,
      FIX_DISPLAY,
    );
  }
  const rt: Runtime = {
    gpu,
    mode: 'headlessgl',
    renderer: `${String(gl.getParameter(gl.RENDERER))} / ${String(gl.getParameter(gl.VERSION))}`,
    maxTextureSize: Number(gl.getParameter(gl.MAX_TEXTURE_SIZE)),
  };
  // Smoke test: a real shader must run and return a texture with the right values.
  runtime = rt;
  const probe = runKernel(
    { source: 'function(a) { return a[this.thread.x] * 2.0 + 1.0; }', natives: [] },
    ['array'],
    [new Float32Array([1, 2, 3])],
    3,
  );
  const got = probe.read();
  probe.dispose();
  if (got[0] !== 3 || got[1] !== 5 || got[2] !== 7) {
    runtime = null;
    fail(
      `a test kernel returned wrong values [${Array.from(got).join(', ')}]`,
      'The GL driver does not compute float shaders correctly.',
    );
  }
  return rt;
}

const firstLine = (e: unknown): string => String((e as Error)?.message ?? e).split('\n')[0]!;

// ---- kernel cache ---------------------------------------------------------------------------
interface Entry {
  readonly key: string;
  readonly kernel: GKernel;
  /** Output textures of this kernel still alive: gpu.js frees them when the kernel is destroyed. */
  live: number;
  evicted: boolean;
}
const cache = new Map<string, Entry>();
let cacheCapacity = 256;

export function setCacheCapacity(n: number): void {
  cacheCapacity = Math.max(1, Math.floor(n));
  trim();
}
function trim(): void {
  while (cache.size > cacheCapacity) {
    const [key, e] = cache.entries().next().value as [string, Entry];
    cache.delete(key);
    e.evicted = true;
    maybeDestroy(e);
  }
  stats.cachedKernels = cache.size;
}
/** Destroys an evicted kernel once no output texture of it is alive (destroy would free them). */
function maybeDestroy(e: Entry): void {
  if (!e.evicted || e.live > 0) return;
  e.kernel.destroy();
  stats.destroyed++;
}

function getKernel(src: KernelSource, kinds: readonly ArgKind[], size: number): Entry {
  const argumentTypes = kinds.map((k) => ARG_TYPE[k]);
  const key = `${size}|${argumentTypes.join(',')}|${src.source}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const rt = runtime!;
  const kernel = rt.gpu.createKernel(src.source, {
    output: [size],
    pipeline: true,
    immutable: true,
    precision: 'single',
    optimizeFloatMemory: OPTIMIZE_FLOAT_MEMORY,
    argumentTypes,
    tactic: 'precision',
    nativeFunctions: src.natives.map((name) => ({ name, source: NATIVE[name]! })),
  });
  const e: Entry = { key, kernel, live: 0, evicted: false };
  cache.set(key, e);
  stats.compiles++;
  trim();
  return e;
}

const isTexture = (v: unknown): v is GTexture =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as GTexture).toArray === 'function' &&
  typeof (v as GTexture).delete === 'function';

/** Runs a (cached) kernel with a flat output of `size` values and wraps the result texture. */
export function runKernel(
  src: KernelSource,
  kinds: readonly ArgKind[],
  args: readonly unknown[],
  size: number,
): GpuBuffer {
  if (!runtime)
    throw new BackendError('GPU backend is not started: call setBackend("gpu") or setBackend("auto") first');
  const e = getKernel(src, kinds, size);
  for (const k of kinds) if (k === 'array') stats.uploads++;
  let out: unknown;
  try {
    out = e.kernel(...args);
  } catch (err) {
    throw new BackendError(`GPU kernel failed: ${firstLine(err)}\n--- kernel source ---\n${src.source}`);
  }
  stats.runs++;
  const inner = e.kernel.kernel;
  if (!isTexture(out) || inner.constructor.name !== 'HeadlessGLKernel') {
    throw new BackendError(
      `GPU kernel fell back to gpu.js's cpu mode (${inner.fallbackReason ?? inner.constructor.name}); ` +
        `tapegrad never runs gpu.js's cpu mode.\n--- kernel source ---\n${src.source}`,
    );
  }
  const s = new Storage(out, e, size);
  const buf = new GpuBuffer(s);
  enforceLimits(s);
  return buf;
}

/** @internal A refcounted output texture, or (once spilled) its values in CPU memory (refcounted.ts). */
export class Storage extends Block {
  #tex: GTexture | null;
  constructor(
    tex: GTexture,
    readonly entry: Entry,
    readonly size: number,
  ) {
    super();
    this.#tex = tex;
    entry.live++;
    stats.liveTextures++;
    stats.liveBytes += size * 4;
    resident.set(this, true);
  }
  get tex(): GTexture {
    if (this.#tex === null) throw new BackendError('GPU buffer used after it was spilled to CPU memory');
    touch(this);
    return this.#tex;
  }
  get spilled(): boolean {
    return this.#tex === null;
  }
  /** Reads the values back; the texture stays. */
  readDevice(): Float32Array {
    stats.reads++;
    const v = this.#tex!.toArray();
    if (v instanceof Float32Array && v.length === this.size) return v;
    if (v instanceof Float32Array) return v.slice(0, this.size);
    return Float32Array.from(v as ArrayLike<number>).subarray(0, this.size);
  }
  protected free(how: 'spill' | 'release' | 'finalize'): void {
    if (how === 'spill') stats.spilled++;
    this.#tex!.delete();
    this.#tex = null;
    resident.delete(this);
    stats.liveTextures--;
    stats.liveBytes -= this.size * 4;
    this.entry.live--;
    maybeDestroy(this.entry);
  }
}

/**
 * A GPU-resident float32 buffer: one handle onto a refcounted texture. `share()` makes another
 * handle (reshape views); the texture is deleted when the last handle is disposed or collected.
 */
export class GpuBuffer extends Handle<Storage> {
  readonly device = 'gpu';
  constructor(s: Storage) {
    super(s, 'GPU buffer');
  }
  protected another(s: Storage): GpuBuffer {
    return new GpuBuffer(s);
  }
  /** True when the values were moved to CPU memory (the pool was over its limits): read() is free then. */
  get spilled(): boolean {
    return !this.disposed && this.block('used').spilled;
  }
  /** @internal The gpu.js texture, passed straight to the next kernel. */
  get texture(): GTexture {
    return this.block('used').tex;
  }
}
