/**
 * MGDA, CAGrad, IMTL-G, Aligned-MTL (multiTaskBackward methods) and GradNorm, uncertainty
 * weighting, DWA (classes) against their papers' equations on hand-computed cases, against LibMTL's
 * code where it defines the rule (median-research-group/LibMTL, LibMTL/weighting/*.py), and by the
 * optimality property each one promises. Losses Lₖ = cₖ·x have gradient exactly cₖ.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nn, optim, Tensor, tensor } from '../../src/index.js';
import type { MultiTaskOptions } from '../../src/optim/multitask.js';

const linear = (x: Tensor, cs: number[][]) => cs.map((c) => x.mul(tensor(c, { dtype: 'float64' })).sum());
const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
const norm = (a: number[]) => Math.sqrt(dot(a, a));
/** Runs one method on constant gradients cs; the direction written into .grad and the report. */
function run(cs: number[][], options: MultiTaskOptions) {
  const x = tensor(new Array(cs[0]!.length).fill(0), { dtype: 'float64', requiresGrad: true });
  const report = optim.multiTaskBackward(linear(x, cs), [x], options);
  return { d: [...x.grad!.data], report };
}
const milli = fc.integer({ min: -3000, max: 3000 }).map((v) => v / 1000);
const vecs = (k: number, dim: number) =>
  fc
    .array(fc.array(milli, { minLength: dim, maxLength: dim }), { minLength: k, maxLength: k })
    .filter((cs) => cs.every((c) => norm(c) > 0.1));

describe('MGDA (Sener & Koltun 2018): the min-norm point of the convex hull', () => {
  it('two tasks: the closed form γ = (g₂ − g₁)·g₂/‖g₁ − g₂‖² (Algorithm 1)', () => {
    const { d, report } = run(
      [
        [1, 0],
        [-1, 1],
      ],
      { method: 'mgda' },
    );
    // v1v1 = 1, v1v2 = −1, v2v2 = 2 → γ = 3/5: d = 0.6·(1, 0) + 0.4·(−1, 1) = (0.2, 0.4)
    expect(report.taskWeights![0]).toBeCloseTo(0.6, 15);
    expect(d[0]).toBeCloseTo(0.2, 15);
    expect(d[1]).toBeCloseTo(0.4, 15);
    expect(report.conflicts).toBe(1);
    // one gradient dominating: the smaller one alone
    expect(
      run(
        [
          [1, 0],
          [3, 0.5],
        ],
        { method: 'mgda' },
      ).d,
    ).toEqual([1, 0]);
  });
  it('three tasks: an edge optimum (0.5, 0.5, 0) is found exactly; an interior one (1/3 each, d = 0)', () => {
    const a = run(
      [
        [1, 0],
        [0, 1],
        [2, 2],
      ],
      { method: 'mgda' },
    );
    expect(a.report.taskWeights).toEqual([0.5, 0.5, 0]);
    const s = Math.sqrt(3) / 2;
    const b = run(
      [
        [1, 0],
        [-0.5, s],
        [-0.5, -s],
      ],
      { method: 'mgda', mgdaTol: 1e-12, mgdaMaxIter: 5000 },
    );
    expect(norm(b.d)).toBeLessThan(1e-5);
    b.report.taskWeights!.forEach((w) => expect(w).toBeCloseTo(1 / 3, 4));
  });
  it('property: d is optimal on the hull: gₖ·d ≥ ‖d‖² for every task (KKT), weights on the simplex', () => {
    fc.assert(
      fc.property(vecs(4, 3), (cs) => {
        const { d, report } = run(cs, { method: 'mgda', mgdaTol: 1e-12, mgdaMaxIter: 20000 });
        const w = report.taskWeights!;
        expect(Math.abs(w.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-12);
        w.forEach((v) => expect(v).toBeGreaterThanOrEqual(0));
        const dd = dot(d, d),
          scale = Math.max(...cs.map((c) => dot(c, c)));
        cs.forEach((c) => expect(dot(c, d)).toBeGreaterThanOrEqual(dd - 1e-4 * scale));
      }),
      { numRuns: 60, seed: 3 },
    );
  });
  it("LibMTL's normalisations: 'l2' combines unit gradients, 'loss' divides by the loss", () => {
    const { d, report } = run(
      [
        [3, 0],
        [0, 1],
      ],
      { method: 'mgda', mgdaNormalization: 'l2' },
    );
    // unit gradients (1, 0), (0, 1): γ = ½, d = (½, ½); as weights on the raw gradients: (½/3, ½/1)
    expect(d[0]).toBeCloseTo(0.5, 15);
    expect(d[1]).toBeCloseTo(0.5, 15);
    expect(report.taskWeights![0]).toBeCloseTo(0.5 / 3, 15);
    expect(() =>
      run(
        [
          [1, 0],
          [0, 1],
        ],
        { method: 'mgda', mgdaNormalization: 'l3' as never },
      ),
    ).toThrow(/mgdaNormalization/);
  });
});

describe('CAGrad (Liu et al. 2021)', () => {
  it('c = 0 is the average gradient', () => {
    const { d } = run(
      [
        [1, 2],
        [-3, 1],
        [0, 1],
      ],
      { method: 'cagrad', cagradC: 0, cagradRescale: 0 },
    );
    [-2 / 3, 4 / 3].forEach((v, i) => expect(d[i]).toBeCloseTo(v, 7));
  });
  it('d = g₀ + c‖g₀‖·g_ω/‖g_ω‖ lies on the ball ‖d − g₀‖ = c‖g₀‖ and maximises the worst task’s gᵢ·d there', () => {
    const cs = [
      [1, 0.2],
      [-0.6, 1],
    ];
    for (const c of [0.2, 0.5, 0.9]) {
      const { d, report } = run(cs, { method: 'cagrad', cagradC: c, cagradRescale: 0 });
      const g0 = [0.2, 0.6];
      expect(Math.abs(norm([d[0]! - g0[0]!, d[1]! - g0[1]!]) - c * norm(g0))).toBeLessThan(1e-7);
      const worst = (v: number[]) => Math.min(...cs.map((g) => dot(g, v)));
      let best = -Infinity;
      for (let k = 0; k < 20000; k++) {
        const th = (2 * Math.PI * k) / 20000;
        best = Math.max(best, worst([g0[0]! + c * norm(g0) * Math.cos(th), g0[1]! + c * norm(g0) * Math.sin(th)]));
      }
      expect(worst(d)).toBeGreaterThanOrEqual(best - 1e-6);
      // the report's weights reproduce d: Σ αₖgₖ
      const w = report.taskWeights!;
      [0, 1].forEach((j) => expect(w[0]! * cs[0]![j]! + w[1]! * cs[1]![j]!).toBeCloseTo(d[j]!, 12));
    }
  });
  it('three tasks: ω minimises the dual F(ω) = g_ωᵀg₀ + c‖g₀‖‖g_ω‖ on the simplex (vs a 0.002 grid)', () => {
    const cs = [
        [1, 0.2, 0],
        [-0.6, 1, 0.3],
        [0.2, -0.8, 1],
      ],
      c = 0.5;
    const { report } = run(cs, { method: 'cagrad', cagradC: c, cagradRescale: 0 });
    const a = report.taskWeights!,
      lambda = a.reduce((s, v) => s + v - 1 / 3, 0);
    const omega = a.map((v) => (v - 1 / 3) / lambda); // α = 1/K + λω with Σω = 1
    const G = cs.map((x) => cs.map((y) => dot(x, y)));
    const g0n = Math.sqrt(G.flat().reduce((s, v) => s + v, 0) / 9 + 1e-8),
      cc = c * g0n + 1e-8;
    const F = (w: number[]) => {
      const Gw = G.map((r) => dot(r, w)),
        Gb = G.map((r) => dot(r, [1 / 3, 1 / 3, 1 / 3]));
      return dot(w, Gb) + cc * Math.sqrt(dot(w, Gw) + 1e-8);
    };
    let best = Infinity;
    for (let i = 0; i <= 500; i++)
      for (let j = 0; i + j <= 500; j++) best = Math.min(best, F([i / 500, j / 500, 1 - (i + j) / 500]));
    expect(F(omega)).toBeLessThanOrEqual(best + 1e-9);
    expect(best - F(omega)).toBeLessThan(1e-3);
  });
  it("rescale 1 divides by 1 + c², 2 by 1 + c (LibMTL's `rescale`)", () => {
    const cs = [
      [1, 0.2],
      [-0.6, 1],
      [0.3, 0.3],
    ];
    const d0 = run(cs, { method: 'cagrad', cagradRescale: 0 }).d,
      d1 = run(cs, { method: 'cagrad' }).d;
    const d2 = run(cs, { method: 'cagrad', cagradRescale: 2 }).d;
    d0.forEach((v, i) => {
      expect(d1[i]).toBeCloseTo(v / 1.25, 12);
      expect(d2[i]).toBeCloseTo(v / 1.5, 12);
    });
    expect(() => run(cs, { method: 'cagrad', cagradC: 1 })).toThrow(/cagradC/);
  });
});

describe('IMTL-G (Liu et al. 2021)', () => {
  it('hand case g₁ = (1, 0), g₂ = (0, 2): α₂ = g₁·U/(D·U) = 1/3, d = (2/3, 2/3)', () => {
    const { d, report } = run(
      [
        [1, 0],
        [0, 2],
      ],
      { method: 'imtl-g' },
    );
    expect(report.taskWeights![0]).toBeCloseTo(2 / 3, 15);
    expect(report.taskWeights![1]).toBeCloseTo(1 / 3, 15);
    expect(d[0]).toBeCloseTo(2 / 3, 15);
    expect(d[1]).toBeCloseTo(2 / 3, 15);
  });
  it('property: equal projections d·uₖ on every unit gradient, Σα = 1', () => {
    fc.assert(
      fc.property(vecs(3, 4), (cs) => {
        const units = cs.map((c) => c.map((v) => v / norm(c)));
        // skip nearly dependent unit-gradient differences (the system is then ill-conditioned)
        const G = units.map((a) => units.map((b) => dot(a, b)));
        const det =
          G[0]![0]! * (G[1]![1]! * G[2]![2]! - G[1]![2]! ** 2) -
          G[0]![1]! * (G[0]![1]! * G[2]![2]! - G[1]![2]! * G[0]![2]!) +
          G[0]![2]! * (G[0]![1]! * G[1]![2]! - G[1]![1]! * G[0]![2]!);
        fc.pre(det > 1e-3);
        const { d, report } = run(cs, { method: 'imtl-g' });
        expect(Math.abs(report.taskWeights!.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-9);
        const p = units.map((u) => dot(d, u));
        p.forEach((v) => expect(Math.abs(v - p[0]!)).toBeLessThan(1e-8 * Math.max(1, Math.abs(p[0]!))));
      }),
      { numRuns: 100, seed: 4 },
    );
  });
});

describe('Aligned-MTL (Senushkin et al. 2023)', () => {
  it('orthogonal gradients of norms 1 and 2: B = diag(1, ½), α = (1, ½), d = (1, 1, 0)', () => {
    const { d, report } = run(
      [
        [1, 0, 0],
        [0, 2, 0],
      ],
      { method: 'aligned-mtl' },
    );
    expect(report.taskWeights![0]).toBeCloseTo(1, 14);
    expect(report.taskWeights![1]).toBeCloseTo(0.5, 14);
    [1, 1, 0].forEach((v, i) => expect(d[i]).toBeCloseTo(v, 14));
  });
  it('GGᵀ = [[2, 1], [1, 2]]: 1 is the eigenvector of λ = 3, so α = √1·(1/√3)(1, 1)', () => {
    const { report } = run(
      [
        [1, 1, 0],
        [0, 1, 1],
      ],
      { method: 'aligned-mtl' },
    );
    report.taskWeights!.forEach((w) => expect(w).toBeCloseTo(1 / Math.sqrt(3), 14));
  });
  it('rank-deficient (g₂ = 2g₁): the zero eigenvalue is dropped, α = v vᵀ1 = (3/5, 6/5)', () => {
    const { report } = run(
      [
        [1, 2],
        [2, 4],
      ],
      { method: 'aligned-mtl' },
    );
    expect(report.taskWeights![0]).toBeCloseTo(0.6, 13);
    expect(report.taskWeights![1]).toBeCloseTo(1.2, 13);
  });
  it('property: c = α/√λ_min = (GGᵀ)^(−½)·1 satisfies cᵀ(GGᵀ)c = K', () => {
    fc.assert(
      fc.property(vecs(3, 5), (cs) => {
        const M = cs.map((a) => cs.map((b) => dot(a, b)));
        const { report } = run(cs, { method: 'aligned-mtl' });
        const alpha = report.taskWeights!;
        // λ_min from the 3×3 characteristic polynomial is awkward; use the invariant: αᵀMα = K·λ_min and
        // (Mα)ᵀM⁻¹(Mα) = αᵀMα — so check αᵀMα/K is an eigenvalue: det(M − μI) = 0.
        const Ma = M.map((r) => dot(r, alpha));
        const mu = dot(alpha, Ma) / 3;
        const A = M.map((r, i) => r.map((v, j) => v - (i === j ? mu : 0)));
        const det =
          A[0]![0]! * (A[1]![1]! * A[2]![2]! - A[1]![2]! * A[2]![1]!) -
          A[0]![1]! * (A[1]![0]! * A[2]![2]! - A[1]![2]! * A[2]![0]!) +
          A[0]![2]! * (A[1]![0]! * A[2]![1]! - A[1]![1]! * A[2]![0]!);
        const tr = M[0]![0]! + M[1]![1]! + M[2]![2]!;
        fc.pre(mu > 1e-6 * tr); // well-conditioned cases
        expect(Math.abs(det)).toBeLessThan(1e-7 * tr ** 3);
      }),
      { numRuns: 100, seed: 6 },
    );
  });
});

describe('GradNorm (Chen et al. 2018)', () => {
  it('weights.grad = ∂/∂w Σ|wᵢ‖∇_W Lᵢ‖ − Ḡ·rᵢ^α|, target constant (the paper’s L_grad, by autograd)', () => {
    const x = tensor([0.5, -1, 2], { dtype: 'float64', requiresGrad: true });
    const gn = new optim.GradNorm(3, { alpha: 1.5, dtype: 'float64' });
    const cs = [
      [1, 2, 0],
      [0, 0.1, 0],
      [3, 0, 1],
    ];
    const mk = (scale: number) =>
      cs.map((c, k) =>
        x
          .mul(tensor(c, { dtype: 'float64' }))
          .sum()
          .add(10 + k)
          .mul(scale ** k),
      );
    gn.backward(mk(1), [x]); // records L(0)
    gn.weights.data.set([0.5, 1.5, 1]);
    gn.weights.grad = null;
    x.grad = null;
    const losses = mk(0.8);
    const r = gn.backward(losses, [x]);
    // the paper's equations, written with tensors
    const w = tensor([0.5, 1.5, 1], { dtype: 'float64', requiresGrad: true }); // already sums to K = 3
    const l0 = gn.initialLosses!,
      lt = losses.map((l) => l.item());
    const nrm = cs.map((c, k) => norm(c) * 0.8 ** k);
    const G = nrm.map((n, i) =>
      w
        .mul(
          tensor(
            [0, 1, 2].map((j) => (j === i ? n : 0)),
            { dtype: 'float64' },
          ),
        )
        .sum(),
    );
    const Gbar = G.reduce((a, b) => a.add(b))
      .div(3)
      .item();
    const ratios = lt.map((l, i) => l / l0[i]!),
      mean = ratios.reduce((a, b) => a + b) / 3;
    const Lgrad = G.map((g, i) => g.sub(Gbar * (ratios[i]! / mean) ** 1.5).abs()).reduce((a, b) => a.add(b));
    Lgrad.backward();
    expect([...gn.weights.grad!.data]).toEqual([...w.grad!.data]);
    expect(r.gradLoss).toBeCloseTo(Lgrad.item(), 13);
    // and the network gets Σ wᵢ∇Lᵢ
    [0, 1, 2].forEach((j) =>
      expect(x.grad!.data[j]).toBeCloseTo(
        [0, 1, 2].reduce((s, k) => s + [0.5, 1.5, 1][k]! * cs[k]![j]! * 0.8 ** k, 0),
        13,
      ),
    );
    expect(r.weights).toEqual([0.5, 1.5, 1]);
  });
  it('renormalises Σw = K, and training w with an optimizer pulls the weighted gradient norms together', () => {
    const lin = new nn.Linear(4, 2, { dtype: 'float64' });
    const gn = new optim.GradNorm(2, { dtype: 'float64' });
    const opt = new optim.SGD([...lin.parameters()], { lr: 1e-4 });
    const optW = new optim.Adam([gn.weights], { lr: 0.025 });
    const x = tensor(
      [
        [1, 2, 3, 4],
        [0.5, -1, 0, 2],
      ],
      { dtype: 'float64' },
    );
    let first = 0,
      last = 0;
    for (let step = 0; step < 60; step++) {
      opt.zeroGrad(), optW.zeroGrad();
      const y = lin.forward(x);
      const losses = [y.sum().square().mul(0.1), y.sum().square().mul(1)]; // same direction, 10× apart
      const r = gn.backward(losses, lin.parameters());
      const spread = Math.abs(Math.log(r.gradNorms[0]! / r.gradNorms[1]!));
      if (step === 0) first = spread;
      last = spread;
      opt.step(), optW.step();
      expect(r.weights.reduce((a, b) => a + b)).toBeCloseTo(2, 12);
    }
    expect(last).toBeLessThan(first / 2);
  });
});

describe('Uncertainty weighting (Kendall et al. 2018) and DWA (Liu et al. 2019)', () => {
  it("UW: backward() equals autograd on LibMTL's loss Σ Lᵢ/(2e^(sᵢ)) + sᵢ/2, for the network and for s", () => {
    const mk = () => tensor([0.3, -0.7], { dtype: 'float64', requiresGrad: true });
    const a = mk(),
      b = mk();
    const cs = [
      [1, 2],
      [-2, 0.5],
      [0.1, 0.1],
    ];
    const uwA = new optim.UncertaintyWeighting(3, { dtype: 'float64' }),
      uwB = new optim.UncertaintyWeighting(3, { dtype: 'float64' });
    for (const uw of [uwA, uwB]) uw.logVars.data.set([-0.5, 0.2, 1.1]);
    const losses = (x: Tensor) =>
      cs.map((c) =>
        x
          .mul(tensor(c, { dtype: 'float64' }))
          .sum()
          .square(),
      );
    const r = uwA.backward(losses(a), [a]);
    uwB.loss(losses(b)).backward();
    // LibMTL: (losses/(2*self.loss_scale.exp()) + self.loss_scale/2).sum()
    [0, 1].forEach((j) => expect(a.grad!.data[j]).toBeCloseTo(b.grad!.data[j]!, 13));
    [0, 1, 2].forEach((k) => expect(uwA.logVars.grad!.data[k]).toBeCloseTo(uwB.logVars.grad!.data[k]!, 13));
    expect(r.weights).toEqual([-0.5, 0.2, 1.1].map((s) => Math.exp(-s) / 2));
    expect(r.cosine.length).toBe(3);
  });
  it('DWA: ones for two epochs, then K·softmax(Lₖ(t−1)/Lₖ(t−2)/T) (MTAN / LibMTL DWA)', () => {
    const dwa = new optim.DWA(2);
    expect(dwa.weights).toEqual([1, 1]);
    dwa.endEpoch([1, 2]);
    expect(dwa.weights).toEqual([1, 1]);
    dwa.endEpoch([0.5, 1.9]);
    const r = [0.5, 0.95].map((v) => Math.exp(v / 2)),
      s = r[0]! + r[1]!;
    const w = dwa.weights;
    expect(w[0]).toBeCloseTo((2 * r[0]!) / s, 15);
    expect(w[1]).toBeCloseTo((2 * r[1]!) / s, 15);
    expect(w[1]).toBeGreaterThan(w[0]!); // the slower-falling task gets more weight
    const x = tensor([1, 1], { dtype: 'float64', requiresGrad: true });
    const rep = dwa.backward(
      linear(x, [
        [1, 0],
        [0, 1],
      ]),
      [x],
    );
    expect([...x.grad!.data]).toEqual(rep.weights);
    const d2 = new optim.DWA(2);
    d2.loadStateDict(JSON.parse(JSON.stringify(dwa.stateDict())));
    expect(d2.weights).toEqual(dwa.weights);
    expect(() => dwa.endEpoch([1])).toThrow(/expected 2 average losses/);
    expect(() => new optim.DWA(2, { T: 2 } as never)).toThrow(/unknown option T/);
  });
});
