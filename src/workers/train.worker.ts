/// <reference lib="webworker" />
/**
 * The training worker: owns tfjs (WebGPU, else CPU), runs the selected jobs one after another
 * through the study run loop (src/lib/report/run.ts) with the real PtychoPINN runner, and keeps
 * everything in IndexedDB as it goes: each job's result, its artifacts, per-epoch checkpoints,
 * and a manifest rewritten after every job so it always covers what finished.
 */
import { initBackend, deviceLost, memoryFigures, type BackendInfo } from '../lib/runtime/backend';
import { runStudy } from '../lib/report/run';
import { buildManifest, manifestJob, manifestPath, serializeManifest, type ManifestJob } from '../lib/report/manifest';
import { makeLegacyParams } from '../lib/config/config';
import { memoryFileSource } from '../lib/study/plan';
import type { JobRunner, RunnerArgs } from '../lib/study/runner';
import { createPtychoPinnRunner } from '../lib/model/runner';
import { configOverrides } from '../ui/settings';
import { colourise, finiteRange, type ColourMap } from '../ui/colour';
import * as store from './store';
import type { RunPlan, TrainEvent, TrainRequest } from './train-protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (ev: TrainEvent, transfer: Transferable[] = []) => scope.postMessage(ev, transfer);

let controller: AbortController | null = null;

/** Colour-map an image here, off the main thread; the page only draws the bytes. */
function colourImage(values: Float32Array, map: ColourMap, range?: [number, number]) {
  const [min, max] = range ?? finiteRange(values);
  return { rgba: colourise(values, min, max, map), min, max };
}

scope.onmessage = (m: MessageEvent<TrainRequest>) => {
  const req = m.data;
  if (req.type === 'cancel') controller?.abort(new DOMException('Cancelled by the user', 'AbortError'));
  else if (req.type === 'start') void run(req.runId, req.plan, req.files, req.resume).catch((err) =>
    post({ type: 'fatal', message: err instanceof Error ? err.message : String(err) }));
};

async function run(runId: string, plan: RunPlan, files: { path: string; blob: Blob }[], resume: boolean): Promise<void> {
  controller = new AbortController();
  const signal = controller.signal;
  let backend: BackendInfo | null = null;
  if (!plan.dryRun) {
    backend = await initBackend(plan.backend);
    post({ type: 'backend', info: backend });
  }
  const sink = store.idbSink(runId);
  const source = memoryFileSource(files);
  const legacy = makeLegacyParams();
  const prior = new Map((await store.resultsOf(runId)).map((r) => [r.jobKey, r.result]));
  const entries: ManifestJob[] = [];
  const total = plan.jobs.length;
  let cancelled = false;

  const writeManifest = async (): Promise<string> => {
    const m = buildManifest({
      now: performance.timeOrigin + performance.now(),
      phaseCRoot: plan.phaseCRoot, phaseDRoot: plan.phaseDRoot, artifactRoot: plan.artifactRoot,
      filters: plan.filters, dryRun: plan.dryRun, jobs: entries, skipped: plan.skipped,
      backend: plan.dryRun ? null : (backend?.name ?? null),
    });
    const text = serializeManifest(m);
    await sink.writeText(manifestPath(plan.artifactRoot), text);
    return text;
  };

  const baseRunner = plan.dryRun ? undefined : createPtychoPinnRunner({ previewEveryEpochs: 1 });

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
      runner = async (args: RunnerArgs) => {
        // Device loss fails this job with its reason; the loop goes on (a new device is made next job).
        const lost = deviceLost();
        const jobCtl = new AbortController();
        const onAbort = () => jobCtl.abort(signal.reason);
        signal.addEventListener('abort', onAbort);
        let lostReason: string | null = null;
        void lost?.then((r) => { lostReason = r; jobCtl.abort(new Error(r)); });
        try {
          const r = await baseRunner({
            ...args,
            signal: jobCtl.signal,
            resume: checkpoint?.state,
            onProgress: (p) => {
              if (p.status === 'step') post({ type: 'progress', key, progress: p, gpuBytes: memoryFigures().gpuBytes });
              else if (p.status === 'preview') {
                const amplitude = colourImage(p.amplitude, 'viridis');
                const phase = colourImage(p.phase, 'twilight', [-Math.PI, Math.PI]);
                post({ type: 'preview', key, epoch: p.epoch, width: p.width, height: p.height, amplitude, phase },
                  [amplitude.rgba.buffer, phase.rgba.buffer]);
              }
              else post({ type: 'progress', key, progress: p });
              args.onProgress?.(p);
            },
            onCheckpoint: (epoch, state) => store.putCheckpoint(runId, key, epoch, state),
          });
          if (lostReason) return { ...r, status: 'failed', error: lostReason };
          return r;
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
      };
    }

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
    const entry = res.entries[0];
    entries.push(entry);
    await store.putResult(runId, key, entry.result);
    if (entry.result.status === 'success') await store.deleteCheckpoint(runId, key);
    post({ type: 'job-end', key, result: entry.result, manifest: await writeManifest() });
    if (res.cancelled || entry.result.status === 'cancelled') { cancelled = true; break; }
  }
  const manifest = await writeManifest();
  await store.setRunState(runId, cancelled ? 'cancelled' : 'finished');
  post({ type: 'done', state: cancelled ? 'cancelled' : 'finished', manifest });
}
