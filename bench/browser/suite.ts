/**
 * The measurements of `npm run bench` that run on a tfjs backend. The same module runs in Node
 * (bench/run.ts imports it for the CPU backend) and in headless Chromium (bench/browser/suite.html,
 * driven by bench/run.ts through Playwright, for WebGPU), so both backends run identical code.
 *
 * - peakMatmul: the backend's achieved FLOP/s on a large square matrix product (2·n³ FLOPs).
 * - stepBench: one full PtychoPINN training step (variableGrads of the real loss + Adam), timed
 *   cold (the first step: shader compilation / kernel setup + first run) and warm (best and median
 *   of the following steps).
 * - countStepFlops: the FLOPs of that step, counted from the kernels tfjs actually runs
 *   (tf.profile: every kernel with its input and output shapes; see kernelFlops), plus the
 *   textbook conv count 3 x Σ 2·9·cin·cout·H·W·B for comparison.
 * - physicsBench: the far-field intensity as matrix-DFT (farFieldIntensity, 8 real matMuls) against
 *   tfjs' FFT path (tf.complex, tf.spectral.fft on rows, transpose, fft, transpose back, |.|²,
 *   fftshift by slice+concat; see fftFarField), same inputs, with the largest difference between the two.
 * - studyMemory: the 9-job demo study through the real runner (planStudy + runStudy +
 *   createPtychoPinnRunner into a MemorySink), tf.memory() after every job.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, memoryFigures, type MemoryFigures } from '../../src/lib/runtime/backend';
import { describeAdapter } from '../../src/lib/runtime/adapter';
import { PtychoPinn } from '../../src/lib/model/pinn';
import type { PinnSettings } from '../../src/lib/model/settings';
import { installFastCpuKernels } from '../../src/lib/runtime/cpu-kernels';
import { installAccurateWebGpuTrig } from '../../src/lib/runtime/webgpu-kernels';
import { installWasmTrainingKernels } from '../../src/lib/runtime/wasm-kernels';
import { chooseBackend } from '../../src/lib/runtime/choose';
import { stepTimer } from '../../src/lib/model/step-timing';
import { farFieldIntensity } from '../../src/lib/physics';
import { makeDemoStudy } from '../../src/lib/sim';
import { planStudy, memoryFileSource } from '../../src/lib/study/plan';
import { inspectNpz } from '../../src/lib/study/inspect';
import { runStudy } from '../../src/lib/pipeline/run';
import { MemorySink } from '../../src/lib/report/sinks';
import { createPtychoPinnRunner } from '../../src/lib/pipeline/runner';

const now = () => performance.now();
const sortNum = (a: number[]) => [...a].sort((x, y) => x - y);
const median = (a: number[]) => sortNum(a)[Math.floor(a.length / 2)];

export interface BackendReport {
  backend: string;
  adapter: string;
  fastCpuKernels: boolean;
  /** WASM: XNNPACK's threads and whether the SIMD build runs. */
  threads?: number;
  simd?: boolean;
  /** useAutoWasm: why this build, and the steps timed to choose it. */
  reason?: string;
  timings?: { name: string; threads?: number; warmupMs: number | null; stepMs: number | null }[];
}

/**
 * WASM as the app's Auto starts it where WASM is the only candidate (a software adapter or none):
 * chooseBackend times the threaded build against the single-threaded one on a step of this shape and
 * leaves tfjs on the faster, with the WASM training kernels installed.
 */
export async function useAutoWasm(c: StepConfig): Promise<BackendReport> {
  const info = await chooseBackend({ ...stepTimer({ N: c.N, gridsize: c.gridsize, filterScale: c.f, batch: c.batch }), candidates: ['wasm'] });
  installWasmTrainingKernels();
  return {
    backend: info.name, adapter: describeAdapter(info.adapter), fastCpuKernels: false, threads: info.threads, simd: info.simd,
    reason: info.reason, timings: info.timings.map((t) => ({ name: t.name, threads: t.threads, warmupMs: t.warmupMs, stepMs: t.stepMs })),
  };
}

/**
 * Start tfjs on `name` (through the app's initBackend) with the training kernels the runner installs;
 * on CPU optionally without the fast conv backprop. In the browser, WASM needs its files located
 * first (bench/browser/suite.html calls src/workers/wasm-assets.ts).
 */
export async function useBackend(name: 'webgpu' | 'wasm' | 'cpu', fastCpuKernels = true): Promise<BackendReport> {
  const info = await initBackend(name);
  let fast = false;
  if (info.name === 'cpu' && fastCpuKernels) {
    installFastCpuKernels();
    fast = true;
  }
  if (info.name === 'webgpu') installAccurateWebGpuTrig(); // as the runner does
  if (info.name === 'wasm') installWasmTrainingKernels();
  return { backend: info.name, adapter: describeAdapter(info.adapter), fastCpuKernels: fast, threads: info.threads, simd: info.simd };
}

/** Wait until everything queued on the backend has finished (reading one value forces it). */
async function sync(t: tf.Tensor): Promise<void> {
  await t.data();
}

export interface PeakResult {
  n: number;
  flops: number;
  bestMs: number;
  medianMs: number;
  gflops: number;
}

/** Best-of-`reps` time of an n×n by n×n matMul after one warm-up; GFLOP/s = 2n³ / best time. */
export async function peakMatmul(n: number, reps: number): Promise<PeakResult> {
  const a = tf.randomUniform([n, n], -1, 1, 'float32', 1);
  const b = tf.randomUniform([n, n], -1, 1, 'float32', 2);
  const ts: number[] = [];
  for (let r = 0; r <= reps; r++) {
    const t = now();
    const c = tf.matMul(a, b);
    await sync(c);
    const dt = now() - t;
    c.dispose();
    if (r > 0) ts.push(dt);
  }
  tf.dispose([a, b]);
  const flops = 2 * n ** 3;
  const best = Math.min(...ts);
  return { n, flops, bestMs: best, medianMs: median(ts), gflops: flops / (best / 1000) / 1e9 };
}

export interface StepConfig {
  N: number;
  gridsize: 1 | 2;
  /** n_filters_scale */
  f: number;
  batch: number;
}

function settings(c: StepConfig): PinnSettings {
  return {
    N: c.N, gridsize: c.gridsize, C: c.gridsize * c.gridsize, nFiltersScale: c.f, batchSize: c.batch, nEpochs: 1, nGroups: 64,
    neighborCount: 4, nPhotons: 1e9, probeBig: true, probeMask: false, probeScale: 4, offset: 4,
    maxPositionJitter: 10, ampActivation: 'sigmoid', padObject: true, objectBig: true,
    intensityScaleTrainableRequested: false, nllWeight: 1, maeWeight: 0, realspaceWeight: 0,
    outputPrefix: 'bench', subsampleSeed: 1,
  };
}

interface StepRig {
  model: PtychoPinn;
  step: () => Promise<void>;
  dispose: () => void;
}

/** A model, a fixed batch of data-like inputs, offsets of a gridsize-2 group and an Adam optimiser. */
function rig(c: StepConfig): StepRig {
  const s = settings(c);
  const model = new PtychoPinn({ settings: s, seed: 1 });
  const C = s.C;
  const inputs = tf.randomUniform([c.batch, c.N, c.N, C], 0, 30, 'float32', 1) as tf.Tensor4D;
  // Relative offsets of 4 neighbours around their centre (gridsize 2), zero for gridsize 1.
  const offsets = new Float32Array(c.batch * C * 2).map((_, i) => (c.gridsize === 1 ? 0 : ((i * 7919) % 13) - 6));
  const ops = model.operators(offsets, c.batch);
  const opt = tf.train.adam(1e-3);
  const vars = model.trainableVariables();
  const step = async () => {
    const { value, grads } = tf.variableGrads(() => model.loss(inputs, ops, true), vars);
    opt.applyGradients(grads as tf.NamedTensorMap as never);
    tf.dispose(Object.values(grads));
    await sync(value);
    value.dispose();
    await sync(vars[vars.length - 1]); // the last updated variable: the whole update has run
  };
  return { model, step, dispose: () => {
    inputs.dispose();
    ops.dispose();
    opt.dispose();
    model.dispose();
  } };
}

export interface StepResult {
  config: StepConfig;
  parameters: number;
  firstStepMs: number;
  steadyBestMs: number;
  steadyMedianMs: number;
  steps: number;
  stepMs: number[];
}

/** Time to the first step (compilation + first run) and `steps` steady steps after it. */
export async function stepBench(c: StepConfig, steps: number): Promise<StepResult> {
  const r = rig(c);
  try {
    let t = now();
    await r.step();
    const firstStepMs = now() - t;
    const stepMs: number[] = [];
    for (let i = 0; i < steps; i++) {
      t = now();
      await r.step();
      stepMs.push(now() - t);
    }
    return {
      config: c, parameters: r.model.generator.countParams(), firstStepMs,
      steadyBestMs: Math.min(...stepMs), steadyMedianMs: median(stepMs), steps, stepMs,
    };
  } finally {
    r.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// FLOP counting

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Kernels that only move or re-label data: 0 FLOPs. */
const MOVE = new Set([
  'Reshape', 'Transpose', 'Slice', 'StridedSlice', 'Pad', 'PadV2', 'MirrorPad', 'Concat', 'Tile', 'Cast', 'Identity', 'Fill',
  'ZerosLike', 'OnesLike', 'Reverse', 'GatherV2', 'GatherNd', 'Complex', 'Real', 'Imag', 'Pack', 'Unpack', 'SplitV',
  'ResizeNearestNeighbor', 'BroadcastTo', 'ExpandDims', 'Squeeze', 'Range', 'RandomUniform', 'RandomStandardNormal',
]);

export type FlopClass = 'conv' | 'matmul' | 'other';

/**
 * FLOPs of one kernel from its shapes. A multiply-add counts 2.
 * - Conv2D / FusedConv2D (3x3, stride 1, 'same'): 2·kh·kw·cin·cout·B·Ho·Wo (+ output size for bias/activation when fused).
 * - Conv2DBackpropInput and Conv2DBackpropFilter: the same 2·kh·kw·cin·cout·B·Ho·Wo each (so a conv
 *   layer whose input gradient is needed costs 3x its forward pass).
 * - BatchMatMul / _FusedMatMul: 2·(batch·M·N)·K.
 * - ResizeNearestNeighborGrad / MaxPool / MaxPoolGrad / reductions: one per input element.
 * - Everything else that is not pure data movement (elementwise arithmetic, activations, Adam): one
 *   per output element; exp/sin/cos/tanh count 1 too (an undercount of their real cost).
 */
export function kernelFlops(name: string, inputShapes: number[][], outputShapes: number[][]): { cls: FlopClass; flops: number } {
  const out = outputShapes[0] ?? [];
  if (name === 'Conv2D' || name === 'FusedConv2D') {
    const [kh, kw, cin, cout] = inputShapes[1];
    const extra = name === 'FusedConv2D' ? prod(out) : 0;
    return { cls: 'conv', flops: 2 * kh * kw * cin * cout * (prod(out) / cout) + extra };
  }
  if (name === 'Conv2DBackpropInput') {
    // inputs: dy [B,Ho,Wo,cout], filter [kh,kw,cin,cout]
    const [kh, kw, cin, cout] = inputShapes[1];
    return { cls: 'conv', flops: 2 * kh * kw * cin * cout * (prod(inputShapes[0]) / cout) };
  }
  if (name === 'Conv2DBackpropFilter') {
    // inputs: x [B,H,W,cin], dy [B,Ho,Wo,cout]; output: filter [kh,kw,cin,cout]
    const [kh, kw, cin, cout] = out;
    return { cls: 'conv', flops: 2 * kh * kw * cin * cout * (prod(inputShapes[1]) / cout) };
  }
  if (name === 'BatchMatMul' || name === '_FusedMatMul') {
    const a = inputShapes[0];
    const M = out[out.length - 2];
    const a1 = a[a.length - 2];
    const a2 = a[a.length - 1];
    const K = a1 === M ? a2 : a1;
    return { cls: 'matmul', flops: 2 * prod(out) * K };
  }
  if (MOVE.has(name)) return { cls: 'other', flops: 0 };
  if (/Grad$|^MaxPool|^Sum$|^Max$|^Min$|^Mean$|^Prod$|^All$|^Any$/.test(name)) return { cls: 'other', flops: prod(inputShapes[0] ?? out) };
  return { cls: 'other', flops: prod(out) };
}

export interface KernelProfile {
  config: StepConfig;
  /** Wall milliseconds of each step before the profiled ones (how fast the steps settle). */
  warmupMs: number[];
  /** Steps profiled; every figure below is the least over them (the machine's load only adds). */
  profiled: number;
  /** Wall milliseconds of a profiled step (tf.profile's bookkeeping included). */
  stepMs: number;
  /** Sum of the kernels' own milliseconds (on WASM: wall time around each synchronous kernel call). */
  kernelMs: number;
  kernels: number;
  /** Per kernel name: calls and milliseconds in one step, slowest first. */
  byKernel: { name: string; calls: number; ms: number }[];
}

/**
 * Where the time of one training step goes, kernel by kernel: `warmup` steps, then `profiled` steps
 * under tf.profile, each kernel's time the least over them. The same function runs in Node and in the
 * page, so the two can be compared kernel by kernel (bench/run.ts --parts=profile).
 */
export async function profileStep(c: StepConfig, warmup = 3, profiled = 3): Promise<KernelProfile> {
  const r = rig(c);
  try {
    const warmupMs: number[] = [];
    for (let i = 0; i < warmup; i++) {
      const t = now();
      await r.step();
      warmupMs.push(now() - t);
    }
    let stepMs = Infinity;
    let kernelMs = Infinity;
    let kernels = 0;
    const by = new Map<string, { name: string; calls: number; ms: number }>();
    for (let p = 0; p < profiled; p++) {
      const t = now();
      const info = await tf.profile(() => r.step() as unknown as tf.TensorContainer);
      stepMs = Math.min(stepMs, now() - t);
      const step = new Map<string, { name: string; calls: number; ms: number }>();
      let total = 0;
      for (const k of info.kernels) {
        const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
        total += ms;
        const e = step.get(k.name) ?? { name: k.name, calls: 0, ms: 0 };
        e.calls += 1;
        e.ms += ms;
        step.set(k.name, e);
      }
      kernelMs = Math.min(kernelMs, total);
      kernels = info.kernels.length;
      for (const e of step.values()) {
        const best = by.get(e.name);
        if (!best || e.ms < best.ms) by.set(e.name, e);
      }
    }
    return { config: c, warmupMs, profiled, stepMs, kernelMs, kernels, byKernel: [...by.values()].sort((a, b) => b.ms - a.ms) };
  } finally {
    r.dispose();
  }
}

export interface FlopCount {
  /** Counted from the kernels of one profiled training step. */
  conv: number;
  matmul: number;
  other: number;
  total: number;
  kernels: number;
  /** Kernel names seen (count), for checking the classification. */
  byKernel: Record<string, { calls: number; flops: number }>;
  /** Textbook count: Σ over conv layers 2·9·cin·cout·H·W·B forward, ×3 for forward + backward. */
  convForwardAnalytic: number;
  convStepAnalytic: number;
}

/** Conv FLOPs of one forward pass from the generator's layers: 2·kh·kw·cin·cout·H·W per sample. */
export function convForwardFlops(model: PtychoPinn, batch: number): number {
  let total = 0;
  for (const layer of model.generator.layers) {
    if (layer.getClassName() !== 'Conv2D') continue;
    const [kh, kw, cin, cout] = layer.getWeights()[0].shape;
    const o = layer.outputShape as number[];
    total += 2 * kh * kw * cin * cout * o[1] * o[2] * batch;
  }
  return total;
}

/** Profile one training step (after one warm-up step) and count its FLOPs kernel by kernel. */
export async function countStepFlops(c: StepConfig): Promise<FlopCount> {
  const r = rig(c);
  try {
    await r.step();
    const info = await tf.profile(() => r.step() as unknown as tf.TensorContainer);
    const res: FlopCount = { conv: 0, matmul: 0, other: 0, total: 0, kernels: 0, byKernel: {}, convForwardAnalytic: 0, convStepAnalytic: 0 };
    for (const k of info.kernels) {
      const { cls, flops } = kernelFlops(k.name, k.inputShapes as number[][], k.outputShapes as number[][]);
      res[cls] += flops;
      res.total += flops;
      res.kernels += 1;
      const e = (res.byKernel[k.name] ??= { calls: 0, flops: 0 });
      e.calls += 1;
      e.flops += flops;
    }
    res.convForwardAnalytic = convForwardFlops(r.model, c.batch);
    res.convStepAnalytic = 3 * res.convForwardAnalytic;
    return res;
  } finally {
    r.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Physics: matrix-DFT vs tfjs FFT

/** fftshift along axis 1 and 2 of [B,N,N] by slicing and concatenating the halves (N even). */
function fftshift2(x: tf.Tensor3D): tf.Tensor3D {
  const [B, N] = x.shape;
  const h = N / 2;
  const rows = tf.concat([tf.slice(x, [0, h, 0], [B, h, N]), tf.slice(x, [0, 0, 0], [B, h, N])], 1);
  return tf.concat([tf.slice(rows, [0, 0, h], [B, N, h]), tf.slice(rows, [0, 0, 0], [B, N, h])], 2) as tf.Tensor3D;
}

/**
 * fftshift(|DFT2(re + i·im)|²)/N² with tfjs' FFT. tfjs has no fft2d: tf.spectral.fft transforms the
 * last axis, so rows are transformed, the real and imaginary parts transposed (the WebGPU backend
 * cannot transpose a complex64 tensor: its buffer lives in the two parts), recombined, transformed
 * again and transposed back.
 */
export function fftFarField(re: tf.Tensor3D, im: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const [B, N] = re.shape;
    // tf.real / tf.imag of an fft result come back flattened to [B·N, N] on WebGPU: reshape explicitly.
    const part = (c: tf.Tensor, which: 're' | 'im') => (which === 're' ? tf.real(c) : tf.imag(c)).reshape([B, N, N]);
    const T = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1]);
    const rows = tf.spectral.fft(tf.complex(re, im));
    const cols = tf.spectral.fft(tf.complex(T(part(rows, 're')), T(part(rows, 'im'))));
    const I = tf.div(tf.add(tf.square(T(part(cols, 're'))), tf.square(T(part(cols, 'im')))), N * N) as tf.Tensor3D;
    return fftshift2(I);
  });
}

export interface PhysicsResult {
  B: number;
  N: number;
  dftBestMs: number;
  fftBestMs: number;
  /** fft time / dft time: > 1 means the matrix-DFT is faster. */
  fftOverDft: number;
  dftFirstMs: number;
  fftFirstMs: number;
  /** max |I_dft − I_fft| / max |I_fft| */
  maxRelDiff: number;
}

export async function physicsBench(B: number, N: number, reps: number): Promise<PhysicsResult> {
  const re = tf.randomUniform([B, N, N], -1, 1, 'float32', 3) as tf.Tensor3D;
  const im = tf.randomUniform([B, N, N], -1, 1, 'float32', 4) as tf.Tensor3D;
  const time = async (fn: () => tf.Tensor) => {
    const ts: number[] = [];
    for (let r = 0; r <= reps; r++) {
      const t = now();
      const y = fn();
      await sync(y);
      ts.push(now() - t);
      y.dispose();
    }
    return { first: ts[0], best: Math.min(...ts.slice(1)) };
  };
  try {
    const d = await time(() => farFieldIntensity(re, im));
    const f = await time(() => fftFarField(re, im));
    const a = farFieldIntensity(re, im);
    const b = fftFarField(re, im);
    const [dt, st] = tf.tidy(() => [tf.max(tf.abs(tf.sub(a, b))), tf.max(tf.abs(b))]);
    const [diff, scale] = await Promise.all([dt.data(), st.data()]);
    tf.dispose([a, b, dt, st]);
    return { B, N, dftBestMs: d.best, fftBestMs: f.best, fftOverDft: f.best / d.best, dftFirstMs: d.first, fftFirstMs: f.first, maxRelDiff: diff[0] / scale[0] };
  } finally {
    tf.dispose([re, im]);
  }
}

// ---------------------------------------------------------------------------------------------
// Memory across the 9-job demo study

export interface StudyMemoryOptions {
  epochs: number;
  groups: number;
  batch: number;
  filterScale: number;
}

export interface JobMemory {
  job: string;
  status: string;
  seconds: number;
  tensors: number;
  bytes: number;
  gpuBytes?: number;
  gpuBytesAllocated?: number;
}

export interface StudyMemoryResult {
  settings: StudyMemoryOptions;
  before: MemoryFigures;
  jobs: JobMemory[];
  totalSeconds: number;
  /** Set when the time limit stopped the study: the job that was cancelled. */
  stoppedAt?: string;
}

/**
 * Generate the small demo study, plan it (validating every file), and run its 9 jobs with tiny
 * settings. With `limitSeconds`, the study is cancelled (runStudy's signal) when the time is up;
 * the cancelled job is not counted.
 */
export async function studyMemory(o: StudyMemoryOptions, limitSeconds?: number): Promise<StudyMemoryResult> {
  const demo = await makeDemoStudy('small', { timestamp: '2026-01-01T00:00:00Z' });
  const input = demo.files.map((f) => ({ path: f.path, blob: new Blob([f.bytes as Uint8Array<ArrayBuffer>]) }));
  const plan = await planStudy(input, { inspect: inspectNpz });
  if (plan.selected.length !== 9) throw new Error(`expected 9 jobs in the demo study, planned ${plan.selected.length}`);
  const before = memoryFigures();
  const jobs: JobMemory[] = [];
  const t0 = now();
  let tj = now();
  const ctl = new AbortController();
  const timer = limitSeconds === undefined ? undefined : setTimeout(() => ctl.abort(new DOMException('time budget', 'AbortError')), limitSeconds * 1000);
  let stoppedAt: string | undefined;
  await runStudy({
    signal: ctl.signal,
    jobs: plan.selected,
    dryRun: false,
    runner: createPtychoPinnRunner(),
    files: memoryFileSource(input),
    sink: new MemorySink(),
    phaseCRoot: plan.phaseCRoot,
    phaseDRoot: plan.phaseDRoot,
    artifactRoot: plan.artifactRoot,
    filters: plan.filters,
    skipped: plan.skipped,
    backend: tf.getBackend(),
    configOverrides: { training: { nepochs: o.epochs, n_groups: o.groups, batch_size: o.batch }, model: { n_filters_scale: o.filterScale } },
    onEvent: (e) => {
      if (e.type === 'job-start') tj = now();
      if (e.type !== 'job-end') return;
      const m = memoryFigures();
      const st = e.entry.result as { status?: string; error?: string };
      if (st.status === 'cancelled' && ctl.signal.aborted) {
        stoppedAt = `${e.job.view}/gs${e.job.gridsize}/dose ${e.job.dose}`;
        return;
      }
      jobs.push({
        job: `${e.job.view}/gs${e.job.gridsize}/dose ${e.job.dose}`,
        status: st.error ? `${st.status}: ${st.error}` : String(st.status),
        seconds: (now() - tj) / 1000,
        tensors: m.tensors, bytes: m.bytes, gpuBytes: m.gpuBytes, gpuBytesAllocated: m.gpuBytesAllocated,
      });
    },
  });
  clearTimeout(timer);
  return { settings: o, before, jobs, totalSeconds: (now() - t0) / 1000, stoppedAt };
}
