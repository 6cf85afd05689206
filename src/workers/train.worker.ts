/// <reference lib="webworker" />
/**
 * The training worker: a shell over the study run loop (src/lib/pipeline/run.ts). It runs the
 * selected jobs up to k at once on a pool of job workers (./job-slot.ts, ./job.worker.ts: one tfjs
 * each; k = the cores on WASM/CPU, one job on WebGPU: src/lib/pipeline/pool.ts), skips the jobs a
 * resumed run finished, stores each result and rewrites the manifest after every job, and reports
 * the run as events (./train-protocol.ts). A crash of this worker is handled by the page
 * (src/ui/studio.svelte.ts).
 */
import { runStudy } from '../lib/pipeline/run';
import { defaultConcurrency, slotPool, trainsSideBySide } from '../lib/pipeline/pool';
import { configOverrides } from '../lib/pipeline/settings';
import type { ManifestJob } from '../lib/report/manifest';
import { memoryFileSource } from '../lib/study/plan';
import { inferJobPatchSize } from '../lib/study/inspect';
import { SUPPORTED_N } from '../lib/model/settings';
import type { BackendRecord } from '../lib/runtime/backend';
import type { StepShape } from '../lib/model/step-timing';
import * as store from './store';
import { isQuotaError } from './storage-guard';
import { jobWorkerSlot, type WebSlot } from './job-slot';
import { runManifestText, writeRunFiles, type FaultPlan, type RunPlan, type TrainEvent, type TrainRequest } from './train-protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (ev: TrainEvent, transfer: Transferable[] = []) => scope.postMessage(ev, transfer);
let controller: AbortController | null = null;

scope.onmessage = (m: MessageEvent<TrainRequest>) => {
  const req = m.data;
  if (req.type === 'cancel') controller?.abort(new DOMException('Cancelled by the user', 'AbortError'));
  else void run(req.runId, req.plan, req.files, req.resume, req.faults ?? {}).catch((err) =>
    post({ type: 'fatal', message: err instanceof Error ? err.message : String(err) }));
};

/** Auto times the candidate backends on the first job's step shape (N from its training file's header). */
async function stepShape(plan: RunPlan, files: ReturnType<typeof memoryFileSource>): Promise<StepShape | null> {
  const first = plan.jobs.find((j) => j.blocked.length === 0);
  if ((plan.backend ?? 'auto') !== 'auto' || !first) return null;
  const N = await inferJobPatchSize(files, first.job.train_data_path);
  if (!(SUPPORTED_N as readonly number[]).includes(N)) return null;
  return { N, gridsize: first.job.gridsize, filterScale: plan.settings.filterScale, batch: plan.settings.batchSize };
}

async function run(runId: string, plan: RunPlan, files: { path: string; blob: Blob }[], resume: boolean, faults: FaultPlan): Promise<void> {
  controller = new AbortController();
  const source = memoryFileSource(files);
  const sink = store.idbSink(runId);
  const prior = new Map(resume ? (await store.resultsOf(runId)).filter((r) => r.result.status !== 'cancelled').map((r) => [r.jobKey, r.result]) : []);
  const toRun = plan.jobs.filter((j) => !prior.has(j.key) && j.blocked.length === 0);
  const checkpoints = resume ? await store.checkpointsOf(runId) : new Map<string, store.StoredCheckpoint>();
  const keys = new Map(plan.jobs.map((j) => [j.job.artifact_dir, j.key]));
  let record: BackendRecord | null = null;
  let pool: ReturnType<typeof slotPool> | null = null;
  let k = 1;
  if (!plan.dryRun && toRun.length > 0) {
    const cores = navigator.hardwareConcurrency;
    const singleThread = trainsSideBySide(cores, toRun.length, plan.parallelJobs);
    const slot = (choice: RunPlan['backend'], shape: StepShape | null) => jobWorkerSlot(
      { type: 'init', runId, files, choice, shape, singleThread, faults },
      {
        onPreview: (ev, transfer) => post(ev, transfer), onChoosing: () => post({ type: 'choosing' }),
        resumeOf: (key) => checkpoints.get(key)?.state, keyOf: (a) => keys.get(a.job.artifact_dir)!,
      });
    const first: WebSlot = await slot(plan.backend ?? 'auto', await stepShape(plan, source));
    post({ type: 'backend', info: first.info });
    record = first.record;
    k = defaultConcurrency(first.info.name, cores, toRun.length, plan.parallelJobs);
    pool = slotPool(k, async (n) => (n === 0 ? first : slot(first.info.name, null)));
  }
  // The manifest and the study's answer beside it, so they are in the artifacts zip (docs/quality.md).
  // A store too full for them must not stop the run: the page holds the manifest from the events
  // and rebuilds it from the stored results.
  const entriesText = (entries: ManifestJob[]): Promise<string> => writeRunFiles(sink, plan, entries, record).catch((e: unknown) => {
    if (!isQuotaError(e)) throw e;
    return runManifestText(plan, entries, record);
  });
  const res = await runStudy({
    jobs: plan.jobs.map((j) => ({ job: j.job, blocked: j.blocked.length > 0, reasons: j.blocked })),
    dryRun: plan.dryRun, runner: pool?.runner, files: source, sink,
    phaseCRoot: plan.phaseCRoot, phaseDRoot: plan.phaseDRoot, artifactRoot: plan.artifactRoot,
    filters: plan.filters, skipped: plan.skipped, backend: record, configOverrides: configOverrides(plan.settings),
    signal: controller.signal, concurrency: k,
    writeManifest: false, // written after every job, below
    priorResult: (_job, i) => prior.get(plan.jobs[i].key),
    onEvent: (e) => {
      if (e.type === 'job-start') {
        const key = plan.jobs[e.index - 1].key;
        post({ type: 'job-start', key, index: e.index - 1, total: e.total, resumedFromEpoch: checkpoints.get(key)?.epoch ?? null });
      } else if (e.type === 'job-progress') post({ type: 'progress', key: plan.jobs[e.index - 1].key, progress: e.progress });
    },
    onJobEnd: async (entry, i, finished) => {
      const key = plan.jobs[i].key;
      await store.putResult(runId, key, entry.result);
      if (entry.result.status === 'success') await store.deleteCheckpoint(runId, key);
      post({ type: 'job-end', key, result: entry.result, manifest: await entriesText(finished) });
    },
  }).finally(() => pool?.close());
  const manifest = await entriesText(res.entries);
  await store.setRunState(runId, res.cancelled ? 'cancelled' : 'finished');
  post({ type: 'done', state: res.cancelled ? 'cancelled' : 'finished', manifest });
}
