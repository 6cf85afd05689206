/**
 * The page's side of the training worker (src/workers/train.worker.ts): an event channel, not a
 * request/response client (those are ./clients.ts). A run starts the worker with one 'start'
 * request and may send one 'cancel'; the worker reports the run as typed events
 * (src/workers/train-protocol.ts) until 'done'. A worker that dies (an uncaught error) or reports
 * a 'fatal' one is a crash: the channel gives it up and reports the reason once.
 */
import type { FaultPlan, RunPlan, TrainEvent, TrainRequest } from '../workers/train-protocol';

/** Every event of a run but 'fatal' (a crash: TrainingHandlers.crashed). */
export type RunEvent = Exclude<TrainEvent, { type: 'fatal' }>;

export interface TrainingHandlers {
  /** One event of the run, in the order the worker posted them. */
  event(ev: RunEvent): void;
  /**
   * The worker died or reported a fatal error, with the reason in words; called once per worker,
   * after the channel has terminated it (a second error from the same worker is ignored).
   */
  crashed(reason: string): void;
}

export interface TrainingStart {
  runId: string;
  plan: RunPlan;
  files: { path: string; blob: Blob }[];
  resume: boolean;
  /** Test hook: faults to inject (plain data, not reactive). */
  faults?: FaultPlan | null;
}

export class TrainingChannel {
  private worker: Worker | null = null;

  /** Whether a worker is running a run (started and neither done, crashed nor terminated). */
  get active(): boolean {
    return this.worker !== null;
  }

  /** Start a run on a fresh training worker (one still running is terminated first). */
  start(run: TrainingStart, on: TrainingHandlers): void {
    this.terminate();
    const w = new Worker(new URL('../workers/train.worker.ts', import.meta.url), { type: 'module' });
    this.worker = w;
    const crashed = (reason: string) => {
      if (this.worker !== w) return; // a second error from a worker already given up on
      this.terminate();
      on.crashed(reason);
    };
    w.onmessage = (m: MessageEvent<TrainEvent>) => {
      const ev = m.data;
      if (ev.type === 'fatal') crashed(ev.message);
      else {
        on.event(ev);
        // the run is over: the worker has nothing left to do (unless a handler started another run)
        if (ev.type === 'done' && this.worker === w) this.terminate();
      }
    };
    w.onerror = (e) => {
      e.preventDefault();
      crashed(`the training worker crashed (${e.message || 'no message'})`);
    };
    const request: TrainRequest = { type: 'start', runId: run.runId, plan: run.plan, files: run.files, resume: run.resume };
    if (run.faults) request.faults = run.faults;
    w.postMessage(request);
  }

  /** Ask the running run to stop at its next step (it ends with a 'done' event, state 'cancelled'). */
  cancel(): void {
    this.worker?.postMessage({ type: 'cancel' } satisfies TrainRequest);
  }

  terminate(): void {
    this.worker?.terminate();
    this.worker = null;
  }
}
