/**
 * `--jobs K`: the CLI's slots for the pool runner (src/lib/pipeline/pool.ts), each a worker thread
 * running src/cli/job-thread.ts. A thread that dies takes only its job with it: the job fails with
 * the reason and the pool starts a new thread for the next one.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { JobSlot } from '../lib/pipeline/pool';
import type { RunnerArgs, RunnerProgress, RunnerResult } from '../lib/study/runner';
import type { CliBackend } from './study';

/** What crosses to the thread: the job and its bridged configs (files and sink are the thread's own). */
type ThreadArgs = Pick<RunnerArgs, 'job' | 'config' | 'params' | 'phaseCRoot'>;

export type JobThreadRequest =
  | { type: 'run'; id: number; args: ThreadArgs }
  | { type: 'cancel'; id: number; reason: string };

export type JobThreadReply =
  | { type: 'ready' }
  | { type: 'failed-start'; message: string }
  | { type: 'progress'; id: number; progress: RunnerProgress }
  | { type: 'result'; id: number; result: RunnerResult }
  | { type: 'error'; id: number; name: string; message: string };

const THREAD = new URL('./job-thread.ts', import.meta.url);
/**
 * The thread's entry: the CLI runs TypeScript through tsx, whose loader a worker thread does not
 * inherit, so the thread registers it before importing job-thread.ts.
 */
// tsx's ESM register API (its package exports map `tsx/esm/api` to this file for `import`)
const TSX_API = new URL('dist/esm/api/index.mjs', pathToFileURL(createRequire(import.meta.url).resolve('tsx/package.json'))).href;
const BOOT = new URL(`data:text/javascript,${encodeURIComponent(
  `import { register } from ${JSON.stringify(TSX_API)}; register(); await import(${JSON.stringify(THREAD.href)});`,
)}`);

/** Start a thread on `backend` and resolve once its tfjs is up. */
export async function threadSlot(backend: CliBackend): Promise<JobSlot> {
  const w = new Worker(BOOT, { workerData: { backend } });
  let broken = false;
  let current: { id: number; resolve: (r: RunnerResult) => void; reject: (e: Error) => void; onProgress?: (p: RunnerProgress) => void } | null = null;
  let nextId = 0;
  let onReady: { resolve: () => void; reject: (e: Error) => void } | null = null;
  const ready = new Promise<void>((resolve, reject) => { onReady = { resolve, reject }; });

  w.on('message', (r: JobThreadReply) => {
    if (r.type === 'ready') onReady?.resolve();
    else if (r.type === 'failed-start') onReady?.reject(new Error(`the ${backend} backend did not start in a job thread: ${r.message}`));
    else if (!current || r.id !== current.id) return;
    else if (r.type === 'progress') current.onProgress?.(r.progress);
    else if (r.type === 'result') current.resolve(r.result);
    else if (r.type === 'error') {
      const e = new Error(r.message);
      e.name = r.name;
      current.reject(e);
    }
  });
  const died = (why: string) => {
    broken = true;
    onReady?.reject(new Error(why));
    current?.reject(new Error(why));
  };
  w.on('error', (e) => died(`the job thread crashed (${e.message})`));
  w.on('exit', (code) => { if (!broken) died(`the job thread exited (code ${code})`); });
  await ready;

  return {
    get broken() { return broken; },
    close() {
      broken = true;
      void w.terminate();
    },
    run(args: RunnerArgs): Promise<RunnerResult> {
      const id = nextId++;
      const { job, config, params, phaseCRoot, signal } = args;
      return new Promise<RunnerResult>((resolve, reject) => {
        const onAbort = () => w.postMessage({ type: 'cancel', id, reason: String((signal?.reason as Error | undefined)?.message ?? 'Cancelled') } satisfies JobThreadRequest);
        const done = () => { current = null; signal?.removeEventListener('abort', onAbort); };
        current = {
          id, onProgress: args.onProgress,
          resolve: (r) => { done(); resolve(r); },
          reject: (e) => { done(); reject(e); },
        };
        signal?.addEventListener('abort', onAbort);
        w.postMessage({ type: 'run', id, args: { job, config, params, phaseCRoot } } satisfies JobThreadRequest);
        if (signal?.aborted) onAbort();
      });
    },
  };
}
