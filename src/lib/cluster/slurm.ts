/**
 * A study as a SLURM job array (docs/cluster.md): `train.sbatch` runs one selected job per array
 * task (`--job-index $SLURM_ARRAY_TASK_ID`), `merge.sbatch` (submitted with
 * `--dependency=afterany:<array id>`) builds the one training_manifest.json from the per-job
 * result.json files. Pure text generation, no Node imports: the CLI (`--slurm`) writes these with
 * real paths, the app ("Run on a cluster") with placeholders the user fills in.
 */
import { strToU8, zipSync } from 'fflate';
import type { ParsedFilters } from '../study/jobs';
import { pyFloatRepr } from '../study/pyformat';

/** The training-size settings a study command carries (TrainingConfig / ModelConfig fields). */
export interface TrainingSize {
  nepochs: number | null;
  n_groups: number | null;
  batch_size: number | null;
  n_filters_scale: number | null;
  /** ModelConfig.object_big for every job; null: the default (True, the reference's). */
  object_big: boolean | null;
}

/** Everything that makes up one study command line (the CLI's flags). */
export interface StudyCommand {
  phaseCRoot: string;
  phaseDRoot: string;
  artifactRoot: string;
  filters: ParsedFilters;
  dryRun: boolean;
  size: TrainingSize;
  /** The tfjs backend flag (`--backend`), or null to let the CLI choose. */
  backend: string | null;
}

/** A number as the CLI reads it back: integers plainly, other values with Python's repr. */
function numText(x: number): string {
  return Number.isInteger(x) ? String(x) : pyFloatRepr(x);
}

/**
 * The CLI flags for a study command, in the CLI's option order. Every value is a separate argv
 * element (quote them with shellQuote for a script). The dose is written with Python's repr
 * (`1000.0`), which the CLI's float parser reads back exactly.
 */
export function studyFlags(c: StudyCommand): string[] {
  const out = ['--phase-c-root', c.phaseCRoot, '--phase-d-root', c.phaseDRoot, '--artifact-root', c.artifactRoot];
  if (c.filters.dose !== null) out.push('--dose', pyFloatRepr(c.filters.dose));
  if (c.filters.view !== null) out.push('--view', c.filters.view);
  if (c.filters.gridsize !== null) out.push('--gridsize', String(c.filters.gridsize));
  if (c.dryRun) out.push('--dry-run');
  if (c.size.nepochs !== null) out.push('--nepochs', numText(c.size.nepochs));
  if (c.size.n_groups !== null) out.push('--n-groups', numText(c.size.n_groups));
  if (c.size.batch_size !== null) out.push('--batch-size', numText(c.size.batch_size));
  if (c.size.n_filters_scale !== null) out.push('--n-filters-scale', numText(c.size.n_filters_scale));
  if (c.size.object_big !== null) out.push('--object-big', c.size.object_big ? 'true' : 'false');
  if (c.backend !== null) out.push('--backend', c.backend);
  return out;
}

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One argv element as a POSIX shell word (single quotes where needed). */
export function shellQuote(s: string): string {
  if (s !== '' && SAFE_WORD.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A word with `$NAME` shell variables expanded at run time: double quotes, other specials escaped. */
function shellQuoteVars(s: string): string {
  return `"${s.replace(/(["\\`])/g, '\\$1')}"`;
}

/** SLURM's array spec for a set of task ids: sorted, runs collapsed (`0-2,5,7-8`). */
export function arraySpec(indices: readonly number[]): string {
  const xs = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < xs.length;) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j] + 1) j += 1;
    parts.push(j === i ? String(xs[i]) : `${xs[i]}-${xs[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The inverse of arraySpec for the forms it writes (`0-8`, `1,4-5`), for tests and --only-missing checks. */
export function parseArraySpec(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`not an array spec: ${spec}`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let k = a; k <= b; k++) out.push(k);
  }
  return out;
}

/** Short sbatch options and their long names, so a user's `-t 2:00:00` replaces the default `--time`. */
const SHORT_OPTIONS: Record<string, string> = {
  '-A': '--account', '-p': '--partition', '-t': '--time', '-c': '--cpus-per-task', '-n': '--ntasks',
  '-N': '--nodes', '-J': '--job-name', '-q': '--qos', '-C': '--constraint', '-G': '--gpus',
};

/** Options the generator sets itself: passing them through would break the array or the merge. */
export const RESERVED_SBATCH_OPTIONS: readonly string[] = ['--array', '--output', '--error', '--dependency', '--chdir', '--parsable', '--wrap'];

/** The long option name of a pass-through sbatch argument (`--time=1:00:00` -> `--time`, `-t5` -> `--time`). */
export function sbatchOptionName(arg: string): string {
  if (arg.startsWith('--')) {
    const eq = arg.indexOf('=');
    const sp = arg.search(/\s/);
    const end = [eq, sp].filter((i) => i > 0).reduce((a, b) => Math.min(a, b), arg.length);
    return arg.slice(0, end);
  }
  const short = arg.slice(0, 2);
  return SHORT_OPTIONS[short] ?? short;
}

/** Why a pass-through sbatch argument cannot be used, or null when it can. */
export function sbatchArgProblem(arg: string): string | null {
  if (!arg.startsWith('-')) return `'${arg}' is not an sbatch option (it must start with '-', e.g. --partition=debug)`;
  if (/[\n\r]/.test(arg)) return 'an sbatch option cannot contain a line break';
  const name = sbatchOptionName(arg);
  if (RESERVED_SBATCH_OPTIONS.includes(name)) return `${name} is set by the generated scripts and cannot be passed through`;
  return null;
}

/**
 * Defaults, written at the top of each script with a comment; a pass-through option with the same
 * name replaces one. Training is one CPU-bound Node process per task (tfjs WASM).
 */
export const TRAIN_SBATCH_DEFAULTS: readonly string[] = ['--job-name=ptychopinn-train', '--ntasks=1', '--cpus-per-task=4', '--time=04:00:00'];
export const MERGE_SBATCH_DEFAULTS: readonly string[] = ['--job-name=ptychopinn-merge', '--ntasks=1', '--cpus-per-task=1', '--time=00:30:00'];

export interface SbatchInput {
  command: StudyCommand;
  /** Task ids for the array: indices into the selected jobs (0..n-1, or the unfinished ones). */
  indices: readonly number[];
  /** How many jobs the filters select (the CLI checks each task's index against it). */
  jobCount: number;
  /** Pass-through sbatch options (`--partition=debug`, `--gres=gpu:1`), in order. */
  sbatchArgs?: readonly string[];
  /**
   * Where things are. `real`: absolute paths known now (the CLI). `placeholders`: tokens the
   * user replaces (the app), with a guard that refuses to run while any is left.
   */
  paths:
    | { kind: 'real'; projectDir: string; workDir: string; node: string; slurmDir: string }
    | { kind: 'placeholders' };
  /** A line saying what generated the scripts (shown as a comment). */
  generatedBy: string;
}

/** The placeholder tokens of an app-generated script, and what each means. */
export const PLACEHOLDERS = {
  PROJECT_DIR: '@PROJECT_DIR@',
  PHASE_C_ROOT: '@PHASE_C_ROOT@',
  PHASE_D_ROOT: '@PHASE_D_ROOT@',
  ARTIFACT_ROOT: '@ARTIFACT_ROOT@',
} as const;

export interface SbatchScripts {
  train: string;
  merge: string;
  /** The array spec written into train.sbatch. */
  array: string;
}

function directives(defaults: readonly string[], user: readonly string[]): string[] {
  const userNames = new Set(user.map(sbatchOptionName));
  const lines = ['# Defaults (a --sbatch-arg with the same option replaces one; edit freely):'];
  for (const d of defaults) {
    const line = `#SBATCH ${d}`;
    lines.push(userNames.has(sbatchOptionName(d)) ? `#(replaced) ${d}` : line);
  }
  if (user.length) {
    lines.push('# Passed through with --sbatch-arg:');
    for (const u of user) lines.push(`#SBATCH ${u}`);
  }
  return lines;
}

/**
 * The two scripts. Both run the CLI with the same flags, the train tasks with
 * `--job-index $SLURM_ARRAY_TASK_ID`, the merge with `--merge`. Everything is absolute (or a
 * placeholder that must become absolute), so they run from any working directory; nothing is
 * downloaded (the project and its node_modules must be on a file system the nodes share).
 */
export function sbatchScripts(input: SbatchInput): SbatchScripts {
  const user = input.sbatchArgs ?? [];
  for (const a of user) {
    const p = sbatchArgProblem(a);
    if (p) throw new Error(p);
  }
  if (input.indices.length === 0) throw new Error('a job array needs at least one task');
  for (const k of input.indices) {
    if (!Number.isInteger(k) || k < 0 || k >= input.jobCount) throw new Error(`array task ${k} is outside 0-${input.jobCount - 1}`);
  }
  const array = arraySpec(input.indices);
  const P = input.paths;
  const ph = P.kind === 'placeholders';
  const slurmDir = ph ? `${PLACEHOLDERS.ARTIFACT_ROOT}/slurm` : P.slurmDir;
  const cmd = ph
    ? { ...input.command, phaseCRoot: '$PHASE_C_ROOT', phaseDRoot: '$PHASE_D_ROOT', artifactRoot: '$ARTIFACT_ROOT' }
    : input.command;
  const flags = studyFlags(cmd).map((f) => (ph && f.startsWith('$') ? shellQuoteVars(f) : shellQuote(f)));

  const setup: string[] = [];
  if (ph) {
    setup.push(
      '# Fill these in (absolute paths; see README.txt), e.g. with sed -i "s#@PHASE_C_ROOT@#/data/phase_c#g" *.sbatch',
      `PROJECT_DIR=${shellQuote(PLACEHOLDERS.PROJECT_DIR)}    # a PtychoPINN Studio checkout with node_modules (npm ci)`,
      `PHASE_C_ROOT=${shellQuote(PLACEHOLDERS.PHASE_C_ROOT)}`,
      `PHASE_D_ROOT=${shellQuote(PLACEHOLDERS.PHASE_D_ROOT)}`,
      `ARTIFACT_ROOT=${shellQuote(PLACEHOLDERS.ARTIFACT_ROOT)}`,
      'NODE="${NODE:-node}"    # Node.js >= 20.19 on the compute nodes (module load nodejs, or an absolute path)',
      'WORK_DIR="$PWD"',
      `case "$PROJECT_DIR|$PHASE_C_ROOT|$PHASE_D_ROOT|$ARTIFACT_ROOT" in`,
      // the tokens split by quotes, so filling in the placeholders does not rewrite the check itself
      `  ${Object.values(PLACEHOLDERS).map((t) => `*'${t.slice(0, 4)}''${t.slice(4)}'*`).join('|')})`,
      `    echo "$0: fill in the @...@ placeholders at the top of this script first (see README.txt)" >&2; exit 2 ;;`,
      'esac',
    );
  } else {
    setup.push(
      `PROJECT_DIR=${shellQuote(P.projectDir)}`,
      `NODE=${shellQuote(P.node)}`,
      `WORK_DIR=${shellQuote(P.workDir)}    # the directory the study was planned from (relative roots are relative to it)`,
    );
  }
  const run = (extra: string) => [
    'cd "$WORK_DIR" || { echo "$0: cannot cd to $WORK_DIR" >&2; exit 1; }',
    `exec "$NODE" "$PROJECT_DIR/node_modules/tsx/dist/cli.mjs" "$PROJECT_DIR/src/cli/study.ts" \\`,
    `  ${flags.join(' ')} \\`,
    `  ${extra}`,
  ];

  const head = (what: string) => [
    '#!/bin/bash',
    `# PtychoPINN Studio: ${what}`,
    `# ${input.generatedBy}`,
  ];
  const train = [
    ...head(`${input.indices.length} of ${input.jobCount} selected training job(s), one per array task.`),
    `#SBATCH --array=${array}`,
    `#SBATCH --output=${slurmDir}/logs/train-%A_%a.out`,
    ...directives(TRAIN_SBATCH_DEFAULTS, user),
    'set -u',
    ...setup,
    ': "${SLURM_ARRAY_TASK_ID:?run this script with sbatch (it is one task of a job array)}"',
    ...run('--job-index "$SLURM_ARRAY_TASK_ID"'),
    '',
  ].join('\n');
  const merge = [
    ...head('merge the per-job result.json files into training_manifest.json.'),
    '# Submit after the array: sbatch --dependency=afterany:<array job id> merge.sbatch',
    `#SBATCH --output=${slurmDir}/logs/merge-%j.out`,
    ...directives(MERGE_SBATCH_DEFAULTS, user),
    'set -u',
    ...setup,
    ...run('--merge'),
    '',
  ].join('\n');
  return { train, merge, array };
}

/** How to follow submitted jobs (printed by the CLI after --submit). */
export function followCommands(ids: readonly string[]): string[] {
  const list = ids.join(',');
  return [`squeue -j ${list}`, `sacct -j ${list} --format=JobID,JobName%20,State,ExitCode,Elapsed`];
}

/** The README line(s) of the app's cluster zip. */
export function clusterReadme(input: { jobCount: number; description: string }): string {
  const P = PLACEHOLDERS;
  return [
    `PtychoPINN Studio study for a SLURM cluster: ${input.jobCount} training job(s) (${input.description}).`,
    '',
    '1. Fill in the absolute paths (the project checkout with npm ci done, the data roots, where artifacts go):',
    `   sed -i -e 's#${P.PROJECT_DIR}#/path/to/ptychopinn-studio#g' -e 's#${P.PHASE_C_ROOT}#/data/phase_c#g' -e 's#${P.PHASE_D_ROOT}#/data/phase_d#g' -e 's#${P.ARTIFACT_ROOT}#/scratch/study_artifacts#g' train.sbatch merge.sbatch`,
    '2. Create the log folder, submit the array, then the merge after it:',
    '   mkdir -p /scratch/study_artifacts/slurm/logs',
    '   jid=$(sbatch --parsable train.sbatch) && sbatch --parsable --dependency=afterany:${jid%%;*} merge.sbatch',
    '3. When the merge has run: /scratch/study_artifacts/training_manifest.json.',
    '   (Or, on the cluster, let the CLI write and submit the same scripts: npm run study -- <the flags in train.sbatch> --slurm --submit)',
    '',
  ].join('\n');
}

/** The folder inside the app's cluster zip. */
export const CLUSTER_ZIP_DIR = 'ptychopinn-cluster';

export interface ClusterZipInput {
  filters: ParsedFilters;
  dryRun: boolean;
  /** The app's training settings (every value explicit, so the cluster trains what the screen shows). */
  size: TrainingSize;
  /** How many jobs the filters select now. */
  jobCount: number;
  /** Pass-through sbatch options (none from the app today). */
  sbatchArgs?: readonly string[];
  /** For the generated-by comment. */
  timestamp: string;
}

/**
 * The app's "Run on a cluster" zip: train.sbatch, merge.sbatch and README.txt under
 * `ptychopinn-cluster/`, for the current filters and settings, with the paths as placeholders.
 */
export function clusterZipFiles(input: ClusterZipInput): Record<string, Uint8Array> {
  const command: StudyCommand = {
    phaseCRoot: PLACEHOLDERS.PHASE_C_ROOT,
    phaseDRoot: PLACEHOLDERS.PHASE_D_ROOT,
    artifactRoot: PLACEHOLDERS.ARTIFACT_ROOT,
    filters: input.filters,
    dryRun: input.dryRun,
    size: input.size,
    backend: null,
  };
  const scripts = sbatchScripts({
    command,
    indices: Array.from({ length: input.jobCount }, (_, k) => k),
    jobCount: input.jobCount,
    sbatchArgs: input.sbatchArgs,
    paths: { kind: 'placeholders' },
    generatedBy: `Written by PtychoPINN Studio (Run on a cluster) on ${input.timestamp}.`,
  });
  const f = input.filters;
  const parts = [
    `dose ${f.dose === null ? 'all' : pyFloatRepr(f.dose)}`, `view ${f.view ?? 'all'}`, `gridsize ${f.gridsize ?? 'all'}`,
    ...(input.dryRun ? ['dry run'] : []),
    ...Object.entries(input.size).filter(([, v]) => v !== null).map(([k, v]) => `${k} ${String(v)}`),
  ];
  return {
    [`${CLUSTER_ZIP_DIR}/train.sbatch`]: strToU8(scripts.train),
    [`${CLUSTER_ZIP_DIR}/merge.sbatch`]: strToU8(scripts.merge),
    [`${CLUSTER_ZIP_DIR}/README.txt`]: strToU8(clusterReadme({ jobCount: input.jobCount, description: parts.join(', ') })),
  };
}

export function clusterZip(input: ClusterZipInput): Uint8Array {
  const files = clusterZipFiles(input);
  const out: Record<string, [Uint8Array, { os: number; attrs: number }]> = {};
  // Unix permissions rwxr-xr-x for the scripts (unzip keeps them), rw-r--r-- for the README.
  for (const [name, bytes] of Object.entries(files)) {
    out[name] = [bytes, { os: 3, attrs: (name.endsWith('.sbatch') ? 0o100755 : 0o100644) << 16 }];
  }
  return zipSync(out, { level: 6 });
}

/** A partition as `sinfo -h -o '%P %c'` lists it: its name, whether it is the default, CPUs per node. */
export interface PartitionSize {
  name: string;
  isDefault: boolean;
  cpus: number;
}

/** The lines of `sinfo -h -o '%P %c'` ("debug* 2"); a partition listed twice keeps its largest node. */
export function parseSinfo(text: string): PartitionSize[] {
  const byName = new Map<string, PartitionSize>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\S+)\s+(\d+)\+?\s*$/.exec(line);
    if (!m) continue;
    const isDefault = m[1].endsWith('*');
    const name = isDefault ? m[1].slice(0, -1) : m[1];
    const cpus = Number(m[2]);
    const had = byName.get(name);
    byName.set(name, { name, isDefault: isDefault || (had?.isDefault ?? false), cpus: Math.max(cpus, had?.cpus ?? 0) });
  }
  return [...byName.values()];
}

/** The value of the last pass-through option named `name` (`--x=v`, `--x v`, `-c v`, `-cv`), or null. */
function optionValue(args: readonly string[], name: string): string | null {
  let v: string | null = null;
  for (const a of args) {
    if (sbatchOptionName(a) !== name) continue;
    if (a.startsWith('--')) v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : a.split(/\s+/)[1] ?? null;
    else v = a.slice(2).trim() || null;
  }
  return v;
}

export type CpuFit =
  | { kind: 'ok' }
  | { kind: 'fitted'; cpus: number; arg: string; note: string }
  | { kind: 'refused'; reason: string };

/**
 * Will the training tasks' --cpus-per-task fit a node of the partition they go to? The default
 * (TRAIN_SBATCH_DEFAULTS) is fitted down to the partition's largest node; a value the user asked
 * for is refused with the reason, since SLURM would otherwise leave the array pending forever
 * (reason PartitionConfig) without telling anyone.
 */
export function fitCpusPerTask(sbatchArgs: readonly string[], partitions: readonly PartitionSize[]): CpuFit {
  if (partitions.length === 0) return { kind: 'ok' };
  const asked = optionValue(sbatchArgs, '--partition');
  const names = asked ? asked.split(',') : [];
  const target = asked ? partitions.filter((p) => names.includes(p.name)) : partitions.filter((p) => p.isDefault);
  if (target.length === 0) {
    if (asked) return { kind: 'refused', reason: `partition '${asked}' is not among the cluster's partitions (${partitions.map((p) => p.name).join(', ')})` };
    return { kind: 'ok' };
  }
  const maxCpus = Math.max(...target.map((p) => p.cpus));
  const where = `partition ${target.map((p) => p.name).join(',')} (nodes of at most ${maxCpus} CPU${maxCpus === 1 ? '' : 's'})`;
  const user = optionValue(sbatchArgs, '--cpus-per-task');
  if (user !== null) {
    const n = Number(user);
    if (Number.isInteger(n) && n > maxCpus) {
      return { kind: 'refused', reason: `--cpus-per-task=${n} cannot fit ${where}: SLURM would leave the array pending forever (PartitionConfig). Ask for at most ${maxCpus}` };
    }
    return { kind: 'ok' };
  }
  const def = Number(optionValue(TRAIN_SBATCH_DEFAULTS, '--cpus-per-task'));
  if (def <= maxCpus) return { kind: 'ok' };
  return { kind: 'fitted', cpus: maxCpus, arg: `--cpus-per-task=${maxCpus}`, note: `the default --cpus-per-task=${def} does not fit ${where}; the training tasks ask for ${maxCpus}` };
}

/**
 * Pending reasons (squeue %r) that never clear by themselves: the request exceeds what the
 * partition, its limits or the account allow. Other reasons (Resources, Priority, Dependency,
 * JobHeldUser, BeginTime) clear as the queue moves.
 */
export const STUCK_REASONS: readonly string[] = [
  'PartitionConfig', 'PartitionNodeLimit', 'PartitionTimeLimit', 'BadConstraints', 'InvalidAccount', 'InvalidQOS',
  'QOSMaxCpuPerJobLimit', 'AssocMaxCpuPerJobLimit', 'QOSMaxWallDurationPerJobLimit', 'AssocMaxWallDurationPerJobLimit',
];

/** The stuck reasons among the lines of `squeue -h -o %r` (one per pending task), each once. */
export function stuckReasons(squeueReasons: string): string[] {
  const found = new Set<string>();
  for (const line of squeueReasons.split('\n')) {
    const r = line.trim().replace(/^\(|\)$/g, '');
    if (STUCK_REASONS.includes(r)) found.add(r);
  }
  return [...found];
}
