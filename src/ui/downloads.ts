/**
 * Results out of the browser: the files the user downloads (the demo study, the cluster scripts, the
 * manifest, the artifacts) and what they are built from in the run store (IndexedDB,
 * src/workers/store.ts). Plain functions of what they need; no app state.
 */
import { zipSync, strToU8 } from 'fflate';
import { clusterZip } from '../lib/cluster/slurm';
import type { StudyPlan } from '../lib/study/plan';
import type { TrainingSettings } from '../lib/pipeline/settings';
import { manifestJob } from '../lib/report/manifest';
import { comparisonPath } from '../lib/report/summary';
import { writeRunFiles, type RunPlan } from '../workers/train-protocol';
import * as store from '../workers/store';

/** Hand the browser a file to save (an object URL on a clicked link). */
function download(name: string, data: Uint8Array | string, type: string): void {
  const blob = new Blob([typeof data === 'string' ? data : (data as Uint8Array<ArrayBuffer>)], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The demo study's NPZ files as one zip. */
export function downloadDemoZip(files: { path: string; bytes: Uint8Array }[]): void {
  const tree: Record<string, Uint8Array> = {};
  for (const f of files) tree[f.path] = f.bytes;
  // NPZ members are already compressed or float noise: store them.
  download('ptychopinn-demo-study.zip', zipSync(tree, { level: 0 }), 'application/zip');
}

/**
 * "Run on a cluster": the two sbatch scripts and a README for the plan's filters and these training
 * settings, with the paths as placeholders (src/lib/cluster/slurm.ts, the CLI writes the same).
 */
export function downloadClusterZip(plan: StudyPlan, settings: TrainingSettings, dryRun: boolean): void {
  const s = settings;
  const zip = clusterZip({
    filters: plan.filters,
    dryRun,
    size: { nepochs: s.epochs, n_groups: s.groups, batch_size: s.batchSize, n_filters_scale: s.filterScale, object_big: null },
    jobCount: plan.selected.length,
    timestamp: new Date().toISOString(),
  });
  download('ptychopinn-cluster.zip', zip, 'application/zip');
}

export function downloadManifest(manifest: string): void {
  download('training_manifest.json', manifest, 'application/json');
}

/**
 * The run's stored artifacts as one zip, with the manifest. `manifest` is read once the artifacts
 * are, so the zip's manifest is at least as new as its artifacts while a run goes on.
 */
export async function downloadArtifacts(runId: string, manifest: () => string | null): Promise<void> {
  const files = await store.artifactsOf(runId);
  const tree: Record<string, Uint8Array> = {};
  for (const f of files) tree[f.path] = f.bytes;
  const text = manifest();
  if (text) tree['training_manifest.json'] = strToU8(text);
  download('ptychopinn-artifacts.zip', zipSync(tree, { level: 6 }), 'application/zip');
}

/**
 * The run's manifest from the results in the store (what the worker writes after every job, in
 * plan order), saved with the artifacts; null when no job has a result yet.
 */
export async function manifestFromStore(runId: string, plan: RunPlan): Promise<string | null> {
  const results = new Map((await store.resultsOf(runId)).map((r) => [r.jobKey, r.result]));
  if (results.size === 0) return null;
  const done = plan.jobs.filter((j) => results.has(j.key));
  const backend = done.map((j) => results.get(j.key)!.backend).find((b): b is string => typeof b === 'string') ?? null;
  const entries = done.map((j) => manifestJob(j.job, results.get(j.key)!));
  return writeRunFiles(store.idbSink(runId), plan, entries, backend);
}

/** A job's truth-vs-reconstruction picture (comparison.png) from the run's stored artifacts; null when absent. */
export async function comparisonImage(runId: string, artifactDir: string): Promise<Blob | null> {
  const bytes = await store.idbSink(runId).readBytes(comparisonPath(artifactDir));
  return bytes ? new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'image/png' }) : null;
}
