/**
 * Kernel source generators. gpu.js re-parses kernels from source text, so every kernel here is
 * generated as a string specialised to its shapes: sizes and strides are baked in as literals
 * (no closures, no dynamic loops), and the source text itself is the kernel-cache key.
 *
 * Index arithmetic is done in float (exact for integers below 2^24, which is why the backend caps
 * GPU tensors at 2^24 elements). Divisions are guarded: GPUs compute a/b as a·(1/b), which can be
 * off by an ulp, so each quotient is corrected by comparing the remainder with the divisor.
 */
import type { BinaryOp, UnaryOp } from '../backend.js';
import { stridesOf, type Shape } from '../../shape.js';

/** How a kernel argument is passed: a resident texture, an uploaded array, or a uniform scalar. */
export type ArgKind = 'texture' | 'array' | 'scalar';

/** GLSL helpers, registered with gpu.js as native functions when a kernel uses them. */
export const NATIVE: Readonly<Record<string, string>> = {
  tg_tanh: `float tg_tanh(float x) {
  float t = exp(-2.0 * abs(x));
  float r = (1.0 - t) / (1.0 + t);
  return x < 0.0 ? -r : r;
}`,
  tg_sigmoid: `float tg_sigmoid(float x) {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  float e = exp(x);
  return e / (1.0 + e);
}`,
  // Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below float32 resolution near 1).
  tg_erf: `float tg_erf(float x) {
  float ax = abs(x);
  float t = 1.0 / (1.0 + 0.3275911 * ax);
  float y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-ax * ax);
  return x < 0.0 ? -y : y;
}`,
  tg_log1p: `float tg_log1p(float x) {
  float u = 1.0 + x;
  if (u == 1.0) { return x; }
  return log(u) * x / (u - 1.0);
}`,
  // GLSL pow is undefined for x < 0 and for 0^0; follow Math.pow instead.
  tg_pow: `float tg_pow(float x, float y) {
  if (y == 0.0) { return 1.0; }
  if (x == 0.0) { return y > 0.0 ? 0.0 : 1.0 / 0.0; }
  float r = pow(abs(x), y);
  if (x < 0.0) {
    if (floor(y) != y) { return (x - x) / (x - x); }
    if (mod(y, 2.0) == 1.0) { return -r; }
  }
  return r;
}`,
  tg_sign: `float tg_sign(float x) { return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0); }`,
  tg_relu: `float tg_relu(float x) { return x > 0.0 ? x : 0.0; }`,
  tg_cmp: `float tg_cmp(bool c) { return c ? 1.0 : 0.0; }`,
};

/** Unary ops as expressions of `x`, plus the native helpers they need. */
export const UNARY_SRC: Record<UnaryOp, [string, string[]] | null> = {
  neg: ['-x', []],
  exp: ['Math.exp(x)', []],
  log: ['Math.log(x)', []],
  sqrt: ['Math.sqrt(x)', []],
  abs: ['Math.abs(x)', []],
  tanh: ['tg_tanh(x)', ['tg_tanh']],
  sigmoid: ['tg_sigmoid(x)', ['tg_sigmoid']],
  relu: ['tg_relu(x)', ['tg_relu']],
  sign: ['tg_sign(x)', ['tg_sign']],
  sin: ['Math.sin(x)', []],
  cos: ['Math.cos(x)', []],
  erf: ['tg_erf(x)', ['tg_erf']],
  log1p: ['tg_log1p(x)', ['tg_log1p']],
  // Explicit CPU fallback (null): not yet written as shaders.
  expm1: null,
  atan: null,
  asin: null,
  acos: null,
  floor: null,
  ceil: null,
  round: null,
  trunc: null,
  log2: null,
  log10: null,
};

/** Binary ops as expressions of `x` and `y`. Comparisons return 1/0. */
export const BINARY_SRC: Record<BinaryOp, [string, string[]] | null> = {
  add: ['x + y', []],
  sub: ['x - y', []],
  mul: ['x * y', []],
  div: ['x / y', []],
  pow: ['tg_pow(x, y)', ['tg_pow']],
  maximum: ['Math.max(x, y)', []],
  minimum: ['Math.min(x, y)', []],
  eq: ['(x == y ? 1.0 : 0.0)', []],
  ne: ['(x != y ? 1.0 : 0.0)', []],
  lt: ['(x < y ? 1.0 : 0.0)', []],
  le: ['(x <= y ? 1.0 : 0.0)', []],
  gt: ['(x > y ? 1.0 : 0.0)', []],
  ge: ['(x >= y ? 1.0 : 0.0)', []],
  atan2: null, // explicit CPU fallback
};

/** A float literal gpu.js types as float. */
export const f = (n: number): string => (Number.isInteger(n) ? `${n}.0` : `${n}`);

/**
 * Emits code splitting the flat float index `t0` (= index + 0.5) over `shape` into coordinates
 * `q{prefix}{k}`, and returns the offset expression of each strided operand.
 * Axes of size 1, or with zero stride in every operand, are skipped where possible.
 */
export function emitOffsets(
  lines: string[],
  tVar: string,
  shape: Shape,
  operands: readonly { strides: readonly number[]; base: number }[],
  prefix: string,
): string[] {
  const nd = shape.length;
  const contig = stridesOf(shape);
  const terms: string[][] = operands.map((o) => (o.base ? [f(o.base)] : []));
  // Operands that read exactly the flat index need no decomposition.
  const direct = operands.map((o) => o.strides.every((s, k) => shape[k] === 1 || s === contig[k]));
  // Last axis whose coordinate anyone needs.
  let last = -1;
  for (let k = 0; k < nd; k++) {
    if (shape[k]! > 1 && operands.some((o, j) => !direct[j] && o.strides[k] !== 0)) last = k;
  }
  let t = tVar;
  for (let k = 0; k <= last; k++) {
    if (shape[k] === 1) continue;
    const s = contig[k]!;
    const q = `q${prefix}${k}`;
    if (k === nd - 1 || s === 1) {
      lines.push(`var ${q} = Math.floor(${t});`);
    } else {
      const r = `t${prefix}${k + 1}`;
      lines.push(`var ${q} = Math.floor(${t} / ${f(s)});`);
      lines.push(`var ${r} = ${t} - ${q} * ${f(s)};`);
      lines.push(`if (${r} < 0.0) { ${q} = ${q} - 1.0; ${r} = ${r} + ${f(s)}; }`);
      lines.push(`if (${r} >= ${f(s)}) { ${q} = ${q} + 1.0; ${r} = ${r} - ${f(s)}; }`);
      t = r;
    }
    operands.forEach((o, j) => {
      const st = o.strides[k]!;
      if (!direct[j] && st !== 0) terms[j]!.push(st === 1 ? q : `${q} * ${f(st)}`);
    });
  }
  return operands.map((o, j) => {
    if (direct[j]) return o.base ? `${tVar} - 0.5 + ${f(o.base)}` : `${tVar} - 0.5`;
    return terms[j]!.length ? terms[j]!.join(' + ') : '0.0';
  });
}

/** Reads operand `name` at `offset` according to how it is passed. */
export const read = (name: string, kind: ArgKind, offset: string): string =>
  kind === 'scalar' ? name : `${name}[${offset}]`;

export interface KernelSource {
  readonly source: string;
  readonly natives: readonly string[];
}

const fn = (args: readonly string[], body: readonly string[]): string =>
  `function(${args.join(', ')}) {\n  ${body.join('\n  ')}\n}`;

const LOCALS = ['x', 'y', 'z'];
/** out[i] = EXPR(x, y, z = the inputs read through broadcast strides), over `outShape`. */
export function elementwiseSource(
  expr: string,
  natives: readonly string[],
  inputs: readonly { kind: ArgKind; strides: readonly number[] }[],
  outShape: Shape,
  names: readonly string[],
): KernelSource {
  const lines = ['var t0 = this.thread.x + 0.5;'];
  const offs = emitOffsets(
    lines,
    't0',
    outShape,
    inputs.map((x) => ({ strides: x.kind === 'scalar' ? outShape.map(() => 0) : x.strides, base: 0 })),
    '',
  );
  inputs.forEach((x, j) => lines.push(`var ${LOCALS[j]!} = ${read(names[j]!, x.kind, offs[j]!)};`));
  lines.push(`return ${expr};`);
  return { source: fn(names, lines), natives };
}

/** out[i] = x[base + Σ coord·stride]: permute, expand, slice, copy. */
export function gatherSource(kind: ArgKind, strides: readonly number[], base: number, outShape: Shape): KernelSource {
  const lines = ['var t0 = this.thread.x + 0.5;'];
  const [off] = emitOffsets(
    lines,
    't0',
    outShape,
    [{ strides: kind === 'scalar' ? outShape.map(() => 0) : strides, base }],
    '',
  );
  lines.push(`return ${read('a', kind, off!)};`);
  return { source: fn(['a'], lines), natives: [] };
}

/**
 * Batched matmul: output (batch…, m, n) flat; A read as a[aBatch + i·ars + p·acs], B as
 * b[bBatch + p·brs + j·bcs]. The inner loop has a literal bound and is unrolled by 4.
 */
export function matmulSource(
  ka: ArgKind,
  kb: ArgKind,
  batch: Shape,
  aBatch: readonly number[],
  bBatch: readonly number[],
  m: number,
  n: number,
  k: number,
  ars: number,
  acs: number,
  brs: number,
  bcs: number,
): KernelSource {
  const lines = ['var t0 = this.thread.x + 0.5;'];
  const shape = [...batch, m, n];
  const [ao, bo] = emitOffsets(
    lines,
    't0',
    shape,
    [
      { strides: [...aBatch, ars, 0], base: 0 },
      { strides: [...bBatch, 0, bcs], base: 0 },
    ],
    '',
  );
  lines.push(`var ao = ${ao};`, `var bo = ${bo};`, 'var s = 0.0;');
  const k4 = Math.floor(k / 4);
  const A = (p: string): string => `a[ao + ${p} * ${f(acs)}]`;
  const B = (p: string): string => `b[bo + ${p} * ${f(brs)}]`;
  if (ka === 'scalar' || kb === 'scalar') throw new Error('matmul operands are never uniforms');
  if (k4 > 0) {
    lines.push(`for (var p = 0; p < ${k4}; p++) {`);
    lines.push('  var pf = p * 4.0;');
    for (let u = 0; u < 4; u++) lines.push(`  s += ${A(`(pf + ${f(u)})`)} * ${B(`(pf + ${f(u)})`)};`);
    lines.push('}');
  }
  for (let p = k4 * 4; p < k; p++) lines.push(`s += ${A(f(p))} * ${B(f(p))};`);
  lines.push('return s;');
  return { source: fn(['a', 'b'], lines), natives: [] };
}

/**
 * Blocked summation: shaders have no float64, and the GLSL compiler may simplify Kahan's
 * compensation away (it is not bound to IEEE order), so terms are summed in blocks of 32 and
 * blocks of 32 blocks: the error grows like 32 + 32 + n/1024 roundings instead of n.
 */
const SUM_DECL = 'var p1 = 0.0; var p2 = 0.0; var c1 = 0.0; var c2 = 0.0;';
const SUM_STEP =
  'p1 += v; c1 += 1.0; if (c1 >= 32.0) { p2 += p1; p1 = 0.0; c1 = 0.0; c2 += 1.0; ' +
  'if (c2 >= 32.0) { acc += p2; p2 = 0.0; c2 = 0.0; } }';

/**
 * Reduces over `axes` (sum/max/min): one thread per kept element loops over the reduced
 * elements, decomposing the loop counter over the reduced sub-shape.
 */
export function reduceSource(
  op: 'sum' | 'max' | 'min',
  kind: ArgKind,
  shape: Shape,
  axes: readonly number[],
): KernelSource {
  const st = stridesOf(shape);
  const keptShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const redShape = axes.map((a) => shape[a]!);
  const redStrides = axes.map((a) => st[a]!);
  const R = redShape.reduce((x, y) => x * y, 1);
  const lines = ['var t0 = this.thread.x + 0.5;'];
  const [base] = emitOffsets(
    lines,
    't0',
    keptShape,
    [{ strides: keptShape.map((d, i) => (d === 1 ? 0 : st[i]!)), base: 0 }],
    'o',
  );
  lines.push(`var xb = ${base};`);
  const init = op === 'sum' ? '0.0' : op === 'max' ? '-3.4e38' : '3.4e38';
  lines.push(`var acc = ${init};`, SUM_DECL);
  lines.push(`for (var r = 0; r < ${R}; r++) {`);
  const inner: string[] = ['var u0 = r + 0.5;'];
  const [off] = emitOffsets(inner, 'u0', redShape, [{ strides: redStrides, base: 0 }], 'r');
  inner.push(`var v = ${read('a', kind, `xb + ${off}`)};`);
  inner.push(op === 'sum' ? SUM_STEP : op === 'max' ? 'acc = Math.max(acc, v);' : 'acc = Math.min(acc, v);');
  for (const l of inner) lines.push(`  ${l}`);
  lines.push('}');
  lines.push(op === 'sum' ? 'return acc + (p2 + p1);' : 'return acc;');
  return { source: fn(['a'], lines), natives: [] };
}

/** Splits the output index of a fused update into segment `seg` and element `i` (n per segment). */
const segment = (n: number): string[] => [
  'var t = this.thread.x + 0.5;',
  `var seg = Math.floor(t / ${f(n)});`,
  `var i = t - seg * ${f(n)};`,
  `if (i < 0.0) { seg = seg - 1.0; i = i + ${f(n)}; }`,
  `if (i >= ${f(n)}) { seg = seg + 1.0; i = i - ${f(n)}; }`,
  'i = Math.floor(i);',
];

/**
 * Fused Adam/AdamW step over flat buffers of length n, mirroring optim/updates.ts adamUpdate
 * (PyTorch's operation order). One launch writes 3n values [m', v', θ'], read back at once.
 * Hyper-parameters are uniforms, so every step of a parameter shares one compiled kernel.
 */
export function adamSource(n: number): KernelSource {
  const lines = [
    ...segment(n),
    'var pv = p[i];',
    'var g = sgn * gr[i];',
    'if (decoupled > 0.5) { pv = pv * decay; }',
    'g = g + wd * pv;',
    'var mo = m[i];',
    'var m2 = mo + w1 * (g - mo);',
    'if (w1 >= 0.5) { m2 = g - (g - mo) * (1.0 - w1); }',
    'var v2 = v[i] * beta2 + w2 * g * g;',
    'if (seg < 0.5) { return m2; }',
    'if (seg < 1.5) { return v2; }',
    'var denom = Math.sqrt(v2) / bc2Sqrt + eps;',
    'return pv + (-stepSize * m2) / denom;',
  ];
  return {
    source: fn(
      ['p', 'gr', 'm', 'v', 'sgn', 'w1', 'beta2', 'w2', 'eps', 'wd', 'decay', 'decoupled', 'stepSize', 'bc2Sqrt'],
      lines,
    ),
    natives: [],
  };
}

/** Fused SGD (with momentum) step mirroring optim/updates.ts sgdUpdate: writes 2n values [buf', θ']. */
export function sgdSource(n: number): KernelSource {
  const lines = [
    ...segment(n),
    'var pv = p[i];',
    'var g = sgn * gr[i] + wd * pv;',
    'var b2 = 0.0;',
    'if (hasBuf > 0.5) {',
    '  b2 = buf[i] * momentum + damp * g;',
    '  if (first > 0.5) { b2 = g; }',
    '  if (nesterov > 0.5) { g = g + momentum * b2; } else { g = b2; }',
    '}',
    'if (seg < 0.5) { return b2; }',
    'return pv + (-lr) * g;',
  ];
  return {
    source: fn(['p', 'gr', 'buf', 'sgn', 'lr', 'momentum', 'damp', 'wd', 'nesterov', 'first', 'hasBuf'], lines),
    natives: [],
  };
}

/**
 * First pass of a two-pass reduction of a contiguous [rows, R] array: thread (o, c) reduces
 * elements [c·C, min((c+1)·C, R)) of row o. One thread per output would loop R times serially.
 */
export function chunkReduceSource(
  op: 'sum' | 'max' | 'min',
  kind: ArgKind,
  rows: number,
  R: number,
  C: number,
): KernelSource {
  const nc = Math.ceil(R / C);
  const lines = ['var t0 = this.thread.x + 0.5;'];
  // Row o and chunk c of this thread.
  if (rows === 1) lines.push('var c = Math.floor(t0);', 'var o = 0.0;');
  else if (nc === 1) lines.push('var o = Math.floor(t0);', 'var c = 0.0;');
  else {
    lines.push(
      `var o = Math.floor(t0 / ${f(nc)});`,
      `var tc = t0 - o * ${f(nc)};`,
      `if (tc < 0.0) { o = o - 1.0; tc = tc + ${f(nc)}; }`,
      `if (tc >= ${f(nc)}) { o = o + 1.0; tc = tc - ${f(nc)}; }`,
      'var c = Math.floor(tc);',
    );
  }
  const o = 'o',
    c = 'c';
  const init = op === 'sum' ? '0.0' : op === 'max' ? '-3.4e38' : '3.4e38';
  lines.push(`var start = ${c} * ${f(C)};`, `var rowBase = ${o} * ${f(R)};`, `var acc = ${init};`, SUM_DECL);
  lines.push(`for (var j = 0; j < ${C}; j++) {`);
  lines.push('  var idx = start + j;');
  lines.push(`  if (idx < ${f(R)}) {`);
  lines.push(`    var v = ${read('a', kind, 'rowBase + idx')};`);
  lines.push(
    op === 'sum' ? `    ${SUM_STEP}` : op === 'max' ? '    acc = Math.max(acc, v);' : '    acc = Math.min(acc, v);',
  );
  lines.push('  }', '}', op === 'sum' ? 'return acc + (p2 + p1);' : 'return acc;');
  return { source: fn(['a'], lines), natives: [] };
}
