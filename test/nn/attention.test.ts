/**
 * scaledDotProductAttention, MultiheadAttention and TransformerEncoderLayer against independent
 * references written with plain loops over numbers, plus float64 gradchecks on small sizes.
 */
import { describe, expect, it } from 'vitest';
import {
  Generator,
  gradcheck,
  gradgradcheck,
  nn,
  scaledDotProductAttention,
  scaledDotProductAttentionWithWeights,
  Tensor,
  tensor,
  ValueError,
  ShapeError,
} from '../../src/index.js';
import { rnd } from '../helpers.js';

type M = number[][];
const mat = (t: Tensor, rows: number, colsN: number, off = 0): M =>
  Array.from({ length: rows }, (_, i) => Array.from({ length: colsN }, (_, j) => t.data[off + i * colsN + j]!));
const mm = (a: M, b: M): M => a.map((r) => b[0]!.map((_, j) => r.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
const tr = (a: M): M => a[0]!.map((_, j) => a.map((r) => r[j]!));
function softmaxRows(a: M): M {
  return a.map((r) => {
    const m = Math.max(...r);
    if (m === -Infinity) return r.map(() => 0);
    const e = r.map((v) => Math.exp(v - m));
    const s = e.reduce((x, y) => x + y, 0);
    return e.map((v) => v / s);
  });
}
/** One [L, E] × [S, E] × [S, Ev] attention with an additive [L, S] mask. */
function refAttention(q: M, k: M, v: M, mask: M | null, scale: number): { out: M; w: M } {
  const s = mm(q, tr(k)).map((r, i) => r.map((x, j) => x * scale + (mask ? mask[i]![j]! : 0)));
  const w = softmaxRows(s);
  return { out: mm(w, v), w };
}
const flat = (ms: M[]): number[] => ms.flat(2);
function close(actual: Tensor, expected: number[], tol = 1e-10): void {
  expect(actual.size).toBe(expected.length);
  const a = Array.from(actual.data);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i]! - expected[i]!) <= tol * (1 + Math.abs(expected[i]!)))) {
      throw new Error(`element ${i}: got ${a[i]}, expected ${expected[i]} (tol ${tol})`);
    }
  }
}

describe('scaledDotProductAttention', () => {
  const B = 2,
    L = 3,
    S = 4,
    E = 5,
    EV = 2;
  const q = rnd([B, L, E], 1),
    k = rnd([B, S, E], 2),
    v = rnd([B, S, EV], 3);
  const per = (b: number): [M, M, M] => [mat(q, L, E, b * L * E), mat(k, S, E, b * S * E), mat(v, S, EV, b * S * EV)];

  it('matches a loop reference without a mask (default scale 1/√E)', () => {
    const out = scaledDotProductAttention(q, k, v);
    expect(out.shape).toEqual([B, L, EV]);
    close(out, flat([0, 1].map((b) => refAttention(...per(b), null, 1 / Math.sqrt(E)).out)));
  });
  it('adds a float mask, honours scale, and broadcasts the mask over the batch', () => {
    const fm = rnd([L, S], 4);
    const out = scaledDotProductAttention(q, k, v, { attnMask: fm.detach(), scale: 0.3 });
    close(out, flat([0, 1].map((b) => refAttention(...per(b), mat(fm, L, S), 0.3).out)));
  });
  it('a boolean (int32) mask keeps the positions where it is true', () => {
    const keep = [
      [1, 0, 1, 1],
      [0, 1, 1, 0],
      [1, 1, 1, 1],
    ];
    const bm = tensor(keep, { dtype: 'int32' });
    const add = keep.map((r) => r.map((x) => (x ? 0 : -Infinity)));
    const out = scaledDotProductAttention(q, k, v, { attnMask: bm });
    close(out, flat([0, 1].map((b) => refAttention(...per(b), add, 1 / Math.sqrt(E)).out)));
  });
  it('isCausal keeps j ≤ i (top-left aligned as torch, also when L ≠ S)', () => {
    const add = Array.from({ length: L }, (_, i) => Array.from({ length: S }, (_, j) => (j <= i ? 0 : -Infinity)));
    const out = scaledDotProductAttention(q, k, v, { isCausal: true });
    close(out, flat([0, 1].map((b) => refAttention(...per(b), add, 1 / Math.sqrt(E)).out)));
  });
  it('a fully masked row gives zeros, not NaN (torch ≥ 2.5 safe softmax), and its gradient is finite', () => {
    const bm = tensor(
      [
        [0, 0, 0, 0],
        [1, 1, 0, 0],
        [1, 1, 1, 1],
      ],
      { dtype: 'int32' },
    );
    const qq = q.detach().requiresGrad_();
    const out = scaledDotProductAttention(qq, k.detach(), v.detach(), { attnMask: bm });
    expect(Array.from(out.slice([null, [0, 1]]).data)).toEqual([0, 0, 0, 0]);
    out.sum().backward();
    expect(Array.from(qq.grad!.data).every(Number.isFinite)).toBe(true);
  });
  it('dropout scales kept weights by 1/(1−p), zeroes the rest, and is reproducible from a generator', () => {
    const plain = scaledDotProductAttentionWithWeights(q, k, v).weights;
    const a = scaledDotProductAttentionWithWeights(q, k, v, { dropoutP: 0.5, generator: new Generator(7) });
    const b = scaledDotProductAttention(q, k, v, { dropoutP: 0.5, generator: new Generator(7) });
    const w = Array.from(a.weights.data),
      p = Array.from(plain.data);
    expect(w.some((x) => x === 0) && w.some((x) => x !== 0)).toBe(true);
    w.forEach((x, i) => expect(x === 0 || Math.abs(x - 2 * p[i]!) < 1e-12).toBe(true));
    expect(Array.from(b.data)).toEqual(Array.from(a.output.data));
    close(a.output, Array.from(a.weights.matmul(v).data));
  });
  it('gradchecks in float64 (plain, float mask, causal, 4-D heads)', () => {
    const fm = rnd([L, S], 5);
    expect(gradcheck((a, b, c) => scaledDotProductAttention(a, b, c), [q, k, v]).ok).toBe(true);
    expect(gradcheck((a, b, c, m) => scaledDotProductAttention(a, b, c, { attnMask: m }), [q, k, v, fm]).ok).toBe(true);
    expect(
      gradcheck((a, b, c) => scaledDotProductAttention(a, b, c, { isCausal: true, scale: 0.7 }), [q, k, v]).ok,
    ).toBe(true);
    const q4 = rnd([1, 2, 3, 2], 6),
      k4 = rnd([1, 2, 3, 2], 7),
      v4 = rnd([1, 2, 3, 2], 8);
    expect(gradcheck((a, b, c) => scaledDotProductAttention(a, b, c, { isCausal: true }), [q4, k4, v4]).ok).toBe(true);
  });
  it('the fused op (default without dropout) equals the composite oracle in value and gradients', () => {
    const fm = rnd([L, S], 9);
    const cases: [string, (a: Tensor, b: Tensor, c: Tensor, m: Tensor, fused: boolean) => Tensor][] = [
      ['plain', (a, b, c, _m, fused) => scaledDotProductAttention(a, b, c, { fused })],
      ['causal', (a, b, c, _m, fused) => scaledDotProductAttention(a, b, c, { isCausal: true, scale: 0.4, fused })],
      ['float mask', (a, b, c, m, fused) => scaledDotProductAttention(a, b, c, { attnMask: m, fused })],
      [
        'broadcast k/v',
        (a, _b, _c, _m, fused) => scaledDotProductAttention(a, k.slice([[0, 1]]), v.slice([[0, 1]]), { fused }),
      ],
    ];
    for (const [name, f] of cases) {
      const run = (fused: boolean): number[][] => {
        const ins = [q, k, v, fm].map((t) => t.detach().requiresGrad_());
        const out = f(ins[0]!, ins[1]!, ins[2]!, ins[3]!, fused);
        out.mul(rnd(out.shape, 10).detach()).sum().backward();
        return [Array.from(out.data), ...ins.map((t) => (t.grad ? Array.from(t.grad.data) : []))];
      };
      const [a, b] = [run(true), run(false)];
      a.forEach((xs, i) => xs.forEach((x, j) => expect(Math.abs(x - b[i]![j]!), `${name} #${i}`).toBeLessThan(1e-12)));
    }
    expect(gradgradcheck((a, b, c) => scaledDotProductAttention(a, b, c, { isCausal: true }), [q, k, v]).ok).toBe(true);
    expect(gradgradcheck((a, b, c, m) => scaledDotProductAttention(a, b, c, { attnMask: m }), [q, k, v, fm]).ok).toBe(
      true,
    );
  });
  it('refuses bad arguments with messages that name them', () => {
    expect(() => scaledDotProductAttention(q, k, v, { isCausal: true, attnMask: rnd([L, S], 1) })).toThrow(
      /either attnMask or isCausal/,
    );
    expect(() => scaledDotProductAttention(q, rnd([B, S, 4], 1), v)).toThrow(ShapeError);
    expect(() => scaledDotProductAttention(q, k, rnd([B, 3, EV], 1))).toThrow(/same sequence length/);
    expect(() => scaledDotProductAttention(q, k, v, { attnMask: rnd([2, 2], 1) })).toThrow(/does not broadcast/);
    expect(() => scaledDotProductAttention(q, k, v, { dropoutP: 2 })).toThrow(/dropoutP/);
    expect(() => scaledDotProductAttention(q, k, v, { causal: true } as never)).toThrow(/unknown option 'causal'/);
    expect(() => scaledDotProductAttention(q, k, v, { attnMask: rnd([L, S], 1, 'any', 'float32') })).toThrow(/dtype/);
  });
});

/** torch's multi-head attention written out with loops; x: [N][L][E] batch-first. */
function refMha(
  mha: nn.MultiheadAttention,
  xq: M[],
  xk: M[],
  xv: M[],
  addMask: (n: number, h: number) => M | null,
): { out: M[]; w: M[][] } {
  const e = mha.embedDim,
    h = mha.numHeads,
    hd = e / h;
  const W = mat(mha.inProjWeight!, 3 * e, e),
    bIn = Array.from(mha.inProjBias!.data);
  const Wo = mat(mha.outProj.weight, e, e),
    bo = Array.from(mha.outProj.bias!.data);
  const lin = (x: M, w: M, b: number[]): M => mm(x, tr(w)).map((r) => r.map((v, j) => v + b[j]!));
  const out: M[] = [],
    ws: M[][] = [];
  xq.forEach((_, n) => {
    const q = lin(xq[n]!, W.slice(0, e), bIn.slice(0, e));
    const k = lin(xk[n]!, W.slice(e, 2 * e), bIn.slice(e, 2 * e));
    const v = lin(xv[n]!, W.slice(2 * e), bIn.slice(2 * e));
    const headsOut: M[] = [],
      headsW: M[] = [];
    for (let hh = 0; hh < h; hh++) {
      const sl = (m: M): M => m.map((r) => r.slice(hh * hd, (hh + 1) * hd));
      const r = refAttention(sl(q), sl(k), sl(v), addMask(n, hh), 1 / Math.sqrt(hd));
      headsOut.push(r.out);
      headsW.push(r.w);
    }
    const concatd = headsOut[0]!.map((_, i) => headsOut.flatMap((ho) => ho[i]!));
    out.push(lin(concatd, Wo, bo));
    ws.push(headsW);
  });
  return { out, w: ws };
}
const batches = (t: Tensor, n: number, l: number, e: number): M[] =>
  Array.from({ length: n }, (_, b) => mat(t, l, e, b * l * e));

describe('MultiheadAttention', () => {
  const N = 2,
    L = 3,
    S = 4,
    E = 4,
    H = 2;
  it("uses torch's parameter names and layouts", () => {
    const mha = new nn.MultiheadAttention(E, H, { dtype: 'float64' });
    const sd = mha.stateDict();
    expect(Object.keys(sd)).toEqual(['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
    expect(sd['in_proj_weight']!.shape).toEqual([3 * E, E]);
    expect(Array.from(sd['in_proj_bias']!.data).every((x) => x === 0)).toBe(true);
    expect(Array.from(sd['out_proj.bias']!.data).every((x) => x === 0)).toBe(true);
    const kv = new nn.MultiheadAttention(E, H, { kdim: 3, vdim: 5 });
    expect(Object.keys(kv.stateDict())).toEqual([
      'q_proj_weight',
      'k_proj_weight',
      'v_proj_weight',
      'in_proj_bias',
      'out_proj.weight',
      'out_proj.bias',
    ]);
    expect(kv.kProjWeight!.shape).toEqual([E, 3]);
    expect(Object.keys(new nn.MultiheadAttention(E, H, { bias: false }).stateDict())).toEqual([
      'in_proj_weight',
      'out_proj.weight',
    ]);
    // A state dict round-trips by name.
    const other = new nn.MultiheadAttention(E, H, { dtype: 'float64' });
    other.loadStateDict(sd);
    expect(Array.from(other.inProjWeight!.data)).toEqual(Array.from(mha.inProjWeight!.data));
  });

  it('matches the loop reference (cross-attention, sequence-first, weights per head and averaged)', () => {
    const mha = new nn.MultiheadAttention(E, H, { dtype: 'float64', generator: new Generator(3) });
    mha.inProjBias!.data.set(Array.from({ length: 3 * E }, (_, i) => 0.1 * i - 0.5));
    mha.outProj.bias!.data.set([0.3, -0.2, 0.1, 0]);
    const xq = rnd([N, L, E], 11),
      xk = rnd([N, S, E], 12),
      xv = rnd([N, S, E], 13);
    const ref = refMha(mha, batches(xq, N, L, E), batches(xk, N, S, E), batches(xv, N, S, E), () => null);
    const [out, w] = mha.forward(xq.transpose(0, 1), xk.transpose(0, 1), xv.transpose(0, 1), {
      averageAttnWeights: false,
    });
    expect(out.shape).toEqual([L, N, E]);
    close(out.transpose(0, 1).reshape([-1]), flat(ref.out));
    expect(w!.shape).toEqual([N, H, L, S]);
    close(w!, ref.w.flat(3));
    const [, avg] = mha.forward(xq.transpose(0, 1), xk.transpose(0, 1), xv.transpose(0, 1));
    close(avg!, ref.w.flatMap((hs) => hs[0]!.map((r, i) => r.map((x, j) => (x + hs[1]![i]![j]!) / 2))).flat());
  });

  it('batchFirst, self-attention, boolean attnMask (true = masked) and keyPaddingMask (true = ignore)', () => {
    const mha = new nn.MultiheadAttention(E, H, { dtype: 'float64', batchFirst: true, generator: new Generator(4) });
    const x = rnd([N, L, E], 21);
    const am = [
      [0, 1, 1],
      [0, 0, 1],
      [0, 0, 0],
    ];
    const kp = [
      [0, 0, 1],
      [0, 0, 0],
    ];
    const add = (n: number): M => am.map((r) => r.map((m, j) => (m || kp[n]![j] ? -Infinity : 0)));
    const ref = refMha(mha, batches(x, N, L, E), batches(x, N, L, E), batches(x, N, L, E), (n) => add(n));
    const [out, w] = mha.forward(x, x, x, {
      attnMask: tensor(am, { dtype: 'int32' }),
      keyPaddingMask: tensor(kp, { dtype: 'int32' }),
      averageAttnWeights: false,
    });
    close(out, flat(ref.out));
    close(w!, ref.w.flat(3));
    // isCausal without a mask builds the same causal mask as am.
    const [causal] = mha.forward(x, x, x, { isCausal: true, needWeights: false });
    const [masked, none] = mha.forward(x, x, x, { attnMask: tensor(am, { dtype: 'int32' }), needWeights: false });
    expect(none).toBeNull();
    close(causal, Array.from(masked.data), 1e-14);
    // Unbatched input [L, E].
    const [one] = mha.forward(x.slice([[0, 1]]).reshape([L, E]));
    close(one, Array.from(mha.forward(x)[0].slice([[0, 1]]).data), 1e-14);
  });

  it('a 3-D float attnMask [N·H, L, S] is added per head', () => {
    const mha = new nn.MultiheadAttention(E, H, { dtype: 'float64', batchFirst: true, generator: new Generator(5) });
    const x = rnd([N, L, E], 31),
      fm = rnd([N * H, L, L], 32).detach();
    const ref = refMha(mha, batches(x, N, L, E), batches(x, N, L, E), batches(x, N, L, E), (n, h) =>
      mat(fm, L, L, (n * H + h) * L * L),
    );
    close(mha.forward(x, x, x, { attnMask: fm })[0], flat(ref.out));
  });

  it('gradchecks in float64 through inputs and parameters', () => {
    const mha = new nn.MultiheadAttention(E, H, { dtype: 'float64', batchFirst: true, generator: new Generator(6) });
    const x = rnd([1, L, E], 41);
    expect(gradcheck((a) => mha.forward(a, a, a, { isCausal: true })[0], [x]).ok).toBe(true);
    const w = mha.inProjWeight!;
    const ff = (p: Tensor): Tensor => {
      const saved = Float64Array.from(w.data);
      w.data.set(p.data);
      try {
        return mha.forward(x.detach(), x.detach(), x.detach())[0];
      } finally {
        w.data.set(saved);
      }
    };
    // Parameter gradient from backward against central differences on the same function.
    const [out] = mha.forward(x.detach());
    const g = rnd(out.shape, 42).detach();
    mha.zeroGrad();
    out.mul(g).sum().backward();
    const analytic = Array.from(w.grad!.data);
    const base = Float64Array.from(w.data);
    for (const i of [0, 5, 17, 30, 47]) {
      const p = base.slice(),
        m = base.slice();
      p[i]! += 1e-6;
      m[i]! -= 1e-6;
      const fp = ff(new Tensor(p, w.shape)).mul(g).sum().item(),
        fm = ff(new Tensor(m, w.shape)).mul(g).sum().item();
      expect(Math.abs((fp - fm) / 2e-6 - analytic[i]!)).toBeLessThan(1e-6);
    }
  });

  it('dropout acts only in training mode', () => {
    const mha = new nn.MultiheadAttention(E, H, { dropout: 0.5, batchFirst: true, generator: new Generator(8) });
    const x = rnd([N, L, E], 51, 'any', 'float32').detach();
    const a = mha.forward(x)[0],
      b = mha.forward(x)[0];
    expect(Array.from(a.data)).not.toEqual(Array.from(b.data));
    mha.eval();
    expect(Array.from(mha.forward(x)[0].data)).toEqual(Array.from(mha.forward(x)[0].data));
  });

  it('refuses bad arguments', () => {
    expect(() => new nn.MultiheadAttention(5, 2)).toThrow(/divisible/);
    expect(() => new nn.MultiheadAttention(4, 2, { batch_first: true } as never)).toThrow(
      /unknown option 'batch_first'/,
    );
    const mha = new nn.MultiheadAttention(E, H);
    const x = rnd([L, N, E], 1, 'any', 'float32');
    expect(() => mha.forward(x, x, x, { attnMask: tensor([[1, 0]], { dtype: 'int32' }) })).toThrow(/attnMask must be/);
    expect(() => mha.forward(x, x, x, { keyPaddingMask: tensor([[1, 0]], { dtype: 'int32' }) })).toThrow(
      /keyPaddingMask must be/,
    );
    expect(() => mha.forward(rnd([L, N, 3], 1, 'any', 'float32'))).toThrow(/expected embedDim 4/);
    expect(() => mha.forward(x.double())).toThrow(/dtype/);
    expect(() => mha.forward(x, x, x, { needweights: false } as never)).toThrow(ValueError);
  });
});

describe('TransformerEncoderLayer', () => {
  const D = 4,
    H = 2,
    F = 6,
    N = 2,
    L = 3;
  it("has torch's parameter names", () => {
    const layer = new nn.TransformerEncoderLayer(D, H, { dimFeedforward: F });
    expect(Object.keys(layer.stateDict())).toEqual([
      'self_attn.in_proj_weight',
      'self_attn.in_proj_bias',
      'self_attn.out_proj.weight',
      'self_attn.out_proj.bias',
      'linear1.weight',
      'linear1.bias',
      'linear2.weight',
      'linear2.bias',
      'norm1.weight',
      'norm1.bias',
      'norm2.weight',
      'norm2.bias',
    ]);
    expect(layer.linear1.weight.shape).toEqual([F, D]);
  });
  for (const normFirst of [false, true]) {
    for (const activation of ['relu', 'gelu'] as const) {
      it(`post/pre-norm wiring matches a reference (normFirst=${normFirst}, ${activation}) and gradchecks`, () => {
        const layer = new nn.TransformerEncoderLayer(D, H, {
          dimFeedforward: F,
          dropout: 0.1,
          normFirst,
          activation,
          batchFirst: true,
          dtype: 'float64',
          generator: new Generator(9),
        }).eval();
        layer.norm1.weight!.data.set([1.5, 0.5, 1, 2]);
        layer.norm2.bias!.data.set([0.1, 0.2, -0.3, 0]);
        const x = rnd([N, L, D], 61);
        // Reference: loops for the layer norms and the feed-forward block, refMha for attention.
        const ln = (m: M, w: Tensor, b: Tensor): M =>
          m.map((r) => {
            const mu = r.reduce((s, v) => s + v, 0) / r.length;
            const va = r.reduce((s, v) => s + (v - mu) ** 2, 0) / r.length;
            return r.map((v, j) => ((v - mu) / Math.sqrt(va + 1e-5)) * w.data[j]! + b.data[j]!);
          });
        const act = (v: number): number =>
          activation === 'relu' ? Math.max(v, 0) : 0.5 * v * (1 + erf(v / Math.SQRT2));
        const lin = (m: M, l: nn.Linear): M =>
          mm(m, tr(mat(l.weight, l.outFeatures, l.inFeatures))).map((r) => r.map((v, j) => v + l.bias!.data[j]!));
        const add = (a: M, b: M): M => a.map((r, i) => r.map((v, j) => v + b[i]![j]!));
        const sa = (m: M): M => refMha(layer.selfAttn, [m], [m], [m], () => null).out[0]!;
        const ff = (m: M): M =>
          lin(
            lin(m, layer.linear1).map((r) => r.map(act)),
            layer.linear2,
          );
        const expected = batches(x, N, L, D).map((m) => {
          if (normFirst) {
            const y = add(m, sa(ln(m, layer.norm1.weight!, layer.norm1.bias!)));
            return add(y, ff(ln(y, layer.norm2.weight!, layer.norm2.bias!)));
          }
          const y = ln(add(m, sa(m)), layer.norm1.weight!, layer.norm1.bias!);
          return ln(add(y, ff(y)), layer.norm2.weight!, layer.norm2.bias!);
        });
        close(layer.forward(x), flat(expected), 1e-9);
        expect(gradcheck((a) => layer.forward(a, { isCausal: true }), [rnd([1, L, D], 62)]).ok).toBe(true);
      });
    }
  }
  it('dropout is active in training and off in eval', () => {
    const layer = new nn.TransformerEncoderLayer(D, H, { dimFeedforward: F, generator: new Generator(1) });
    const x = rnd([L, N, D], 71, 'any', 'float32').detach();
    expect(Array.from(layer.forward(x).data)).not.toEqual(Array.from(layer.forward(x).data));
    layer.eval();
    expect(Array.from(layer.forward(x).data)).toEqual(Array.from(layer.forward(x).data));
    expect(() => new nn.TransformerEncoderLayer(D, H, { activation: 'swish' as never })).toThrow(/activation must be/);
  });
});

/** erf by Abramowitz–Stegun 7.1.26 is too coarse for 1e-9; use the series / continued fraction. */
function erf(x: number): number {
  const t = Math.abs(x);
  if (t < 3) {
    let sum = 0,
      term = t;
    for (let n = 0; n < 100; n++) {
      sum += term / (2 * n + 1);
      term *= (-t * t) / (n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  return Math.sign(x) * (1 - (Math.exp(-t * t) / (t * Math.sqrt(Math.PI))) * (1 - 1 / (2 * t * t)));
}

describe('fused causal attention keeps its forward weights for one first-order backward', () => {
  it('a retained graph backpropagated twice agrees with the composite; second order still holds', () => {
    const [q, k, v] = [rnd([2, 4, 3], 31), rnd([2, 4, 3], 32), rnd([2, 4, 2], 33)];
    const fused = () => scaledDotProductAttention(q, k, v, { isCausal: true });
    const comp = () => scaledDotProductAttention(q, k, v, { isCausal: true, fused: false });
    const grads = (f: () => Tensor): number[][] => {
      for (const t of [q, k, v]) t.grad = null;
      const y = f().pow(2).sum();
      y.backward(undefined, { retainGraph: true });
      y.backward();
      return [q, k, v].map((t) => Array.from(t.grad!.data));
    };
    const a = grads(fused),
      b = grads(comp);
    a.forEach((g, i) => g.forEach((x, j) => expect(x).toBeCloseTo(b[i]![j]!, 12)));
    // second order (createGraph recomputes the weights with recording on): gradgradcheck
    expect(
      gradgradcheck(
        (qq: Tensor, kk: Tensor, vv: Tensor) => scaledDotProductAttention(qq, kk, vv, { isCausal: true }),
        [q, k, v],
      ).ok,
    ).toBe(true);
  });
});
