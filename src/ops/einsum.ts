/**
 * einsum over the existing primitives: diagonals by masking, lone labels summed early, then
 * pairwise contractions left to right as one batched matmul each (permute + reshape around it).
 */
import { allocate } from '../dtype.js';
import { ShapeError, ValueError } from '../errors.js';
import { fmt, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { matmul } from './matmul.js';

/** A labelled operand: labels[i] names axis i ('…' axes get labels of their own). */
interface Term {
  t: Tensor;
  labels: string[];
}
const ELL = '.';

function parseSpec(spec: string, x: Tensor, nEll: number, op: string): string[] {
  const labels: string[] = [];
  const parts = spec.split('...');
  if (parts.length > 2) throw new ValueError(`${op}: an operand may contain at most one ellipsis, got '${spec}'`);
  const check = (s: string): void => {
    for (const ch of s) {
      if (!/[a-zA-Z]/.test(ch)) {
        throw new ValueError(`${op}: invalid subscript '${ch}' in '${spec}' (letters and '...' only)`);
      }
    }
  };
  parts.forEach(check);
  labels.push(...parts[0]!);
  if (parts.length === 2) {
    const k = x.ndim - parts[0]!.length - parts[1]!.length;
    if (k < 0) {
      throw new ShapeError(
        `${op}: subscripts '${spec}' need at least ${x.ndim - k} dimensions, operand has shape ${fmt(x.shape)}`,
      );
    }
    for (let i = nEll - k; i < nEll; i++) labels.push(`${ELL}${i}`);
    labels.push(...parts[1]!);
  }
  if (labels.length !== x.ndim) {
    throw new ShapeError(
      `${op}: subscripts '${spec}' name ${labels.length} dimensions but the operand has shape ${fmt(x.shape)}`,
    );
  }
  return labels;
}

/** Takes the diagonal over repeated labels within one operand (x·I summed over the repeat). */
function diagonalize(term: Term, op: string): Term {
  let { t, labels } = term;
  for (;;) {
    const i = labels.findIndex((l, k) => labels.indexOf(l) !== k);
    if (i < 0) return { t, labels };
    const j = labels.indexOf(labels[i]!);
    const n = t.shape[j]!;
    if (t.shape[i] !== n) {
      throw new ShapeError(`${op}: label '${labels[i]}' has sizes ${n} and ${t.shape[i]} in one operand`);
    }
    const eye = allocate(t.dtype, n * n);
    for (let k = 0; k < n; k++) eye[k * n + k] = 1;
    const shape = t.shape.map((_, k) => (k === j || k === i ? n : 1));
    t = t.mul(new Tensor(eye, shape)).sum(i);
    labels = labels.filter((_, k) => k !== i);
  }
}

/** Sums over labels not in `keep`. */
function sumOut(term: Term, keep: ReadonlySet<string>): Term {
  const axes = term.labels.flatMap((l, i) => (keep.has(l) ? [] : [i]));
  if (axes.length === 0) return term;
  return { t: term.t.sum(axes), labels: term.labels.filter((l) => keep.has(l)) };
}

/** Contracts two terms over the labels in `contract`; the result's labels are batch, a-only, b-only. */
function contractPair(a: Term, b: Term, keep: ReadonlySet<string>, size: Map<string, number>): Term {
  const inA = new Set(a.labels),
    inB = new Set(b.labels);
  const batch = a.labels.filter((l) => inB.has(l) && keep.has(l));
  const sum = a.labels.filter((l) => inB.has(l) && !keep.has(l));
  const aOnly = a.labels.filter((l) => !inB.has(l));
  const bOnly = b.labels.filter((l) => !inA.has(l));
  const arrange = (x: Term, order: string[]): Tensor => {
    const perm = order.map((l) => x.labels.indexOf(l));
    const full = order.map((l) => size.get(l)!);
    return x.t.permute(perm).expand(full); // size-1 (broadcast) axes stretch to the label's size
  };
  const n = (ls: string[]): number => sizeOf(ls.map((l) => size.get(l)!));
  const A = arrange(a, [...batch, ...aOnly, ...sum]).reshape([n(batch), n(aOnly), n(sum)]);
  const B = arrange(b, [...batch, ...sum, ...bOnly]).reshape([n(batch), n(sum), n(bOnly)]);
  const labels = [...batch, ...aOnly, ...bOnly];
  return { t: matmul(A, B).reshape(labels.map((l) => size.get(l)!)), labels };
}

/**
 * Einstein summation, as torch.einsum: `einsum('bij,bjk->bik', a, b)`. Supports implicit output
 * (labels seen once, in alphabetical order), '...' (broadcast), repeated labels (diagonals)
 * and any number of operands (contracted left to right).
 */
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  const op = 'einsum';
  const eqn = equation.replace(/\s+/g, '');
  const [lhs, rhs, more] = eqn.split('->');
  if (more !== undefined || lhs === undefined) {
    throw new ValueError(`${op}: equation '${equation}' must have the form 'ab,bc->ac'`);
  }
  const specs = lhs.split(',');
  if (specs.length !== operands.length) {
    throw new ValueError(
      `${op}: equation '${equation}' names ${specs.length} operands, but ${operands.length} were given`,
    );
  }
  const ellRank = (s: string, i: number): number =>
    s.includes('...') ? operands[i]!.ndim - s.replace('...', '').length : 0;
  const nEll = Math.max(0, ...specs.map(ellRank));
  let terms: Term[] = specs.map((s, i) => ({ t: operands[i]!, labels: parseSpec(s, operands[i]!, nEll, op) }));
  const ellLabels = Array.from({ length: nEll }, (_, i) => `${ELL}${i}`);
  // Output labels.
  let out: string[];
  if (rhs === undefined) {
    const count = new Map<string, number>();
    for (const t of terms) for (const l of t.labels) if (!l.startsWith(ELL)) count.set(l, (count.get(l) ?? 0) + 1);
    out = [
      ...ellLabels,
      ...[...count]
        .filter(([, c]) => c === 1)
        .map(([l]) => l)
        .sort(),
    ];
  } else {
    const parts = rhs.split('...');
    if (parts.length > 2) throw new ValueError(`${op}: the output may contain at most one ellipsis, got '${rhs}'`);
    for (const ch of parts.join('')) {
      if (!/[a-zA-Z]/.test(ch)) throw new ValueError(`${op}: invalid output subscript '${ch}'`);
    }
    out = parts.length === 2 ? [...parts[0]!, ...ellLabels, ...parts[1]!] : [...parts[0]!];
    const wideEll = (t: Term): boolean => t.labels.some((l, i) => l.startsWith(ELL) && t.t.shape[i] !== 1);
    if (parts.length === 1 && nEll > 0 && terms.some(wideEll)) {
      throw new ValueError(`${op}: '...' dimensions must appear in the output ('${equation}')`);
    }
    if (new Set(out).size !== out.length) throw new ValueError(`${op}: output subscripts '${rhs}' repeat a label`);
  }
  // Sizes, with broadcasting (a size-1 axis stretches).
  const size = new Map<string, number>();
  for (const t of terms) {
    t.labels.forEach((l, i) => {
      const d = t.t.shape[i]!,
        prev = size.get(l);
      if (prev === undefined || prev === 1) size.set(l, d);
      else if (d !== prev && d !== 1) {
        throw new ShapeError(`${op}: label '${l.startsWith(ELL) ? '...' : l}' has sizes ${prev} and ${d}`);
      }
    });
  }
  for (const l of out) {
    if (!size.has(l)) throw new ValueError(`${op}: output label '${l}' does not appear in any operand`);
  }
  terms = terms.map((t) => diagonalize(t, op));
  const needed = (from: number): Set<string> => {
    const s = new Set(out);
    for (let k = from; k < terms.length; k++) for (const l of terms[k]!.labels) s.add(l);
    return s;
  };
  // Sum labels that appear in only one operand (and not in the output) before contracting.
  terms = terms.map((t, i) => {
    const others = new Set(out);
    terms.forEach((u, k) => k !== i && u.labels.forEach((l) => others.add(l)));
    return sumOut(t, others);
  });
  let acc = terms[0]!;
  for (let i = 1; i < terms.length; i++) acc = sumOut(contractPair(acc, terms[i]!, needed(i + 1), size), needed(i + 1));
  acc = sumOut(acc, new Set(out));
  const perm = out.map((l) => acc.labels.indexOf(l));
  const res = acc.t.permute(perm);
  return res.expand(out.map((l) => size.get(l)!));
}
