/**
 * SSIM exactly as the reference calls `skimage.metrics.structural_similarity(im1, im2, data_range=R)`
 * (ptychopinn-eval.md §1.3: win_size 7, uniform window, K1 0.01, K2 0.03, sample covariance 49/48,
 * mean over S[3:-3, 3:-3]), and the reference's `ms_ssim` (evaluation.py:114-197, §1.2). Float64.
 */
import { gaussianFilter } from './filters.ts';
import type { RealImage } from './types.ts';

const WIN = 7;
const K1 = 0.01;
const K2 = 0.03;
const COV_NORM = 49 / 48;

const asF64 = (d: ArrayLike<number>): Float64Array => (d instanceof Float64Array ? d : Float64Array.from(d));

function checkPair(x: RealImage, y: RealImage): void {
  if (x.height !== y.height || x.width !== y.width) {
    throw new RangeError(`SSIM: shapes differ (${x.height}×${x.width} vs ${y.height}×${y.width})`);
  }
  if (x.height < WIN || x.width < WIN) {
    // skimage raises ValueError('win_size exceeds image extent ...')
    throw new RangeError(`SSIM: image ${x.height}×${x.width} is smaller than the 7×7 window`);
  }
}

/**
 * Mean SSIM of x (reference image) and y with the given data range. NaN where skimage gives NaN
 * (e.g. dataRange 0 and flat windows). Throws (like skimage) when an image is under 7×7.
 *
 * Only windows wholly inside the image enter skimage's mean (S[3:-3, 3:-3]), so the filter's
 * boundary mode never matters: each 7×7 window mean is taken as (7-sum down a column)/7, then
 * (7-sum along the row)/7, the order scipy's uniform_filter uses (axis 0, then axis 1).
 */
export function ssim(x: RealImage, y: RealImage, dataRange: number): number {
  checkPair(x, y);
  const h = x.height;
  const w = x.width;
  const hv = h - WIN + 1;
  const wv = w - WIN + 1;
  const xd = asF64(x.data);
  const yd = asF64(y.data);
  // column sums (over the 7 rows of the current output row) of x, y, x², y², xy
  const cx = new Float64Array(w);
  const cy = new Float64Array(w);
  const cxx = new Float64Array(w);
  const cyy = new Float64Array(w);
  const cxy = new Float64Array(w);
  const C1 = (K1 * dataRange) ** 2;
  const C2 = (K2 * dataRange) ** 2;
  // With data range 0 (C1 = C2 = 0) a flat window gives 0/0, but only if its variance comes out as
  // exactly 0; rounding can leave ±1e-17 there and turn NaN into an arbitrary ratio. Variances below
  // float64 rounding level are then taken as exactly 0, i.e. the exact-arithmetic result (NaN).
  const exact = dataRange === 0;
  let sum = 0;
  for (let i = 0; i < hv; i++) {
    for (let j = 0; j < w; j++) {
      let o = i * w + j;
      let a = xd[o];
      let b = yd[o];
      let sx = a;
      let sy = b;
      let sxx = a * a;
      let syy = b * b;
      let sxy = a * b;
      for (let t = 1; t < WIN; t++) {
        o += w;
        a = xd[o];
        b = yd[o];
        sx += a;
        sy += b;
        sxx += a * a;
        syy += b * b;
        sxy += a * b;
      }
      cx[j] = sx / WIN;
      cy[j] = sy / WIN;
      cxx[j] = sxx / WIN;
      cyy[j] = syy / WIN;
      cxy[j] = sxy / WIN;
    }
    for (let j = 0; j < wv; j++) {
      let sx = cx[j];
      let sy = cy[j];
      let sxx = cxx[j];
      let syy = cyy[j];
      let sxy = cxy[j];
      for (let t = 1; t < WIN; t++) {
        sx += cx[j + t];
        sy += cy[j + t];
        sxx += cxx[j + t];
        syy += cyy[j + t];
        sxy += cxy[j + t];
      }
      const mx = sx / WIN;
      const my = sy / WIN;
      let vx = COV_NORM * (sxx / WIN - mx * mx);
      let vy = COV_NORM * (syy / WIN - my * my);
      let vxy = COV_NORM * (sxy / WIN - mx * my);
      if (exact) {
        const tiny = 1e-14 * (mx * mx + my * my);
        if (Math.abs(vx) <= tiny) vx = 0;
        if (Math.abs(vy) <= tiny) vy = 0;
        if (Math.abs(vxy) <= tiny) vxy = 0;
      }
      const A1 = 2 * mx * my + C1;
      const A2 = 2 * vxy + C2;
      const B1 = mx * mx + my * my + C1;
      const B2 = vx + vy + C2;
      sum += (A1 * A2) / (B1 * B2);
    }
  }
  return sum / (hv * wv);
}

/** `img[::2, ::2]`: keep even rows and columns (size ceil(n/2)); no low-pass. */
export function decimate2(img: RealImage): RealImage<Float64Array> {
  const h = Math.ceil(img.height / 2);
  const w = Math.ceil(img.width / 2);
  const out = new Float64Array(h * w);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) out[i * w + j] = img.data[2 * i * img.width + 2 * j];
  return { height: h, width: w, data: out };
}

function range(d: Float64Array): number {
  let lo = Infinity;
  let hi = -Infinity;
  let nan = false;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v !== v) nan = true;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return nan ? NaN : hi - lo;
}

export const MS_SSIM_WEIGHTS = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333] as const;

export interface MsSsimOptions {
  /** Number of scales (default 5, at most 5). */
  levels?: number;
  /** scipy gaussian_filter pre-smoothing at full resolution, skipped when ≤ 0 (default 0). */
  sigma?: number;
}

export interface MsSsimDetail {
  value: number;
  /** SSIM at each level actually computed (before the negative clamp). */
  perLevel: number[];
  dataRange: number;
}

/**
 * The reference's MS-SSIM with its per-level detail: optional σ pre-smoothing, one data range
 * `max(range x, range y)` after smoothing, full SSIM at every level, `[::2]` decimation, stop when
 * a side drops under 7 (remaining weights dropped, not renormalised), negative SSIM clamped to
 * 1e-4, 0 on NaN.
 */
export function msSsimDetail(x: RealImage, y: RealImage, opts: MsSsimOptions = {}): MsSsimDetail {
  const sigma = opts.sigma ?? 0;
  const levels = Math.min(opts.levels ?? 5, MS_SSIM_WEIGHTS.length);
  let a: RealImage<Float64Array> = { height: x.height, width: x.width, data: asF64(x.data) };
  let b: RealImage<Float64Array> = { height: y.height, width: y.width, data: asF64(y.data) };
  if (sigma > 0) {
    a = gaussianFilter(a, sigma);
    b = gaussianFilter(b, sigma);
  }
  const rx = range(a.data);
  const ry = range(b.data);
  // Python's max(p, q) returns p unless q > p; NaN never compares greater
  const dr = ry > rx ? ry : rx;
  const perLevel: number[] = [];
  let ms = 1.0;
  for (let level = 0; level < levels; level++) {
    let s = ssim(a, b, dr);
    perLevel.push(s);
    if (Number.isNaN(s)) return { value: 0, perLevel, dataRange: dr };
    if (s < 0) s = 0.0001;
    ms *= s ** MS_SSIM_WEIGHTS[level];
    if (Number.isNaN(ms)) return { value: 0, perLevel, dataRange: dr };
    if (level < levels - 1) {
      a = decimate2(a);
      b = decimate2(b);
      if (Math.min(a.height, a.width) < 7 || Math.min(b.height, b.width) < 7) break;
    }
  }
  return { value: Number.isNaN(ms) ? 0 : ms, perLevel, dataRange: dr };
}

/** The reference's `ms_ssim(img1, img2, levels=5, sigma=0.0)`; see {@link msSsimDetail}. */
export function msSsim(x: RealImage, y: RealImage, opts: MsSsimOptions = {}): number {
  return msSsimDetail(x, y, opts).value;
}
