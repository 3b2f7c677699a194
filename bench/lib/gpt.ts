/**
 * The GPT-style character-model training step (2 layers, d=64, 4 heads, T=32, batch 16, vocabulary 83
 * as on Moby-Dick): tapegrad's uses the model exactly as examples/char-transformer.ts writes it
 * (examples/lib/gpt.ts, AdamW); TF.js's is the same network written with tf ops (TF.js has no AdamW,
 * so it uses Adam: the same work per parameter but one multiply-add).
 */
import { Generator, manualSeed, Tensor } from '../../src/index.js';
import { Gpt, makeOptimizer, type GptConfig } from '../../examples/lib/gpt.js';
import type { tf as TF } from './tf.js';
import type { Step } from './mlp.js';

export const gptConfig: GptConfig = { vocabSize: 83, blockSize: 32, nLayer: 2, nHead: 4, nEmbd: 64, dropout: 0 };
export const gptBatch = 16;

function tokens(seed: number): { x: Int32Array; y: Int32Array } {
  const g = new Generator(seed),
    n = gptBatch * gptConfig.blockSize;
  const x = Int32Array.from({ length: n }, () => Math.floor(g.uniform() * gptConfig.vocabSize));
  const y = Int32Array.from({ length: n }, () => Math.floor(g.uniform() * gptConfig.vocabSize));
  return { x, y };
}

export function tapegradGpt(): Step & { model: Gpt } {
  manualSeed(0);
  const model = new Gpt(gptConfig);
  const opt = makeOptimizer(model, 1e-3);
  const { x, y } = tokens(1);
  const xt = new Tensor(x, [gptBatch, gptConfig.blockSize]),
    yt = new Tensor(y, [gptBatch, gptConfig.blockSize]);
  return {
    model,
    step() {
      opt.zeroGrad();
      model.loss(xt, yt).backward();
      opt.step();
    },
    dispose() {},
  };
}

export function tfGpt(tf: typeof TF): Step {
  const { vocabSize: V, blockSize: T, nLayer, nHead: H, nEmbd: C } = gptConfig;
  const B = gptBatch,
    hd = C / H;
  let seed = 10;
  const vars: TF.Variable[] = [];
  const normal = (shape: number[], std = 0.02): TF.Variable => {
    const v = tf.variable(tf.randomNormal(shape, 0, std, 'float32', seed++));
    vars.push(v);
    return v;
  };
  const constant = (shape: number[], value: number): TF.Variable => {
    const v = tf.variable(tf.fill(shape, value));
    vars.push(v);
    return v;
  };
  const wte = normal([V, C]),
    wpe = normal([T, C]);
  const layers = Array.from({ length: nLayer }, () => ({
    ln1g: constant([C], 1),
    ln1b: constant([C], 0),
    wqkv: normal([C, 3 * C]),
    bqkv: constant([3 * C], 0),
    wo: normal([C, C]),
    bo: constant([C], 0),
    ln2g: constant([C], 1),
    ln2b: constant([C], 0),
    w1: normal([C, 4 * C]),
    b1: constant([4 * C], 0),
    w2: normal([4 * C, C]),
    b2: constant([C], 0),
  }));
  const lnfg = constant([C], 1),
    lnfb = constant([C], 0),
    head = normal([C, V]);
  const { x, y } = tokens(1);
  const xOneHot = tf.cast(tf.oneHot(tf.tensor1d(x, 'int32'), V), 'float32');
  const labels = tf.cast(tf.oneHot(tf.tensor1d(y, 'int32'), V), 'float32');
  const mask = tf.tensor2d(
    Float32Array.from({ length: T * T }, (_, k) => (k % T > Math.floor(k / T) ? -1e9 : 0)),
    [T, T],
  );
  const opt = tf.train.adam(1e-3, 0.9, 0.99);
  const layerNorm = (h: TF.Tensor, g: TF.Tensor, b: TF.Tensor): TF.Tensor => {
    const { mean, variance } = tf.moments(h, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
  };
  // Exact GELU x·Φ(x) with erf (the same form as nn.GELU's default).
  const gelu = (h: TF.Tensor): TF.Tensor => tf.mul(tf.mul(h, 0.5), tf.add(tf.erf(tf.mul(h, Math.SQRT1_2)), 1));
  const heads = (t: TF.Tensor): TF.Tensor => tf.transpose(tf.reshape(t, [B, T, H, hd]), [0, 2, 1, 3]);
  return {
    step() {
      opt.minimize(() => {
        // Embedding lookup as one-hot × table: tf.gather's gradient (UnsortedSegmentSum) has no WASM kernel.
        let h: TF.Tensor = tf.add(tf.reshape(tf.matMul(xOneHot, wte), [B, T, C]), wpe); // [B, T, C]
        for (const l of layers) {
          const a = layerNorm(h, l.ln1g, l.ln1b);
          const qkv = tf.add(tf.matMul(tf.reshape(a, [B * T, C]), l.wqkv), l.bqkv);
          const [q, k, v] = tf.split(tf.reshape(qkv, [B, T, 3 * C]), 3, 2) as [TF.Tensor, TF.Tensor, TF.Tensor];
          const s = tf.add(tf.mul(tf.matMul(heads(q!), heads(k!), false, true), 1 / Math.sqrt(hd)), mask);
          const o = tf.reshape(tf.transpose(tf.matMul(tf.softmax(s), heads(v!)), [0, 2, 1, 3]), [B * T, C]);
          h = tf.add(h, tf.reshape(tf.add(tf.matMul(o, l.wo), l.bo), [B, T, C]));
          const m = tf.reshape(layerNorm(h, l.ln2g, l.ln2b), [B * T, C]);
          const f = tf.add(tf.matMul(gelu(tf.add(tf.matMul(m, l.w1), l.b1)), l.w2), l.b2);
          h = tf.add(h, tf.reshape(f, [B, T, C]));
        }
        const logits = tf.matMul(tf.reshape(layerNorm(h, lnfg, lnfb), [B * T, C]), head);
        return tf.losses.softmaxCrossEntropy(labels, logits) as TF.Scalar;
      });
    },
    dispose() {
      opt.dispose();
      for (const v of vars) v.dispose();
      for (const t of [xOneHot, labels, mask]) t.dispose();
    },
  };
}
