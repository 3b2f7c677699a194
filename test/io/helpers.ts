import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { FormatError, Tensor } from '../../src/index.js';

const dirs: string[] = [];
/** A fresh scratch directory under os.tmpdir(), removed after the test. */
export async function scratch(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'tapegrad-io-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  while (dirs.length) await rm(dirs.pop()!, { recursive: true, force: true });
});

export async function tempFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.tmp'));
}

/** Bytes of a tensor's data, for bit-exact comparison (NaN payloads, -0). */
export const bytesOf = (t: Tensor): Uint8Array => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);

export function expectSameTensor(a: Tensor | undefined, b: Tensor): void {
  expect(a).toBeInstanceOf(Tensor);
  expect(a!.dtype).toBe(b.dtype);
  expect(a!.shape).toEqual(b.shape);
  expect(bytesOf(a!)).toEqual(bytesOf(b));
}

/** Runs fn and returns the FormatError it throws; fails the test on success or any other error type. */
export function formatError(fn: () => unknown): FormatError {
  try {
    fn();
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw new Error(`expected a FormatError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  throw new Error('expected a FormatError, but nothing was thrown');
}

export async function formatErrorAsync(p: Promise<unknown>): Promise<FormatError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw new Error(`expected a FormatError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  throw new Error('expected a FormatError, but nothing was thrown');
}

const enc = new TextEncoder();
/** Builds a safetensors file by hand: u64 LE header length, header text as given, then data bytes. */
export function rawFile(header: string, data: ArrayLike<number> = [], headerLength?: bigint): Uint8Array {
  const h = enc.encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}
