/**
 * Live previews a ptychographer reads at a glance (used by the training worker, so the page only
 * blits bytes): the stitched images cropped to the scanned region, unscanned pixels grey, colour
 * limits from covered pixels only, the ground truth on the same crop and on the colour scale of the
 * evaluation's amplitude scaling (previewImages), and the test scan positions in the crop's pixel
 * coordinates.
 */
import { colourise, finiteRange, type ColourMap } from './colour';

/** A pixel rectangle of a width x height canvas. */
export interface CropBox {
  x0: number;
  y0: number;
  width: number;
  height: number;
}

/** An image colour-mapped into RGBA bytes, with its colour scale. */
export interface ColouredImage {
  rgba: Uint8ClampedArray<ArrayBuffer>;
  min: number;
  max: number;
  map: ColourMap;
}

/** The bounding box of the finite (scanned) pixels of a row-major image; null when none is. */
export function coveredBox(values: ArrayLike<number>, width: number, height: number): CropBox | null {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (!Number.isFinite(values[row + x])) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  return x1 < 0 ? null : { x0, y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/** The pixels of `box` from a row-major image `width` wide. */
export function cropImage(values: Float32Array, width: number, box: CropBox): Float32Array {
  if (box.x0 === 0 && box.y0 === 0 && box.width === width && box.height * width === values.length) return values;
  const out = new Float32Array(box.width * box.height);
  for (let y = 0; y < box.height; y++) {
    const from = (box.y0 + y) * width + box.x0;
    out.set(values.subarray(from, from + box.width), y * box.width);
  }
  return out;
}

/** One display range for several images: finiteRange over the covered pixels of all of them. */
export function sharedRange(...images: (Float32Array | undefined)[]): [number, number] {
  const present = images.filter((a): a is Float32Array => a !== undefined);
  const all = new Float32Array(present.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of present) { all.set(a, o); o += a.length; }
  return finiteRange(all);
}

function colour(values: Float32Array, [min, max]: [number, number], map: ColourMap): ColouredImage {
  return { rgba: colourise(values, min, max, map), min, max, map };
}

export interface PreviewInput {
  width: number;
  height: number;
  amplitude: Float32Array;
  phase: Float32Array;
  /** Truth resampled on the same grid, NaN where not scanned. */
  truthAmplitude?: Float32Array;
  truthPhase?: Float32Array;
  /** Test scan positions in canvas pixel coordinates. */
  positions?: { x: Float64Array; y: Float64Array };
}

export interface PreviewImages {
  /** Size of the crop (what the images hold). */
  width: number;
  height: number;
  /** The crop within the stitched canvas. */
  crop: CropBox & { fullWidth: number; fullHeight: number };
  amplitude: ColouredImage;
  phase: ColouredImage;
  truthAmplitude?: ColouredImage;
  truthPhase?: ColouredImage;
  /** Scan positions in crop pixel coordinates. */
  positions?: { x: Float64Array; y: Float64Array };
}

/**
 * The factor that puts a reconstructed amplitude on the truth's scale for display: median(truth) /
 * median(reconstruction) over the pixels where both are finite. The evaluation scales by the ratio
 * of means (`evaluation.py:521-668` `eval_reconstruction`, comparison.png does too); medians give the same picture for a sound
 * reconstruction and keep a few huge pixels (an untrained gridsize-2 merge border) from darkening
 * the rest. 1 when there is no common pixel or the reconstruction's median is not positive.
 */
export function amplitudeDisplayScale(truth: Float32Array, recon: Float32Array): number {
  const t: number[] = [];
  const r: number[] = [];
  for (let i = 0; i < Math.min(truth.length, recon.length); i++) {
    if (Number.isFinite(truth[i]) && Number.isFinite(recon[i])) { t.push(truth[i]); r.push(recon[i]); }
  }
  if (t.length === 0) return 1;
  const median = (a: number[]) => {
    const s = Float64Array.from(a).sort();
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const mr = median(r);
  const s = mr > 0 ? median(t) / mr : 1;
  return Number.isFinite(s) && s > 0 ? s : 1;
}

/**
 * Crop to the reconstruction's scanned region (the truth's when the reconstruction covers
 * nothing; the whole canvas when neither covers anything), colour amplitude (viridis) and phase
 * (magma: the covered range of a phase is rarely the whole cycle, and a cyclic map would give its
 * two ends one colour). With a truth, amplitude limits are the truth's range (0.5th-99.5th
 * percentile of its covered pixels) and the reconstruction's are those divided by
 * amplitudeDisplayScale, so equal colours mean equal values after the evaluation's scaling and
 * outliers saturate instead of washing out the picture; phase limits are shared by both. Without a
 * truth, each image's own range.
 */
export function previewImages(p: PreviewInput): PreviewImages {
  const { width, height } = p;
  const box = coveredBox(p.amplitude, width, height) ??
    (p.truthAmplitude ? coveredBox(p.truthAmplitude, width, height) : null) ??
    { x0: 0, y0: 0, width, height };
  const crop = (a: Float32Array) => cropImage(a, width, box);
  const amp = crop(p.amplitude);
  const phi = crop(p.phase);
  const tAmp = p.truthAmplitude && p.truthAmplitude.length === width * height ? crop(p.truthAmplitude) : undefined;
  const tPhi = p.truthPhase && p.truthPhase.length === width * height ? crop(p.truthPhase) : undefined;
  const ampRange = tAmp ? finiteRange(tAmp) : finiteRange(amp);
  const scale = tAmp ? amplitudeDisplayScale(tAmp, amp) : 1;
  const phiRange = sharedRange(phi, tPhi);
  const out: PreviewImages = {
    width: box.width,
    height: box.height,
    crop: { ...box, fullWidth: width, fullHeight: height },
    amplitude: colour(amp, [ampRange[0] / scale, ampRange[1] / scale], 'viridis'),
    phase: colour(phi, phiRange, 'magma'),
  };
  if (tAmp) out.truthAmplitude = colour(tAmp, ampRange, 'viridis');
  if (tPhi) out.truthPhase = colour(tPhi, phiRange, 'magma');
  if (p.positions && p.positions.x.length === p.positions.y.length) {
    out.positions = {
      x: Float64Array.from(p.positions.x, (v) => v - box.x0),
      y: Float64Array.from(p.positions.y, (v) => v - box.y0),
    };
  }
  return out;
}

/** The buffers of a preview to transfer to the page. */
export function previewTransfer(p: PreviewImages): ArrayBuffer[] {
  const t: ArrayBuffer[] = [p.amplitude.rgba.buffer, p.phase.rgba.buffer];
  if (p.truthAmplitude) t.push(p.truthAmplitude.rgba.buffer);
  if (p.truthPhase) t.push(p.truthPhase.rgba.buffer);
  if (p.positions) t.push(p.positions.x.buffer as ArrayBuffer, p.positions.y.buffer as ArrayBuffer);
  return t;
}
