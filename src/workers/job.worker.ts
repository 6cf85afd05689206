/// <reference lib="webworker" />
/**
 * A job worker: one tfjs (the backend chosen for the run, see src/lib/runtime/choose.ts),
 * training one job at a time for the run loop in the train worker (src/workers/train.worker.ts,
 * protocol ./job-protocol.ts). It writes the job's artifacts and per-epoch checkpoints to IndexedDB
 * itself, makes the previews off the page's thread, and reports progress and the result.
 *
 * Faults fail only the job they hit: a NaN/Inf loss (the training loop's check), a lost WebGPU
 * device (the job fails with the reason and this worker reports that it cannot train again: the
 * pool starts a new one), a full store (the job fails with 'storage full'). A crash kills only this
 * worker; the train worker records its job as failed. `FaultPlan` (train-protocol.ts) injects each
 * of them for the tests; the UI never sets one.
 */
import { initBackend, deviceLost, currentDevice, memoryFigures, backendRecord, type BackendInfo } from '../lib/runtime/backend';
import { chooseBackend } from '../lib/runtime/choose';
import { stepTimer } from '../lib/model/step-timing';
import { createPtychoPinnRunner } from '../lib/pipeline/runner';
import { memoryFileSource } from '../lib/study/plan';
import type { FileSource, RunnerArgs, RunnerResult } from '../lib/study/runner';
import { previewImages, previewTransfer } from '../lib/preview/preview';
import { useBundledWasm } from './wasm-assets';
import * as store from './store';
import { approxBytes, errText, StorageGuard, storageFullReason } from './storage-guard';
import type { FaultPlan } from './train-protocol';
import type { JobWorkerReply, JobWorkerRequest } from './job-protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (r: JobWorkerReply, transfer: Transferable[] = []) => scope.postMessage(r, transfer);

/** Device loss during a job: how long the job may take to notice before it is given up on. */
const DEVICE_LOSS_GRACE_MS = 15_000;

let runId = '';
let files: FileSource;
let faults: FaultPlan = {};
/** Set once a job lost the GPU device: in Chromium a device requested after that is lost too. */
let lostReason: string | null = null;
const running = new Map<number, AbortController>();

scope.onmessage = (m: MessageEvent<JobWorkerRequest>) => {
  const req = m.data;
  if (req.type === 'init') void init(req).then((info) => post({ type: 'ready', info, record: backendRecord(info) }), (e: unknown) => post({ type: 'init-failed', message: errText(e) }));
  else if (req.type === 'cancel') running.get(req.id)?.abort(new DOMException(req.reason, 'AbortError'));
  else void runJob(req.id, req.key, req.args).then((r) => post({ type: 'result', id: req.id, result: r, lost: lostReason }));
};

async function init(req: Extract<JobWorkerRequest, { type: 'init' }>): Promise<BackendInfo> {
  useBundledWasm({ threads: !req.singleThread });
  runId = req.runId;
  files = memoryFileSource(req.files);
  faults = req.faults;
  if (req.choice !== 'auto' || !req.shape) return initBackend(req.choice);
  return chooseBackend({ ...stepTimer(req.shape), onTiming: () => post({ type: 'choosing' }), wasmSingleThread: !req.singleThread });
}

async function runJob(id: number, key: string, args: Extract<JobWorkerRequest, { type: 'run' }>['args']): Promise<RunnerResult> {
  const ctl = new AbortController();
  running.set(id, ctl);
  const storage = new StorageGuard();
  storage.room = faults.quotaBytes?.job === key ? faults.quotaBytes.bytes : null;
  const at = (f: { job: string; step: number } | undefined) => (f && f.job === key ? f.step : undefined);
  const loseDeviceAt = at(faults.loseDeviceAt);
  const crashAt = at(faults.crashWorkerAt);
  const holdAt = faults.holdAfterCheckpoint?.job === key ? faults.holdAfterCheckpoint.epoch : undefined;
  const runner = createPtychoPinnRunner({ previewEveryEpochs: 1, nanLossAtStep: at(faults.nanLossAt) });
  const failed = (error: string, r: Partial<RunnerResult> = {}): RunnerResult => ({
    ...r, status: 'failed', error, bundle_path: null, bundle_sha256: null, bundle_size_bytes: null,
  });
  // A job that does not come back from a dead device in time is given up on.
  const givenUp = deviceLost()?.then((reason) => {
    lostReason = reason;
    ctl.abort(new DOMException(reason, 'AbortError'));
    return new Promise<RunnerResult>((resolve) => setTimeout(() => resolve(failed(reason)), DEVICE_LOSS_GRACE_MS));
  });
  let steps = 0;
  const training = runner({
    ...args, files, sink: storage.sink(store.idbSink(runId)), signal: ctl.signal,
    onProgress: (p) => {
      if (p.status === 'preview') {
        // Cropped and coloured here, off the page's thread (with the truth and scan positions when the runner gives them).
        const images = previewImages(p);
        post({ type: 'preview', id, event: { type: 'preview', key, epoch: p.epoch, ...images } }, previewTransfer(images));
        return;
      }
      post({ type: 'progress', id, progress: p.status === 'step' ? { ...p, gpu_bytes: p.gpu_bytes ?? memoryFigures().gpuBytes } : p });
      if (p.status !== 'step') return;
      steps += 1;
      if (steps === loseDeviceAt) currentDevice()?.destroy();
      if (steps === crashAt) setTimeout(() => { throw new Error(`(injected fault) the training worker crashed during ${key}, step ${steps}`); }, 0);
    },
    onCheckpoint: async (epoch, state) => {
      await storage.write(`the checkpoint after epoch ${epoch}`, approxBytes(state), () => store.putCheckpoint(runId, key, epoch, state));
      if (epoch !== holdAt) return;
      post({ type: 'progress', id, progress: { status: 'saving', message: `Held after the checkpoint of epoch ${epoch} (injected fault)` } });
      await new Promise<void>((resolve) => {
        if (ctl.signal.aborted) resolve();
        else ctl.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    },
  });
  try {
    const r = await (givenUp ? Promise.race([training, givenUp]) : training);
    if (lostReason) return failed(lostReason, r);
    if (storage.full && r.status === 'failed') return { ...r, error: storageFullReason(storage.full.what, storage.full.error) };
    return r;
  } catch (e) {
    if (lostReason) return failed(lostReason);
    if (storage.full) return failed(storageFullReason(storage.full.what, storage.full.error));
    if (ctl.signal.aborted) return { status: 'cancelled', error: errText(e) };
    return failed(errText(e));
  } finally {
    running.delete(id);
  }
}
