// Strided copy of 32-bit values (float32 or int32 bits) as four nested loops: the permute / expand /
// slice kernel of the CPU backend (src/backend/wasm/strided.ts). Strides are in elements.

/** o (contiguous) = x[a·s0 + b·s1 + c·s2 + e·s3] for a < d0, b < d1, c < d2, e < n. */
export function stridedCopy4(
  x: usize, o: usize, d0: i32, d1: i32, d2: i32, n: i32, s0: i32, s1: i32, s2: i32, s3: i32,
): void {
  let po = o;
  const n4 = n & ~3;
  for (let a = 0; a < d0; a++) {
    for (let b = 0; b < d1; b++) {
      for (let c = 0; c < d2; c++) {
        const px = x + <usize>(a * s0 + b * s1 + c * s2) * 4;
        if (s3 == 1) {
          let e = 0;
          for (; e < n4; e += 4) v128.store(po + <usize>e * 4, v128.load(px + <usize>e * 4));
          for (; e < n; e++) store<u32>(po + <usize>e * 4, load<u32>(px + <usize>e * 4));
        } else if (s3 == 0) {
          const v = v128.load32_splat(px);
          let e = 0;
          for (; e < n4; e += 4) v128.store(po + <usize>e * 4, v);
          for (; e < n; e++) store<u32>(po + <usize>e * 4, load<u32>(px));
        } else {
          for (let e = 0; e < n; e++) store<u32>(po + <usize>e * 4, load<u32>(px + <usize>(e * s3) * 4));
        }
        po += <usize>n * 4;
      }
    }
  }
}

/** o[a·s0 + b·s1 + c·s2 + e·s3] = x (contiguous) for a < d0, b < d1, c < d2, e < n: stridedCopy4's adjoint (sliceScatter). */
export function stridedWrite4(
  x: usize, o: usize, d0: i32, d1: i32, d2: i32, n: i32, s0: i32, s1: i32, s2: i32, s3: i32,
): void {
  let px = x;
  const n4 = n & ~3;
  for (let a = 0; a < d0; a++) {
    for (let b = 0; b < d1; b++) {
      for (let c = 0; c < d2; c++) {
        const po = o + <usize>(a * s0 + b * s1 + c * s2) * 4;
        if (s3 == 1) {
          let e = 0;
          for (; e < n4; e += 4) v128.store(po + <usize>e * 4, v128.load(px + <usize>e * 4));
          for (; e < n; e++) store<u32>(po + <usize>e * 4, load<u32>(px + <usize>e * 4));
        } else {
          for (let e = 0; e < n; e++) store<u32>(po + <usize>(e * s3) * 4, load<u32>(px + <usize>e * 4));
        }
        px += <usize>n * 4;
      }
    }
  }
}

/** Zeroes `bytes` bytes from p (bulk memory: `TypedArray.fill` on a shared memory stores one element at a time). */
export function zero(p: usize, bytes: usize): void {
  memory.fill(p, 0, bytes);
}
