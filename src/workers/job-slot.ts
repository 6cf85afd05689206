/**
 * The app's slots for the pool runner (src/lib/pipeline/pool.ts): each a job worker
 * (./job.worker.ts) with a tfjs of its own. The train worker makes them; a slot passes the job's
 * progress to the run loop and its previews straight on to the page. A job worker that dies (an
 * uncaught error) fails only the job it was running: the slot is broken and the pool starts another.
 */
import type { JobSlot } from '../lib/pipeline/pool';
import { previewTransfer } from '../lib/preview/preview';
import type { BackendInfo, BackendRecord } from '../lib/runtime/backend';
import type { RunnerArgs, RunnerProgress, RunnerResult } from '../lib/study/runner';
import type { JobWorkerReply, JobWorkerRequest } from './job-protocol';
import type { TrainEvent } from './train-protocol';

type Init = Extract<JobWorkerRequest, { type: 'init' }>;

export interface WebSlot extends JobSlot {
  readonly info: BackendInfo;
  /** What the manifest records of the backend. */
  readonly record: BackendRecord;
}

export interface SlotHooks {
  /** A preview for the page, with what to transfer. */
  onPreview: (ev: Extract<TrainEvent, { type: 'preview' }>, transfer: Transferable[]) => void;
  /** Auto: the candidates are being timed. */
  onChoosing?: () => void;
  /** The stored checkpoint to resume a job from (the train worker reads it before the job starts). */
  resumeOf: (key: string) => unknown;
  keyOf: (args: RunnerArgs) => string;
}

export async function jobWorkerSlot(init: Init, hooks: SlotHooks): Promise<WebSlot> {
  const w = new Worker(new URL('./job.worker.ts', import.meta.url), { type: 'module' });
  let broken = false;
  let nextId = 0;
  let current: { id: number; done: (r: RunnerResult | Error) => void; onProgress?: (p: RunnerProgress) => void } | null = null;
  let starting: ((r: { info: BackendInfo; record: BackendRecord } | Error) => void) | null = null;

  w.onmessage = (m: MessageEvent<JobWorkerReply>) => {
    const r = m.data;
    if (r.type === 'choosing') hooks.onChoosing?.();
    else if (r.type === 'ready') starting?.({ info: r.info, record: r.record });
    else if (r.type === 'init-failed') starting?.(new Error(r.message));
    else if (!current || r.id !== current.id) return;
    else if (r.type === 'progress') current.onProgress?.(r.progress);
    else if (r.type === 'preview') hooks.onPreview(r.event, previewTransfer(r.event));
    else if (r.type === 'result') {
      if (r.lost) broken = true;
      current.done(r.result);
    }
  };
  w.onerror = (e) => {
    e.preventDefault();
    broken = true;
    const err = new Error(`the training worker crashed (${e.message || 'no message'})`);
    err.name = 'worker';
    starting?.(err);
    current?.done(err);
  };
  const ready = await new Promise<{ info: BackendInfo; record: BackendRecord } | Error>((resolve) => {
    starting = resolve;
    w.postMessage(init satisfies JobWorkerRequest);
  });
  starting = null;
  if (ready instanceof Error) {
    w.terminate();
    throw ready;
  }

  return {
    ...ready,
    get broken() { return broken; },
    close() {
      broken = true;
      w.terminate();
    },
    run(args: RunnerArgs): Promise<RunnerResult> {
      const id = nextId++;
      const key = hooks.keyOf(args);
      const { job, config, params, phaseCRoot, signal } = args;
      return new Promise<RunnerResult>((resolve, reject) => {
        const onAbort = () => w.postMessage({
          type: 'cancel', id, reason: (signal?.reason as Error | undefined)?.message ?? 'Cancelled by the user',
        } satisfies JobWorkerRequest);
        current = {
          id, onProgress: args.onProgress,
          done: (r) => {
            current = null;
            signal?.removeEventListener('abort', onAbort);
            if (r instanceof Error) reject(r);
            else resolve(r);
          },
        };
        signal?.addEventListener('abort', onAbort);
        w.postMessage({ type: 'run', id, key, args: { job, config, params, phaseCRoot, resume: hooks.resumeOf(key) } } satisfies JobWorkerRequest);
        if (signal?.aborted) onAbort();
      });
    },
  };
}
