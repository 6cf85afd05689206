/**
 * TrainingJob construction with the reference's checks (`training.py:30-85` `TrainingJob`), the job matrix
 * (`build_training_jobs`, 3.2/3.3) with skip events, and the CLI filters (5.2).
 */
import type { TrainingJob, View } from './runner';
import { VIEWS, VIEW_GRIDSIZE, GRIDSIZES, isView } from './design';
import { studyError } from './errors';
import { parsePythonFloat, pyFloatRepr, pyPathJoin } from './pyformat';

export type { TrainingJob, View };

/** Anything that can say whether a POSIX path exists (a FileSource, a Set, the disk). */
export type PathExists = (path: string) => boolean;

/**
 * `TrainingJob(...)` with `__post_init__` (E4 training.py:58-85), checks in the reference's order:
 * view, baseline gridsize, overlap gridsize, train file exists, test file exists. Existence is
 * checked only when `exists` is given (tests construct jobs by hand, like the reference's T:320-337).
 * The reference's bad-view message embeds a Python set with unstable order (trap 8.28); ours is fixed.
 */
export function makeTrainingJob(fields: {
  dose: number;
  view: string;
  gridsize: number;
  train_data_path: string;
  test_data_path: string;
  artifact_dir: string;
  log_path: string;
}, exists?: PathExists): TrainingJob {
  const { view, gridsize } = fields;
  if (!isView(view)) {
    throw studyError('invalid_view', `Invalid view '${view}'. Expected one of: {'baseline', 'dense', 'sparse'}`);
  }
  if (view === 'baseline' && gridsize !== 1) {
    throw studyError('view_gridsize', `Baseline jobs must use gridsize=1, got ${gridsize}`);
  }
  if (view !== 'baseline' && gridsize !== 2) {
    throw studyError('view_gridsize', `Overlap jobs (${view}) must use gridsize=2, got ${gridsize}`);
  }
  if (exists) {
    if (!exists(fields.train_data_path)) {
      throw studyError('file_not_found', `Training dataset not found: ${fields.train_data_path}`, fields.train_data_path);
    }
    if (!exists(fields.test_data_path)) {
      throw studyError('file_not_found', `Test dataset not found: ${fields.test_data_path}`, fields.test_data_path);
    }
  }
  return { ...fields, view, gridsize: gridsize as 1 | 2 };
}

/** A view that could not be enumerated, with the reason (E5/LATEST skip event, LATEST `training.py:94-242`). */
export interface SkipEvent {
  dose: number;
  view: View;
  reason: string;
}

/** `dose_<int(dose)>` (E4 training.py:148-149). */
export function doseDirName(dose: number): string {
  return `dose_${Math.trunc(dose)}`;
}

/** `<artifact_root>/dose_<int>/<view>/gs<g>` (`training.py:88-176` `build_training_jobs`). */
export function artifactDirFor(artifactRoot: string, dose: number, view: View): string {
  return pyPathJoin(artifactRoot, doseDirName(dose), view, `gs${VIEW_GRIDSIZE[view]}`);
}

/** Where a split of a view may live, in order of preference (LATEST `training.py:195-204`; E4's flat `training.py:169-170`). */
export function phaseDCandidates(phaseDRoot: string, dose: number, view: Exclude<View, 'baseline'>, split: 'train' | 'test'): string[] {
  const dd = doseDirName(dose);
  return [
    pyPathJoin(phaseDRoot, dd, view, `${view}_${split}.npz`), // Phase D output, E5+ primary
    pyPathJoin(phaseDRoot, dd, view, `${split}.npz`),         // LATEST fallback (OVL-M writes train.npz/test.npz)
    pyPathJoin(phaseDRoot, dd, `${view}_${split}.npz`),       // the flat E4 form
  ];
}

export function phaseCPath(phaseCRoot: string, dose: number, split: 'train' | 'test'): string {
  return pyPathJoin(phaseCRoot, doseDirName(dose), `patched_${split}.npz`);
}

/**
 * The files a run reads beyond its jobs' own train and test files: each dose's Phase C test file,
 * whose scan positions are the common region every view of the dose is scored on
 * (src/lib/model/common-region.ts). Only those that `exists` says are there; none without a root.
 */
export function commonRegionPaths(phaseCRoot: string | null, jobs: readonly { dose: number }[], exists: PathExists): string[] {
  if (phaseCRoot === null) return [];
  return [...new Set(jobs.map((j) => phaseCPath(phaseCRoot, j.dose, 'test')))].filter(exists);
}

const pyBool = (b: boolean): string => (b ? 'True' : 'False');

export interface BuildJobsOptions {
  phaseCRoot: string | null;
  phaseDRoot: string | null;
  artifactRoot: string;
  exists: PathExists;
  /** Doses in enumeration order (default: the design's). */
  doses?: readonly number[];
}

export interface JobMatrix {
  jobs: TrainingJob[];
  skipped: SkipEvent[];
}

/**
 * `build_training_jobs` in the reference order (dose-major; baseline, dense, sparse).
 * Deliberate decisions (docs/decisions.md): a missing Phase D view is skipped with a reason that
 * contains "not found" (LATEST wording, plus the flat E4 form we also accept); missing Phase C
 * files skip that dose's baseline with a reason (the reference raises instead). Phase D files are
 * looked up per split in the order primary, fallback, flat.
 */
export function buildTrainingJobs(opts: BuildJobsOptions): JobMatrix {
  const { phaseCRoot, phaseDRoot, artifactRoot, exists } = opts;
  const doses = opts.doses ?? [1e3, 1e4, 1e5];
  const jobs: TrainingJob[] = [];
  const skipped: SkipEvent[] = [];
  for (const dose of doses) {
    for (const view of VIEWS) {
      const artifact_dir = artifactDirFor(artifactRoot, dose, view);
      const log_path = pyPathJoin(artifact_dir, 'train.log');
      let train: string | undefined;
      let test: string | undefined;
      let reason = '';
      if (view === 'baseline') {
        if (phaseCRoot === null) {
          reason = 'Phase C root not found in the data, so patched_train.npz/patched_test.npz were not found.';
        } else {
          const tr = phaseCPath(phaseCRoot, dose, 'train');
          const te = phaseCPath(phaseCRoot, dose, 'test');
          if (exists(tr) && exists(te)) { train = tr; test = te; } else {
            reason = `Phase C NPZ files not found (train=${pyBool(exists(tr))}, test=${pyBool(exists(te))}). ` +
              `Expected ${tr} and ${te}.`;
          }
        }
      } else if (phaseDRoot === null) {
        reason = `Phase D root not found in the data, so the ${view} view NPZ files were not found.`;
      } else {
        train = phaseDCandidates(phaseDRoot, dose, view, 'train').find(exists);
        test = phaseDCandidates(phaseDRoot, dose, view, 'test').find(exists);
        if (train === undefined || test === undefined) {
          reason = `NPZ files not found (train=${pyBool(train !== undefined)}, test=${pyBool(test !== undefined)}). ` +
            `Checked primary (${view}_train.npz/${view}_test.npz), fallback (train.npz/test.npz) and ` +
            `flat (${doseDirName(dose)}/${view}_train.npz/${view}_test.npz).`;
        }
      }
      if (train === undefined || test === undefined) {
        skipped.push({ dose, view, reason });
        continue;
      }
      jobs.push(makeTrainingJob({
        dose, view, gridsize: VIEW_GRIDSIZE[view],
        train_data_path: train, test_data_path: test, artifact_dir, log_path,
      }, exists));
    }
  }
  return { jobs, skipped };
}

/** Filters as the user gives them: dose as a number or text (`1000`, `1e3`, `1000.0`). */
export interface StudyFilters {
  dose?: number | string | null;
  view?: string | null;
  gridsize?: number | string | null;
}

/** Filters after parsing: what the manifest's `filters` object holds. */
export interface ParsedFilters {
  dose: number | null;
  view: View | null;
  gridsize: 1 | 2 | null;
}

export interface FilterStep {
  name: 'dose' | 'view' | 'gridsize';
  value: number | string;
  remaining: number;
}

export interface AvailableValues {
  doses: number[];
  views: View[];
  gridsizes: number[];
}

export interface FilterOutcome {
  filters: ParsedFilters;
  jobs: TrainingJob[];
  steps: FilterStep[];
  /** Present when filters were given and nothing matched: what does exist, and a sentence. */
  empty: { available: AvailableValues; message: string } | null;
}

/** Parse user filter values; throws StudyError('invalid_filter') for text Python/argparse would reject. */
export function parseFilters(f: StudyFilters = {}): ParsedFilters {
  let dose: number | null = null;
  if (f.dose !== undefined && f.dose !== null && f.dose !== '') {
    const d = typeof f.dose === 'number' ? f.dose : parsePythonFloat(f.dose);
    if (d === undefined) throw studyError('invalid_filter', `invalid float value: '${String(f.dose)}'`);
    dose = d;
  }
  let view: View | null = null;
  if (f.view !== undefined && f.view !== null && f.view !== '') {
    if (!isView(f.view)) throw studyError('invalid_filter', `invalid choice: '${f.view}' (choose from 'baseline', 'dense', 'sparse')`);
    view = f.view;
  }
  let gridsize: 1 | 2 | null = null;
  if (f.gridsize !== undefined && f.gridsize !== null && f.gridsize !== '') {
    const g = typeof f.gridsize === 'number' ? f.gridsize : /^\s*[+-]?\d+\s*$/.test(f.gridsize) ? Number(f.gridsize) : NaN;
    if (Number.isNaN(g)) throw studyError('invalid_filter', `invalid int value: '${String(f.gridsize)}'`);
    if (g !== 1 && g !== 2) throw studyError('invalid_filter', `invalid choice: ${g} (choose from 1, 2)`);
    gridsize = g;
  }
  return { dose, view, gridsize };
}

export function availableValues(jobs: readonly TrainingJob[]): AvailableValues {
  const doses = [...new Set(jobs.map((j) => j.dose))];
  const views = VIEWS.filter((v) => jobs.some((j) => j.view === v));
  const gridsizes = GRIDSIZES.filter((g) => jobs.some((j) => j.gridsize === g));
  return { doses, views, gridsizes };
}

/** The sentence for an empty match (our decision: say so and list the values that exist). */
export function describeEmptyMatch(filters: ParsedFilters, available: AvailableValues): string {
  const given: string[] = [];
  if (filters.dose !== null) given.push(`dose=${pyFloatRepr(filters.dose)}`);
  if (filters.view !== null) given.push(`view=${filters.view}`);
  if (filters.gridsize !== null) given.push(`gridsize=${filters.gridsize}`);
  const list = (xs: readonly (string | number)[]) => (xs.length ? xs.join(', ') : '(none)');
  if (given.length === 0) return 'No training jobs could be enumerated from the data (see the skipped views).';
  return `No jobs match the specified filters (${given.join(', ')}). ` +
    `Available: dose ${list(available.doses.map(pyFloatRepr))}; view ${list(available.views)}; ` +
    `gridsize ${list(available.gridsizes)}.`;
}

/**
 * Apply filters in the reference order dose -> view -> gridsize (E4 training.py:405-416), each
 * only when given, recording `{name, value, remaining}`. Dose matching is exact numeric equality
 * after parsing (`1000`, `1e3`, `1000.0` match 1000; `999.9999` matches nothing). Order is preserved.
 */
export function filterJobs<J extends { job: TrainingJob } | TrainingJob>(
  items: readonly J[],
  filters: StudyFilters | ParsedFilters = {},
): { filters: ParsedFilters; items: J[]; steps: FilterStep[]; empty: FilterOutcome['empty'] } {
  const parsed = parseFilters(filters);
  const jobOf = (x: J): TrainingJob => ('job' in x ? x.job : x);
  let out = [...items];
  const steps: FilterStep[] = [];
  if (parsed.dose !== null) {
    const d = parsed.dose;
    out = out.filter((x) => jobOf(x).dose === d);
    steps.push({ name: 'dose', value: d, remaining: out.length });
  }
  if (parsed.view !== null) {
    const v = parsed.view;
    out = out.filter((x) => jobOf(x).view === v);
    steps.push({ name: 'view', value: v, remaining: out.length });
  }
  if (parsed.gridsize !== null) {
    const g = parsed.gridsize;
    out = out.filter((x) => jobOf(x).gridsize === g);
    steps.push({ name: 'gridsize', value: g, remaining: out.length });
  }
  let empty: FilterOutcome['empty'] = null;
  if (out.length === 0) {
    const available = availableValues(items.map(jobOf));
    empty = { available, message: describeEmptyMatch(parsed, available) };
  }
  return { filters: parsed, items: out, steps, empty };
}
