/**
 * The run loop: the filtered jobs, in order (up to k at once), through a JobRunner (real training)
 * or the dry run, each result recorded, then `training_manifest.json` written. The app's train
 * worker, the CLI's full run, a SLURM task (`--job-index`) and the tests all call runStudy, with
 * different FileSource/ArtifactSink implementations and runners, so for the same inputs and filters
 * they write the same manifest (apart from timings).
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
import { buildManifest, jobFields, manifestJob, manifestPath, serializeManifest } from '../report/manifest';
import { studySummaryFiles } from '../report/summary';
import type { ManifestBackend, ManifestJob, TrainingManifest } from '../report/manifest';
import { pyJsonDumps } from '../report/pyjson';

/** The dry-run summary, in the reference's key order (E4 training.py:248-264): the job's fields, then dry_run. */
export type DryRunSummary = Omit<ManifestJob, 'result'> & { dry_run: true };

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
  backend?: ManifestBackend | string | null;
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
   * Write training_manifest.json and the study summary to the sink (default true). A caller that
   * writes them itself (the app's train worker, after every job) can turn this off.
   */
  writeManifest?: boolean;
  /** Jobs trained at once (default 1); the runner is then called that many times concurrently. */
  concurrency?: number;
  /** A result kept from before a resume: the job is recorded with it, neither announced nor run. */
  priorResult?: (job: TrainingJob, index: number) => Record<string, unknown> | undefined;
  /**
   * After each job that was run or recorded (not prior ones), before its job-end event, with the
   * entries finished so far in job order: the app stores the result and rewrites the manifest here.
   */
  onJobEnd?: (entry: ManifestJob, index: number, finished: ManifestJob[]) => Promise<void> | void;
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

/** What a lane of the loop does with one job: record it, or prepare and train it. */
interface LaneState {
  cancelled: boolean;
  failed: number;
  blocked: number;
  completed: number;
}

/**
 * Run the filtered jobs and write the manifest. Up to `concurrency` jobs train at once (the
 * runner is then called that many times concurrently: a pool of workers, src/lib/pipeline/pool.ts);
 * each job is still bridged into the study's legacy dict in job order, so params.json and the
 * manifest are the same whatever the concurrency, apart from timings. A job whose runner throws or
 * returns status 'failed' is recorded as failed with its error and the loop goes on; a blocked job
 * is recorded without running; a job with a prior result (a resumed run) is recorded with it; on
 * abort the running jobs are recorded as 'cancelled' and no other starts. Entries are in job order.
 * Returns without a manifest when there are no jobs (the reference writes none).
 */
export async function runStudy(opts: RunStudyOptions): Promise<StudyRunResult> {
  const { dryRun, sink, signal } = opts;
  if (!dryRun && !opts.runner) {
    throw new Error('Real training needs a JobRunner (the PtychoPINN runner); only a dry run can go without one.');
  }
  const bridge = opts.bridge ?? updateLegacyDict;
  const legacy = opts.legacy ?? makeLegacyParams();
  const inferN = opts.inferN ?? inferJobPatchSize;
  const emit = opts.onEvent ?? (() => {});
  const planned: PlannedJob[] = opts.jobs.map((j) => ('job' in j ? j : { job: j, blocked: false, reasons: [] }));
  const total = planned.length;
  const recorded: (ManifestJob | undefined)[] = new Array(total);
  const state: LaneState = { cancelled: false, failed: 0, blocked: 0, completed: 0 };
  const started: boolean[] = new Array(total).fill(false);

  if (total === 0) {
    return { manifest: null, manifestText: null, manifestPath: null, entries: [], cancelled: false, notRun: [] };
  }
  await sink.mkdir(opts.artifactRoot);
  emit({ type: 'study-start', total, dryRun });

  const finished = () => recorded.filter((e): e is ManifestJob => e !== undefined);
  // Jobs are bridged in job order: each lane appends its job's preparation to this chain when it
  // takes the job, and lanes take jobs in order.
  let prepared: Promise<unknown> = Promise.resolve();
  let next = 0;
  const lane = async (): Promise<void> => {
    for (;;) {
      if (state.cancelled || signal?.aborted) { state.cancelled = true; return; }
      const i = next++;
      if (i >= total) return;
      started[i] = true;
      const { job, blocked: isBlocked, reasons } = planned[i];
      const prior = opts.priorResult?.(job, i);
      if (prior) {
        recorded[i] = manifestJob(job, prior);
        continue;
      }
      const index = i + 1;
      emit({ type: 'job-start', index, total, job });
      let result: Record<string, unknown>;
      if (isBlocked) {
        state.blocked += 1;
        result = { status: 'blocked', error: `Blocked by validation errors: ${reasons.join(' | ')}`, errors: [...reasons] };
      } else if (dryRun) {
        const run = prepared.then(() => dryRunJob(job, sink));
        prepared = run.catch(() => undefined);
        result = { ...(await run) };
        state.completed += 1;
      } else {
        const prep = prepared.then(() => prepareRealJob(job, opts, legacy, bridge, inferN));
        prepared = prep.catch(() => undefined);
        result = await trainRealJob(job, prep, opts, index, emit);
        const status = result.status;
        if (status === 'cancelled') state.cancelled = true;
        else if (status === 'failed') state.failed += 1;
        else state.completed += 1;
      }
      const entry = manifestJob(job, result);
      recorded[i] = entry;
      await opts.onJobEnd?.(entry, i, finished());
      emit({ type: 'job-end', index, total, job, entry });
    }
  };
  const lanes = Math.max(1, Math.min(Math.floor(opts.concurrency ?? 1), total));
  await Promise.all(Array.from({ length: lanes }, lane));

  const entries = finished();
  const notRun = planned.filter((_, i) => !started[i]).map((p) => p.job);
  const { cancelled, completed, failed, blocked } = state;
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

interface PreparedJob {
  config: TrainingConfig;
  params: LegacyParams;
}

/** A job's directories, N, configs and bridge (CONFIG-001: exactly once per job, before the runner), and params.json. */
async function prepareRealJob(
  job: TrainingJob,
  opts: RunStudyOptions,
  legacy: LegacyParams,
  bridge: BridgeFn,
  inferN: (files: FileSource, path: string) => Promise<number>,
): Promise<PreparedJob> {
  const { sink, files } = opts;
  await prepareJobDirs(job, sink);
  const N = await inferN(files, job.train_data_path);
  const config = buildJobConfig(job, N, opts.configOverrides);
  bridge(legacy, config);
  const params: LegacyParams = { ...legacy };
  await sink.writeText(pyPathJoin(job.artifact_dir, PARAMS_NAME), pyJsonDumps(params, { floatKeys: LEGACY_FLOAT_KEYS }));
  return { config, params };
}

async function trainRealJob(
  job: TrainingJob,
  prepared: Promise<PreparedJob>,
  opts: RunStudyOptions,
  index: number,
  emit: (e: StudyEvent) => void,
): Promise<Record<string, unknown>> {
  const { sink, files, signal } = opts;
  const runner = opts.runner!;
  try {
    const { config, params } = await prepared;
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
