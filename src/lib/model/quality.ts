/**
 * Scores of a stitched test reconstruction against the ground-truth object (docs/quality.md), two ways:
 *
 * - `reference`: the reference's Phase G path (`compare_models.py:1649-1707`;
 *   `cropping.py:111-175`; `evaluation.py:521-668`): the stitched canvas (pixels no crop reaches are 0, as reassemble_position leaves them), align_for_evaluation with the test groups'
 *   centres as [y, x] and the stitch M, then eval_reconstruction (plane phase alignment, MS-SSIM σ 1).
 *   Comparable with published numbers, including the reference's ~1 px placement error (the canvas is
 *   centred on the mean group centre, the truth crop on the scan's bounding-box midpoint).
 * - `placed`: the canvas put on the truth grid by its own origin (canvas pixel (r, c) is object
 *   position (originY + r, originX + c), StitchResult), the truth sampled there bilinearly, over the
 *   bounding box of the covered pixels; what the reconstruction is really worth.
 *
 * `coverage` is the fraction of the scanned area (the bounding box of the group centres) that the
 * stitched crops cover (stitch weight >= 0.5).
 *
 * - `common`: every view of a dose scored on the same truth pixels, the dose's common region (the
 *   bounding box of its Phase C test scan positions, `CommonRegion`). The two scorings above each
 *   choose their own window from the job's own scan, so a sparse view that covers a tenth of the
 *   scan is judged on the little it reconstructed and can outscore the dense one. Here the truth is
 *   the region exactly as objectGuess holds it (no resampling, identical across views); the canvas
 *   is placed on it by its own origin and sampled at the truth's pixels (bilinear over covered
 *   canvas pixels only); region pixels no crop covers are 0, as the reference's stitch
 *   (`reassemble_position`) leaves them, so they count as wrong. When the truth's phase over the
 *   region has no structure (`FLAT_PHASE_STD`), the phase scores are null with `phase_note`.
 */
import {
  alignForEvaluation, evalReconstruction, fitAndRemovePlane, phase as phaseOf, trimComplex,
  type CommonRegion, type CommonScoreSet, type ComplexImage as EvalImage, type JobMetrics, type ScoreSet,
} from '../eval';

export type { CommonRegion, CommonScoreSet, JobMetrics, ScoreSet };
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

/** Reference and placed scores of a stitched canvas, and the common-region scores when `region` is given (see the module comment). */
export function scoreReconstruction(st: StitchedCanvas, truth: TruthObject, centres: ArrayLike<number>, M: number, region?: CommonRegion): JobMetrics {
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
  if (region) {
    try {
      out.common = scoreCommon(st, truth, region, M);
      if (!out.common) notes.push(`common: the region ${region.x1 - region.x0 + 1}x${region.y1 - region.y0 + 1} px is too small to score`);
    } catch (e) {
      // a reconstruction with nothing in the region (or all zero there) has no amplitude scale:
      // eval_reconstruction divides by its mean; a trained job must not fail over its scoring
      out.common = null;
      notes.push(`common: not scored (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  if (notes.length) out.note = notes.join('; ');
  return out;
}

// ---------------------------------------------------------------- common region

/**
 * Below this standard deviation (radians) of the truth's phase over the region, after the plane
 * removal eval_reconstruction applies (phase_align_method 'plane', ptycho/evaluation.py), the truth
 * carries no phase structure and its phase scores mean nothing. 1 mrad sits far above what rounding
 * leaves on a flat object (float32 angle() of complex64 values: ~1e-7 rad) and far below any
 * structure a scorer could see: phase SSIM and MS-SSIM compare (phi + pi) / 2pi with data range 1,
 * whose stabiliser C2 = (0.03)^2 is the variance of a 0.19 rad phase std; a 1 mrad truth has
 * (1e-3 / 2pi)^2 / C2 ~ 3e-5 of it, so SSIM only asks whether the reconstruction is flat too, the
 * phase FRC correlates against rounding noise (the reference's FRC guard gives NaN for an all-zero
 * target), and MAE/PSNR measure the reconstruction's own phase noise, not agreement with the truth.
 * The simulated 'lines' objects without set_phi (ptycho/diffsim.py; the demo study before 2026-12-06) have phase 0.
 */
export const FLAT_PHASE_STD = 1e-3;

/**
 * Integer truth pixels inside the bounding box of scan positions (object coordinates, x then y as in
 * xcoords/ycoords), clipped to the truth; null when no position is finite or the box misses the truth.
 */
export function regionBox(xs: ArrayLike<number>, ys: ArrayLike<number>, truthWidth: number, truthHeight: number): { x0: number; y0: number; x1: number; y1: number } | null {
  let xl = Infinity, xh = -Infinity, yl = Infinity, yh = -Infinity;
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const x = xs[i], y = ys[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    xl = Math.min(xl, x); xh = Math.max(xh, x);
    yl = Math.min(yl, y); yh = Math.max(yh, y);
  }
  if (!Number.isFinite(xl)) return null;
  const x0 = Math.max(0, Math.ceil(xl)), x1 = Math.min(truthWidth - 1, Math.floor(xh));
  const y0 = Math.max(0, Math.ceil(yl)), y1 = Math.min(truthHeight - 1, Math.floor(yh));
  return x1 < x0 || y1 < y0 ? null : { x0, y0, x1, y1 };
}

/**
 * The truth over the region, exactly (same float type, no resampling), and the canvas sampled at
 * the same object pixels: canvas pixel (r, c) lies at (originY + r, originX + c), so truth pixel
 * (y, x) is canvas position (y - originY, x - originX), read bilinearly from the covered canvas
 * pixels only (weight >= COVERED_WEIGHT) and renormalised by their share of the bilinear weight. A
 * region pixel is covered when that share is at least 1/2; otherwise its value is 0.
 */
export function commonPair(st: StitchedCanvas, truth: TruthObject, region: { x0: number; y0: number; x1: number; y1: number }): { recon: EvalImage; truth: EvalImage; covered: Uint8Array; coverage: number } {
  const w = region.x1 - region.x0 + 1;
  const h = region.y1 - region.y0 + 1;
  const T = truth.re instanceof Float32Array ? Float32Array : Float64Array;
  const tRe = new T(h * w);
  const tIm = new T(h * w);
  for (let r = 0; r < h; r++) {
    const from = (region.y0 + r) * truth.width + region.x0;
    tRe.set(truth.re.subarray(from, from + w), r * w);
    tIm.set(truth.im.subarray(from, from + w), r * w);
  }
  const re = new Float64Array(h * w);
  const im = new Float64Array(h * w);
  const covered = new Uint8Array(h * w);
  const taps = (u: number, n: number): [number, number][] => {
    const i0 = Math.floor(u);
    const f = u - i0;
    const out: [number, number][] = [];
    if (f < 1 && i0 >= 0 && i0 < n) out.push([i0, 1 - f]);
    if (f > 0 && i0 + 1 >= 0 && i0 + 1 < n) out.push([i0 + 1, f]);
    return out;
  };
  const colTaps = Array.from({ length: w }, (_, c) => taps(region.x0 + c - st.originX, st.width));
  let n = 0;
  for (let r = 0; r < h; r++) {
    const rt = taps(region.y0 + r - st.originY, st.height);
    for (let c = 0; c < w; c++) {
      let sr = 0, si = 0, sw = 0;
      for (const [cr, wr] of rt) {
        for (const [cc, wc] of colTaps[c]) {
          const k = cr * st.width + cc;
          if (st.weight[k] < COVERED_WEIGHT) continue;
          const wt = wr * wc;
          sr += wt * st.re[k];
          si += wt * st.im[k];
          sw += wt;
        }
      }
      if (sw >= 0.5) {
        re[r * w + c] = sr / sw;
        im[r * w + c] = si / sw;
        covered[r * w + c] = 1;
        n++;
      }
    }
  }
  return { recon: { height: h, width: w, re, im }, truth: { height: h, width: w, re: tRe, im: tIm }, covered, coverage: n / (h * w) };
}

/**
 * Standard deviation (radians) of the truth's phase as eval_reconstruction sees it: after the 2-px
 * trim (offset 4) and the plane removal of phase_align_method 'plane'.
 */
export function truthPhaseSpread(truth: EvalImage): number {
  const phi = fitAndRemovePlane(phaseOf(trimComplex(truth, 4))).data;
  let m = 0;
  for (let i = 0; i < phi.length; i++) m += phi[i];
  m /= phi.length || 1;
  let v = 0;
  for (let i = 0; i < phi.length; i++) v += (phi[i] - m) ** 2;
  return Math.sqrt(v / (phi.length || 1));
}

/** The note that replaces phase scores of a flat-phase truth. */
export function flatPhaseNote(spread: number): string {
  return `the true object's phase is flat over the region (std ${spread.toExponential(1)} rad after plane removal, ` +
    `< ${FLAT_PHASE_STD} rad): phase scores have no meaning`;
}

/**
 * The common-region score set (see the module comment); null when the region is too small to score.
 * Throws when the reconstruction covers none of the region (scoreReconstruction records why).
 */
export function scoreCommon(st: StitchedCanvas, truth: TruthObject, region: CommonRegion, M: number): CommonScoreSet | null {
  if (Math.min(region.x1 - region.x0 + 1, region.y1 - region.y0 + 1) < MIN_SIDE) return null;
  const pair = commonPair(st, truth, region);
  if (pair.coverage === 0) throw new Error('the reconstruction covers none of the region');
  const s = scoreSet(pair.recon, pair.truth, M);
  const spread = truthPhaseSpread(pair.truth);
  const flat = !(spread >= FLAT_PHASE_STD); // NaN counts as flat
  return {
    amplitude: s.amplitude,
    phase: flat ? null : s.phase,
    ...(flat ? { phase_note: flatPhaseNote(spread) } : {}),
    height: s.height, width: s.width, stitch_M: M, phase_align: 'plane', ms_ssim_sigma: 1,
    region: { ...region },
    coverage: pair.coverage,
  };
}

/** Amplitude SSIM of the placed pair (the live training curve): cheaper than the full score set. */
export function placedAmplitudeSsim(st: StitchedCanvas, truth: TruthObject, M: number): number | null {
  const pair = placedPair(st, truth);
  if (!pair || Math.min(pair.recon.height, pair.recon.width) < MIN_SIDE) return null;
  return scoreSet(pair.recon, pair.truth, M).amplitude.ssim;
}
