/**
 * Messages between the train worker (the run loop, src/workers/train.worker.ts) and a job worker
 * (src/workers/job.worker.ts: one tfjs, one job at a time). The job worker writes the job's
 * artifacts and checkpoints to IndexedDB itself; what crosses is the job, its bridged configs,
 * progress, previews and the result.
 */
import type { BackendChoice, BackendInfo, BackendRecord } from '../lib/runtime/backend';
import type { StepShape } from '../lib/model/step-timing';
import type { RunnerArgs, RunnerProgress, RunnerResult } from '../lib/study/runner';
import type { FaultPlan, TrainEvent } from './train-protocol';

export type JobWorkerRequest =
  | {
    type: 'init'; runId: string; files: { path: string; blob: Blob }[];
    /** The backend to start: a name, or 'auto' to time the candidates on `shape`. */
    choice: BackendChoice; shape: StepShape | null;
    /** WASM's single-threaded build (jobs side by side: one core each). */
    singleThread: boolean;
    /** Test hook: the faults of the run (train-protocol.ts). */
    faults: FaultPlan;
  }
  | { type: 'run'; id: number; key: string; args: Pick<RunnerArgs, 'job' | 'config' | 'params' | 'phaseCRoot' | 'resume'> }
  | { type: 'cancel'; id: number; reason: string };

export type JobWorkerReply =
  | { type: 'choosing' }
  | { type: 'ready'; info: BackendInfo; record: BackendRecord }
  | { type: 'init-failed'; message: string }
  | { type: 'progress'; id: number; progress: RunnerProgress }
  /** A preview already made for the page: the train worker passes it on as it is. */
  | { type: 'preview'; id: number; event: Extract<TrainEvent, { type: 'preview' }> }
  /** `lost`: this worker lost its GPU device and cannot train again (the reason). */
  | { type: 'result'; id: number; result: RunnerResult; lost: string | null };
