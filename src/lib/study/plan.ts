/**
 * Planning a study from dropped files: detect the tree, enumerate the job matrix, validate the
 * files the jobs need, mark jobs blocked by validation errors, apply the filters. This is what
 * the plan worker runs (src/workers/plan.worker.ts) and what the CLI runs on files from disk, so
 * both produce the same jobs for the same inputs. Pure: no DOM, no Node APIs.
 */
import type { ContractIssue } from '../contract/issues';
import { isIngestError } from '../ingest/types';
import type { DatasetReport } from '../contract/types';
import type { FileSource, TrainingJob } from './runner';
import { DESIGN_DOSES } from './design';
import { buildTrainingJobs, filterJobs } from './jobs';
import type { FilterStep, ParsedFilters, SkipEvent, StudyFilters, AvailableValues } from './jobs';
import { detectTree, normaliseDroppedPath } from './tree';
import type { DetectedTree } from './tree';

/**
 * One dropped file: its relative POSIX path and its bytes (a File is a Blob), or a function that
 * opens it on demand (the CLI, so only the files a job needs are opened).
 */
export interface PlanInputFile {
  path: string;
  blob: Blob | (() => Promise<Blob>);
}

async function blobOf(b: Blob | (() => Promise<Blob>)): Promise<Blob> {
  return typeof b === 'function' ? b() : b;
}

/** Opens one NPZ and runs the data contract on it (the app and the CLI: inspectNpz, src/lib/study/inspect.ts). */
export type DatasetInspector = (file: string, blob: Blob, opts: { gridsize: 1 | 2 }) => Promise<DatasetReport>;

/** The artifact root the app uses (the CLI takes --artifact-root); manifest paths are relative to the drop. */
export const DEFAULT_ARTIFACT_ROOT = 'artifacts';

export type PlanProgress =
  | { status: 'detected'; files: number }
  | { status: 'validating'; done: number; total: number; file: string }
  | { status: 'validated'; total: number };

export interface PlanOptions {
  filters?: StudyFilters;
  artifactRoot?: string;
  /** Explicit roots (the CLI's flags, or the user's choice when detection is ambiguous). */
  phaseCRoot?: string | null;
  phaseDRoot?: string | null;
  /** Dose list override; default: the doses present in the data, else the design's (see resolveDoses). */
  doses?: readonly number[];
  /** How to validate a file; required unless validate is 'none'. */
  inspect?: DatasetInspector;
  /**
   * Which files to validate: all files any job needs (the app's report), only the selected jobs'
   * (the CLI), only the K-th selected job's (a cluster task, `--job-index K`), or none.
   */
  validate?: 'all' | 'selected' | 'none' | { selectedIndex: number };
  onProgress?: (p: PlanProgress) => void;
  signal?: AbortSignal;
}

export interface PlannedJob {
  job: TrainingJob;
  /** True when a file this job needs failed validation; such a job is never run. */
  blocked: boolean;
  /** The validation errors that block it (messages name the file and key). */
  reasons: string[];
  /** Pattern size from the training file's header, when validated. */
  N?: number;
  /** Scan positions in the training file, when validated (the groups a job can form: trainingBudget). */
  trainPositions?: number;
  /** Scan positions in the test file, when validated (the groups reconstructed and scored: src/lib/model/estimate.ts). */
  testPositions?: number;
}

export interface StudyPlan {
  tree: DetectedTree;
  phaseCRoot: string | null;
  phaseDRoot: string | null;
  artifactRoot: string;
  doses: number[];
  dosesFrom: 'data' | 'design' | 'option';
  /** Design doses (1e3, 1e4, 1e5) with no data, when the dose list came from the data. */
  absentDesignDoses: number[];
  /** Every enumerated job, in reference order. */
  jobs: PlannedJob[];
  skipped: SkipEvent[];
  /** One report per validated file, in the order the jobs need them. */
  reports: DatasetReport[];
  filters: ParsedFilters;
  steps: FilterStep[];
  /** The jobs left after the filters, in reference order. */
  selected: PlannedJob[];
  /** Set when nothing is selected: the values that do exist and a sentence saying so. */
  empty: { available: AvailableValues; message: string } | null;
  /** Problems that stop planning (ambiguous roots); jobs is empty when there are any. */
  blocking: string[];
  /** Non-blocking notes (a missing root, design doses without data). */
  notes: string[];
}

/**
 * The dose list (docs/decisions.md, "Doses are those present in the data (else the design's 1e3, 1e4, 1e5)"): when the
 * chosen roots hold `dose_<int>` folders with study files, the doses present in either root,
 * ascending; otherwise the design's doses. A design dose absent from the data is noted, not
 * skipped, so a custom-dose study does not produce nine skip events for doses it never had.
 */
export function resolveDoses(tree: DetectedTree, override?: readonly number[]): {
  doses: number[]; from: StudyPlan['dosesFrom']; absentDesign: number[];
} {
  if (override && override.length) return { doses: [...override], from: 'option', absentDesign: [] };
  const present = [...new Set([...tree.phaseCDoses, ...tree.phaseDDoses])].sort((a, b) => a - b);
  if (present.length === 0) return { doses: [...DESIGN_DOSES], from: 'design', absentDesign: [] };
  return { doses: present, from: 'data', absentDesign: DESIGN_DOSES.filter((d) => !present.includes(d)) };
}

function unreadableReport(file: string, err: unknown): DatasetReport {
  // An IngestError's message starts with the file name, which the sentence already gives.
  const detail = isIngestError(err) ? (err.member === undefined ? err.detail : `member '${err.member}': ${err.detail}`)
    : err instanceof Error ? err.message : String(err);
  const issue: ContractIssue = {
    severity: 'error',
    code: 'unreadable',
    file,
    key: '',
    found: detail,
    expected: 'a readable NPZ file',
    message: `${file}: could not be read as an NPZ file (${detail}).`,
  };
  return { file, ok: false, errors: [issue], warnings: [], keys: [] };
}

/** A FileSource over dropped files (the app's; the CLI uses the disk). */
export function memoryFileSource(files: readonly PlanInputFile[]): FileSource {
  const map = new Map<string, Blob | (() => Promise<Blob>)>();
  for (const f of files) {
    const p = normaliseDroppedPath(f.path);
    if (p !== undefined) map.set(p, f.blob);
  }
  return {
    has: (p) => map.has(p),
    get: async (p) => {
      const b = map.get(p);
      if (!b) throw new Error(`File not found among the dropped files: ${p}`);
      return blobOf(b);
    },
  };
}

/**
 * Plan a study. Paths are used as given (normalised like Python's Path), so manifest paths stay
 * relative to what the user dropped. Validation errors block only the jobs that need the file.
 */
export async function planStudy(files: readonly PlanInputFile[], opts: PlanOptions = {}): Promise<StudyPlan> {
  const artifactRoot = opts.artifactRoot ?? DEFAULT_ARTIFACT_ROOT;
  const tree = detectTree(files.map((f) => f.path), { phaseCRoot: opts.phaseCRoot, phaseDRoot: opts.phaseDRoot });
  opts.onProgress?.({ status: 'detected', files: tree.paths.length });
  const byPath = new Map<string, Blob | (() => Promise<Blob>)>();
  for (const f of files) {
    const p = normaliseDroppedPath(f.path);
    if (p !== undefined) byPath.set(p, f.blob);
  }
  const exists = (p: string) => byPath.has(p);

  const blocking = tree.issues.filter((i) => i.severity === 'error').map((i) => i.message);
  const notes = tree.issues.filter((i) => i.severity !== 'error').map((i) => i.message);
  const { doses, from, absentDesign } = resolveDoses(tree, opts.doses);
  if (absentDesign.length) {
    notes.push(`Design dose(s) ${absentDesign.join(', ')} have no data in the dropped files; planning the doses present: ${doses.join(', ')}.`);
  }

  const base = {
    tree, phaseCRoot: tree.phaseCRoot, phaseDRoot: tree.phaseDRoot, artifactRoot,
    doses, dosesFrom: from, absentDesignDoses: absentDesign, blocking, notes,
  };
  if (blocking.length) {
    const f = filterJobs<PlannedJob>([], opts.filters);
    return { ...base, jobs: [], skipped: [], reports: [], filters: f.filters, steps: f.steps, selected: [], empty: f.empty };
  }

  const matrix = buildTrainingJobs({ phaseCRoot: tree.phaseCRoot, phaseDRoot: tree.phaseDRoot, artifactRoot, exists, doses });
  const jobs: PlannedJob[] = matrix.jobs.map((job) => ({ job, blocked: false, reasons: [] }));
  const f = filterJobs(jobs, opts.filters);

  const mode = opts.validate ?? 'all';
  const reports: DatasetReport[] = [];
  if (mode !== 'none') {
    if (!opts.inspect) throw new Error('planStudy: validation needs an inspect function (or validate: "none")');
    const toCheck = new Map<string, 1 | 2>();
    const toValidate = mode === 'all' ? jobs : mode === 'selected' ? f.items
      : f.items.slice(mode.selectedIndex, mode.selectedIndex + 1);
    for (const pj of toValidate) {
      toCheck.set(pj.job.train_data_path, pj.job.gridsize);
      toCheck.set(pj.job.test_data_path, pj.job.gridsize);
    }
    const byFile = new Map<string, DatasetReport>();
    let done = 0;
    for (const [file, gridsize] of toCheck) {
      opts.signal?.throwIfAborted();
      opts.onProgress?.({ status: 'validating', done, total: toCheck.size, file });
      let report: DatasetReport;
      try {
        report = await opts.inspect(file, await blobOf(byPath.get(file)!), { gridsize });
      } catch (err) {
        report = unreadableReport(file, err);
      }
      byFile.set(file, report);
      reports.push(report);
      done += 1;
    }
    opts.onProgress?.({ status: 'validated', total: toCheck.size });
    for (const pj of jobs) {
      const tr = byFile.get(pj.job.train_data_path);
      const te = byFile.get(pj.job.test_data_path);
      for (const r of [tr, te]) {
        if (r && !r.ok) {
          pj.blocked = true;
          for (const e of r.errors) pj.reasons.push(e.message);
        }
      }
      if (tr?.N !== undefined) pj.N = tr.N;
      if (tr?.nPositions !== undefined) pj.trainPositions = tr.nPositions;
      if (te?.nPositions !== undefined) pj.testPositions = te.nPositions;
    }
  }
  return { ...base, jobs, skipped: matrix.skipped, reports, filters: f.filters, steps: f.steps, selected: f.items, empty: f.empty };
}

/**
 * Apply new filters to an existing plan without touching the files again (the UI's filter
 * controls). Pure and cheap; throws StudyError('invalid_filter') for unparsable values.
 */
export function refilterPlan(plan: StudyPlan, filters: StudyFilters): StudyPlan {
  const f = filterJobs(plan.jobs, filters);
  return { ...plan, filters: f.filters, steps: f.steps, selected: f.items, empty: f.empty };
}
