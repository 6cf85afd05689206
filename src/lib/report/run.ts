/**
 * The run loop: the filtered jobs, in order, through a JobRunner (real training) or the dry run,
 * each result recorded, then `training_manifest.json` written. The app and the CLI both call
 * runStudy, with different FileSource/ArtifactSink implementations, so for the same inputs and
 * filters they write the same manifest (apart from the timestamp).
 *
 * Per job (E4 `training.py:179-287` `run_training_job`, with LATEST's N inference, `training.py:248-274`):
 *   mkdir artifact dir; touch train.log (never truncating);
 *   dry run: overwrite train.log with the three reference lines, no config, no bridge;
 *   real: infer N from the training file, build ModelConfig/TrainingConfig (gridsize from the
 *   view, nphotons = dose, output_dir = artifact dir), bridge exactly once into the study run's
 *   legacy dict, save it as params.json, call the runner.
 */
import {
  makeLegacyParams, makeModelConfig, MODEL_DEFAULTS, makeTrainingConfig, updateLegacyDict, LEGACY_FLOAT_KEYS,
} from '../config/config';
import type { BridgeFn, LegacyParams, ModelConfig, TrainingConfig } from '../config/config';
import type { ParsedFilters, SkipEvent } from '../study/jobs';
import type { PlannedJob } from '../study/plan';
import { inferJobPatchSize } from '../study/inspect';
import { pyFloatRepr, pyPathJoin } from '../study/pyformat';
import type {
  ArtifactSink, FileSource, JobRunner, RunnerProgress, RunnerResult, TrainingJob,
} from '../study/runner';
import { buildManifest, jobFields, manifestJob, manifestPath, serializeManifest } from './manifest';
import { studySummaryFiles } from './summary';
import type { ManifestJob, TrainingManifest } from './manifest';
import { pyJsonDumps } from './pyjson';

/** The dry-run summary, in the reference's key order (E4 training.py:248-264). */
export interface DryRunSummary {
  dose: number;
  view: string;
  gridsize: number;
  train_data_path: string;
  test_data_path: string;
  log_path: string;
  artifact_dir: string;
  dry_run: true;
}

/** The reference's three-line dry-run train.log (dose printed with Python str: 1000.0). */
export function dryRunLog(job: TrainingJob): string {
  return `DRY RUN: ${job.view} dose=${pyFloatRepr(job.dose)} gridsize=${job.gridsize}\n` +
    `Train: ${job.train_data_path}\n` +
    `Test: ${job.test_data_path}\n`;
}

async function prepareJobDirs(job: TrainingJob, sink: ArtifactSink): Promise<void> {
  await sink.mkdir(job.artifact_dir);
  const slash = job.log_path.lastIndexOf('/');
  if (slash > 0) await sink.mkdir(job.log_path.slice(0, slash));
  // touch(exist_ok=True): create empty, never truncate
  if (!(await sink.exists(job.log_path))) await sink.writeText(job.log_path, '');
}

/** Run one job as a dry run: writes the three-line log and returns the summary. Never bridges. */
export async function dryRunJob(job: TrainingJob, sink: ArtifactSink): Promise<DryRunSummary> {
  await prepareJobDirs(job, sink);
  await sink.writeText(job.log_path, dryRunLog(job));
  return { ...jobFields(job), dry_run: true };
}

/** User-chosen settings (presets, edits) applied to every job's configs before the job's own fields. */
export interface ConfigOverrides {
  model?: Partial<ModelConfig>;
  training?: Partial<Omit<TrainingConfig, 'model'>>;
}

/** A job's configs (E4 step 4-5): job fields win over overrides; N is the inferred patch size. */
export function buildJobConfig(job: TrainingJob, N: number, overrides: ConfigOverrides = {}): TrainingConfig {
  const model = makeModelConfig({
    ...overrides.model,
    gridsize: job.gridsize,
    N,
  });
  return makeTrainingConfig({
    ...overrides.training,
    train_data_file: job.train_data_path,
    test_data_file: job.test_data_path,
    output_dir: job.artifact_dir,
    model,
    nphotons: job.dose,
  });
}

export const PARAMS_NAME = 'params.json';

export type StudyEvent =
  | { type: 'study-start'; total: number; dryRun: boolean }
  | { type: 'job-start'; index: number; total: number; job: TrainingJob }
  | { type: 'job-progress'; index: number; job: TrainingJob; progress: RunnerProgress }
  | { type: 'job-end'; index: number; total: number; job: TrainingJob; entry: ManifestJob }
  | { type: 'manifest'; path: string; text: string }
  | { type: 'study-end'; cancelled: boolean; completed: number; failed: number; blocked: number };

export interface RunStudyOptions {
  /** The filtered jobs, in order (PlannedJob from planStudy, or bare jobs which are never blocked). */
  jobs: readonly (PlannedJob | TrainingJob)[];
  dryRun: boolean;
  /** Required unless dryRun. */
  runner?: JobRunner;
  files: FileSource;
  sink: ArtifactSink;
  phaseCRoot: string | null;
  phaseDRoot: string | null;
  artifactRoot: string;
  filters: ParsedFilters;
  skipped?: readonly SkipEvent[];
  /** The training backend ('webgpu', 'cpu', ...) for the manifest; null for a dry run. */
  backend?: string | null;
  configOverrides?: ConfigOverrides;
  /** The bridge (default updateLegacyDict); injectable so a test can count calls. */
  bridge?: BridgeFn;
  /** The study run's legacy dict (default a fresh copy of DEFAULT_CFG); values persist across its jobs. */
  legacy?: LegacyParams;
  /** N for a job (default: LATEST _infer_patch_size on the training file). */
  inferN?: (files: FileSource, path: string) => Promise<number>;
  signal?: AbortSignal;
  onEvent?: (e: StudyEvent) => void;
  /** Clock in epoch ms for the manifest timestamp (default performance.timeOrigin + performance.now()). */
  now?: () => number;
  /** Extra result keys whose numbers are floats in the manifest. */
  floatKeys?: readonly string[];
  /**
   * Write training_manifest.json to the sink (default true). A caller that runs one job per call
   * and assembles the manifest itself (the app's resumable train worker) can turn this off.
   */
  writeManifest?: boolean;
}

export interface StudyRunResult {
  manifest: TrainingManifest | null;
  manifestText: string | null;
  manifestPath: string | null;
  entries: ManifestJob[];
  cancelled: boolean;
  /** Jobs that were never started because the run was cancelled. */
  notRun: TrainingJob[];
}

function defaultNow(): number {
  return performance.timeOrigin + performance.now();
}

function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

function isAbort(err: unknown, signal?: AbortSignal): boolean {
  return (signal?.aborted ?? false) || (err instanceof Error && err.name === 'AbortError');
}

/**
 * Run the filtered jobs in order and write the manifest. A job whose runner throws or returns
 * status 'failed' is recorded as failed with its error and the loop goes on; a blocked job is
 * recorded without running; on abort the running job is recorded as 'cancelled' and the loop
 * stops. Returns without a manifest when there are no jobs (the reference writes none).
 */
export async function runStudy(opts: RunStudyOptions): Promise<StudyRunResult> {
  const { dryRun, files, sink, signal } = opts;
  if (!dryRun && !opts.runner) {
    throw new Error('Real training needs a JobRunner (the PtychoPINN runner); only a dry run can go without one.');
  }
  const bridge = opts.bridge ?? updateLegacyDict;
  const legacy = opts.legacy ?? makeLegacyParams();
  const inferN = opts.inferN ?? inferJobPatchSize;
  const emit = opts.onEvent ?? (() => {});
  const planned: PlannedJob[] = opts.jobs.map((j) => ('job' in j ? j : { job: j, blocked: false, reasons: [] }));
  const total = planned.length;
  const entries: ManifestJob[] = [];
  let cancelled = false;
  let failed = 0;
  let blocked = 0;
  let completed = 0;
  const notRun: TrainingJob[] = [];

  if (total === 0) {
    return { manifest: null, manifestText: null, manifestPath: null, entries, cancelled: false, notRun };
  }
  await sink.mkdir(opts.artifactRoot);
  emit({ type: 'study-start', total, dryRun });

  for (let i = 0; i < total; i++) {
    const { job, blocked: isBlocked, reasons } = planned[i];
    if (cancelled || signal?.aborted) {
      cancelled = true;
      notRun.push(job);
      continue;
    }
    const index = i + 1;
    emit({ type: 'job-start', index, total, job });
    let result: Record<string, unknown>;
    if (isBlocked) {
      blocked += 1;
      result = { status: 'blocked', error: `Blocked by validation errors: ${reasons.join(' | ')}`, errors: [...reasons] };
    } else if (dryRun) {
      result = { ...(await dryRunJob(job, sink)) };
      completed += 1;
    } else {
      result = await runRealJob(job, opts, legacy, bridge, inferN, index, emit);
      const status = result.status;
      if (status === 'cancelled') cancelled = true;
      else if (status === 'failed') failed += 1;
      else completed += 1;
    }
    const entry = manifestJob(job, result);
    entries.push(entry);
    emit({ type: 'job-end', index, total, job, entry });
  }

  const manifest = buildManifest({
    now: (opts.now ?? defaultNow)(),
    phaseCRoot: opts.phaseCRoot,
    phaseDRoot: opts.phaseDRoot,
    artifactRoot: opts.artifactRoot,
    filters: opts.filters,
    dryRun,
    jobs: entries,
    skipped: opts.skipped ?? [],
    backend: dryRun ? null : (opts.backend ?? null),
  });
  const manifestText = serializeManifest(manifest, opts.floatKeys);
  const path = manifestPath(opts.artifactRoot);
  if (opts.writeManifest ?? true) {
    await sink.writeText(path, manifestText);
    emit({ type: 'manifest', path, text: manifestText });
    // the study's answer: scores per dose x view (study_summary.json / .csv, docs/quality.md)
    if (!dryRun) for (const f of studySummaryFiles(opts.artifactRoot, entries)) await sink.writeText(f.path, f.text);
  }
  emit({ type: 'study-end', cancelled, completed, failed, blocked });
  return { manifest, manifestText, manifestPath: path, entries, cancelled, notRun };
}

async function runRealJob(
  job: TrainingJob,
  opts: RunStudyOptions,
  legacy: LegacyParams,
  bridge: BridgeFn,
  inferN: (files: FileSource, path: string) => Promise<number>,
  index: number,
  emit: (e: StudyEvent) => void,
): Promise<Record<string, unknown>> {
  const { sink, files, signal } = opts;
  const runner = opts.runner!;
  try {
    await prepareJobDirs(job, sink);
    const N = await inferN(files, job.train_data_path);
    const config = buildJobConfig(job, N, opts.configOverrides);
    bridge(legacy, config); // CONFIG-001: exactly once per job, before the runner
    const params: LegacyParams = { ...legacy };
    await sink.writeText(pyPathJoin(job.artifact_dir, PARAMS_NAME), pyJsonDumps(params, { floatKeys: LEGACY_FLOAT_KEYS }));
    signal?.throwIfAborted();
    const r: RunnerResult = await runner({
      job, config, params, files, sink, signal, phaseCRoot: opts.phaseCRoot,
      onProgress: (progress) => emit({ type: 'job-progress', index, job, progress }),
    });
    const result: Record<string, unknown> = { ...r };
    if (r.status !== 'success' && r.status !== 'failed' && r.status !== 'cancelled') {
      return { ...result, status: 'failed', error: `Runner returned an unknown status: ${String(r.status)}` };
    }
    if (r.status !== 'success' && signal?.aborted) result.status = 'cancelled';
    return result;
  } catch (err) {
    if (isAbort(err, signal)) return { status: 'cancelled', error: errorText(err) };
    return { status: 'failed', error: errorText(err) };
  }
}
