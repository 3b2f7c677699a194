/** Muon, orthogonalised momentum for 2-D weights (torch.optim.Muon). */
import { ShapeError } from '../errors.js';
import { defineOptimizer, zerosFor } from './optimizer.js';
import { getUpdateKernel, type FloatArray, type MuonOptions } from './updates.js';
import { bool, checkNumber, choice, lr, num, show, weightDecay, type Field } from './validate.js';
import { ValueError } from '../errors.js';

export type { MuonOptions };
/**
 * Per-parameter state of Muon.
 * @property momentumBuffer - Momentum buffer B (torch: momentum_buffer).
 */
export type MuonState = { momentumBuffer: FloatArray };

const coefficients: Field<[number, number, number]> = {
  default: [3.4445, -4.775, 2.0315],
  check(where, name, v) {
    if (!Array.isArray(v) || v.length !== 3) {
      throw new ValueError(`${where}: option ${name} must be a triple [a, b, c], got ${show(v)}`);
    }
    v.forEach((x, i) => checkNumber(where, `${name}[${i}]`, x));
  },
};

/**
 * Muon (Jordan et al. 2024; torch.optim.Muon, PyTorch 2.9+): momentum whose update is replaced by the
 * nearest semi-orthogonal matrix, computed with 5 quintic Newton–Schulz steps, so every direction of
 * the weight matrix moves at the same rate. Only for 2-D weights of hidden layers: give embeddings,
 * the output layer, biases and gains to AdamW (a second optimizer), as the reference recommends.
 * PyTorch runs the Newton–Schulz steps in bfloat16; here they run in the parameter's dtype.
 */
export class Muon extends defineOptimizer<MuonOptions, MuonState>({
  name: 'Muon',
  options: {
    lr: lr(1e-3),
    weightDecay: weightDecay(0.1),
    momentum: num(0.95, { min: 0 }),
    nesterov: bool(true),
    nsCoefficients: coefficients,
    eps: num(1e-7, { min: 0 }),
    nsSteps: num(5, { min: 0, below: 100, integer: true }),
    adjustLrFn: choice<MuonOptions['adjustLrFn']>(null, [null, 'original', 'matchRmsAdamW'], {
      match_rms_adamw: 'matchRmsAdamW',
    }),
  },
  checkParam(shape, where) {
    if (shape.length !== 2) {
      throw new ShapeError(
        `${where} has shape [${shape.join(',')}] (${shape.length}-D); Muon only optimizes 2-D weight matrices: ` +
          'optimize biases, gains, embeddings and other non-matrix parameters with AdamW (a second optimizer), as PyTorch recommends',
      );
    }
  },
  state: { momentumBuffer: 'buffer' },
  init: (p) => ({ momentumBuffer: zerosFor(p) }),
  update(p, g, s, o, shape) {
    getUpdateKernel('muon')(p, g, s.momentumBuffer, shape[0]!, shape[1]!, o);
  },
}) {}
