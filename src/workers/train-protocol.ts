/**
 * Messages between the page and the training worker. The worker runs the selected jobs through the
 * study run loop, up to k at once on job workers that own tfjs (./job-protocol.ts), persists
 * everything to IndexedDB as it goes, and reports progress as events. Large arrays (previews) are
 * transferred, not copied.
 */
import type { BackendChoice, BackendInfo, BackendRecord } from '../lib/runtime/backend';
import type { ArtifactSink, RunnerProgress, TrainingJob } from '../lib/study/runner';
import type { ParsedFilters, SkipEvent } from '../lib/study/jobs';
import type { TrainingSettings } from '../lib/pipeline/settings';
import { buildManifest, manifestPath, serializeManifest, type ManifestJob } from '../lib/report/manifest';
import { studySummaryFiles } from '../lib/report/summary';
import type { PreviewImages } from '../lib/preview/preview';

/** What a run needs to be rebuilt after a reload: JSON-safe, stored in IndexedDB with the run. */
export interface RunPlan {
  phaseCRoot: string | null;
  phaseDRoot: string | null;
  artifactRoot: string;
  filters: ParsedFilters;
  dryRun: boolean;
  settings: TrainingSettings;
  /** The backend the user picked, or 'auto': the fastest measured at the start of the run. */
  backend: BackendChoice;
  /**
   * Jobs trained at once where the backend is WASM or CPU (one job worker each); null or absent:
   * the cores (navigator.hardwareConcurrency). WebGPU trains one job at a time.
   */
  parallelJobs?: number | null;
  /** The selected jobs in reference order; blocked jobs carry the validation errors that block them. */
  jobs: { job: TrainingJob; key: string; blocked: string[] }[];
  skipped: SkipEvent[];
}

/**
 * Test hook (test/e2e/faults.spec.ts): faults to inject into a run, so the end-to-end tests can show
 * that each fails only the job it hits. The page reads them from its URL, `?faults=<JSON>` (see
 * parseFaults); the UI never sets them. Each fault names the job it hits by its key
 * (`dose_1000/dense/gs2`); `step` is the 1-based training step counted across the job's epochs
 * (of this worker's run: a resumed job counts again from its first step after the checkpoint).
 */
export interface FaultPlan {
  /** The training loss of this step becomes NaN (through the real loss and NaN check in trainPinn). */
  nanLossAt?: { job: string; step: number };
  /** The WebGPU device is destroyed (GPUDevice.destroy()) after this step, as a driver reset would. */
  loseDeviceAt?: { job: string; step: number };
  /** An uncaught exception is thrown in the job's worker after this step (that worker dies; the job fails). */
  crashWorkerAt?: { job: string; step: number };
  /**
   * While this job runs, the store has room for only `bytes` more bytes: a write of artifacts or a
   * checkpoint beyond that throws a DOMException 'QuotaExceededError', as IndexedDB does when the
   * origin's quota is used up.
   */
  quotaBytes?: { job: string; bytes: number };
  /**
   * Once the checkpoint after this epoch is stored, the job holds (running, as a long epoch would)
   * until the run is cancelled or the page goes away, and says so in its status line, so that a test
   * can reload at a known point of the run whatever the backend's speed. A resumed job, counting on
   * from its checkpoint, does not store that epoch's checkpoint again, so it is not held twice.
   */
  holdAfterCheckpoint?: { job: string; epoch: number };
}

const FAULT_KEYS = ['nanLossAt', 'loseDeviceAt', 'crashWorkerAt', 'quotaBytes', 'holdAfterCheckpoint'] as const;
/** The whole number each fault carries, by its name in the JSON. */
const FAULT_COUNT: Record<(typeof FAULT_KEYS)[number], 'step' | 'bytes' | 'epoch'> = {
  nanLossAt: 'step', loseDeviceAt: 'step', crashWorkerAt: 'step', quotaBytes: 'bytes', holdAfterCheckpoint: 'epoch',
};

/** Parse the `faults` URL parameter (JSON); null when absent. Throws on anything malformed. */
export function parseFaults(search: string): FaultPlan | null {
  const raw = new URLSearchParams(search).get('faults');
  if (raw === null) return null;
  const v: unknown = JSON.parse(raw);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('faults must be a JSON object');
  const out: FaultPlan = {};
  for (const [k, f] of Object.entries(v as Record<string, unknown>)) {
    if (!(FAULT_KEYS as readonly string[]).includes(k)) throw new Error(`unknown fault '${k}'`);
    if (typeof f !== 'object' || f === null) throw new Error(`fault '${k}' must be an object`);
    const name = k as (typeof FAULT_KEYS)[number];
    const field = FAULT_COUNT[name];
    const { job, [field]: count } = f as Record<string, unknown>;
    if (typeof job !== 'string') throw new Error(`fault '${k}' needs a job key`);
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
      throw new Error(`fault '${k}' needs a whole ${field} number`);
    }
    if (name === 'quotaBytes') out.quotaBytes = { job, bytes: count };
    else if (name === 'holdAfterCheckpoint') out.holdAfterCheckpoint = { job, epoch: count };
    else out[name] = { job, step: count };
  }
  return out;
}

export type TrainRequest =
  | { type: 'start'; runId: string; plan: RunPlan; files: { path: string; blob: Blob }[]; resume: boolean; faults?: FaultPlan }
  | { type: 'cancel' };

export type TrainEvent =
  /** Auto: candidate backends are being timed on a real step (a few seconds). */
  | { type: 'choosing' }
  | { type: 'backend'; info: BackendInfo }
  | { type: 'job-start'; key: string; index: number; total: number; resumedFromEpoch: number | null }
  | { type: 'progress'; key: string; progress: RunnerProgress }
  /**
   * A stitched reconstruction already cropped to the scanned region and colour-mapped in the
   * worker (the page only blits it; src/lib/preview/preview.ts), with the truth on the same crop and colour
   * scale and the test scan positions in crop pixels when the runner gives them.
   */
  | ({ type: 'preview'; key: string; epoch: number } & PreviewImages)
  | { type: 'job-end'; key: string; result: Record<string, unknown>; manifest: string }
  | { type: 'done'; state: 'finished' | 'cancelled'; manifest: string }
  | { type: 'fatal'; message: string };

/**
 * training_manifest.json of a run: the plan's roots, filters and skips with the entries of the jobs
 * that have a result, in plan order, timestamped now. One function for the worker (after every job)
 * and the page (rebuilding from the stored results after a crash or reload).
 */
export function runManifestText(plan: RunPlan, jobs: ManifestJob[], backend: BackendRecord | string | null): string {
  return serializeManifest(buildManifest({
    now: performance.timeOrigin + performance.now(),
    phaseCRoot: plan.phaseCRoot, phaseDRoot: plan.phaseDRoot, artifactRoot: plan.artifactRoot,
    filters: plan.filters, dryRun: plan.dryRun, jobs, skipped: plan.skipped,
    backend: plan.dryRun ? null : backend,
  }));
}

/**
 * study_summary.json and study_summary.csv of a run (src/lib/report/summary.ts), at the artifact
 * root: written wherever the manifest is, from the same entries; none for a dry run (no scores),
 * as runStudy does for the CLI.
 */
export function runSummaryFiles(plan: RunPlan, jobs: ManifestJob[]): { path: string; text: string }[] {
  return plan.dryRun ? [] : studySummaryFiles(plan.artifactRoot, jobs);
}

/**
 * Write a run's manifest and study summary to its store (the train worker after every job, the page
 * when it rebuilds them from the stored results); the manifest's text.
 */
export async function writeRunFiles(sink: ArtifactSink, plan: RunPlan, jobs: ManifestJob[], backend: BackendRecord | string | null): Promise<string> {
  const text = runManifestText(plan, jobs, backend);
  await sink.writeText(manifestPath(plan.artifactRoot), text);
  for (const f of runSummaryFiles(plan, jobs)) await sink.writeText(f.path, f.text);
  return text;
}
