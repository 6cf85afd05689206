/**
 * `npm run bench`: every benchmark side by side in one run, one table of ratios, the same table
 * (plus every detail) as JSON in bench/results/bench-<date>.json.
 *
 *   1. NPZ loading, ours against numpy.load on the same ~200 MB files (bench/npz.ts): in this Node
 *      process, and in headless Chromium from the File objects of the app's kind of folder input
 *      (bench/browser/npz.html; page.setInputFiles with the folder), read in a worker as the app does.
 *   2. CPU backend, in this Node process (tfjs-backend-cpu, with the app's fast Conv2DBackpropFilter
 *      from src/lib/runtime/cpu-kernels.ts installed, as the runner does): peak matMul GFLOP/s, one full
 *      PtychoPINN training step (achieved GFLOP/s and its fraction of that peak, first vs steady step),
 *      matrix-DFT vs tfjs FFT far field, tf.memory() across the 9-job demo study.
 *   3. The WASM backend in this Node process (tfjs-backend-wasm: XNNPACK convolutions, with the
 *      convolution gradient kernels of src/lib/runtime/wasm-kernels.ts, as the CLI trains): peak matMul,
 *      the same training step, the 9-job study (no physics part: the backend has no FFT kernel).
 *   4. WebGPU in headless Chromium (Playwright, /usr/bin/chromium, page served by Vite's dev server on
 *      http://127.0.0.1, a secure context): the same measurements through the same code
 *      (bench/browser/suite.ts), the study only when the time budget allows.
 *
 *   5. WASM and CPU in headless Chromium (the same page, cross-origin isolated by COOP/COEP headers so
 *      the threaded WASM build runs, its .wasm files served by the same server as the app does): the
 *      same training step; then the browser-WASM step against WebGPU (SwiftShader), Node WASM and CPU.
 *
 * The FLOPs of a step are counted once, in Node, from the kernels tfjs runs for that config
 * (tf.profile; see kernelFlops in bench/browser/suite.ts); the conv part is also given by the
 * textbook formula 3 × Σ 2·9·cin·cout·H·W·B (backward ≈ 2× forward) as a cross-check.
 *
 * Options: --only=npz,cpu,wasm,webgpu,browser (comma-separated)  --parts=step,physics,study,profile  --mb=200  --npz-reps=4
 *          (profile: steps under tf.profile, kernel by kernel, WASM in Node against WASM in Chromium; --profile-warmup=3)
 *          --note=TEXT (kept in the JSON's meta)
 *          --npz=node,browser (which NPZ rows: Node's file handle / Blob, or Chromium's folder input)
 *          --steps=3  --budget-s=540 (the WebGPU study gets what is left of it and stops there)
 *
 *   6. With --only=webgpu --parts=profile: WebGPU in this Node process on Dawn (src/lib/runtime/node-backend.ts;
 *      where Dawn finds no adapter, the run restarts itself with Chromium's SwiftShader Vulkan driver),
 *      one training step of the Reference preset at gridsize 2 (N 64, filter scale 2, batch 16) kernel by
 *      kernel, with our WebGPU kernels (src/lib/runtime/webgpu-kernels.ts) and with tfjs' own (the
 *      PTYCHO_OUR_WEBGPU_KERNELS switch) side by side: dispatches, CPU and GPU (timestamp-query)
 *      milliseconds per kernel, the step time of each (src/lib/runtime/webgpu-profile.ts).
 *      --webgpu-kernels=both|ours|tfjs  --webgpu-warmup=1  --webgpu-steps=1 (timed steps, each with the
 *      per-kernel CPU timers)  --webgpu-gpu-profile=1 (one step under tf.profile for GPU times)
 *      --webgpu-where=node,browser  --webgpu-config=N,gridsize,filterScale,batch (default 64,2,2,16)  In headless Chromium (the WebGPU
 *      page, as in 4.) the same profile at --webgpu-browser-config (default the small step of 2.-5.).  --webgpu-flags=NAME:VALUE;...
 *      (tfjs flags set before the steps, e.g. WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE:30)  --webgpu-compile-warmup=1
 *      (a compile-only pass, WEBGPU_ENGINE_COMPILE_ONLY, before the first step; src/lib/runtime/webgpu-kernels.ts)
 *      --webgpu-readback=K (K steps reading the loss inside the step, as src/lib/model/train.ts, and K
 *      without, taking turns)
 */
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { chromium, type Page } from '@playwright/test';
import { createServer, type ViteDevServer } from 'vite';
import { benchNpz, makeNpzFiles, numpyServer, takeTurns, type NpzBenchRow, type NumpyServer } from './npz.ts';
import type { NpzLoadRequest as BrowserNpzRequest, NpzLoadResult as BrowserNpzResult } from './browser/npz.worker.ts';
import { ISOLATION_HEADERS } from '../vite.config.ts';
import type * as SuiteModule from './browser/suite.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const only = new Set((arg('only') ?? '').split(',').filter(Boolean));
const want = (part: string) => only.size === 0 || only.has(part);
const parts = new Set((arg('parts') ?? 'step,physics,study').split(','));

/** Chromium's SwiftShader Vulkan driver: what Dawn in Node runs on where there is no GPU driver. */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
/** --webgpu-where=node,browser: where --parts=profile profiles WebGPU. */
const WEBGPU_WHERE = new Set((arg('webgpu-where') ?? 'node,browser').split(','));
const nodeWebGpuProfile = want('webgpu') && parts.has('profile') && WEBGPU_WHERE.has('node');
if (nodeWebGpuProfile && !process.env.PTYCHO_BENCH_SWIFTSHADER) {
  // The Vulkan loader reads LD_LIBRARY_PATH when the process starts: where Dawn finds no adapter,
  // run this same command again with the loader pointed at SwiftShader, and exit with its status.
  const { nodeGpu } = await import('../src/lib/runtime/node-backend.ts');
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await (await nodeGpu()).requestAdapter({ powerPreference: 'high-performance' });
  } catch {
    adapter = null;
  }
  if (!adapter && fs.existsSync(SWIFTSHADER_ICD)) {
    const { spawnSync } = await import('node:child_process');
    const dir = path.dirname(SWIFTSHADER_ICD);
    console.log(`Dawn found no WebGPU adapter: running again with Chromium's SwiftShader (VK_ICD_FILENAMES=${SWIFTSHADER_ICD})`);
    const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, PTYCHO_BENCH_SWIFTSHADER: '1', VK_ICD_FILENAMES: SWIFTSHADER_ICD, LD_LIBRARY_PATH: [dir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') },
    });
    process.exit(r.status ?? 1);
  }
}

const STEP_CONFIG: SuiteModule.StepConfig = { N: 32, gridsize: 2, f: 0.25, batch: 8 };
const STEPS = Number(arg('steps') ?? 3);
/** --parts=profile: warm-up steps before the profiled one. */
const PROFILE_WARMUP = Number(arg('profile-warmup') ?? 3);
const PEAK_N = 512;
const PEAK_REPS = 3;
const PHYSICS = [
  { B: 16, N: 32 },
  { B: 16, N: 64 },
];
/** tfjs' CPU FFT takes seconds per call (it recurses through tensor ops), so fewer repetitions there. */
const PHYSICS_REPS = { cpu: 1, webgpu: 3, wasm: 1 } as const;
const STUDY: SuiteModule.StudyMemoryOptions = { epochs: 1, groups: 8, batch: 8, filterScale: 0.25 };
const BUDGET_S = Number(arg('budget-s') ?? 540);
const T0 = performance.now();
const elapsed = () => (performance.now() - T0) / 1000;

// ---------------------------------------------------------------------------------------------
// The summary table

interface Row {
  benchmark: string;
  backend: string;
  measured: string;
  against: string;
  ratio: number | null;
  /** e.g. '<= 1.5' */
  target: string;
  meets: string;
  note: string;
}
const rows: Row[] = [];
/** Best steady training-step milliseconds per backend label key, for the side-by-side rows at the end. */
const stepBest: Record<string, { ms: number; label: string }> = {};
/** Kernel profiles of one training step per WASM side (Node, Chromium threaded, Chromium single-threaded). */
const profiles: Record<string, { label: string; p: SuiteModule.KernelProfile }> = {};
const details: Record<string, unknown> = {};
const skipped: string[] = [];

const ms = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(1)} ms`);
const gf = (x: number) => `${x.toFixed(3)} GFLOP/s`;
const r3 = (x: number) => +x.toPrecision(3);
function add(r: Omit<Row, 'meets' | 'target'> & { max?: number; min?: number }): void {
  const { max, min, ...rest } = r;
  const target = max !== undefined ? `<= ${max}` : min !== undefined ? `>= ${min}` : '';
  const meets = r.ratio === null ? '' : max !== undefined ? (r.ratio <= max ? 'yes' : 'NO') : min !== undefined ? (r.ratio >= min ? 'yes' : 'NO') : '';
  rows.push({ ...rest, ratio: r.ratio === null ? null : r3(r.ratio), target, meets });
}

// ---------------------------------------------------------------------------------------------
// 1. NPZ

function npzRows(res: NpzBenchRow[]): void {
  for (const r of res) {
    add({
      benchmark: `NPZ load ${r.file} (${r.fileMB} MB), ${r.via}${r.inflate === '-' ? '' : `, ${r.inflate}`}`,
      backend: 'node',
      measured: ms(r.oursMs), against: `numpy.load ${ms(r.numpyMs)}`,
      ratio: r.ratio, max: r.target, note: `median of per-round ratios ${r.medianRoundRatio}; values = numpy: ${r.valuesMatch}`,
    });
  }
  for (const r of res) {
    if (!Number.isFinite(r.peakArrayBuffersDeltaMB)) continue;
    add({
      benchmark: `NPZ peak memory ${r.file}, ${r.via}${r.inflate === '-' ? '' : `, ${r.inflate}`}`,
      backend: 'node',
      measured: `+${r.peakArrayBuffersDeltaMB} MB arrayBuffers`, against: `${r.arrayMB} MB of arrays`,
      ratio: r.peakArrayBuffersDeltaMB / r.arrayMB, note: `peak rss +${r.peakRssDeltaMB} MB`,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// 2./3. the tfjs measurements, on either side

/** Runs a suite function here (CPU) or in the page (WebGPU); the page side passes a JS expression. */
interface Side {
  backend: 'cpu' | 'webgpu' | 'wasm';
  peak(): Promise<SuiteModule.PeakResult>;
  step(): Promise<SuiteModule.StepResult>;
  physics(B: number, N: number, reps: number): Promise<SuiteModule.PhysicsResult>;
  study(): Promise<SuiteModule.StudyMemoryResult>;
}

function nodeSide(S: typeof SuiteModule): Side {
  return {
    backend: 'cpu',
    peak: () => S.peakMatmul(PEAK_N, PEAK_REPS),
    step: () => S.stepBench(STEP_CONFIG, STEPS),
    physics: (B, N, reps) => S.physicsBench(B, N, reps),
    study: () => S.studyMemory(STUDY),
  };
}

function pageSide(page: Page, studySeconds = Infinity, backend: Side['backend'] = 'webgpu'): Side {
  const call = <T>(expr: string): Promise<T> => page.evaluate(`window.__suite.${expr}`) as Promise<T>;
  return {
    backend,
    peak: () => call(`peakMatmul(${PEAK_N}, ${PEAK_REPS})`),
    step: () => call(`stepBench(${JSON.stringify(STEP_CONFIG)}, ${STEPS})`),
    physics: (B, N, reps) => call(`physicsBench(${B}, ${N}, ${reps})`),
    study: () => call(`studyMemory(${JSON.stringify(STUDY)}, ${Number.isFinite(studySeconds) ? Math.round(studySeconds) : 'undefined'})`),
  };
}

function detailsOf(be: string): Record<string, unknown> {
  return (details[be] ??= {}) as Record<string, unknown>;
}

/** Training step, peak and far field on one backend. */
async function measureCompute(side: Side, flops: SuiteModule.FlopCount | undefined, label: string, key: string = side.backend): Promise<void> {
  const d = detailsOf(key);
  if (flops) await measureStep(side, flops, label, d, key);
  if (parts.has('physics')) await measurePhysics(side, label, d);
}

async function measureStep(side: Side, flops: SuiteModule.FlopCount, label: string, d: Record<string, unknown>, key: string = side.backend): Promise<void> {
  const be = side.backend;
  // The training step first, on a fresh backend: its first step pays for shader compilation.
  console.log(`[${elapsed().toFixed(0)} s] ${label}: training step N=${STEP_CONFIG.N} gridsize=${STEP_CONFIG.gridsize} f=${STEP_CONFIG.f} batch=${STEP_CONFIG.batch}, 1 + ${STEPS} steps ...`);
  const step = await side.step();
  d.step = step;
  console.log(`[${elapsed().toFixed(0)} s] ${label}: peak matMul ${PEAK_N}^3, best of ${PEAK_REPS} ...`);
  const peak = await side.peak();
  d.peak = peak;
  stepBest[key] = { ms: step.steadyBestMs, label };
  const achieved = flops.total / (step.steadyBestMs / 1000) / 1e9;
  const cfg = `N=${STEP_CONFIG.N}, gridsize ${STEP_CONFIG.gridsize}, filter scale ${STEP_CONFIG.f}, batch ${STEP_CONFIG.batch}`;
  add({
    benchmark: `training step (${cfg}): achieved FLOP/s vs peak matMul`,
    backend: label,
    measured: `${gf(achieved)} (${(flops.total / 1e9).toFixed(3)} GFLOP in ${ms(step.steadyBestMs)}, best of ${STEPS})`,
    against: `${gf(peak.gflops)} (matMul ${PEAK_N}^3, best of ${PEAK_REPS})`,
    ratio: achieved / peak.gflops,
    note: `${step.parameters} params; median step ${ms(step.steadyMedianMs)}` +
      (achieved > peak.gflops ? "; above the matMul 'peak': this backend's matMul kernel is slower than its conv kernels, so it is no roofline here" : ''),
  });
  add({
    benchmark: `time to first step (${cfg}) vs steady step`,
    backend: label,
    measured: ms(step.firstStepMs), against: ms(step.steadyBestMs),
    ratio: step.firstStepMs / step.steadyBestMs,
    note: be === 'webgpu' ? 'first step = shader compilation + first run' : be === 'wasm' ? 'first step = XNNPACK operator setup + first run' : 'first step = kernel setup + first run (no shaders)',
  });
}

async function measurePhysics(side: Side, label: string, d: Record<string, unknown>): Promise<void> {
  const be = side.backend;
  const phys: SuiteModule.PhysicsResult[] = [];
  for (const { B, N } of PHYSICS) {
    const reps = PHYSICS_REPS[be];
    console.log(`[${elapsed().toFixed(0)} s] ${label}: far field B=${B} N=${N}, matrix-DFT vs tf.spectral.fft, best of ${reps} ...`);
    const p = await side.physics(B, N, reps);
    phys.push(p);
    add({
      benchmark: `far field ${B}x${N}x${N}: tfjs FFT path vs matrix-DFT`,
      backend: label,
      measured: `FFT ${ms(p.fftBestMs)}`, against: `DFT ${ms(p.dftBestMs)}`,
      ratio: p.fftOverDft,
      note: `best of ${reps}; > 1: DFT faster; max rel diff ${p.maxRelDiff.toExponential(1)}; first calls FFT ${ms(p.fftFirstMs)} / DFT ${ms(p.dftFirstMs)}`,
    });
  }
  d.physics = phys;
}

/** Memory across the 9-job demo study on one backend. */
async function measureStudy(side: Side, label: string): Promise<void> {
  const d = detailsOf(side.backend);
  console.log(`[${elapsed().toFixed(0)} s] ${label}: 9-job demo study through the real runner (${JSON.stringify(STUDY)}) ...`);
  const st = await side.study();
  d.study = st;
  const first = st.jobs[0];
  const last = st.jobs[st.jobs.length - 1];
  const failed = st.jobs.filter((j) => j.status !== 'success');
  const k = st.jobs.length;
  const what = (x: string) => `memory after job ${k} vs after job 1: ${x}`;
  const studyNote = `${st.stoppedAt ? `STOPPED at the time budget after ${k} of 9 jobs; ` : ''}${k} jobs in ${st.totalSeconds.toFixed(0)} s${failed.length ? `; NOT all succeeded: ${failed.map((j) => `${j.job} ${j.status}`).join('; ')}` : ', all succeeded'}; before the study ${st.before.tensors} tensors`;
  add({
    benchmark: what('tensors (tf.memory)'),
    backend: label, measured: `${last.tensors} tensors`, against: `${first.tensors} tensors`,
    ratio: last.tensors / first.tensors, max: 1.1, note: studyNote,
  });
  add({
    benchmark: what('tensor bytes'),
    backend: label, measured: `${(last.bytes / 2 ** 20).toFixed(2)} MiB`, against: `${(first.bytes / 2 ** 20).toFixed(2)} MiB`,
    ratio: last.bytes / first.bytes, max: 1.1, note: `per job: ${st.jobs.map((j) => j.tensors).join(', ')} tensors`,
  });
  if (first.gpuBytes !== undefined && last.gpuBytes !== undefined) {
    add({
      benchmark: what('GPU bytes (numBytesInGPU)'),
      backend: label, measured: `${(last.gpuBytes / 2 ** 20).toFixed(2)} MiB`, against: `${(first.gpuBytes / 2 ** 20).toFixed(2)} MiB`,
      ratio: last.gpuBytes / first.gpuBytes, max: 1.1,
      note: 'bytes of live tensors in GPU buffers',
    });
  }
  if (first.gpuBytesAllocated !== undefined && last.gpuBytesAllocated !== undefined) {
    const seq = st.jobs.map((j) => ((j.gpuBytesAllocated ?? NaN) / 2 ** 20).toFixed(1)).join(', ');
    add({
      benchmark: what('GPU bytes allocated incl. the tfjs buffer pool (numBytesAllocatedInGPU)'),
      backend: label, measured: `${(last.gpuBytesAllocated / 2 ** 20).toFixed(2)} MiB`, against: `${(first.gpuBytesAllocated / 2 ** 20).toFixed(2)} MiB`,
      ratio: last.gpuBytesAllocated / first.gpuBytesAllocated, max: 1.1,
      note: `the runner releases tfjs' free-buffer pool after each job; per job (MiB): ${seq}; before the study ${((st.before.gpuBytesAllocated ?? NaN) / 2 ** 20).toFixed(1)}`,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Browser plumbing

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

async function withPage<T>(
  fn: (page: Page, info: { chromium: string }) => Promise<T>,
  query = '',
  at: { html: string; ready: string } = { html: 'bench/browser/suite.html', ready: 'window.__suiteReady === true' },
): Promise<T> {
  const port = await freePort();
  // Vite's dev server straight from the sources, without the app's vite.config.ts (no Svelte needed).
  let server: ViteDevServer | undefined;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--no-sandbox'],
  });
  try {
    server = await createServer({
      configFile: false,
      root: ROOT,
      logLevel: 'warn',
      // Cross-origin isolated, as the app is served (vite.config.ts): WASM threads need SharedArrayBuffer.
      server: { host: '127.0.0.1', port, strictPort: true, hmr: false, watch: null, headers: ISOLATION_HEADERS },
      optimizeDeps: { entries: ['bench/browser/suite.html', 'bench/browser/npz.html'], include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm', 'fflate'] },
    });
    await server.listen();
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') console.log(`  [page] ${m.text()}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400) console.log(`  [page] ${r.status()} ${r.url()}`);
    });
    page.on('pageerror', (e) => console.log(`  [page error] ${e.message}`));
    const url = `http://127.0.0.1:${port}/${at.html}${query}`;
    await page.goto(url);
    await page.waitForFunction(at.ready, undefined, { timeout: 180_000 });
    return await fn(page, { chromium: browser.version() });
  } finally {
    await browser.close();
    await server?.close();
  }
}

// ---------------------------------------------------------------------------------------------

const load0 = os.loadavg();
const date = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
const meta: Record<string, unknown> = {
  date: new Date().toISOString(),
  node: process.version,
  tfjs: tf.version.tfjs,
  cpus: os.cpus().length,
  cpu: os.cpus()[0]?.model,
  memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
  loadavgStart: load0.map((x) => +x.toFixed(2)),
  args: process.argv.slice(2),
  /** --note=...: what else was special about this run (e.g. a build of the code under comparison) */
  note: arg('note'),
  configs: { step: STEP_CONFIG, steps: STEPS, peak: { n: PEAK_N, reps: PEAK_REPS }, physics: PHYSICS, physicsReps: PHYSICS_REPS, study: STUDY },
};

/**
 * NPZ loading in headless Chromium, where users load their files: the folder of generated files is
 * chosen in bench/browser/npz.html's `webkitdirectory` input (page.setInputFiles with the folder:
 * File objects, as the app's folder picker gives them), a worker reads every member of one file
 * with openNpz, taking turns with numpy.load on the same file.
 */
async function browserNpz(dir: string, numpy: NumpyServer, reps: number): Promise<void> {
  await withPage(async (page, info) => {
    meta.chromium ??= info.chromium;
    await page.setInputFiles('#pick', dir);
    const picked = (await page.evaluate('window.__npz.files()')) as { name: string; size: number; path: string }[];
    console.log(`  chosen through the folder input: ${picked.map((f) => `${f.path} (${f.size} bytes)`).join(', ')}`);
    const res: Record<string, unknown>[] = [];
    type Case = { name: string; target?: number; opts: BrowserNpzRequest['opts']; mode?: BrowserNpzRequest['mode']; what: string };
    const cases: Case[] = [
      { name: 'stored.npz', target: 2, opts: {}, what: 'openNpz, default options' },
      { name: 'stored.npz', opts: {}, mode: 'bytes', what: 'only File.arrayBuffer() of the whole file: the least any reader pays here' },
      { name: 'stored.npz', target: 2, opts: { blobReads: 'slices' }, what: "openNpz reading large ranges in 2 MiB Blob slices (Node's way; the browser's too before it streamed)" },
      { name: 'deflated.npz', target: 3, opts: {}, what: 'openNpz, default options (DecompressionStream)' },
      { name: 'deflated.npz', target: 3, opts: { inflate: 'fflate' }, what: 'openNpz, inflate fflate' },
      { name: 'deflated.npz', opts: {}, mode: 'bytes', what: 'only File.arrayBuffer() of the whole file' },
    ];
    for (const c of cases) {
      const file = path.join(dir, c.name);
      let last: BrowserNpzResult | undefined;
      const turns = await takeTurns(numpy, file, reps, async () => {
        const r = await page.evaluate(([n, o, m]) => window.__npz.load(n, o, m), [c.name, c.opts, c.mode] as const);
        if (r.error) throw new Error(`the browser could not read ${c.name}: ${r.error}`);
        last = r;
        return r.ms;
      });
      const np = turns.numpy;
      const valuesMatch = c.mode === 'bytes' ? undefined : Object.entries(np.sums).every(([k, s]) => Math.abs((last!.sums[k] ?? NaN) - s) <= 1e-9 * Math.max(1, Math.abs(s)));
      const fileMB = +(fs.statSync(file).size / 2 ** 20).toFixed(1);
      const ratio = turns.oursBestMs / np.ms;
      const slowest = last!.members.length ? last!.members.reduce((a, b) => (b.ms > a.ms ? b : a)) : undefined;
      add({
        benchmark: `NPZ load ${c.name} (${fileMB} MB), Chromium: File from the folder input, in a worker: ${c.what}`,
        backend: 'chromium',
        measured: ms(turns.oursBestMs), against: `numpy.load ${ms(np.ms)}`,
        ratio, max: c.target,
        note: `best of ${reps} each, taking turns; median of per-round ratios ${turns.medianRoundRatio.toFixed(2)}` +
          (valuesMatch === undefined ? '' : `; values = numpy: ${valuesMatch}`) + (slowest ? `; slowest member ${slowest.key} ${ms(slowest.ms)}` : ''),
      });
      res.push({ file: c.name, opts: c.opts, mode: c.mode ?? 'read', fileMB, arrayMB: +(np.bytes / 2 ** 20).toFixed(1), numpyMs: np.ms, oursMs: turns.oursBestMs, ratio: r3(ratio),
        medianRoundRatio: r3(turns.medianRoundRatio), valuesMatch, lastMembers: last!.members });
    }
    details.npzBrowser = res;
  }, '', { html: 'bench/browser/npz.html', ready: 'window.__npzReady === true' });
}

if (want('npz')) {
  const where = new Set((arg('npz') ?? 'node,browser').split(','));
  const reps = Number(arg('npz-reps') ?? 4);
  const files = makeNpzFiles(Number(arg('mb') ?? 200));
  const numpy = numpyServer();
  try {
    if (where.has('node')) {
      console.log('\n== NPZ loading in Node: ours vs numpy.load ==');
      const res = await benchNpz({ dir: files.dir, numpy, reps });
      details.npz = res;
      npzRows(res);
    }
    if (where.has('browser')) {
      console.log('\n== NPZ loading in headless Chromium (files from the folder input): ours vs numpy.load ==');
      try {
        await browserNpz(files.dir, numpy, reps);
      } catch (e) {
        skipped.push(`browser NPZ part failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  } finally {
    numpy.close();
    files.remove();
  }
}

let flops: SuiteModule.FlopCount | undefined;

/** The FLOPs of one training step of STEP_CONFIG, from tf.profile; the CPU backend must be current. */
async function countFlops(S: typeof SuiteModule): Promise<SuiteModule.FlopCount> {
  console.log(`[${elapsed().toFixed(0)} s] counting the FLOPs of one step (tf.profile on the CPU backend) ...`);
  const f = await S.countStepFlops(STEP_CONFIG);
  flops = f;
  details.flops = f;
  console.log(
    `  ${(f.total / 1e9).toFixed(3)} GFLOP per step: conv ${(f.conv / 1e9).toFixed(3)} (textbook 3x forward: ${(f.convStepAnalytic / 1e9).toFixed(3)}), ` +
      `matMul ${(f.matmul / 1e9).toFixed(3)}, other ${(f.other / 1e9).toFixed(3)}; ${f.kernels} kernels`,
  );
  return f;
}

if (want('cpu') || want('webgpu') || want('browser')) {
  // The suite module imports tfjs and the app's model; loaded only when needed.
  const S = await import('./browser/suite.ts');
  const be = await S.useBackend('cpu', true);
  meta.cpuBackend = be;
  console.log(`\n== tfjs CPU backend in Node (${be.backend}, fast Conv2DBackpropFilter ${be.fastCpuKernels ? 'ON' : 'off'}) ==`);
  if (want('cpu')) {
    const label = `cpu (Node, fast conv backprop ${be.fastCpuKernels ? 'on' : 'off'})`;
    await measureCompute(nodeSide(S), parts.has('step') ? await countFlops(S) : undefined, label);
    if (parts.has('study')) await measureStudy(nodeSide(S), label);
  } else if (parts.has('step')) await countFlops(S);
}

if (want('wasm')) {
  console.log('\n== tfjs WASM backend in Node (XNNPACK; our convolution gradient kernels) ==');
  try {
    const S = await import('./browser/suite.ts');
    const tf = await import('@tensorflow/tfjs');
    if (parts.has('step') && !flops) {
      await S.useBackend('cpu', true);
      await countFlops(S);
    }
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new Error('the WASM backend did not start');
    const { installWasmTrainingKernels } = await import('../src/lib/runtime/wasm-kernels.ts');
    installWasmTrainingKernels();
    meta.wasmBackend = { simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'), threads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') };
    const side: Side = { ...nodeSide(S), backend: 'wasm' };
    const label = `wasm (Node, XNNPACK${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? ' SIMD' : ''}, 1 thread)`;
    if (flops && parts.has('step')) await measureStep(side, flops, label, detailsOf('wasm'), 'wasm');
    if (parts.has('profile')) await measureProfile(() => S.profileStep(STEP_CONFIG, PROFILE_WARMUP), label, 'wasm');
    if (parts.has('physics')) skipped.push('WASM physics (matrix-DFT vs FFT): the WASM backend has no FFT kernel');
    if (parts.has('study')) await measureStudy(side, label);
  } catch (e) {
    skipped.push(`WASM part failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** --parts=profile on WebGPU: the Reference preset at gridsize 2 unless --webgpu-config says otherwise. */
const WEBGPU_PROFILE_CONFIG: SuiteModule.StepConfig = (() => {
  const c = arg('webgpu-config')?.split(',').map(Number);
  return c ? { N: c[0], gridsize: c[1] as 1 | 2, f: c[2], batch: c[3] } : { N: 64, gridsize: 2, f: 2, batch: 16 };
})();

type WebGpuVariant = import('../src/lib/runtime/webgpu-profile.ts').StepProfile;
/** --webgpu-kernels: which side(s) of the switch to profile. */
const WEBGPU_VARIANTS = ((k) => (k === 'both' ? ['ours', 'tfjs'] : [k]))(arg('webgpu-kernels') ?? 'both') as ('ours' | 'tfjs')[];
const WEBGPU_PROFILE_OPTS = {
  warmup: Number(arg('webgpu-warmup') ?? 1),
  steps: Number(arg('webgpu-steps') ?? 1),
  gpuProfile: (arg('webgpu-gpu-profile') ?? '1') !== '0',
};
/**
 * The Chromium variant profiles the bench's small step (STEP_CONFIG) unless --webgpu-browser-config
 * says otherwise: a Reference step with tfjs' kernels takes many minutes on SwiftShader.
 */
const WEBGPU_BROWSER_PROFILE_CONFIG: SuiteModule.StepConfig = (() => {
  const c = arg('webgpu-browser-config')?.split(',').map(Number);
  return c ? { N: c[0], gridsize: c[1] as 1 | 2, f: c[2], batch: c[3] } : STEP_CONFIG;
})();

/**
 * One training step kernel by kernel on WebGPU in this Node process (Dawn), with our WebGPU kernels
 * and with tfjs' (the switch), in one run: the step time side by side, dispatches, and per kernel
 * the CPU time (encoding) and the GPU time (timestamp queries).
 */
async function webgpuNodeProfile(): Promise<void> {
  const c = WEBGPU_PROFILE_CONFIG;
  const cfg = `N=${c.N}, gridsize ${c.gridsize}, filter scale ${c.f}, batch ${c.batch}`;
  const { startNodeBackend, describeNodeBackend } = await import('../src/lib/runtime/node-backend.ts');
  const compileWarmup = (arg('webgpu-compile-warmup') ?? '0') === '1';
  const readbackSteps = Number(arg('webgpu-readback') ?? 0);
  const P = await import('../src/lib/runtime/webgpu-profile.ts');
  const info = await startNodeBackend('webgpu');
  const label = `webgpu (Node, Dawn: ${describeNodeBackend(info).replace(/^webgpu \(|\)$/g, '')})`;
  for (const kv of (arg('webgpu-flags') ?? '').split(';').filter(Boolean)) {
    const [k, v] = kv.split(':');
    tf.env().set(k, v === 'true' ? true : v === 'false' ? false : Number.isFinite(Number(v)) ? Number(v) : v);
  }
  const flags = Object.fromEntries(['WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', 'WEBGPU_CPU_FORWARD', 'WEBGPU_MATMUL_PROGRAM_TYPE', 'WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE'].map((k) => [k, tf.env().get(k)]));
  meta.webgpuNode = { backend: describeNodeBackend(info), config: c, flags };
  console.log(`\n== WebGPU in Node (${describeNodeBackend(info)}): one training step (${cfg}) kernel by kernel ==`);
  const out: WebGpuVariant[] = [];
  for (const kernels of WEBGPU_VARIANTS) {
    const v = await P.profileTrainingStep({
      N: c.N, gridsize: c.gridsize, filterScale: c.f, batch: c.batch, kernels, ...WEBGPU_PROFILE_OPTS, compileWarmup, readback: readbackSteps,
      log: (line) => console.log(`[${elapsed().toFixed(0)} s] ${line}`),
    });
    out.push(v);
    printStepProfile(v);
  }
  detailsOf('webgpu-node').profile = out;
  stepProfileRows(out, cfg, label, ' in Node');
}

/** The table of one profiled variant, on the console. */
function printStepProfile(v: WebGpuVariant): void {
  console.log(`  ${v.compileOnlyMs === undefined ? '' : `compile-only pass ${ms(v.compileOnlyMs)}; `}warm-up ${v.warmupMs.map(ms).join(', ')}; steps ${v.stepMs.map(ms).join(', ')}; ${v.dispatches} dispatches per step` +
    (v.gpuProfile ? `; profiled step ${ms(v.gpuProfile.wallMs)}${v.gpuProfile.timestamps ? '' : ' (no timestamp queries: GPU times not available)'}` : ''));
  const gpuTotal = v.rows.reduce((a, r) => a + (r.gpuMs ?? 0), 0);
  console.table(v.rows.slice(0, 24).map((r) => ({
    kernel: r.kernel, calls: r.calls, dispatches: r.dispatches,
    'GPU ms': r.gpuMs === null ? '-' : +r.gpuMs.toFixed(1), 'GPU share': r.gpuMs === null || gpuTotal === 0 ? '-' : `${((100 * r.gpuMs) / gpuTotal).toFixed(1)} %`,
    'CPU ms': +r.cpuMs.toFixed(1),
  })));
  console.log(`  dispatches by program: ${Object.entries(v.byProgram).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  if (v.readback) console.log(`  loss read in the step (train.ts): ${v.readback.eachMs.map(ms).join(', ')}; not read: ${v.readback.endMs.map(ms).join(', ')}`);
}

/** The bench table's rows for the profiled variants (Node or Chromium). */
function stepProfileRows(out: WebGpuVariant[], cfg: string, label: string, where: string): void {
  const ours = out.find((v) => v.kernels === 'ours');
  const theirs = out.find((v) => v.kernels === 'tfjs');
  for (const v of out) {
    const gpuTotal = v.rows.reduce((a, r) => a + (r.gpuMs ?? 0), 0);
    const top = [...v.rows].slice(0, 4).map((r) => `${r.kernel} ${r.gpuMs === null ? `CPU ${ms(r.cpuMs)}` : `${ms(r.gpuMs)} (${((100 * r.gpuMs) / gpuTotal).toFixed(0)} %)`}`).join(', ');
    add({
      benchmark: `training step (${cfg}) on WebGPU${where}, ${v.kernels === 'ours' ? 'our WebGPU kernels on' : "tfjs' kernels only"}: best step, dispatches`,
      backend: label, measured: `${ms(Math.min(...v.stepMs))}, ${v.dispatches} dispatches`,
      against: `first step ${ms(v.warmupMs[0] ?? NaN)}${v.compileOnlyMs === undefined ? '' : ` after a ${ms(v.compileOnlyMs)} compile-only pass`}`,
      ratio: null, note: `slowest kernels (GPU time under tf.profile): ${top}`,
    });
  }
  for (const v of out) {
    if (!v.readback) continue;
    const a = Math.min(...v.readback.eachMs);
    const b = Math.min(...v.readback.endMs);
    add({
      benchmark: `training step (${cfg}) on WebGPU${where}, ${v.kernels === 'ours' ? 'our WebGPU kernels' : "tfjs' kernels"}: loss read inside the step / not read`,
      backend: label, measured: ms(a), against: ms(b), ratio: a / b,
      note: `best of ${v.readback.eachMs.length} each, taking turns; the read is src/lib/model/train.ts's per-step loss (progress, NaN check)`,
    });
  }
  if (ours && theirs) {
    add({
      benchmark: `dispatches per step (${cfg}), WebGPU${where}: tfjs' kernels / our WebGPU kernels`,
      backend: label, measured: `${ours.dispatches} dispatches (ours)`, against: `${theirs.dispatches} dispatches (tfjs')`,
      ratio: theirs.dispatches / ours.dispatches, min: 1.5, note: 'counted at the backend\'s recordAndSubmit over one step; does not depend on the hardware',
    });
    const a = Math.min(...ours.stepMs);
    const b = Math.min(...theirs.stepMs);
    add({
      benchmark: `training step (${cfg}) on WebGPU${where}: speed-up of our WebGPU kernels over tfjs' (same run, PTYCHO_OUR_WEBGPU_KERNELS switch)`,
      backend: label, measured: `${ms(a)} (ours)`, against: `${ms(b)} (tfjs')`,
      ratio: b / a, min: 3, note: `best of ${ours.stepMs.length} step${ours.stepMs.length === 1 ? '' : 's'} each after ${ours.warmupMs.length} warm-up; first steps ${ms(ours.warmupMs[0] ?? NaN)} / ${ms(theirs.warmupMs[0] ?? NaN)}`,
    });
  }
}

if (nodeWebGpuProfile) {
  try {
    await webgpuNodeProfile();
  } catch (e) {
    skipped.push(`WebGPU-in-Node profile failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  }
}

if (want('webgpu')) {
  console.log('\n== WebGPU in headless Chromium ==');
  try {
    await withPage(async (page, info) => {
      const be = (await page.evaluate(`window.__suite.useBackend('webgpu')`)) as SuiteModule.BackendReport;
      meta.chromium = info.chromium;
      meta.webgpuBackend = be;
      console.log(`  chromium ${info.chromium}; tfjs backend ${be.backend}; adapter ${be.adapter}`);
      if (be.backend !== 'webgpu') {
        skipped.push(`WebGPU: the page fell back to '${be.backend}' (${be.adapter})`);
        return;
      }
      const label = `webgpu (${be.adapter})`;
      await measureCompute(pageSide(page), flops, label, 'webgpu');
      if (parts.has('profile') && WEBGPU_WHERE.has('browser')) {
        // The same profile as in Node (src/lib/runtime/webgpu-profile.ts), imported into the page.
        const c = WEBGPU_BROWSER_PROFILE_CONFIG;
        const cfg = `N=${c.N}, gridsize ${c.gridsize}, filter scale ${c.f}, batch ${c.batch}`;
        console.log(`\n== WebGPU in Chromium (${be.adapter}): one training step (${cfg}) kernel by kernel ==`);
        const out: WebGpuVariant[] = [];
        for (const kernels of WEBGPU_VARIANTS) {
          const opts = { N: c.N, gridsize: c.gridsize, filterScale: c.f, batch: c.batch, kernels, ...WEBGPU_PROFILE_OPTS };
          console.log(`[${elapsed().toFixed(0)} s] ${kernels === 'ours' ? 'our' : "tfjs'"} kernels: ${opts.warmup} warm-up, ${opts.steps} timed${opts.gpuProfile ? ', 1 under tf.profile' : ''} ...`);
          const v = (await page.evaluate(`(async () => {
            const K = await import('/src/lib/runtime/webgpu-kernels.ts');
            K.installWebGpuTrainingKernels();
            const P = await import('/src/lib/runtime/webgpu-profile.ts');
            return P.profileTrainingStep(${JSON.stringify(opts)});
          })()`)) as WebGpuVariant;
          out.push(v);
          printStepProfile(v);
        }
        detailsOf('webgpu').profile = out;
        stepProfileRows(out, cfg, label, ' in Chromium');
      }
      if (!parts.has('study')) return;
      // The study gets what is left of the budget; jobs not finished by then are reported as not run.
      const left = BUDGET_S - elapsed() - 15;
      if (left > 60) await measureStudy(pageSide(page, left), label);
      else skipped.push(`WebGPU 9-job study: only ${left.toFixed(0)} s of the ${BUDGET_S} s budget left`);
    });
  } catch (e) {
    skipped.push(`WebGPU part failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

if (want('browser') && ((parts.has('step') && flops) || parts.has('profile'))) {
  // WASM (threads + SIMD, as the app's training worker runs it) and CPU in the page, each in a fresh page.
  // 'wasm1': the single-threaded SIMD build, as in Node (no WASM threads there), in the same isolated page.
  // 'wasmauto': WASM as the app's Auto starts it here (chooseBackend: the faster of the two builds on this step).
  for (const variant of ['wasm', 'wasm1', 'wasmauto', 'cpu'] as const) {
    const name = variant === 'cpu' ? 'cpu' : 'wasm';
    if (variant === 'wasmauto' && !parts.has('step')) continue;
    console.log(`\n== ${variant === 'wasm1' ? 'WASM (threads off)' : variant === 'wasmauto' ? 'WASM as Auto picks its build' : name.toUpperCase()} in headless Chromium ==`);
    try {
      await withPage(async (page) => {
        const isolated = await page.evaluate('crossOriginIsolated');
        const be = (await page.evaluate(variant === 'wasmauto'
          ? `window.__suite.useAutoWasm(${JSON.stringify(STEP_CONFIG)})` : `window.__suite.useBackend('${name}')`)) as SuiteModule.BackendReport;
        if (be.reason) console.log(`  Auto: ${be.reason}`);
        meta[`browser_${variant}Backend`] = { ...be, crossOriginIsolated: isolated };
        if (be.backend !== name) {
          skipped.push(`browser ${name}: the page started '${be.backend}' instead`);
          return;
        }
        const label = name === 'wasm'
          ? `wasm (Chromium, ${variant === 'wasmauto' ? 'Auto: ' : ''}XNNPACK${be.simd ? ' SIMD' : ''}, ${be.threads} thread${be.threads === 1 ? '' : 's'}${isolated ? '' : ', page not isolated'})`
          : `cpu (Chromium, fast conv backprop ${be.fastCpuKernels ? 'on' : 'off'})`;
        console.log(`  ${label}`);
        if (parts.has('step') && flops) await measureStep(pageSide(page, Infinity, name), flops, label, detailsOf(`browser-${variant}`), `browser-${variant}`);
        if (parts.has('profile') && name === 'wasm') {
          await measureProfile(() => page.evaluate(`window.__suite.profileStep(${JSON.stringify(STEP_CONFIG)}, ${PROFILE_WARMUP})`) as Promise<SuiteModule.KernelProfile>, label, `browser-${variant}`);
        }
      }, variant === 'wasm1' ? '?wasm-threads=0' : '');
    } catch (e) {
      skipped.push(`browser ${name} part failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

async function measureProfile(run: () => Promise<SuiteModule.KernelProfile>, label: string, key: string): Promise<void> {
  console.log(`[${elapsed().toFixed(0)} s] ${label}: three training steps under tf.profile after ${PROFILE_WARMUP} warm-up steps, each kernel's least ...`);
  const p = await run();
  profiles[key] = { label, p };
  detailsOf(key).profile = p;
  console.log(`  warm-up steps ${p.warmupMs.map((x) => ms(x)).join(', ')}; profiled step ${ms(p.stepMs)}, kernels ${ms(p.kernelMs)} in ${p.kernels} calls (least of ${p.profiled})`);
}

/** The kernels of one step side by side, Node WASM against each browser WASM variant. */
function profileTable(): void {
  const node = profiles.wasm;
  if (!node) return;
  for (const key of ['browser-wasm1', 'browser-wasm']) {
    const b = profiles[key];
    if (!b) continue;
    const nb = new Map(node.p.byKernel.map((k) => [k.name, k]));
    const bb = new Map(b.p.byKernel.map((k) => [k.name, k]));
    const names = [...new Set([...nb.keys(), ...bb.keys()])].sort((x, y) => (bb.get(y)?.ms ?? 0) - (bb.get(x)?.ms ?? 0));
    const top = names.slice(0, 16).map((n) => ({
      kernel: n, calls: bb.get(n)?.calls ?? 0,
      'node ms': +(nb.get(n)?.ms ?? 0).toFixed(2), 'browser ms': +(bb.get(n)?.ms ?? 0).toFixed(2),
      'browser/node': +((bb.get(n)?.ms ?? NaN) / (nb.get(n)?.ms ?? NaN)).toFixed(2),
    }));
    console.log(`\n== one training step, kernel by kernel: ${node.label} vs ${b.label} ==`);
    console.table(top);
    const outside = (p: SuiteModule.KernelProfile) => p.stepMs - p.kernelMs;
    add({
      benchmark: `training step under tf.profile: kernel time, ${b.label} / ${node.label}`,
      backend: b.label,
      measured: `${ms(b.p.kernelMs)} in kernels + ${ms(outside(b.p))} outside`, against: `${ms(node.p.kernelMs)} + ${ms(outside(node.p))}`,
      ratio: b.p.kernelMs / node.p.kernelMs,
      note: `${b.p.kernels} kernel calls; whole profiled step ${ms(b.p.stepMs)} vs ${ms(node.p.stepMs)}; slowest kernels here: ` +
        b.p.byKernel.slice(0, 4).map((k) => `${k.name} ${ms(k.ms)} (Node ${ms(nb.get(k.name)?.ms ?? 0)})`).join(', '),
    });
  }
}
profileTable();

/** The same training step, side by side: `a` takes `ratio` times less time than `b`. */
function stepVersus(a: string, b: string, opts: { min?: number; max?: number; inverse?: boolean; note?: string } = {}): void {
  const x = stepBest[a];
  const y = stepBest[b];
  if (!x || !y) return;
  const cfg = `N=${STEP_CONFIG.N}, gridsize ${STEP_CONFIG.gridsize}, filter scale ${STEP_CONFIG.f}, batch ${STEP_CONFIG.batch}`;
  add({
    benchmark: `training step (${cfg}): ${opts.inverse ? `${x.label} time / ${y.label} time` : `speed-up of ${x.label} over ${y.label}`}`,
    backend: x.label,
    measured: ms(x.ms), against: `${ms(y.ms)} (${y.label})`,
    ratio: opts.inverse ? x.ms / y.ms : y.ms / x.ms,
    min: opts.min, max: opts.max, note: opts.note ?? 'best steady step each, same shapes, same run',
  });
}
stepVersus('browser-wasm', 'webgpu', { min: 10 });
stepVersus('browser-wasm', 'browser-cpu');
stepVersus('browser-wasm', 'cpu');
stepVersus('browser-wasm', 'wasm', { inverse: true, max: 1.5, note: 'browser WASM (threaded build) step time over Node WASM step time (<= 1.5: within 1.5x)' });
stepVersus('browser-wasmauto', 'wasm', { inverse: true, max: 1.5, note: 'what the app trains on here: the WASM build Auto picked (chooseBackend timed both on this step), over Node WASM' });
stepVersus('browser-wasm1', 'wasm', { inverse: true, max: 1.5, note: 'the same build as Node (SIMD, 1 thread) in the browser, over Node' });
stepVersus('browser-wasm', 'browser-wasm1', { note: 'what the threads bring: threaded build over the single-threaded SIMD build, same page' });

meta.loadavgEnd = os.loadavg().map((x) => +x.toFixed(2));
meta.totalSeconds = +elapsed().toFixed(1);
if (skipped.length) meta.skipped = skipped;

console.log(`\n== npm run bench: ratios measured side by side (${meta.date}, ${meta.cpus} x ${meta.cpu}, load ${load0.map((x) => x.toFixed(2)).join(' ')} -> ${(meta.loadavgEnd as number[]).join(' ')}, ${meta.totalSeconds} s) ==`);
console.table(rows);
for (const s of skipped) console.log(`skipped: ${s}`);
const out = path.join(HERE, 'results', `bench-${date}.json`);
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ meta, table: rows, details }, null, 2));
console.log(`wrote ${path.relative(process.cwd(), out)}`);
