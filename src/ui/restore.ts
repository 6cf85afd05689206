/**
 * Never lose work: after a reload, the last run in the store (IndexedDB, src/workers/store.ts) comes
 * back as it was left: its jobs' results, its manifest, and, where it did not finish, what is needed
 * to resume it (its datasets saved in OPFS, src/workers/opfs.ts). A run still marked running was cut
 * off by the reload: it is marked interrupted.
 */
import { loadRunFiles } from '../workers/opfs';
import * as store from '../workers/store';
import type { RunPlan } from '../workers/train-protocol';
import { manifestFromStore } from './downloads';
import { restoredJob, type JobCode } from './run-view';

/** A run that did not finish, as the page offers to resume it. */
export interface InterruptedRun {
  runId: string;
  plan: RunPlan;
  done: number;
  total: number;
  /** Its datasets are stored in this browser (else the same study must be dropped again). */
  filesSaved: boolean;
}

/** The datasets a run reads (its jobs' train and test files), saved with it for resumption. */
export function neededPaths(plan: RunPlan): string[] {
  return [...new Set(plan.jobs.flatMap((j) => [j.job.train_data_path, j.job.test_data_path]))];
}

export interface RestoredRun {
  runId: string;
  /** The job table's rows: each stored result, and each job without one where the run was interrupted. */
  jobs: { key: string; code: JobCode; label: string }[];
  manifest: string | null;
  interrupted: InterruptedRun | null;
  /** The status line to show; null: leave it. */
  status: string | null;
}

/** The last run in the store, as the page shows it after a reload; null when there is none (or no IndexedDB). */
export async function restoreLastRun(): Promise<RestoredRun | null> {
  let run: store.StoredRun | undefined;
  try {
    run = await store.latestRun();
  } catch {
    return null; // IndexedDB unavailable (private mode): nothing to restore
  }
  if (!run) return null;
  const plan = run.plan as RunPlan;
  const results = await store.resultsOf(run.id);
  const jobs = results.map((r) => ({ key: r.jobKey, ...restoredJob(r.result) }));
  const manifest = await manifestFromStore(run.id, plan);
  const done = results.length;
  if (run.state === 'running') {
    await store.setRunState(run.id, 'interrupted');
    run.state = 'interrupted';
  }
  if (run.state === 'interrupted' && done < plan.jobs.length) {
    for (const j of plan.jobs) if (!jobs.some((r) => r.key === j.key)) jobs.push({ key: j.key, code: 'interrupted', label: 'interrupted' });
    const filesSaved = (await loadRunFiles(run.id, neededPaths(plan))) !== null;
    return {
      runId: run.id, jobs, manifest,
      interrupted: { runId: run.id, plan, done, total: plan.jobs.length, filesSaved },
      status: `A previous run was interrupted: ${done} of ${plan.jobs.length} job(s) finished.` +
        (filesSaved ? ' Press "Resume run" to continue from the last checkpoint.' : ' Drop the same study again to resume.'),
    };
  }
  return {
    runId: run.id, jobs, manifest, interrupted: null,
    status: done > 0 ? `Restored the last run: ${done} job(s) with results. The manifest and artifacts can be downloaded.` : null,
  };
}
