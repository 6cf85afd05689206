/**
 * The command-line twin of the app's study pipeline (the Python Phase E training CLI, study spec 5):
 *
 *   npm run study -- --phase-c-root P --phase-d-root Q --artifact-root R \
 *                    [--dose D] [--view {baseline,dense,sparse}] [--gridsize {1,2}] [--dry-run]
 *
 * Same src/lib code as the app: planStudy (tree, matrix, validation through ingest + contract,
 * filters) and runStudy (run loop, bridge, manifest), with files read from disk as lazily sliced
 * Blobs and artifacts written to disk. Console lines follow the reference (E4 main, E5 skip lines).
 * Without --dry-run it trains with the PtychoPINN runner (src/lib/model/runner.ts) when that module
 * is present, and otherwise refuses clearly: it never pretends to train.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs, type OptionSpec } from './args';
import { diskFileSource, diskSink, isDirectory, listNpzFiles, mkdirpSync, openDiskBlob } from './node-io';
import { planStudy, type PlanInputFile } from '../lib/study/plan';
import { inspectNpz } from '../lib/study/inspect';
import { pyFloatRepr, pyFormatE0, pyPathStr } from '../lib/study/pyformat';
import type { JobRunner } from '../lib/study/runner';
import { runStudy } from '../lib/report/run';

export const PROG = 'study';
const DESCRIPTION = 'Enumerate, filter and run the PtychoPINN dose/overlap training jobs and write training_manifest.json.';

export const OPTIONS: readonly OptionSpec[] = [
  { flag: '--phase-c-root', dest: 'phase_c_root', kind: 'value', type: 'str', required: true, help: 'Phase C root (dose_<N>/patched_{train,test}.npz)' },
  { flag: '--phase-d-root', dest: 'phase_d_root', kind: 'value', type: 'str', required: true, help: 'Phase D root (dose_<N>/<view>/<view>_{train,test}.npz)' },
  { flag: '--artifact-root', dest: 'artifact_root', kind: 'value', type: 'str', required: true, help: 'where job artifacts and training_manifest.json go' },
  { flag: '--dose', dest: 'dose', kind: 'value', type: 'float', help: 'run only this dose (exact match: 1000, 1e3, 1000.0)' },
  { flag: '--view', dest: 'view', kind: 'value', type: 'str', choices: ['baseline', 'dense', 'sparse'], help: 'run only this view' },
  { flag: '--gridsize', dest: 'gridsize', kind: 'value', type: 'int', choices: [1, 2], help: 'run only this gridsize' },
  { flag: '--dry-run', dest: 'dry_run', kind: 'flag', help: 'write the dry-run train.log and manifest without training' },
  { flag: '--backend', dest: 'backend', kind: 'value', type: 'str', choices: ['wasm', 'cpu', 'webgpu'], help: 'train on this tfjs backend (default: wasm, else cpu); webgpu runs on Dawn' },
];

/** What main() needs from the outside world; tests inject their own. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Epoch ms for the manifest timestamp. */
  now?: () => number;
  /** The real runner (default: src/lib/model/runner.ts when present), or null when unavailable. */
  loadRunner?: () => Promise<{ runner: JobRunner; backend: string } | null>;
  signal?: AbortSignal;
}

const RUNNER_MODULE = '../lib/model/runner.ts';

/**
 * Import the PtychoPINN runner if this build has it (it is written in another part of the project).
 * Node has no WebGPU: training runs on tfjs' WASM backend (XNNPACK convolutions, with the gradient
 * kernels of src/lib/model/wasm-kernels.ts), about 30x faster than the pure-JavaScript CPU backend,
 * which remains the fallback where WebAssembly does not start.
 */
export async function loadPtychoPinnRunner(requested?: 'wasm' | 'cpu' | 'webgpu'): Promise<{ runner: JobRunner; backend: string } | null> {
  const url = new URL(RUNNER_MODULE, import.meta.url);
  if (!existsSync(url)) return null;
  const mod = (await import(/* @vite-ignore */ url.href)) as {
    createPtychoPinnRunner?: (opts: { backend: 'cpu' | 'wasm' | 'webgpu' }) => JobRunner | Promise<JobRunner>;
  };
  if (typeof mod.createPtychoPinnRunner !== 'function') return null;
  if (requested) {
    // Exactly the backend asked for, or an error saying why it cannot start (src/lib/model/node-backend.ts).
    const { startNodeBackend } = await import('../lib/model/node-backend');
    const info = await startNodeBackend(requested);
    return { runner: await mod.createPtychoPinnRunner({ backend: info.name }), backend: info.name };
  }
  const backend = (await startWasm()) ? 'wasm' : 'cpu';
  return { runner: await mod.createPtychoPinnRunner({ backend }), backend };
}

/** Register and start tfjs' WASM backend; false (with the reason on stderr) where it cannot start. */
async function startWasm(): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    const tf = await import('@tensorflow/tfjs');
    if (await tf.setBackend('wasm')) return true;
    console.error('  (the WASM backend did not start; training on the slower tfjs CPU backend)');
  } catch (e) {
    console.error(`  (the WASM backend is unavailable: ${e instanceof Error ? e.message : String(e)}; training on the slower tfjs CPU backend)`);
  }
  return false;
}

function pyStrValue(v: number | string): string {
  return typeof v === 'number' && !Number.isInteger(v) ? pyFloatRepr(v) : String(v);
}

export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const out = (line = '') => io.stdout(line + '\n');
  const parsed = parseArgs(argv, OPTIONS, PROG, DESCRIPTION);
  if (!parsed.ok) {
    if (parsed.stdout) io.stdout(parsed.stdout);
    if (parsed.stderr) io.stderr(parsed.stderr);
    return parsed.exitCode;
  }
  const a = parsed.values;
  // type=Path: str(Path(value)) drops duplicate/trailing slashes and leading ./ (trap 8.13)
  const phaseCRoot = pyPathStr(String(a.phase_c_root));
  const phaseDRoot = pyPathStr(String(a.phase_d_root));
  const artifactRoot = pyPathStr(String(a.artifact_root));
  const dryRun = a.dry_run === true;
  const dose = typeof a.dose === 'number' ? a.dose : null;
  const view = typeof a.view === 'string' ? a.view : null;
  const gridsize = typeof a.gridsize === 'number' ? a.gridsize : null;

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
    filters: { dose, view, gridsize },
    inspect: inspectNpz,
    validate: 'selected',
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
  if (plan.selected.length === 0) {
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

  let runner: JobRunner | undefined;
  let backend: string | null = null;
  if (!dryRun) {
    const requested = typeof a.backend === 'string' ? (a.backend as 'wasm' | 'cpu' | 'webgpu') : undefined;
    let loaded;
    try {
      loaded = await (io.loadRunner ?? (() => loadPtychoPinnRunner(requested)))();
    } catch (e) {
      io.stderr(`${PROG}: error: the ${requested} backend cannot start: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    }
    if (!loaded) {
      io.stderr(`${PROG}: error: real training needs the PtychoPINN runner (src/lib/model/runner.ts, ` +
        'createPtychoPinnRunner), which this build does not have. Use --dry-run to plan without training.\n');
      return 1;
    }
    runner = loaded.runner;
    backend = loaded.backend;
  }

  out();
  out(`Executing ${plan.selected.length} training job(s)...`);
  const tag = (v: string, d: number) => `[${v}/dose=${pyFormatE0(d)}]`;
  const res = await runStudy({
    jobs: plan.selected,
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
    signal: io.signal,
    now: io.now,
    onEvent: (e) => {
      if (e.type === 'job-start') {
        out(`  [${e.index}/${e.total}] ${e.job.view} (dose=${pyFormatE0(e.job.dose)}, gridsize=${e.job.gridsize})`);
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
    },
  });

  const count = (s: string) => res.entries.filter((x) => x.result.status === s).length;
  const completed = res.entries.length - count('failed') - count('blocked') - count('cancelled');
  out();
  out(`✓ Training manifest written to ${res.manifestPath}`);
  out(`  → ${completed} job(s) completed`);
  for (const s of ['failed', 'blocked', 'cancelled']) if (count(s)) out(`  → ${count(s)} job(s) ${s}`);
  if (res.notRun.length) out(`  → ${res.notRun.length} job(s) not run (cancelled)`);
  return res.cancelled ? 130 : 0;
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
  process.once('SIGINT', () => controller.abort());
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
