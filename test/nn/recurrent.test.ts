/**
 * RNN, LSTM, GRU and their cells against an independent reference written with plain loops over
 * numbers (torch's equations, gate order i,f,g,o and r,z,n), plus float64 gradchecks.
 */
import { describe, expect, it } from 'vitest';
import { Generator, gradcheck, nn, Tensor, ShapeError, ValueError } from '../../src/index.js';
import { rnd } from '../helpers.js';

type V = number[];
const sig = (x: number): number => 1 / (1 + Math.exp(-x));
/** W (rows × cols, row-major in a Tensor) times x. */
const mv = (w: Tensor, rowOff: number, rows: number, x: V): V =>
  Array.from({ length: rows }, (_, r) => x.reduce((s, v, c) => s + w.data[(rowOff + r) * x.length + c]! * v, 0));
const bias = (b: Tensor | undefined, off: number, n: number): V =>
  Array.from({ length: n }, (_, i) => (b ? b.data[off + i]! : 0));
const addV = (...vs: V[]): V => vs[0]!.map((_, i) => vs.reduce((s, v) => s + v[i]!, 0));

type Mode = 'tanh' | 'relu' | 'lstm' | 'gru';
interface W {
  wih: Tensor;
  whh: Tensor;
  bih?: Tensor;
  bhh?: Tensor;
}
/** One step of torch's cell equations. */
function refStep(mode: Mode, w: W, x: V, h: V, c: V): [V, V] {
  const H = h.length;
  const gi = (g: number): V => addV(mv(w.wih, g * H, H, x), bias(w.bih, g * H, H));
  const gh = (g: number): V => addV(mv(w.whh, g * H, H, h), bias(w.bhh, g * H, H));
  if (mode === 'tanh') return [addV(gi(0), gh(0)).map(Math.tanh), c];
  if (mode === 'relu') return [addV(gi(0), gh(0)).map((v) => Math.max(v, 0)), c];
  if (mode === 'lstm') {
    const i = addV(gi(0), gh(0)).map(sig),
      f = addV(gi(1), gh(1)).map(sig);
    const g = addV(gi(2), gh(2)).map(Math.tanh),
      o = addV(gi(3), gh(3)).map(sig);
    const c2 = c.map((cv, k) => f[k]! * cv + i[k]! * g[k]!);
    return [c2.map((cv, k) => o[k]! * Math.tanh(cv)), c2];
  }
  const r = addV(gi(0), gh(0)).map(sig),
    z = addV(gi(1), gh(1)).map(sig);
  const ghn = gh(2);
  const n = addV(
    gi(2),
    ghn.map((v, k) => r[k]! * v),
  ).map(Math.tanh);
  return [n.map((nv, k) => (1 - z[k]!) * nv + z[k]! * h[k]!), c];
}
/** A whole stacked, optionally bidirectional net on one sequence xs [L][in]; returns out [L][D·H], hN/cN [layers·D][H]. */
function refNet(
  mode: Mode,
  sd: Record<string, Tensor>,
  layers: number,
  dirs: number,
  H: number,
  xs: V[],
): { out: V[]; hN: V[]; cN: V[] } {
  let seq = xs;
  const hN: V[] = [],
    cN: V[] = [];
  for (let l = 0; l < layers; l++) {
    const outs: V[][] = [];
    for (let d = 0; d < dirs; d++) {
      const s = `_l${l}${d ? '_reverse' : ''}`;
      const w: W = {
        wih: sd[`weight_ih${s}`]!,
        whh: sd[`weight_hh${s}`]!,
        bih: sd[`bias_ih${s}`],
        bhh: sd[`bias_hh${s}`],
      };
      let h: V = new Array<number>(H).fill(0),
        c: V = new Array<number>(H).fill(0);
      const ys: V[] = new Array<V>(seq.length);
      for (let k = 0; k < seq.length; k++) {
        const t = d ? seq.length - 1 - k : k;
        [h, c] = refStep(mode, w, seq[t]!, h, c);
        ys[t] = h;
      }
      outs.push(ys);
      hN.push(h);
      cN.push(c);
    }
    seq = seq.map((_, t) => outs.flatMap((o) => o[t]!));
  }
  return { out: seq, hN, cN };
}
function close(actual: Tensor, expected: number[], tol = 1e-10): void {
  expect(actual.size).toBe(expected.length);
  actual.data.forEach((a, i) => {
    if (!(Math.abs(a - expected[i]!) <= tol * (1 + Math.abs(expected[i]!))))
      throw new Error(`element ${i}: got ${a}, expected ${expected[i]}`);
  });
}
const seqOf = (x: Tensor, n: number, L: number, I: number, batchFirst: boolean): V[] =>
  Array.from({ length: L }, (_, t) =>
    Array.from({ length: I }, (_, i) => x.data[batchFirst ? (n * L + t) * I + i : (t * x.shape[1]! + n) * I + i]!),
  );

const I = 3,
  H = 2,
  L = 4,
  N = 2;
type Net = nn.RNN | nn.LSTM | nn.GRU;
const make = (mode: Mode, opts: nn.RecurrentOptions): Net =>
  mode === 'lstm'
    ? new nn.LSTM(I, H, opts)
    : mode === 'gru'
      ? new nn.GRU(I, H, opts)
      : new nn.RNN(I, H, { ...opts, nonlinearity: mode });
const runNet = (net: Net, x: Tensor): [Tensor, Tensor, Tensor | null] => {
  if (net instanceof nn.LSTM) {
    const [o, [h, c]] = net.forward(x);
    return [o, h, c];
  }
  const [o, h] = net.forward(x);
  return [o, h, null];
};

describe('RNN / LSTM / GRU', () => {
  it("use torch's parameter names, shapes and order", () => {
    const lstm = new nn.LSTM(I, H, { numLayers: 2, bidirectional: true });
    const names = Object.entries(lstm.stateDict()).map(([k, t]) => `${k}:${t.shape.join('x')}`);
    expect(names).toEqual([
      'weight_ih_l0:8x3',
      'weight_hh_l0:8x2',
      'bias_ih_l0:8',
      'bias_hh_l0:8',
      'weight_ih_l0_reverse:8x3',
      'weight_hh_l0_reverse:8x2',
      'bias_ih_l0_reverse:8',
      'bias_hh_l0_reverse:8',
      'weight_ih_l1:8x4',
      'weight_hh_l1:8x2',
      'bias_ih_l1:8',
      'bias_hh_l1:8',
      'weight_ih_l1_reverse:8x4',
      'weight_hh_l1_reverse:8x2',
      'bias_ih_l1_reverse:8',
      'bias_hh_l1_reverse:8',
    ]);
    expect(Object.keys(new nn.GRU(I, H, { bias: false }).stateDict())).toEqual(['weight_ih_l0', 'weight_hh_l0']);
    expect(new nn.GRU(I, H).stateDict()['weight_ih_l0']!.shape).toEqual([6, 3]);
    expect(Object.keys(new nn.LSTMCell(I, H).stateDict())).toEqual(['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']);
    // torch's init: every weight U(−1/√H, 1/√H).
    const big = new nn.LSTM(4, 16);
    const all = big.parameters().flatMap((p) => Array.from(p.data));
    expect(Math.max(...all.map(Math.abs))).toBeLessThanOrEqual(0.25);
    expect(Math.max(...all.map(Math.abs))).toBeGreaterThan(0.24);
  });

  for (const mode of ['tanh', 'relu', 'lstm', 'gru'] as const) {
    for (const [layers, bidirectional, batchFirst] of [
      [1, false, false],
      [2, true, true],
      [2, false, false],
    ] as const) {
      it(`${mode}: forward matches the loop reference (numLayers ${layers}, bidirectional ${bidirectional}, batchFirst ${batchFirst})`, () => {
        const net = make(mode, {
          numLayers: layers,
          bidirectional,
          batchFirst,
          dtype: 'float64',
          generator: new Generator(1),
        });
        const D = bidirectional ? 2 : 1;
        const x = rnd(batchFirst ? [N, L, I] : [L, N, I], 2).detach();
        const [out, hN, cN] = runNet(net, x);
        expect(out.shape).toEqual(batchFirst ? [N, L, D * H] : [L, N, D * H]);
        expect(hN.shape).toEqual([layers * D, N, H]);
        const sd = net.stateDict();
        const refs = [0, 1].map((n) => refNet(mode, sd, layers, D, H, seqOf(x, n, L, I, batchFirst)));
        const expOut: number[] = [];
        if (batchFirst) refs.forEach((r) => r.out.forEach((row) => expOut.push(...row)));
        else for (let t = 0; t < L; t++) refs.forEach((r) => expOut.push(...r.out[t]!));
        close(out, expOut);
        const expH: number[] = [],
          expC: number[] = [];
        for (let k = 0; k < layers * D; k++)
          refs.forEach((r) => {
            expH.push(...r.hN[k]!);
            expC.push(...r.cN[k]!);
          });
        close(hN, expH);
        if (cN) close(cN, expC);
      });
    }
  }

  it('take initial states, unbatched input, and gradcheck in float64 (input, h0, c0 and weights)', () => {
    for (const mode of ['tanh', 'lstm', 'gru'] as const) {
      const net = make(mode, { numLayers: 2, bidirectional: true, dtype: 'float64', generator: new Generator(3) });
      const x = rnd([3, 1, I], 4),
        h0 = rnd([4, 1, H], 5),
        c0 = rnd([4, 1, H], 6);
      const f = (a: Tensor, h: Tensor, c: Tensor): Tensor => {
        if (net instanceof nn.LSTM) {
          const [o, [hn, cn]] = net.forward(a, [h, c]);
          return o.sum().add(hn.mul(hn).sum()).add(cn.sum());
        }
        const [o, hn] = (net as nn.GRU).forward(a, h);
        return o.mul(o).sum().add(hn.sum());
      };
      expect(gradcheck(f, [x, h0, c0]).ok, mode).toBe(true);
      // Weights: gradcheck through a function of one weight's values.
      const w = net.namedParameters().find(([k]) => k === 'weight_hh_l1_reverse')![1];
      const saved = Float64Array.from(w.data);
      const fw = (v: Tensor): Tensor => {
        // Use v itself as the weight (same storage semantics as an optimizer step would give).
        w.data.set(v.data);
        const [o] = runNet(net, x.detach());
        return o.sum();
      };
      const [o] = runNet(net, x.detach());
      net.zeroGrad();
      o.sum().backward();
      const analytic = Array.from(w.grad!.data);
      for (let i = 0; i < w.size; i++) {
        const p = saved.slice(),
          m = saved.slice();
        p[i]! += 1e-6;
        m[i]! -= 1e-6;
        const num = (fw(new Tensor(p, w.shape)).item() - fw(new Tensor(m, w.shape)).item()) / 2e-6;
        expect(Math.abs(num - analytic[i]!), `${mode} weight ${i}`).toBeLessThan(1e-6);
      }
      w.data.set(saved);
      // Unbatched [L, in] equals batch 1.
      const [ub] = runNet(net, x.detach().reshape([3, I]));
      close(ub, Array.from(runNet(net, x.detach())[0].data), 1e-14);
    }
  });

  it('dropout between layers only while training', () => {
    const net = new nn.GRU(I, H, { numLayers: 2, dropout: 0.5, generator: new Generator(2) });
    const x = rnd([L, N, I], 7, 'any', 'float32').detach();
    const a = net.forward(x)[0],
      b = net.forward(x)[0];
    expect(Array.from(a.data)).not.toEqual(Array.from(b.data));
    net.eval();
    expect(Array.from(net.forward(x)[0].data)).toEqual(Array.from(net.forward(x)[0].data));
  });

  it('refuse bad arguments with messages that name them', () => {
    expect(() => new nn.LSTM(I, 0)).toThrow(/hiddenSize must be a positive integer/);
    expect(() => new nn.GRU(I, H, { batch_first: true } as never)).toThrow(/unknown option 'batch_first'/);
    expect(() => new nn.RNN(I, H, { nonlinearity: 'sigmoid' as never })).toThrow(/nonlinearity/);
    const lstm = new nn.LSTM(I, H);
    expect(() => lstm.forward(rnd([L, N, 5], 1, 'any', 'float32'))).toThrow(ShapeError);
    expect(() =>
      lstm.forward(rnd([L, N, I], 1, 'any', 'float32'), [
        rnd([2, N, H], 1, 'any', 'float32'),
        rnd([1, N, H], 1, 'any', 'float32'),
      ]),
    ).toThrow(/h0 must be \[1,2,2\]/);
    expect(() => lstm.forward(rnd([L, N, I], 1))).toThrow(/dtype/);
    expect(() => lstm.forward(rnd([L, N, I], 1, 'any', 'float32'), [rnd([1, N, H], 1)] as never)).toThrow(ValueError);
  });
});

describe('RNNCell / LSTMCell / GRUCell', () => {
  for (const mode of ['tanh', 'relu', 'lstm', 'gru'] as const) {
    it(`${mode} cell matches the reference step and gradchecks`, () => {
      const g = new Generator(11);
      const cell =
        mode === 'lstm'
          ? new nn.LSTMCell(I, H, { dtype: 'float64', generator: g })
          : mode === 'gru'
            ? new nn.GRUCell(I, H, { dtype: 'float64', generator: g })
            : new nn.RNNCell(I, H, { nonlinearity: mode, dtype: 'float64', generator: g });
      const x = rnd([N, I], 12),
        h = rnd([N, H], 13),
        c = rnd([N, H], 14);
      const w: W = { wih: cell.weightIh, whh: cell.weightHh, bih: cell.biasIh!, bhh: cell.biasHh! };
      const expH: number[] = [],
        expC: number[] = [];
      for (let n = 0; n < N; n++) {
        const row = (t: Tensor, k: number): V => Array.from(t.data.slice(n * k, (n + 1) * k));
        const [h2, c2] = refStep(mode, w, row(x, I), row(h, H), row(c, H));
        expH.push(...h2);
        expC.push(...c2);
      }
      const f = (a: Tensor, hh: Tensor, cc: Tensor): Tensor => {
        if (cell instanceof nn.LSTMCell) {
          const [h2, c2] = cell.forward(a, [hh, cc]);
          return h2.add(c2.mul(2));
        }
        return (cell as nn.GRUCell).forward(a, hh);
      };
      if (cell instanceof nn.LSTMCell) {
        const [h2, c2] = cell.forward(x, [h, c]);
        close(h2, expH);
        close(c2, expC);
      } else {
        close((cell as nn.GRUCell).forward(x, h), expH);
      }
      expect(gradcheck(f, [x, h, c]).ok).toBe(true);
      // Default state is zeros; unbatched input works.
      const z = rnd([H], 0).detach().mul(0);
      const one =
        cell instanceof nn.LSTMCell
          ? cell.forward(x.slice([[0, 1]]).reshape([I]))[0]
          : (cell as nn.GRUCell).forward(x.slice([[0, 1]]).reshape([I]));
      const ref =
        cell instanceof nn.LSTMCell
          ? cell.forward(x.slice([[0, 1]]).reshape([I]), [z, z])[0]
          : (cell as nn.GRUCell).forward(x.slice([[0, 1]]).reshape([I]), z);
      expect(one.shape).toEqual([H]);
      close(one, Array.from(ref.data), 1e-14);
    });
  }
});
