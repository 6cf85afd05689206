/**
 * The boundary between planning (this stage) and training (src/lib/model): what a job runner
 * receives and returns. Planning calls a JobRunner once per job after bridging the config;
 * the real PtychoPINN runner lives in src/lib/model and implements this interface.
 */
import type { TrainingConfig, LegacyParams } from '../config/config';

export type View = 'baseline' | 'dense' | 'sparse';

/** Reference TrainingJob (`training.py:30-85` `TrainingJob`). Paths are POSIX, relative to what the user dropped / the CLI was given. */
export interface TrainingJob {
  dose: number;
  view: View;
  gridsize: 1 | 2;
  train_data_path: string;
  test_data_path: string;
  artifact_dir: string;
  log_path: string;
}

/** Read access to the dropped files by the same POSIX paths the jobs carry. */
export interface FileSource {
  has(path: string): boolean;
  /** A Blob supports random access through slice(); never read a whole NPZ when one member is needed. */
  get(path: string): Promise<Blob>;
}

/** Where a job writes its artifacts (disk in the CLI, IndexedDB / memory in the app). Paths are POSIX. */
export interface ArtifactSink {
  mkdir(path: string): Promise<void>;
  writeText(path: string, text: string): Promise<void>;
  appendText(path: string, text: string): Promise<void>;
  writeBytes(path: string, bytes: Uint8Array): Promise<void>;
  exists(path: string): Promise<boolean>;
  readBytes(path: string): Promise<Uint8Array | undefined>;
}

export interface EpochRecord {
  epoch: number;            // 1-based
  train_loss: number;
  val_loss: number | null;
  learning_rate: number;
  seconds: number;          // wall time of this epoch
  samples_per_second: number;
}

/** Progress events, a discriminated union keyed on `status` (transformers.js style). */
export type RunnerProgress =
  | { status: 'loading'; message: string }
  | { status: 'compiling'; message: string }
  | { status: 'step'; epoch: number; epochs: number; step: number; steps: number; loss: number; samples_per_second: number; eta_seconds: number | null; gpu_bytes?: number; tensors?: number }
  | { status: 'epoch'; record: EpochRecord; epochs: number }
  | {
      status: 'preview'; epoch: number; width: number; height: number; amplitude: Float32Array; phase: Float32Array;
      /** the true object on the same grid (NaN where not scanned), when the test file carries it */
      truthAmplitude?: Float32Array; truthPhase?: Float32Array;
      /** test group centres in canvas pixel coordinates */
      positions?: { x: Float64Array; y: Float64Array };
    }
  | { status: 'score'; epoch: number; amplitude_ssim: number }
  | { status: 'saving'; message: string }
  | { status: 'done'; message: string };

export type JobStatus = 'success' | 'failed' | 'cancelled';

/** What a real runner returns (docs/decisions.md, Manifest). Extra keys are allowed and kept in the manifest. */
export interface RunnerResult {
  status: JobStatus;
  error?: string;
  final_loss?: number | null;
  epochs_completed?: number;
  history?: { train_loss: number[]; val_loss: (number | null)[]; learning_rate: number[] };
  started_at?: string;
  finished_at?: string;
  duration_seconds?: number;
  samples_per_second?: number;
  bundle_path?: string | null;          // relative to the job's artifact_dir (LATEST `training.py:1033-1046`)
  bundle_sha256?: string | null;
  bundle_size_bytes?: number | null;
  [key: string]: unknown;
}

export interface RunnerArgs {
  job: TrainingJob;
  config: TrainingConfig;
  /** The bridged legacy dictionary; training code reads its settings from here (CONFIG-001). */
  params: LegacyParams;
  files: FileSource;
  sink: ArtifactSink;
  /**
   * The study's Phase C root (the manifest's phase_c_root): the runner scores every view of a dose on
   * the region of that dose's Phase C test scan (src/lib/model/common-region.ts). Absent or null: the
   * job's own test scan, with a note that the scores are not comparable across views.
   */
  phaseCRoot?: string | null;
  signal?: AbortSignal;
  onProgress?: (p: RunnerProgress) => void;
  /** Resume state (per-epoch checkpoint) when the app restarts an unfinished job. */
  resume?: unknown;
  /** Called after each epoch with the state to resume from; the app persists it (IndexedDB). */
  onCheckpoint?: (epoch: number, state: unknown) => Promise<void> | void;
}

export type JobRunner = (args: RunnerArgs) => Promise<RunnerResult>;
