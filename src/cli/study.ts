/**
 * The command-line twin of the app's study pipeline (the Python Phase E training CLI, `training.py:311-476` `main`):
 *
 *   npm run study -- --phase-c-root P --phase-d-root Q --artifact-root R \
 *                    [--dose D] [--view {baseline,dense,sparse}] [--gridsize {1,2}] [--dry-run]
 *                    [--nepochs E] [--n-groups G] [--batch-size B] [--n-filters-scale S] [--object-big {true,false}] [--backend {wasm,cpu,webgpu}] [--jobs K]
 *                    [--job-index K | --merge | --slurm [--submit] [--only-missing] [--sbatch-arg ARG ...]]
 *
 * Same src/lib code as the app: planStudy (tree, matrix, validation through ingest + contract,
 * filters) and runStudy (run loop, bridge, manifest), with files read from disk as lazily sliced
 * Blobs and artifacts written to disk. Console lines follow the reference (E4 main, E5 skip lines).
 * Without --dry-run it trains with the PtychoPINN runner (src/lib/pipeline/runner.ts).
 *
 * Past one machine (docs/cluster.md): `--job-index K` runs only the K-th selected job and writes its
 * manifest entry to `<job artifact dir>/result.json`; `--merge` builds training_manifest.json from
 * those; `--slurm` writes the two sbatch scripts (src/lib/cluster/slurm.ts) and `--submit` submits them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, chmodSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, type OptionSpec } from './args';
import {
  diskFileSource, diskSink, findExecutable, isDirectory, listNpzFiles, mkdirpSync, openDiskBlob, removeFile, writeFileAtomic,
} from './node-io';
import { planStudy, type PlanInputFile, type PlannedJob, type StudyPlan } from '../lib/study/plan';
import { inspectNpz } from '../lib/study/inspect';
import { pyFloatRepr, pyFormatE0, pyPathJoin, pyPathStr, pyUtcIsoTimestamp } from '../lib/study/pyformat';
import type { JobRunner } from '../lib/study/runner';
import { runStudy, type ConfigOverrides, type StudyEvent } from '../lib/pipeline/run';
import { studySummary, studySummaryFiles, studySummaryText, type SummaryInput } from '../lib/report/summary';
import { manifestJob, manifestPath } from '../lib/report/manifest';
import {
  entryStatus, isFinished, jobResultPath, makeJobResult, mergeJobResults, readJobResult, serializeJobResult,
} from '../lib/cluster/results';
import { defaultConcurrency, slotPool, type JobSlot, type SlotPool } from '../lib/pipeline/pool';
import { threadSlot } from './job-slot';
import { fitCpusPerTask, followCommands, parseSinfo, sbatchArgProblem, sbatchScripts, stuckReasons, type StudyCommand, type TrainingSize } from '../lib/cluster/slurm';

export const PROG = 'study';
const DESCRIPTION = 'Enumerate, filter and run the PtychoPINN dose/overlap training jobs and write training_manifest.json.';

/**
 * The tfjs backends the CLI can train on. src/lib/runtime/node-backend.ts starts each (WebGPU through
 * Dawn, the `webgpu` npm package) and installs the model's kernels for it.
 */
const BACKEND_MODULES = {
  wasm: true,
  cpu: true,
  webgpu: true,
} as const;
export type CliBackend = keyof typeof BACKEND_MODULES;
export const CLI_BACKENDS = Object.keys(BACKEND_MODULES) as CliBackend[];

export const OPTIONS: readonly OptionSpec[] = [
  { flag: '--phase-c-root', dest: 'phase_c_root', kind: 'value', type: 'str', required: true, help: 'Phase C root (dose_<N>/patched_{train,test}.npz)' },
  { flag: '--phase-d-root', dest: 'phase_d_root', kind: 'value', type: 'str', required: true, help: 'Phase D root (dose_<N>/<view>/<view>_{train,test}.npz)' },
  { flag: '--artifact-root', dest: 'artifact_root', kind: 'value', type: 'str', required: true, help: 'where job artifacts and training_manifest.json go' },
  { flag: '--dose', dest: 'dose', kind: 'value', type: 'float', help: 'run only this dose (exact match: 1000, 1e3, 1000.0)' },
  { flag: '--view', dest: 'view', kind: 'value', type: 'str', choices: ['baseline', 'dense', 'sparse'], help: 'run only this view' },
  { flag: '--gridsize', dest: 'gridsize', kind: 'value', type: 'int', choices: [1, 2], help: 'run only this gridsize' },
  { flag: '--dry-run', dest: 'dry_run', kind: 'flag', help: 'write the dry-run train.log and manifest without training' },
  { flag: '--nepochs', dest: 'nepochs', kind: 'value', type: 'int', help: 'TrainingConfig.nepochs (reference default 50)' },
  { flag: '--n-groups', dest: 'n_groups', kind: 'value', type: 'int', help: 'TrainingConfig.n_groups (reference default 512)' },
  { flag: '--batch-size', dest: 'batch_size', kind: 'value', type: 'int', help: 'TrainingConfig.batch_size (reference default 16)' },
  { flag: '--n-filters-scale', dest: 'n_filters_scale', kind: 'value', type: 'float', help: 'ModelConfig.n_filters_scale (reference default 2; multiples of 0.25)' },
  { flag: '--object-big', dest: 'object_big', kind: 'value', type: 'str', choices: ['true', 'false'], help: 'ModelConfig.object_big for every job (default: true, the reference\'s)' },
  { flag: '--backend', dest: 'backend', kind: 'value', type: 'str', choices: CLI_BACKENDS, help: 'tfjs backend to train on (default: wasm, else cpu)' },
  { flag: '--jobs', dest: 'jobs', kind: 'value', type: 'int', help: 'train up to K jobs at once, one worker thread each (WASM/CPU; WebGPU trains one at a time; default 1)' },
  { flag: '--job-index', dest: 'job_index', kind: 'value', type: 'int', help: 'run only the K-th selected job (0-based) and write its result.json' },
  { flag: '--merge', dest: 'merge', kind: 'flag', help: 'build training_manifest.json from the jobs\' result.json files' },
  { flag: '--slurm', dest: 'slurm', kind: 'flag', help: 'write <artifact root>/slurm/{train,merge}.sbatch (a job array)' },
  { flag: '--submit', dest: 'submit', kind: 'flag', help: 'with --slurm: submit both with sbatch' },
  { flag: '--only-missing', dest: 'only_missing', kind: 'flag', help: 'with --slurm: only the jobs without a successful result.json' },
  { flag: '--sbatch-arg', dest: 'sbatch_arg', kind: 'append', type: 'str', dashValue: true, help: 'with --slurm: an sbatch option for both scripts (repeatable)' },
];

/** What main() needs from the outside world; tests inject their own. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Epoch ms for the manifest timestamp. */
  now?: () => number;
  /**
   * The real runner (default: src/lib/pipeline/runner.ts when present), or null when unavailable. Only
   * for one job at a time: with --jobs K > 1 the job threads (src/cli/job-thread.ts) make their own.
   */
  loadRunner?: (backend: CliBackend | null) => Promise<{ runner: JobRunner; backend: string }>;
  signal?: AbortSignal;
  /** Environment for finding and running sbatch (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** An error the CLI reports as one line `study: error: ...` with this exit status. */
export class CliError extends Error {
  constructor(readonly exitCode: 1 | 2, message: string) {
    super(message);
  }
}

/** The project checkout the CLI runs from (the generated sbatch scripts run the CLI from here). */
export const PROJECT_DIR = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');

/**
 * Register and start one tfjs backend; the reason when it cannot start. By default training runs
 * on tfjs' WASM backend (XNNPACK convolutions, with the gradient kernels of
 * src/lib/runtime/wasm-kernels.ts), about 30x faster than the pure-JavaScript CPU backend; WebGPU
 * runs through Dawn (the `webgpu` package, src/lib/runtime/node-backend.ts).
 */
export async function startBackend(name: CliBackend): Promise<string | null> {
  try {
    const { startNodeBackend } = await import('../lib/runtime/node-backend');
    await startNodeBackend(name);
    return null;
  } catch (e) {
    return `the ${name} backend is unavailable: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/**
 * The CLI's backend policy, for this thread (a runner) and for the job threads alike: the backend
 * asked for, an error naming it if it cannot start; else WASM, falling back to the tfjs CPU backend
 * where WebAssembly does not start. `start` starts one and throws the reason where it cannot.
 */
async function startPreferred<T>(want: CliBackend | null, start: (name: CliBackend) => Promise<T>): Promise<{ started: T; backend: CliBackend }> {
  const why = (e: unknown) => (e instanceof Error ? e.message : String(e));
  if (want) {
    try {
      return { started: await start(want), backend: want };
    } catch (e) {
      throw new CliError(1, `--backend ${want}: ${why(e)}`);
    }
  }
  try {
    return { started: await start('wasm'), backend: 'wasm' };
  } catch (e) {
    console.error(`  (${why(e)}; training on the slower tfjs CPU backend)`);
  }
  try {
    return { started: await start('cpu'), backend: 'cpu' };
  } catch (e) {
    throw new CliError(1, why(e));
  }
}

/** Start the backend by the CLI's policy (startPreferred) and make the PtychoPINN runner (src/lib/pipeline/runner.ts) on it. */
export async function loadPtychoPinnRunner(want: CliBackend | null = null): Promise<{ runner: JobRunner; backend: string }> {
  const { backend } = await startPreferred(want, async (name) => {
    const why = await startBackend(name);
    if (why) throw new Error(why);
  });
  const { createPtychoPinnRunner } = await import('../lib/pipeline/runner');
  return { runner: createPtychoPinnRunner({ backend }), backend };
}

function pyStrValue(v: number | string): string {
  return typeof v === 'number' && !Number.isInteger(v) ? pyFloatRepr(v) : String(v);
}

/** The parsed flags, checked. */
interface Args {
  command: StudyCommand;
  overrides: ConfigOverrides;
  backend: CliBackend | null;
  jobIndex: number | null;
  /** --jobs: jobs trained at once. */
  jobs: number;
  merge: boolean;
  slurm: boolean;
  submit: boolean;
  onlyMissing: boolean;
  sbatchArgs: string[];
}

function checkArgs(a: Record<string, unknown>): Args {
  const err = (msg: string) => new CliError(2, msg);
  const size: TrainingSize = { nepochs: null, n_groups: null, batch_size: null, n_filters_scale: null, object_big: null };
  if (a.object_big === 'true' || a.object_big === 'false') size.object_big = a.object_big === 'true';
  for (const [dest, flag] of [['nepochs', '--nepochs'], ['n_groups', '--n-groups'], ['batch_size', '--batch-size']] as const) {
    const v = a[dest];
    if (typeof v !== 'number') continue;
    if (v < 1) throw err(`argument ${flag}: must be a whole number of at least 1, got ${v}`);
    size[dest] = v;
  }
  if (typeof a.n_filters_scale === 'number') {
    const s = a.n_filters_scale;
    if (!(s >= 0.25) || !Number.isInteger(s * 4)) {
      throw err(`argument --n-filters-scale: must be a multiple of 0.25, at least 0.25 (every layer keeps a whole number of filters), got ${pyFloatRepr(s)}`);
    }
    size.n_filters_scale = s;
  }
  const jobs = typeof a.jobs === 'number' ? a.jobs : 1;
  if (jobs < 1) throw err(`argument --jobs: must be a whole number of at least 1, got ${jobs}`);
  const jobIndex = typeof a.job_index === 'number' ? a.job_index : null;
  if (jobIndex !== null && jobIndex < 0) throw err(`argument --job-index: must be 0 or more, got ${jobIndex}`);
  const merge = a.merge === true;
  const submit = a.submit === true;
  const slurm = a.slurm === true || submit; // --submit implies --slurm
  const onlyMissing = a.only_missing === true;
  const sbatchArgs = (a.sbatch_arg as string[] | undefined) ?? [];
  const modes = [jobIndex !== null && '--job-index', merge && '--merge', slurm && (a.slurm ? '--slurm' : '--submit')].filter(Boolean);
  if (modes.length > 1) throw err(`${modes.join(' and ')} cannot be combined (each is one step of a cluster run)`);
  if (!slurm && onlyMissing) throw err('--only-missing needs --slurm');
  if (!slurm && sbatchArgs.length) throw err('--sbatch-arg needs --slurm');
  for (const s of sbatchArgs) {
    const p = sbatchArgProblem(s);
    if (p) throw err(`argument --sbatch-arg: ${p}`);
  }
  const overrides: ConfigOverrides = {};
  const training: Record<string, number> = {};
  if (size.nepochs !== null) training.nepochs = size.nepochs;
  if (size.n_groups !== null) training.n_groups = size.n_groups;
  if (size.batch_size !== null) training.batch_size = size.batch_size;
  if (Object.keys(training).length) overrides.training = training;
  const model = {
    ...(size.n_filters_scale !== null ? { n_filters_scale: size.n_filters_scale } : {}),
    ...(size.object_big !== null ? { object_big: size.object_big } : {}),
  };
  if (Object.keys(model).length) overrides.model = model;
  return {
    command: {
      // type=Path: str(Path(value)) drops duplicate/trailing slashes and leading ./ (trap 8.13)
      phaseCRoot: pyPathStr(String(a.phase_c_root)),
      phaseDRoot: pyPathStr(String(a.phase_d_root)),
      artifactRoot: pyPathStr(String(a.artifact_root)),
      filters: {
        dose: typeof a.dose === 'number' ? a.dose : null,
        view: typeof a.view === 'string' ? a.view as StudyCommand['filters']['view'] : null,
        gridsize: typeof a.gridsize === 'number' ? a.gridsize as 1 | 2 : null,
      },
      dryRun: a.dry_run === true,
      size,
      backend: typeof a.backend === 'string' ? a.backend : null,
    },
    overrides,
    backend: typeof a.backend === 'string' ? a.backend as CliBackend : null,
    jobIndex, jobs, merge, slurm, submit, onlyMissing, sbatchArgs,
  };
}

export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const parsed = parseArgs(argv, OPTIONS, PROG, DESCRIPTION);
  if (!parsed.ok) {
    if (parsed.stdout) io.stdout(parsed.stdout);
    if (parsed.stderr) io.stderr(parsed.stderr);
    return parsed.exitCode;
  }
  try {
    return await study(checkArgs(parsed.values), io);
  } catch (e) {
    if (e instanceof CliError) {
      io.stderr(`${PROG}: error: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}

async function study(args: Args, io: CliIO): Promise<number> {
  const out = (line = '') => io.stdout(line + '\n');
  const { command } = args;
  const { phaseCRoot, phaseDRoot, artifactRoot, dryRun } = command;
  const env = io.env ?? process.env;

  let sbatch: string | null = null;
  if (args.submit) {
    sbatch = findExecutable('sbatch', env.PATH);
    if (!sbatch) throw new CliError(1, '--submit needs SLURM\'s sbatch, which is not on PATH (use --slurm alone to write the scripts)');
  }

  mkdirpSync(artifactRoot); // created first, even if enumeration then fails (trap 8.27)
  out(`Enumerating training jobs from Phase C (${phaseCRoot}) and Phase D (${phaseDRoot})...`);
  for (const [flag, root] of [['--phase-c-root', phaseCRoot], ['--phase-d-root', phaseDRoot]] as const) {
    if (!isDirectory(root)) {
      io.stderr(`${PROG}: error: ${flag} is not a directory: ${root}\n`);
      return 1;
    }
  }

  const paths = [...new Set([...listNpzFiles(phaseCRoot), ...listNpzFiles(phaseDRoot)])];
  const files: PlanInputFile[] = paths.map((path) => ({ path, blob: () => openDiskBlob(path) }));
  const plan = await planStudy(files, {
    phaseCRoot, phaseDRoot, artifactRoot,
    filters: command.filters,
    inspect: inspectNpz,
    // a task validates only its own job's files; the merge needs no data at all
    validate: args.jobIndex !== null ? { selectedIndex: args.jobIndex } : args.merge ? 'none' : 'selected',
    signal: io.signal,
  });

  out(`  → ${plan.jobs.length} total jobs enumerated`);
  if (plan.skipped.length) {
    const onlyD = plan.skipped.every((s) => s.view !== 'baseline');
    out(`  ⚠ ${plan.skipped.length} view(s) skipped due to missing ${onlyD ? 'Phase D' : 'Phase C/D'} data:`);
    for (const s of plan.skipped) out(`    - ${s.view} (dose=${pyFormatE0(s.dose)}): ${s.reason.slice(0, 80)}...`);
  }
  for (const note of plan.notes) out(`  ⚠ ${note}`);
  for (const step of plan.steps) {
    const value = step.name === 'dose' ? pyFloatRepr(step.value as number) : pyStrValue(step.value);
    out(`  → Filtered by ${step.name}=${value}: ${step.remaining} jobs remain`);
  }
  const n = plan.selected.length;
  if (args.jobIndex !== null && args.jobIndex >= n) {
    throw new CliError(2, `argument --job-index: ${args.jobIndex} is out of range: the filters select ${n} job(s)${n ? ` (indices 0-${n - 1})` : ''}`);
  }
  if (n === 0) {
    out();
    out('⚠ No jobs match the specified filters. Exiting without training.');
    if (plan.empty) out(`  ${plan.empty.message}`);
    return 0;
  }

  const invalid = plan.reports.filter((r) => !r.ok);
  if (invalid.length) {
    const nBlocked = plan.selected.filter((j) => j.blocked).length;
    out(`  ⚠ ${invalid.length} file(s) failed validation; ${nBlocked} job(s) blocked:`);
    for (const r of invalid) for (const e of r.errors) out(`    ✗ ${e.message}`);
  }

  if (args.merge) return merge(plan, args, io);
  if (args.slurm) return slurm(plan, args, io, sbatch);

  const one = args.jobIndex;
  const jobs: PlannedJob[] = one === null ? plan.selected : [plan.selected[one]];
  // --jobs K: a pool of K worker threads, each with a tfjs of its own (src/cli/job-slot.ts). The
  // backend asked for, else WASM (whose fallback, CPU, also trains side by side) decides K; with
  // K > 1 this thread starts no tfjs backend and makes no runner: the threads do.
  const k = dryRun ? 1 : defaultConcurrency(args.backend ?? 'wasm', undefined, jobs.length, args.jobs);
  let runner: JobRunner | undefined;
  let backend: string | null = null;
  let pool: SlotPool | null = null;
  let spare: JobSlot | null = null;
  if (k > 1) {
    // the pool's first job thread picks the backend by the CLI's policy, with no tfjs in this thread
    const first = await startPreferred(args.backend, threadSlot);
    backend = first.backend;
    spare = first.started;
    pool = slotPool(k, async () => {
      const s = spare;
      spare = null;
      return s ?? threadSlot(first.backend);
    });
    runner = pool.runner;
  } else if (!dryRun) {
    const loaded = await (io.loadRunner ?? loadPtychoPinnRunner)(args.backend);
    runner = loaded.runner;
    backend = loaded.backend;
  }
  out();
  out(`Executing ${jobs.length} training job(s)...${k > 1 ? ` (${k} at once, one thread each)` : ''}`);
  if (one !== null) await removeFile(jobResultPath(jobs[0].job)); // a task killed from here on leaves no stale result
  const res = await runStudy({
    jobs,
    dryRun,
    runner,
    backend,
    files: diskFileSource(),
    sink: diskSink(),
    phaseCRoot: plan.phaseCRoot,
    phaseDRoot: plan.phaseDRoot,
    artifactRoot,
    filters: plan.filters,
    skipped: plan.skipped,
    configOverrides: args.overrides,
    signal: io.signal,
    now: io.now,
    writeManifest: one === null,
    onEvent: jobPrinter(out, dryRun, one ?? 0, one === null ? undefined : n, k > 1),
    concurrency: k,
  }).finally(() => {
    pool?.close();
    (spare as JobSlot | null)?.close(); // the first thread when no job reached the pool (all blocked)
  });

  if (one !== null) {
    const job = jobs[0].job;
    const entry = res.entries[0] ?? manifestJob(job, { status: 'cancelled', error: 'Cancelled before the job started.' });
    if (entry.result.status === 'cancelled' && entry.result.error === undefined) {
      const why = io.signal?.reason;
      entry.result.error = why instanceof Error ? why.message : 'Cancelled.';
    }
    const path = jobResultPath(job);
    mkdirpSync(job.artifact_dir); // a blocked job never got its artifact dir from the run loop
    await writeFileAtomic(path, serializeJobResult(makeJobResult({
      index: one, count: n, dryRun, backend, entry, now: (io.now ?? Date.now)(),
    })));
    const status = entryStatus(entry.result);
    out();
    out(`✓ Job result written to ${path} (${status})`);
    if (status === 'success' || status === 'dry_run') return 0;
    return status === 'cancelled' ? 130 : 1;
  }

  const count = (s: string) => res.entries.filter((x) => x.result.status === s).length;
  const completed = res.entries.length - count('failed') - count('blocked') - count('cancelled');
  out();
  out(`✓ Training manifest written to ${res.manifestPath}`);
  out(`  → ${completed} job(s) completed`);
  for (const s of ['failed', 'blocked', 'cancelled']) if (count(s)) out(`  → ${count(s)} job(s) ${s}`);
  if (res.notRun.length) out(`  → ${res.notRun.length} job(s) not run (cancelled)`);
  if (!dryRun) printStudySummary(out, res.entries, args.command.artifactRoot);
  return res.cancelled ? 130 : 0;
}

/** Console lines per job (E4 :433-434, E6 bundle lines); `offset`/`total` number a task's job within the study. */
function jobPrinter(out: (line?: string) => void, dryRun: boolean, offset: number, total?: number, tagged = false) {
  const tag = (v: string, d: number) => `[${v}/dose=${pyFormatE0(d)}]`;
  let count = total;
  return (e: StudyEvent) => {
    if (e.type === 'study-start') count ??= e.total;
    if (e.type === 'job-start') {
      out(`  [${e.index + offset}/${total ?? e.total}] ${e.job.view} (dose=${pyFormatE0(e.job.dose)}, gridsize=${e.job.gridsize})`);
    } else if (e.type === 'job-progress') {
      // One line per epoch (a long job is not silent for hours), and the live score when there is one.
      const p = e.progress;
      // jobs side by side (--jobs): each line says whose it is
      const who = tagged ? `[${e.index + offset}/${count}] ` : '';
      if (p.status === 'epoch') {
        const r = p.record;
        out(`    ${who}epoch ${r.epoch}/${p.epochs}: loss ${r.train_loss.toPrecision(6)}, val_loss ${r.val_loss === null ? 'n/a' : r.val_loss.toPrecision(6)}, ` +
          `lr ${r.learning_rate.toExponential(2)}, ${r.seconds.toFixed(1)} s`);
      } else if (p.status === 'score') {
        out(`    ${who}epoch ${p.epoch}: amplitude SSIM ${p.amplitude_ssim.toFixed(3)} against the true object (placed)`);
      }
    } else if (e.type === 'job-end') {
      const r = e.entry.result;
      const status = r.status;
      if (status === 'failed' || status === 'blocked' || status === 'cancelled') {
        out(`    ✗ ${String(status)}: ${String(r.error ?? '')}`);
      } else if (!dryRun && r.bundle_path) {
        out(`    → Bundle ${tag(e.job.view, e.job.dose)}: ${String(r.bundle_path)}`);
        if (r.bundle_sha256) out(`    → SHA256 ${tag(e.job.view, e.job.dose)}: ${String(r.bundle_sha256)}`);
        if (r.bundle_size_bytes !== undefined && r.bundle_size_bytes !== null) {
          out(`    → Size ${tag(e.job.view, e.job.dose)}: ${String(r.bundle_size_bytes)} bytes`);
        }
      }
    }
  };
}

/** `--merge`: training_manifest.json from the selected jobs' result.json files, in manifest order. */
async function merge(plan: StudyPlan, args: Args, io: CliIO): Promise<number> {
  const out = (line = '') => io.stdout(line + '\n');
  const jobs = plan.selected.map((p) => p.job);
  const res = await mergeJobResults({
    jobs,
    sink: diskSink(),
    dryRun: args.command.dryRun,
    phaseCRoot: plan.phaseCRoot,
    phaseDRoot: plan.phaseDRoot,
    artifactRoot: args.command.artifactRoot,
    filters: plan.filters,
    skipped: plan.skipped,
    now: (io.now ?? Date.now)(),
  });
  if (res.found === 0) {
    throw new CliError(1, `--merge found no result.json for any of the ${jobs.length} selected job(s) under ${args.command.artifactRoot} (run the jobs first: --job-index K, or --slurm --submit)`);
  }
  out();
  out(`Merging the results of ${jobs.length} job(s)...`);
  res.manifest.jobs.forEach((e, i) => {
    const st = entryStatus(e.result);
    const why = st === 'success' || st === 'dry_run' ? '' : `: ${String(e.result.error ?? '')}`;
    out(`  [${i + 1}/${jobs.length}] ${e.view} (dose=${pyFormatE0(e.dose)}, gridsize=${e.gridsize}) ${st}${why}`);
  });
  const path = manifestPath(args.command.artifactRoot);
  await writeFileAtomic(path, res.text);
  out();
  out(`✓ Training manifest written to ${path}`);
  for (const [status, k] of res.counts) out(`  → ${k} job(s) ${status}`);
  if (!args.command.dryRun) {
    for (const f of studySummaryFiles(args.command.artifactRoot, res.manifest.jobs)) await writeFileAtomic(f.path, f.text);
    printStudySummary(out, res.manifest.jobs, args.command.artifactRoot);
  }
  return 0;
}

/**
 * The study's answer at the end of a real run: scores per dose x view (study_summary.json / .csv
 * beside the manifest), the common-region scores by default (studySummaryText says which scores in
 * its first line; the reference and placed ones are in the CSV).
 */
function printStudySummary(out: (line?: string) => void, jobs: readonly SummaryInput[], artifactRoot: string): void {
  out();
  out('Reconstruction quality vs objectGuess (all three scorings in study_summary.json / .csv):');
  for (const line of studySummaryText(studySummary(jobs)).trimEnd().split('\n')) out(`  ${line}`);
  out(`  (${artifactRoot})`);
}

function commandLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** `--slurm [--submit] [--only-missing]`: write the array and merge scripts; submit them. */
async function slurm(plan: StudyPlan, args: Args, io: CliIO, sbatch: string | null): Promise<number> {
  const out = (line = '') => io.stdout(line + '\n');
  const n = plan.selected.length;
  let indices = plan.selected.map((_, k) => k);
  if (args.onlyMissing) {
    const sink = diskSink();
    const keep: number[] = [];
    for (const k of indices) {
      if (!isFinished(await readJobResult(plan.selected[k].job, sink, args.command.dryRun))) keep.push(k);
    }
    out(`  → --only-missing: ${keep.length} of ${n} job(s) have no successful result.json`);
    indices = keep;
    if (indices.length === 0) {
      out();
      out(`✓ All ${n} selected job(s) already have a successful result.json; nothing to run (--merge builds the manifest).`);
      return 0;
    }
  }
  // Fit the tasks' CPUs to the partition's nodes (sinfo), or refuse: an array that asks for more
  // CPUs than any node has stays pending forever (reason PartitionConfig) and nothing says so.
  const env = io.env ?? process.env;
  let sbatchArgs = args.sbatchArgs;
  const sinfo = findExecutable('sinfo', env.PATH);
  if (sinfo) {
    const r = spawnSync(sinfo, ['-h', '-o', '%P %c'], { encoding: 'utf8', env, timeout: 60_000 });
    if (r.status === 0) {
      const fit = fitCpusPerTask(sbatchArgs, parseSinfo(r.stdout ?? ''));
      if (fit.kind === 'refused') throw new CliError(1, `--slurm: ${fit.reason}`);
      if (fit.kind === 'fitted') {
        out(`  → ${fit.note}`);
        sbatchArgs = [...sbatchArgs, fit.arg];
      }
    }
  }
  const artifactAbs = resolve(args.command.artifactRoot);
  const slurmDir = pyPathJoin(artifactAbs, 'slurm');
  const scripts = sbatchScripts({
    command: args.command,
    indices,
    jobCount: n,
    sbatchArgs,
    paths: { kind: 'real', projectDir: PROJECT_DIR, workDir: process.cwd(), node: process.execPath, slurmDir },
    generatedBy: `Written by the study CLI (npm run study) on ${pyUtcIsoTimestamp((io.now ?? Date.now)())}.`,
  });
  mkdirpSync(`${slurmDir}/logs`); // SLURM does not create the --output folder
  const trainPath = `${slurmDir}/train.sbatch`;
  const mergePath = `${slurmDir}/merge.sbatch`;
  writeFileSync(trainPath, scripts.train);
  writeFileSync(mergePath, scripts.merge);
  chmodSync(trainPath, 0o755);
  chmodSync(mergePath, 0o755);
  out();
  out(`✓ SLURM scripts written: ${trainPath} (array ${scripts.array}: ${indices.length} task(s)) and ${mergePath}`);
  if (!sbatch) {
    out('  Submit them with:');
    out(`    jid=$(sbatch --parsable ${trainPath}) && sbatch --parsable --dependency=afterany:\${jid%%;*} ${mergePath}`);
    return 0;
  }
  const submitOne = (extra: string[], script: string): string => {
    const r = spawnSync(sbatch, ['--parsable', ...extra, script], { encoding: 'utf8', env: io.env ?? process.env, timeout: 120_000 });
    const id = (r.stdout ?? '').trim().split(';')[0];
    if (r.status !== 0 || !/^\d+$/.test(id)) {
      const why = (r.stderr || r.error?.message || r.stdout || `exit status ${String(r.status)}`).trim().split('\n')[0];
      throw new CliError(1, `sbatch ${commandLine(['--parsable', ...extra, script])} failed: ${why}`);
    }
    return id;
  };
  const arrayId = submitOne([], trainPath);
  const mergeId = submitOne([`--dependency=afterany:${arrayId}`], mergePath);
  out(`✓ Submitted job array ${arrayId} (${indices.length} task(s)) and merge job ${mergeId} (runs after ${arrayId} ends)`);
  out('  Follow them with:');
  for (const c of followCommands([arrayId, mergeId])) out(`    ${c}`);
  out(`  Task logs: ${slurmDir}/logs/; the manifest: ${manifestPath(args.command.artifactRoot)}`);
  // One look at why the array waits, once the scheduler has seen it: a reason that never clears
  // by itself (STUCK_REASONS) is reported rather than left to a queue that never moves.
  const squeue = findExecutable('squeue', env.PATH);
  if (squeue) {
    let reasons = '';
    for (let i = 0; i < 10; i++) {
      const q = spawnSync(squeue, ['-h', '-j', arrayId, '-t', 'PENDING', '-o', '%r'], { encoding: 'utf8', env, timeout: 60_000 });
      reasons = q.status === 0 ? (q.stdout ?? '').trim() : '';
      if (reasons === '' || reasons.split('\n').some((l) => l.trim() !== 'None')) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const stuck = stuckReasons(reasons);
    if (stuck.length) {
      out();
      out(`⚠ Job array ${arrayId} is pending with reason ${stuck.join(', ')}, which does not clear by itself: the request exceeds what ` +
        'the partition or account allows. Cancel it (scancel ' + `${arrayId} ${mergeId}` + ') and submit again with options that fit (sinfo lists the partitions).');
      return 1;
    }
  }
  return 0;
}

const invokedDirectly = (() => {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(script).href;
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('Cancelled by SIGINT (Ctrl-C).')));
  // scancel and a SLURM time limit send SIGTERM: the job stops at its next step and is recorded as 'cancelled'
  process.once('SIGTERM', () => controller.abort(new Error('Cancelled by SIGTERM (scancel, a time limit or a shutdown).')));
  // `npm run study ... | head`: a closed pipe ends the output quietly, as it would for Python.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  main(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    signal: controller.signal,
  }).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
