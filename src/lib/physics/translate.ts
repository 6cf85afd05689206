/**
 * The translation operator of the reference (`projective_warp_xla.py:242-317`) as separable matrices.
 *
 * T_t[f](row, col) = f(row − t_y, col − t_x): content moves by +t. The source point is sampled with
 * bilinear weights on its 4 neighbours; a neighbour outside the image contributes 0 and the weights
 * are not renormalised (zero fill). Separable: T_t[f] = S_y · f · S_xᵀ, where row i of S has weight
 * (1−w) at column j0 = ⌊i − t⌋ and w at j0 + 1 (w = i − t − j0).
 */

/** Canvas size P = N + (g−1)·offset + max_position_jitter (`params.py:106-122`; legacy offset 4, jitter 10). */
export function canvasSize(N: number, gridsize: number, offset = 4, maxPositionJitter = 10): number {
  return N + (gridsize - 1) * offset + maxPositionJitter;
}

/**
 * Taps of one output index: output i reads source s = i − padBefore − t,
 * (1−w) at j0 = ⌊s⌋ and w at j0+1. Indices outside [0, nIn) are dropped (zero fill).
 * Returned as up to two [index, weight] pairs, weights in float64.
 */
export function shiftTaps(i: number, nIn: number, t: number, padBefore: number): Array<[number, number]> {
  const s = i - padBefore - t;
  const j0 = Math.floor(s);
  const w = s - j0;
  const out: Array<[number, number]> = [];
  if (j0 >= 0 && j0 < nIn && w !== 1) out.push([j0, 1 - w]);
  if (j0 + 1 >= 0 && j0 + 1 < nIn && w !== 0) out.push([j0 + 1, w]);
  return out;
}

/**
 * The 1-D operator (nOut x nIn, row-major, float64) that zero-pads by `padBefore` (negative: crops)
 * and then translates by +t with bilinear weights and zero fill: output i maps to source i − padBefore − t.
 */
export function shiftMatrix64(nOut: number, nIn: number, t: number, padBefore = 0): Float64Array {
  const m = new Float64Array(nOut * nIn);
  for (let i = 0; i < nOut; i++) {
    for (const [j, w] of shiftTaps(i, nIn, t, padBefore)) m[i * nIn + j] += w;
  }
  return m;
}

/** float32 copy of {@link shiftMatrix64}, the form the tensors use. */
export function shiftMatrix(nOut: number, nIn: number, t: number, padBefore = 0): Float32Array {
  return Float32Array.from(shiftMatrix64(nOut, nIn, t, padBefore));
}

/**
 * CPU reference: translate an H x W row-major image by (tx, ty) (content moves by +tx columns,
 * +ty rows), bilinear, zero fill — the direct 2-D form of `projective_warp_xla.py:242-317`. Float64 out.
 */
export function translateImage(img: ArrayLike<number>, H: number, W: number, tx: number, ty: number): Float64Array {
  const out = new Float64Array(H * W);
  for (let r = 0; r < H; r++) {
    const rowTaps = shiftTaps(r, H, ty, 0);
    for (let c = 0; c < W; c++) {
      const colTaps = shiftTaps(c, W, tx, 0);
      let acc = 0;
      for (const [sr, wr] of rowTaps) for (const [sc, wc] of colTaps) acc += wr * wc * img[sr * W + sc];
      out[r * W + c] = acc;
    }
  }
  return out;
}
