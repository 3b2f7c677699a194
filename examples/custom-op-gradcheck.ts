/**
 * Define an op with its own backward, prove it with gradcheck, then watch gradcheck catch a
 * deliberately wrong backward and point at the worst element.
 *
 *   npx tsx examples/custom-op-gradcheck.ts [--quick]
 */
import { parseArgs } from 'node:util';
import { defineOp, gradcheck, GradcheckError, Generator, randn, type Tensor } from '../src/index.js';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean' }, out: { type: 'string' }, seed: { type: 'string' } },
});
const gen = new Generator(Number(args.seed ?? 0));
const n = args.quick ? 3 : 6;

// log(cosh x): smooth |x|. d/dx log cosh x = tanh x. Stable form: |x| + log1p(e^{-2|x|}) − log 2.
const logCosh = defineOp({
  name: 'logCosh',
  forward: (x) => x.abs().add(x.abs().mul(-2).exp().log1p()).sub(Math.LN2),
  backward: (gradOut, x) => gradOut.mul(x.tanh()),
});

// A two-input op: hypot(a, b) = √(a² + b²), with ∂/∂a = a / hypot, ∂/∂b = b / hypot (the output is passed last).
const hypot = defineOp({
  name: 'hypot',
  forward: (a, b) => a.mul(a).add(b.mul(b)).sqrt(),
  backward: (g, a, b, out) => [g.mul(a!).div(out!), g.mul(b!).div(out!)],
});

const x = randn([n, 2], { dtype: 'float64', generator: gen, requiresGrad: true });
const y = randn([n, 2], { dtype: 'float64', generator: gen, requiresGrad: true });

const show = (label: string, r: ReturnType<typeof gradcheck>): void => {
  const w = r.worst!;
  console.log(
    `${label.padEnd(30)} ok=${String(r.ok).padEnd(5)} checked=${r.checked} max|err|=${r.maxAbsError.toExponential(2)}` +
      (r.ok
        ? ''
        : `\n    worst: d out${JSON.stringify(w.output)} / d input${w.input}${JSON.stringify(w.index)}: analytic ${w.analytic.toFixed(6)} vs numeric ${w.numeric.toFixed(6)}`),
  );
};

console.log('1. Correct backward rules pass (float64 central differences):');
show(
  'logCosh',
  gradcheck((t: Tensor) => logCosh(t), [x]),
);
show(
  'hypot',
  gradcheck((a: Tensor, b: Tensor) => hypot(a, b), [x, y]),
);
show(
  'hypot inside a bigger graph',
  gradcheck((a: Tensor, b: Tensor) => logCosh(hypot(a, b).mul(a)).sum(), [x, y]),
);

console.log('\n2. A deliberately wrong backward is caught:');
// The classic slip: using the derivative of cosh (sinh) instead of that of log cosh (tanh).
const wrongLogCosh = defineOp({
  name: 'wrongLogCosh',
  forward: (t) => t.abs().add(t.abs().mul(-2).exp().log1p()).sub(Math.LN2),
  backward: (gradOut, t) => gradOut.mul(t.exp().sub(t.neg().exp()).mul(0.5)),
});
const bad = gradcheck((t: Tensor) => wrongLogCosh(t), [x]);
show('wrongLogCosh (sinh, not tanh)', bad);
if (bad.ok) throw new Error('gradcheck should have failed');

// With raiseOnFailure the same report arrives as an exception, ready for a test.
try {
  gradcheck((t: Tensor) => wrongLogCosh(t), [x], { raiseOnFailure: true });
  throw new Error('expected a GradcheckError');
} catch (e) {
  if (!(e instanceof GradcheckError)) throw e;
  console.log(`\nraiseOnFailure: ${e.name}: ${e.message}`);
}
