/**
 * The safetensors format (https://github.com/huggingface/safetensors), read and written exactly:
 *
 *   bytes 0..8        N, the header length, unsigned 64-bit little-endian
 *   bytes 8..8+N      a UTF-8 JSON object { name: { dtype, shape, data_offsets: [begin, end] }, …,
 *                     "__metadata__"?: { string: string } }, padded with spaces to a multiple of 8
 *   bytes 8+N..       the data section: each tensor's values, row-major, little-endian, at
 *                     [begin, end) relative to the start of the data section, contiguous, no gaps
 *
 * Writing follows the reference writer byte for byte: tensors sorted by descending alignment
 * (F64, then F32, then I32) and then by name, `__metadata__` first, compact JSON, header padded
 * with spaces to 8 bytes so every tensor's data is aligned.
 *
 * Reading treats the file as hostile: the header length is checked against a 100 MB limit and the
 * file size, every entry's dtype, shape and offsets are checked, and the offsets must tile the data
 * section exactly, all before any tensor memory is allocated. A bad file is a `FormatError` that
 * names the file, the tensor and the problem.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { DType, TypedArray } from '../dtype.js';
import { FormatError, ValueError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { writeFileAtomic, type AtomicWriteOptions } from './atomic.js';
import { checkOptions } from '../validate.js';
import { setOwn } from './codec.js';

/** The reference implementation's header limit; a header above it is rejected, never allocated. */
export const MAX_HEADER_BYTES = 100_000_000;
/**
 * Default cap on the number of tensors a header may declare. A header's JSON is parsed and each
 * entry validated before any data is read, so without a cap a forged 100 MB header of 1.7 million
 * empty entries cost 16 s and 2 GB. Real models have thousands; raise it with `{ maxTensors }`.
 */
export const DEFAULT_MAX_TENSORS = 100_000;

/** Limits on what a reader accepts, checked before the header is parsed (a FormatError past them). */
export interface ReadLimits {
  /** Most tensors a header may declare (default DEFAULT_MAX_TENSORS = 100,000). */
  maxTensors?: number;
}

/** One tensor's record in a safetensors header. Offsets are relative to the data section. */
export interface SafetensorsEntry {
  /** The tensor's name. */
  name: string;
  /** The dtype as written in the file ('F32', 'F64', 'I32', 'F16' or 'BF16'). */
  dtype: string;
  /** The tensor's shape. */
  shape: number[];
  /** [begin, end) byte offsets of the tensor's data. */
  dataOffsets: [number, number];
}

/** A parsed and fully validated header. */
export interface SafetensorsHeader {
  /** Length of the JSON header in bytes (N). */
  headerBytes: number;
  /** Length of the data section in bytes. */
  dataBytes: number;
  /** The `__metadata__` map, or `{}` when the file has none. */
  metadata: Record<string, string>;
  /** The tensors in data-section order. */
  tensors: SafetensorsEntry[];
}

/** The tensors of a safetensors file together with its `__metadata__`. */
export interface SafetensorsContents {
  /** The tensors by name. */
  tensors: Record<string, Tensor>;
  /** The `__metadata__` map, or `{}` when the file has none. */
  metadata: Record<string, string>;
}

/** Options of `saveSafetensors`. */
export type SaveSafetensorsOptions = AtomicWriteOptions;

// ---------------------------------------------------------------------------------------------
// dtypes

interface WriteCode {
  code: 'F64' | 'F32' | 'I32';
  rank: number;
}
const WRITE: Record<DType, WriteCode> = {
  float64: { code: 'F64', rank: 0 },
  float32: { code: 'F32', rank: 1 },
  int32: { code: 'I32', rank: 2 },
};

interface ReadCode {
  size: number;
  dtype: DType;
}
const READ: ReadonlyMap<string, ReadCode> = new Map<string, ReadCode>([
  ['F64', { size: 8, dtype: 'float64' }],
  ['F32', { size: 4, dtype: 'float32' }],
  ['I32', { size: 4, dtype: 'int32' }],
  ['F16', { size: 2, dtype: 'float32' }],
  ['BF16', { size: 2, dtype: 'float32' }],
]);

/** Valid safetensors dtypes that tapegrad has no dtype for. */
const UNSUPPORTED = new Set([
  'BOOL',
  'U8',
  'I8',
  'I16',
  'U16',
  'U32',
  'I64',
  'U64',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'F6_E2M3',
  'F6_E3M2',
  'F4',
  'C64',
]);

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swapInPlace(bytes: Uint8Array, width: number): void {
  for (let i = 0; i + width <= bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

// ---------------------------------------------------------------------------------------------
// small helpers

const utf8 = new TextEncoder();
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));

// ---------------------------------------------------------------------------------------------
// writing

interface Prepared {
  header: Uint8Array;
  items: { name: string; data: TypedArray; begin: number }[];
  dataBytes: number;
}

function prepare(op: string, tensors: Record<string, Tensor>, metadata: Record<string, string> | undefined): Prepared {
  if (typeof tensors !== 'object' || tensors === null || Array.isArray(tensors)) {
    throw new ValueError(`${op}: tensors must be an object mapping names to Tensors, got ${describe(tensors)}`);
  }
  const list: { name: string; t: Tensor; w: WriteCode }[] = [];
  for (const name of Object.keys(tensors)) {
    const t: unknown = tensors[name];
    if (name === '__metadata__')
      throw new ValueError(`${op}: "__metadata__" is reserved by the safetensors format and cannot name a tensor`);
    if (!(t instanceof Tensor)) throw new ValueError(`${op}: tensor "${name}" is not a Tensor (got ${describe(t)})`);
    const w = WRITE[t.dtype];
    if (!w)
      throw new ValueError(`${op}: tensor "${name}" has dtype ${String(t.dtype)}, which safetensors cannot store`);
    list.push({ name, t, w });
  }
  // The reference writer's order: descending alignment (F64, F32, I32), then name (bytewise UTF-8).
  list.sort((a, b) => a.w.rank - b.w.rank || compareUtf8(a.name, b.name));

  const parts: string[] = [];
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      throw new ValueError(`${op}: metadata must be an object of string values, got ${describe(metadata)}`);
    }
    const mparts: string[] = [];
    for (const k of Object.keys(metadata)) {
      const v: unknown = metadata[k];
      if (typeof v !== 'string')
        throw new ValueError(
          `${op}: metadata["${k}"] must be a string (safetensors metadata is string→string), got ${describe(v)}`,
        );
      mparts.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    }
    parts.push(`"__metadata__":{${mparts.join(',')}}`);
  }
  const items: Prepared['items'] = [];
  let offset = 0;
  for (const { name, t, w } of list) {
    const data = t.data;
    if (data.length !== t.size)
      throw new ValueError(
        `${op}: tensor "${name}" holds ${data.length} values but its shape [${t.shape.join(',')}] needs ${t.size}`,
      );
    const begin = offset;
    offset += data.byteLength;
    items.push({ name, data, begin });
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${w.code}","shape":[${t.shape.join(',')}],"data_offsets":[${begin},${offset}]}`,
    );
  }
  let json = `{${parts.join(',')}}`;
  const raw = utf8.encode(json);
  const pad = (8 - (raw.length % 8)) % 8;
  if (pad) json += ' '.repeat(pad);
  const header = pad ? utf8.encode(json) : raw;
  if (header.length > MAX_HEADER_BYTES) {
    throw new ValueError(
      `${op}: the header would be ${header.length} bytes, over the ${MAX_HEADER_BYTES}-byte limit readers enforce (too many tensors or too much metadata)`,
    );
  }
  return { header, items, dataBytes: offset };
}

/**
 * Serializes tensors (and optional string→string metadata) to safetensors bytes, laid out exactly
 * as the reference writer lays them out. The values are copied, so the result is a snapshot.
 */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  return encode('encodeSafetensors', tensors, metadata);
}

/** @internal `encodeSafetensors` with the caller's name in error messages. */
export function encode(
  op: string,
  tensors: Record<string, Tensor>,
  metadata: Record<string, string> | undefined,
): Uint8Array {
  const { header, items, dataBytes } = prepare(op, tensors, metadata);
  const base = 8 + header.length;
  const out = new Uint8Array(base + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  for (const { data, begin } of items) {
    const dst = out.subarray(base + begin, base + begin + data.byteLength);
    dst.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    if (!LITTLE_ENDIAN) swapInPlace(dst, data.BYTES_PER_ELEMENT);
  }
  return out;
}

/**
 * Writes tensors to `path` in the safetensors format, atomically: the values are snapshotted when
 * the call is made, written to a temp file in the same directory, fsynced and renamed over `path`.
 * On any failure `path` keeps its previous content and no temp file is left behind.
 */
export async function saveSafetensors(
  path: string,
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
  opts: SaveSafetensorsOptions = {},
): Promise<void> {
  checkOptions('saveSafetensors', opts, ['fsync']);
  const bytes = encode('saveSafetensors', tensors, metadata);
  await writeFileAtomic(path, [bytes], opts);
}

// ---------------------------------------------------------------------------------------------
// reading: validation

/** Where bytes came from, for error messages: "loadSafetensors: model.safetensors: …". */
interface Source {
  op: string;
  label: string;
  maxTensors?: number;
}

function checkLimits(op: string, opts: ReadLimits, known: readonly string[]): number {
  checkOptions(op, opts, known);
  const m = opts.maxTensors ?? DEFAULT_MAX_TENSORS;
  if (!Number.isSafeInteger(m) || m < 0)
    throw new ValueError(`${op}: maxTensors must be a non-negative integer, got ${describe(m)}`);
  return m;
}

/**
 * Counts the top-level keys of a JSON object text without parsing it, stopping once past `limit`:
 * bounds the work and memory a header may cost before JSON.parse allocates anything per entry.
 */
function countTopLevelKeys(text: string, limit: number): number {
  let depth = 0,
    count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      if (depth === 1) {
        let j = i - 1;
        while (j >= 0 && (text[j] === ' ' || text[j] === '\n' || text[j] === '\t' || text[j] === '\r')) j--;
        if (text[j] === '{' || text[j] === ',') if (++count > limit) return count;
      }
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++;
    } else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) depth--;
  }
  return count;
}

function fail(src: Source, problem: string, tensor?: string): FormatError {
  const where = tensor === undefined ? '' : `tensor ${JSON.stringify(tensor)}: `;
  return new FormatError(`${src.op}: ${src.label}: ${where}${problem}`);
}

function headerLength(first8: Uint8Array, totalBytes: number, src: Source): number {
  if (totalBytes < 8) {
    throw fail(
      src,
      `is ${totalBytes} bytes, shorter than the 8-byte header length that starts a safetensors file (truncated, or not a safetensors file)`,
    );
  }
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw fail(
      src,
      `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit (corrupt, forged, or not a safetensors file)`,
    );
  }
  if (n > BigInt(totalBytes - 8)) {
    throw fail(src, `header length ${n} runs past the end of the ${totalBytes}-byte file (truncated or corrupt)`);
  }
  if (n < 2n) throw fail(src, `header length ${n} is too small to hold a JSON object`);
  return Number(n);
}

/** Top-level keys of a JSON object text in source order (the text is known to parse). */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let prev = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (depth === 1 && (prev === '{' || prev === ',')) keys.push(JSON.parse(text.slice(start, i + 1)) as string);
      prev = '"';
    } else if (c === '{' || c === '[') {
      depth++;
      prev = c;
    } else if (c === '}' || c === ']') {
      depth--;
      prev = c;
    } else if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') {
      prev = c;
    }
  }
  return keys;
}

function isOffset(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function parseEntry(name: string, v: unknown, dataBytes: number, src: Source): SafetensorsEntry {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw fail(src, `entry must be an object {dtype, shape, data_offsets}, got ${describe(v)}`, name);
  }
  const e = v as Record<string, unknown>;
  const dtype = e['dtype'];
  if (typeof dtype !== 'string') throw fail(src, `"dtype" must be a string, got ${describe(dtype)}`, name);
  const code = READ.get(dtype);
  if (!code) {
    if (UNSUPPORTED.has(dtype))
      throw fail(src, `dtype ${dtype} is not supported by tapegrad (it reads F32, F64, I32, F16 and BF16)`, name);
    throw fail(src, `unknown dtype ${JSON.stringify(dtype)}`, name);
  }
  const shape = e['shape'];
  if (!Array.isArray(shape))
    throw fail(src, `"shape" must be an array of non-negative integers, got ${describe(shape)}`, name);
  let elements = 1n;
  for (const d of shape as unknown[]) {
    if (!isOffset(d)) throw fail(src, `"shape" must hold non-negative integers, found ${describe(d)}`, name);
    elements *= BigInt(d);
  }
  const offs = e['data_offsets'];
  if (!Array.isArray(offs) || offs.length !== 2)
    throw fail(
      src,
      `"data_offsets" must be a [begin, end] pair, got ${Array.isArray(offs) ? `${offs.length} values` : describe(offs)}`,
      name,
    );
  const [begin, end] = offs as unknown[];
  if (!isOffset(begin) || !isOffset(end))
    throw fail(src, `"data_offsets" must be non-negative integers, got [${describe(begin)}, ${describe(end)}]`, name);
  if (end < begin) throw fail(src, `data_offsets [${begin},${end}] end before they begin`, name);
  if (end > dataBytes) {
    throw fail(
      src,
      `data_offsets [${begin},${end}] run past the end of the ${dataBytes}-byte data section (truncated or corrupt file)`,
      name,
    );
  }
  const need = elements * BigInt(code.size);
  if (need !== BigInt(end - begin)) {
    throw fail(
      src,
      `shape [${(shape as number[]).join(',')}] of ${dtype} needs ${need} bytes but data_offsets [${begin},${end}] hold ${end - begin}`,
      name,
    );
  }
  return { name, dtype, shape: [...(shape as number[])], dataOffsets: [begin, end] };
}

function parseMetadata(v: unknown, src: Source): Record<string, string> {
  const out: Record<string, string> = {};
  if (v === null) return out;
  if (typeof v !== 'object' || Array.isArray(v))
    throw fail(src, `"__metadata__" must be an object of strings, got ${describe(v)}`);
  for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
    if (typeof s !== 'string')
      throw fail(src, `"__metadata__" values must be strings, but ${JSON.stringify(k)} is ${describe(s)}`);
    setOwn(out, k, s);
  }
  return out;
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function parseHeader(hb: Uint8Array, dataBytes: number, src: Source): SafetensorsHeader {
  let text: string;
  try {
    text = decoder.decode(hb);
  } catch {
    throw fail(src, 'header is not valid UTF-8 (corrupt, or not a safetensors file)');
  }
  const limit = src.maxTensors ?? DEFAULT_MAX_TENSORS;
  const keys = countTopLevelKeys(text, limit + 1); // + 1: __metadata__ is not a tensor
  if (keys > limit + 1 || (keys === limit + 1 && !text.includes('"__metadata__"'))) {
    throw fail(
      src,
      `header declares more than ${limit} tensors (the maxTensors limit); if the file is trusted, ` +
        `raise it: { maxTensors: n }`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw fail(src, `header is not valid JSON (${errMsg(e)})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw fail(src, `header must be a JSON object, got ${describe(json)}`);
  }
  const seen = new Set<string>();
  for (const k of topLevelKeys(text)) {
    if (seen.has(k))
      throw fail(
        src,
        k === '__metadata__' ? 'header has "__metadata__" twice' : 'name appears twice in the header',
        k === '__metadata__' ? undefined : k,
      );
    seen.add(k);
  }
  let metadata: Record<string, string> = {};
  const tensors: SafetensorsEntry[] = [];
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') metadata = parseMetadata(v, src);
    else tensors.push(parseEntry(name, v, dataBytes, src));
  }
  tensors.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let pos = 0;
  let prev: SafetensorsEntry | undefined;
  for (const t of tensors) {
    const [b, e] = t.dataOffsets;
    if (b > pos)
      throw fail(
        src,
        `data_offsets [${b},${e}] leave a gap of ${b - pos} bytes after byte ${pos} of the data section (tensors must be contiguous)`,
        t.name,
      );
    if (b < pos)
      throw fail(
        src,
        `data_offsets [${b},${e}] overlap tensor ${JSON.stringify(prev!.name)} at [${prev!.dataOffsets.join(',')}]`,
        t.name,
      );
    pos = e;
    prev = t;
  }
  if (pos !== dataBytes) {
    throw fail(
      src,
      `the tensors cover ${pos} bytes of data but the data section holds ${dataBytes} (extra bytes at the end of the file, or a missing tensor)`,
    );
  }
  return { headerBytes: hb.length, dataBytes, metadata, tensors };
}

/** Builds a Tensor from exactly its bytes. `owned` means `raw` is a fresh, aligned buffer we may keep. */
function materialize(entry: SafetensorsEntry, raw: Uint8Array, owned: boolean): Tensor {
  const code = READ.get(entry.dtype)!;
  const n = raw.length / code.size;
  let data: TypedArray;
  if (entry.dtype === 'F16' || entry.dtype === 'BF16') {
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (entry.dtype === 'BF16') {
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
      data = new Float32Array(bits.buffer);
    } else {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
      data = out;
    }
  } else {
    const bytes = owned && raw.byteOffset % code.size === 0 ? raw : raw.slice();
    if (!LITTLE_ENDIAN) swapInPlace(bytes, code.size);
    const buf = bytes.buffer as ArrayBuffer;
    if (code.dtype === 'float64') data = new Float64Array(buf, bytes.byteOffset, n);
    else if (code.dtype === 'float32') data = new Float32Array(buf, bytes.byteOffset, n);
    else data = new Int32Array(buf, bytes.byteOffset, n);
  }
  return new Tensor(data, entry.shape);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

// ---------------------------------------------------------------------------------------------
// reading: in memory

/** Options of the safetensors decoders: read limits and a name for messages. */
export interface DecodeOptions extends ReadLimits {
  /** Name used in error messages (default "<bytes>"). */
  name?: string;
}

/** Parses safetensors bytes into tensors and metadata; throws `FormatError` on any malformed input. */
export function decodeSafetensorsWithMetadata(bytes: Uint8Array, opts: DecodeOptions = {}): SafetensorsContents {
  const maxTensors = checkLimits('decodeSafetensors', opts, ['name', 'maxTensors']);
  const src: Source = { op: 'decodeSafetensors', label: opts.name ?? '<bytes>', maxTensors };
  if (!(bytes instanceof Uint8Array))
    throw new ValueError(`decodeSafetensors: expected a Uint8Array, got ${describe(bytes)}`);
  const n = headerLength(bytes.subarray(0, 8), bytes.length, src);
  const header = parseHeader(bytes.subarray(8, 8 + n), bytes.length - 8 - n, src);
  const base = 8 + n;
  const tensors: Record<string, Tensor> = {};
  for (const e of header.tensors) {
    setOwn(tensors, e.name, materialize(e, bytes.subarray(base + e.dataOffsets[0], base + e.dataOffsets[1]), false));
  }
  return { tensors, metadata: header.metadata };
}

/** Parses safetensors bytes into tensors (see `decodeSafetensorsWithMetadata` for the metadata). */
export function decodeSafetensors(bytes: Uint8Array, opts: DecodeOptions = {}): Record<string, Tensor> {
  return decodeSafetensorsWithMetadata(bytes, opts).tensors;
}

// ---------------------------------------------------------------------------------------------
// reading: files

/** @internal An open, validated safetensors file whose tensors can be read one by one. */
export class SafetensorsReader {
  private constructor(
    private readonly fh: FileHandle,
    private readonly src: Source,
    readonly header: SafetensorsHeader,
  ) {}

  /** Opens `path`, validates its header against the file size, and allocates nothing else. */
  static async open(path: string, op: string, limits: ReadLimits = {}): Promise<SafetensorsReader> {
    const src: Source = { op, label: path, maxTensors: checkLimits(op, limits, ['maxTensors']) };
    const fh = await open(path, 'r');
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw fail(src, 'is not a regular file');
      const size = st.size;
      const first = size >= 8 ? await readExactly(fh, 8, 0, src) : new Uint8Array(8);
      const n = headerLength(first, size, src);
      const header = parseHeader(await readExactly(fh, n, 8, src), size - 8 - n, src);
      return new SafetensorsReader(fh, src, header);
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
  }

  /** Reads one tensor (an entry of `header.tensors`). */
  async read(entry: SafetensorsEntry): Promise<Tensor> {
    const [b, e] = entry.dataOffsets;
    const raw = await readExactly(this.fh, e - b, 8 + this.header.headerBytes + b, this.src, entry.name);
    return materialize(entry, raw, true);
  }

  /** Reads every tensor, in file order. */
  async readAll(): Promise<Record<string, Tensor>> {
    const out: Record<string, Tensor> = {};
    for (const e of this.header.tensors) setOwn(out, e.name, await this.read(e));
    return out;
  }

  fail(problem: string, tensor?: string): FormatError {
    return fail(this.src, problem, tensor);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

async function readExactly(
  fh: FileHandle,
  length: number,
  position: number,
  src: Source,
  tensor?: string,
): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let off = 0;
  while (off < length) {
    const { bytesRead } = await fh.read(buf, off, Math.min(length - off, 1 << 30), position + off);
    if (bytesRead === 0)
      throw fail(
        src,
        `file ended after ${position + off} bytes, before the ${length} bytes expected at byte ${position} (it changed while being read?)`,
        tensor,
      );
    off += bytesRead;
  }
  return buf;
}

async function withReader<T>(
  path: string,
  op: string,
  fn: (r: SafetensorsReader) => Promise<T>,
  limits: ReadLimits = {},
): Promise<T> {
  const r = await SafetensorsReader.open(path, op, limits);
  try {
    return await fn(r);
  } finally {
    await r.close();
  }
}

/** Reads and validates only the header of a safetensors file (names, dtypes, shapes, metadata). */
export function readSafetensorsHeader(path: string, opts: ReadLimits = {}): Promise<SafetensorsHeader> {
  return withReader(path, 'readSafetensorsHeader', async (r) => r.header, opts);
}

/** Loads every tensor of a safetensors file together with its `__metadata__`. */
export function loadSafetensorsWithMetadata(path: string, opts: ReadLimits = {}): Promise<SafetensorsContents> {
  return withReader(
    path,
    'loadSafetensors',
    async (r) => ({ tensors: await r.readAll(), metadata: r.header.metadata }),
    opts,
  );
}

/**
 * Loads every tensor of a safetensors file. F32, F64 and I32 load as float32, float64 and int32;
 * F16 and BF16 are widened to float32. Any malformed file is a `FormatError`.
 */
export function loadSafetensors(path: string, opts: ReadLimits = {}): Promise<Record<string, Tensor>> {
  return withReader(path, 'loadSafetensors', (r) => r.readAll(), opts);
}
