/**
 * Messages between the page and the training worker. The worker owns tfjs, runs the selected jobs
 * one after another through the study run loop, persists everything to IndexedDB as it goes, and
 * reports progress as events. Large arrays (previews) are transferred, not copied.
 */
import type { BackendInfo, BackendName } from '../lib/runtime/backend';
import type { RunnerProgress, TrainingJob } from '../lib/study/runner';
import type { ParsedFilters, SkipEvent } from '../lib/study/jobs';
import type { TrainingSettings } from '../ui/settings';

/** What a run needs to be rebuilt after a reload: JSON-safe, stored in IndexedDB with the run. */
export interface RunPlan {
  phaseCRoot: string | null;
  phaseDRoot: string | null;
  artifactRoot: string;
  filters: ParsedFilters;
  dryRun: boolean;
  settings: TrainingSettings;
  backend: BackendName;
  /** The selected jobs in reference order; blocked jobs carry the validation errors that block them. */
  jobs: { job: TrainingJob; key: string; blocked: string[] }[];
  skipped: SkipEvent[];
}

export type TrainRequest =
  | { type: 'start'; runId: string; plan: RunPlan; files: { path: string; blob: Blob }[]; resume: boolean }
  | { type: 'cancel' };

export type TrainEvent =
  | { type: 'backend'; info: BackendInfo }
  | { type: 'job-start'; key: string; index: number; total: number; resumedFromEpoch: number | null }
  | { type: 'progress'; key: string; progress: RunnerProgress; gpuBytes?: number }
  /** A stitched reconstruction already colour-mapped in the worker (the page only blits it). */
  | { type: 'preview'; key: string; epoch: number; width: number; height: number;
      amplitude: { rgba: Uint8ClampedArray<ArrayBuffer>; min: number; max: number };
      phase: { rgba: Uint8ClampedArray<ArrayBuffer>; min: number; max: number } }
  | { type: 'job-end'; key: string; result: Record<string, unknown>; manifest: string }
  | { type: 'done'; state: 'finished' | 'cancelled'; manifest: string }
  | { type: 'fatal'; message: string };
