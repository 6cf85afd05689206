/**
 * Colour maps for scientific images: viridis (amplitude), magma (phase over its covered range) and
 * a cyclic twilight-like map (phase over the whole cycle).
 */

export type ColourMap = 'viridis' | 'magma' | 'twilight' | 'gray';

// Anchor colours sampled from matplotlib's viridis, magma and twilight maps (9 stops each), interpolated linearly.
const STOPS: Record<ColourMap, number[][]> = {
  viridis: [
    [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
    [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
  ],
  magma: [
    [0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122],
    [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191],
  ],
  twilight: [
    [226, 217, 226], [149, 170, 200], [94, 111, 185], [87, 48, 135], [47, 20, 54],
    [118, 34, 69], [182, 81, 71], [211, 156, 131], [226, 217, 226],
  ],
  gray: [[0, 0, 0], [255, 255, 255]],
};

/** RGBA bytes for values mapped linearly from [lo, hi] (clamped); non-finite values are drawn light grey. */
export function colourise(values: ArrayLike<number>, lo: number, hi: number, map: ColourMap): Uint8ClampedArray<ArrayBuffer> {
  const stops = STOPS[map];
  const n = stops.length - 1;
  const out = new Uint8ClampedArray(values.length * 4);
  const span = hi - lo || 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const o = i * 4;
    out[o + 3] = 255;
    // Non-finite values mark pixels without data (e.g. not scanned): a neutral light grey.
    if (!Number.isFinite(v)) { out[o] = 236; out[o + 1] = 238; out[o + 2] = 242; continue; }
    const t = Math.min(1, Math.max(0, (v - lo) / span)) * n;
    const k = Math.min(n - 1, Math.floor(t));
    const f = t - k;
    const a = stops[k], b = stops[k + 1];
    out[o] = a[0] + (b[0] - a[0]) * f;
    out[o + 1] = a[1] + (b[1] - a[1]) * f;
    out[o + 2] = a[2] + (b[2] - a[2]) * f;
  }
  return out;
}

/**
 * The display range of an image: the 0.5th and 99.5th percentiles of its finite values, so a few
 * extreme pixels (e.g. the reference's x1000 border amplification, `tf_helper.py:1092-1101`) do not wash out
 * the rest; values outside are clamped by colourise. [0, 1] when nothing is finite; widened when flat.
 */
export function finiteRange(values: ArrayLike<number>): [number, number] {
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) finite.push(values[i]);
  if (finite.length === 0) return [0, 1];
  const sorted = Float64Array.from(finite).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
  const lo = at(0.005);
  const hi = at(0.995);
  return lo === hi ? [lo, lo + 1] : [lo, hi];
}
