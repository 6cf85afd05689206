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

/** Valid-region 7-tap box mean along rows then columns, as (sum of 7 in order)/7 per pass. */
function boxValid(src: Float64Array, h: number, w: number, tmp: Float64Array, out: Float64Array): void {
  const hv = h - WIN + 1;
  const wv = w - WIN + 1;
  for (let i = 0; i < hv; i++) {
    const o = i * w;
    for (let j = 0; j < w; j++) {
      let s = src[o + j];
      for (let t = 1; t < WIN; t++) s += src[o + t * w + j];
      tmp[o + j] = s / WIN;
    }
  }
  for (let i = 0; i < hv; i++) {
    const o = i * w;
    for (let j = 0; j < wv; j++) {
      let s = tmp[o + j];
      for (let t = 1; t < WIN; t++) s += tmp[o + j + t];
      out[i * wv + j] = s / WIN;
    }
  }
}

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
 */
export function ssim(x: RealImage, y: RealImage, dataRange: number): number {
  checkPair(x, y);
  const h = x.height;
  const w = x.width;
  const n = h * w;
  const hv = h - WIN + 1;
  const wv = w - WIN + 1;
  const xd = x.data;
  const yd = y.data;
  const buf = new Float64Array(n);
  const tmp = new Float64Array(n);
  const m = hv * wv;
  const ux = new Float64Array(m);
  const uy = new Float64Array(m);
  const uxx = new Float64Array(m);
  const uyy = new Float64Array(m);
  const uxy = new Float64Array(m);
  for (let i = 0; i < n; i++) buf[i] = xd[i];
  boxValid(buf, h, w, tmp, ux);
  for (let i = 0; i < n; i++) buf[i] = yd[i];
  boxValid(buf, h, w, tmp, uy);
  for (let i = 0; i < n; i++) buf[i] = xd[i] * xd[i];
  boxValid(buf, h, w, tmp, uxx);
  for (let i = 0; i < n; i++) buf[i] = yd[i] * yd[i];
  boxValid(buf, h, w, tmp, uyy);
  for (let i = 0; i < n; i++) buf[i] = xd[i] * yd[i];
  boxValid(buf, h, w, tmp, uxy);
  const C1 = (K1 * dataRange) ** 2;
  const C2 = (K2 * dataRange) ** 2;
  // With data range 0 (C1 = C2 = 0) a flat window gives 0/0, but only if its variance comes out as
  // exactly 0; rounding can leave ±1e-17 there and turn NaN into an arbitrary ratio. Variances below
  // float64 rounding level are then taken as exactly 0, i.e. the exact-arithmetic result (NaN).
  const exact = dataRange === 0;
  let sum = 0;
  for (let i = 0; i < m; i++) {
    const mx = ux[i];
    const my = uy[i];
    let vx = COV_NORM * (uxx[i] - mx * mx);
    let vy = COV_NORM * (uyy[i] - my * my);
    let vxy = COV_NORM * (uxy[i] - mx * my);
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
  return sum / m;
}

/** `img[::2, ::2]`: keep even rows and columns (size ceil(n/2)); no low-pass. */
export function decimate2(img: RealImage): RealImage<Float64Array> {
  const h = Math.ceil(img.height / 2);
  const w = Math.ceil(img.width / 2);
  const out = new Float64Array(h * w);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) out[i * w + j] = img.data[2 * i * img.width + 2 * j];
  return { height: h, width: w, data: out };
}

function range(d: ArrayLike<number>): number {
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
  let a: RealImage = x;
  let b: RealImage = y;
  if (sigma > 0) {
    a = gaussianFilter(x, sigma);
    b = gaussianFilter(y, sigma);
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
