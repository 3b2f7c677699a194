import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeSafetensors,
  decodeSafetensorsWithMetadata,
  encodeSafetensors,
  FormatError,
  loadSafetensors,
  loadSafetensorsWithMetadata,
  readSafetensorsHeader,
  saveSafetensors,
  Tensor,
  tensor,
  ValueError,
  zeros,
} from '../../src/index.js';
import { writeFileAtomic } from '../../src/io/atomic.js';
import { bytesOf, expectSameTensor, formatError, formatErrorAsync, rawFile, scratch, tempFiles } from './helpers.js';

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const u64 = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >> 24) & 0xff, 0, 0, 0, 0];

describe('safetensors: bytes match the spec and the reference writer', () => {
  it('one F32 tensor, header already a multiple of 8 (no padding)', () => {
    // The reference implementation's own test vector: "attn.0", F32, shape [1,2,3], values 0..5.
    const json = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(json.length).toBe(64);
    const f32le = [
      [0x00, 0x00, 0x00, 0x00],
      [0x00, 0x00, 0x80, 0x3f],
      [0x00, 0x00, 0x00, 0x40],
      [0x00, 0x00, 0x40, 0x40],
      [0x00, 0x00, 0x80, 0x40],
      [0x00, 0x00, 0xa0, 0x40],
    ].flat();
    const expected = Uint8Array.from([...u64(64), ...ascii(json), ...f32le]);
    const t = tensor([0, 1, 2, 3, 4, 5], { shape: [1, 2, 3] });
    const bytes = encodeSafetensors({ 'attn.0': t });
    expect(bytes).toEqual(expected);
    expectSameTensor(decodeSafetensors(expected)['attn.0'], t);
  });

  it('pads the header with spaces to 8 bytes so the data is aligned', () => {
    const json = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    expect(json.length).toBe(65);
    const bytes = encodeSafetensors({ attn0: tensor([0, 1, 2, 3, 4, 5], { shape: [1, 1, 2, 3] }) });
    expect([...bytes.subarray(0, 8)]).toEqual(u64(72));
    expect(new TextDecoder().decode(bytes.subarray(8, 80))).toBe(json + ' '.repeat(7));
    expect(bytes.length).toBe(8 + 72 + 24);
  });

  it('no tensors, with and without metadata', () => {
    expect(encodeSafetensors({})).toEqual(Uint8Array.from([...u64(8), ...ascii('{}      ')]));
    const withMeta = encodeSafetensors({}, { framework: 'pt' });
    expect(withMeta).toEqual(Uint8Array.from([...u64(40), ...ascii('{"__metadata__":{"framework":"pt"}}     ')]));
    expect(decodeSafetensorsWithMetadata(withMeta)).toEqual({ tensors: {}, metadata: { framework: 'pt' } });
  });

  it('orders tensors by descending alignment (F64, F32, I32), then by name; __metadata__ first', () => {
    const b = tensor([1.5], { dtype: 'float64' });
    const a = tensor([[2, 3]], { dtype: 'float32' });
    const zero = tensor(7, { dtype: 'float32' });
    const c = tensor([-1, 2147483647], { dtype: 'int32' });
    const json =
      '{"__metadata__":{"k":"v"},' +
      '"b":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},' +
      '"0":{"dtype":"F32","shape":[],"data_offsets":[8,12]},' +
      '"a":{"dtype":"F32","shape":[1,2],"data_offsets":[12,20]},' +
      '"c":{"dtype":"I32","shape":[2],"data_offsets":[20,28]}}';
    const pad = (8 - (json.length % 8)) % 8;
    const data = [
      0,
      0,
      0,
      0,
      0,
      0,
      0xf8,
      0x3f, // 1.5 as f64
      0,
      0,
      0xe0,
      0x40, // 7
      0,
      0,
      0,
      0x40,
      0,
      0,
      0x40,
      0x40, // 2, 3
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0x7f, // -1, 2^31-1
    ];
    const expected = Uint8Array.from([...u64(json.length + pad), ...ascii(json + ' '.repeat(pad)), ...data]);
    expect(encodeSafetensors({ c, a, b, 0: zero }, { k: 'v' })).toEqual(expected);
  });

  it('saveSafetensors writes exactly the encoded bytes', async () => {
    const dir = await scratch();
    const p = join(dir, 'm.safetensors');
    const ts = {
      w: tensor([
        [1, 2],
        [3, 4],
      ]),
      n: tensor([5], { dtype: 'int32' }),
    };
    await saveSafetensors(p, ts, { note: 'hi' });
    expect(new Uint8Array(await readFile(p))).toEqual(encodeSafetensors(ts, { note: 'hi' }));
  });
});

describe('safetensors: round trips', () => {
  it('every dtype, 0-d and empty tensors, special values, metadata, odd names', async () => {
    const ts: Record<string, Tensor> = {
      f32: tensor(
        [
          [1.5, -0, NaN],
          [Infinity, -Infinity, 1e-45],
        ],
        { dtype: 'float32' },
      ),
      f64: tensor([Math.PI, -0, 5e-324, Number.MAX_VALUE, NaN], { dtype: 'float64' }),
      i32: tensor([-2147483648, 2147483647, 0, -1], { dtype: 'int32' }),
      scalar32: tensor(3.25, { dtype: 'float32' }),
      scalar64: tensor(-2.5, { dtype: 'float64' }),
      scalarI: tensor(42, { dtype: 'int32' }),
      empty: zeros([0]),
      empty3d: zeros([2, 0, 3], { dtype: 'float64' }),
      emptyI: zeros([0, 4], { dtype: 'int32' }),
      'layer.0.weight': tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2] }),
      'ünï/códe ✓': tensor([1]),
      '': tensor([2]),
    };
    Object.defineProperty(ts, '__proto__', { value: tensor([9]), enumerable: true });
    const meta = { format: 'pt', ключ: 'значение', empty: '', json: '{"a":[1,2]}' };
    const dir = await scratch();
    const p = join(dir, 'all.safetensors');
    await saveSafetensors(p, ts, meta);
    const { tensors, metadata } = await loadSafetensorsWithMetadata(p);
    expect(metadata).toEqual(meta);
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(ts).sort());
    for (const k of Object.keys(ts)) expectSameTensor(tensors[k], ts[k]!);
    expect(Object.getPrototypeOf(tensors)).toBe(Object.prototype);
    // in memory too
    const mem = decodeSafetensors(encodeSafetensors(ts, meta));
    for (const k of Object.keys(ts)) expectSameTensor(mem[k], ts[k]!);
    // loadSafetensors gives the same tensors
    const plain = await loadSafetensors(p);
    for (const k of Object.keys(ts)) expectSameTensor(plain[k], ts[k]!);
    const header = await readSafetensorsHeader(p);
    expect(header.metadata).toEqual(meta);
    expect(header.tensors.map((e) => e.name)).toContain('layer.0.weight');
  });

  it('tensors that are views into a larger buffer', () => {
    const buf = new Float64Array([1, 2, 3, 4, 5, 6]);
    const t = new Tensor(buf.subarray(1, 5), [2, 2]);
    expectSameTensor(decodeSafetensors(encodeSafetensors({ t }))['t'], t);
  });

  it('property: random tensors round-trip bit for bit, with contiguous offsets', () => {
    const dims = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 });
    const entry = fc.oneof(
      dims.chain((s) =>
        fc
          .array(fc.double(), { minLength: size(s), maxLength: size(s) })
          .map((v) => new Tensor(Float64Array.from(v), s)),
      ),
      dims.chain((s) =>
        fc
          .array(fc.float(), { minLength: size(s), maxLength: size(s) })
          .map((v) => new Tensor(Float32Array.from(v), s)),
      ),
      dims.chain((s) =>
        fc
          .array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: size(s), maxLength: size(s) })
          .map((v) => new Tensor(Int32Array.from(v), s)),
      ),
    );
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ maxLength: 12 }).filter((k) => k !== '__metadata__' && k !== '__proto__'),
          entry,
          { maxKeys: 6 },
        ),
        fc.dictionary(
          fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'),
          fc.string({ maxLength: 8 }),
          { maxKeys: 3 },
        ),
        (ts, meta) => {
          const bytes = encodeSafetensors(ts, meta);
          const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
          expect(n % 8).toBe(0);
          const { tensors, metadata } = decodeSafetensorsWithMetadata(bytes);
          expect(metadata).toEqual(meta);
          expect(Object.keys(tensors).sort()).toEqual(Object.keys(ts).sort());
          for (const k of Object.keys(ts)) expect(bytesOf(tensors[k]!)).toEqual(bytesOf(ts[k]!));
          // The header re-parses and the data section is exactly the concatenation of the tensors.
          const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<
            string,
            { data_offsets: [number, number] }
          >;
          const total = Object.entries(header)
            .filter(([k]) => k !== '__metadata__')
            .reduce((acc, [, v]) => acc + v.data_offsets[1] - v.data_offsets[0], 0);
          expect(8 + n + total).toBe(bytes.length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads F16 and BF16 as float32', () => {
    const f16 = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0xfc00, 0x8000, 0x3555];
    const bf16 = [0x3f80, 0xbf00, 0x4049, 0x7f80];
    const data: number[] = [];
    for (const h of [...f16, ...bf16]) data.push(h & 0xff, h >> 8);
    const bytes = rawFile(
      `{"h":{"dtype":"F16","shape":[8],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[2,2],"data_offsets":[16,24]}}`,
      data,
    );
    const out = decodeSafetensors(bytes);
    expect(out['h']!.dtype).toBe('float32');
    expect([...out['h']!.data]).toEqual([1, -2, 65504, 2 ** -24, Infinity, -Infinity, -0, Math.fround(0.333251953125)]);
    expect(Object.is(out['h']!.data[6], -0)).toBe(true);
    expect(out['b']!.shape).toEqual([2, 2]);
    expect([...out['b']!.data]).toEqual([1, -0.5, 3.140625, Infinity]);
    const nan = decodeSafetensors(rawFile('{"x":{"dtype":"F16","shape":[],"data_offsets":[0,2]}}', [0x00, 0x7e]));
    expect(Number.isNaN(nan['x']!.data[0])).toBe(true);
  });
});

describe('safetensors: writing rejects what cannot be written', () => {
  it('bad inputs are ValueErrors', () => {
    expect(() => encodeSafetensors({ __metadata__: tensor([1]) })).toThrow(ValueError);
    expect(() => encodeSafetensors({ w: [1, 2] as unknown as Tensor })).toThrow(/tensor "w" is not a Tensor/);
    expect(() => encodeSafetensors({ w: tensor([1]) }, { n: 3 as unknown as string })).toThrow(
      /metadata\["n"\] must be a string/,
    );
    expect(() => encodeSafetensors(null as unknown as Record<string, Tensor>)).toThrow(ValueError);
  });
});

describe('safetensors: hostile files are FormatErrors, never crashes, hangs or huge allocations', () => {
  const good = encodeSafetensors(
    {
      w: tensor([
        [1, 2],
        [3, 4],
      ]),
      b: tensor([0.5], { dtype: 'float64' }),
      i: tensor([7, 8], { dtype: 'int32' }),
    },
    { m: 'x' },
  );

  it('truncated at every cut point (in memory and on disk)', async () => {
    for (let cut = 0; cut < good.length; cut++) {
      const e = formatError(() => decodeSafetensors(good.subarray(0, cut)));
      expect(e.message).toMatch(/^decodeSafetensors: <bytes>: /);
    }
    const dir = await scratch();
    const p = join(dir, 'cut.safetensors');
    for (let cut = 0; cut < good.length; cut++) {
      await writeFile(p, good.subarray(0, cut));
      const e = await formatErrorAsync(loadSafetensors(p));
      expect(e.message).toContain(p);
    }
  });

  it('a truncated data section names the tensor that runs past the end', () => {
    const e = formatError(() => decodeSafetensors(good.subarray(0, good.length - 3), { name: 'model.safetensors' }));
    expect(e.message).toMatch(/model\.safetensors: tensor "i": data_offsets \[\d+,\d+\] run past the end/);
  });

  it('every single-byte corruption of the header and length is either still valid or a FormatError', () => {
    const n = Number(new DataView(good.buffer).getBigUint64(0, true));
    for (let pos = 0; pos < 8 + n; pos++) {
      for (const mask of [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff]) {
        const bad = good.slice();
        bad[pos]! ^= mask;
        try {
          decodeSafetensors(bad);
        } catch (e) {
          if (!(e instanceof FormatError)) throw new Error(`byte ${pos} ^ ${mask}: ${String(e)}`);
        }
      }
    }
  });

  it('property: random byte edits and cuts never throw anything but FormatError', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(),
        (edits, cut) => {
          const bad = good.slice(0, good.length - (cut % 4 === 0 ? cut % good.length : 0));
          for (const [i, v] of edits) if (bad.length) bad[i % bad.length] = v;
          try {
            decodeSafetensors(bad);
          } catch (e) {
            if (!(e instanceof FormatError)) throw e;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('header lengths that are huge or past the end', async () => {
    expect(formatError(() => decodeSafetensors(rawFile('{}', [], 2n ** 60n))).message).toMatch(
      /header length 1152921504606846976 exceeds the 100000000-byte limit/,
    );
    expect(formatError(() => decodeSafetensors(rawFile('{}', [], 2n ** 64n - 1n))).message).toMatch(/exceeds/);
    expect(formatError(() => decodeSafetensors(rawFile('{}      ', [], 9n))).message).toMatch(
      /header length 9 runs past the end of the 16-byte file/,
    );
    expect(formatError(() => decodeSafetensors(rawFile('', [], 0n))).message).toMatch(/too small/);
    // On disk: an 8-byte file claiming a 2^60-byte header is rejected from its size alone.
    const dir = await scratch();
    const p = join(dir, 'huge.safetensors');
    await writeFile(p, rawFile('', [], 2n ** 60n));
    expect((await formatErrorAsync(loadSafetensors(p))).message).toContain('exceeds');
  });

  it('a forged shape claiming gigabytes in a tiny file is rejected before allocating', () => {
    const bomb = rawFile(
      '{"w":{"dtype":"F64","shape":[1000000000,1000000000],"data_offsets":[0,8000000000000000000]}}',
      [1, 2, 3, 4],
    );
    expect(formatError(() => decodeSafetensors(bomb)).message).toMatch(
      /tensor "w": "data_offsets" must be non-negative integers|run past the end/,
    );
    const bomb2 = rawFile(
      '{"w":{"dtype":"F64","shape":[1099511627776,1099511627776],"data_offsets":[0,8]}}',
      [0, 0, 0, 0, 0, 0, 0, 0],
    );
    expect(formatError(() => decodeSafetensors(bomb2)).message).toMatch(
      /tensor "w": shape \[1099511627776,1099511627776\] of F64 needs \d+ bytes but data_offsets \[0,8\] hold 8/,
    );
  });

  const eight = [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40];
  const cases: [string, string, number[], RegExp][] = [
    [
      'overlapping offsets',
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
      eight,
      /tensor "b": data_offsets \[4,8\] overlap tensor "a" at \[0,8\]/,
    ],
    [
      'a gap between tensors',
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}',
      [...eight, 1, 2, 3, 4],
      /tensor "b": data_offsets \[8,12\] leave a gap of 4 bytes/,
    ],
    [
      'a gap at the start',
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
      eight,
      /tensor "a": .*gap of 4 bytes after byte 0/,
    ],
    [
      'trailing bytes',
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
      eight,
      /cover 4 bytes of data but the data section holds 8/,
    ],
    [
      'offsets out of range',
      '{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}',
      eight,
      /tensor "a": data_offsets \[0,16\] run past the end of the 8-byte data section/,
    ],
    [
      'end before begin',
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}',
      eight,
      /tensor "a": data_offsets \[8,4\] end before they begin/,
    ],
    [
      'negative offset',
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[-4,4]}}',
      eight,
      /tensor "a": "data_offsets" must be non-negative integers/,
    ],
    [
      'fractional offset',
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,7.5]}}',
      eight,
      /tensor "a": "data_offsets" must be non-negative integers/,
    ],
    [
      'string offsets',
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":["0","8"]}}',
      eight,
      /tensor "a": "data_offsets" must be non-negative integers/,
    ],
    [
      'three offsets',
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}}',
      eight,
      /tensor "a": "data_offsets" must be a \[begin, end\] pair/,
    ],
    [
      'missing offsets',
      '{"a":{"dtype":"F32","shape":[2]}}',
      eight,
      /tensor "a": "data_offsets" must be a \[begin, end\] pair/,
    ],
    [
      'shape mismatch',
      '{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}',
      eight,
      /tensor "a": shape \[3\] of F32 needs 12 bytes but data_offsets \[0,8\] hold 8/,
    ],
    [
      'dtype size mismatch',
      '{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}',
      eight,
      /tensor "a": shape \[2\] of F64 needs 16 bytes/,
    ],
    [
      'negative dim',
      '{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}',
      eight,
      /tensor "a": "shape" must hold non-negative integers, found the number -2/,
    ],
    [
      'fractional dim',
      '{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}',
      eight,
      /tensor "a": "shape" must hold non-negative integers/,
    ],
    [
      'shape not an array',
      '{"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}',
      eight,
      /tensor "a": "shape" must be an array/,
    ],
    [
      'unknown dtype',
      '{"a":{"dtype":"F99","shape":[2],"data_offsets":[0,8]}}',
      eight,
      /tensor "a": unknown dtype "F99"/,
    ],
    [
      'unsupported dtype',
      '{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}',
      eight,
      /tensor "a": dtype I64 is not supported by tapegrad/,
    ],
    [
      'dtype not a string',
      '{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}',
      eight.slice(0, 4),
      /tensor "a": "dtype" must be a string/,
    ],
    ['entry not an object', '{"a":[1,2,3]}', [], /tensor "a": entry must be an object/],
    ['non-JSON header', '{"a":{"dtype":"F32",,}}  ', [], /header is not valid JSON/],
    ['header is an array', '[1,2,3]', [], /header must be a JSON object, got an array/],
    ['header is null', 'null    ', [], /header must be a JSON object, got null/],
    ['header is a string', '"hello"', [], /header must be a JSON object/],
    [
      'metadata with a number',
      '{"__metadata__":{"a":"x","b":1}}',
      [],
      /"__metadata__" values must be strings, but "b" is the number 1/,
    ],
    ['metadata with an object', '{"__metadata__":{"a":{"x":"y"}}}', [], /"__metadata__" values must be strings/],
    ['metadata an array', '{"__metadata__":["a"]}', [], /"__metadata__" must be an object of strings, got an array/],
    [
      'duplicate names',
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
      eight,
      /tensor "a": name appears twice/,
    ],
    ['duplicate metadata', '{"__metadata__":{},"__metadata__":{}}', [], /"__metadata__" twice/],
    [
      'deeply nested JSON',
      '{"a":' + '['.repeat(100000) + ']'.repeat(100000) + '}',
      [],
      /header is not valid JSON|tensor "a": entry must be an object/,
    ],
  ];
  it.each(cases)('%s', (_, header, data, re) => {
    const e = formatError(() => decodeSafetensors(rawFile(header, data), { name: 'forged.safetensors' }));
    expect(e.message).toMatch(/^decodeSafetensors: forged\.safetensors: /);
    expect(e.message).toMatch(re);
  });

  it('invalid UTF-8 in the header', () => {
    const bytes = rawFile('{"a":1} ');
    bytes[10] = 0xff;
    expect(formatError(() => decodeSafetensors(bytes)).message).toMatch(/not valid UTF-8/);
  });

  it('a file that is not safetensors at all (on disk), and a directory', async () => {
    const dir = await scratch();
    const p = join(dir, 'readme.txt');
    await writeFile(p, 'Hello, this is a plain text file and certainly not safetensors.\n');
    expect((await formatErrorAsync(loadSafetensors(p))).message).toMatch(/readme\.txt: header length \d+ exceeds/);
    expect((await formatErrorAsync(loadSafetensors(dir))).message).toMatch(/is not a regular file/);
  });

  it('a missing file is the usual ENOENT error', async () => {
    const dir = await scratch();
    await expect(loadSafetensors(join(dir, 'nope.safetensors'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('safetensors: atomic writes', () => {
  const old = { w: tensor([1, 2, 3]) };

  it('a tensor whose data cannot be read leaves the old file intact and no temp file', async () => {
    const dir = await scratch();
    const p = join(dir, 'm.safetensors');
    await saveSafetensors(p, old);
    const before = await readFile(p);
    const broken = tensor([4, 5, 6]);
    Object.defineProperty(broken, 'data', {
      get() {
        throw new Error('device lost');
      },
    });
    await expect(saveSafetensors(p, { w: tensor([9]), x: broken })).rejects.toThrow('device lost');
    expect(await readFile(p)).toEqual(before);
    expect(await tempFiles(dir)).toEqual([]);
  });

  it('a failure in the middle of writing leaves the old file intact and no temp file', async () => {
    const dir = await scratch();
    const p = join(dir, 'm.safetensors');
    await saveSafetensors(p, old);
    const before = await readFile(p);
    function* chunks(): Generator<Uint8Array> {
      yield new Uint8Array(1024).fill(7);
      throw new Error('disk full (simulated)');
    }
    await expect(writeFileAtomic(p, chunks())).rejects.toThrow('disk full (simulated)');
    expect(await readFile(p)).toEqual(before);
    expect(await tempFiles(dir)).toEqual([]);
    expect(decodeSafetensors(new Uint8Array(await readFile(p)))['w']!.toArray()).toEqual([1, 2, 3]);
  });

  it('a failing rename (destination is a directory) leaves no temp file', async () => {
    const dir = await scratch();
    const p = join(dir, 'taken');
    await mkdir(join(p, 'inside'), { recursive: true });
    await expect(saveSafetensors(p, old)).rejects.toThrow();
    expect((await stat(join(p, 'inside'))).isDirectory()).toBe(true);
    expect(await tempFiles(dir)).toEqual([]);
  });

  it('a missing directory is an error, and nothing is created', async () => {
    const dir = await scratch();
    await expect(saveSafetensors(join(dir, 'no', 'such', 'dir.safetensors'), old)).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('concurrent saves to one path each leave a complete file', async () => {
    const dir = await scratch();
    const p = join(dir, 'm.safetensors');
    const versions = Array.from({ length: 8 }, (_, i) => ({ w: zeros([1000]).add(i) }));
    await Promise.all(versions.map((v) => saveSafetensors(p, v)));
    const w = (await loadSafetensors(p))['w']!;
    expect(w.shape).toEqual([1000]);
    expect(new Set(w.data).size).toBe(1);
    expect(await tempFiles(dir)).toEqual([]);
  });

  it('values are snapshotted when save is called', async () => {
    const dir = await scratch();
    const p = join(dir, 'm.safetensors');
    const t = tensor([1, 2, 3]);
    const pending = saveSafetensors(p, { t });
    t.data[0] = 100;
    await pending;
    expect((await loadSafetensors(p))['t']!.toArray()).toEqual([1, 2, 3]);
  });
});

function size(s: number[]): number {
  return s.reduce((a, b) => a * b, 1);
}
