import { describe, expect, it } from 'vitest';
import { defaultConcurrency, slotPool, trainsSideBySide, type JobSlot } from '../../../src/lib/pipeline/pool';
import { makeLegacyParams, updateLegacyDict, type LegacyParams, type TrainingConfig } from '../../../src/lib/config/config';
import { planStudy, memoryFileSource } from '../../../src/lib/study/plan';
import { inspectNpz } from '../../../src/lib/study/inspect';
import type { RunnerArgs, RunnerResult } from '../../../src/lib/study/runner';
import { MemorySink } from '../../../src/lib/report/sinks';
import { runStudy, type StudyEvent } from '../../../src/lib/pipeline/run';
import { loadTree } from '../study/helpers';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Slots that record how many jobs run at once; `breakOn` makes the slot running that job unusable. */
function fakeSlots(breakOn?: string) {
  const made: number[] = [];
  const closed: number[] = [];
  let inFlight = 0;
  let peak = 0;
  const make = async (n: number): Promise<JobSlot> => {
    made.push(n);
    let broken = false;
    return {
      get broken() { return broken; },
      close: () => { closed.push(n); },
      run: async (a: RunnerArgs): Promise<RunnerResult> => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        // later jobs finish first, so completion order differs from job order
        await tick(a.job.view === 'baseline' ? 40 : a.job.view === 'dense' ? 20 : 5);
        inFlight -= 1;
        if (a.job.view === breakOn) broken = true;
        return { status: 'success', final_loss: a.job.dose, epochs_completed: 1 };
      },
    };
  };
  return { make, made, closed, get peak() { return peak; } };
}

async function setup(filters = {}) {
  const files = await loadTree('full');
  const plan = await planStudy(files, { inspect: inspectNpz, filters });
  return { plan, source: memoryFileSource(files) };
}

async function study(concurrency: number, runner: Parameters<typeof runStudy>[0]['runner'], filters = {}) {
  const { plan, source } = await setup(filters);
  const sink = new MemorySink();
  const log: string[] = [];
  const bridge = (cfg: LegacyParams, config: TrainingConfig) => {
    log.push(`bridge:${config.model.gridsize}@${config.nphotons}`);
    updateLegacyDict(cfg, config);
  };
  const events: StudyEvent[] = [];
  const res = await runStudy({
    jobs: plan.selected, dryRun: false, runner, files: source, sink, bridge, legacy: makeLegacyParams(), concurrency,
    onEvent: (e) => events.push(e), now: () => 0,
    phaseCRoot: plan.phaseCRoot, phaseDRoot: plan.phaseDRoot, artifactRoot: plan.artifactRoot, filters: plan.filters,
  });
  return { res, sink, log, events };
}

describe('slotPool', () => {
  it('trains at most k jobs at once, starts slots lazily, and replaces a broken one', async () => {
    const s = fakeSlots('dense');
    const pool = slotPool(2, s.make);
    const { res } = await study(2, pool.runner);
    expect(s.peak).toBe(2);
    expect(res.entries.map((e) => e.result.status)).toEqual(Array(9).fill('success'));
    // each dose's dense job broke its slot: three replacements beyond the first two slots
    expect(s.made).toEqual([0, 1, 2, 3, 4]);
    expect(s.closed).toHaveLength(3);
    pool.close();
    expect(s.closed).toHaveLength(5);
  });

  it('defaults to the cores on WASM and CPU, one job on WebGPU, never more than the jobs', () => {
    expect(defaultConcurrency('wasm', 2, 9)).toBe(2);
    expect(defaultConcurrency('cpu', 8, 3)).toBe(3);
    expect(defaultConcurrency('webgpu', 8, 9)).toBe(1);
    expect(defaultConcurrency('wasm', 8, 9, 1)).toBe(1);
    expect(defaultConcurrency('wasm', undefined, 9)).toBe(1);
  });

  it('trains side by side (each job worker on WASM\'s single-threaded build) only with more than one job at once', () => {
    expect(trainsSideBySide(2, 9)).toBe(true);
    expect(trainsSideBySide(2, 1)).toBe(false); // one job left: it may use the threads
    expect(trainsSideBySide(8, 9, 1)).toBe(false); // Jobs at once: 1
    expect(trainsSideBySide(1, 9, 2)).toBe(true);
    expect(trainsSideBySide(undefined, 9)).toBe(false);
  });
});

describe('runStudy with jobs side by side', () => {
  it('bridges in job order, records entries in job order, and writes what one at a time writes', async () => {
    const seq = await study(1, slotPool(1, fakeSlots().make).runner);
    const par = await study(3, slotPool(3, fakeSlots().make).runner);
    expect(par.log).toEqual(seq.log);
    expect(par.res.manifestText).toBe(seq.res.manifestText);
    for (const [path, text] of seq.sink.files) expect(par.sink.files.get(path), path).toEqual(text);
    // side by side, a later job ended before an earlier one
    const ends = par.events.filter((e) => e.type === 'job-end').map((e) => (e as { index: number }).index);
    expect(ends).not.toEqual([...ends].sort((a, b) => a - b));
  });

  it('on cancel records the running jobs as cancelled and starts no other', async () => {
    const ctl = new AbortController();
    const runner = async (a: RunnerArgs): Promise<RunnerResult> => {
      await new Promise<void>((resolve) => a.signal!.addEventListener('abort', () => resolve(), { once: true }));
      return { status: 'cancelled', error: 'stopped' };
    };
    const { plan, source } = await setup({ dose: '1e4' });
    const started: string[] = [];
    const p = runStudy({
      jobs: plan.selected, dryRun: false, runner, files: source, sink: new MemorySink(), concurrency: 2, signal: ctl.signal,
      phaseCRoot: plan.phaseCRoot, phaseDRoot: plan.phaseDRoot, artifactRoot: plan.artifactRoot, filters: plan.filters,
      onEvent: (e) => { if (e.type === 'job-start') { started.push(e.job.view); if (started.length === 2) setTimeout(() => ctl.abort(), 10); } },
    });
    const res = await p;
    expect(started).toEqual(['baseline', 'dense']);
    expect(res.entries.map((e) => e.result.status)).toEqual(['cancelled', 'cancelled']);
    expect(res.notRun.map((j) => j.view)).toEqual(['sparse']);
    expect(res.cancelled).toBe(true);
  });

  it('records a prior result without running or announcing it (a resumed run)', async () => {
    const ran: string[] = [];
    const runner = async (a: RunnerArgs): Promise<RunnerResult> => { ran.push(a.job.view); return { status: 'success' }; };
    const { plan, source } = await setup({ dose: '1e4' });
    const events: StudyEvent[] = [];
    const ended: number[] = [];
    const res = await runStudy({
      jobs: plan.selected, dryRun: false, runner, files: source, sink: new MemorySink(), concurrency: 2,
      phaseCRoot: plan.phaseCRoot, phaseDRoot: plan.phaseDRoot, artifactRoot: plan.artifactRoot, filters: plan.filters,
      priorResult: (job) => (job.view === 'dense' ? { status: 'success', final_loss: 7 } : undefined),
      onJobEnd: (_e, i, finished) => { ended.push(i); expect(finished.length).toBeGreaterThan(0); },
      onEvent: (e) => events.push(e),
    });
    expect(ran.sort()).toEqual(['baseline', 'sparse']);
    expect(res.entries.map((e) => [e.view, e.result.status])).toEqual([['baseline', 'success'], ['dense', 'success'], ['sparse', 'success']]);
    expect(res.entries[1].result.final_loss).toBe(7);
    expect(events.filter((e) => e.type === 'job-start').map((e) => (e as { job: { view: string } }).job.view).sort()).toEqual(['baseline', 'sparse']);
    expect(ended.sort()).toEqual([0, 2]);
  });
});
