/**
 * How long a running study has left: the bookkeeping behind the page's "about N min left"
 * (remainingEstimate, src/lib/model/estimate.ts), fed with the run loop's events as the training
 * worker reports them. Costs are measured seconds where a step was measured for every job's shapes
 * and sizes; else units of one step, turned into seconds by the run's own rate.
 */
import {
  costsFor, jobCost, remainingEstimate, unitCosts,
  type EstimateJob, type EstimateSettings, type JobCost, type JobProgress, type RemainingEstimate, type StepCosts,
} from '../model/estimate';
import type { RunnerProgress } from '../study/runner';

/** The events the clock reads (the train worker's, src/workers/train-protocol.ts, have these shapes). */
export type ClockEvent =
  | { type: 'job-start'; key: string; resumedFromEpoch: number | null }
  | { type: 'progress'; key: string; progress: RunnerProgress }
  | { type: 'job-end'; key: string }
  | { type: string };

export interface RunClockInit {
  /** The jobs this run trains (not blocked, not finished before a resume). */
  jobs: EstimateJob[];
  settings: EstimateSettings;
  /** Step costs measured for these jobs' shapes, or null: units of a step. */
  measured: { shapes: StepCosts[]; startupSeconds: number } | null;
  /** Seconds, monotonic (default performance.now() / 1000). */
  now?: () => number;
}

export class RunClock {
  private readonly t0: number;
  private readonly now: () => number;
  private readonly jobs: Map<string, EstimateJob>;
  private readonly costs = new Map<string, JobCost | null>();
  private readonly progress: Record<string, JobProgress> = {};
  private readonly resumedFrom: Record<string, number> = {};

  constructor(private readonly init: RunClockInit) {
    this.now = init.now ?? (() => performance.now() / 1000);
    this.t0 = this.now();
    this.jobs = new Map(init.jobs.map((j) => [j.key, { ...j }]));
    for (const [key, j] of this.jobs) this.costs.set(key, this.cost(j));
  }

  /** A job's cost in the clock's units (measured seconds, or units of a step). */
  private cost(j: EstimateJob): JobCost | null {
    const m = this.init.measured;
    return jobCost(j, this.init.settings, m ? costsFor(j, m.shapes) : unitCosts(j.gridsize));
  }

  /** Take one event of the run; whether it changed what is left. */
  track(ev: ClockEvent): boolean {
    if (ev.type === 'job-start' && 'resumedFromEpoch' in ev) {
      const j = this.jobs.get(ev.key);
      if (!j) return false;
      const from = ev.resumedFromEpoch ?? 0;
      this.resumedFrom[ev.key] = from;
      j.fromEpoch = from;
      this.costs.set(ev.key, this.cost(j));
      this.progress[ev.key] = { stepsDone: 0, epochsDone: 0, started: true, finished: false };
    } else if (ev.type === 'progress' && 'progress' in ev) {
      const p = this.progress[ev.key];
      if (!p) return false;
      const from = this.resumedFrom[ev.key] ?? 0;
      const j = this.jobs.get(ev.key);
      const pr = ev.progress;
      if (pr.status === 'step' && j && this.costs.get(ev.key) === null) {
        j.stepsPerEpoch = pr.steps; // the size of a job the plan did not know
        this.costs.set(ev.key, this.cost(j));
      }
      if (pr.status === 'step') p.stepsDone = (pr.epoch - 1 - from) * pr.steps + pr.step;
      else if (pr.status === 'epoch') p.epochsDone = pr.record.epoch - from;
      else return false;
    } else if (ev.type === 'job-end' && 'key' in ev) {
      const p = this.progress[ev.key];
      if (p) p.finished = true;
      else if (this.costs.has(ev.key)) this.progress[ev.key] = { stepsDone: 0, epochsDone: 0, started: true, finished: true };
      else return false;
    } else return false;
    return true;
  }

  /** What is left now, and how many jobs of unknown size it does not count. */
  left(): { remaining: RemainingEstimate; unknown: number } {
    const costs = [...this.costs.values()].filter((c): c is JobCost => c !== null);
    return {
      unknown: this.costs.size - costs.length,
      remaining: remainingEstimate({
        costs, progress: this.progress, elapsedSeconds: this.now() - this.t0,
        startupSeconds: this.init.measured?.startupSeconds ?? 0, calibrated: this.init.measured !== null,
      }),
    };
  }
}
