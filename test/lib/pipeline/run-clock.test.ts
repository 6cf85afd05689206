import { describe, expect, it } from 'vitest';
import { RunClock } from '../../../src/lib/pipeline/run-clock';
import type { RunnerProgress } from '../../../src/lib/study/runner';

const step = (epoch: number, s: number, steps: number): RunnerProgress =>
  ({ status: 'step', epoch, epochs: 2, step: s, steps, loss: 1, samples_per_second: 1, eta_seconds: null });

describe('RunClock', () => {
  const jobs = ['a', 'b'].map((key) => ({ key, gridsize: 1 as const, N: 32, trainPositions: 40, testPositions: 8 }));
  const settings = { epochs: 2, groups: 1000, batchSize: 4 };

  it('measured costs: the whole study is left before any job starts; a finished job leaves nothing of itself', () => {
    let t = 0;
    const clock = new RunClock({ jobs, settings, measured: { shapes: [{ N: 32, gridsize: 1, stepSeconds: 1, forwardSeconds: 0, buildSeconds: 0 }], startupSeconds: 3 }, now: () => t });
    const full = clock.left().remaining.remainingSeconds!;
    expect(full).toBeGreaterThan(3);
    expect(clock.track({ type: 'job-start', key: 'a', resumedFromEpoch: null })).toBe(true);
    t = 5;
    clock.track({ type: 'job-end', key: 'a' });
    const after = clock.left().remaining.remainingSeconds!;
    expect(after).toBeLessThan(full);
    expect(clock.left().unknown).toBe(0);
    expect(clock.track({ type: 'choosing' })).toBe(false);
    expect(clock.track({ type: 'job-start', key: 'zzz', resumedFromEpoch: null })).toBe(false);
  });

  it('two jobs side by side: the run\'s own rate (work done over wall time) halves what is left', () => {
    let t = 0;
    const mk = () => new RunClock({ jobs, settings, measured: null, now: () => t });
    // one at a time: 10 steps of job a in 10 s
    const seq = mk();
    seq.track({ type: 'job-start', key: 'a', resumedFromEpoch: null });
    for (let s = 1; s <= 10; s++) seq.track({ type: 'progress', key: 'a', progress: step(1, s, 10) });
    t = 10;
    const leftSeq = seq.left().remaining.remainingSeconds;
    // side by side: 10 steps of each job in the same 10 s
    t = 0;
    const par = mk();
    par.track({ type: 'job-start', key: 'a', resumedFromEpoch: null });
    par.track({ type: 'job-start', key: 'b', resumedFromEpoch: null });
    for (let s = 1; s <= 10; s++) for (const key of ['a', 'b']) par.track({ type: 'progress', key, progress: step(1, s, 10) });
    t = 10;
    const leftPar = par.left().remaining.remainingSeconds;
    expect(leftSeq).not.toBeNull();
    expect(leftPar).not.toBeNull();
    // sequential: 30 steps left at 1 s each; side by side: 20 steps left at 0.5 s each
    expect(leftPar! / leftSeq!).toBeCloseTo((20 * 0.5) / (30 * 1), 1);
  });
});
