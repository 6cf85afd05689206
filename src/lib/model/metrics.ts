/**
 * Reconstruction quality against a known (simulated) object: Pearson correlation between the
 * stitched amplitude and the ground-truth object amplitude, sampled on the stitch grid over the
 * scanned area.
 *
 * Coordinates. The simulator's object pixel (row, col) is object position (y, x) = (row, col): the
 * patch for scan position (x, y) has patch pixel (i, j) at object pixel (y − N/2 + i, x − N/2 + j)
 * (`raw_data.py:892-930`). The stitch canvas pixel (r, c) lies at object position
 * (originY + r, originX + c) (`tf_helper.py:1190-1277`, StitchResult.originX/Y), generally at a sub-pixel
 * position, so the truth is sampled there bilinearly.
 */

/**
 * Pearson's r of two equally long arrays, optionally over the elements where `mask` is non-zero.
 * Two-pass, in float64. NaN when fewer than 2 elements are selected or either side is constant.
 */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>, mask?: ArrayLike<number | boolean>): number {
  if (a.length !== b.length) throw new Error(`pearson: arrays differ in length (${a.length} vs ${b.length})`);
  if (mask && mask.length !== a.length) throw new Error(`pearson: mask has ${mask.length} elements, arrays ${a.length}`);
  let n = 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < a.length; i++) {
    if (mask && !mask[i]) continue;
    sa += a[i];
    sb += b[i];
    n++;
  }
  if (n < 2) return NaN;
  const ma = sa / n;
  const mb = sb / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    if (mask && !mask[i]) continue;
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (!(saa > 0) || !(sbb > 0)) return NaN;
  return sab / Math.sqrt(saa * sbb);
}

/** A real image, row-major H x W. */
export interface RealImage {
  values: ArrayLike<number>;
  H: number;
  W: number;
}

/**
 * Bilinear samples of `img` on the grid (y0 + r, x0 + c), r < height, c < width. `inside[k]` is 1 where
 * all four neighbours lie inside the image (those samples are exact interpolations), 0 elsewhere
 * (value 0 there).
 */
export function sampleBilinear(img: RealImage, x0: number, y0: number, width: number, height: number): { values: Float64Array; inside: Uint8Array } {
  const values = new Float64Array(width * height);
  const inside = new Uint8Array(width * height);
  for (let r = 0; r < height; r++) {
    const y = y0 + r;
    const i0 = Math.floor(y);
    const wy = y - i0;
    const i1 = wy > 0 ? i0 + 1 : i0;
    if (i0 < 0 || i1 > img.H - 1) continue;
    for (let c = 0; c < width; c++) {
      const x = x0 + c;
      const j0 = Math.floor(x);
      const wx = x - j0;
      const j1 = wx > 0 ? j0 + 1 : j0;
      if (j0 < 0 || j1 > img.W - 1) continue;
      const v = img.values;
      const W = img.W;
      values[r * width + c] =
        (1 - wy) * ((1 - wx) * v[i0 * W + j0] + wx * v[i0 * W + j1]) + wy * ((1 - wx) * v[i1 * W + j0] + wx * v[i1 * W + j1]);
      inside[r * width + c] = 1;
    }
  }
  return { values, inside };
}

/**
 * The scanned area on the stitch grid: canvas pixel (r, c), at object position (originY + r,
 * originX + c), is scanned when it lies inside at least one group's stitched M x M crop, i.e. within
 * [p̄ − M/2, p̄ + M/2 − 1] on both axes for some group centre p̄ (crop rows N/2 − M/2 ... N/2 + M/2 − 1 of
 * a patch centred at p̄, `tf_helper.py:1190-1277`).
 */
export function scannedMask(centres: ArrayLike<number>, M: number, originX: number, originY: number, width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  const eps = 1e-9;
  for (let b = 0; 2 * b + 1 < centres.length; b++) {
    const cx = centres[2 * b];
    const cy = centres[2 * b + 1];
    const rLo = Math.max(0, Math.ceil(cy - M / 2 - originY - eps));
    const rHi = Math.min(height - 1, Math.floor(cy + M / 2 - 1 - originY + eps));
    const cLo = Math.max(0, Math.ceil(cx - M / 2 - originX - eps));
    const cHi = Math.min(width - 1, Math.floor(cx + M / 2 - 1 - originX + eps));
    for (let r = rLo; r <= rHi; r++) mask.fill(1, r * width + cLo, r * width + cHi + 1);
  }
  return mask;
}

export interface StitchedImage {
  width: number;
  height: number;
  amplitude: ArrayLike<number>;
  originX: number;
  originY: number;
}

export interface TruthCorrelation {
  /** Pearson r between the stitched amplitude and the true amplitude over the scanned area */
  r: number;
  /** pixels used */
  pixels: number;
  /** the true amplitude on the stitch grid (0 outside the object) */
  truth: Float64Array;
  /** 1 where the pixel was used */
  mask: Uint8Array;
}

/**
 * Pearson r between a stitched amplitude and the ground-truth amplitude `truth` (object pixel
 * convention of the simulator), over the scanned area of the stitch (see scannedMask) where the truth
 * can be interpolated.
 */
export function correlationWithTruth(stitched: StitchedImage, truth: RealImage, centres: ArrayLike<number>, M: number): TruthCorrelation {
  const { width, height, originX, originY } = stitched;
  const sampled = sampleBilinear(truth, originX, originY, width, height);
  const scanned = scannedMask(centres, M, originX, originY, width, height);
  const mask = new Uint8Array(width * height);
  let pixels = 0;
  for (let k = 0; k < mask.length; k++) {
    if (scanned[k] && sampled.inside[k]) {
      mask[k] = 1;
      pixels++;
    }
  }
  return { r: pearson(stitched.amplitude, sampled.values, mask), pixels, truth: sampled.values, mask };
}
