/**
 * Scores of a stitched test reconstruction against the ground-truth object (product.md 6b), two ways:
 *
 * - `reference`: the reference's Phase G path (eval spec 4, 6a, 2, 1.1): the stitched canvas (pixels no
 *   crop reaches are 0, as reassemble_position leaves them), align_for_evaluation with the test groups'
 *   centres as [y, x] and the stitch M, then eval_reconstruction (plane phase alignment, MS-SSIM σ 1).
 *   Comparable with published numbers, including the reference's ~1 px placement error (the canvas is
 *   centred on the mean group centre, the truth crop on the scan's bounding-box midpoint).
 * - `placed`: the canvas put on the truth grid by its own origin (canvas pixel (r, c) is object
 *   position (originY + r, originX + c), StitchResult), the truth sampled there bilinearly, over the
 *   bounding box of the covered pixels; what the reconstruction is really worth.
 *
 * `coverage` is the fraction of the scanned area (the bounding box of the group centres) that the
 * stitched crops cover (stitch weight >= 0.5).
 */
import { alignForEvaluation, evalReconstruction, type ComplexImage as EvalImage, type JobMetrics, type ScoreSet } from '../eval';

export type { JobMetrics, ScoreSet };
import { sampleBilinear } from './metrics';

/** Weight of a canvas pixel below which it counts as not reconstructed (a bilinear fringe at most). */
export const COVERED_WEIGHT = 0.5;

export interface StitchedCanvas {
  width: number;
  height: number;
  re: Float32Array;
  im: Float32Array;
  weight: Float32Array;
  originX: number;
  originY: number;
}

export interface TruthObject {
  height: number;
  width: number;
  re: Float32Array | Float64Array;
  im: Float32Array | Float64Array;
}

/** Fraction of the bounding box of the group centres (on the canvas grid) that is covered. */
export function coverageOf(st: StitchedCanvas, centres: ArrayLike<number>): number {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let b = 0; 2 * b + 1 < centres.length; b++) {
    x0 = Math.min(x0, centres[2 * b]);
    x1 = Math.max(x1, centres[2 * b]);
    y0 = Math.min(y0, centres[2 * b + 1]);
    y1 = Math.max(y1, centres[2 * b + 1]);
  }
  const r0 = Math.max(0, Math.ceil(y0 - st.originY));
  const r1 = Math.min(st.height - 1, Math.floor(y1 - st.originY));
  const c0 = Math.max(0, Math.ceil(x0 - st.originX));
  const c1 = Math.min(st.width - 1, Math.floor(x1 - st.originX));
  let n = 0;
  let cov = 0;
  for (let r = r0; r <= r1; r++) {
    for (let c = c0; c <= c1; c++) {
      n++;
      if (st.weight[r * st.width + c] >= COVERED_WEIGHT) cov++;
    }
  }
  return n === 0 ? 0 : cov / n;
}

/** Bounding box of the covered canvas pixels, or null when none is covered. */
export function coveredBox(st: StitchedCanvas): { r0: number; r1: number; c0: number; c1: number } | null {
  let r0 = Infinity, r1 = -1, c0 = Infinity, c1 = -1;
  for (let r = 0; r < st.height; r++) {
    for (let c = 0; c < st.width; c++) {
      if (st.weight[r * st.width + c] < COVERED_WEIGHT) continue;
      if (r < r0) r0 = r;
      if (r > r1) r1 = r;
      if (c < c0) c0 = c;
      if (c > c1) c1 = c;
    }
  }
  return r1 < 0 ? null : { r0, r1, c0, c1 };
}

/**
 * The canvas and the truth on the canvas grid over the covered bounding box. Pixels inside the box
 * that no crop covers are 0 in the reconstruction (they count against it); the truth is 0 outside
 * the object.
 */
export function placedPair(st: StitchedCanvas, truth: TruthObject): { recon: EvalImage; truth: EvalImage; covered: Uint8Array; originX: number; originY: number } | null {
  const box = coveredBox(st);
  if (!box) return null;
  const h = box.r1 - box.r0 + 1;
  const w = box.c1 - box.c0 + 1;
  const ox = st.originX + box.c0;
  const oy = st.originY + box.r0;
  const tRe = sampleBilinear({ values: truth.re, H: truth.height, W: truth.width }, ox, oy, w, h);
  const tIm = sampleBilinear({ values: truth.im, H: truth.height, W: truth.width }, ox, oy, w, h);
  const re = new Float64Array(h * w);
  const im = new Float64Array(h * w);
  const covered = new Uint8Array(h * w);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const k = (r + box.r0) * st.width + (c + box.c0);
      if (st.weight[k] < COVERED_WEIGHT) continue;
      re[r * w + c] = st.re[k];
      im[r * w + c] = st.im[k];
      covered[r * w + c] = 1;
    }
  }
  return { recon: { height: h, width: w, re, im }, truth: { height: h, width: w, re: tRe.values, im: tIm.values }, covered, originX: ox, originY: oy };
}

/** Smallest side eval_reconstruction accepts: the 2-px trim and SSIM's 7x7 window need >= 11 px. */
const MIN_SIDE = 11;

function scoreSet(recon: EvalImage, truth: EvalImage, M: number): ScoreSet {
  const s = evalReconstruction(recon, truth, { phaseAlign: 'plane', msSsimSigma: 1 });
  return { amplitude: s.amplitude, phase: s.phase, height: recon.height, width: recon.width, stitch_M: M, phase_align: 'plane', ms_ssim_sigma: 1 };
}

/** Reference and placed scores of a stitched canvas (see the module comment). */
export function scoreReconstruction(st: StitchedCanvas, truth: TruthObject, centres: ArrayLike<number>, M: number): JobMetrics {
  const notes: string[] = [];
  // reference path: uncovered canvas pixels are 0, as reassemble_position leaves them
  const canvas: EvalImage = { height: st.height, width: st.width, re: new Float64Array(st.re.length), im: new Float64Array(st.im.length) };
  for (let k = 0; k < st.re.length; k++) {
    if (st.weight[k] > 0) {
      (canvas.re as Float64Array)[k] = st.re[k];
      (canvas.im as Float64Array)[k] = st.im[k];
    }
  }
  const B = Math.floor(centres.length / 2);
  const yx = new Float64Array(2 * B);
  for (let b = 0; b < B; b++) {
    yx[2 * b] = centres[2 * b + 1];
    yx[2 * b + 1] = centres[2 * b];
  }
  let reference: ScoreSet | null = null;
  const aligned = alignForEvaluation(canvas, { height: truth.height, width: truth.width, re: truth.re, im: truth.im }, yx, M);
  if (Math.min(aligned.recon.height, aligned.recon.width) >= MIN_SIDE) reference = scoreSet(aligned.recon, aligned.truth, M);
  else notes.push(`reference: the aligned crop is ${aligned.recon.height}x${aligned.recon.width}, too small to score`);
  let placed: ScoreSet | null = null;
  const pair = placedPair(st, truth);
  if (pair && Math.min(pair.recon.height, pair.recon.width) >= MIN_SIDE) placed = scoreSet(pair.recon, pair.truth, M);
  else notes.push('placed: the covered region is too small to score');
  const out: JobMetrics = { reference, placed, coverage: coverageOf(st, centres) };
  if (notes.length) out.note = notes.join('; ');
  return out;
}

/** Amplitude SSIM of the placed pair (the live training curve): cheaper than the full score set. */
export function placedAmplitudeSsim(st: StitchedCanvas, truth: TruthObject, M: number): number | null {
  const pair = placedPair(st, truth);
  if (!pair || Math.min(pair.recon.height, pair.recon.width) < MIN_SIDE) return null;
  return scoreSet(pair.recon, pair.truth, M).amplitude.ssim;
}
