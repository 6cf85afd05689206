/**
 * The study design (`get_study_design()`, `design.py:19-160`) and the training views.
 */
import type { View } from './runner';
import { studyError } from './errors';

export interface StudyDesign {
  dose_list: number[];
  gridsizes: number[];
  neighbor_count: number;
  patch_size_pixels: number;
  overlap_views: Record<string, number>;
  /** Derived: (1 - f) * patch_size_pixels per view (design.py:83-86). */
  spacing_thresholds: Record<string, number>;
  train_test_split_axis: string;
  rng_seeds: Record<string, number>;
  metrics_config: Record<string, number | boolean>;
}

/** Photon doses per exposure, design.py:37. */
export const DESIGN_DOSES: readonly number[] = [1e3, 1e4, 1e5];

/** Training views in enumeration order; baseline is a training concept only (`training.py:152-172`). */
export const VIEWS: readonly View[] = ['baseline', 'dense', 'sparse'];
/** View -> gridsize, hard-coded in training (E4 training.py:152-172). */
export const VIEW_GRIDSIZE: Readonly<Record<View, 1 | 2>> = { baseline: 1, dense: 2, sparse: 2 };
export const GRIDSIZES: readonly (1 | 2)[] = [1, 2];

export function isView(v: unknown): v is View {
  return v === 'baseline' || v === 'dense' || v === 'sparse';
}

function deriveThresholds(d: Pick<StudyDesign, 'overlap_views' | 'patch_size_pixels'>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [view, f] of Object.entries(d.overlap_views)) out[view] = (1.0 - f) * d.patch_size_pixels;
  return out;
}

/** A design with the reference defaults (design.py:37-71), thresholds derived, validated. */
export function getStudyDesign(overrides: Partial<Omit<StudyDesign, 'spacing_thresholds'>> = {}): StudyDesign {
  const base = {
    dose_list: [...DESIGN_DOSES],
    gridsizes: [1, 2],
    neighbor_count: 7,
    patch_size_pixels: 128,
    overlap_views: { dense: 0.7, sparse: 0.2 },
    train_test_split_axis: 'y',
    rng_seeds: { simulation: 42, grouping: 123, subsampling: 456 },
    metrics_config: { ms_ssim_sigma: 1.0, emphasize_phase: true, report_amplitude: true, frc_threshold: 0.5 },
    ...overrides,
  };
  const design: StudyDesign = { ...base, spacing_thresholds: deriveThresholds(base) };
  validateDesign(design);
  return design;
}

/**
 * `StudyDesign.validate()` (design.py:88-128): the checks in the reference's order, each raising
 * the reference's message (as a StudyError with code 'invalid_design').
 */
export function validateDesign(d: StudyDesign): void {
  const C = Math.max(...d.gridsizes) ** 2;
  if (d.neighbor_count < C) {
    throw studyError('invalid_design', `neighbor_count=${d.neighbor_count} must be ≥ C=${C} (max(gridsizes)**2) for K-choose-C grouping`);
  }
  for (const [view, f] of Object.entries(d.overlap_views)) {
    if (!(f >= 0 && f < 1)) throw studyError('invalid_design', `overlap_views['${view}']=${f} must be in [0, 1)`);
  }
  for (const [view, t] of Object.entries(d.spacing_thresholds)) {
    if (!(t > 0)) throw studyError('invalid_design', `spacing_thresholds['${view}']=${t} must be positive`);
  }
  if (d.dose_list.length === 0) throw studyError('invalid_design', 'dose_list must not be empty');
  if (!d.dose_list.every((x) => x > 0)) throw studyError('invalid_design', `All doses must be positive, got ${JSON.stringify(d.dose_list)}`);
}

/** `StudyDesign.to_dict()`: exactly the nine fields (design.py:130-142). */
export function designToDict(d: StudyDesign): Record<string, unknown> {
  return {
    dose_list: [...d.dose_list],
    gridsizes: [...d.gridsizes],
    neighbor_count: d.neighbor_count,
    patch_size_pixels: d.patch_size_pixels,
    overlap_views: { ...d.overlap_views },
    spacing_thresholds: { ...d.spacing_thresholds },
    train_test_split_axis: d.train_test_split_axis,
    rng_seeds: { ...d.rng_seeds },
    metrics_config: { ...d.metrics_config },
  };
}
