import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { unzipSync, strFromU8 } from 'fflate';
import fc from 'fast-check';
import {
  arraySpec, clusterZip, fitCpusPerTask, parseArraySpec, parseSinfo, stuckReasons, STUCK_REASONS, sbatchArgProblem, sbatchScripts, shellQuote, studyFlags, CLUSTER_ZIP_DIR,
  type StudyCommand,
} from '../../../src/lib/cluster/slurm';
import { parseArgs } from '../../../src/cli/args';
import { OPTIONS, PROG } from '../../../src/cli/study';

const tmp = mkdtempSync(`${tmpdir()}/slurm-gen-`);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A stand-in for node: writes its argv (NUL-separated) and working directory where STUB_OUT says. */
const STUB = `${tmp}/stub-node`;
writeFileSync(STUB, '#!/bin/bash\n{ printf "%s\\0" "$PWD" "$@"; } > "$STUB_OUT"\n');
chmodSync(STUB, 0o755);

const bashN = (script: string) => spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });

/** Run a generated script with bash (as sbatch would), node replaced by the stub; returns [cwd, ...argv]. */
function runScript(script: string, env: Record<string, string>, cwd = tmp): { code: number | null; stderr: string; argv: string[] } {
  const file = `${tmp}/script-${Math.random().toString(36).slice(2)}.sh`;
  const out = `${file}.argv`;
  writeFileSync(file, script);
  const r = spawnSync('bash', [file], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', STUB_OUT: out, ...env } });
  let argv: string[] = [];
  try { argv = readFileSync(out, 'utf8').split('\0').slice(0, -1); } catch { /* not run */ }
  return { code: r.status, stderr: r.stderr, argv };
}

/** The study CLI's own parser reads the flags back (what the CLI will do on the cluster). */
function parseBack(argv: string[]) {
  const r = parseArgs(argv, OPTIONS, PROG);
  if (!r.ok) throw new Error(r.stderr);
  return r.values;
}

const command = (over: Partial<StudyCommand> = {}): StudyCommand => ({
  phaseCRoot: '/data/phase c/it\'s here',
  phaseDRoot: 'rel/phase_d',
  artifactRoot: '/scratch/a "b" $HOME `x`',
  filters: { dose: 1000, view: 'dense', gridsize: 2 },
  dryRun: false,
  size: { nepochs: 3, n_groups: 64, batch_size: 8, n_filters_scale: 0.25, object_big: true },
  backend: 'wasm',
  ...over,
});

describe('array specs', () => {
  it('collapses runs and parses back', () => {
    expect(arraySpec([0, 1, 2, 3, 4, 5, 6, 7, 8])).toBe('0-8');
    expect(arraySpec([7, 1, 4, 5])).toBe('1,4-5,7');
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { minLength: 1 }), (xs) => {
      expect(parseArraySpec(arraySpec(xs))).toEqual([...xs].sort((a, b) => a - b));
    }));
  });
});

describe('shell quoting', () => {
  it('bash reads every string back unchanged', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !s.includes('\0')), (s) => {
      const r = spawnSync('bash', ['-c', `printf '%s' ${shellQuote(s)}`], { encoding: 'utf8' });
      expect(r.stdout).toBe(s);
    }), { numRuns: 60 });
  });
});

describe('sbatch scripts from the CLI (real paths)', () => {
  const work = `${tmp}/work dir`;
  mkdirSync(work, { recursive: true });
  const gen = (over: Partial<Parameters<typeof sbatchScripts>[0]> = {}) => sbatchScripts({
    command: command(),
    indices: [0, 1, 2],
    jobCount: 3,
    paths: { kind: 'real', projectDir: '/opt/ptycho studio', workDir: work, node: STUB, slurmDir: '/scratch/art/slurm' },
    generatedBy: 'test',
    ...over,
  });

  it('pass bash -n, carry the array, logs and defaults at the top', () => {
    const s = gen({ indices: [1, 2], sbatchArgs: ['--partition=debug', '-t 1:00:00', '--gres=gpu:1'] });
    expect(bashN(s.train).status).toBe(0);
    expect(bashN(s.merge).status).toBe(0);
    const directives = s.train.split('\n').filter((l) => l.startsWith('#SBATCH'));
    expect(directives).toEqual([
      '#SBATCH --array=1-2',
      '#SBATCH --output=/scratch/art/slurm/logs/train-%A_%a.out',
      '#SBATCH --job-name=ptychopinn-train',
      '#SBATCH --ntasks=1',
      '#SBATCH --cpus-per-task=4',
      '#SBATCH --partition=debug',
      '#SBATCH -t 1:00:00',
      '#SBATCH --gres=gpu:1',
    ]);
    expect(s.train).toContain('#(replaced) --time=04:00:00');
    // every #SBATCH line comes before the first command (sbatch stops reading directives there)
    const lines = s.train.split('\n');
    const firstCommand = lines.findIndex((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(lines.slice(firstCommand).some((l) => l.startsWith('#SBATCH'))).toBe(false);
    expect(s.merge).toContain('#SBATCH --output=/scratch/art/slurm/logs/merge-%j.out');
    expect(s.merge).not.toContain('--array');
  });

  it('train.sbatch runs the CLI from the planning directory with the same flags plus --job-index $SLURM_ARRAY_TASK_ID', () => {
    const s = gen();
    const r = runScript(s.train, { SLURM_ARRAY_TASK_ID: '2' });
    expect(r.code).toBe(0);
    const [cwd, tsx, cli, ...argv] = r.argv;
    expect(cwd).toBe(work);
    expect(tsx).toBe('/opt/ptycho studio/node_modules/tsx/dist/cli.mjs');
    expect(cli).toBe('/opt/ptycho studio/src/cli/study.ts');
    expect(argv).toEqual([...studyFlags(command()), '--job-index', '2']);
    expect(parseBack(argv)).toMatchObject({
      phase_c_root: '/data/phase c/it\'s here', phase_d_root: 'rel/phase_d', artifact_root: '/scratch/a "b" $HOME `x`',
      dose: 1000, view: 'dense', gridsize: 2, dry_run: false, nepochs: 3, n_groups: 64, batch_size: 8, n_filters_scale: 0.25,
      object_big: 'true', backend: 'wasm', job_index: 2, merge: false,
    });
    const m = runScript(s.merge, {});
    expect(m.argv.slice(3)).toEqual([...studyFlags(command()), '--merge']);
  });

  it('without SLURM_ARRAY_TASK_ID the train script refuses', () => {
    const r = runScript(gen().train, {});
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('run this script with sbatch');
    expect(r.argv).toEqual([]);
  });

  it('rejects options the scripts own, and indices outside the selection', () => {
    expect(sbatchArgProblem('--array=0-3')).toContain('--array is set by the generated scripts');
    expect(sbatchArgProblem('--dependency=afterok:1')).toContain('--dependency');
    expect(sbatchArgProblem('partition=x')).toContain('must start with');
    expect(sbatchArgProblem('--account=abc')).toBeNull();
    expect(() => gen({ sbatchArgs: ['--output=x'] })).toThrow(/--output/);
    expect(() => gen({ indices: [3] })).toThrow(/outside 0-2/);
  });

  it('optional flags are left out when not given; the dose is written so it parses back exactly', () => {
    const c = command({ filters: { dose: 1e5, view: null, gridsize: null }, size: { nepochs: null, n_groups: null, batch_size: null, n_filters_scale: 2, object_big: null }, backend: null, dryRun: true });
    const flags = studyFlags(c);
    expect(flags).toEqual(['--phase-c-root', c.phaseCRoot, '--phase-d-root', c.phaseDRoot, '--artifact-root', c.artifactRoot,
      '--dose', '100000.0', '--dry-run', '--n-filters-scale', '2']);
    expect(parseBack(flags)).toMatchObject({ dose: 1e5, view: null, gridsize: null, nepochs: null, n_filters_scale: 2, dry_run: true, backend: null });
  });
});

describe('the app\'s "Run on a cluster" zip', () => {
  const onScreen = {
    filters: { dose: 10000, view: 'sparse' as const, gridsize: 2 as const },
    dryRun: false,
    size: { nepochs: 7, n_groups: 96, batch_size: 4, n_filters_scale: 0.75, object_big: null },
    jobCount: 3,
    timestamp: '2026-01-01T00:00:00Z',
  };
  const files = unzipSync(clusterZip(onScreen));
  const text = (name: string) => strFromU8(files[`${CLUSTER_ZIP_DIR}/${name}`]);

  it('holds train.sbatch, merge.sbatch and README.txt; the scripts pass bash -n', () => {
    expect(Object.keys(files).sort()).toEqual([`${CLUSTER_ZIP_DIR}/README.txt`, `${CLUSTER_ZIP_DIR}/merge.sbatch`, `${CLUSTER_ZIP_DIR}/train.sbatch`]);
    expect(bashN(text('train.sbatch')).status).toBe(0);
    expect(bashN(text('merge.sbatch')).status).toBe(0);
    expect(text('train.sbatch')).toContain('#SBATCH --array=0-2\n');
    expect(text('README.txt')).toContain('3 training job(s) (dose 10000.0, view sparse, gridsize 2, nepochs 7, n_groups 96, batch_size 4, n_filters_scale 0.75)');
  });

  it('refuses to run while the placeholders are there', () => {
    const r = runScript(text('train.sbatch'), { SLURM_ARRAY_TASK_ID: '0', NODE: STUB });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('fill in the @...@ placeholders');
    expect(r.argv).toEqual([]);
  });

  it('after the README\'s sed, the scripts run the CLI with the on-screen filters and settings', () => {
    const dir = `${tmp}/unzipped`;
    mkdirSync(dir, { recursive: true });
    for (const name of ['train.sbatch', 'merge.sbatch']) writeFileSync(`${dir}/${name}`, text(name));
    // the README's own sed command, with its example paths
    const sed = text('README.txt').split('\n').find((l) => l.trim().startsWith('sed -i'))!;
    const r0 = spawnSync('bash', ['-c', sed], { cwd: dir, encoding: 'utf8' });
    expect(r0.status, r0.stderr).toBe(0);
    const train = readFileSync(`${dir}/train.sbatch`, 'utf8');
    expect(train).not.toMatch(/@[A-Z_]+@/);
    expect(train).toContain('#SBATCH --output=/scratch/study_artifacts/slurm/logs/train-%A_%a.out');
    const r = runScript(train, { SLURM_ARRAY_TASK_ID: '1', NODE: STUB });
    expect(r.code, r.stderr).toBe(0);
    expect(r.argv[1]).toBe('/path/to/ptychopinn-studio/node_modules/tsx/dist/cli.mjs');
    const v = parseBack(r.argv.slice(3));
    expect(v).toEqual({
      phase_c_root: '/data/phase_c', phase_d_root: '/data/phase_d', artifact_root: '/scratch/study_artifacts',
      dose: 10000, view: 'sparse', gridsize: 2, dry_run: false,
      nepochs: 7, n_groups: 96, batch_size: 4, n_filters_scale: 0.75, object_big: null, backend: null,
      jobs: null, job_index: 1, merge: false, slurm: false, submit: false, only_missing: false, sbatch_arg: [],
    });
    const m = runScript(readFileSync(`${dir}/merge.sbatch`, 'utf8'), { NODE: STUB });
    expect(parseBack(m.argv.slice(3))).toMatchObject({ merge: true, job_index: null, dose: 10000, nepochs: 7 });
  });

  it('no filters and a dry run: no filter flags, --dry-run', () => {
    const f = unzipSync(clusterZip({ ...onScreen, filters: { dose: null, view: null, gridsize: null }, dryRun: true, jobCount: 9 }));
    const train = strFromU8(f[`${CLUSTER_ZIP_DIR}/train.sbatch`]);
    expect(train).toContain('#SBATCH --array=0-8\n');
    const r = runScript(train.replace(/@PROJECT_DIR@/g, '/p').replace(/@PHASE_C_ROOT@/g, '/c').replace(/@PHASE_D_ROOT@/g, '/d').replace(/@ARTIFACT_ROOT@/g, '/a'),
      { SLURM_ARRAY_TASK_ID: '8', NODE: STUB });
    expect(parseBack(r.argv.slice(3))).toMatchObject({ dose: null, view: null, gridsize: null, dry_run: true, job_index: 8 });
  });
});

describe('fitting the tasks to the partition (sinfo) and pending reasons that never clear (squeue)', () => {
  const sinfo = parseSinfo('debug* 2\nbig 64\nbig 32\n\ngpu 8+\n');
  it('reads sinfo -h -o "%P %c": the default partition, the largest node of each', () => {
    expect(sinfo).toEqual([
      { name: 'debug', isDefault: true, cpus: 2 },
      { name: 'big', isDefault: false, cpus: 64 },
      { name: 'gpu', isDefault: false, cpus: 8 },
    ]);
  });
  it('fits the default --cpus-per-task=4 down to the default partition, or leaves it where it fits', () => {
    expect(fitCpusPerTask([], sinfo)).toEqual({
      kind: 'fitted', cpus: 2, arg: '--cpus-per-task=2',
      note: 'the default --cpus-per-task=4 does not fit partition debug (nodes of at most 2 CPUs); the training tasks ask for 2',
    });
    expect(fitCpusPerTask(['--partition=big'], sinfo)).toEqual({ kind: 'ok' });
    expect(fitCpusPerTask(['-pgpu'], sinfo)).toEqual({ kind: 'ok' });
    expect(fitCpusPerTask([], [])).toEqual({ kind: 'ok' }); // no sinfo: nothing to go on
  });
  it('refuses a --cpus-per-task the user asked for that no node has, and an unknown partition', () => {
    const r = fitCpusPerTask(['--cpus-per-task=8'], sinfo);
    expect(r).toEqual({ kind: 'refused', reason: '--cpus-per-task=8 cannot fit partition debug (nodes of at most 2 CPUs): SLURM would leave the array pending forever (PartitionConfig). Ask for at most 2' });
    expect(fitCpusPerTask(['-c 8', '--partition=big'], sinfo)).toEqual({ kind: 'ok' });
    expect(fitCpusPerTask(['-c1'], sinfo)).toEqual({ kind: 'ok' });
    expect(fitCpusPerTask(['--partition=nope'], sinfo)).toMatchObject({ kind: 'refused', reason: "partition 'nope' is not among the cluster's partitions (debug, big, gpu)" });
  });
  it('names the pending reasons that do not clear by themselves, once each', () => {
    expect(stuckReasons('PartitionConfig\nPartitionConfig\n(Resources)\nPriority\n')).toEqual(['PartitionConfig']);
    expect(stuckReasons('JobHeldUser\nDependency\nNone\n')).toEqual([]);
    expect(STUCK_REASONS).toContain('PartitionTimeLimit');
  });
});
