/**
 * The study time estimate (src/lib/model/estimate.ts): the prior's arithmetic against hand-computed
 * cases, the runner's live-score rule, and the running estimate converging to the run's own rate.
 */
import { describe, it, expect } from 'vitest';
import {
  backendChoiceSeconds, formatDuration, jobCost, liveScoreCount, remainingEstimate, studyEstimate, unitCosts, MIN_STEPS_FOR_RATE,
  type EstimateJob, type JobCost, type JobProgress, type StepCosts,
} from '../../../src/lib/model/estimate';

const gs1: StepCosts = { N: 32, gridsize: 1, stepSeconds: 0.5, forwardSeconds: 0.1, buildSeconds: 0.2 };
const gs2: StepCosts = { N: 32, gridsize: 2, stepSeconds: 1.5, forwardSeconds: 0.25, buildSeconds: 0.3 };
const quick = { epochs: 5, groups: 64, batchSize: 16 };

describe('the prior', () => {
  it('counts steps, validation, previews, live scores and the final reconstruction (hand-computed)', () => {
    // 288 train positions -> 64 groups, 60 train (4 steps an epoch, 20 in all), 4 validation (1 batch);
    // 100 test positions -> 64 test groups: the preview and each reconstruction are 4 batches.
    const c = jobCost({ key: 'a', gridsize: 1, N: 32, trainPositions: 288, testPositions: 100 }, quick, gs1)!;
    expect(c.steps).toBe(20);
    expect(c.stepsPerEpoch).toBe(4);
    expect(c.epochOverheadSeconds).toBeCloseTo(0.1 + 0.4, 12); // validation 1 x 0.1, preview 4 x 0.1
    // live scores: epoch seconds 4 x 0.5 + 0.1 = 2.1, a score 0.4 s -> every ceil(0.4 / 0.21) = 2 epochs
    // after the first: epochs 1, 2, 4
    expect(c.scores).toBe(3);
    expect(c.scoreSeconds).toBeCloseTo(1.2, 12);
    expect(c.endSeconds).toBeCloseTo(0.4, 12);
    // 0.2 build + 20 x 0.5 steps + 5 x 0.5 per epoch + 1.2 scores + 0.4 final
    expect(c.totalSeconds).toBeCloseTo(14.3, 10);
  });

  it('a small job: fewer groups than asked, test split smaller than the preview', () => {
    // 35 positions -> 35 groups, floor(35 x 0.95) = 33 train (3 steps of 16), 2 validation (1 batch);
    // 30 test groups: 2 batches each for preview and reconstruction.
    const c = jobCost({ key: 'b', gridsize: 2, N: 32, trainPositions: 35, testPositions: 30 }, quick, gs2)!;
    expect(c.steps).toBe(15);
    const val = 0.25;
    const preview = 2 * 0.25;
    const recon = 2 * 0.25;
    // epoch seconds 3 x 1.5 + 0.25 = 4.75; a score 0.5 s -> every ceil(0.5 / 0.475) = 2: epochs 1, 2, 4
    expect(c.scores).toBe(3);
    expect(c.totalSeconds).toBeCloseTo(0.3 + 15 * 1.5 + 5 * (val + preview) + 3 * recon + recon, 10);
  });

  it('a job of unknown size costs what the steps per epoch the runner reports say', () => {
    expect(jobCost({ key: 'a', gridsize: 1, N: 32 }, quick, gs1)).toBeNull();
    // 4 steps of 16: 64 train groups at most, ceil(64 / 0.95) = 68 groups, 4 validation (1 batch), 64 test (4 batches)
    const c = jobCost({ key: 'a', gridsize: 1, N: 32, stepsPerEpoch: 4 }, quick, gs1)!;
    expect(c.steps).toBe(20);
    expect(c.epochOverheadSeconds).toBeCloseTo(0.1 + 0.4, 12);
    expect(c.endSeconds).toBeCloseTo(0.4, 12);
  });

  it('a resumed job costs only the epochs after its checkpoint', () => {
    const full = jobCost({ key: 'a', gridsize: 1, N: 32, trainPositions: 288, testPositions: 100 }, { ...quick, epochs: 10 }, gs1)!;
    const rest = jobCost({ key: 'a', gridsize: 1, N: 32, trainPositions: 288, testPositions: 100, fromEpoch: 6 }, { ...quick, epochs: 10 }, gs1)!;
    expect(rest.epochs).toBe(4);
    expect(rest.steps).toBe(16);
    expect(rest.totalSeconds).toBeLessThan(full.totalSeconds);
  });

  it('the runner\'s live-score rule: first epoch, then every k', () => {
    expect(liveScoreCount(0, 5, 0.05, 1)).toBe(5); // cost under 10 %: every epoch
    expect(liveScoreCount(0, 10, 0.35, 1)).toBe(1 + 2); // k = 4: epochs 1, 4, 8
    expect(liveScoreCount(6, 10, 0.35, 1)).toBe(1 + 1); // resumed after 6: epoch 7 (k = 1 at the start), then 8
    expect(liveScoreCount(0, 0, 1, 1)).toBe(0);
  });

  it('the study: the sum of its jobs and the backend choice; blocked jobs are free, unknown ones listed', () => {
    const jobs: EstimateJob[] = [
      { key: 'a', gridsize: 1, N: 32, trainPositions: 288, testPositions: 100 },
      { key: 'b', gridsize: 2, N: 32, trainPositions: 35, testPositions: 30 },
      { key: 'c', gridsize: 2, N: 32, trainPositions: 35, testPositions: 30, blocked: true },
      { key: 'd', gridsize: 2, N: 64, trainPositions: 35, testPositions: 30 }, // no step measured at N = 64
      { key: 'e', gridsize: 1 }, // size unknown (not validated)
    ];
    const e = studyEstimate(jobs, quick, [gs1, gs2], 3);
    const a = jobCost(jobs[0], quick, gs1)!.totalSeconds;
    const b = jobCost(jobs[1], quick, gs2)!.totalSeconds;
    expect(e.totalSeconds).toBeCloseTo(3 + a + b, 10);
    expect(e.training).toBe(2);
    expect(e.unknown).toEqual(['d', 'e']);
    expect(e.jobs.find((j) => j.key === 'c')!.totalSeconds).toBe(0);
    // nothing to train: no backend choice either
    expect(studyEstimate([jobs[2]], quick, [gs1, gs2], 3).totalSeconds).toBe(0);
  });

  it('scales with epochs and with the measured step', () => {
    const j: EstimateJob = { key: 'a', gridsize: 1, N: 32, trainPositions: 288, testPositions: 100 };
    const slow = { ...gs1, stepSeconds: 2 * gs1.stepSeconds };
    const a = jobCost(j, quick, gs1)!;
    const b = jobCost(j, quick, slow)!;
    // 20 more step-lengths; and with longer epochs the score (0.4 s) is under 10 % of one (4.1 s), so
    // the runner scores every epoch: 5 scores instead of 3
    expect(b.scores).toBe(5);
    expect(b.totalSeconds - a.totalSeconds).toBeCloseTo(20 * gs1.stepSeconds + 2 * 0.4, 10);
    const ten = jobCost(j, { ...quick, epochs: 10 }, gs1)!;
    expect(ten.steps).toBe(40);
  });
});

describe('the running estimate', () => {
  const jobs: EstimateJob[] = [
    { key: 'a', gridsize: 1, N: 32, trainPositions: 288, testPositions: 100 },
    { key: 'b', gridsize: 2, N: 32, trainPositions: 288, testPositions: 100 },
  ];
  const costs = studyEstimate(jobs, quick, [gs1, gs2], 2).jobs;

  /** The run's state after `n` steps of a run whose every cost is `rate` times the prior's. */
  function simulate(n: number, rate: number, list: readonly JobCost[] = costs, startup = 2): { progress: Record<string, JobProgress>; elapsed: number } {
    const progress: Record<string, JobProgress> = {};
    let elapsed = startup * rate;
    let left = n;
    for (const c of list) {
      if (left <= 0) break;
      const steps = Math.min(left, c.steps);
      left -= steps;
      const epochs = Math.floor(steps / c.stepsPerEpoch);
      const finished = steps === c.steps;
      progress[c.key] = { stepsDone: steps, epochsDone: epochs, started: true, finished };
      const perEpochScore = c.scoreSeconds / c.epochs;
      elapsed += rate * (c.startSeconds + steps * c.stepSeconds + epochs * (c.epochOverheadSeconds + perEpochScore) + (finished ? c.endSeconds : 0));
    }
    return { progress, elapsed };
  }

  it('before any step: the prior', () => {
    const total = studyEstimate(jobs, quick, [gs1, gs2], 2).totalSeconds;
    const r = remainingEstimate({ costs, progress: {}, elapsedSeconds: 1, startupSeconds: 2 });
    expect(r.remainingSeconds).toBeCloseTo(total, 10);
    expect(r.weight).toBe(0);
  });

  it('converges to the measured rate: a run 3x slower than the prior says 3x the prior\'s time left', () => {
    const total = studyEstimate(jobs, quick, [gs1, gs2], 2).totalSeconds;
    for (const n of [MIN_STEPS_FOR_RATE, 12, 20, 30]) {
      const { progress, elapsed } = simulate(n, 3);
      const r = remainingEstimate({ costs, progress, elapsedSeconds: elapsed, startupSeconds: 2 });
      expect(r.factor).toBeCloseTo(3, 10);
      expect(r.weight).toBe(1);
      // what is left in prior seconds, times 3; and done + left adds up to the whole study at that rate
      expect(elapsed + r.remainingSeconds!).toBeCloseTo(3 * total, 8);
    }
  });

  it('blends the prior and the run\'s rate over the first few steps', () => {
    const { progress, elapsed } = simulate(2, 3);
    const r = remainingEstimate({ costs, progress, elapsedSeconds: elapsed, startupSeconds: 2 });
    expect(r.weight).toBeCloseTo(2 / MIN_STEPS_FOR_RATE, 12);
    // the prior seconds left: the same progress at the prior's own rate
    const leftPrior = remainingEstimate({ costs, progress, elapsedSeconds: elapsed / 3, startupSeconds: 2 }).remainingSeconds!;
    expect(r.remainingSeconds).toBeCloseTo(leftPrior * (1 - r.weight + r.weight * 3), 8);
  });

  it('once the run\'s rate is trusted, the time left falls as the run goes, and is 0 at the end', () => {
    let last = Infinity;
    const all = costs.reduce((a, c) => a + c.steps, 0);
    for (let n = MIN_STEPS_FOR_RATE; n <= all; n++) {
      const { progress, elapsed } = simulate(n, 1.7);
      const r = remainingEstimate({ costs, progress, elapsedSeconds: elapsed, startupSeconds: 2 });
      expect(r.remainingSeconds!).toBeLessThanOrEqual(last + 1e-9);
      last = r.remainingSeconds!;
    }
    expect(last).toBeCloseTo(0, 10);
  });

  it('per job: the running job\'s part and the queued job\'s whole cost, at the run\'s rate', () => {
    const { progress, elapsed } = simulate(10, 2);
    const r = remainingEstimate({ costs, progress, elapsedSeconds: elapsed, startupSeconds: 2 });
    expect(Object.keys(r.perJob)).toEqual(['a', 'b']);
    expect(r.perJob.b).toBeCloseTo(2 * costs[1].totalSeconds, 8);
    expect(r.perJob.a + r.perJob.b).toBeCloseTo(r.remainingSeconds!, 8);
  });

  it('an early stop leaves nothing of that job to do, and does not count unrun steps as done', () => {
    const progress: Record<string, JobProgress> = { a: { stepsDone: 8, epochsDone: 2, started: true, finished: true } };
    const c = costs[0];
    const done = 2 + c.startSeconds + 8 * c.stepSeconds + 2 * (c.epochOverheadSeconds + c.scoreSeconds / c.epochs) + c.endSeconds;
    const r = remainingEstimate({ costs, progress, elapsedSeconds: done, startupSeconds: 2 });
    expect(r.factor).toBeCloseTo(1, 10);
    expect(r.perJob.a).toBeUndefined();
    expect(r.remainingSeconds).toBeCloseTo(costs[1].totalSeconds, 8);
  });

  it('without a measured step (unit costs): nothing until a few steps have run, then the run\'s rate', () => {
    const units = jobs.map((j) => jobCost(j, quick, unitCosts(j.gridsize))!);
    const early = simulate(MIN_STEPS_FOR_RATE - 1, 0.8, units, 0);
    expect(remainingEstimate({ costs: units, progress: early.progress, elapsedSeconds: early.elapsed, calibrated: false }).remainingSeconds).toBeNull();
    const later = simulate(12, 0.8, units, 0);
    const r = remainingEstimate({ costs: units, progress: later.progress, elapsedSeconds: later.elapsed, calibrated: false });
    const totalUnits = units.reduce((a, c) => a + c.totalSeconds, 0);
    expect(later.elapsed + r.remainingSeconds!).toBeCloseTo(0.8 * totalUnits, 8);
  });
});

describe('formatDuration', () => {
  it('says minutes and hours sensibly', () => {
    expect(formatDuration(0)).toBe('under a minute');
    expect(formatDuration(59)).toBe('under a minute');
    expect(formatDuration(60)).toBe('about 1 min');
    expect(formatDuration(12 * 60 + 10)).toBe('about 12 min');
    expect(formatDuration(59 * 60 + 40)).toBe('about 1 h');
    expect(formatDuration(80 * 60)).toBe('about 1 h 20 min');
    expect(formatDuration(83 * 60)).toBe('about 1 h 25 min');
    expect(formatDuration(14.2 * 3600)).toBe('about 14 h');
    expect(formatDuration(3 * 86400)).toBe('about 3 days');
    expect(formatDuration(NaN)).toBe('unknown');
  });
});

describe('backendChoiceSeconds', () => {
  it('adds each timed candidate\'s warm-up and, within the budget, its timed step, scaled to the batch', () => {
    const timings = [
      { name: 'wasm' as const, threads: 2, warmupMs: 300, stepMs: 250 },
      { name: 'wasm' as const, threads: 1, warmupMs: 1200, stepMs: 1200, note: 'warm-up step over the budget: not repeated' },
      { name: 'webgpu' as const, warmupMs: null, stepMs: null, note: 'did not start' },
    ];
    // x4: 1.2 s + 1.0 s (within 4 s), then 4.8 s alone (over 4 s: not repeated)
    expect(backendChoiceSeconds(timings, 4)).toBeCloseTo(1.2 + 1.0 + 4.8, 10);
    expect(backendChoiceSeconds([], 4)).toBe(0);
  });
});

describe('studyEstimate with jobs side by side', () => {
  it('takes the jobs in order onto the lane free first: the busiest lane is the time', () => {
    const jobs = [1, 2, 3].map((i) => ({ key: `j${i}`, gridsize: 1 as const, N: 32, trainPositions: 16 * i, testPositions: 16 }));
    const s = { epochs: 1, groups: 1_000_000, batchSize: 16 };
    const costs = [{ N: 32, gridsize: 1 as const, stepSeconds: 1, forwardSeconds: 0, buildSeconds: 0 }];
    const one = studyEstimate(jobs, s, costs, 5, 1);
    const two = studyEstimate(jobs, s, costs, 5, 2);
    const [a, b, c] = one.jobs.map((j) => j.totalSeconds);
    expect(one.totalSeconds).toBeCloseTo(5 + a + b + c);
    // lane 1: job 1 then job 3; lane 2: job 2
    expect(two.totalSeconds).toBeCloseTo(5 + Math.max(a + c, b));
    expect(studyEstimate(jobs, s, costs, 5, 9).totalSeconds).toBeCloseTo(5 + Math.max(a, b, c));
  });
});
