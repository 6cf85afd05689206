/**
 * Messages between the page and the estimate worker (src/workers/estimate.worker.ts), which measures
 * a training step at the settings' shapes before a study starts, so that the page can say how long the
 * study will take (src/lib/model/estimate.ts). One request per worker; the page terminates the worker
 * when the answer is in, when the settings change under it, and when training starts.
 */
import type { BackendChoice } from '../lib/runtime/backend';
import type { StepShape } from '../lib/model/step-timing';
import type { ShapeTiming } from '../lib/model/step-timing';

export interface TimingRequest {
  type: 'time';
  id: number;
  /** The Backend select: 'auto' is chosen as the training worker chooses (chooseBackend). */
  backend: BackendChoice;
  /** The (N, gridsize) shapes the selected jobs need at the settings' batch and filter scale; the first is the first job's (the one Auto is timed on). */
  shapes: StepShape[];
  /**
   * Jobs will train side by side, so each job worker gets WASM's single-threaded build
   * (src/workers/train.worker.ts): the step is timed on that build too.
   */
  singleThread: boolean;
}

export interface StudyTiming {
  /** The backend measured on, in words (describeBackend) and by name. */
  backend: string;
  backendName: string;
  /** Seconds the training worker's own backend choice will take at the start of the run (Auto; 0 otherwise). */
  startupSeconds: number;
  shapes: ShapeTiming[];
  /** Wall seconds this measurement took. */
  measuredSeconds: number;
}

export type TimingEvent =
  | { type: 'progress'; id: number; message: string }
  | { type: 'done'; id: number; timing: StudyTiming }
  | { type: 'error'; id: number; message: string };
