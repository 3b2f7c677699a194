/**
 * The LeNet-ish CNN training step of the models issue (conv 1→8 3×3 pad 1, ReLU, max-pool 2,
 * conv 8→16 3×3 pad 1, ReLU, max-pool 2, flatten, linear 784→10; cross-entropy, Adam) on a fixed
 * random batch, for tapegrad, TF.js (tf.train.adam) and PyTorch (bench/lib/torch_cnn.py).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manualSeed, randint, randn, nn, optim, type Tensor } from '../../src/index.js';
import type { Step } from './mlp.js';
import type { tf as TF } from './tf.js';

export function tapegradCnn(batch: number): Step {
  manualSeed(0);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 8, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(8, 16, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(16 * 7 * 7, 10),
  );
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const x = randn([batch, 1, 28, 28]);
  const y: Tensor = randint(0, 10, [batch]);
  return {
    step() {
      opt.zeroGrad();
      nn.crossEntropy(model.forward(x), y).backward();
      opt.step();
    },
    dispose() {},
  };
}

/** The same network in TF.js (NHWC, as TF.js wants it). */
export function tfCnn(tf: typeof TF, batch: number): Step {
  const k1 = tf.variable(tf.randomUniform([3, 3, 1, 8], -1 / 3, 1 / 3, 'float32', 1));
  const b1 = tf.variable(tf.zeros([8]));
  const k2 = tf.variable(tf.randomUniform([3, 3, 8, 16], -0.1, 0.1, 'float32', 2));
  const b2 = tf.variable(tf.zeros([16]));
  const w = tf.variable(tf.randomUniform([784, 10], -0.035, 0.035, 'float32', 3));
  const b = tf.variable(tf.zeros([10]));
  const x = tf.randomNormal([batch, 28, 28, 1], 0, 1, 'float32', 7);
  const labels = tf.cast(tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32', 8), 10), 'float32');
  const opt = tf.train.adam(1e-3);
  return {
    step() {
      opt.minimize(() => {
        let h = tf.relu(tf.add(tf.conv2d(x as TF.Tensor4D, k1 as TF.Tensor4D, 1, 'same'), b1)) as TF.Tensor4D;
        h = tf.maxPool(h, 2, 2, 'valid');
        h = tf.relu(tf.add(tf.conv2d(h, k2 as TF.Tensor4D, 1, 'same'), b2)) as TF.Tensor4D;
        h = tf.maxPool(h, 2, 2, 'valid');
        const logits = tf.add(tf.matMul(tf.reshape(h, [batch, 784]), w), b);
        return tf.losses.softmaxCrossEntropy(labels, logits) as TF.Scalar;
      });
    },
    dispose() {
      opt.dispose();
      for (const v of [k1, b1, k2, b2, w, b, x, labels]) v.dispose();
    },
  };
}

/** Whether TF.js's backend can train the CNN: the error message of one step, or null if it can. */
export function tfCnnError(tf: typeof TF): string | null {
  try {
    const s = tfCnn(tf, 2);
    s.step();
    s.dispose();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

const here = dirname(fileURLToPath(import.meta.url));
/**
 * PyTorch's steps/s for the same step in a child process (`rounds` rounds of `seconds` each,
 * median), or null with the reason when `python3 -c 'import torch'` fails.
 */
export function torchCnn(
  batch: number,
  threads: number,
  rounds: number,
  seconds: number,
): { stepsPerSec: number[]; version: string } | string {
  // $PYTHON, else the first of python3 / the system python3 that imports torch (pyenv shims may hide Debian's).
  let py = '',
    probe = spawnSync('true', { encoding: 'utf8' });
  for (const cand of process.env['PYTHON'] ? [process.env['PYTHON']] : ['python3', '/usr/bin/python3']) {
    probe = spawnSync(cand, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (probe.status === 0) {
      py = cand;
      break;
    }
  }
  if (!py)
    return (
      `python3 -c 'import torch' failed:` +
      ` ${String(probe.stderr || probe.error?.message || '')
        .trim()
        .split('\n')
        .pop()}`
    );
  const r = spawnSync(
    py,
    [join(here, 'torch_cnn.py'), String(batch), String(threads), String(rounds), String(seconds)],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) return `torch_cnn.py failed: ${r.stderr.trim().split('\n').pop()}`;
  return {
    stepsPerSec: JSON.parse(r.stdout.trim().split('\n').pop()!) as number[],
    version: String(probe.stdout).trim(),
  };
}
