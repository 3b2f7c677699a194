/**
 * The WebGPU worker's source (plain JavaScript, run with `new Worker(src, { eval: true })` so it works
 * the same from TypeScript sources, tsx, vitest and the built package). The Dawn device lives in
 * this worker thread; the main thread posts it a command stream (uploads, kernel launches, frees)
 * without waiting, and blocks on `Atomics.wait` only when it reads a buffer back.
 *
 * Messages (main → worker), all processed in order:
 * - `{ t: 'run', src, ins: (number | Float32Array)[], scalars: Float32Array | null, out, size, groups: [x, y] }`:
 *   launches the compute shader `src` (compiled once, cached by source text) with the inputs (ids
 *   of resident buffers, or arrays uploaded for this launch), writing `size` floats to the new buffer `out`.
 * - `{ t: 'free', id }`, `{ t: 'evict', src }` (drops a cached pipeline).
 * - `{ t: 'read', id, sab }`: copies buffer `id` into the SharedArrayBuffer `sab` (layout: Int32 status,
 *   Int32 length, then the floats) and notifies status. Status 1 = done, 2 = error (message as UTF-16
 *   code units in place of the floats). `id` = -1 only reports pending errors (a sync point).
 * Start-up: `workerData = { url, sab }`; the worker writes a JSON description of the adapter (or the
 * error) into `sab` the same way.
 */
export const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const buffers = new Map();
const pipelines = new Map();
let device = null;
// The instance and adapter must stay reachable: if the GC collects dawn.node's instance, the device's
// mutexes go with it (hangs in mapAsync, 'std::system_error: Invalid argument').
const keep = [];
// Pending maps must be held from a root too: dawn.node's buffer owns its mapAsync promise, and a
// buffer reachable only from the awaiting frame is collected mid-map ("Promise not resolved").
const inflight = new Set();
async function held(obj, promise) {
  const entry = [obj, promise];
  inflight.add(entry);
  try { return await promise; } finally { inflight.delete(entry); }
}
let pending = null;
const queue = [];
let busy = false;

function answer(sab, status, floats, text) {
  const head = new Int32Array(sab, 0, 2);
  if (status === 1) {
    new Float32Array(sab, 8, floats.length).set(floats);
    head[1] = floats.length;
  } else {
    const codes = new Uint16Array(sab, 8, Math.min(text.length, (sab.byteLength - 8) >> 1));
    for (let i = 0; i < codes.length; i++) codes[i] = text.charCodeAt(i);
    head[1] = codes.length;
  }
  Atomics.store(head, 0, status);
  Atomics.notify(head, 0);
}
const note = (e) => { if (pending === null) pending = String((e && e.message) || e); };

async function start() {
  const { sab, url } = workerData;
  try {
    const { create } = await import(url);
    const gpu = create([]);
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    keep.push(gpu, adapter);
    if (!adapter) throw new Error('requestAdapter() found no adapter (no Vulkan/Metal/D3D12 driver Dawn accepts)');
    const info = adapter.info || {};
    const limits = adapter.limits;
    device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxStorageBuffersPerShaderStage: Math.min(limits.maxStorageBuffersPerShaderStage, 8),
      },
    });
    // (addEventListener('uncapturederror') crashes dawn.node 0.6.2 in a worker; the property works.)
    device.onuncapturederror = (ev) => note(ev.error);
    device.lost.then((l) => note('WebGPU device lost: ' + l.message));
    const desc = {
      vendor: info.vendor || '', architecture: info.architecture || '', device: info.device || '',
      description: info.description || '', isFallbackAdapter: !!info.isFallbackAdapter,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
    };
    answer(sab, 2, null, JSON.stringify({ ok: true, desc }));
  } catch (e) {
    answer(sab, 2, null, JSON.stringify({ ok: false, error: String((e && e.message) || e).split('\n')[0] }));
  }
}

function storage(bytes) {
  return device.createBuffer({ size: Math.max(4, bytes), usage: 0x80 | 0x04 | 0x08 }); // STORAGE|COPY_SRC|COPY_DST
}
function uploaded(arr) {
  const b = device.createBuffer({ size: Math.max(4, arr.byteLength), usage: 0x80, mappedAtCreation: true });
  new Float32Array(b.getMappedRange()).set(arr);
  b.unmap();
  return b;
}
function pipeline(src) {
  let p = pipelines.get(src);
  if (!p) {
    const module = device.createShaderModule({ code: src });
    p = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    pipelines.set(src, p);
  }
  return p;
}

function run(m) {
  const temps = [];
  const entries = [];
  m.ins.forEach((x, i) => {
    let b;
    if (typeof x === 'number') {
      b = buffers.get(x);
      if (!b) throw new Error('kernel input ' + i + ' refers to freed buffer ' + x);
    } else {
      b = uploaded(x);
      temps.push(b);
    }
    entries.push({ binding: i, resource: { buffer: b } });
  });
  const out = storage(m.size * 4);
  buffers.set(m.out, out);
  entries.push({ binding: m.ins.length, resource: { buffer: out } });
  if (m.scalars) {
    const u = uploaded(m.scalars);
    temps.push(u);
    entries.push({ binding: m.ins.length + 1, resource: { buffer: u } });
  }
  const p = pipeline(m.src);
  const bind = device.createBindGroup({ layout: p.getBindGroupLayout(0), entries });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(p);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(m.groups[0], m.groups[1]);
  pass.end();
  device.queue.submit([enc.finish()]);
  for (const t of temps) t.destroy();
}

async function read(m) {
  if (m.id === -1) {
    await held(device.queue, device.queue.onSubmittedWorkDone());
    if (pending !== null) { const e = pending; pending = null; return answer(m.sab, 2, null, e); }
    return answer(m.sab, 1, new Float32Array(0));
  }
  const b = buffers.get(m.id);
  if (!b) return answer(m.sab, 2, null, 'read of freed buffer ' + m.id);
  const bytes = b.size;
  const staging = device.createBuffer({ size: bytes, usage: 0x01 | 0x08 }); // MAP_READ|COPY_DST
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(b, 0, staging, 0, bytes);
  device.queue.submit([enc.finish()]);
  await held(staging, staging.mapAsync(1));
  if (trace) trace({ t: 'mapped', id: m.id });
  if (pending !== null) {
    staging.destroy();
    const e = pending; pending = null; return answer(m.sab, 2, null, e);
  }
  answer(m.sab, 1, new Float32Array(staging.getMappedRange(), 0, m.n)); // copied once, into the shared memory
  staging.unmap();
  staging.destroy();
}

const trace = workerData.debug ? (m) => require('node:fs').writeSync(2, 'webgpu worker: ' + m.t + ' ' +
  (m.t === 'run' ? m.src.split('\n').slice(-3).join(' ') : String(m.id)) + '\n') : null;
async function handle(m) {
  if (trace) trace(m);
  try {
    if (m.t === 'run') run(m);
    else if (m.t === 'free') { const b = buffers.get(m.id); if (b) { b.destroy(); buffers.delete(m.id); } }
    else if (m.t === 'evict') pipelines.delete(m.src);
    else if (m.t === 'read') await read(m);
  } catch (e) {
    note(e);
    if (m.t === 'read') { const err = pending; pending = null; answer(m.sab, 2, null, err); }
  }
}
async function drain() {
  if (busy) return;
  busy = true;
  while (queue.length) await handle(queue.shift());
  busy = false;
}
parentPort.on('message', (m) => { queue.push(m); drain(); });
start();
`;
