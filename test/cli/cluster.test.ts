/**
 * One job per process and the merge (--job-index, --merge), the SLURM script writer (--slurm,
 * --submit against a stand-in sbatch, --only-missing) and their errors, without a cluster. The
 * truth is a single-process run of the same flags: per-job tasks plus a merge must write the same
 * training_manifest.json, byte for byte when the clock and backend are the same.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { main, type CliIO } from '../../src/cli/study';
import { parsePyJson } from '../../src/lib/cluster/results';
import { parseArraySpec } from '../../src/lib/cluster/slurm';
import type { JobRunner } from '../../src/lib/study/runner';
import { TREES } from '../lib/study/helpers';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const tmp = mkdtempSync(`${tmpdir()}/study-cluster-`);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const freshDir = () => `${tmp}/a${++n}`;
const FIXED_NOW = Date.UTC(2025, 10, 4, 6, 0, 41) + 71.179;
const roots = (tree: string) => ['--phase-c-root', `${TREES}${tree}/phase_c`, '--phase-d-root', `${TREES}${tree}/phase_d`];

/** A deterministic stand-in for the PtychoPINN runner: its result depends on the job and the bridged params only. */
const fakeRunner: JobRunner = async ({ job, params, sink }) => {
  await sink.appendText(job.log_path, `trained ${job.view}\n`);
  if (job.view === 'sparse' && job.dose === 10000) {
    return { status: 'failed', error: 'train: loss became NaN at step 3', final_loss: NaN, history: { train_loss: [1.5, NaN], val_loss: [null, NaN], learning_rate: [0.001, 0.001] } };
  }
  return {
    status: 'success', final_loss: job.dose / 1e4 + 0.125, epochs_completed: Number(params.nepochs),
    history: { train_loss: [2, 1.5], val_loss: [2.5, null], learning_rate: [0.001, 0.0005] },
    n_groups_used: params.n_groups, filters_scale: params.n_filters_scale, batch: params.batch_size,
    bundle_path: 'model.zip', bundle_sha256: 'ab'.repeat(32), bundle_size_bytes: 1234,
  };
};

interface Run { code: number; stdout: string; stderr: string }
async function run(args: string[], more: Partial<CliIO> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, now: () => FIXED_NOW,
    loadRunner: async () => ({ runner: fakeRunner, backend: 'cpu' }), ...more,
  });
  return { code, stdout, stderr };
}

const manifestText = (dir: string) => readFileSync(`${dir}/training_manifest.json`, 'utf8');
const resultOf = (dir: string, rel: string) => parsePyJson(readFileSync(`${dir}/${rel}/result.json`, 'utf8')) as {
  job_index: number; jobs_selected: number; backend: string | null; dry_run: boolean; entry: { view: string; result: Record<string, unknown> };
};
const JOB_DIRS = ['dose_1000/baseline/gs1', 'dose_1000/dense/gs2', 'dose_1000/sparse/gs2', 'dose_10000/baseline/gs1',
  'dose_10000/dense/gs2', 'dose_10000/sparse/gs2', 'dose_100000/baseline/gs1', 'dose_100000/dense/gs2', 'dose_100000/sparse/gs2'];

describe('--job-index K, then --merge: the single-process manifest, byte for byte', () => {
  it('dry run, all 9 jobs of the full tree', async () => {
    const single = freshDir();
    const tasks = freshDir();
    expect((await run([...roots('full'), '--artifact-root', single, '--dry-run'])).code).toBe(0);
    for (const k of [8, 3, 0, 5, 1, 7, 2, 6, 4]) { // any order: the merge restores manifest order
      const r = await run([...roots('full'), '--artifact-root', tasks, '--dry-run', '--job-index', String(k)]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`  [${k + 1}/9] `);
      expect(r.stdout).toContain(`✓ Job result written to ${tasks}/${JOB_DIRS[k]}/result.json (dry_run)`);
    }
    expect(existsSync(`${tasks}/training_manifest.json`)).toBe(false); // a task never writes the manifest
    const m = await run([...roots('full'), '--artifact-root', tasks, '--dry-run', '--merge']);
    expect(m.code).toBe(0);
    expect(m.stdout).toContain('  → 9 job(s) dry_run\n');
    expect(manifestText(tasks).replaceAll(tasks, 'ROOT')).toBe(manifestText(single).replaceAll(single, 'ROOT'));
    for (const d of JOB_DIRS) expect(readFileSync(`${tasks}/${d}/train.log`, 'utf8')).toBe(readFileSync(`${single}/${d}/train.log`, 'utf8').replaceAll(single, tasks));
  });

  it('real runner with training-size flags: same params.json, same entries (a NaN history included), failures kept', async () => {
    const size = ['--nepochs', '3', '--n-groups', '40', '--batch-size', '8', '--n-filters-scale', '0.5'];
    const single = freshDir();
    const tasks = freshDir();
    const s = await run([...roots('full'), '--artifact-root', single, ...size]);
    expect(s.code).toBe(0);
    for (let k = 0; k < 9; k++) {
      const r = await run([...roots('full'), '--artifact-root', tasks, ...size, '--job-index', String(k)]);
      // the failed job's task writes its result and exits non-zero
      expect(r.code).toBe(k === 5 ? 1 : 0);
      expect(readFileSync(`${tasks}/${JOB_DIRS[k]}/params.json`, 'utf8').replaceAll(tasks, 'ROOT'))
        .toBe(readFileSync(`${single}/${JOB_DIRS[k]}/params.json`, 'utf8').replaceAll(single, 'ROOT'));
    }
    expect(resultOf(tasks, JOB_DIRS[5])).toMatchObject({ job_index: 5, jobs_selected: 9, backend: 'cpu', dry_run: false, entry: { view: 'sparse', result: { status: 'failed', error: 'train: loss became NaN at step 3' } } });
    expect(readFileSync(`${tasks}/${JOB_DIRS[5]}/result.json`, 'utf8')).toContain('"final_loss": NaN');
    const params = JSON.parse(readFileSync(`${tasks}/${JOB_DIRS[1]}/params.json`, 'utf8'));
    expect(params).toMatchObject({ nepochs: 3, n_groups: 40, batch_size: 8, n_filters_scale: 0.5, gridsize: 2, nphotons: 1000 });
    const m = await run([...roots('full'), '--artifact-root', tasks, ...size, '--merge']);
    expect(m.code).toBe(0);
    expect(m.stdout).toContain('  → 8 job(s) success\n  → 1 job(s) failed\n');
    expect(m.stdout).toContain('  [6/9] sparse (dose=1e+04, gridsize=2) failed: train: loss became NaN at step 3\n');
    expect(manifestText(tasks).replaceAll(tasks, 'ROOT')).toBe(manifestText(single).replaceAll(single, 'ROOT'));
  });

  it('a job blocked by validation: its task records blocked and exits 1; validating only its own files', async () => {
    const dir = freshDir();
    const ok = await run([...roots('broken'), '--artifact-root', dir, '--job-index', '0']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).not.toContain('failed validation'); // the broken file belongs to job 1
    const r = await run([...roots('broken'), '--artifact-root', dir, '--job-index', '1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('  ⚠ 1 file(s) failed validation; 1 job(s) blocked:');
    expect(resultOf(dir, 'dose_1000/dense/gs2').entry.result.status).toBe('blocked');
  });

  it('a missing or foreign result.json is kept as "missing" with the reason, never dropped; counts per status', async () => {
    const dir = freshDir();
    for (const k of [0, 1, 2]) await run([...roots('full'), '--artifact-root', dir, '--dose', '1000', '--job-index', String(k)]);
    // a result.json that belongs to another study (a job of the unfiltered study copied in the wrong place)
    const other = freshDir();
    await run([...roots('full'), '--artifact-root', other, '--dose', '1000', '--job-index', '1']);
    writeFileSync(`${dir}/dose_1000/sparse/gs2/result.json`, readFileSync(`${other}/dose_1000/dense/gs2/result.json`));
    rmSync(`${dir}/dose_1000/baseline/gs1/result.json`);
    const m = await run([...roots('full'), '--artifact-root', dir, '--dose', '1000', '--merge']);
    expect(m.code).toBe(0);
    expect(m.stdout).toContain('  → 2 job(s) missing\n  → 1 job(s) success\n');
    const man = JSON.parse(manifestText(dir)) as { jobs: { view: string; result: { status: string; error?: string } }[] };
    expect(man.jobs.map((j) => [j.view, j.result.status])).toEqual([['baseline', 'missing'], ['dense', 'success'], ['sparse', 'missing']]);
    expect(man.jobs[0].result.error).toMatch(/^No result\.json in .*dose_1000\/baseline\/gs1: the job's task never finished/);
    expect(man.jobs[2].result.error).toContain('belongs to another job or study (view "dense" instead of "sparse"');
  });

  it('a task removes its old result.json before it starts, writes the new one atomically, and a cancelled job is recorded', async () => {
    const dir = freshDir();
    await run([...roots('full'), '--artifact-root', dir, '--view', 'baseline', '--job-index', '0']);
    const controller = new AbortController();
    let sawOld: boolean | null = null;
    const cancelling: JobRunner = async ({ job, signal }) => {
      sawOld = existsSync(`${job.artifact_dir}/result.json`);
      controller.abort();
      signal?.throwIfAborted();
      return { status: 'success' };
    };
    const r = await run([...roots('full'), '--artifact-root', dir, '--view', 'baseline', '--job-index', '0'],
      { signal: controller.signal, loadRunner: async () => ({ runner: cancelling, backend: 'cpu' }) });
    expect(sawOld).toBe(false);
    expect(r.code).toBe(130);
    expect(resultOf(dir, 'dose_1000/baseline/gs1').entry.result.status).toBe('cancelled');
    expect(readdirSync(`${dir}/dose_1000/baseline/gs1`).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
});

describe('errors: one line, exit 2 for arguments, 1 for the environment', () => {
  const oneLine = (r: Run, code: number, text: string) => {
    expect(r.code).toBe(code);
    expect(r.stderr).toBe(`study: error: ${text}\n`);
  };
  it('--job-index out of range (after the filters) and negative', async () => {
    oneLine(await run([...roots('full'), '--artifact-root', freshDir(), '--dose', '1e3', '--job-index', '3', '--dry-run']), 2,
      'argument --job-index: 3 is out of range: the filters select 3 job(s) (indices 0-2)');
    oneLine(await run([...roots('full'), '--artifact-root', freshDir(), '--job-index', '-1']), 2, 'argument --job-index: must be 0 or more, got -1');
  });
  it('--merge with no results', async () => {
    const dir = freshDir();
    oneLine(await run([...roots('full'), '--artifact-root', dir, '--merge']), 1,
      `--merge found no result.json for any of the 9 selected job(s) under ${dir} (run the jobs first: --job-index K, or --slurm --submit)`);
    expect(existsSync(`${dir}/training_manifest.json`)).toBe(false);
  });
  it('--submit where sbatch is absent', async () => {
    const dir = freshDir();
    oneLine(await run([...roots('full'), '--artifact-root', dir, '--slurm', '--submit'], { env: { PATH: `${tmp}/no-such-dir` } }), 1,
      "--submit needs SLURM's sbatch, which is not on PATH (use --slurm alone to write the scripts)");
    expect(existsSync(`${dir}/slurm`)).toBe(false);
  });
  it.each([
    [['--merge', '--job-index', '0'], '--job-index and --merge cannot be combined (each is one step of a cluster run)'],
    [['--slurm', '--merge'], '--merge and --slurm cannot be combined (each is one step of a cluster run)'],
    [['--only-missing'], '--only-missing needs --slurm'],
    [['--sbatch-arg=--time=1:00:00'], '--sbatch-arg needs --slurm'],
    [['--slurm', '--sbatch-arg', '--array=0-3'], 'argument --sbatch-arg: --array is set by the generated scripts and cannot be passed through'],
    [['--nepochs', '0'], 'argument --nepochs: must be a whole number of at least 1, got 0'],
    [['--n-filters-scale', '0.3'], 'argument --n-filters-scale: must be a multiple of 0.25, at least 0.25 (every layer keeps a whole number of filters), got 0.3'],
  ])('%j', async (extra, text) => {
    oneLine(await run([...roots('full'), '--artifact-root', freshDir(), ...extra]), 2, text);
  });
  it('argparse errors for the new flags (usage, exit 2)', async () => {
    const r = await run([...roots('full'), '--artifact-root', freshDir(), '--backend', 'tpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("study: error: argument --backend: invalid choice: 'tpu' (choose from 'wasm', 'cpu', 'webgpu')");
  });
});

describe('--slurm and --submit (a stand-in sbatch)', () => {
  const bin = `${tmp}/bin`;
  mkdirSync(bin, { recursive: true });
  // records each call's argv (one line each) and answers with a job id, as `sbatch --parsable` does
  writeFileSync(`${bin}/sbatch`, '#!/bin/bash\nn=$(( $(wc -l < "$SBATCH_LOG" 2>/dev/null || echo 0) + 1 ))\necho "$*" >> "$SBATCH_LOG"\necho "$((4000 + n));cluster"\n');
  chmodSync(`${bin}/sbatch`, 0o755);

  it('writes both scripts and the log folder, submits the array then the merge after it, prints how to follow', async () => {
    const dir = freshDir();
    const log = `${tmp}/sbatch-${n}.log`;
    const r = await run([...roots('full'), '--artifact-root', dir, '--gridsize', '2', '--nepochs', '1', '--submit',
      '--sbatch-arg', '--partition=debug', '--sbatch-arg=--gres=gpu:1'], { env: { PATH: `${bin}:${process.env.PATH}`, SBATCH_LOG: log } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const train = readFileSync(`${dir}/slurm/train.sbatch`, 'utf8');
    expect(train).toContain('#SBATCH --array=0-5\n');
    expect(train).toContain(`#SBATCH --output=${dir}/slurm/logs/train-%A_%a.out\n`);
    expect(train).toContain('#SBATCH --partition=debug\n#SBATCH --gres=gpu:1\n');
    expect(train).toContain(`PROJECT_DIR=${REPO.replace(/\/$/, '')}\n`);
    expect(train).toContain(`NODE=${process.execPath}\n`);
    expect(train).toContain(`--gridsize 2 --nepochs 1 \\\n  --job-index "$SLURM_ARRAY_TASK_ID"`);
    expect(existsSync(`${dir}/slurm/logs`)).toBe(true);
    expect(spawnSync('bash', ['-n', `${dir}/slurm/merge.sbatch`]).status).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe(`--parsable ${dir}/slurm/train.sbatch\n--parsable --dependency=afterany:4001 ${dir}/slurm/merge.sbatch\n`);
    expect(r.stdout).toContain('✓ Submitted job array 4001 (6 task(s)) and merge job 4002 (runs after 4001 ends)\n');
    expect(r.stdout).toContain('    squeue -j 4001,4002\n    sacct -j 4001,4002 --format=JobID,JobName%20,State,ExitCode,Elapsed\n');
  });

  it('an sbatch that refuses: one line with its reason, exit 1', async () => {
    const bad = `${tmp}/badbin`;
    mkdirSync(bad, { recursive: true });
    writeFileSync(`${bad}/sbatch`, '#!/bin/bash\necho "sbatch: error: Batch job submission failed: Invalid partition name specified" >&2\nexit 1\n');
    chmodSync(`${bad}/sbatch`, 0o755);
    const dir = freshDir();
    const r = await run([...roots('full'), '--artifact-root', dir, '--submit'], { env: { PATH: `${bad}:${process.env.PATH}` } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`study: error: sbatch --parsable ${dir}/slurm/train.sbatch failed: sbatch: error: Batch job submission failed: Invalid partition name specified\n`);
  });

  it('--only-missing puts exactly the jobs without a successful result.json in the array', async () => {
    const dir = freshDir();
    for (const k of [0, 2, 4, 5, 8]) await run([...roots('full'), '--artifact-root', dir, '--job-index', String(k)]);
    // job 5 failed (fake runner), 4's result is corrupt; 1, 3, 6, 7 never ran
    writeFileSync(`${dir}/${JOB_DIRS[4]}/result.json`, '{"entry": {');
    const r = await run([...roots('full'), '--artifact-root', dir, '--slurm', '--only-missing']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  → --only-missing: 6 of 9 job(s) have no successful result.json\n');
    const array = /#SBATCH --array=(\S+)/.exec(readFileSync(`${dir}/slurm/train.sbatch`, 'utf8'))![1];
    expect(parseArraySpec(array)).toEqual([1, 3, 4, 5, 6, 7]);
    expect(r.stdout).toContain('Submit them with:\n    jid=$(sbatch --parsable');
    // when everything succeeded there is nothing to run
    const done = freshDir();
    for (let k = 0; k < 3; k++) await run([...roots('full'), '--artifact-root', done, '--dose', '1e5', '--job-index', String(k)]);
    const none = await run([...roots('full'), '--artifact-root', done, '--dose', '1e5', '--slurm', '--only-missing']);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('✓ All 3 selected job(s) already have a successful result.json; nothing to run');
    expect(existsSync(`${done}/slurm/train.sbatch`)).toBe(false);
  });
});
