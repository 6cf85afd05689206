/** Image types and result shapes of the reconstruction scoring (reference: ptychopinn-eval.md §1). */

export type FloatArray = Float32Array | Float64Array;

/** A real row-major image; `data.length === height * width`. */
export interface RealImage<T extends FloatArray = FloatArray> {
  height: number;
  width: number;
  data: T;
}

/** A complex row-major image as separate real and imaginary planes. */
export interface ComplexImage<T extends FloatArray = FloatArray> {
  height: number;
  width: number;
  re: T;
  im: T;
}

/** One component's scores; `null` where the reference gives NaN (or None). */
export interface Scores {
  mae: number | null;
  mse: number | null;
  psnr: number | null;
  ssim: number | null;
  ms_ssim: number | null;
  frc50: number | null;
  frc1over7: number | null;
}

export interface EvalResult {
  amplitude: Scores;
  phase: Scores;
  /** The FRC curves (the reference's `'frc'` tuple), `null` where it returns None (all-zero target). */
  frcCurves: { amplitude: Float64Array | null; phase: Float64Array | null };
}

export type PhaseAlignMethod = 'plane' | 'mean';

export interface EvalOptions {
  /** Reference `phase_align_method` (default 'plane'). */
  phaseAlign?: PhaseAlignMethod;
  /** Reference `ms_ssim_sigma`, amplitude MS-SSIM pre-smoothing (default 1). */
  msSsimSigma?: number;
  /** Reference `params['offset']`: `offset/2` px are trimmed from every side (default 4; even, > 0). */
  offset?: number;
  /** Reference `frc_sigma`: Gaussian smoothing of the FRC curves (default 0 = none). */
  frcSigma?: number;
}

/** One scoring of a job's stitched test reconstruction, as the runner writes it into `result.metrics`. */
export interface ScoreSet {
  amplitude: Scores;
  phase: Scores;
  /** size of the compared images before the 2-px trim */
  height: number;
  width: number;
  stitch_M: number;
  phase_align: 'plane';
  ms_ssim_sigma: 1;
}

/**
 * The truth region every view of a dose is scored on (`JobMetrics.common`): object pixels x0..x1,
 * y0..y1, both ends included, on the truth's own grid (objectGuess pixel (y, x)).
 */
export interface CommonRegion {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /**
   * 'phase_c test scan': the bounding box of the dose's Phase C test positions (xcoords, ycoords of
   * phase_c/dose_<int>/patched_test.npz), the same for every view of the dose. 'job test scan': that
   * file was missing or unreadable, so the job's own test positions; then `note` says why and that the
   * scores are not comparable across views.
   */
  source: 'phase_c test scan' | 'job test scan';
  /** the file the positions came from */
  path: string;
  note?: string;
}

/**
 * The common-region scoring: the reconstruction placed on the truth grid by its own origin over the
 * dose's common region, with pixels no test crop covers counted as 0. `phase` is null (with
 * `phase_note`) when the truth's phase over the region carries no structure.
 */
export interface CommonScoreSet {
  amplitude: Scores;
  phase: Scores | null;
  /** why `phase` is null */
  phase_note?: string;
  /** size of the compared images before the 2-px trim (the region's) */
  height: number;
  width: number;
  stitch_M: number;
  phase_align: 'plane';
  ms_ssim_sigma: 1;
  region: CommonRegion;
  /** fraction of the region's pixels that the stitched test crops cover */
  coverage: number;
}

/** `result.metrics` of a scored job (and the job's `metrics.json`). */
export interface JobMetrics {
  /** the reference's Phase G path (align_for_evaluation + eval_reconstruction); null when too small to score */
  reference: ScoreSet | null;
  /** the canvas placed on the truth grid by its own origin; null when too small to score */
  placed: ScoreSet | null;
  /** fraction of the scanned area the stitched test crops cover */
  coverage: number;
  /**
   * the dose's common region (the same truth pixels for every view); null when it is too small to
   * score, absent in results written before it existed
   */
  common?: CommonScoreSet | null;
  /** why a score set is missing */
  note?: string;
  /** live amplitude SSIM (placed) during training */
  ssim_history?: { epoch: number; amplitude_ssim: number }[];
}
