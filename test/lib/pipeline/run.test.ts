import { describe, expect, it } from 'vitest';
import { makeLegacyParams, updateLegacyDict, type LegacyParams, type TrainingConfig } from '../../../src/lib/config/config';
import { planStudy, memoryFileSource } from '../../../src/lib/study/plan';
import { inspectNpz } from '../../../src/lib/study/inspect';
import type { JobRunner, RunnerArgs, RunnerResult } from '../../../src/lib/study/runner';
import { MemorySink } from '../../../src/lib/report/sinks';
import { dryRunLog, runStudy, type StudyEvent } from '../../../src/lib/pipeline/run';
import { loadTree } from '../study/helpers';

const FIXED_NOW = Date.UTC(2025, 10, 4, 6, 0, 41) + 71.179;

async function setup(tree = 'full', filters = {}) {
  const files = await loadTree(tree);
  const plan = await planStudy(files, { inspect: inspectNpz, filters });
  return { files, plan, source: memoryFileSource(files) };
}

/** A test-only runner that records what it was given and returns a canned result. */
function recordingRunner(log: string[], respond: (a: RunnerArgs) => Promise<RunnerResult> | RunnerResult) {
  const calls: RunnerArgs[] = [];
  const runner: JobRunner = async (a) => {
    log.push(`runner:${a.job.view}@${a.job.dose}`);
    calls.push(a);
    return respond(a);
  };
  return { runner, calls };
}

function spyBridge(log: string[]) {
  const calls: { cfg: LegacyParams; config: TrainingConfig }[] = [];
  const bridge = (cfg: LegacyParams, config: TrainingConfig) => {
    log.push(`bridge:${config.model.gridsize}@${config.nphotons}`);
    calls.push({ cfg, config });
    updateLegacyDict(cfg, config);
  };
  return { bridge, calls };
}

describe('runStudy: dry run', () => {
  it('writes the three-line train.log, never bridges, and records the reference summary', async () => {
    const { plan, source } = await setup('full', { dose: '1000' });
    const sink = new MemorySink();
    const log: string[] = [];
    const { bridge, calls } = spyBridge(log);
    const res = await runStudy({
      jobs: plan.selected, dryRun: true, files: source, sink, bridge, now: () => FIXED_NOW,
      phaseCRoot: plan.phaseCRoot, phaseDRoot: plan.phaseDRoot, artifactRoot: plan.artifactRoot, filters: plan.filters,
    });
    expect(calls).toHaveLength(0);
    expect(sink.readText('artifacts/dose_1000/baseline/gs1/train.log')).toBe(
      'DRY RUN: baseline dose=1000.0 gridsize=1\nTrain: phase_c/dose_1000/patched_train.npz\nTest: phase_c/dose_1000/patched_test.npz\n');
    expect(dryRunLog(plan.selected[1].job).split('\n')).toHaveLength(4);
    expect(await sink.exists('artifacts/dose_1000/dense/gs2/params.json')).toBe(false);
    expect(res.entries.map((e) => Object.keys(e.result))).toEqual(Array(3).fill(
      ['dose', 'view', 'gridsize', 'train_data_path', 'test_data_path', 'log_path', 'artifact_dir', 'dry_run']));
    expect(res.manifest!.backend).toBeNull();
    expect(sink.readText('artifacts/training_manifest.json')).toBe(res.manifestText);
  });

  it('no jobs: no manifest (the reference writes none)', async () => {
    const sink = new MemorySink();
    const res = await runStudy({
      jobs: [], dryRun: true, files: memoryFileSource([]), sink,
      phaseCRoot: 'c', phaseDRoot: 'd', artifactRoot: 'a', filters: { dose: 5000, view: null, gridsize: null },
    });
    expect(res.manifest).toBeNull();
    expect(sink.files.size).toBe(0);
  });
});

describe('runStudy: real jobs through a runner', () => {
  it('bridges exactly once per job, before its runner call, saves params.json, passes the bridged dict', async () => {
    const { plan, source } = await setup('full', { dose: '1e4' });
    const sink = new MemorySink();
    await sink.mkdir('artifacts/dose_10000/baseline/gs1');
    await sink.writeText('artifacts/dose_10000/baseline/gs1/train.log', 'earlier run\n');
    const log: string[] = [];
    const { bridge, calls } = spyBridge(log);
    const { runner, calls: rcalls } = recordingRunner(log, (a) => {
      a.onProgress?.({ status: 'loading', message: 'x' });
      return { status: 'success', final_loss: 2, epochs_completed: 1, history: { train_loss: [2], val_loss: [null], learning_rate: [0.001] } };
    });
    const events: StudyEvent[] = [];
    const legacy = makeLegacyParams();
    const res = await runStudy({
      jobs: plan.selected, dryRun: false, runner, backend: 'webgpu', files: source, sink, bridge, legacy,
      onEvent: (e) => events.push(e), now: () => FIXED_NOW,
      phaseCRoot: plan.phaseCRoot, phaseDRoot: plan.phaseDRoot, artifactRoot: plan.artifactRoot, filters: plan.filters,
      configOverrides: { training: { nepochs: 3, nphotons: 1 }, model: { gridsize: 7 } },
    });
    expect(log).toEqual([
      'bridge:1@10000', 'runner:baseline@10000', 'bridge:2@10000', 'runner:dense@10000', 'bridge:2@10000', 'runner:sparse@10000',
    ]);
    expect(calls.every((c) => c.cfg === legacy)).toBe(true);
    const c0 = calls[0].config;
    expect([c0.model.N, c0.model.gridsize, c0.nphotons, c0.nepochs]).toEqual([64, 1, 10000, 3]);
    expect(c0.output_dir).toBe('artifacts/dose_10000/baseline/gs1');
    expect(c0.train_data_file).toBe('phase_c/dose_10000/patched_train.npz');
    expect(rcalls[1].params).toMatchObject({ gridsize: 2, N: 64, nphotons: 10000, output_prefix: 'artifacts/dose_10000/dense/gs2' });
    // object.big: the reference's True at every gridsize (K-NN groups on a scan spaced >= 0.3·N do
    // not fit one N/2 object window, README "Decisions"); the persistent dict follows each job
    expect([rcalls[0].params['object.big'], rcalls[1].params['object.big'], rcalls[2].params['object.big']]).toEqual([true, true, true]);
    expect(calls.map((c) => c.config.model.object_big)).toEqual([true, true, true]);
    const params = JSON.parse(sink.readText('artifacts/dose_10000/dense/gs2/params.json')!);
    expect(params).toEqual(rcalls[1].params);
    expect(sink.readText('artifacts/dose_10000/dense/gs2/params.json')).toMatch(/"nphotons": 10000\.0,/);
    expect(sink.readText('artifacts/dose_10000/baseline/gs1/train.log')).toBe('earlier run\n'); // touched, never truncated
    expect(res.manifest!.backend).toBe('webgpu');
    expect(res.manifest!.jobs[0].result).toMatchObject({ status: 'success', final_loss: 2 });
    expect(res.manifestText).toContain('"final_loss": 2.0');
    expect(events.filter((e) => e.type === 'job-progress')).toHaveLength(3);
    expect(events.map((e) => e.type).filter((t) => t !== 'job-progress')).toEqual([
      'study-start', 'job-start', 'job-end', 'job-start', 'job-end', 'job-start', 'job-end', 'manifest', 'study-end']);
  });

  it('object.big from the settings wins over the per-gridsize default', async () => {
    for (const objectBig of [true, false]) {
      const { plan, source } = await setup('full', { dose: '1e4' });
      const log: string[] = [];
      const { bridge, calls } = spyBridge(log);
      const { runner, calls: rcalls } = recordingRunner(log, () => ({ status: 'success', final_loss: 1, epochs_completed: 1, history: { train_loss: [1], val_loss: [null], learning_rate: [0.001] } }));
      await runStudy({
        jobs: plan.selected, dryRun: false, runner, files: source, sink: new MemorySink(), bridge,
        phaseCRoot: plan.phaseCRoot, phaseDRoot: plan.phaseDRoot, artifactRoot: plan.artifactRoot, filters: plan.filters,
        configOverrides: { model: { object_big: objectBig } },
      });
      expect(calls.map((c) => c.config.model.object_big)).toEqual([objectBig, objectBig, objectBig]);
      expect(rcalls.map((c) => c.params['object.big'])).toEqual([objectBig, objectBig, objectBig]);
    }
  });

  it('a failing job is recorded as failed and the loop goes on; blocked jobs never run', async () => {
    const { plan, source } = await setup('broken');
    const log: string[] = [];
    const { bridge, calls } = spyBridge(log);
    const { runner } = recordingRunner(log, (a) => {
      if (a.job.view === 'sparse') throw new RangeError('NaN loss at epoch 3');
      return { status: 'success' };
    });
    const res = await runStudy({
      jobs: plan.selected, dryRun: false, runner, files: source, sink: new MemorySink(), bridge,
      phaseCRoot: plan.phaseCRoot, phaseDRoot: plan.phaseDRoot, artifactRoot: plan.artifactRoot, filters: plan.filters,
    });
    expect(res.entries.map((e) => e.result.status)).toEqual(['success', 'blocked', 'failed']);
    expect(res.entries[2].result.error).toBe('RangeError: NaN loss at epoch 3');
    expect(String(res.entries[1].result.error)).toMatch(/probeGuess/);
    expect(calls).toHaveLength(2); // the blocked dense job is neither bridged nor run
    expect(log).not.toContain('runner:dense@1000');

    const returnsFailed = recordingRunner([], () => ({ status: 'failed', error: 'training: OOM' })).runner;
    const res2 = await runStudy({
      jobs: plan.selected.filter((j) => !j.blocked), dryRun: false, runner: returnsFailed, files: source, sink: new MemorySink(),
      phaseCRoot: plan.phaseCRoot, phaseDRoot: plan.phaseDRoot, artifactRoot: plan.artifactRoot, filters: plan.filters,
    });
    expect(res2.entries.map((e) => e.result)).toEqual([{ status: 'failed', error: 'training: OOM' }, { status: 'failed', error: 'training: OOM' }]);
  });

  it('cancellation records the running job as cancelled and stops', async () => {
    const { plan, source } = await setup('full');
    const ac = new AbortController();
    const { runner } = recordingRunner([], async (a) => {
      if (a.job.view === 'dense') {
        ac.abort();
        const err = new Error('stopped at step 4');
        err.name = 'AbortError';
        throw err;
      }
      return { status: 'success' };
    });
    const sink = new MemorySink();
    const res = await runStudy({
      jobs: plan.selected, dryRun: false, runner, files: source, sink, signal: ac.signal,
      phaseCRoot: plan.phaseCRoot, phaseDRoot: plan.phaseDRoot, artifactRoot: plan.artifactRoot, filters: plan.filters,
    });
    expect(res.cancelled).toBe(true);
    expect(res.entries.map((e) => e.result.status)).toEqual(['success', 'cancelled']);
    expect(res.notRun).toHaveLength(7);
    expect(JSON.parse(sink.readText('artifacts/training_manifest.json')!).jobs).toHaveLength(2);
  });

  it('N is inferred from the data (32x32 patterns give N=32, not the ModelConfig default 64)', async () => {
    const { plan, source } = await setup('n32');
    expect(plan.selected.map((j) => j.job.view)).toEqual(['baseline']);
    const { runner, calls } = recordingRunner([], () => ({ status: 'success' }));
    const sink = new MemorySink();
    await runStudy({
      jobs: plan.selected, dryRun: false, runner, files: source, sink, writeManifest: false,
      phaseCRoot: plan.phaseCRoot, phaseDRoot: plan.phaseDRoot, artifactRoot: plan.artifactRoot, filters: plan.filters,
    });
    expect(calls[0].config.model.N).toBe(32);
    expect(JSON.parse(sink.readText('artifacts/dose_1000/baseline/gs1/params.json')!).N).toBe(32);
    expect(await sink.exists('artifacts/training_manifest.json')).toBe(false);
  });

  it('refuses to run real jobs without a runner', async () => {
    await expect(runStudy({
      jobs: [], dryRun: false, files: memoryFileSource([]), sink: new MemorySink(),
      phaseCRoot: 'c', phaseDRoot: 'd', artifactRoot: 'a', filters: { dose: null, view: null, gridsize: null },
    })).rejects.toThrow(/needs a JobRunner/);
  });
});
