/**
 * The page's time estimate, as plain functions (the arithmetic is src/lib/model/estimate.ts): the
 * sentence before a run (from the step the timing probe measured, ./timing-probe.ts), the clock a
 * run starts with (src/lib/pipeline/run-clock.ts), and the sentence while it runs (time left).
 */
import {
  formatDuration, type EstimateJob, type RemainingEstimate, type StudyEstimate,
} from '../lib/model/estimate';
import { RunClock } from '../lib/pipeline/run-clock';
import { trainsSideBySide } from '../lib/pipeline/pool';
import type { StudyTiming } from '../workers/estimate-protocol';
import type { RunPlan } from '../workers/train-protocol';
import { sameShape, timingCovers, type TimingNeed } from './timing-probe';

/** A measurement of step costs with what it was asked for. */
export interface Timing {
  need: TimingNeed;
  result: StudyTiming;
}

/** A sentence and the seconds it states (null: none). */
export interface TimeLine {
  text: string;
  seconds: number | null;
}

const fmtStep = (s: number) => (s >= 1 ? `${s.toFixed(1)} s` : `${Math.round(s * 1000)} ms`);
const capital = (t: string) => t.charAt(0).toUpperCase() + t.slice(1);

/** The estimate before a run, with the measured steps it rests on; `blocked`: selected jobs that are not trained. */
export function estimateSentence(e: StudyEstimate, t: StudyTiming, need: TimingNeed, blocked: number): string {
  // the shapes these jobs need, as measured (the measurement may cover more)
  const used = t.shapes.filter((s) => need.shapes.some((n) => sameShape(n, s)));
  const byN = new Set(used.map((s) => s.N)).size > 1;
  const steps = used.map((s) => `${fmtStep(s.stepSeconds)}${byN ? ` at N=${s.N},` : ' at'} gridsize ${s.gridsize}` +
    (s.timedBatch < s.batch ? ` (timed at batch ${s.timedBatch}, scaled to ${s.batch})` : '')).join(', ');
  const notes = [
    e.unknown.length ? `${e.unknown.length} job(s) of unknown size not counted` : '',
    blocked ? `${blocked} blocked job(s) are not trained` : '',
  ].filter(Boolean);
  return `Estimated time for the ${e.training} selected job${e.training === 1 ? '' : 's'}: ${formatDuration(e.totalSeconds)} ` +
    `(measured step ${steps}, on ${t.backend})${notes.length ? `; ${notes.join('; ')}` : ''}.`;
}

/** The sentence while a run goes: how long is left; `unknown`: jobs of unknown size (not counted). */
export function remainingSentence(r: RemainingEstimate, unknown: number): TimeLine {
  const note = unknown ? ` (${unknown} job(s) of unknown size not counted)` : '';
  if (r.remainingSeconds === null) return { text: `Time left: measuring this run's rate…${note}`, seconds: null };
  return { text: `${capital(formatDuration(r.remainingSeconds))} left${note}.`, seconds: r.remainingSeconds };
}

/**
 * The clock of a run that starts (src/lib/pipeline/run-clock.ts): the jobs it trains (not blocked,
 * not `finished` before a resume) with the sizes the plan knows (`sizes`, by job key), in measured
 * seconds where `timing` covers their shapes and every size is known, else in units of a step,
 * turned into seconds by the run's own rate (a run resumed after a reload: sizes come from the
 * runner's first step of each job).
 */
export function runClock(
  plan: RunPlan, sizes: Map<string, Pick<EstimateJob, 'N' | 'trainPositions' | 'testPositions'>>,
  finished: (key: string) => boolean, timing: Timing | null,
): RunClock {
  const jobs = new Map<string, EstimateJob>();
  for (const j of plan.jobs) {
    if (j.blocked.length > 0 || finished(j.key)) continue;
    const pj = sizes.get(j.key);
    jobs.set(j.key, { key: j.key, gridsize: j.job.gridsize, N: pj?.N, trainPositions: pj?.trainPositions, testPositions: pj?.testPositions });
  }
  const s = plan.settings;
  const need: TimingNeed = {
    backend: plan.backend ?? 'auto',
    shapes: [...jobs.values()].filter((j) => j.N !== undefined)
      .map((j) => ({ N: j.N!, gridsize: j.gridsize, filterScale: s.filterScale, batch: s.batchSize })),
    singleThread: trainsSideBySide(globalThis.navigator?.hardwareConcurrency, jobs.size, plan.parallelJobs),
  };
  const sized = [...jobs.values()].every((j) => j.N !== undefined && j.trainPositions !== undefined);
  const t = sized && timing && timingCovers(timing.need, need) ? timing.result : null;
  return new RunClock({
    jobs: [...jobs.values()], settings: { epochs: s.epochs, groups: s.groups, batchSize: s.batchSize },
    measured: t ? { shapes: t.shapes, startupSeconds: t.startupSeconds } : null,
  });
}
