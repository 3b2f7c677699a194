/**
 * A GPT-style decoder-only language model, as examples/char-transformer.ts trains it and as
 * bench/gpt.ts times it: token + learned position embeddings, `nLayer` pre-norm blocks of causal
 * multi-head self-attention (`scaledDotProductAttention` with `isCausal`) and a GELU MLP, a final
 * LayerNorm and a linear head. Parameter names follow nanoGPT (`wte`, `wpe`, `h.0.attn.c_attn`, …).
 */
import { nn, optim, scaledDotProductAttention, Tensor } from '../../src/index.js';

export interface GptConfig {
  vocabSize: number;
  blockSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  /** Dropout on attention outputs and MLP outputs while training (default 0). */
  dropout?: number;
}

/** Causal self-attention: one Linear to q, k, v; heads of nEmbd / nHead; an output projection. */
export class CausalSelfAttention extends nn.Module<[x: Tensor], Tensor> {
  readonly c_attn: nn.Linear;
  readonly c_proj: nn.Linear;
  constructor(
    readonly nEmbd: number,
    readonly nHead: number,
  ) {
    super();
    this.c_attn = new nn.Linear(nEmbd, 3 * nEmbd);
    this.c_proj = new nn.Linear(nEmbd, nEmbd);
  }
  forward(x: Tensor): Tensor {
    const [b, t, c] = x.shape as [number, number, number];
    const hd = c / this.nHead;
    const qkv = this.c_attn.forward(x); // [B, T, 3C]
    const head = (i: number): Tensor =>
      qkv
        .slice([null, null, [i * c, (i + 1) * c]])
        .reshape([b, t, this.nHead, hd])
        .permute([0, 2, 1, 3]); // [B, H, T, hd]
    const y = scaledDotProductAttention(head(0), head(1), head(2), { isCausal: true }); // [B, H, T, hd]
    return this.c_proj.forward(y.permute([0, 2, 1, 3]).reshape([b, t, c]));
  }
}

export class Block extends nn.Module<[x: Tensor], Tensor> {
  readonly ln_1: nn.LayerNorm;
  readonly attn: CausalSelfAttention;
  readonly ln_2: nn.LayerNorm;
  readonly mlp: nn.Sequential;
  readonly drop: nn.Dropout;
  constructor(cfg: GptConfig) {
    super();
    this.ln_1 = new nn.LayerNorm(cfg.nEmbd);
    this.attn = new CausalSelfAttention(cfg.nEmbd, cfg.nHead);
    this.ln_2 = new nn.LayerNorm(cfg.nEmbd);
    this.mlp = new nn.Sequential(
      new nn.Linear(cfg.nEmbd, 4 * cfg.nEmbd),
      new nn.GELU(),
      new nn.Linear(4 * cfg.nEmbd, cfg.nEmbd),
    );
    this.drop = new nn.Dropout(cfg.dropout ?? 0);
  }
  forward(x: Tensor): Tensor {
    const y = x.add(this.drop.forward(this.attn.forward(this.ln_1.forward(x))));
    return y.add(this.drop.forward(this.mlp.forward(this.ln_2.forward(y))));
  }
}

export class Gpt extends nn.Module<[idx: Tensor], Tensor> {
  readonly wte: nn.Embedding;
  readonly wpe: nn.Embedding;
  readonly h: Block[];
  readonly ln_f: nn.LayerNorm;
  readonly lm_head: nn.Linear;
  constructor(readonly cfg: GptConfig) {
    super();
    this.wte = new nn.Embedding(cfg.vocabSize, cfg.nEmbd);
    this.wpe = new nn.Embedding(cfg.blockSize, cfg.nEmbd);
    // GPT-2's init: N(0, 0.02) for embeddings and weights.
    nn.init.normal(this.wte.weight, 0, 0.02);
    nn.init.normal(this.wpe.weight, 0, 0.02);
    this.h = Array.from({ length: cfg.nLayer }, () => new Block(cfg));
    this.ln_f = new nn.LayerNorm(cfg.nEmbd);
    this.lm_head = new nn.Linear(cfg.nEmbd, cfg.vocabSize, { bias: false });
    for (const [name, p] of this.namedParameters()) {
      if (name.endsWith('.weight') && p.ndim === 2 && !name.startsWith('wte') && !name.startsWith('wpe'))
        nn.init.normal(p, 0, 0.02);
      if (name.endsWith('.bias') && !name.includes('ln_')) nn.init.constant(p, 0);
    }
  }
  /** idx: int32 [B, T] token ids → logits [B, T, vocab]. */
  forward(idx: Tensor): Tensor {
    const [b, t] = idx.shape as [number, number];
    const pos = new Tensor(
      Int32Array.from({ length: t }, (_, i) => i),
      [t],
    );
    let x = this.wte.forward(idx).add(this.wpe.forward(pos)); // [B, T, C]
    for (const block of this.h) x = block.forward(x);
    return this.lm_head.forward(this.ln_f.forward(x)).reshape([b, t, this.cfg.vocabSize]);
  }
  /** Mean cross-entropy (nats) of next-token prediction. */
  loss(idx: Tensor, targets: Tensor): Tensor {
    const logits = this.forward(idx);
    return nn.crossEntropy(logits.reshape([-1, this.cfg.vocabSize]), targets.reshape([-1]));
  }
}

/** AdamW with weight decay on the matrices only (not on biases, LayerNorm gains or embeddings), as nanoGPT. */
export function makeOptimizer(model: Gpt, lr: number, weightDecay = 0.1): optim.AdamW {
  const decay: nn.Parameter[] = [],
    noDecay: nn.Parameter[] = [];
  for (const [name, p] of model.namedParameters()) {
    (p.ndim >= 2 && !name.startsWith('wte') && !name.startsWith('wpe') ? decay : noDecay).push(p);
  }
  return new optim.AdamW(
    [
      { params: decay, weightDecay },
      { params: noDecay, weightDecay: 0 },
    ],
    { lr, betas: [0.9, 0.99] },
  );
}

/** Linear warmup for `warmup` steps, then cosine decay to `minFactor` of the peak at `total`. */
export function warmupCosine(warmup: number, total: number, minFactor = 0.1): (step: number) => number {
  return (step) => {
    if (step < warmup) return (step + 1) / warmup;
    const p = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
    return minFactor + (1 - minFactor) * 0.5 * (1 + Math.cos(Math.PI * p));
  };
}
