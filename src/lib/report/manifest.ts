/**
 * `training_manifest.json`: a superset of the E4 schema (`training.py:445-469`) with the E5 skip
 * reporting and a `backend` (docs/decisions.md, Manifest), serialised exactly as Python's json.dump(indent=2).
 */
import type { TrainingJob } from '../study/runner';
import type { ParsedFilters, SkipEvent } from '../study/jobs';
import { pyPathJoin, pyUtcIsoTimestamp } from '../study/pyformat';
import { pyJsonDumps } from './pyjson';

export const MANIFEST_NAME = 'training_manifest.json';

export interface ManifestJob {
  dose: number;
  view: string;
  gridsize: number;
  train_data_path: string;
  test_data_path: string;
  log_path: string;
  artifact_dir: string;
  result: Record<string, unknown>;
}

/** Key order is the reference's (E4 training.py:457-469), then the E5 skip keys, then backend. */
export interface TrainingManifest {
  timestamp: string;
  phase_c_root: string | null;
  phase_d_root: string | null;
  artifact_root: string;
  filters: { dose: number | null; view: string | null; gridsize: number | null };
  dry_run: boolean;
  jobs: ManifestJob[];
  skipped_views: SkipEvent[];
  skipped_count: number;
  /**
   * The tfjs backend that trained; null for a dry run, which uses none. The app records the backend,
   * its threads and SIMD, the adapter and why it was chosen (`{"name": "wasm", "threads": 2, ...}`);
   * the CLI its name ('wasm', 'cpu', 'webgpu').
   */
  backend: ManifestBackend | string | null;
}

/** The app's record of the backend (src/lib/runtime/backend.ts, backendRecord). */
export interface ManifestBackend {
  name: string;
  threads: number | null;
  simd: boolean | null;
  adapter: string;
  reason: string;
}

/** Keys whose numbers are Python floats in the manifest (dose as 1000.0, losses, timings). */
export const MANIFEST_FLOAT_KEYS: ReadonlySet<string> = new Set([
  'dose', 'final_loss', 'train_loss', 'val_loss', 'learning_rate', 'loss', 'duration_seconds',
  'samples_per_second', 'seconds', 'eta_seconds', 'nphotons',
]);

/** Keys LATEST drops from a result when sanitising (model objects), LATEST `training.py:1008-1048`. */
const DROPPED_RESULT_KEYS = new Set(['models', 'model', 'autoencoder', 'diffraction_to_obj']);

/**
 * Make a runner result JSON-safe the way LATEST does (recursively): primitives kept, arrays and
 * typed arrays mapped, plain objects recursed with model objects dropped, anything else turned
 * into its string; `undefined` members are left out.
 */
export function sanitizeResult(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  if (typeof value === 'bigint') return value;
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (depth > 32) return String(value);
  if (Array.isArray(value)) return value.map((v) => { const s = sanitizeResult(v, depth + 1); return s === undefined ? null : s; });
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>);
  }
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (DROPPED_RESULT_KEYS.has(k)) continue;
      const s = sanitizeResult(v, depth + 1);
      if (s !== undefined) out[k] = s;
    }
    return out;
  }
  return String(value);
}

/**
 * A job's fields in the reference's key order (dose, view, gridsize, data paths, log, artifact dir),
 * shared by the manifest entry (E4 training.py:445-454) and the dry-run summary (:248-264).
 */
export function jobFields(job: TrainingJob): Omit<ManifestJob, 'result'> {
  return {
    dose: job.dose,
    view: job.view,
    gridsize: job.gridsize,
    train_data_path: job.train_data_path,
    test_data_path: job.test_data_path,
    log_path: job.log_path,
    artifact_dir: job.artifact_dir,
  };
}

/** A job's manifest entry (E4 training.py:445-454): the job's fields, then its result. */
export function manifestJob(job: TrainingJob, result: Record<string, unknown>): ManifestJob {
  return { ...jobFields(job), result: sanitizeResult(result) as Record<string, unknown> };
}

export interface BuildManifestInput {
  /** Epoch milliseconds (fractions carry microseconds), e.g. performance.timeOrigin + performance.now(). */
  now: number;
  phaseCRoot: string | null;
  phaseDRoot: string | null;
  artifactRoot: string;
  filters: ParsedFilters;
  dryRun: boolean;
  jobs: ManifestJob[];
  skipped: readonly SkipEvent[];
  backend: ManifestBackend | string | null;
}

export function buildManifest(input: BuildManifestInput): TrainingManifest {
  return {
    timestamp: pyUtcIsoTimestamp(input.now),
    phase_c_root: input.phaseCRoot,
    phase_d_root: input.phaseDRoot,
    artifact_root: input.artifactRoot,
    filters: { dose: input.filters.dose, view: input.filters.view, gridsize: input.filters.gridsize },
    dry_run: input.dryRun,
    jobs: input.jobs,
    skipped_views: input.skipped.map((s) => ({ dose: s.dose, view: s.view, reason: s.reason })),
    skipped_count: input.skipped.length,
    backend: input.backend,
  };
}

/** The manifest's text, as `json.dump(manifest, f, indent=2)` writes it (no trailing newline). */
export function serializeManifest(m: TrainingManifest, extraFloatKeys: readonly string[] = []): string {
  const floatKeys = extraFloatKeys.length ? new Set([...MANIFEST_FLOAT_KEYS, ...extraFloatKeys]) : MANIFEST_FLOAT_KEYS;
  return pyJsonDumps(m, { indent: 2, floatKeys });
}

export function manifestPath(artifactRoot: string): string {
  return pyPathJoin(artifactRoot, MANIFEST_NAME);
}
