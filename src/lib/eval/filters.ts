/**
 * scipy.ndimage.gaussian_filter / gaussian_filter1d as the reference calls them (defaults:
 * mode='reflect' = half-sample symmetric `d c b a | a b c d | d c b a`, truncate=4.0), float64.
 * Reference: ptychopinn-eval.md §1.2 step 1 and §1.5 step 5.
 */
import type { RealImage } from './types.ts';

/** scipy's `_gaussian_kernel1d(sigma, 0, radius)` with radius = int(truncate·σ + 0.5). */
export function gaussianKernel1d(sigma: number, truncate = 4.0): Float64Array {
  const radius = Math.trunc(truncate * sigma + 0.5);
  const k = new Float64Array(2 * radius + 1);
  const s2 = sigma * sigma;
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp((-0.5 / s2) * i * i);
    k[i + radius] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** scipy 'reflect' boundary: index i of a length-n line mapped into [0, n). */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n;
  let j = i % period;
  if (j < 0) j += period;
  return j < n ? j : period - 1 - j;
}

/** Correlate `n` samples at src[off + k·stride] with a symmetric kernel, into dst[dOff + k·dStride]. */
function correlateLine(
  src: Float64Array, off: number, stride: number, n: number,
  kernel: Float64Array, dst: Float64Array, dOff: number, dStride: number, line: Float64Array,
): void {
  const r = (kernel.length - 1) / 2;
  // padded copy of the line: line[t] = src[reflect(t − r)]
  for (let t = 0; t < n + 2 * r; t++) line[t] = src[off + reflectIndex(t - r, n) * stride];
  for (let k = 0; k < n; k++) {
    let acc = 0;
    for (let j = 0; j < kernel.length; j++) acc += kernel[j] * line[k + j];
    dst[dOff + k * dStride] = acc;
  }
}

/** scipy.ndimage.gaussian_filter1d(x, sigma) for a 1-D array (mode 'reflect', truncate 4). */
export function gaussianFilter1d(x: ArrayLike<number>, sigma: number): Float64Array {
  const n = x.length;
  const out = new Float64Array(n);
  if (!(sigma > 1e-15) || n === 0) {
    for (let i = 0; i < n; i++) out[i] = x[i];
    return out;
  }
  const kernel = gaussianKernel1d(sigma);
  correlateLine(Float64Array.from(x), 0, 1, n, kernel, out, 0, 1, new Float64Array(n + kernel.length - 1));
  return out;
}

/** scipy.ndimage.gaussian_filter(img, sigma): separable, axis 0 (rows) then axis 1; float64 out. */
export function gaussianFilter(img: RealImage, sigma: number): RealImage<Float64Array> {
  const { height: h, width: w } = img;
  const out = new Float64Array(h * w);
  if (!(sigma > 1e-15)) {
    out.set(img.data);
    return { height: h, width: w, data: out };
  }
  const kernel = gaussianKernel1d(sigma);
  const tmp = new Float64Array(h * w);
  const line = new Float64Array(Math.max(h, w) + kernel.length - 1);
  const src = img.data instanceof Float64Array ? img.data : Float64Array.from(img.data);
  // axis 0, row by row (same per-output tap order as a column-wise correlate1d, cache friendly)
  const r = (kernel.length - 1) / 2;
  for (let i = 0; i < h; i++) {
    const o = i * w;
    for (let t = 0; t < kernel.length; t++) {
      const k = kernel[t];
      const so = reflectIndex(i + t - r, h) * w;
      if (t === 0) for (let j = 0; j < w; j++) tmp[o + j] = k * src[so + j];
      else for (let j = 0; j < w; j++) tmp[o + j] += k * src[so + j];
    }
  }
  for (let i = 0; i < h; i++) correlateLine(tmp, i * w, 1, w, kernel, out, i * w, 1, line);
  return { height: h, width: w, data: out };
}
