/**
 * One slot of `--jobs K` (src/lib/pipeline/pool.ts): a Node worker thread with a tfjs of its own,
 * training one job at a time with the PtychoPINN runner on disk files, as the CLI's own thread does.
 * The run loop stays in the CLI's main thread (src/lib/pipeline/run.ts): it bridges, writes
 * params.json and the manifest; the thread gets a job's configs, trains, writes the job's
 * artifacts and reports progress and the result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { diskFileSource, diskSink } from './node-io';
import type { CliBackend } from './study';
import type { JobThreadReply, JobThreadRequest } from './job-slot';

const port = parentPort!;
const { backend } = workerData as { backend: CliBackend };

async function start() {
  const { startNodeBackend } = await import('../lib/runtime/node-backend');
  await startNodeBackend(backend);
  const { createPtychoPinnRunner } = await import('../lib/pipeline/runner');
  return createPtychoPinnRunner({ backend });
}

const send = (r: JobThreadReply) => port.postMessage(r);
const running = new Map<number, AbortController>();
const ready = start();
ready.then(() => send({ type: 'ready' }), (e: unknown) => send({ type: 'failed-start', message: e instanceof Error ? e.message : String(e) }));

port.on('message', (m: JobThreadRequest) => {
  if (m.type === 'cancel') {
    running.get(m.id)?.abort(new DOMException(m.reason, 'AbortError'));
    return;
  }
  const ctl = new AbortController();
  running.set(m.id, ctl);
  void (async () => {
    try {
      const runner = await ready;
      const result = await runner({
        ...m.args, files: diskFileSource(), sink: diskSink(), signal: ctl.signal,
        onProgress: (progress) => send({ type: 'progress', id: m.id, progress }),
      });
      send({ type: 'result', id: m.id, result });
    } catch (e) {
      send({ type: 'error', id: m.id, name: e instanceof Error ? e.name : 'Error', message: e instanceof Error ? e.message : String(e) });
    } finally {
      running.delete(m.id);
    }
  })();
});
