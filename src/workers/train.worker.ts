/// <reference lib="webworker" />
/**
 * The training worker: owns tfjs (the backend chosen for the run's shapes: WebGPU, WASM or CPU; see
 * src/lib/model/choose-backend.ts), runs the selected jobs one after another
 * through the study run loop (src/lib/report/run.ts) with the real PtychoPINN runner, and keeps
 * everything in IndexedDB as it goes: each job's result, its artifacts, per-epoch checkpoints,
 * and a manifest rewritten after every job so it always covers what finished.
 *
 * Faults fail only the job they hit: a NaN/Inf loss (the training loop's check), a lost WebGPU
 * device (the job fails with the reason and the next job gets a new backend on a new device), a full
 * store (the job fails with 'storage full'). A crash of this worker is handled by the page
 * (src/ui/studio.svelte.ts). `FaultPlan` (train-protocol.ts) injects each of them for the tests.
 */
import { initBackend, deviceLost, currentDevice, memoryFigures, backendRecord, type BackendInfo } from '../lib/runtime/backend';
import { chooseBackend } from '../lib/model/choose-backend';
import { SUPPORTED_N } from '../lib/model/settings';
import { inferJobPatchSize } from '../lib/study/inspect';
import { useBundledWasm } from './wasm-assets';
import { runStudy } from '../lib/pipeline/run';
import { manifestJob, manifestPath, type ManifestJob } from '../lib/report/manifest';
import { makeLegacyParams } from '../lib/config/config';
import { memoryFileSource } from '../lib/study/plan';
import type { ArtifactSink, JobRunner, RunnerArgs, RunnerResult } from '../lib/study/runner';
import { createPtychoPinnRunner } from '../lib/model/runner';
import { configOverrides } from '../lib/pipeline/settings';
import { previewImages, previewTransfer } from '../lib/preview/preview';
import * as store from './store';
import { runManifestText, runSummaryFiles, type FaultPlan, type RunPlan, type TrainEvent, type TrainRequest } from './train-protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
useBundledWasm();
const post = (ev: TrainEvent, transfer: Transferable[] = []) => scope.postMessage(ev, transfer);

let controller: AbortController | null = null;

scope.onmessage = (m: MessageEvent<TrainRequest>) => {
  const req = m.data;
  if (req.type === 'cancel') controller?.abort(new DOMException('Cancelled by the user', 'AbortError'));
  else if (req.type === 'start') void run(req.runId, req.plan, req.files, req.resume, req.faults ?? {}).catch((err) =>
    post({ type: 'fatal', message: err instanceof Error ? err.message : String(err) }));
};

const errText = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

function isQuotaError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'QuotaExceededError';
}

/** Bytes a value takes in the store, roughly: binary buffers exactly, text by its length. */
function approxBytes(v: unknown, depth = 0): number {
  if (v instanceof ArrayBuffer) return v.byteLength;
  if (ArrayBuffer.isView(v)) return v.byteLength;
  if (typeof v === 'string') return v.length;
  if (typeof v !== 'object' || v === null || depth > 16) return 8;
  let n = 0;
  for (const x of Array.isArray(v) ? v : Object.values(v)) n += approxBytes(x, depth + 1);
  return n;
}

/**
 * Every write of a job (artifacts and checkpoints) goes through here, so a full store is noticed
 * and named: the first QuotaExceededError of a job is kept to give the job its reason. For the
 * fault tests `room` limits how many more bytes the store accepts while the faulted job runs.
 */
class StorageGuard {
  room: number | null = null;
  full: { what: string; error: string } | null = null;

  async write<T>(what: string, bytes: number, op: () => Promise<T>): Promise<T> {
    try {
      if (this.room !== null) {
        if (bytes > this.room) {
          throw new DOMException(
            `(injected fault) the store has room for ${this.room} more bytes; writing ${what} needs ${bytes}`, 'QuotaExceededError');
        }
        this.room -= bytes;
      }
      return await op();
    } catch (e) {
      if (isQuotaError(e)) this.full ??= { what, error: errText(e) };
      throw e;
    }
  }

  sink(inner: ArtifactSink): ArtifactSink {
    const enc = new TextEncoder();
    return {
      ...inner,
      mkdir: (path) => inner.mkdir(path),
      exists: (path) => inner.exists(path),
      readBytes: (path) => inner.readBytes(path),
      writeText: (path, text) => this.write(path, enc.encode(text).length, () => inner.writeText(path, text)),
      writeBytes: (path, bytes) => this.write(path, bytes.length, () => inner.writeBytes(path, bytes)),
      appendText: (path, text) => this.write(path, enc.encode(text).length, () => inner.appendText(path, text)),
    };
  }
}

const storageFullReason = (what: string, error: string): string =>
  `storage full: the browser refused to store ${what} (${error}). Finished results are kept; free some space ` +
  '(delete old runs or this site\'s data) and run this job again.';

/**
 * Start the backend the run trains on: the one the user picked, or (Auto) the fastest measured on
 * the first job's shapes (its N read from its training file's header, the settings' filter scale and
 * batch size). Old stored plans (before Auto) name their backend and keep it.
 */
async function startTraining(plan: RunPlan, source: ReturnType<typeof memoryFileSource>): Promise<BackendInfo> {
  const choice = plan.backend ?? 'auto';
  const first = plan.jobs.find((j) => j.blocked.length === 0);
  if (choice !== 'auto' || !first) return initBackend(choice);
  const N = await inferJobPatchSize(source, first.job.train_data_path);
  if (!(SUPPORTED_N as readonly number[]).includes(N)) return initBackend('auto');
  const shape = { N, gridsize: first.job.gridsize, filterScale: plan.settings.filterScale, batch: plan.settings.batchSize };
  return chooseBackend(shape, { onTiming: () => post({ type: 'choosing' }) });
}

/** Device loss during a job: how long the job may take to notice before it is given up on. */
const DEVICE_LOSS_GRACE_MS = 15_000;

async function run(runId: string, plan: RunPlan, files: { path: string; blob: Blob }[], resume: boolean, faults: FaultPlan): Promise<void> {
  controller = new AbortController();
  const signal = controller.signal;
  const source = memoryFileSource(files);
  let backend: BackendInfo | null = null;
  if (!plan.dryRun) {
    backend = await startTraining(plan, source);
    post({ type: 'backend', info: backend });
  }
  const storage = new StorageGuard();
  const sink = storage.sink(store.idbSink(runId));
  const legacy = makeLegacyParams();
  const prior = new Map((await store.resultsOf(runId)).map((r) => [r.jobKey, r.result]));
  const entries: ManifestJob[] = [];
  const total = plan.jobs.length;
  let cancelled = false;

  const writeManifest = async (): Promise<string> => {
    const text = runManifestText(plan, entries, backend ? backendRecord(backend) : null);
    try {
      await sink.writeText(manifestPath(plan.artifactRoot), text);
      // The study's answer beside the manifest, so it is in the artifacts zip (docs/quality.md).
      for (const f of runSummaryFiles(plan, entries)) await sink.writeText(f.path, f.text);
    } catch (e) {
      // The page holds the manifest from the events and rebuilds it from the stored results; a
      // store too full for it must not stop the run.
      if (!isQuotaError(e)) throw e;
    }
    return text;
  };

  const baseRunner = plan.dryRun ? undefined : createPtychoPinnRunner({ previewEveryEpochs: 1 });

  /** Set when a job lost the GPU device: this worker's tfjs cannot train again (see below). */
  let lostReason: string | null = null;

  for (let i = 0; i < total; i++) {
    const { job, key, blocked } = plan.jobs[i];
    const done = resume ? prior.get(key) : undefined;
    if (done && done.status !== 'cancelled') {
      entries.push(manifestJob(job, done));
      continue;
    }
    if (signal.aborted) { cancelled = true; break; }
    const checkpoint = resume ? await store.checkpointOf(runId, key) : undefined;
    post({ type: 'job-start', key, index: i, total, resumedFromEpoch: checkpoint?.epoch ?? null });

    let runner: JobRunner | undefined;
    if (baseRunner) {
      const at = (f: { job: string; step: number } | undefined) => (f && f.job === key ? f.step : undefined);
      const nanAt = at(faults.nanLossAt);
      const loseDeviceAt = at(faults.loseDeviceAt);
      const crashAt = at(faults.crashWorkerAt);
      const holdAt = faults.holdAfterCheckpoint?.job === key ? faults.holdAfterCheckpoint.epoch : undefined;
      const jobRunner = nanAt === undefined ? baseRunner : createPtychoPinnRunner({ previewEveryEpochs: 1, nanLossAtStep: nanAt });
      runner = async (args: RunnerArgs): Promise<RunnerResult> => {
        // Device loss fails this job with its reason; the loop goes on (a new device is made next job).
        const lost = deviceLost();
        const jobCtl = new AbortController();
        const onAbort = () => jobCtl.abort(signal.reason);
        signal.addEventListener('abort', onAbort);
        let steps = 0;
        const lostResult = (r: Partial<RunnerResult>): RunnerResult => ({
          ...r, status: 'failed', error: lostReason!, bundle_path: null, bundle_sha256: null, bundle_size_bytes: null,
        });
        // A job that does not come back from the dead device in time is given up on.
        const givenUp = lost?.then((reason) => {
          lostReason = reason;
          jobCtl.abort(new DOMException(reason, 'AbortError'));
          return new Promise<RunnerResult>((resolve) => setTimeout(() => resolve(lostResult({})), DEVICE_LOSS_GRACE_MS));
        });
        try {
          const training = jobRunner({
            ...args,
            signal: jobCtl.signal,
            resume: checkpoint?.state,
            onProgress: (p) => {
              if (p.status === 'step') {
                post({ type: 'progress', key, progress: p, gpuBytes: memoryFigures().gpuBytes });
                steps += 1;
                if (steps === loseDeviceAt) currentDevice()?.destroy();
                if (steps === crashAt) {
                  setTimeout(() => {
                    throw new Error(`(injected fault) the training worker crashed during ${key}, step ${steps}`);
                  }, 0);
                }
              } else if (p.status === 'preview') {
                // Cropped and coloured here, off the main thread (with the truth and scan positions
                // when the runner gives them).
                const images = previewImages(p);
                post({ type: 'preview', key, epoch: p.epoch, ...images }, previewTransfer(images));
              }
              else post({ type: 'progress', key, progress: p });
              args.onProgress?.(p);
            },
            onCheckpoint: async (epoch, state) => {
              await storage.write(`the checkpoint after epoch ${epoch}`, approxBytes(state), () => store.putCheckpoint(runId, key, epoch, state));
              if (epoch === holdAt) {
                post({ type: 'progress', key, progress: { status: 'saving', message: `Held after the checkpoint of epoch ${epoch} (injected fault)` } });
                await new Promise<void>((resolve) => {
                  if (jobCtl.signal.aborted) resolve();
                  else jobCtl.signal.addEventListener('abort', () => resolve(), { once: true });
                });
              }
            },
          });
          const r = await (givenUp ? Promise.race([training, givenUp]) : training);
          if (lostReason) return lostResult(r);
          return r;
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
      };
    }

    const quota = faults.quotaBytes?.job === key ? faults.quotaBytes.bytes : null;
    storage.room = quota;
    storage.full = null;
    const res = await runStudy({
      jobs: [{ job, blocked: blocked.length > 0, reasons: blocked }],
      dryRun: plan.dryRun,
      runner,
      files: source,
      sink,
      phaseCRoot: plan.phaseCRoot,
      phaseDRoot: plan.phaseDRoot,
      artifactRoot: plan.artifactRoot,
      filters: plan.filters,
      skipped: plan.skipped,
      backend: backend?.name ?? null,
      configOverrides: configOverrides(plan.settings),
      legacy,
      signal,
      writeManifest: false, // this loop writes the whole run's manifest after every job
    });
    storage.room = null;
    let entry = res.entries[0];
    const full = storage.full as StorageGuard['full']; // set by the job's writes
    if (full && entry.result.status === 'failed') {
      entry = manifestJob(job, { ...entry.result, error: storageFullReason(full.what, full.error) });
    }
    entries.push(entry);
    await store.putResult(runId, key, entry.result);
    if (entry.result.status === 'success') await store.deleteCheckpoint(runId, key);
    post({ type: 'job-end', key, result: entry.result, manifest: await writeManifest() });
    if (res.cancelled || entry.result.status === 'cancelled') { cancelled = true; break; }
    if (lostReason && i + 1 < total) {
      // A new device in this worker is not enough: in Chromium a device requested after the first
      // was lost was itself lost ('destroyed') a few seconds into the next job, with nothing
      // destroying it. A new worker gets a new tfjs and a new device; the page starts one
      // (resuming the run: finished and failed jobs are kept, the rest run).
      post({ type: 'restart', reason: lostReason });
      return;
    }
  }
  const manifest = await writeManifest();
  await store.setRunState(runId, cancelled ? 'cancelled' : 'finished');
  post({ type: 'done', state: cancelled ? 'cancelled' : 'finished', manifest });
}

