/**
 * Fourier ring correlation as the reference computes it (ptychopinn-eval.md §1.5):
 * `frc_cutoffs` (evaluation.py:470-505), hoidn/FRC `FSC` (fourier_ring_corr.py:21-39) and `spinavej`
 * (spin_average.py:15-80), `_first_below_threshold_interpolated` (evaluation.py:437-467). Float64.
 */
import { fft2 } from '../physics/fft.ts';
import { gaussianFilter1d } from './filters.ts';
import type { RealImage } from './types.ts';

const ringCache = new Map<number, { ring: Int32Array; length: number; count: Float64Array }>();

/**
 * Ring index of every (unshifted) frequency of an n×n FFT: round(√(r² + c²)) with r, c the signed
 * frequencies in fftshift order (spinavej: `arange(n) − floor(n/2)`). Length L = max index + 1.
 */
export function ringIndex(n: number): { ring: Int32Array; length: number; count: Float64Array } {
  let e = ringCache.get(n);
  if (e) return e;
  const h = Math.floor(n / 2);
  const sf = new Int32Array(n);
  for (let k = 0; k < n; k++) sf[k] = k < n - h ? k : k - n;
  const ring = new Int32Array(n * n);
  let L = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const r = Math.round(Math.sqrt(sf[i] * sf[i] + sf[j] * sf[j]));
      ring[i * n + j] = r;
      if (r + 1 > L) L = r + 1;
    }
  }
  const count = new Float64Array(L);
  for (let i = 0; i < n * n; i++) count[ring[i]]++;
  e = { ring, length: L, count };
  ringCache.set(n, e);
  return e;
}

/**
 * FSC(target, pred) of two equal n×n images: |C| / sqrt(|C1·C2|) per ring, where C, C1, C2 are the
 * ring means of I1·conj(I2), |I1|², |I2|² (the ring count cancels; an empty ring gives NaN).
 * Both images are transformed at once as one complex image t + i·p.
 */
export function frcCurve(target: RealImage, pred: RealImage): Float64Array {
  const n = target.height;
  if (target.width !== n || pred.height !== n || pred.width !== n) {
    throw new RangeError(`frcCurve: needs two equal square images, got ${target.height}×${target.width} and ${pred.height}×${pred.width}`);
  }
  const N = n * n;
  const { ring, length: L, count } = ringIndex(n);
  let mt = 0;
  let mp = 0;
  for (let i = 0; i < N; i++) {
    mt = Math.max(mt, Math.abs(target.data[i]));
    mp = Math.max(mp, Math.abs(pred.data[i]));
  }
  // Packing t + i·p costs each spectrum an error of ~1e-16 of the other's scale; when the two
  // differ by orders of magnitude (a near-zero phase), transform them separately instead.
  if (!(mt <= 1e4 * mp && mp <= 1e4 * mt)) return frcCurveSeparate(target, pred, n, ring, L, count);
  const re = new Float64Array(N);
  const im = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    re[i] = target.data[i];
    im[i] = pred.data[i];
  }
  fft2(re, im, n, n);
  const cr = new Float64Array(L);
  const ci = new Float64Array(L);
  const c1 = new Float64Array(L);
  const c2 = new Float64Array(L);
  for (let i = 0; i < n; i++) {
    const ni = i === 0 ? 0 : n - i;
    for (let j = 0; j < n; j++) {
      const nj = j === 0 ? 0 : n - j;
      const a = re[i * n + j];
      const b = im[i * n + j];
      const c = re[ni * n + nj];
      const d = im[ni * n + nj];
      // Z = T + iP with T, P the spectra of real images: T = (Z + conj Z(−k))/2, P = (Z − conj Z(−k))/2i
      const tr = 0.5 * (a + c);
      const ti = 0.5 * (b - d);
      const pr = 0.5 * (b + d);
      const pi = 0.5 * (c - a);
      const k = ring[i * n + j];
      cr[k] += tr * pr + ti * pi;
      ci[k] += ti * pr - tr * pi;
      c1[k] += tr * tr + ti * ti;
      c2[k] += pr * pr + pi * pi;
    }
  }
  return ratio(cr, ci, c1, c2, count);
}

function ratio(cr: Float64Array, ci: Float64Array, c1: Float64Array, c2: Float64Array, count: Float64Array): Float64Array {
  const L = cr.length;
  const out = new Float64Array(L);
  for (let k = 0; k < L; k++) {
    out[k] = count[k] === 0 ? NaN : Math.hypot(cr[k], ci[k]) / Math.sqrt(Math.abs(c1[k] * c2[k]));
  }
  return out;
}

function frcCurveSeparate(target: RealImage, pred: RealImage, n: number, ring: Int32Array, L: number, count: Float64Array): Float64Array {
  const N = n * n;
  const tr = Float64Array.from(target.data);
  const ti = new Float64Array(N);
  const pr = Float64Array.from(pred.data);
  const pi = new Float64Array(N);
  fft2(tr, ti, n, n);
  fft2(pr, pi, n, n);
  const cr = new Float64Array(L);
  const ci = new Float64Array(L);
  const c1 = new Float64Array(L);
  const c2 = new Float64Array(L);
  for (let i = 0; i < N; i++) {
    const k = ring[i];
    cr[k] += tr[i] * pr[i] + ti[i] * pi[i];
    ci[k] += ti[i] * pr[i] - tr[i] * pi[i];
    c1[k] += tr[i] * tr[i] + ti[i] * ti[i];
    c2[k] += pr[i] * pr[i] + pi[i] * pi[i];
  }
  return ratio(cr, ci, c1, c2, count);
}

/**
 * `_first_below_threshold_interpolated(curve, th)`: the first finite value < th at index i; none →
 * L (curve length); i = 0 → 0; otherwise linear interpolation between i−1 and i, clipped to
 * [i−1, i], or i when curve[i−1] is not finite or |curve[i] − curve[i−1]| ≤ 1e-8. NaN for an empty
 * or all-non-finite curve.
 */
export function firstBelowThreshold(curve: ArrayLike<number>, threshold: number): number {
  const L = curve.length;
  if (L === 0) return NaN;
  let anyFinite = false;
  let first = -1;
  for (let k = 0; k < L; k++) {
    const v = curve[k];
    if (Number.isFinite(v)) {
      anyFinite = true;
      if (first < 0 && v < threshold) first = k;
    }
  }
  if (!anyFinite) return NaN;
  if (first < 0) return L;
  if (first === 0) return 0;
  const j = first - 1;
  const y0 = curve[j];
  const y1 = curve[first];
  if (!Number.isFinite(y0) || !Number.isFinite(y1)) return first;
  const denom = y1 - y0;
  if (Math.abs(denom) <= 1e-8) return first; // np.isclose(denom, 0.0): atol 1e-8
  const x = j + (threshold - y0) / denom;
  if (!Number.isFinite(x)) return first;
  return Math.min(Math.max(x, j), first);
}

export interface FrcResult {
  /** The FRC curve (length L = round(√2·⌊n/2⌋) + 1), or null when the target is identically zero. */
  curve: Float64Array | null;
  frc50: number;
  frc1over7: number;
}

/**
 * `frc_cutoffs(target, pred, frc_sigma)`: throws if pred is all NaN; NaN cut-offs and a null curve
 * when max(target) == min(target) == 0; non-square images are centre-cropped to n = min(h, w)
 * (start from the target's shape); optional Gaussian smoothing of the curve; cut-offs at 0.5 and 1/7.
 */
export function frcCutoffs(target: RealImage, pred: RealImage, frcSigma = 0): FrcResult {
  const { height: h, width: w } = target;
  if (pred.height !== h || pred.width !== w) throw new RangeError('frcCutoffs: shapes differ');
  let allNaN = true;
  for (let i = 0; i < pred.data.length && allNaN; i++) if (!Number.isNaN(pred.data[i])) allNaN = false;
  if (allNaN) throw new RangeError('frcCutoffs: prediction is all NaN');
  let lo = Infinity;
  let hi = -Infinity;
  let nan = false;
  for (let i = 0; i < target.data.length; i++) {
    const v = target.data[i];
    if (v !== v) nan = true;
    else {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!nan && hi === 0 && lo === 0) return { curve: null, frc50: NaN, frc1over7: NaN };
  let t: RealImage = target;
  let p: RealImage = pred;
  if (h !== w) {
    const n = Math.min(h, w);
    const r0 = Math.floor((h - n) / 2);
    const c0 = Math.floor((w - n) / 2);
    t = cropReal(target, r0, c0, n, n);
    p = cropReal(pred, r0, c0, n, n);
  }
  let curve = frcCurve(t, p);
  if (frcSigma > 0) curve = gaussianFilter1d(curve, frcSigma);
  return { curve, frc50: firstBelowThreshold(curve, 0.5), frc1over7: firstBelowThreshold(curve, 1 / 7) };
}

function cropReal(img: RealImage, r0: number, c0: number, h: number, w: number): RealImage<Float64Array> {
  const out = new Float64Array(h * w);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) out[i * w + j] = img.data[(r0 + i) * img.width + c0 + j];
  return { height: h, width: w, data: out };
}
