/**
 * Jobs side by side: a JobRunner over a pool of slots, each training one job at a time. A slot is
 * a worker with a tfjs of its own (the app's job worker, src/workers/job.worker.ts; the CLI's
 * thread, src/cli/job-thread.ts), so k slots use k cores where the backend is WASM or CPU. The run
 * loop (src/lib/pipeline/run.ts) calls the runner up to k times at once; the pool hands each call a
 * free slot, starting slots lazily, and replaces a slot that cannot train again (a lost GPU device,
 * a crashed worker) with a new one for the next job.
 */
import type { JobRunner, RunnerArgs, RunnerResult } from '../study/runner';

export interface JobSlot {
  run(args: RunnerArgs): Promise<RunnerResult>;
  /** Set once the slot cannot train again; the pool closes it and starts another for the next job. */
  readonly broken: boolean;
  close(): void;
}

export interface SlotPool {
  runner: JobRunner;
  /** Close every slot (after the run, or when it is given up). */
  close(): void;
  /** Slots started so far, replacements included. */
  readonly started: number;
}

/** Jobs to train at once: the cores where the backend is WASM or CPU, one job on WebGPU. */
export function defaultConcurrency(backend: string, cores: number | undefined, jobs: number, requested?: number | null): number {
  if (backend === 'webgpu') return 1;
  const k = requested ?? cores ?? 1;
  return Math.max(1, Math.min(Math.floor(k), Math.max(1, jobs)));
}

/**
 * Whether the jobs will train side by side (more than one at once on WASM or CPU). Then every job
 * worker gets WASM's single-threaded build (src/workers/train.worker.ts), and the time estimate
 * times that build (src/workers/estimate.worker.ts).
 */
export function trainsSideBySide(cores: number | undefined, jobs: number, requested?: number | null): boolean {
  return defaultConcurrency('wasm', cores, jobs, requested) > 1;
}

/**
 * A runner that trains on up to `size` slots made by `make` (called with the slot's number, counted
 * from 0 over the pool's life). Calls beyond `size` at once wait for a free slot.
 */
export function slotPool(size: number, make: (n: number) => Promise<JobSlot>): SlotPool {
  const idle: JobSlot[] = [];
  const all = new Set<JobSlot>();
  const waiting: ((s: JobSlot) => void)[] = [];
  let live = 0;
  let started = 0;
  let closed = false;

  const acquire = async (): Promise<JobSlot> => {
    const free = idle.pop();
    if (free) return free;
    if (live < size) {
      live += 1;
      try {
        const slot = await make(started++);
        all.add(slot);
        return slot;
      } catch (e) {
        live -= 1;
        throw e;
      }
    }
    return new Promise<JobSlot>((resolve) => waiting.push(resolve));
  };

  const release = (slot: JobSlot): void => {
    if (slot.broken || closed) {
      slot.close();
      all.delete(slot);
      live -= 1;
      const w = waiting.shift();
      if (w && !closed) void acquire().then(w);
      return;
    }
    const w = waiting.shift();
    if (w) w(slot);
    else idle.push(slot);
  };

  const runner: JobRunner = async (args) => {
    const slot = await acquire();
    try {
      return await slot.run(args);
    } finally {
      release(slot);
    }
  };

  return {
    runner,
    close() {
      closed = true;
      for (const s of all) s.close();
      all.clear();
      idle.length = 0;
    },
    get started() { return started; },
  };
}
