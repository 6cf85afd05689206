/**
 * Element-wise pieces of the reference's `eval_reconstruction` (ptychopinn-eval.md §1.1, §1.4):
 * trim, amplitude/phase, mean scaling, plane/mean phase alignment, MAE, MSE, cv2-style PSNR.
 */
import { atan2f, cabsf } from './float32.ts';
import type { ComplexImage, FloatArray, PhaseAlignMethod, RealImage } from './types.ts';

function sameKind<T extends FloatArray>(like: T, n: number): T {
  return (like instanceof Float32Array ? new Float32Array(n) : new Float64Array(n)) as T;
}

/**
 * `arr[o//2 : -o//2, o//2 : -o//2]` (evaluation.py:313-316): o/2 px off every side. o must be even;
 * o = 0 gives an empty image, as the Python slice does. Keeps the array type.
 */
export function trim<T extends FloatArray>(img: RealImage<T>, offset = 4): RealImage<T> {
  const [r0, h, c0, w] = trimBox(img.height, img.width, offset);
  const out = sameKind(img.data, h * w);
  for (let i = 0; i < h; i++) out.set(img.data.subarray((r0 + i) * img.width + c0, (r0 + i) * img.width + c0 + w), i * w);
  return { height: h, width: w, data: out };
}

/** {@link trim} for a complex image (both planes). */
export function trimComplex<T extends FloatArray>(img: ComplexImage<T>, offset = 4): ComplexImage<T> {
  const re = trim({ height: img.height, width: img.width, data: img.re }, offset);
  const im = trim({ height: img.height, width: img.width, data: img.im }, offset);
  return { height: re.height, width: re.width, re: re.data, im: im.data };
}

function trimBox(h: number, w: number, offset: number): [number, number, number, number] {
  if (!Number.isInteger(offset) || offset % 2 !== 0) throw new RangeError(`trim: offset must be an even integer, got ${offset}`);
  const half = offset / 2;
  // Python slice a[half : -half] on length n (half ≥ 0): -0 is 0, so offset 0 selects nothing
  const span = (n: number) => {
    const start = Math.min(half, n);
    const stop = half === 0 ? 0 : Math.max(n - half, 0);
    return [start, Math.max(stop - start, 0)];
  };
  const [r0, th] = span(h);
  const [c0, tw] = span(w);
  return [r0, th, c0, tw];
}

/**
 * |z| (`np.abs`). Float64 planes (complex128): in float64. Float32 planes (complex64): numpy's float32
 * result bit for bit (its SIMD loop, not the correctly rounded value; see float32.ts), held in a
 * Float64Array.
 */
export function amplitude(z: ComplexImage): RealImage<Float64Array> {
  const n = z.height * z.width;
  const out = new Float64Array(n);
  if (isFloat32(z)) {
    for (let i = 0; i < n; i++) out[i] = cabsf(z.re[i], z.im[i]);
  } else {
    for (let i = 0; i < n; i++) {
      const a = z.re[i];
      const b = z.im[i];
      out[i] = Math.sqrt(a * a + b * b);
    }
  }
  return { height: z.height, width: z.width, data: out };
}

/**
 * `np.angle(z)` = atan2(im, re), principal value in (−π, π]; no unwrapping. Float64 planes: in
 * float64. Float32 planes: numpy's float32 np.arctan2 bit for bit as on an AVX-512 CPU (Intel SVML;
 * see float32.ts), held in a Float64Array.
 */
export function phase(z: ComplexImage): RealImage<Float64Array> {
  const n = z.height * z.width;
  const out = new Float64Array(n);
  if (isFloat32(z)) {
    for (let i = 0; i < n; i++) out[i] = atan2f(z.im[i], z.re[i]);
  } else {
    for (let i = 0; i < n; i++) out[i] = Math.atan2(z.im[i], z.re[i]);
  }
  return { height: z.height, width: z.width, data: out };
}

/** A complex64 image: float32 real and imaginary planes (numpy's float32 paths apply). */
export function isFloat32(z: ComplexImage): boolean {
  return z.re instanceof Float32Array && z.im instanceof Float32Array;
}

/** Values rounded to float32, held in a Float64Array. */
export function roundToFloat32(img: RealImage): RealImage<Float64Array> {
  const out = new Float64Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.fround(img.data[i]);
  return { height: img.height, width: img.width, data: out };
}

export function mean(d: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i];
  return s / d.length;
}

/** numpy's pairwise summation (`FLOAT_pairwise_sum`, 8 accumulators, blocks of 128) in float32. */
function pairwiseSumF32(d: ArrayLike<number>, off: number, n: number): number {
  const f = Math.fround;
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res = f(res + f(d[off + i]));
    return res;
  }
  if (n <= 128) {
    const r = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let j = 0; j < 8; j++) r[j] = f(d[off + j]);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = f(r[j] + f(d[off + i + j]));
    let res = f(f(f(r[0] + r[1]) + f(r[2] + r[3])) + f(f(r[4] + r[5]) + f(r[6] + r[7])));
    for (; i < n; i++) res = f(res + f(d[off + i]));
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return f(pairwiseSumF32(d, off, n2) + pairwiseSumF32(d, off + n2, n - n2));
}

/**
 * `np.mean` of a contiguous float32 array, bit for bit: float32 pairwise sums over the reduction's
 * 8192-element buffers, accumulated in float32, then a float32 division. (The reference's amplitude
 * scale factor is a ratio of such means; a float64 mean moves MAE/MSE by up to ~1e-5 relative.)
 */
export function meanFloat32(d: ArrayLike<number>): number {
  const n = d.length;
  let acc = 0;
  for (let k = 0; k < n; k += 8192) acc = Math.fround(acc + pairwiseSumF32(d, k, Math.min(8192, n - k)));
  return Math.fround(acc / n);
}

/** Amplitude normalisation factor s = mean(target)/mean(pred) (evaluation.py:585). */
export function meanScale(target: RealImage, pred: RealImage): number {
  return mean(target.data) / mean(pred.data);
}

/**
 * The reference's scale factor with its dtypes (evaluation.py:585): amp_t is float32, so its mean is
 * a float32 mean; amp_p is float32 for a complex64 reconstruction (then the ratio is float32 too),
 * float64 for complex128.
 */
export function referenceMeanScale(ampT: RealImage, ampP: RealImage, predFloat32: boolean): number {
  const mt = meanFloat32(ampT.data);
  return predFloat32 ? Math.fround(mt / meanFloat32(ampP.data)) : mt / mean(ampP.data);
}

/**
 * x·s in float64, or with `float32` each product rounded to float32: the reference's
 * `amp_pred_np * scale_factor` for a complex64 reconstruction is a float32 array times a float32 scalar.
 */
export function scaleImage(img: RealImage, s: number, float32 = false): RealImage<Float64Array> {
  const out = new Float64Array(img.data.length);
  if (float32) for (let i = 0; i < out.length; i++) out[i] = Math.fround(img.data[i] * s);
  else for (let i = 0; i < out.length; i++) out[i] = img.data[i] * s;
  return { height: img.height, width: img.width, data: out };
}

/**
 * `fit_and_remove_plane` (evaluation.py:395-434): ordinary least squares of a·x + b·y + c over all
 * pixels (x = column, y = row, 0-based), returned as img − plane (zero mean). On the regular grid
 * the normal equations decouple, which this uses; a 1-wide axis gets slope 0 (lstsq's minimum norm).
 */
export function fitAndRemovePlane(img: RealImage): RealImage<Float64Array> {
  const { height: h, width: w, data } = img;
  const n = h * w;
  const xm = (w - 1) / 2;
  const ym = (h - 1) / 2;
  let s0 = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < h; i++) {
    const dy = i - ym;
    for (let j = 0; j < w; j++) {
      const v = data[i * w + j];
      s0 += v;
      sx += (j - xm) * v;
      sy += dy * v;
    }
  }
  // Σ(x − x̄)² over the grid = h · w(w²−1)/12, likewise for y
  const sxx = (h * w * (w * w - 1)) / 12;
  const syy = (w * h * (h * h - 1)) / 12;
  const a = sxx > 0 ? sx / sxx : 0;
  const b = syy > 0 ? sy / syy : 0;
  const c = s0 / n - a * xm - b * ym;
  const out = new Float64Array(n);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) out[i * w + j] = data[i * w + j] - (a * j + b * i + c);
  return { height: h, width: w, data: out };
}

/**
 * φ − mean(φ) in float64, or with `float32` as numpy does it for a float32 phase (complex64 input):
 * the float32 mean (pairwise float32 sums) subtracted in float32.
 */
export function removeMean(img: RealImage, float32 = false): RealImage<Float64Array> {
  const out = new Float64Array(img.data.length);
  if (float32) {
    const m = meanFloat32(img.data);
    for (let i = 0; i < out.length; i++) out[i] = Math.fround(img.data[i] - m);
  } else {
    const m = mean(img.data);
    for (let i = 0; i < out.length; i++) out[i] = img.data[i] - m;
  }
  return { height: img.height, width: img.width, data: out };
}

/**
 * The reference's phase alignment (evaluation.py:566-575), applied to one image independently.
 * `float32`: the phase is a float32 array (complex64 input); 'plane' returns float64 either way
 * (lstsq's float64 plane subtracted from it), 'mean' keeps float32.
 */
export function alignPhase(phi: RealImage, method: PhaseAlignMethod = 'plane', float32 = false): RealImage<Float64Array> {
  if (method === 'plane') return fitAndRemovePlane(phi);
  if (method === 'mean') return removeMean(phi, float32);
  throw new RangeError(`Unknown phase_align_method: ${String(method)}. Use 'plane' or 'mean'.`);
}

/** mean|t − p| (reference `mae(..., normalize=False)`). */
export function mae(target: RealImage, pred: RealImage): number {
  const t = target.data;
  const p = pred.data;
  let s = 0;
  for (let i = 0; i < t.length; i++) s += Math.abs(t[i] - p[i]);
  return s / t.length;
}

/** mean (t − p)² (reference `mse(..., normalize=False)`). */
export function mse(target: RealImage, pred: RealImage): number {
  const t = target.data;
  const p = pred.data;
  let s = 0;
  for (let i = 0; i < t.length; i++) {
    const d = t[i] - p[i];
    s += d * d;
  }
  return s / t.length;
}

const DBL_EPSILON = 2.220446049250313e-16;

/**
 * Reference `psnr(t, p, normalize=False, shift=False)` = `cv2.PSNR(float32(t), float32(p))`:
 * 20·log10(255 / (√(Σ d²/N) + DBL_EPSILON)), d the float32 difference of the float32-cast inputs,
 * summed in double. The peak is 255 whatever the data scale (identical images: 361.2019990992…).
 */
export function psnr(target: RealImage, pred: RealImage, peak = 255): number {
  const t = target.data;
  const p = pred.data;
  let s = 0;
  for (let i = 0; i < t.length; i++) {
    const d = Math.fround(Math.fround(t[i]) - Math.fround(p[i]));
    s += d * d;
  }
  return 20 * Math.log10(peak / (Math.sqrt(s / t.length) + DBL_EPSILON));
}

/** (φ + π)/(2π), unclipped (evaluation.py:624-625). */
export function scalePhase(phi: RealImage): RealImage<Float64Array> {
  const out = new Float64Array(phi.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (phi.data[i] + Math.PI) / (2 * Math.PI);
  return { height: phi.height, width: phi.width, data: out };
}

/** max − min (NaN if any NaN, like numpy). */
export function dataRange(img: RealImage): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < img.data.length; i++) {
    const v = img.data[i];
    if (v !== v) return NaN;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return hi - lo;
}
