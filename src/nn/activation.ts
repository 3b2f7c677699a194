import { checkOptions } from '../validate.js';
/** Activation modules (PyTorch's names and defaults), each a thin Module over a composite op. */
import { elu, glu, hardtanh, leakyRelu, logSigmoid, mish, relu6, selu, silu } from '../ops/composite-math.js';
import { logSoftmax, softmax } from '../ops/composite.js';
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

/** Single-option constructors take the option or an options object: `new LeakyReLU(0.2)`, `{ negativeSlope: 0.2 }`. */
function opt<K extends string>(
  layer: string,
  arg: number | Partial<Record<K, number>> | undefined,
  key: K,
): number | undefined {
  if (typeof arg === 'number' || arg === undefined) return arg;
  checkOptions(layer, arg, [key]);
  return arg[key];
}

export class LeakyReLU extends Module {
  /** Slope for negative inputs (default 0.01). */
  readonly negativeSlope: number;
  constructor(opts: number | { negativeSlope?: number } = {}) {
    super();
    this.negativeSlope = opt('LeakyReLU', opts, 'negativeSlope') ?? 0.01;
  }
  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }
  protected override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}
export class ELU extends Module {
  /** Scale of the negative part (default 1). */
  readonly alpha: number;
  constructor(opts: number | { alpha?: number } = {}) {
    super();
    this.alpha = opt('ELU', opts, 'alpha') ?? 1;
  }
  forward(x: Tensor): Tensor {
    return elu(x, this.alpha);
  }
  protected override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}
export class SELU extends Module {
  forward(x: Tensor): Tensor {
    return selu(x);
  }
}
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}
export class Mish extends Module {
  forward(x: Tensor): Tensor {
    return mish(x);
  }
}
export class Hardtanh extends Module {
  /** Lower bound (default -1). */
  readonly minVal: number;
  /** Upper bound (default 1). */
  readonly maxVal: number;
  constructor(opts: { minVal?: number; maxVal?: number } = {}) {
    super();
    checkOptions('Hardtanh', opts, ['minVal', 'maxVal']);
    this.minVal = opts.minVal ?? -1;
    this.maxVal = opts.maxVal ?? 1;
  }
  forward(x: Tensor): Tensor {
    return hardtanh(x, this.minVal, this.maxVal);
  }
  protected override extraRepr(): string {
    return `minVal=${this.minVal}, maxVal=${this.maxVal}`;
  }
}
export class ReLU6 extends Module {
  forward(x: Tensor): Tensor {
    return relu6(x);
  }
}
export class LogSigmoid extends Module {
  forward(x: Tensor): Tensor {
    return logSigmoid(x);
  }
}
/** Gated linear unit over `dim` (default -1). */
export class GLU extends Module {
  /** Dim split in halves (default -1). */
  readonly dim: number;
  constructor(opts: number | { dim?: number } = {}) {
    super();
    this.dim = opt('GLU', opts, 'dim') ?? -1;
  }
  forward(x: Tensor): Tensor {
    return glu(x, this.dim);
  }
}
/** Softmax over `dim`. PyTorch's nn.Softmax has no default dim; here it is required too. */
export class Softmax extends Module {
  /** Dim along which to normalise. */
  readonly dim: number;
  constructor(opts: number | { dim: number }) {
    super();
    const dim = opt('Softmax', opts, 'dim');
    if (dim === undefined) {
      throw new ValueError("Softmax: dim is required (PyTorch's implicit dim choice is deprecated)");
    }
    this.dim = dim;
  }
  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }
}
export class LogSoftmax extends Module {
  /** Dim along which to normalise. */
  readonly dim: number;
  constructor(opts: number | { dim: number }) {
    super();
    const dim = opt('LogSoftmax', opts, 'dim');
    if (dim === undefined) {
      throw new ValueError("LogSoftmax: dim is required (PyTorch's implicit dim choice is deprecated)");
    }
    this.dim = dim;
  }
  forward(x: Tensor): Tensor {
    return logSoftmax(x, this.dim);
  }
}
