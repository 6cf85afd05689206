import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadPtychoPinnRunner, main, OPTIONS, PROG } from '../../src/cli/study';
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from '../../src/cli/args';
import { planStudy, memoryFileSource } from '../../src/lib/study/plan';
import { inspectNpz } from '../../src/lib/study/inspect';
import { runStudy } from '../../src/lib/pipeline/run';
import { MemorySink } from '../../src/lib/report/sinks';
import type { JobRunner } from '../../src/lib/study/runner';
import { havePython, loadTree, runPython, TREES } from '../lib/study/helpers';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TSX = `${REPO}node_modules/.bin/tsx`;
const CLI = `${REPO}src/cli/study.ts`;
const tmp = mkdtempSync(`${tmpdir()}/study-cli-`);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const freshDir = () => `${tmp}/a${++n}`;
const FIXED_NOW = Date.UTC(2025, 10, 4, 6, 0, 41) + 71.179;

function cli(args: string[], cwd = REPO) {
  const r = spawnSync(TSX, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function run(args: string[], loadRunner?: () => Promise<{ runner: JobRunner; backend: string }>) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, now: () => FIXED_NOW, loadRunner });
  return { code, stdout, stderr };
}

const roots = (tree: string) => ['--phase-c-root', `${TREES}${tree}/phase_c`, '--phase-d-root', `${TREES}${tree}/phase_d`];
const manifestOf = (dir: string) => JSON.parse(readFileSync(`${dir}/training_manifest.json`, 'utf8')) as {
  jobs: { dose: number; view: string; gridsize: number; log_path: string; artifact_dir: string }[];
  skipped_views: { dose: number; view: string; reason: string }[]; skipped_count: number; filters: unknown;
};

describe('study CLI as a subprocess (exit statuses)', () => {
  it('bad arguments: usage and exit status 2', () => {
    const missing = cli(['--phase-c-root', 'x']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^usage: study \[-h\] --phase-c-root PHASE_C_ROOT/);
    expect(missing.stderr).toContain('study: error: the following arguments are required: --phase-d-root, --artifact-root');
    const badView = cli([...roots('full'), '--artifact-root', freshDir(), '--view', 'wide']);
    expect(badView.code).toBe(2);
    expect(badView.stderr).toContain("argument --view: invalid choice: 'wide' (choose from 'baseline', 'dense', 'sparse')");
  });

  it('a dose that does not exist: the warning with the existing values, exit 0, no manifest', () => {
    const dir = freshDir();
    const r = cli([...roots('full'), '--artifact-root', dir, '--dose', '5000']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  → Filtered by dose=5000.0: 0 jobs remain\n\n⚠ No jobs match the specified filters. Exiting without training.\n');
    expect(r.stdout).toContain('Available: dose 1000.0, 10000.0, 100000.0; view baseline, dense, sparse; gridsize 1, 2.');
    expect(existsSync(dir)).toBe(true); // the artifact root is created first
    expect(existsSync(`${dir}/training_manifest.json`)).toBe(false);
  });

  it('the CLI manifest equals the app-side manifest (planStudy + runStudy + memory sink) apart from the timestamp, and Python loads it', async () => {
    const art = freshDir();
    const r = cli(['--phase-c-root', './phase_c/', '--phase-d-root', 'phase_d', '--artifact-root', art, '--gridsize', '2', '--dry'], `${TREES}sparse_missing`);
    expect(r.code).toBe(0);
    const cliText = readFileSync(`${art}/training_manifest.json`, 'utf8');

    const files = await loadTree('sparse_missing');
    const plan = await planStudy(files, { inspect: inspectNpz, artifactRoot: art, filters: { gridsize: '2' } });
    const sink = new MemorySink();
    const res = await runStudy({
      jobs: plan.selected, dryRun: true, files: memoryFileSource(files), sink,
      phaseCRoot: plan.phaseCRoot, phaseDRoot: plan.phaseDRoot, artifactRoot: plan.artifactRoot,
      filters: plan.filters, skipped: plan.skipped,
    });
    const strip = (t: string) => t.replace(/"timestamp": "[^"]+"/, '"timestamp": "T"');
    expect(strip(res.manifestText!)).toBe(strip(cliText));
    expect(cliText).toMatch(/^\{\n {2}"timestamp": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z",\n {2}"phase_c_root": "phase_c",/);
    expect(manifestOf(art).jobs).toHaveLength(3);
    expect(manifestOf(art).skipped_count).toBe(3);
    for (const j of manifestOf(art).jobs) {
      expect(readFileSync(j.log_path, 'utf8')).toBe(sink.readText(j.log_path));
    }
    if (havePython) {
      const out = runPython(
        'import json,sys\nm=json.load(sys.stdin)\n' +
        'print(len(m["jobs"]), repr(m["jobs"][0]["dose"]), m["filters"]["gridsize"], m["skipped_count"])', cliText);
      expect(out.trim()).toBe('3 1000.0 2 3');
    }
  });
});

describe('study CLI main() against the fixture trees (the reference scenarios, E4 training.py:389-476)', () => {
  it('prints the reference transcript for --dose 1000 --view baseline --dry-run', async () => {
    const dir = freshDir();
    const r = await run([...roots('full'), '--artifact-root', dir, '--dose', '1000', '--view', 'baseline', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `Enumerating training jobs from Phase C (${TREES}full/phase_c) and Phase D (${TREES}full/phase_d)...\n` +
      '  → 9 total jobs enumerated\n' +
      '  → Filtered by dose=1000.0: 3 jobs remain\n' +
      '  → Filtered by view=baseline: 1 jobs remain\n' +
      '\nExecuting 1 training job(s)...\n' +
      '  [1/1] baseline (dose=1e+03, gridsize=1)\n' +
      `\n✓ Training manifest written to ${dir}/training_manifest.json\n` +
      '  → 1 job(s) completed\n');
    expect(readFileSync(`${dir}/dose_1000/baseline/gs1/train.log`, 'utf8')).toBe(
      `DRY RUN: baseline dose=1000.0 gridsize=1\nTrain: ${TREES}full/phase_c/dose_1000/patched_train.npz\n` +
      `Test: ${TREES}full/phase_c/dose_1000/patched_test.npz\n`);
    const text = readFileSync(`${dir}/training_manifest.json`, 'utf8');
    expect(text).toContain('"timestamp": "2025-11-04T06:00:41.071179Z"');
    expect(text).toContain('"filters": {\n    "dose": 1000.0,\n    "view": "baseline",\n    "gridsize": null\n  },');
  });

  it.each([
    [[], 9],
    [['--dose', '1000'], 3],
    [['--dose', '1e3'], 3],
    [['--dose=1000.0'], 3],
    [['--view', 'baseline'], 3],
    [['--gridsize', '2'], 6],
    [['--dose', '10000', '--view', 'dense', '--gridsize', '2'], 1],
  ])('filters %j -> %i jobs, in dose-major order, in the reference layout', async (filters, count) => {
    const dir = freshDir();
    const r = await run([...roots('full'), '--artifact-root', dir, ...filters, '--dry']);
    expect(r.code).toBe(0);
    const m = manifestOf(dir);
    expect(m.jobs).toHaveLength(count);
    const order = ['baseline', 'dense', 'sparse'];
    const keys = m.jobs.map((j) => j.dose * 10 + order.indexOf(j.view));
    expect([...keys].sort((a, b) => a - b)).toEqual(keys);
    for (const j of m.jobs) {
      expect(j.artifact_dir).toBe(`${dir}/dose_${j.dose}/${j.view}/gs${j.gridsize}`);
      expect(j.log_path).toBe(`${j.artifact_dir}/train.log`);
      expect(readFileSync(j.log_path, 'utf8').split('\n')).toHaveLength(4);
    }
    expect(r.stdout).toContain(`  [${count}/${count}] `);
  });

  it('sparse missing everywhere: 6 jobs, 3 skip events with reasons, in the console and the manifest', async () => {
    const dir = freshDir();
    const r = await run([...roots('sparse_missing'), '--artifact-root', dir, '--dry-run']);
    expect(r.code).toBe(0);
    const m = manifestOf(dir);
    expect(r.stdout).toContain('  → 6 total jobs enumerated\n  ⚠ 3 view(s) skipped due to missing Phase D data:\n' +
      m.skipped_views.map((s, i) => `    - sparse (dose=1e+0${3 + i}): ${s.reason.slice(0, 80)}...\n`).join(''));
    expect(m.skipped_views[0].reason.slice(0, 80)).toBe('NPZ files not found (train=False, test=False). Checked primary (sparse_train.npz');
    expect(m.jobs.map((j) => j.view)).toEqual(['baseline', 'dense', 'baseline', 'dense', 'baseline', 'dense']);
    expect(m.skipped_count).toBe(3);
    expect(m.skipped_views.map((s) => s.dose)).toEqual([1000, 10000, 100000]);
    for (const s of m.skipped_views) expect(s.reason).toContain('not found');
  });

  it('with a runner: bridged params.json per job, results in the manifest, failures recorded and the loop goes on', async () => {
    const dir = freshDir();
    const runner: JobRunner = async ({ job, params, onProgress }) => {
      if (job.view === 'dense') throw new Error('device lost');
      onProgress?.({ status: 'step', epoch: 1, epochs: 2, step: 1, steps: 1, loss: -3, samples_per_second: 9, eta_seconds: null });
      onProgress?.({ status: 'epoch', epochs: 2, record: { epoch: 1, train_loss: -101.55123, val_loss: -95.921, learning_rate: 1e-3, seconds: 5.27, samples_per_second: 55 } });
      onProgress?.({ status: 'score', epoch: 1, amplitude_ssim: 0.2871 });
      onProgress?.({ status: 'epoch', epochs: 2, record: { epoch: 2, train_loss: -101.6, val_loss: null, learning_rate: 5e-4, seconds: 5.31, samples_per_second: 55 } });
      return { status: 'success', final_loss: 0.5, epochs_completed: Number(params.nepochs), bundle_path: 'model/model.json', bundle_sha256: 'ab'.repeat(32), bundle_size_bytes: 10 };
    };
    const r = await run([...roots('broken'), '--artifact-root', dir], async () => ({ runner, backend: 'cpu' }));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  ⚠ 1 file(s) failed validation; 1 job(s) blocked:\n    ✗ ');
    expect(r.stdout).toContain('    → Bundle [baseline/dose=1e+03]: model/model.json\n');
    // A line per epoch and per live score, nothing per step.
    expect(r.stdout).toContain(
      '    epoch 1/2: loss -101.551, val_loss -95.9210, lr 1.00e-3, 5.3 s\n' +
      '    epoch 1: amplitude SSIM 0.287 against the true object (placed)\n' +
      '    epoch 2/2: loss -101.600, val_loss n/a, lr 5.00e-4, 5.3 s\n    → Bundle',
    );
    expect(r.stdout).toContain('    ✗ blocked: Blocked by validation errors:');
    expect(r.stdout).toContain('  → 2 job(s) completed\n  → 1 job(s) blocked\n');
    const m = JSON.parse(readFileSync(`${dir}/training_manifest.json`, 'utf8'));
    expect(m.backend).toBe('cpu');
    expect(m.jobs.map((j: { result: { status: string } }) => j.result.status)).toEqual(['success', 'blocked', 'success']);
    const params = JSON.parse(readFileSync(`${dir}/dose_1000/sparse/gs2/params.json`, 'utf8'));
    expect(params).toMatchObject({ N: 64, gridsize: 2, nphotons: 1000, output_prefix: `${dir}/dose_1000/sparse/gs2`, nepochs: 50 });
    expect(existsSync(`${dir}/dose_1000/dense/gs2/params.json`)).toBe(false);
  });

  it('a root that is not a directory is an error (exit 1)', async () => {
    const r = await run(['--phase-c-root', `${tmp}/nope`, '--phase-d-root', `${TREES}full/phase_d`, '--artifact-root', freshDir(), '--dry']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--phase-c-root is not a directory');
  });
});

describe('the CLI\'s runner', () => {
  it('is the PtychoPINN runner on the WASM backend (trained there in test/lib/pipeline/runner.test.ts)', async () => {
    try {
      const loaded = await loadPtychoPinnRunner();
      expect(loaded?.backend).toBe('wasm');
      expect(typeof loaded?.runner).toBe('function');
      expect(tf.getBackend()).toBe('wasm');
    } finally {
      await tf.setBackend('cpu');
    }
  });
});

describe('--backend', () => {
  it('cpu starts the tfjs CPU backend for the runner; the default stays WASM', async () => {
    try {
      const loaded = await loadPtychoPinnRunner('cpu');
      expect(loaded?.backend).toBe('cpu');
      expect(tf.getBackend()).toBe('cpu');
      const wasm = await loadPtychoPinnRunner('wasm');
      expect(wasm?.backend).toBe('wasm');
      expect(tf.getBackend()).toBe('wasm');
    } finally {
      await tf.setBackend('cpu');
    }
  });
});

describe('argparse semantics', () => {
  const p = (argv: string[]) => parseArgs(argv, OPTIONS, PROG);
  const req = ['--phase-c-root', 'c', '--phase-d-root', 'd', '--artifact-root', 'a'];
  it('accepts unambiguous prefixes and --opt=value; rejects ambiguous ones', () => {
    expect(p(['--phase-c', 'c', '--phase-d=d', '--art', 'a', '--dr', '--g', '1'])).toEqual({
      ok: true,
      values: {
        phase_c_root: 'c', phase_d_root: 'd', artifact_root: 'a', dose: null, view: null, gridsize: 1, dry_run: true,
        nepochs: null, n_groups: null, batch_size: null, n_filters_scale: null, object_big: null, backend: null,
        jobs: null, job_index: null, merge: false, slurm: false, submit: false, only_missing: false, sbatch_arg: [],
      },
    });
    const amb = p([...req, '--d', '1']);
    expect(amb.ok).toBe(false);
    if (!amb.ok) expect(amb.stderr).toContain('error: ambiguous option: --d could match --dose, --dry-run');
  });
  it.each([
    [['--dose'], 'argument --dose: expected one argument'],
    [['--dose', 'x'], "argument --dose: invalid float value: 'x'"],
    [['--gridsize', '3'], 'argument --gridsize: invalid choice: 3 (choose from 1, 2)'],
    [['--gridsize', '1.0'], "argument --gridsize: invalid int value: '1.0'"],
    [['--dry-run=yes'], "argument --dry-run: ignored explicit argument 'yes'"],
    [['extra', '--wat'], 'unrecognized arguments: extra --wat'],
  ])('%j -> exit 2: %s', (extra, message) => {
    const r = p([...req, ...extra]);
    expect(r).toMatchObject({ ok: false, exitCode: 2 });
    if (!r.ok) expect(r.stderr).toContain(`study: error: ${message}\n`);
  });
  it('negative numbers are values; -h prints help and exits 0', () => {
    expect(p([...req, '--dose', '-5'])).toMatchObject({ ok: true, values: { dose: -5 } });
    const h = p(['-h']);
    expect(h).toMatchObject({ ok: false, exitCode: 0 });
    if (!h.ok) expect(h.stdout).toContain('--view {baseline,dense,sparse}');
  });
});
