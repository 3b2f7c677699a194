/**
 * GPU backend parity, residency and training tests, in either GPU mode: WGSL through WebGPU
 * (`TAPEGRAD_GPU_MODE=webgpu npx vitest run test/backend/gpu`, `npm run test:gpu:webgpu`) or WebGL
 * shaders through headless-gl, which needs an X display (`npm run test:gpu`). Without a GPU the
 * suite is skipped with a note (also on a software WebGPU adapter picked by default, see
 * gpu-probe.ts), unless TAPEGRAD_REQUIRE_GPU=1 (CI sets it), which turns "cannot start" into a failure.
 *
 * Float32 tolerance (documented in docs/gpu.md): |gpu − cpu| ≤ atol + rtol·|cpu| with
 *   elementwise/movement/where: atol 1e-6, rtol 2e-6 (exact ops: add/mul/…/permute are bit-equal)
 *   transcendental (exp, log, tanh, sigmoid, erf, pow, …): atol 1e-5, rtol 1e-5
 *   reductions and matmul over K terms: atol 1e-5·√K·scale, rtol 1e-5 (summation order differs)
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Generator, Tensor, backendInfo, matmul, optim, setBackend, tensor, tuning, where } from '../../src/index.js';

const { gpuStats, setGpuKernelCacheSize, setGpuThresholds } = tuning;
import type { BinaryOp, UnaryOp } from '../../src/backend/backend.js';
import { MODE, REQUIRE, gpuUnavailable } from './gpu-probe.js';

const unavailable = gpuUnavailable();
if (unavailable && !REQUIRE) {
  console.warn(
    `[tapegrad] GPU suite skipped: ${unavailable}\n  Run it with: npm run test:gpu (headless-gl, X display) or npm run test:gpu:webgpu`,
  );
}

// ---- helpers ------------------------------------------------------------------------------
/** Seeded float32 data: 'any' in [-2, 2), 'pos' in [0.5, 2), 'round' small integers (ties for comparisons). */
function data(shape: readonly number[], seed: number, kind: 'any' | 'pos' | 'round' = 'any'): Tensor {
  const g = new Generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = g.uniform();
    d[i] = kind === 'pos' ? 0.5 + 1.5 * u : kind === 'round' ? Math.floor(u * 5) - 2 : 4 * u - 2;
  }
  return new Tensor(d, shape);
}

/** Runs `f` on the CPU, then on the GPU (forced), returning both results as arrays. */
function both(f: () => Tensor): { cpu: Float32Array; gpu: Float32Array; out: Tensor } {
  setBackend('cpu');
  const c = f();
  const cpu = Float32Array.from(c.data);
  setBackend('gpu');
  const out = f();
  expect(out.shape).toEqual(c.shape);
  expect(out.deviceBuffer?.device, 'result should be GPU-resident').toBe('gpu');
  const gpu = Float32Array.from(out.data);
  setBackend('cpu');
  return { cpu, gpu, out };
}

function close(gpu: ArrayLike<number>, cpu: ArrayLike<number>, atol: number, rtol: number, what: string): number {
  expect(gpu.length, what).toBe(cpu.length);
  let worst = 0;
  for (let i = 0; i < cpu.length; i++) {
    const c = cpu[i]!,
      g = gpu[i]!;
    if (Number.isNaN(c) && Number.isNaN(g)) continue;
    if (c === g) continue;
    const err = Math.abs(g - c);
    worst = Math.max(worst, err / (atol + rtol * Math.abs(c)));
    if (!(err <= atol + rtol * Math.abs(c))) {
      throw new Error(
        `${what}: element ${i}: gpu ${g} vs cpu ${c} (|Δ| = ${err}, allowed ${atol + rtol * Math.abs(c)})`,
      );
    }
  }
  return worst;
}

const SIZES: readonly (readonly number[])[] = [[1], [7], [257], [1000, 3]];

// ---- the suite ------------------------------------------------------------------------------
describe.skipIf(unavailable !== '' && !REQUIRE)(`GPU backend (${MODE ?? 'default'} mode)`, () => {
  beforeAll(() => {
    if (unavailable) throw new Error(`TAPEGRAD_REQUIRE_GPU=1 but the GPU backend cannot start: ${unavailable}`);
  });
  afterEach(() => setBackend('cpu'));
  afterAll(() => setBackend('cpu'));

  it('runs in a real GPU mode, never gpu.js cpu', () => {
    setBackend('gpu');
    const info = backendInfo();
    expect(info.name).toBe('gpu');
    if (MODE) expect(info.gpuMode).toBe(MODE);
    else expect(['webgpu', 'headlessgl']).toContain(info.gpuMode);
    const before = gpuStats().runs;
    const y = data([7], 1).add(1);
    expect(y.deviceBuffer?.device).toBe('gpu');
    expect(gpuStats().runs).toBe(before + 1);
  });

  const unaryCases: [UnaryOp, 'any' | 'pos', number, number][] = [
    ['neg', 'any', 0, 0],
    ['abs', 'any', 0, 0],
    ['relu', 'any', 0, 0],
    ['sign', 'any', 0, 0],
    ['exp', 'any', 1e-5, 1e-5],
    ['log', 'pos', 1e-5, 1e-5],
    ['sqrt', 'pos', 1e-6, 2e-6],
    ['tanh', 'any', 1e-5, 1e-5],
    ['sigmoid', 'any', 1e-5, 1e-5],
    ['sin', 'any', 1e-5, 1e-5],
    ['cos', 'any', 1e-5, 1e-5],
    ['erf', 'any', 1e-5, 1e-5],
    ['log1p', 'pos', 1e-5, 1e-5],
  ];
  it.each(unaryCases)('unary %s matches the CPU on sizes 1, 7, 257, 1000×3', (op, kind, atol, rtol) => {
    SIZES.forEach((shape, s) => {
      const x = data(shape, 10 + s, kind);
      const { cpu, gpu } = both(() => (x[op] as () => Tensor).call(x));
      close(gpu, cpu, atol, rtol, `${op} ${JSON.stringify(shape)}`);
    });
  });

  it('unary ops are stable at extremes (tanh, sigmoid, exp at ±30)', () => {
    const x = tensor(new Float32Array([-30, -10, -1e-3, 0, 1e-3, 10, 30]), { shape: [7] });
    for (const op of ['tanh', 'sigmoid', 'log1p'] as const) {
      const xin = op === 'log1p' ? x.abs() : x;
      const { cpu, gpu } = both(() => xin[op]());
      close(gpu, cpu, 1e-6, 1e-5, op);
    }
  });

  const bshapes: [readonly number[], readonly number[]][] = [
    [[257], [257]],
    [[1000, 3], [3]],
    [
      [7, 1],
      [1, 5],
    ],
    [[1], [7]],
    [
      [2, 3, 4],
      [3, 1],
    ],
    [
      [1000, 3],
      [1000, 1],
    ],
    [[1000, 3], []],
  ];
  const binaryOps: [BinaryOp, number, number][] = [
    ['add', 0, 0],
    ['sub', 0, 0],
    ['mul', 0, 0],
    ['div', 1e-6, 2e-6],
    ['maximum', 0, 0],
    ['minimum', 0, 0],
    ['pow', 1e-5, 1e-5],
    ['eq', 0, 0],
    ['ne', 0, 0],
    ['lt', 0, 0],
    ['le', 0, 0],
    ['gt', 0, 0],
    ['ge', 0, 0],
  ];
  it.each(binaryOps)('binary %s with broadcasting matches the CPU', (op, atol, rtol) => {
    bshapes.forEach(([sa, sb], s) => {
      const cmp = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(op);
      const a = data(sa, 100 + s, op === 'pow' ? 'pos' : cmp ? 'round' : 'any');
      const b = data(sb, 200 + s, cmp ? 'round' : op === 'div' ? 'pos' : 'any');
      const { cpu, gpu } = both(() => (a[op] as (o: Tensor) => Tensor).call(a, b));
      close(gpu, cpu, atol, rtol, `${op} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`);
    });
  });

  it('pow follows Math.pow for negative bases and zero', () => {
    const a = tensor([-2, -1.5, 0, 0, 3, -3], { shape: [6] });
    const b = tensor([2, 3, 0, 2, 0.5, 3], { shape: [6] });
    const { cpu, gpu } = both(() => a.pow(b));
    close(gpu, cpu, 1e-5, 1e-5, 'pow');
  });

  it('scalar operands are passed as uniforms and share one compiled kernel', () => {
    const x = data([257], 5);
    setBackend('gpu');
    x.mul(0.5).data;
    const compiles = gpuStats().compiles;
    const y = x.mul(0.25);
    expect(gpuStats().compiles).toBe(compiles);
    close(
      y.data,
      Float32Array.from(x.data, (v) => v * 0.25),
      0,
      0,
      'mul scalar',
    );
  });

  it('where with broadcasting matches the CPU', () => {
    const c = data([1000, 3], 7, 'round').gt(0);
    const a = data([1000, 3], 8),
      b = data([3], 9);
    const { cpu, gpu } = both(() => where(c, a, b));
    close(gpu, cpu, 0, 0, 'where');
  });

  const reduceCases: [readonly number[], number | number[] | undefined][] = [
    [[1000, 3], 0],
    [[1000, 3], 1],
    [[7], 0],
    [[1], 0],
    [[257], undefined],
    [
      [4, 5, 6],
      [0, 2],
    ],
    [[4, 5, 6], 1],
    [
      [2, 3, 4, 5],
      [1, 3],
    ],
    [[3, 5000], 1],
    [[5000, 3], 0],
    [[9000], undefined],
    [
      [40, 30, 7],
      [0, 2],
    ], // two-pass reductions
  ];
  it.each(reduceCases)('sum/mean/max/min of %j over %j match the CPU', (shape, dim) => {
    const x = data(shape, 31);
    const k = dim === undefined ? x.size : (typeof dim === 'number' ? [dim] : dim).reduce((a, d) => a * shape[d]!, 1);
    for (const op of ['sum', 'mean', 'max', 'min'] as const) {
      const { cpu, gpu } = both(() => x[op](dim, true));
      close(
        gpu,
        cpu,
        op === 'max' || op === 'min' ? 0 : 2e-6 * Math.sqrt(k) * 2,
        1e-5,
        `${op} ${JSON.stringify(shape)} ${JSON.stringify(dim)}`,
      );
    }
  });

  const mmCases: [readonly number[], readonly number[], boolean, boolean][] = [
    [[7, 5], [5, 3], false, false],
    [[1, 1], [1, 1], false, false],
    [[257, 33], [33, 1], false, false],
    [[5, 7], [5, 3], true, false],
    [[7, 5], [3, 5], false, true],
    [[5, 7], [3, 5], true, true],
    [[31, 257], [257, 9], false, false],
    [[2, 3, 4, 5], [5, 6], false, false],
    [[3, 1, 4, 5], [2, 6, 5], false, true],
    [[2, 6, 4], [2, 6, 3], true, false],
    [[1000, 3], [3, 7], false, false],
  ];
  it.each(mmCases)('matmul %j @ %j (transA %s, transB %s) matches the CPU', (sa, sb, ta, tb) => {
    const a = data(sa, 41),
      b = data(sb, 42);
    const k = ta ? sa[sa.length - 2]! : sa[sa.length - 1]!;
    const { cpu, gpu } = both(() => matmul(a, b, { transA: ta, transB: tb }));
    // terms are products of values in [-2, 2): scale 4.
    close(gpu, cpu, 4e-6 * Math.sqrt(k) * 4, 1e-5, `matmul ${JSON.stringify(sa)}@${JSON.stringify(sb)}`);
  });

  it('permute, transpose, expand, slice and clone match the CPU exactly', () => {
    const x = data([3, 4, 5], 51);
    const cases: [string, () => Tensor][] = [
      ['permute', () => x.permute([2, 0, 1])],
      ['transpose', () => x.transpose(0, 2)],
      ['T 1000x3', () => data([1000, 3], 52).T],
      ['expand', () => data([4, 1], 53).expand([3, 4, 5])],
      ['slice', () => x.slice([[1, 3], null, [0, 5, 2]])],
      ['clone', () => x.clone()],
    ];
    for (const [name, f] of cases) {
      const { cpu, gpu } = both(f);
      close(gpu, cpu, 0, 0, name);
    }
  });

  it('unsupported ops (concat, gather, argmax, float64) fall back to the CPU and stay correct', () => {
    const x = data([7, 3], 61);
    setBackend('gpu');
    const y = x.add(1);
    const am = y.argmax(1);
    expect(am.dtype).toBe('int32');
    const d = tensor([1, 2, 3], { dtype: 'float64' }).mul(2);
    expect(d.deviceBuffer).toBeNull();
    expect(Array.from(d.data)).toEqual([2, 4, 6]);
  });

  it('keeps a matmul → bias → relu chain and its backward on the GPU (no readback)', () => {
    setBackend('gpu');
    const x = data([64, 32], 71);
    const w = data([32, 16], 72).requiresGrad_();
    const b = data([16], 73).requiresGrad_();
    gpuStats(true);
    const h = x.matmul(w).add(b).relu();
    const loss = h.mul(h).sum();
    expect(gpuStats().reads).toBe(0);
    loss.backward();
    const s = gpuStats();
    expect(s.reads).toBe(0); // forward and backward never read a texture back
    expect(w.grad!.deviceBuffer?.device).toBe('gpu');
    expect(b.grad!.deviceBuffer?.device).toBe('gpu');
    // Check the values against the CPU once, reading back only now.
    const gw = Float32Array.from(w.grad!.data),
      gb = Float32Array.from(b.grad!.data),
      l = loss.item();
    expect(gpuStats().reads).toBe(3);
    setBackend('cpu');
    w.zeroGrad();
    b.zeroGrad();
    const hc = x.matmul(w).add(b).relu();
    const lc = hc.mul(hc).sum();
    lc.backward();
    close([l], [lc.item()], 1e-3, 1e-5, 'loss');
    close(gw, w.grad!.data, 1e-3, 1e-4, 'grad w');
    close(gb, b.grad!.data, 1e-3, 1e-4, 'grad b');
  });

  it('reshape views share a texture; it is freed when the last handle is disposed', () => {
    setBackend('gpu');
    const live0 = gpuStats().liveTextures;
    const y = data([6, 4], 81).add(1);
    const v = y.reshape([4, 6]);
    expect(v.deviceBuffer).not.toBeNull();
    expect(gpuStats().liveTextures).toBe(live0 + 1);
    y.dispose();
    expect(gpuStats().liveTextures).toBe(live0 + 1); // the view still holds it
    expect(v.data[0]).toBeCloseTo(data([6, 4], 81).data[0]! + 1, 6);
    expect(gpuStats().liveTextures).toBe(live0); // reading back released the last handle
  });

  it('evicts least-recently-used kernels, destroying them only once their outputs are gone', () => {
    setBackend('gpu');
    setGpuKernelCacheSize(2);
    try {
      const x = data([11], 91);
      const keep = [x.add(1), x.mul(3), x.sub(2)]; // three kernels, capacity two
      const s = gpuStats();
      expect(s.cachedKernels).toBeLessThanOrEqual(2);
      expect(Array.from(keep[0]!.data)).toEqual(Array.from(x.data, (v) => Math.fround(v + 1)));
      for (const t of keep) t.dispose();
      expect(gpuStats().destroyed).toBeGreaterThan(s.destroyed - 1);
    } finally {
      setGpuKernelCacheSize(256);
    }
  });

  it("'auto' uses the thresholds; setGpuThresholds changes them", () => {
    setBackend('auto');
    expect(backendInfo().requested).toBe('auto');
    setGpuThresholds({ elementwise: 1000 });
    try {
      expect(data([999], 1).add(1).deviceBuffer).toBeNull();
      const big = data([1000], 1).add(1);
      expect(big.deviceBuffer?.device).toBe('gpu');
      // an input already on the GPU keeps a small op there
      expect(big.sum().deviceBuffer?.device).toBe('gpu');
    } finally {
      setGpuThresholds('default');
    }
  });

  it('fused Adam and SGD-momentum updates match the CPU update functions', () => {
    const run = (backend: 'cpu' | 'gpu', kind: 'adam' | 'adamw' | 'sgd'): Float32Array => {
      setBackend(backend);
      const p = data([1000, 3], 101).requiresGrad_();
      const o =
        kind === 'sgd'
          ? new optim.SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })
          : kind === 'adam'
            ? new optim.Adam([p], { lr: 0.01, weightDecay: 1e-2 })
            : new optim.AdamW([p], { lr: 0.01 });
      for (let s = 0; s < 5; s++) {
        p.grad = data([1000, 3], 200 + s);
        o.step();
      }
      return Float32Array.from(p.data);
    };
    for (const kind of ['adam', 'adamw', 'sgd'] as const) {
      setBackend('gpu');
      const runs = gpuStats().runs;
      const g = run('gpu', kind);
      expect(gpuStats().runs).toBeGreaterThanOrEqual(runs + 5);
      close(g, run('cpu', kind), 1e-6, 1e-5, kind);
    }
  });

  it('a small MLP trained 50 steps on the GPU tracks the CPU run (loss within 1e-3 relative)', () => {
    const train = (backend: 'cpu' | 'gpu'): number[] => {
      setBackend(backend);
      const X = data([64, 8], 301);
      const Y = X.slice([null, [0, 1]])
        .mul(X.slice([null, [1, 2]]))
        .tanh();
      const W1 = data([8, 32], 302).mul(0.35).detach().requiresGrad_();
      const b1 = data([32], 303).mul(0.1).detach().requiresGrad_();
      const W2 = data([32, 1], 304).mul(0.18).detach().requiresGrad_();
      const b2 = data([1], 305).mul(0.1).detach().requiresGrad_();
      const opt = new optim.Adam([W1, b1, W2, b2], { lr: 0.01 });
      const losses: number[] = [];
      for (let step = 0; step < 50; step++) {
        opt.zeroGrad();
        const pred = X.matmul(W1).add(b1).relu().matmul(W2).add(b2);
        const loss = pred.sub(Y).square().mean();
        loss.backward();
        opt.step();
        losses.push(loss.item());
      }
      return losses;
    };
    const g = train('gpu');
    const c = train('cpu');
    expect(c[49]!).toBeLessThan(c[0]! * 0.8); // it does learn
    for (let i = 0; i < 50; i++) expect(Math.abs(g[i]! - c[i]!)).toBeLessThanOrEqual(1e-3 * Math.abs(c[i]!) + 1e-6);
  });
});
