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

/** `result.metrics` of a scored job (and the job's `metrics.json`). */
export interface JobMetrics {
  /** the reference's Phase G path (align_for_evaluation + eval_reconstruction); null when too small to score */
  reference: ScoreSet | null;
  /** the canvas placed on the truth grid by its own origin; null when too small to score */
  placed: ScoreSet | null;
  /** fraction of the scanned area the stitched test crops cover */
  coverage: number;
  /** why a score set is missing */
  note?: string;
  /** live amplitude SSIM (placed) during training */
  ssim_history?: { epoch: number; amplitude_ssim: number }[];
}
