/**
 * The study on a real one-node SLURM (test/slurm/slurm.sh: munged, slurmctld, slurmd from
 * Debian's packages). Truth: a single-process run of the same flags on an identical copy of the
 * numpy-written tree. Round 1 submits the 9-job array held, corrupts one job's train file after
 * planning, cancels one pending task, releases: the merge must show those two with status and
 * reason and the other seven intact. Round 2 (`--only-missing`) must run exactly those two, and
 * the final manifest must equal the single-process one in every field but timestamps, durations,
 * throughput and backend (the bundle hashes too, since model.zip carries history.json with epoch
 * times and the output path; the trained weights inside are compared byte for byte instead).
 * When SLURM cannot start (not root, packages missing) the tests are skipped with the reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import { parseArraySpec } from '../../src/lib/cluster/slurm';
import { TREES } from '../lib/study/helpers';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SLURM_SH = `${REPO}test/slurm/slurm.sh`;
/** A fixed state dir: a run killed before afterAll leaves it behind, and the next start clears it. */
const STATE = `${tmpdir()}/ptychopinn-slurm-vitest`;

function startSlurm(): { ok: true; conf: string } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: 'not Linux' };
  const r = spawnSync('bash', [SLURM_SH, 'start', STATE], { encoding: 'utf8', timeout: 120_000 });
  const conf = /^SLURM_CONF=(.+)$/m.exec(r.stdout ?? '')?.[1];
  if (r.status === 0 && conf) return { ok: true, conf };
  const why = (r.stderr || r.error?.message || `exit status ${String(r.status)}`).trim().split('\n').slice(0, 3).join(' | ');
  return { ok: false, reason: why };
}
const stopSlurm = () => spawnSync('bash', [SLURM_SH, 'stop', STATE], { encoding: 'utf8', timeout: 120_000 });

const slurm = startSlurm();
if (!slurm.ok) process.stderr.write(`\n⚠ SLURM tests skipped: SLURM could not start: ${slurm.reason}\n\n`);
else process.once('exit', () => { stopSlurm(); }); // afterAll stops it; this covers a worker that dies first

const TINY = ['--nepochs', '1', '--n-groups', '8', '--n-filters-scale', '0.25'];
const FLAGS = ['--phase-c-root', 'tree/phase_c', '--phase-d-root', 'tree/phase_d', '--artifact-root', 'art', ...TINY];
const CLI = [`${REPO}node_modules/tsx/dist/cli.mjs`, `${REPO}src/cli/study.ts`];
const JOB_DIRS = ['dose_1000/baseline/gs1', 'dose_1000/dense/gs2', 'dose_1000/sparse/gs2', 'dose_10000/baseline/gs1',
  'dose_10000/dense/gs2', 'dose_10000/sparse/gs2', 'dose_100000/baseline/gs1', 'dose_100000/dense/gs2', 'dose_100000/sparse/gs2'];
const CORRUPTED = 4; // dose_10000 dense: its train file is truncated after planning
const CANCELLED = 7; // dose_100000 dense: its task is cancelled while pending
const CORRUPT_FILE = 'tree/phase_d/dose_10000/dense/dense_train.npz';

let tmp = ''; // made in beforeAll, so a skipped run leaves nothing behind
let work = ''; // the SLURM run plans from here (relative roots)
let ref = ''; // the single-process run, same relative flags, an identical tree
const env = { ...(slurm.ok ? { SLURM_CONF: slurm.conf } : {}), PATH: `/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`, HOME: process.env.HOME ?? tmpdir() };

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [...CLI, ...args], { cwd, env, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function slurmCmd(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function waitForJobs(ids: string[], limitMs = 480_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < limitMs) {
    const q = slurmCmd('squeue', ['-h', '-o', '%A %i %T', '-j', ids.join(',')]).trim();
    if (q === '') return;
    await new Promise((r) => setTimeout(r, 2000));
  }
  throw new Error(`SLURM jobs ${ids.join(',')} still queued after ${limitMs / 1000} s:\n${slurmCmd('squeue', [])}`);
}

const submitted = (stdout: string) => {
  const m = /✓ Submitted job array (\d+) \((\d+) task\(s\)\) and merge job (\d+)/.exec(stdout);
  if (!m) throw new Error(`no job ids in:\n${stdout}`);
  return { array: m[1], tasks: Number(m[2]), merge: m[3] };
};

interface Manifest {
  timestamp: string; backend: string | null;
  jobs: { view: string; dose: number; artifact_dir: string; result: Record<string, unknown> }[];
  [k: string]: unknown;
}
const manifestAt = (dir: string) => JSON.parse(readFileSync(`${dir}/art/training_manifest.json`, 'utf8')) as Manifest;

/** The manifest without what may differ between two runs of the same flags. */
function comparable(m: Manifest) {
  const { timestamp: _t, backend: _b, ...rest } = m;
  return {
    ...rest,
    jobs: m.jobs.map((j) => {
      const { started_at: _s, finished_at: _f, duration_seconds: _d, samples_per_second: _p, bundle_sha256: _h, bundle_size_bytes: _z, ...result } = j.result;
      return { ...j, result };
    }),
  };
}

const weightsOf = (dir: string, job: string) => unzipSync(readFileSync(`${dir}/art/${job}/model.zip`))['weights.bin'];

let refRun: Promise<{ code: number | null; stderr: string }>;

describe.skipIf(!slurm.ok)(`the study as a SLURM job array on a real one-node SLURM${slurm.ok ? '' : ` (skipped: ${slurm.reason})`}`, () => {
  beforeAll(() => {
    tmp = mkdtempSync(`${tmpdir()}/study-slurm-`);
    work = `${tmp}/cluster`;
    ref = `${tmp}/single`;
    for (const d of [work, ref]) cpSync(`${TREES}full`, `${d}/tree`, { recursive: true });
    // the single-process run of the same flags, alongside round 1
    refRun = new Promise((resolve) => {
      const p = spawn(process.execPath, [...CLI, ...FLAGS], { cwd: ref, env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
      p.on('exit', (code) => resolve({ code, stderr }));
    });
  });
  afterAll(async () => {
    await refRun?.catch(() => undefined);
    const r = stopSlurm();
    if (r.status !== 0) process.stderr.write(`slurm.sh stop: ${r.stderr}\n`);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }, 180_000);

  it('round 1: a train file corrupted after planning and a cancelled task show with status and reason; the rest are intact', async () => {
    const sub = cli([...FLAGS, '--slurm', '--submit', '--sbatch-arg=--cpus-per-task=1', '--sbatch-arg', '--hold'], work);
    expect(sub.stderr).toBe('');
    expect(sub.code).toBe(0);
    const ids = submitted(sub.stdout);
    expect(ids.tasks).toBe(9);
    expect(sub.stdout).toContain(`    squeue -j ${ids.array},${ids.merge}\n`);
    expect(readFileSync(`${work}/art/slurm/train.sbatch`, 'utf8')).toContain('#SBATCH --array=0-8\n');

    writeFileSync(`${work}/${CORRUPT_FILE}`, readFileSync(`${work}/${CORRUPT_FILE}`).subarray(0, 200)); // planned fine, now broken
    slurmCmd('scancel', [`${ids.array}_${CANCELLED}`]);
    slurmCmd('scontrol', ['release', ids.array]);
    slurmCmd('scontrol', ['release', ids.merge]);
    await waitForJobs([ids.array, ids.merge]);

    const logs = readdirSync(`${work}/art/slurm/logs`);
    const mergeLog = readFileSync(`${work}/art/slurm/logs/merge-${ids.merge}.out`, 'utf8');
    expect(mergeLog, mergeLog).toContain('✓ Training manifest written to art/training_manifest.json');
    expect(mergeLog).toContain('  → 7 job(s) success\n');
    expect(mergeLog).toContain('  → 1 job(s) blocked\n');
    expect(mergeLog).toContain('  → 1 job(s) missing\n');
    expect(logs).not.toContain(`train-${ids.array}_${CANCELLED}.out`); // never ran
    expect(logs.filter((l) => l.startsWith(`train-${ids.array}_`))).toHaveLength(8);
    expect(readFileSync(`${work}/art/slurm/logs/train-${ids.array}_${CORRUPTED}.out`, 'utf8')).toContain('(blocked)');

    const m = manifestAt(work);
    expect(m.jobs.map((j) => j.result.status)).toEqual(['success', 'success', 'success', 'success', 'blocked', 'success', 'success', 'missing', 'success']);
    expect(String(m.jobs[CORRUPTED].result.error)).toContain(`${CORRUPT_FILE}: could not be read as an NPZ file`);
    expect(String(m.jobs[CANCELLED].result.error)).toContain(`No result.json in art/${JOB_DIRS[CANCELLED]}: the job's task never finished`);
    expect(m.backend).toBe('wasm');
  }, 600_000);

  it('round 2: --only-missing runs exactly the two unfinished jobs; the merged manifest then equals the single-process run', async () => {
    copyFileSync(`${TREES}full/phase_d/dose_10000/dense/dense_train.npz`, `${work}/${CORRUPT_FILE}`);
    const sub = cli([...FLAGS, '--slurm', '--submit', '--only-missing', '--sbatch-arg=--cpus-per-task=1'], work);
    expect(sub.stderr).toBe('');
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('  → --only-missing: 2 of 9 job(s) have no successful result.json\n');
    const ids = submitted(sub.stdout);
    expect(ids.tasks).toBe(2);
    const array = /#SBATCH --array=(\S+)/.exec(readFileSync(`${work}/art/slurm/train.sbatch`, 'utf8'))![1];
    expect(parseArraySpec(array)).toEqual([CORRUPTED, CANCELLED]);
    await waitForJobs([ids.array, ids.merge]);
    const logs = readdirSync(`${work}/art/slurm/logs`).filter((l) => l.startsWith(`train-${ids.array}_`)).sort();
    expect(logs).toEqual([`train-${ids.array}_${CORRUPTED}.out`, `train-${ids.array}_${CANCELLED}.out`]);
    expect(readFileSync(`${work}/art/slurm/logs/merge-${ids.merge}.out`, 'utf8')).toContain('  → 9 job(s) success\n');

    const single = await refRun;
    expect(single.code, single.stderr).toBe(0);
    const cluster = manifestAt(work);
    const one = manifestAt(ref);
    expect(cluster.jobs.every((j) => j.result.status === 'success')).toBe(true);
    expect(comparable(cluster)).toEqual(comparable(one));
    expect(cluster.jobs).toHaveLength(9);
    expect(Date.parse(cluster.timestamp)).toBeGreaterThan(Date.parse(one.timestamp) - 600_000);
    for (const job of JOB_DIRS) {
      for (const f of ['params.json', 'train.log', 'history.json', 'model.zip', 'reconstruction.npz', 'reconstruction.png', 'result.json']) {
        expect(existsSync(`${work}/art/${job}/${f}`), `${job}/${f}`).toBe(true);
      }
      expect(statSync(`${work}/art/${job}/train.log`).size).toBeGreaterThan(0);
      expect(readFileSync(`${work}/art/${job}/params.json`, 'utf8')).toBe(readFileSync(`${ref}/art/${job}/params.json`, 'utf8'));
      expect(Buffer.from(weightsOf(work, job)).equals(Buffer.from(weightsOf(ref, job))), `${job} weights`).toBe(true);
    }
  }, 600_000);

  it('a --cpus-per-task no node of the partition has is refused with the reason, and nothing is submitted', () => {
    const before = slurmCmd('squeue', ['-h', '-o', '%A']).trim();
    const sub = cli([...FLAGS.map((f) => (f === 'art' ? 'art-big' : f)), '--slurm', '--submit', '--sbatch-arg=--cpus-per-task=64'], work);
    expect(sub.code).toBe(1);
    expect(sub.stderr).toMatch(/--cpus-per-task=64 cannot fit partition \S+ \(nodes of at most \d+ CPUs?\): SLURM would leave the array pending forever \(PartitionConfig\)/);
    expect(slurmCmd('squeue', ['-h', '-o', '%A']).trim()).toBe(before);
  });

  it('with the default sbatch options the tasks are fitted to the node, train and merge', async () => {
    const cpus = Number(slurmCmd('sinfo', ['-h', '-o', '%c']).trim().split('\n')[0]);
    const dir = `${tmp}/defaults`;
    cpSync(`${TREES}full`, `${dir}/tree`, { recursive: true });
    const sub = cli([...FLAGS, '--slurm', '--submit'], dir);
    expect(sub.stderr).toBe('');
    expect(sub.code).toBe(0);
    if (cpus < 4) {
      expect(sub.stdout).toContain(`  → the default --cpus-per-task=4 does not fit partition`);
      expect(readFileSync(`${dir}/art/slurm/train.sbatch`, 'utf8')).toContain(`#SBATCH --cpus-per-task=${cpus}\n`);
    }
    const ids = submitted(sub.stdout);
    await waitForJobs([ids.array, ids.merge]);
    expect(readFileSync(`${dir}/art/slurm/logs/merge-${ids.merge}.out`, 'utf8')).toContain('  → 9 job(s) success\n');
    expect(manifestAt(dir).jobs.every((j) => j.result.status === 'success')).toBe(true);
  }, 600_000);
});
