/**
 * The row lookup of nn.Embedding as one op each way, instead of `indexSelect` (a gather over an
 * index expanded to [N, D], then a scatter-add of the same size backward): one contiguous copy of
 * D values per index forward and one accumulation per index backward (a GPT step's token embedding,
 * forward + backward: 557 → 116 µs).
 * Each direction's backward is the other one, so the lookup is differentiable to any order. The
 * indices come checked (`asIndex`: integers in [−V, V)).
 */
import { defineOpWith } from '../autograd/custom.js';
import { allocate } from '../dtype.js';
import { activeTracer } from '../tape.js';
import { Tensor } from '../tensor.js';

/** Host values of an index tensor as row numbers in [0, rows). */
function rowsOf(idx: Tensor, rows: number): Int32Array {
  const d = idx.data,
    out = new Int32Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const j = Number(d[i]);
    out[i] = j < 0 ? j + rows : j;
  }
  return out;
}

/** weight [V, D] at flat indices [N] → [N, D]; backward: `accumulateRows`. */
const lookupRows = defineOpWith(false, {
  name: 'embeddingLookup',
  forward: (weight, idx) => {
    const [v, d] = weight!.shape as [number, number];
    const w = weight!.data,
      rows = rowsOf(idx!, v),
      out = allocate(weight!.dtype, rows.length * d);
    for (let i = 0; i < rows.length; i++) out.set(w.subarray(rows[i]! * d, (rows[i]! + 1) * d), i * d);
    return new Tensor(out, [rows.length, d]);
  },
  backward: (g, weight, idx) => [accumulateRows(g, idx!, weight!), null],
});

/** Rows of g [N, D] added into a zero table shaped like `like` [V, D] at the indices; backward: `lookupRows`. */
const accumulateRows = defineOpWith(false, {
  name: 'embeddingAccumulate',
  forward: (g, idx, like) => {
    const [v, d] = like!.shape as [number, number];
    const gd = g!.data,
      rows = rowsOf(idx!, v),
      out = allocate(g!.dtype, v * d);
    for (let i = 0; i < rows.length; i++) {
      const o = rows[i]! * d,
        s = i * d;
      for (let k = 0; k < d; k++) out[o + k]! += gd[s + k]!;
    }
    return new Tensor(out, [v, d]);
  },
  backward: (gg, _g, idx) => [lookupRows(gg, idx!), null, null],
});

/**
 * weight[idx] for a 1-D index: the fused lookup where the table lives on the host or in WebAssembly
 * memory, `indexSelect` elsewhere (GPU tensors, where reading `.data` costs a readback) and while
 * tracing for ONNX export (which records the primitives: Gather).
 */
export function embeddingRows(weight: Tensor, idx: Tensor): Tensor {
  const dev = weight.deviceBuffer?.device;
  if ((dev === undefined || dev === 'wasm') && activeTracer() === null && idx.ndim === 1)
    return lookupRows(weight, idx);
  return weight.indexSelect(0, idx);
}
