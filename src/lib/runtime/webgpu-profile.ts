/**
 * Where a WebGPU training step's time goes, kernel by kernel (`npm run bench -- --only=webgpu
 * --parts=profile`, docs/lab/2026-12-06-webgpu-kernels.md). Works on any WebGPUBackend (Dawn in
 * Node, Chromium); used by the bench and the WebGPU tests only. The one file of src/lib/runtime that
 * imports the model (profileTrainingStep builds a PtychoPINN step, dynamically imported).
 *
 * - Dispatches: every compute dispatch the backend records goes through its `recordAndSubmit`
 *   (tfjs-backend-webgpu 4.22 `backend_webgpu.ts`); a counter wrapped around it counts them per
 *   program class, and per tfjs kernel through the kernel wrappers below.
 * - CPU time per kernel: every kernel registered for 'webgpu' is wrapped for one step with a timer
 *   around its kernelFunc (the time to encode its dispatches, plus any work it forwards to the CPU
 *   under WEBGPU_CPU_FORWARD); the GPU runs behind, so this is not its GPU time.
 * - GPU time per kernel: a step under tf.profile, where the backend writes a timestamp query around
 *   each program (one compute pass and one submit per dispatch) when the adapter has
 *   'timestamp-query'; without it tfjs reports 0 and the table says so.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

interface RecordingBackend {
  recordAndSubmit: (program: { constructor: { name: string } }, ...rest: unknown[]) => void;
  supportTimestampQuery?: boolean;
}

export interface DispatchCounter {
  /** Dispatches since the last reset. */
  total(): number;
  /** Per program class since the last reset. */
  byProgram(): Record<string, number>;
  reset(): void;
  /** Stop counting (restores the backend's method). */
  stop(): void;
}

/** Count the compute dispatches of the current WebGPU backend. */
export function countDispatches(backend: WebGPUBackend = tf.backend() as WebGPUBackend): DispatchCounter {
  const b = backend as unknown as RecordingBackend;
  const orig = b.recordAndSubmit;
  if (typeof orig !== 'function') throw new Error('this WebGPU backend has no recordAndSubmit to count dispatches at');
  let n = 0;
  let by = new Map<string, number>();
  b.recordAndSubmit = function (program, ...rest) {
    n++;
    const k = program.constructor.name;
    by.set(k, (by.get(k) ?? 0) + 1);
    return orig.call(this, program, ...rest);
  };
  return {
    total: () => n,
    byProgram: () => Object.fromEntries([...by.entries()].sort((x, y) => y[1] - x[1])),
    reset: () => {
      n = 0;
      by = new Map();
    },
    stop: () => {
      b.recordAndSubmit = orig;
    },
  };
}

export interface KernelRow {
  kernel: string;
  calls: number;
  dispatches: number;
  /** Milliseconds of CPU in the kernel's function (encoding, CPU-forwarded work). */
  cpuMs: number;
  /** Milliseconds of GPU time from timestamp queries (null: the adapter has none). */
  gpuMs: number | null;
}

/**
 * Run `step` once with every 'webgpu' kernel wrapped: calls, dispatches and CPU milliseconds per
 * kernel name. Kernels that call other kernels' functions directly (ours do) count those inside
 * their own figures, as tfjs' composite kernels do.
 */
export async function kernelCpuProfile(step: () => Promise<void>, counter: DispatchCounter): Promise<{ wallMs: number; rows: Map<string, { calls: number; dispatches: number; cpuMs: number }> }> {
  const configs = tf.getKernelsForBackend('webgpu');
  const rows = new Map<string, { calls: number; dispatches: number; cpuMs: number }>();
  let depth = 0;
  for (const c of configs) {
    const f = c.kernelFunc;
    tf.unregisterKernel(c.kernelName, 'webgpu');
    tf.registerKernel({
      ...c,
      kernelFunc: (args) => {
        if (depth > 0) return f(args);
        depth++;
        const d0 = counter.total();
        const t = performance.now();
        try {
          return f(args);
        } finally {
          const dt = performance.now() - t;
          depth--;
          const r = rows.get(c.kernelName) ?? { calls: 0, dispatches: 0, cpuMs: 0 };
          r.calls++;
          r.cpuMs += dt;
          r.dispatches += counter.total() - d0;
          rows.set(c.kernelName, r);
        }
      },
    });
  }
  try {
    const t = performance.now();
    await step();
    return { wallMs: performance.now() - t, rows };
  } finally {
    for (const c of configs) {
      tf.unregisterKernel(c.kernelName, 'webgpu');
      tf.registerKernel(c);
    }
  }
}

/** Run `step` under tf.profile: GPU milliseconds per kernel name (timestamp queries), or null without them. */
export async function kernelGpuProfile(step: () => Promise<void>): Promise<{ wallMs: number; timestamps: boolean; gpuMs: Map<string, number> }> {
  const timestamps = (tf.backend() as unknown as RecordingBackend).supportTimestampQuery === true;
  const t = performance.now();
  const info = await tf.profile(async () => {
    await step();
    return [] as unknown as tf.TensorContainer;
  });
  const wallMs = performance.now() - t;
  const gpuMs = new Map<string, number>();
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    gpuMs.set(k.name, (gpuMs.get(k.name) ?? 0) + ms);
  }
  return { wallMs, timestamps, gpuMs };
}

/** Rows of both profiles joined by kernel name, the slowest (GPU, else CPU) first. */
export function joinProfiles(cpu: Map<string, { calls: number; dispatches: number; cpuMs: number }>, gpu: Map<string, number> | null): KernelRow[] {
  const names = new Set([...cpu.keys(), ...(gpu?.keys() ?? [])]);
  const rows: KernelRow[] = [...names].map((kernel) => {
    const c = cpu.get(kernel) ?? { calls: 0, dispatches: 0, cpuMs: 0 };
    return { kernel, calls: c.calls, dispatches: c.dispatches, cpuMs: c.cpuMs, gpuMs: gpu ? (gpu.get(kernel) ?? 0) : null };
  });
  return rows.sort((a, b) => (b.gpuMs ?? b.cpuMs) - (a.gpuMs ?? a.cpuMs));
}

// ---------------------------------------------------------------------------------------------
// One training step, profiled: the same code in Node (bench/run.ts) and in a page (Chromium).

export interface StepProfileOptions {
  N: number;
  gridsize: 1 | 2;
  filterScale: number;
  batch: number;
  /** 'ours': our WebGPU kernels on (PTYCHO_OUR_WEBGPU_KERNELS); 'tfjs': tfjs' own only */
  kernels: 'ours' | 'tfjs';
  warmup: number;
  /** Timed steps, each with the per-kernel CPU timers and the dispatch counter. */
  steps: number;
  /** One more step under tf.profile for GPU times. */
  gpuProfile: boolean;
  /** A compile-only pass (compileOnlyWarmup) before the first step. */
  compileWarmup?: boolean;
  /** Steps with the loss read inside the step (as src/lib/model/train.ts) and as many without, taking turns. */
  readback?: number;
  log?: (line: string) => void;
}

export interface StepProfile {
  kernels: 'ours' | 'tfjs';
  warmupMs: number[];
  stepMs: number[];
  dispatches: number;
  byProgram: Record<string, number>;
  gpuProfile: { wallMs: number; timestamps: boolean } | null;
  compileOnlyMs?: number;
  readback?: { eachMs: number[]; endMs: number[] };
  rows: KernelRow[];
}

/**
 * A PtychoPINN training step at the given shapes on the current WebGPU backend (the synthetic batch
 * of src/lib/model/step-timing.ts), with our kernels on or off: warm-up steps, timed steps with
 * per-kernel CPU timers and dispatch counts, and a step under tf.profile for GPU times. Our kernels
 * must be installed (installWebGpuTrainingKernels); the switch is left on.
 */
export async function profileTrainingStep(o: StepProfileOptions): Promise<StepProfile> {
  const { PtychoPinn } = await import('../model/pinn');
  const { stepSettings, timingBatch, syncedTrainStep } = await import('../model/step-timing');
  const { setOurWebGpuKernels, compileOnlyWarmup } = await import('./webgpu-kernels');
  const log = o.log ?? (() => {});
  const who = o.kernels === 'ours' ? 'our' : "tfjs'";
  setOurWebGpuKernels(o.kernels === 'ours');
  const s = { N: o.N, gridsize: o.gridsize, filterScale: o.filterScale, batch: o.batch };
  const model = new PtychoPinn({ settings: stepSettings(s), seed: 1 });
  const { inputs, offsets } = timingBatch(s, o.batch);
  const ops = model.operators(offsets, o.batch);
  const opt = tf.train.adam(1e-3);
  const vars = model.trainableVariables();
  const step = () => syncedTrainStep(model, opt, vars, inputs, ops);
  const counter = countDispatches();
  try {
    const v: StepProfile = { kernels: o.kernels, warmupMs: [], stepMs: [], dispatches: 0, byProgram: {}, gpuProfile: null, rows: [] };
    if (o.compileWarmup) {
      log(`${who} kernels: compile-only pass (WEBGPU_ENGINE_COMPILE_ONLY) ...`);
      v.compileOnlyMs = await compileOnlyWarmup(() => tf.variableGrads(() => model.loss(inputs, ops, true), vars).grads);
    }
    for (let i = 0; i < o.warmup; i++) {
      log(`${who} kernels: warm-up step ${i + 1} of ${o.warmup} ...`);
      const t = performance.now();
      await step();
      v.warmupMs.push(performance.now() - t);
    }
    let cpuRows: Map<string, { calls: number; dispatches: number; cpuMs: number }> | null = null;
    for (let i = 0; i < o.steps; i++) {
      log(`${who} kernels: timed step ${i + 1} of ${o.steps} (per-kernel CPU timers, dispatch counter) ...`);
      counter.reset();
      const r = await kernelCpuProfile(step, counter);
      v.stepMs.push(r.wallMs);
      v.dispatches = counter.total();
      v.byProgram = counter.byProgram();
      if (!cpuRows || r.wallMs <= Math.min(...v.stepMs)) cpuRows = r.rows;
    }
    let gpu: Map<string, number> | null = null;
    if (o.gpuProfile) {
      log(`${who} kernels: one step under tf.profile (timestamp queries) ...`);
      const g = await kernelGpuProfile(step);
      v.gpuProfile = { wallMs: g.wallMs, timestamps: g.timestamps };
      gpu = g.timestamps ? g.gpuMs : null;
    }
    v.rows = joinProfiles(cpuRows ?? new Map(), gpu);
    if ((o.readback ?? 0) > 0) {
      const modes = { each: [] as number[], end: [] as number[] };
      for (let i = 0; i < o.readback!; i++) {
        for (const mode of ['each', 'end'] as const) {
          const t = performance.now();
          const { value, grads } = tf.variableGrads(() => model.loss(inputs, ops, true), vars);
          if (mode === 'each') await value.data();
          opt.applyGradients(grads as tf.NamedTensorMap as never);
          tf.dispose([value, ...Object.values(grads)]);
          await vars[vars.length - 1].data();
          modes[mode].push(performance.now() - t);
        }
      }
      v.readback = { eachMs: modes.each, endMs: modes.end };
    }
    return v;
  } finally {
    counter.stop();
    tf.dispose([inputs]);
    ops.dispose();
    opt.dispose();
    model.dispose();
    setOurWebGpuKernels(true);
  }
}
