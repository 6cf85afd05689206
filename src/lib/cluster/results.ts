/**
 * One job per process, results merged (docs/cluster.md). A task that runs the K-th selected job
 * writes `<artifact_dir>/result.json`: that job's manifest entry, exactly as runStudy makes it,
 * wrapped with the task's facts (index, backend). The merge reads every selected job's
 * result.json and builds the one training_manifest.json in manifest order, with the same schema
 * as a single-process run; a job without a usable result.json is kept with
 * `result.status: "missing"` and the reason. The entry is copied as written (generic: whatever
 * keys a runner adds travel through).
 */
import type { ParsedFilters, SkipEvent } from '../study/jobs';
import type { ArtifactSink, TrainingJob } from '../study/runner';
import { pyPathJoin, pyUtcIsoTimestamp } from '../study/pyformat';
import { buildManifest, jobFields, MANIFEST_FLOAT_KEYS, serializeManifest } from '../report/manifest';
import type { ManifestJob, TrainingManifest } from '../report/manifest';
import { pyJsonDumps } from '../report/pyjson';

export const JOB_RESULT_NAME = 'result.json';

/** What a `--job-index` task writes (atomically) into its job's artifact dir. */
export interface JobResultFile {
  /** The job's 0-based index among the selected jobs. */
  job_index: number;
  /** How many jobs the filters selected when the task ran. */
  jobs_selected: number;
  dry_run: boolean;
  /** The tfjs backend the task trained on; null for a dry run. */
  backend: string | null;
  written_at: string;
  /** The job's manifest entry, exactly as a single-process run writes it into training_manifest.json. */
  entry: ManifestJob;
}

export function jobResultPath(job: TrainingJob): string {
  return pyPathJoin(job.artifact_dir, JOB_RESULT_NAME);
}

export function serializeJobResult(r: JobResultFile): string {
  return pyJsonDumps(r, { indent: 2, floatKeys: MANIFEST_FLOAT_KEYS }) + '\n';
}

/**
 * JSON.parse plus the three non-JSON tokens Python's json writes for floats (NaN, Infinity,
 * -Infinity), which a failed job's loss history can hold. Tokens inside strings are left alone.
 */
export function parsePyJson(text: string): unknown {
  const marks: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
  const tag = '\u0000pyjson:';
  let out = '';
  let inString = false;
  let replaced = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') { out += text[i + 1] ?? ''; i += 1; } else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') { inString = true; out += c; continue; }
    const m = /^(-Infinity|Infinity|NaN)/.exec(text.slice(i, i + 9));
    if (m) {
      out += JSON.stringify(tag + m[1]);
      i += m[1].length - 1;
      replaced = true;
      continue;
    }
    out += c;
  }
  if (!replaced) return JSON.parse(text);
  return JSON.parse(out, (_k, v: unknown) => (typeof v === 'string' && v.startsWith(tag) ? marks[v.slice(tag.length)] : v));
}

const JOB_KEYS = ['dose', 'view', 'gridsize', 'train_data_path', 'test_data_path', 'log_path', 'artifact_dir'] as const;

/** What a job's result.json says, as far as the merge and --only-missing are concerned. */
export type JobResultState =
  | { state: 'ok'; file: JobResultFile }
  | { state: 'absent'; reason: string }
  | { state: 'invalid'; reason: string };

const decoder = new TextDecoder();

/** Read and check one job's result.json: readable, the same job (fields), the same kind of run. */
export async function readJobResult(job: TrainingJob, sink: ArtifactSink, dryRun: boolean): Promise<JobResultState> {
  const path = jobResultPath(job);
  const bytes = await sink.readBytes(path);
  if (bytes === undefined) {
    return { state: 'absent', reason: `No ${JOB_RESULT_NAME} in ${job.artifact_dir}: the job's task never finished (not run, cancelled, killed or out of time); see its train.log and the task's SLURM log.` };
  }
  let parsed: unknown;
  try {
    parsed = parsePyJson(decoder.decode(bytes));
  } catch (err) {
    return { state: 'invalid', reason: `${path} is not valid JSON (${err instanceof Error ? err.message : String(err)}).` };
  }
  const r = parsed as Partial<JobResultFile> | null;
  const entry = r && typeof r === 'object' ? r.entry : undefined;
  if (!entry || typeof entry !== 'object' || !entry.result || typeof entry.result !== 'object') {
    return { state: 'invalid', reason: `${path} has no job entry with a result.` };
  }
  const expected = jobFields(job) as unknown as Record<string, unknown>;
  const got = entry as unknown as Record<string, unknown>;
  const differ = JOB_KEYS.filter((k) => got[k] !== expected[k]);
  if (differ.length) {
    return { state: 'invalid', reason: `${path} belongs to another job or study (${differ.map((k) => `${k} ${JSON.stringify(got[k])} instead of ${JSON.stringify(expected[k])}`).join(', ')}).` };
  }
  if ((r!.dry_run === true) !== dryRun) {
    return { state: 'invalid', reason: `${path} is from a ${r!.dry_run ? 'dry' : 'real'} run, this is a ${dryRun ? 'dry' : 'real'} one.` };
  }
  return { state: 'ok', file: r as JobResultFile };
}

/** A job's status word for counts: the result's status, 'dry_run' for a dry-run summary. */
export function entryStatus(result: Record<string, unknown>): string {
  if (typeof result.status === 'string') return result.status;
  if (result.dry_run === true) return 'dry_run';
  return 'unknown';
}

/** Finished for good: a real run's success, or a dry run's summary. */
export function isFinished(s: JobResultState): boolean {
  if (s.state !== 'ok') return false;
  const st = entryStatus(s.file.entry.result);
  return st === 'success' || st === 'dry_run';
}

export interface MergeInput {
  /** The selected jobs, in manifest order (the same planning and filters as the tasks). */
  jobs: readonly TrainingJob[];
  sink: ArtifactSink;
  dryRun: boolean;
  phaseCRoot: string | null;
  phaseDRoot: string | null;
  artifactRoot: string;
  filters: ParsedFilters;
  skipped: readonly SkipEvent[];
  /** Epoch ms for the manifest timestamp. */
  now: number;
}

export interface MergeResult {
  manifest: TrainingManifest;
  text: string;
  /** How many selected jobs had a usable result.json. */
  found: number;
  /** Jobs per status, in first-seen order (success, failed, blocked, cancelled, missing, ...). */
  counts: [string, number][];
  states: JobResultState[];
}

/**
 * Build the merged manifest. Entries are the result.json entries as written; a job without one
 * (or with an unusable one) gets `{status: 'missing', error: <reason>}`. `backend` is the tasks'
 * backend (several, comma-joined, if tasks differed); null for a dry run.
 */
export async function mergeJobResults(input: MergeInput): Promise<MergeResult> {
  const states: JobResultState[] = [];
  const entries: ManifestJob[] = [];
  const backends: string[] = [];
  for (const job of input.jobs) {
    const s = await readJobResult(job, input.sink, input.dryRun);
    states.push(s);
    if (s.state === 'ok') {
      entries.push(s.file.entry);
      if (typeof s.file.backend === 'string' && !backends.includes(s.file.backend)) backends.push(s.file.backend);
    } else {
      entries.push({ ...jobFields(job), result: { status: 'missing', error: s.reason } });
    }
  }
  const manifest = buildManifest({
    now: input.now,
    phaseCRoot: input.phaseCRoot,
    phaseDRoot: input.phaseDRoot,
    artifactRoot: input.artifactRoot,
    filters: input.filters,
    dryRun: input.dryRun,
    jobs: entries,
    skipped: input.skipped,
    backend: input.dryRun || backends.length === 0 ? null : backends.join(','),
  });
  const counts = new Map<string, number>();
  for (const e of entries) {
    const st = entryStatus(e.result);
    counts.set(st, (counts.get(st) ?? 0) + 1);
  }
  return {
    manifest,
    text: serializeManifest(manifest),
    found: states.filter((s) => s.state === 'ok').length,
    counts: [...counts],
    states,
  };
}

/** The result.json a task writes for its job. */
export function makeJobResult(args: { index: number; count: number; dryRun: boolean; backend: string | null; entry: ManifestJob; now: number }): JobResultFile {
  return {
    job_index: args.index,
    jobs_selected: args.count,
    dry_run: args.dryRun,
    backend: args.dryRun ? null : args.backend,
    written_at: pyUtcIsoTimestamp(args.now),
    entry: args.entry,
  };
}
