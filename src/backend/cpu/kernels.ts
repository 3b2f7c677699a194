/**
 * Reference CPU kernels over typed arrays: plain loops, written for clarity first.
 * They are the correctness oracle for every faster backend.
 */
import type { TypedArray } from '../../dtype.js';
import type { ArgReduceOp, BinaryOp, ReduceOp, UnaryOp } from '../backend.js';
import { broadcastStrides, shapeEq, sizeOf, stridesOf, type Shape } from '../../shape.js';
import { forEachRow } from './loops.js';
import { IndexError } from '../../errors.js';

/** erf to ~1e-15 relative: Taylor series below 2.5, continued fraction for erfc above. */
export function erf(x: number): number {
  if (x !== x) return x;
  const ax = Math.abs(x);
  if (ax < 2.5) {
    const x2 = x * x;
    let term = x,
      sum = x;
    for (let n = 1; n < 100; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 6) return Math.sign(x);
  // erfc(ax) = exp(-ax²)/√π · 1/(ax + (1/2)/(ax + 1/(ax + (3/2)/(ax + …)))), evaluated bottom-up.
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

export const UNARY: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
  tanh: Math.tanh,
  sigmoid,
  relu: (x) => (x > 0 ? x : x === x ? 0 : x),
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x === x ? 0 : x),
  sin: Math.sin,
  cos: Math.cos,
  erf,
  log1p: Math.log1p,
  expm1: Math.expm1,
  atan: Math.atan,
  asin: Math.asin,
  acos: Math.acos,
  floor: Math.floor,
  ceil: Math.ceil,
  // Half to even, as torch.round: ties go to the even neighbour.
  round: (x) => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x)),
  trunc: Math.trunc,
  log2: Math.log2,
  log10: Math.log10,
};

export const UNARY_OPS = Object.keys(UNARY) as UnaryOp[];

export const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  maximum: (a, b) => (a > b || a !== a ? a : b),
  minimum: (a, b) => (a < b || a !== a ? a : b),
  eq: (a, b) => +(a === b),
  ne: (a, b) => +(a !== b),
  lt: (a, b) => +(a < b),
  le: (a, b) => +(a <= b),
  gt: (a, b) => +(a > b),
  ge: (a, b) => +(a >= b),
  atan2: Math.atan2,
};

export const BINARY_OPS = Object.keys(BINARY) as BinaryOp[];

export function unary(op: UnaryOp, x: TypedArray, out: TypedArray): void {
  const f = UNARY[op];
  const n = out.length;
  if (op === 'neg') for (let i = 0; i < n; i++) out[i] = -x[i]!;
  else if (op === 'exp') for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]!);
  else for (let i = 0; i < n; i++) out[i] = f(x[i]!);
}

export function binary(
  op: BinaryOp,
  a: TypedArray,
  as: Shape,
  b: TypedArray,
  bs: Shape,
  out: TypedArray,
  os: Shape,
): void {
  const n = out.length;
  const f = BINARY[op];
  if (shapeEq(as, os) && shapeEq(bs, os)) {
    switch (op) {
      case 'add':
        for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
        return;
      case 'sub':
        for (let i = 0; i < n; i++) out[i] = a[i]! - b[i]!;
        return;
      case 'mul':
        for (let i = 0; i < n; i++) out[i] = a[i]! * b[i]!;
        return;
      case 'div':
        for (let i = 0; i < n; i++) out[i] = a[i]! / b[i]!;
        return;
      default:
        for (let i = 0; i < n; i++) out[i] = f(a[i]!, b[i]!);
        return;
    }
  }
  if (b.length === 1 && shapeEq(as, os)) {
    const y = b[0]!;
    switch (op) {
      case 'add':
        for (let i = 0; i < n; i++) out[i] = a[i]! + y;
        return;
      case 'mul':
        for (let i = 0; i < n; i++) out[i] = a[i]! * y;
        return;
      default:
        for (let i = 0; i < n; i++) out[i] = f(a[i]!, y);
        return;
    }
  }
  if (a.length === 1 && shapeEq(bs, os)) {
    const x = a[0]!;
    for (let i = 0; i < n; i++) out[i] = f(x, b[i]!);
    return;
  }
  forEachRow(os, [broadcastStrides(as, os), broadcastStrides(bs, os)], (offs, len, inner, row) => {
    let ia = offs[0]!,
      ib = offs[1]!,
      o = row * len;
    const sa = inner[0]!,
      sb = inner[1]!;
    for (let i = 0; i < len; i++, ia += sa, ib += sb) out[o++] = f(a[ia]!, b[ib]!);
  });
}

export function where(
  c: TypedArray,
  cs: Shape,
  a: TypedArray,
  as: Shape,
  b: TypedArray,
  bs: Shape,
  out: TypedArray,
  os: Shape,
): void {
  forEachRow(
    os,
    [broadcastStrides(cs, os), broadcastStrides(as, os), broadcastStrides(bs, os)],
    (offs, len, inner, row) => {
      let ic = offs[0]!,
        ia = offs[1]!,
        ib = offs[2]!,
        o = row * len;
      for (let i = 0; i < len; i++, ic += inner[0]!, ia += inner[1]!, ib += inner[2]!)
        out[o++] = c[ic] ? a[ia]! : b[ib]!;
    },
  );
}

type ReduceKernel = (x: TypedArray, xs: Shape, axes: readonly number[], out: TypedArray) => void;
/** Trailing axes of a contiguous array (or all axes): rows of `inner` elements; null for the strided walk. */
function trailingInner(xs: Shape, axes: readonly number[]): number | null {
  const trailing = axes.length > 0 && axes.every((a, i) => a === xs.length - axes.length + i);
  if (axes.length === 0) return 1;
  return trailing ? sizeOf(axes.map((a) => xs[a] ?? 1)) : null;
}
/** Walks x (strided) against `out`, whose shape keeps the reduced axes as 1. */
function reduceWalk(
  xs: Shape,
  axes: readonly number[],
  body: (ix: number, sx: number, io: number, so: number, len: number) => void,
): void {
  const os = xs.map((d, i) => (axes.includes(i) ? 1 : d));
  forEachRow(xs, [stridesOf(xs), broadcastStrides(os, xs)], (offs, len, inner) => {
    body(offs[0] ?? 0, inner[0] ?? 0, offs[1] ?? 0, inner[1] ?? 0, len);
  });
}
const sumKernel: ReduceKernel = (x, xs, axes, out) => {
  out.fill(0);
  if (x.length === 0) return;
  const inner = trailingInner(xs, axes);
  if (inner !== null) {
    for (let r = 0, base = 0; base < x.length; r++, base += inner) {
      let acc = 0;
      for (let i = 0; i < inner; i++) acc += x[base + i]!;
      out[r] = acc;
    }
    return;
  }
  // Accumulate in float64 (one double per output), rounded once at the end: a float32
  // accumulator's error grows with the length of the reduced axis.
  const accs = new Float64Array(out.length);
  reduceWalk(xs, axes, (ix, sx, io, so, len) => {
    for (let i = 0; i < len; i++, ix += sx, io += so) accs[io]! += x[ix]!;
  });
  out.set(accs);
};
/** max/min: `better(v, acc)` says v replaces acc; NaN always wins and then sticks. */
const extremumKernel =
  (better: (v: number, acc: number) => boolean, intInit: number, floatInit: number): ReduceKernel =>
  (x, xs, axes, out) => {
    out.fill(x instanceof Int32Array ? intInit : floatInit);
    if (x.length === 0) return;
    const inner = trailingInner(xs, axes);
    if (inner !== null) {
      for (let r = 0, base = 0; base < x.length; r++, base += inner) {
        let acc = out[r]!;
        for (let i = 0; i < inner && acc === acc; i++) {
          const v = x[base + i]!;
          if (better(v, acc) || v !== v) acc = v;
        }
        out[r] = acc;
      }
      return;
    }
    reduceWalk(xs, axes, (ix, sx, io, so, len) => {
      for (let i = 0; i < len; i++, ix += sx, io += so) {
        const v = x[ix]!;
        if (better(v, out[io]!) || v !== v) out[io] = v;
      }
    });
  };
/** Reduces `x` (shape xs) into `out` whose shape keeps reduced axes as 1: one kernel per ReduceOp. */
export const REDUCE: Record<ReduceOp, ReduceKernel> = {
  sum: sumKernel,
  max: extremumKernel((v, acc) => v > acc, -2147483648, -Infinity),
  min: extremumKernel((v, acc) => v < acc, 2147483647, Infinity),
};
export const REDUCE_OPS = Object.keys(REDUCE) as ReduceOp[];

/** Inclusive prefix sum of x (shape xs) along `axis` into out (same shape). */
export function cumsum(x: TypedArray, xs: Shape, axis: number, out: TypedArray): void {
  const n = xs[axis] ?? 1;
  const inner = sizeOf(xs.slice(axis + 1));
  const outer = sizeOf(xs.slice(0, axis));
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let acc = 0;
      for (let i = 0, p = o * n * inner + j; i < n; i++, p += inner) out[p] = acc += x[p]!;
    }
  }
}

export function argReduce(op: ArgReduceOp, x: TypedArray, xs: Shape, axis: number, out: TypedArray): void {
  const n = xs[axis]!;
  const inner = sizeOf(xs.slice(axis + 1));
  const outer = sizeOf(xs.slice(0, axis));
  const better = op === 'argmax' ? (v: number, b: number) => v > b : (v: number, b: number) => v < b;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * n * inner + j;
      let best = x[base]!,
        bi = 0;
      for (let i = 1; i < n && best === best; i++) {
        const v = x[base + i * inner]!;
        if (better(v, best) || v !== v) {
          best = v;
          bi = i;
        }
      }
      out[o * inner + j] = bi;
    }
  }
}

/**
 * out[m,n] = A[m,k] @ B[k,n] at the given offsets, with A read as a[ao + i*ars + p*acs]
 * and B as b[bo + p*brs + j*bcs] (so transposed operands cost nothing). `out` must be zeroed.
 */
export function gemm(
  a: TypedArray,
  ao: number,
  ars: number,
  acs: number,
  b: TypedArray,
  bo: number,
  brs: number,
  bcs: number,
  out: TypedArray,
  oo: number,
  m: number,
  k: number,
  n: number,
): void {
  for (let i = 0; i < m; i++) {
    const orow = oo + i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[ao + i * ars + p * acs]!;
      const brow = bo + p * brs;
      if (bcs === 1) for (let j = 0; j < n; j++) out[orow + j]! += aip * b[brow + j]!;
      else for (let j = 0; j < n; j++) out[orow + j]! += aip * b[brow + j * bcs]!;
    }
  }
}

export function matmul(
  a: TypedArray,
  as: Shape,
  b: TypedArray,
  bs: Shape,
  out: TypedArray,
  os: Shape,
  ta: boolean,
  tb: boolean,
): void {
  const nd = os.length;
  const m = os[nd - 2]!,
    n = os[nd - 1]!,
    k = ta ? as[as.length - 2]! : as[as.length - 1]!;
  // Stored layouts: a is (m,k) or, transposed, (k,m); b is (k,n) or (n,k).
  const [ars, acs] = ta ? [1, m] : [k, 1];
  const [brs, bcs] = tb ? [1, k] : [n, 1];
  const batch = os.slice(0, nd - 2);
  const aB = broadcastStrides(as.slice(0, -2), batch).map((s) => s * m * k);
  const bB = broadcastStrides(bs.slice(0, -2), batch).map((s) => s * k * n);
  const nb = sizeOf(batch);
  if (nb === 0 || m * n === 0) return;
  if (batch.length === 0) {
    gemm(a, 0, ars, acs, b, 0, brs, bcs, out, 0, m, k, n);
    return;
  }
  forEachRow(batch, [aB, bB], (offs, len, inner, row) => {
    for (let i = 0; i < len; i++) {
      gemm(
        a,
        offs[0]! + i * inner[0]!,
        ars,
        acs,
        b,
        offs[1]! + i * inner[1]!,
        brs,
        bcs,
        out,
        (row * len + i) * m * n,
        m,
        k,
        n,
      );
    }
  });
}

/**
 * `shape` walked through `strides` as at most 4 nested loops: size-1 axes dropped, axes contiguous
 * in the strided operand merged; [d0, d1, d2, d3, s0, s1, s2, s3], or null when more than 4 remain.
 */
export type Loops4 = [number, number, number, number, number, number, number, number];
export function merge4(shape: Shape, strides: readonly number[]): Loops4 | null {
  const d: number[] = [],
    st: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const l = d.length - 1;
    if (l >= 0 && st[l] === strides[i]! * shape[i]!) (d[l] = d[l]! * shape[i]!), (st[l] = strides[i]!);
    else d.push(shape[i]!), st.push(strides[i]!);
  }
  if (d.length > 4) return null;
  while (d.length < 4) d.unshift(1), st.unshift(0);
  return [...d, ...st] as Loops4;
}
/** Copies x, read through arbitrary strides `xsStrides` laid over `os`, plus a base offset, into contiguous `out`. */
export function stridedCopy(
  x: TypedArray,
  base: number,
  xStrides: readonly number[],
  out: TypedArray,
  os: Shape,
): void {
  const m = merge4(os, xStrides);
  if (m) {
    const [d0, d1, d2, n, s0, s1, s2, s3] = m;
    let o = 0;
    for (let a = 0; a < d0; a++)
      for (let b = 0; b < d1; b++)
        for (let c = 0; c < d2; c++) {
          let ix = base + a * s0 + b * s1 + c * s2;
          if (s3 === 1 && n >= 256) out.set(x.subarray(ix, ix + n), o), (o += n);
          else for (let e = 0; e < n; e++, ix += s3) out[o++] = x[ix]!;
        }
    return;
  }
  forEachRow(os, [xStrides], (offs, len, inner, row) => {
    let ix = base + offs[0]!,
      o = row * len;
    const s = inner[0]!;
    if (s === 1) for (let i = 0; i < len; i++) out[o++] = x[ix++]!;
    else for (let i = 0; i < len; i++, ix += s) out[o++] = x[ix]!;
  });
}

/** Writes contiguous `src` (shape ss) into `out` through strides plus a base offset. */
export function stridedWrite(
  src: TypedArray,
  ss: Shape,
  out: TypedArray,
  base: number,
  oStrides: readonly number[],
): void {
  const m = merge4(ss, oStrides);
  if (m) {
    const [d0, d1, d2, n, s0, s1, s2, s3] = m;
    let i = 0;
    for (let a = 0; a < d0; a++)
      for (let b = 0; b < d1; b++)
        for (let c = 0; c < d2; c++)
          for (let e = 0, io = base + a * s0 + b * s1 + c * s2; e < n; e++, io += s3) out[io] = src[i++]!;
    return;
  }
  forEachRow(ss, [oStrides], (offs, len, inner, row) => {
    let io = base + offs[0]!,
      s = row * len;
    const st = inner[0]!;
    for (let i = 0; i < len; i++, io += st) out[io] = src[s++]!;
  });
}

/** Flat offsets into x (shape xs) of every index element along `axis` (index shape is), range-checked. */
export function indexOffsets(
  xs: Shape,
  axis: number,
  idx: TypedArray,
  is: Shape,
  op: string,
): Int32Array | Float64Array {
  const xst = stridesOf(xs);
  const stIdx = xst.map((s, d) => (d === axis ? 0 : s));
  const dim = xs[axis]!,
    step = xst[axis]!;
  const offs = sizeOf(xs) > 0x7fffffff ? new Float64Array(idx.length) : new Int32Array(idx.length);
  const ints = idx instanceof Int32Array;
  forEachRow(is, [stIdx], (base, len, inner, row) => {
    let xo = base[0]!;
    const s = inner[0]!;
    for (let i = 0, p = row * len; i < len; i++, p++, xo += s) {
      let j = idx[p]!;
      if (!(j >= -dim && j < dim) || (!ints && !Number.isInteger(j)))
        throw new IndexError(`${op}: index ${j} is out of range for axis ${axis} of size ${dim}`);
      if (j < 0) j += dim;
      offs[p] = xo + j * step;
    }
  });
  return offs;
}

/**
 * Stable sort of the indices `a[0..m)` by `v[index]` (ascending, or descending with `sign` = -1):
 * insertion-sorted runs of 16, then bottom-up merges through `tmp`. Returns the array holding the result.
 */
function mergeSortIdx(a: Int32Array, tmp: Int32Array, m: number, v: Float64Array, sign: number): Int32Array {
  const RUN = 16;
  for (let lo = 0; lo < m; lo += RUN) {
    const hi = Math.min(lo + RUN, m);
    for (let i = lo + 1; i < hi; i++) {
      const k = a[i]!,
        kv = sign * v[k]!;
      let j = i - 1;
      while (j >= lo && sign * v[a[j]!]! > kv) {
        a[j + 1] = a[j]!;
        j--;
      }
      a[j + 1] = k;
    }
  }
  let src = a,
    dst = tmp;
  for (let w = RUN; w < m; w *= 2) {
    for (let lo = 0; lo < m; lo += 2 * w) {
      const mid = Math.min(lo + w, m),
        hi = Math.min(lo + 2 * w, m);
      let i = lo,
        j = mid,
        o = lo;
      while (i < mid && j < hi) dst[o++] = sign * v[src[j]!]! < sign * v[src[i]!]! ? src[j++]! : src[i++]!;
      while (i < mid) dst[o++] = src[i++]!;
      while (j < hi) dst[o++] = src[j++]!;
    }
    [src, dst] = [dst, src];
  }
  return src;
}

/** Stable argsort of every row along `axis` (NaN above every number, as PyTorch), written into `out`. */
export function argsort(x: TypedArray, shape: Shape, axis: number, descending: boolean, out: TypedArray): void {
  const n = shape[axis]!;
  const inner = sizeOf(shape.slice(axis + 1));
  const outer = sizeOf(shape.slice(0, axis));
  const vals = new Float64Array(n),
    keys = new Int32Array(n),
    tmp = new Int32Array(n),
    nans = new Int32Array(n);
  const sign = descending ? -1 : 1;
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < inner; r++) {
      const base = o * n * inner + r;
      let m = 0,
        q = 0;
      for (let k = 0; k < n; k++) {
        const v = x[base + k * inner]!;
        vals[k] = v;
        if (v !== v)
          nans[q++] = k; // NaNs are equal among themselves: they keep their order
        else keys[m++] = k;
      }
      const sorted = mergeSortIdx(keys, tmp, m, vals, sign);
      let p = base;
      if (descending) for (let k = 0; k < q; k++, p += inner) out[p] = nans[k]!;
      for (let k = 0; k < m; k++, p += inner) out[p] = sorted[k]!;
      if (!descending) for (let k = 0; k < q; k++, p += inner) out[p] = nans[k]!;
    }
  }
}
