/** The MLP training step (forward + backward + Adam) for tapegrad and for TF.js. */
import { manualSeed, randint, randn, nn, optim, type Tensor } from '../../src/index.js';
import type { tf as TF } from './tf.js';

export interface Step {
  step(): void;
  dispose(): void;
}

/** sizes e.g. [784, 128, 10]; one Adam step on a fixed random batch. */
export function tapegradMlp(sizes: readonly number[], batch: number): Step {
  manualSeed(0);
  const layers: nn.UnaryModule[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    layers.push(new nn.Linear(sizes[i]!, sizes[i + 1]!));
    if (i + 2 < sizes.length) layers.push(new nn.ReLU());
  }
  const model = new nn.Sequential(...layers);
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const x = randn([batch, sizes[0]!]);
  const y: Tensor = randint(0, sizes[sizes.length - 1]!, [batch]);
  return {
    step() {
      opt.zeroGrad();
      const loss = nn.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
    },
    dispose() {},
  };
}

export function tfMlp(tf: typeof TF, sizes: readonly number[], batch: number): Step {
  const ws: TF.Variable[] = [],
    bs: TF.Variable[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    const lim = 1 / Math.sqrt(sizes[i]!);
    ws.push(tf.variable(tf.randomUniform([sizes[i]!, sizes[i + 1]!], -lim, lim, 'float32', 1 + i)));
    bs.push(tf.variable(tf.randomUniform([sizes[i + 1]!], -lim, lim, 'float32', 100 + i)));
  }
  const classes = sizes[sizes.length - 1]!;
  const x = tf.randomNormal([batch, sizes[0]!], 0, 1, 'float32', 7);
  const labels = tf.cast(tf.oneHot(tf.randomUniform([batch], 0, classes, 'int32', 8), classes), 'float32');
  const opt = tf.train.adam(1e-3);
  return {
    step() {
      opt.minimize(() => {
        let h: TF.Tensor = x;
        for (let i = 0; i < ws.length; i++) {
          h = tf.add(tf.matMul(h, ws[i]!), bs[i]!);
          if (i + 1 < ws.length) h = tf.relu(h);
        }
        return tf.losses.softmaxCrossEntropy(labels, h) as TF.Scalar;
      });
    },
    dispose() {
      opt.dispose();
      for (const v of [...ws, ...bs]) v.dispose();
      x.dispose();
      labels.dispose();
    },
  };
}

/** Node flags for a benchmark child process: tsx, and bench/dist-hook.mjs when the parent times dist/. */
export function childImports(): string[] {
  const hook = new URL('../dist-hook.mjs', import.meta.url).pathname;
  return [...(process.env['TAPEGRAD_BENCH_DIST'] === '1' ? ['--import', hook] : []), '--import', 'tsx'];
}
