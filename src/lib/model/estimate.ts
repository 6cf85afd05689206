/**
 * How long a study will take, and how long is left while it runs. Pure arithmetic, no DOM and no
 * tfjs: the page (src/ui/studio.svelte.ts) feeds it the plan, the settings and the step costs
 * measured for the settings' shapes (src/lib/model/step-timing.ts, run in src/workers/estimate.worker.ts).
 *
 * Before the run, each job costs what the app's runner does with it (src/lib/pipeline/runner.ts with
 * the options src/workers/train.worker.ts gives it), with t_step one training step and t_fwd one
 * forward pass of a batch, both measured at the job's N and gridsize and the settings' batch and
 * filter scale:
 *
 *   build the model                        t_build                       (once per job)
 *   every epoch: the optimizer steps       stepsPerEpoch · t_step        (trainingBudget, src/lib/model/data.ts)
 *                the validation loss       ceil(val / batch) · t_fwd     (evaluateLoss, src/lib/model/train.ts)
 *                the live preview          ceil(min(64, test) / batch) · t_fwd   (the worker previews every epoch)
 *   live scores of the whole test split    ceil(test / batch) · t_fwd each, on the epochs the runner's
 *                                          rule picks (the first, then every k with k = ceil(cost / (0.1 · epoch)))
 *   the final reconstruction               ceil(test / batch) · t_fwd
 *
 * A short last batch counts as a full step (an upper bound, as trainingBudget counts it). Not
 * modelled: reading the files, stitching and scoring on the CPU, checkpoints and artifacts written
 * to IndexedDB; early stopping (the estimate assumes every epoch runs). The study adds the backend
 * choice at the start of the run (`startupSeconds`). Jobs run k at a time (one job worker each on
 * WASM/CPU, one at a time on WebGPU): the study's time is the busiest lane's, taken in job order. A
 * job side by side with another is assumed as fast as alone (one core each); the running estimate
 * measures what sharing the machine really costs.
 *
 * While the run goes, `remainingEstimate` compares the wall time so far with the work done so far
 * counted in the same units (steps, epochs, finished jobs), and scales the work left by that ratio.
 * What the prior gets wrong (unmodelled costs, a busier machine, another backend) is thus measured
 * on this run; the ratio is trusted fully once MIN_STEPS_FOR_RATE steps have run, before that it is
 * blended with the prior.
 */
import { trainingBudget, VALIDATION_FRACTION } from './data';
import type { CandidateTiming } from '../runtime/choose';

/** The training worker's runner previews every epoch (src/workers/train.worker.ts) on at most 64 test groups (runner.ts default). */
export const APP_PREVIEW = { everyEpochs: 1, groups: 64 } as const;

/** Steps after which the running estimate uses the run's own rate alone (before: blended with the prior). */
export const MIN_STEPS_FOR_RATE = 5;

/** Measured costs at one (N, gridsize) for the settings' batch and filter scale (ShapeTiming, step-timing.ts). */
export interface StepCosts {
  N: number;
  gridsize: 1 | 2;
  stepSeconds: number;
  forwardSeconds: number;
  buildSeconds: number;
}

/** A job as the estimate sees it: from the plan (src/lib/study/plan.ts PlannedJob). */
export interface EstimateJob {
  key: string;
  gridsize: 1 | 2;
  /** Pattern size from the training file's header. */
  N?: number;
  trainPositions?: number;
  testPositions?: number;
  /**
   * Where the train file's size is unknown (a run resumed after a reload, before its data is dropped
   * again): the optimizer steps per epoch the runner reports at the job's first step.
   */
  stepsPerEpoch?: number;
  /** A blocked job is never run: it costs nothing. */
  blocked?: boolean;
  /** Epochs already trained (a job resumed from its checkpoint runs the rest). */
  fromEpoch?: number;
}

export interface EstimateSettings {
  epochs: number;
  groups: number;
  batchSize: number;
}

export interface JobCost {
  key: string;
  /** Epochs this run trains (the settings' epochs, less those resumed from). */
  epochs: number;
  stepsPerEpoch: number;
  /** Optimizer steps this run (stepsPerEpoch · epochs). */
  steps: number;
  stepSeconds: number;
  /** Per epoch, besides its steps: the validation loss and the preview. */
  epochOverheadSeconds: number;
  /** Live scores this run, and their seconds in all. */
  scores: number;
  scoreSeconds: number;
  /** Before the first step (building the model). */
  startSeconds: number;
  /** After the last epoch (the final reconstruction). */
  endSeconds: number;
  totalSeconds: number;
}

/**
 * Epochs the runner scores live (src/lib/pipeline/runner.ts, onEpochEnd): every epoch e with
 * e % k === 0, k starting at 1 and set after each score to max(1, ceil(cost / (0.1 · epoch seconds))),
 * the epoch's seconds being its steps and validation (the epoch record's).
 */
export function liveScoreCount(fromEpoch: number, toEpoch: number, scoreSeconds: number, epochSeconds: number): number {
  let every = 1;
  let n = 0;
  for (let e = fromEpoch + 1; e <= toEpoch; e++) {
    if (e % every !== 0) continue;
    n += 1;
    if (epochSeconds > 0) every = Math.max(1, Math.ceil(scoreSeconds / (0.1 * epochSeconds)));
  }
  return n;
}

/** The seconds one job costs (see the header); null when the plan does not say its size or N. */
export function jobCost(job: EstimateJob, s: EstimateSettings, c: StepCosts | undefined): JobCost | null {
  if (job.blocked) {
    return { key: job.key, epochs: 0, stepsPerEpoch: 0, steps: 0, stepSeconds: 0, epochOverheadSeconds: 0, scores: 0, scoreSeconds: 0, startSeconds: 0, endSeconds: 0, totalSeconds: 0 };
  }
  if (!c) return null;
  const from = Math.min(s.epochs, Math.max(0, job.fromEpoch ?? 0));
  const epochs = s.epochs - from;
  let b: ReturnType<typeof trainingBudget>;
  if (job.trainPositions !== undefined) b = trainingBudget(job.trainPositions, { groups: s.groups, batchSize: s.batchSize, epochs });
  else if (job.stepsPerEpoch !== undefined) {
    // from the steps alone: at most a full batch each, the validation split 5 % of the groups
    const trainGroups = job.stepsPerEpoch * s.batchSize;
    const groups = Math.ceil(trainGroups / (1 - VALIDATION_FRACTION));
    b = { groups, trainGroups, stepsPerEpoch: job.stepsPerEpoch, steps: job.stepsPerEpoch * epochs };
  } else return null;
  const val = b.groups - b.trainGroups;
  // the test split is grouped with the same n_groups (runner.ts: groupDataset(test, ...))
  const test = Math.min(job.testPositions ?? b.groups, s.groups);
  const batches = (n: number) => Math.ceil(n / s.batchSize);
  const valSeconds = batches(val) * c.forwardSeconds;
  const previewSeconds = APP_PREVIEW.everyEpochs > 0 ? batches(Math.min(APP_PREVIEW.groups, test)) * c.forwardSeconds / APP_PREVIEW.everyEpochs : 0;
  const reconSeconds = batches(test) * c.forwardSeconds;
  const epochSeconds = b.stepsPerEpoch * c.stepSeconds + valSeconds;
  const scores = liveScoreCount(from, s.epochs, reconSeconds, epochSeconds);
  const epochOverheadSeconds = valSeconds + previewSeconds;
  const startSeconds = c.buildSeconds;
  const endSeconds = reconSeconds;
  const totalSeconds = startSeconds + b.steps * c.stepSeconds + epochs * epochOverheadSeconds + scores * reconSeconds + endSeconds;
  return {
    key: job.key, epochs, stepsPerEpoch: b.stepsPerEpoch, steps: b.steps, stepSeconds: c.stepSeconds,
    epochOverheadSeconds, scores, scoreSeconds: scores * reconSeconds, startSeconds, endSeconds, totalSeconds,
  };
}

export interface StudyEstimate {
  /** Everything: the backend choice and every job that will train. */
  totalSeconds: number;
  startupSeconds: number;
  /** Per job, in plan order (blocked jobs cost 0). */
  jobs: JobCost[];
  /** Jobs whose size or step costs are unknown (not counted in the total). */
  unknown: string[];
  /** Jobs that will train (not blocked, known). */
  training: number;
}

/** The costs measured for a job's shapes: same N and gridsize. */
export function costsFor(job: Pick<EstimateJob, 'N' | 'gridsize'>, costs: readonly StepCosts[]): StepCosts | undefined {
  return costs.find((c) => c.N === job.N && c.gridsize === job.gridsize);
}

/**
 * How long the study takes: the backend choice plus the jobs' costs, run `lanes` at a time in job
 * order as the run loop takes them (src/lib/pipeline/run.ts): each job starts on the lane free first.
 */
export function studyEstimate(
  jobs: readonly EstimateJob[], s: EstimateSettings, costs: readonly StepCosts[], startupSeconds = 0, lanes = 1,
): StudyEstimate {
  const out: JobCost[] = [];
  const unknown: string[] = [];
  for (const j of jobs) {
    const c = jobCost(j, s, costsFor(j, costs));
    if (c) out.push(c);
    else unknown.push(j.key);
  }
  const training = jobs.filter((j) => !j.blocked).length - unknown.length;
  const free = new Array<number>(Math.max(1, Math.floor(lanes))).fill(0);
  for (const c of out) {
    const i = free.indexOf(Math.min(...free));
    free[i] += c.totalSeconds;
  }
  const totalSeconds = (training > 0 ? startupSeconds : 0) + Math.max(...free);
  return { totalSeconds, startupSeconds: training > 0 ? startupSeconds : 0, jobs: out, unknown, training };
}

/**
 * Seconds the training worker's backend choice (chooseBackend at the settings' batch, budget
 * `budgetMs`: its default) takes, from a choice timed at a batch `scale` times smaller: each timed
 * candidate's warm-up step, and its timed step where the warm-up stays within the budget, scaled in
 * proportion to the batch (as measureShape scales, src/lib/model/step-timing.ts).
 */
export function backendChoiceSeconds(timings: readonly CandidateTiming[], scale: number, budgetMs = 4000): number {
  let s = 0;
  for (const t of timings) {
    if (t.warmupMs === null) continue;
    const warm = t.warmupMs * scale;
    s += (warm + (warm > budgetMs ? 0 : (t.stepMs ?? t.warmupMs) * scale)) / 1000;
  }
  return s;
}

/** A job's progress in the running study, from the training worker's events. */
export interface JobProgress {
  /** Optimizer steps run in this run (not counting epochs resumed from). */
  stepsDone: number;
  /** Epochs finished in this run. */
  epochsDone: number;
  started: boolean;
  /** Ended (success, failure, early stop or cancel): what it did not run is not left to do. */
  finished: boolean;
}

export interface RemainingEstimate {
  /** Seconds left for the whole run; null before the run's rate is known where the prior is not in seconds. */
  remainingSeconds: number | null;
  /** Seconds left per job (unfinished jobs). */
  perJob: Record<string, number>;
  /** Wall seconds per prior second measured on this run (null before any work is done). */
  factor: number | null;
  /** How much the measured factor counts (0: the prior alone, 1: the run's rate alone). */
  weight: number;
}

/** The prior seconds of work a job has done in this run. */
function workDone(c: JobCost, p: JobProgress | undefined): number {
  if (!p || !p.started) return 0;
  const steps = Math.min(p.stepsDone, c.steps);
  const epochs = Math.min(p.epochsDone, c.epochs);
  const perEpochScore = c.epochs > 0 ? c.scoreSeconds / c.epochs : 0;
  const during = c.startSeconds + steps * c.stepSeconds + epochs * (c.epochOverheadSeconds + perEpochScore);
  return p.finished ? during + c.endSeconds : Math.min(during, c.totalSeconds);
}

/**
 * Seconds left in a running study. `costs`: the jobs of this run (JobCost, from the prior or, where
 * `calibrated` is false, in units of one step: see the header); `startupSeconds`: the backend choice,
 * done once any job has started; `elapsedSeconds`: wall time since the run started.
 *
 * factor = elapsed / (prior seconds of the work done); remaining = (prior seconds left) · f, with
 * f = (1 − w) + w · factor and w = min(1, steps done / MIN_STEPS_FOR_RATE). A finished job counts what
 * it did (an early stop leaves nothing of it to do). Uncalibrated costs give no estimate until w = 1.
 */
export function remainingEstimate(input: {
  costs: readonly JobCost[];
  progress: Readonly<Record<string, JobProgress | undefined>>;
  elapsedSeconds: number;
  startupSeconds?: number;
  calibrated?: boolean;
}): RemainingEstimate {
  const { costs, progress } = input;
  const calibrated = input.calibrated ?? true;
  const anyStarted = costs.some((c) => progress[c.key]?.started);
  const startup = input.startupSeconds ?? 0;
  let done = anyStarted ? startup : 0;
  let left = anyStarted ? 0 : startup;
  let steps = 0;
  const leftPer: Record<string, number> = {};
  for (const c of costs) {
    const p = progress[c.key];
    const d = workDone(c, p);
    done += d;
    steps += p?.stepsDone ?? 0;
    if (p?.finished) continue;
    const l = Math.max(0, c.totalSeconds - d);
    leftPer[c.key] = l;
    left += l;
  }
  const factor = done > 0 && input.elapsedSeconds > 0 ? input.elapsedSeconds / done : null;
  const weight = factor === null ? 0 : Math.min(1, steps / MIN_STEPS_FOR_RATE);
  if (!calibrated && weight < 1) return { remainingSeconds: null, perJob: {}, factor, weight };
  const f = (1 - weight) + weight * (factor ?? 1);
  const perJob: Record<string, number> = {};
  for (const [k, v] of Object.entries(leftPer)) perJob[k] = v * f;
  return { remainingSeconds: left * f, perJob, factor, weight };
}

/**
 * Costs in units of one training step, for a run without a measured step (or without its jobs'
 * sizes): a forward pass counted as a third of a step (a step is a forward pass and its gradient,
 * about twice the forward's work), model building as nothing. remainingEstimate with
 * `calibrated: false` turns them into seconds by the run's rate.
 */
export function unitCosts(gridsize: 1 | 2, N = 0): StepCosts {
  return { N, gridsize, stepSeconds: 1, forwardSeconds: 1 / 3, buildSeconds: 0 };
}

/** A duration for people: "under a minute", "about 12 min", "about 1 h 20 min", "about 14 h", "about 3 days". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return 'unknown';
  if (seconds < 60) return 'under a minute';
  const min = seconds / 60;
  if (min < 59.5) return `about ${Math.max(1, Math.round(min))} min`;
  const h = seconds / 3600;
  if (h < 10) {
    const total5 = Math.round(min / 5) * 5; // to 5 minutes above an hour
    const hh = Math.floor(total5 / 60);
    const mm = total5 % 60;
    return mm === 0 ? `about ${hh} h` : `about ${hh} h ${mm} min`;
  }
  if (h < 47.5) return `about ${Math.round(h)} h`;
  return `about ${Math.round(h / 24)} days`;
}
