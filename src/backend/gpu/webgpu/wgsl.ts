/**
 * WGSL compute shaders for the WebGPU mode, generated per shape like the headless-gl mode's
 * (sizes and strides are literals, the source text is the pipeline-cache key). Index arithmetic
 * is in u32 (exact), so unlike GLSL no quotient corrections are needed. One-element operands are
 * read from a small `u` array of scalars, so `x * 0.5` and `x * 0.25` share one pipeline.
 */
import type { BinaryOp, UnaryOp } from '../../backend.js';
import { stridesOf, type Shape } from '../../../shape.js';
import { WG, groupsFor } from './device.js';

/** How an operand reaches a kernel: a storage buffer, or scalar `u[k]`. */
export type WKind = { buf: true } | { buf: false; slot: number };

const lit = (n: number): string => `${n}u`;
/** Bindings: buffer inputs 0..k-1 (read), output k, scalars k+1 when any. */
function bindings(names: readonly string[], kinds: readonly WKind[], nScalars: number): string {
  const out: string[] = [];
  let b = 0;
  names.forEach((n, i) => {
    if (kinds[i]!.buf) out.push(`@group(0) @binding(${b++}) var<storage, read> ${n}: array<f32>;`);
  });
  out.push(`@group(0) @binding(${b++}) var<storage, read_write> o: array<f32>;`);
  if (nScalars > 0) out.push(`@group(0) @binding(${b}) var<storage, read> u: array<f32>;`);
  return out.join('\n');
}

/** The entry point: thread index `i` over `size` outputs. */
function entry(size: number, body: readonly string[], helpers: readonly string[] = []): string {
  const [nx] = groupsFor(size);
  return [
    ...helpers,
    `@compute @workgroup_size(${WG}) fn main(@builtin(workgroup_id) wg: vec3<u32>, ` +
      '@builtin(local_invocation_index) li: u32) {',
    `  let i = (wg.y * ${lit(nx)} + wg.x) * ${lit(WG)} + li;`,
    `  if (i >= ${lit(size)}) { return; }`,
    ...body.map((l) => `  ${l}`),
    '}',
  ].join('\n');
}

/**
 * Emits code splitting index `v` over `shape` into coordinates and returns each operand's
 * offset expression (u32). Operands that read the flat index directly need no decomposition.
 */
function offsets(
  lines: string[],
  v: string,
  shape: Shape,
  operands: readonly { strides: readonly number[]; base: number }[],
  prefix: string,
): string[] {
  const contig = stridesOf(shape);
  const direct = operands.map((o) => o.strides.every((s, k) => shape[k] === 1 || s === contig[k]));
  const terms: string[][] = operands.map((o) => (o.base ? [lit(o.base)] : []));
  let last = -1;
  for (let k = 0; k < shape.length; k++) {
    if (shape[k]! > 1 && operands.some((o, j) => !direct[j] && o.strides[k] !== 0)) last = k;
  }
  let rest = v;
  for (let k = 0; k <= last; k++) {
    if (shape[k] === 1) continue;
    const q = `q${prefix}${k}`;
    if (contig[k] === 1) lines.push(`let ${q} = ${rest};`);
    else {
      lines.push(`let ${q} = ${rest} / ${lit(contig[k]!)};`);
      lines.push(`let r${prefix}${k} = ${rest} % ${lit(contig[k]!)};`);
      rest = `r${prefix}${k}`;
    }
    operands.forEach((o, j) => {
      const st = o.strides[k]!;
      if (!direct[j] && st !== 0) terms[j]!.push(st === 1 ? q : `${q} * ${lit(st)}`);
    });
  }
  return operands.map((o, j) => {
    if (direct[j]) return o.base ? `${v} + ${lit(o.base)}` : v;
    return terms[j]!.length ? terms[j]!.join(' + ') : '0u';
  });
}

const read = (name: string, k: WKind, off: string): string => (k.buf ? `${name}[${off}]` : `u[${k.slot}]`);

/** WGSL helpers, included when an expression uses them. */
export const HELPERS: Readonly<Record<string, string>> = {
  tg_tanh: `fn tg_tanh(x: f32) -> f32 {
  let t = exp(-2.0 * abs(x));
  let r = (1.0 - t) / (1.0 + t);
  return select(r, -r, x < 0.0);
}`,
  tg_sigmoid: `fn tg_sigmoid(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}`,
  tg_erf: `fn tg_erf(x: f32) -> f32 {
  let ax = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * ax);
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
    + 0.254829592) * t * exp(-ax * ax);
  return select(y, -y, x < 0.0);
}`,
  tg_log1p: `fn tg_log1p(x: f32) -> f32 {
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  return log(u) * x / (u - 1.0);
}`,
  // inf and NaN are built from runtime bits: as constant expressions WGSL rejects them.
  tg_pow: `fn tg_pow(x: f32, y: f32) -> f32 {
  let zero = bitcast<u32>(x) & 0u;
  if (y == 0.0) { return 1.0; }
  if (x == 0.0) { return select(bitcast<f32>(0x7f800000u | zero), 0.0, y > 0.0); }
  let r = pow(abs(x), y);
  if (x < 0.0) {
    if (floor(y) != y) { return bitcast<f32>(0x7fc00000u | zero); }
    if (abs(y) % 2.0 == 1.0) { return -r; }
  }
  return r;
}`,
  tg_sign: `fn tg_sign(x: f32) -> f32 { return select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0); }`,
};

/** Unary ops as WGSL expressions of `x` (null: CPU fallback). */
export const UNARY_WGSL: Record<UnaryOp, [string, string[]] | null> = {
  neg: ['-x', []],
  exp: ['exp(x)', []],
  log: ['log(x)', []],
  sqrt: ['sqrt(x)', []],
  abs: ['abs(x)', []],
  tanh: ['tg_tanh(x)', ['tg_tanh']],
  sigmoid: ['tg_sigmoid(x)', ['tg_sigmoid']],
  relu: ['select(0.0, x, x > 0.0)', []],
  sign: ['tg_sign(x)', ['tg_sign']],
  sin: ['sin(x)', []],
  cos: ['cos(x)', []],
  erf: ['tg_erf(x)', ['tg_erf']],
  log1p: ['tg_log1p(x)', ['tg_log1p']],
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

/** Binary ops as WGSL expressions of `x` and `y`; comparisons give 1/0. */
export const BINARY_WGSL: Record<BinaryOp, [string, string[]] | null> = {
  add: ['x + y', []],
  sub: ['x - y', []],
  mul: ['x * y', []],
  div: ['x / y', []],
  pow: ['tg_pow(x, y)', ['tg_pow']],
  maximum: ['max(x, y)', []],
  minimum: ['min(x, y)', []],
  eq: ['select(0.0, 1.0, x == y)', []],
  ne: ['select(0.0, 1.0, x != y)', []],
  lt: ['select(0.0, 1.0, x < y)', []],
  le: ['select(0.0, 1.0, x <= y)', []],
  gt: ['select(0.0, 1.0, x > y)', []],
  ge: ['select(0.0, 1.0, x >= y)', []],
  atan2: null,
};

const NAMES = ['a', 'b', 'c'];
const LOCALS = ['x', 'y', 'z'];

/** out[i] = EXPR(x, y, z = inputs read through broadcast strides). */
export function elementwiseWgsl(
  expr: string,
  helpers: readonly string[],
  inputs: readonly { kind: WKind; strides: readonly number[] }[],
  outShape: Shape,
): string {
  const size = outShape.reduce((p, d) => p * d, 1);
  const body: string[] = [];
  const offs = offsets(
    body,
    'i',
    outShape,
    inputs.map((x) => ({ strides: x.kind.buf ? x.strides : outShape.map(() => 0), base: 0 })),
    '',
  );
  inputs.forEach((x, j) => body.push(`let ${LOCALS[j]!} = ${read(NAMES[j]!, x.kind, offs[j]!)};`));
  body.push(`o[i] = ${expr};`);
  const names = NAMES.slice(0, inputs.length);
  const nScalars = inputs.filter((x) => !x.kind.buf).length;
  return `${bindings(
    names,
    inputs.map((x) => x.kind),
    nScalars,
  )}\n${entry(
    size,
    body,
    helpers.map((h) => HELPERS[h]!),
  )}`;
}

/** out[i] = a[base + Σ coord·stride]: permute, expand, slice, copy. */
export function gatherWgsl(strides: readonly number[], base: number, outShape: Shape): string {
  const size = outShape.reduce((p, d) => p * d, 1);
  const body: string[] = [];
  const [off] = offsets(body, 'i', outShape, [{ strides, base }], '');
  body.push(`o[i] = a[${off}];`);
  return `${bindings(['a'], [{ buf: true }], 0)}\n${entry(size, body)}`;
}

/** Batched matmul: A read as a[aBatch + i·ars + p·acs], B as b[bBatch + p·brs + j·bcs]. */
export function matmulWgsl(
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
): string {
  const shape = [...batch, m, n];
  const size = shape.reduce((p, d) => p * d, 1);
  const body: string[] = [];
  const [ao, bo] = offsets(
    body,
    'i',
    shape,
    [
      { strides: [...aBatch, ars, 0], base: 0 },
      { strides: [...bBatch, 0, bcs], base: 0 },
    ],
    '',
  );
  body.push(
    `let ao = ${ao};`,
    `let bo = ${bo};`,
    'var s = 0.0;',
    `for (var p = 0u; p < ${lit(k)}; p++) {`,
    `  s = fma(a[ao + p * ${lit(acs)}], b[bo + p * ${lit(brs)}], s);`,
    '}',
    'o[i] = s;',
  );
  return `${bindings(['a', 'b'], [{ buf: true }, { buf: true }], 0)}\n${entry(size, body)}`;
}

/** Blocked summation (blocks of 32 and 32·32), as in the headless-gl shaders. */
const SUM_DECL = 'var acc = 0.0; var p1 = 0.0; var p2 = 0.0; var c1 = 0u; var c2 = 0u;';
const SUM_STEP =
  'p1 += v; c1++; if (c1 == 32u) { p2 += p1; p1 = 0.0; c1 = 0u; c2++; if (c2 == 32u) { acc += p2; p2 = 0.0; c2 = 0u; } }';
const FOLD = { max: 'acc = max(acc, v);', min: 'acc = min(acc, v);' } as const;
const INIT = { max: '-3.4e38', min: '3.4e38' } as const;

/** Reduces over `axes`: one thread per kept element loops over the reduced elements. */
export function reduceWgsl(op: 'sum' | 'max' | 'min', shape: Shape, axes: readonly number[]): string {
  const st = stridesOf(shape);
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const red = axes.map((a) => shape[a]!);
  const R = red.reduce((x, y) => x * y, 1);
  const size = kept.reduce((p, d) => p * d, 1);
  const body: string[] = [];
  const [base] = offsets(body, 'i', kept, [{ strides: kept.map((d, i) => (d === 1 ? 0 : st[i]!)), base: 0 }], 'o');
  body.push(`let xb = ${base};`, op === 'sum' ? SUM_DECL : `var acc = ${INIT[op]};`);
  body.push(`for (var r = 0u; r < ${lit(R)}; r++) {`);
  const inner: string[] = [];
  const [off] = offsets(inner, 'r', red, [{ strides: axes.map((a) => st[a]!), base: 0 }], 'r');
  inner.push(`let v = a[xb + ${off}];`, op === 'sum' ? SUM_STEP : FOLD[op]);
  body.push(...inner.map((l) => `  ${l}`), '}', op === 'sum' ? 'o[i] = acc + (p2 + p1);' : 'o[i] = acc;');
  return `${bindings(['a'], [{ buf: true }], 0)}\n${entry(size, body)}`;
}

/** First pass of a two-pass reduction of a contiguous [rows, R] array: thread (row, chunk). */
export function chunkReduceWgsl(op: 'sum' | 'max' | 'min', rows: number, R: number, C: number): string {
  const nc = Math.ceil(R / C);
  const body = [
    `let row = i / ${lit(nc)};`,
    `let start = (i % ${lit(nc)}) * ${lit(C)};`,
    `let end = min(start + ${lit(C)}, ${lit(R)});`,
    `let rb = row * ${lit(R)};`,
    op === 'sum' ? SUM_DECL : `var acc = ${INIT[op]};`,
    'for (var j = start; j < end; j++) {',
    `  let v = a[rb + j]; ${op === 'sum' ? SUM_STEP : FOLD[op]}`,
    '}',
    op === 'sum' ? 'o[i] = acc + (p2 + p1);' : 'o[i] = acc;',
  ];
  return `${bindings(['a'], [{ buf: true }], 0)}\n${entry(rows * nc, body)}`;
}

/** Splits a fused update's index into segment `seg` and element `j` (n per segment). */
const seg = (n: number): string[] => [`let seg = i / ${lit(n)};`, `let j = i % ${lit(n)};`];

/**
 * Fused Adam/AdamW step (optim/updates.ts adamUpdate's operation order) writing [m', v', θ'].
 * Hyper-parameters are scalars u[0..9], so every step of a parameter shares one pipeline.
 */
export function adamWgsl(n: number): string {
  const u = ['sgn', 'w1', 'beta2', 'w2', 'eps', 'wd', 'decay', 'decoupled', 'stepSize', 'bc2Sqrt'];
  const body = [
    ...seg(n),
    ...u.map((name, k) => `let ${name} = u[${k}];`),
    'var pv = a[j];',
    'var g = sgn * b[j];',
    'if (decoupled > 0.5) { pv = pv * decay; }',
    'g = g + wd * pv;',
    'let mo = c[j];',
    'var m2 = mo + w1 * (g - mo);',
    'if (w1 >= 0.5) { m2 = g - (g - mo) * (1.0 - w1); }',
    'let v2 = d[j] * beta2 + w2 * g * g;',
    'if (seg == 0u) { o[i] = m2; return; }',
    'if (seg == 1u) { o[i] = v2; return; }',
    'let denom = sqrt(v2) / bc2Sqrt + eps;',
    'o[i] = pv + (-stepSize * m2) / denom;',
  ];
  const k = [{ buf: true }, { buf: true }, { buf: true }, { buf: true }] as const;
  return `${bindings(['a', 'b', 'c', 'd'], k, 1)}\n${entry(3 * n, body)}`;
}

/** Fused SGD (momentum) step (optim/updates.ts sgdUpdate) writing [buf', θ']; scalars u[0..7]. */
export function sgdWgsl(n: number): string {
  const u = ['sgn', 'lr', 'momentum', 'damp', 'wd', 'nesterov', 'first', 'hasBuf'];
  const body = [
    ...seg(n),
    ...u.map((name, k) => `let ${name} = u[${k}];`),
    'let pv = a[j];',
    'var g = sgn * b[j] + wd * pv;',
    'var b2 = 0.0;',
    'if (hasBuf > 0.5) {',
    '  b2 = c[j] * momentum + damp * g;',
    '  if (first > 0.5) { b2 = g; }',
    '  if (nesterov > 0.5) { g = g + momentum * b2; } else { g = b2; }',
    '}',
    'if (seg == 0u) { o[i] = b2; return; }',
    'o[i] = pv + (-lr) * g;',
  ];
  const k = [{ buf: true }, { buf: true }, { buf: true }] as const;
  return `${bindings(['a', 'b', 'c'], k, 1)}\n${entry(2 * n, body)}`;
}
