/**
 * The few protobuf messages of onnx.proto that an exporter writes, encoded by hand (about a hundred lines,
 * so `npm install tapegrad` pulls no protobuf runtime). Field numbers are onnx.proto's; the tests decode
 * our bytes with an independent implementation (onnx-proto) and run them in ONNX Runtime.
 */

/** A growable byte buffer with protobuf's wire encodings. */
class Writer {
  #buf = new Uint8Array(256);
  #len = 0;

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }
  /** Unsigned varint of a non-negative safe integer, or a negative int64 as ten bytes (two's complement). */
  varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    this.#reserve(10);
    while (x >= 0x80n) {
      this.#buf[this.#len++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.#buf[this.#len++] = Number(x);
  }
  bytes(b: Uint8Array): void {
    this.#reserve(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

/** One field of a message: scalars, strings, bytes, nested messages, and packed repeated numbers. */
export type Field =
  | { readonly n: number; readonly int: number | bigint }
  | { readonly n: number; readonly float: number }
  | { readonly n: number; readonly str: string }
  | { readonly n: number; readonly raw: Uint8Array }
  | { readonly n: number; readonly msg: readonly Field[] }
  | { readonly n: number; readonly ints: readonly (number | bigint)[] }
  | { readonly n: number; readonly floats: readonly number[] };

const utf8 = new TextEncoder();

/** Encodes a message given as its fields, in order. */
export function encodeMessage(fields: readonly Field[]): Uint8Array {
  const w = new Writer();
  const lengthDelimited = (n: number, b: Uint8Array): void => {
    w.varint((n << 3) | 2);
    w.varint(b.length);
    w.bytes(b);
  };
  for (const f of fields) {
    if ('int' in f) {
      w.varint(f.n << 3);
      w.varint(f.int);
    } else if ('float' in f) {
      w.varint((f.n << 3) | 5);
      const b = new Uint8Array(4);
      new DataView(b.buffer).setFloat32(0, f.float, true);
      w.bytes(b);
    } else if ('str' in f) {
      lengthDelimited(f.n, utf8.encode(f.str));
    } else if ('raw' in f) {
      lengthDelimited(f.n, f.raw);
    } else if ('msg' in f) {
      lengthDelimited(f.n, encodeMessage(f.msg));
    } else if ('ints' in f) {
      const inner = new Writer();
      for (const v of f.ints) inner.varint(v);
      lengthDelimited(f.n, inner.finish());
    } else {
      const b = new Uint8Array(4 * f.floats.length);
      const dv = new DataView(b.buffer);
      f.floats.forEach((v, i) => dv.setFloat32(4 * i, v, true));
      lengthDelimited(f.n, b);
    }
  }
  return w.finish();
}
