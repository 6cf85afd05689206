/**
 * The default probe, its mask and its normalisation (`probe.py:15-27`, `38-66`), plus a
 * scipy.ndimage.gaussian_filter equivalent (mode 'reflect', truncate 4) used by the probe and the
 * 'lines' object. Plain CPU code in float64.
 */

/** default_probe_scale, legacy params (`params.py:67`; `probe.py:15-27`). */
export const DEFAULT_PROBE_SCALE = 0.7;

/** scipy's 1-D Gaussian kernel: radius int(truncate·σ + 0.5), exp(−x²/2σ²), normalised to sum 1. */
export function gaussianKernel1d(sigma: number, truncate = 4): Float64Array {
  const radius = Math.floor(truncate * sigma + 0.5);
  const k = new Float64Array(2 * radius + 1);
  let s = 0;
  for (let x = -radius; x <= radius; x++) {
    const v = Math.exp((-0.5 * x * x) / (sigma * sigma));
    k[x + radius] = v;
    s += v;
  }
  for (let i = 0; i < k.length; i++) k[i] /= s;
  return k;
}

/** scipy 'reflect' boundary (d c b a | a b c d | d c b a), valid for any index. */
export function reflectIndex(i: number, n: number): number {
  const period = 2 * n;
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

/** scipy.ndimage.gaussian_filter(img, sigma) for a row-major H x W image (mode 'reflect', truncate 4). */
export function gaussianFilter2d(img: ArrayLike<number>, H: number, W: number, sigma: number, truncate = 4): Float64Array {
  const k = gaussianKernel1d(sigma, truncate);
  const r = (k.length - 1) / 2;
  const tmp = new Float64Array(H * W);
  const out = new Float64Array(H * W);
  // axis 0 (rows) first, then axis 1 — the order scipy uses; the result is the same up to rounding.
  const idxR = new Int32Array(H + 2 * r);
  for (let i = -r; i < H + r; i++) idxR[i + r] = reflectIndex(i, H);
  // row-wise accumulation (cache friendly): tmp[i, :] = Σ_t k[t] · img[reflect(i + t − r), :]
  for (let i = 0; i < H; i++) {
    const o = i * W;
    for (let t = 0; t < k.length; t++) {
      const kt = k[t];
      const src = idxR[i + t] * W;
      for (let j = 0; j < W; j++) tmp[o + j] += kt * img[src + j];
    }
  }
  const idxC = new Int32Array(W + 2 * r);
  for (let j = -r; j < W + r; j++) idxC[j + r] = reflectIndex(j, W);
  for (let i = 0; i < H; i++) {
    const row = i * W;
    for (let j = 0; j < W; j++) {
      let acc = 0;
      for (let t = 0; t < k.length; t++) acc += k[t] * tmp[row + idxC[j + t]];
      out[row + j] = acc;
    }
  }
  return out;
}

/** scipy.signal.windows.gaussian(N, std, sym=True), peak-normalised (fourier.lowpass_g). */
export function gaussianWindow(N: number, std: number): Float64Array {
  const w = new Float64Array(N);
  const c = (N - 1) / 2;
  for (let n = 0; n < N; n++) {
    const x = (n - c) / std;
    w[n] = Math.exp(-0.5 * x * x);
  }
  let max = 0;
  for (const v of w) max = Math.max(max, v);
  for (let n = 0; n < N; n++) w[n] /= max;
  return w;
}

export interface ProbeArrays {
  /** row-major N x N */
  re: Float32Array;
  im: Float32Array;
}

/** σ of the default probe's Gaussian window, N/(0.7π²) (`probe.py:15-27`); its disk radius is σ·sqrt(2 ln 2). */
function defaultProbeSigma(N: number, scale = DEFAULT_PROBE_SCALE): number {
  return N / (scale * Math.PI * Math.PI);
}

/** Disk radius of the default probe, px: σ·sqrt(2 ln 2) with σ = N/(scale·π²) (`probe.py:15-27`). */
function probeDiskRadius(N: number, scale = DEFAULT_PROBE_SCALE): number {
  return defaultProbeSigma(N, scale) * Math.sqrt(2 * Math.LN2);
}

/** The default_probe_scale that gives a disk of `radius` px at N (inverse of probeDiskRadius). */
export function probeScaleForRadius(N: number, radius: number): number {
  return (N * Math.sqrt(2 * Math.LN2)) / (radius * Math.PI * Math.PI);
}

/**
 * The reference default probe (`probe.py:15-27`, probe.get_default_probe): Gaussian window with
 * σ = N/(0.7π²) centred (N−1)/2, outer product thresholded at > 0.5 (a disk), gaussian_filter σ=1,
 * + 1e-9. Real-valued (flat phase).
 */
export function defaultProbe(N: number, scale = DEFAULT_PROBE_SCALE): ProbeArrays {
  const g = gaussianWindow(N, defaultProbeSigma(N, scale)); // σ = N/(0.7π²), `probe.py:15-27`
  const disk = new Float64Array(N * N);
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) disk[i * N + j] = g[i] * g[j] > 0.5 ? 1 : 0; // threshold > .5, `probe.py:15-27`
  const blurred = gaussianFilter2d(disk, N, N, 1); // σ = 1, `probe.py:15-27`
  const re = new Float32Array(N * N);
  for (let i = 0; i < N * N; i++) re[i] = blurred[i] + 1e-9; // + 1e-9, `probe.py:15-27`
  return { re, im: new Float32Array(N * N) };
}

/**
 * The default probe (`probe.py:15-27`) defocused: its amplitude times exp(i·2π·w·(r/R)²), with r the
 * distance from the probe centre ((N − 1)/2, (N − 1)/2) and R the disk radius σ·sqrt(2 ln 2) of
 * `probe.py:15-27`, so the wavefront is w waves behind at the disk edge. Not a reference probe: the
 * demo study's choice (see src/lib/sim/demo.ts). A flat-phase disk concentrates the far field in one
 * Airy peak (max/mean of the amplitude ≈ 180–280 at N = 64, over the data contract's suggested 100);
 * a curved wavefront spreads it, as the defocused beams of real scanning experiments do.
 */
export function defocusedProbe(N: number, waves: number, scale = DEFAULT_PROBE_SCALE): ProbeArrays {
  const flat = defaultProbe(N, scale);
  const R = probeDiskRadius(N, scale);
  const c = (N - 1) / 2;
  const re = new Float32Array(N * N);
  const im = new Float32Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      const k = i * N + j;
      const phase = (2 * Math.PI * waves * ((i - c) ** 2 + (j - c) ** 2)) / (R * R);
      re[k] = flat.re[k] * Math.cos(phase);
      im[k] = flat.re[k] * Math.sin(phase);
    }
  }
  return { re, im };
}

/** Probe mask M: disk d < N/4 with d measured from (N/2 − ½, N/2 − ½) (`probe.py:38-44`, `d < N // 4`). 1/0, row-major. */
export function probeMask(N: number): Float32Array {
  const m = new Float32Array(N * N);
  const c = N / 2 - 0.5;
  const rad = Math.floor(N / 4);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      const d = Math.hypot(i - c, j - c);
      m[i * N + j] = d < rad ? 1 : 0;
    }
  }
  return m;
}

/** P̂ = P / (probe_scale · mean_{N×N} |M ⊙ P|) (`probe.py:52-66`; the mask is used even when probe.mask is False). */
export function normalizeProbe(probe: ProbeArrays, probeScale: number): ProbeArrays {
  const n = probe.re.length;
  const N = Math.round(Math.sqrt(n));
  if (N * N !== n || probe.im.length !== n) throw new Error(`normalizeProbe: probe must be square N x N, got ${n} values`);
  const M = probeMask(N);
  let s = 0;
  for (let i = 0; i < n; i++) if (M[i] !== 0) s += Math.hypot(probe.re[i], probe.im[i]);
  const mean = s / n;
  if (!(mean > 0)) throw new Error('normalizeProbe: the probe is zero inside the radius-N/4 mask');
  const f = 1 / (probeScale * mean);
  const re = new Float32Array(n);
  const im = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    re[i] = probe.re[i] * f;
    im[i] = probe.im[i] * f;
  }
  return { re, im };
}
