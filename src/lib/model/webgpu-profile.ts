/**
 * Where a WebGPU training step's time goes, kernel by kernel (`npm run bench -- --only=webgpu
 * --parts=profile`, docs/lab/2026-12-06-webgpu-kernels.md). Works on any WebGPUBackend (Dawn in
 * Node, Chromium); used by the bench only.
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
