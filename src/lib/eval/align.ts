/**
 * `align_for_evaluation(recon, gt, scan_coords_yx, stitch_patch_size)` (ptycho/image/cropping.py:111-175,
 * ptychopinn-eval.md §2): crop the ground truth to the scan bounding box ± M//2 (int() truncation,
 * exclusive end, Python slice semantics), then centre-crop both to the common shape. No registration.
 */
import type { ComplexImage, FloatArray } from './types.ts';

function sameKind<T extends FloatArray>(like: T, n: number): T {
  return (like instanceof Float32Array ? new Float32Array(n) : new Float64Array(n)) as T;
}

/** `a[r0:r0+h, c0:c0+w]` of both planes; keeps the array type. */
export function cropComplex<T extends FloatArray>(img: ComplexImage<T>, r0: number, c0: number, h: number, w: number): ComplexImage<T> {
  const re = sameKind(img.re, h * w);
  const im = sameKind(img.im, h * w);
  for (let i = 0; i < h; i++) {
    const s = (r0 + i) * img.width + c0;
    re.set(img.re.subarray(s, s + w), i * w);
    im.set(img.im.subarray(s, s + w), i * w);
  }
  return { height: h, width: w, re, im };
}

/** `center_crop_spatial` (cropping.py:52-83): start ((h−th)//2, (w−tw)//2); unchanged when equal. */
export function centerCrop<T extends FloatArray>(img: ComplexImage<T>, th: number, tw: number): ComplexImage<T> {
  if (th <= 0 || tw <= 0) throw new RangeError(`Crop targets must be positive, got (${th}, ${tw})`);
  if (th > img.height || tw > img.width) {
    throw new RangeError(`Crop target (${th}, ${tw}) exceeds source spatial shape (${img.height}, ${img.width})`);
  }
  if (th === img.height && tw === img.width) return img;
  return cropComplex(img, Math.floor((img.height - th) / 2), Math.floor((img.width - tw) / 2), th, tw);
}

/** Python `len(range(n)[start:stop])` start/length for non-negative start and any stop. */
function pySlice(start: number, stop: number, n: number): [number, number] {
  const s = Math.min(start, n);
  let e = stop < 0 ? stop + n : stop;
  e = Math.min(Math.max(e, 0), n);
  return [s, Math.max(e - s, 0)];
}

export interface AlignBox {
  /** Ground-truth crop rows [r0, r1) and columns [c0, c1) before the final centre-crop (as computed, pre-slice). */
  r0: number;
  r1: number;
  c0: number;
  c1: number;
}

/** The bounding box `align_for_evaluation` takes from the scan coordinates (rows [y, x]). */
export function scanBoundingBox(scanCoordsYX: ArrayLike<number>, M: number, gtHeight: number, gtWidth: number): AlignBox {
  const n = scanCoordsYX.length / 2;
  if (!Number.isInteger(n) || n < 1) throw new RangeError('scan_coords_yx must have shape (n_positions, 2) with n ≥ 1');
  let minY = Infinity;
  let minX = Infinity;
  let maxY = -Infinity;
  let maxX = -Infinity;
  for (let k = 0; k < n; k++) {
    const y = scanCoordsYX[2 * k];
    const x = scanCoordsYX[2 * k + 1];
    if (!Number.isFinite(y) || !Number.isFinite(x)) throw new RangeError('scan coordinates must be finite');
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
  }
  const rad = Math.floor(M / 2);
  return {
    r0: Math.max(0, Math.trunc(minY) - rad),
    r1: Math.min(gtHeight, Math.trunc(maxY) + rad),
    c0: Math.max(0, Math.trunc(minX) - rad),
    c1: Math.min(gtWidth, Math.trunc(maxX) + rad),
  };
}

/**
 * Align a stitched reconstruction with the full ground truth: GT cropped to the scan bounding box,
 * then both centre-cropped to (min h, min w). `scanCoordsYX` holds n rows [y, x]; `M` is the
 * stitch patch size. Keeps each input's array type. Throws where the reference raises (empty crop).
 */
export function alignForEvaluation<R extends FloatArray, G extends FloatArray>(
  recon: ComplexImage<R>,
  truth: ComplexImage<G>,
  scanCoordsYX: Float64Array,
  M: number,
): { recon: ComplexImage<R>; truth: ComplexImage<G> } {
  const box = scanBoundingBox(scanCoordsYX, M, truth.height, truth.width);
  const [r0, gh] = pySlice(box.r0, box.r1, truth.height);
  const [c0, gw] = pySlice(box.c0, box.c1, truth.width);
  const gtC = cropComplex(truth, r0, c0, gh, gw);
  const th = Math.min(recon.height, gh);
  const tw = Math.min(recon.width, gw);
  return { recon: centerCrop(recon, th, tw), truth: centerCrop(gtC, th, tw) };
}
