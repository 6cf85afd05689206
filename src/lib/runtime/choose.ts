/**
 * The measured choice of backend (docs/backends.md): at the start of a run, time one real training
 * step on each candidate backend and train on the fastest. What a step is comes from the caller
 * (`timeSteps`: the model's, src/lib/model/step-timing.ts stepTimer, at the job's own shapes), so
 * the choice never imports the model.
 *
 * Candidates: WebGPU only on a hardware adapter (a software adapter such as SwiftShader is not
 * timed: its first step alone compiles shaders for tens of seconds, and `npm run bench` measures it
 * at a small fraction of WASM's speed), WASM where WebAssembly starts, and the pure-JavaScript CPU
 * backend only where WebAssembly does not (it is 10-50x slower than WASM on every shape measured).
 * With one candidate left nothing is timed. Each candidate gets one warm-up step (kernel set-up,
 * shader compilation) and then one timed step, unless its warm-up alone took longer than the budget.
 *
 * WASM with threads is two candidates: the threaded build as it started, and the single-threaded
 * build (the backend restarted with WASM_HAS_MULTITHREAD_SUPPORT off). XNNPACK's threads pay a
 * hand-off per kernel, and a step of a small model is hundreds of small kernels: on a 2-core machine
 * whose cores are busy, the threaded build ran the N=32 step 2.5-3x slower than the single-threaded
 * one (`npm run bench -- --parts=profile`), while on idle cores or larger models threads win. So it
 * is measured, even where WASM is the only candidate, and the page says which build trains and why.
 */
import * as tf from '@tensorflow/tfjs';
import { probeWebGPU, describeAdapter, type AdapterReport } from './adapter';
import { startBackend, slowNotice, ruleReason, describeBackend, type BackendInfo, type BackendName } from './backend';
import { installTrainingKernels } from './kernels';

export interface CandidateTiming {
  name: BackendName;
  /** WASM: the threads of the build timed (1: the single-threaded build). */
  threads?: number;
  /** Milliseconds of the timed step (or of the warm-up step, when it alone used up the budget). */
  stepMs: number | null;
  warmupMs: number | null;
  /** Why it was not timed or did not start. */
  note?: string;
}

export interface ChosenBackend extends BackendInfo {
  timings: CandidateTiming[];
}

export interface ChooseOptions {
  /** Which backends may be timed (default: by the rule above, from the adapter). */
  candidates?: BackendName[];
  /** A candidate whose warm-up step alone takes longer than this is not given a second step. Default 4000 ms. */
  budgetMs?: number;
  /** Told once, before the first timing ("Choosing the fastest backend…"). */
  onTiming?: () => void;
  adapter?: AdapterReport;
  /** Time WASM's single-threaded build against its threaded one where threads started (default true). */
  wasmSingleThread?: boolean;
  /** Milliseconds of each of `steps` training steps on `backend` (now current, our kernels installed by the choice). */
  timeSteps: StepTimer;
  /** Before WASM restarts: dispose the tensors kept between steps (they die with the backend). */
  beforeWasmRestart?: () => void;
}

export type StepTimer = (backend: BackendName, steps: number) => Promise<number[]>;

/**
 * Restart tfjs' WASM backend on its threaded or its single-threaded build (tfjs picks the build when
 * the backend starts, from WASM_HAS_MULTITHREAD_SUPPORT). The old backend is disposed with its
 * threads; kernels registered for 'wasm' (ours included) stay registered. No tensor may live on it
 * but the physics' cache, which is emptied here.
 */
export async function restartWasm(threads: boolean, adapter?: AdapterReport, beforeRestart?: () => void): Promise<BackendInfo | string> {
  let factory: ReturnType<typeof tf.findBackendFactory>;
  try {
    factory = tf.findBackendFactory('wasm');
  } catch {
    factory = null as unknown as typeof factory;
  }
  if (!factory) return 'the WASM backend is not registered';
  // Tensors die with their backend: the caller drops what it keeps between steps (the model's
  // physics caches its DFT matrices). The timing models are disposed by then.
  beforeRestart?.();
  tf.removeBackend('wasm');
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', threads);
  tf.registerBackend('wasm', factory, WASM_PRIORITY);
  return startBackend('wasm', adapter);
}

/** tfjs-backend-wasm's own priority (its base.ts). */
const WASM_PRIORITY = 2;

/** The candidates by rule: hardware WebGPU and WASM; WASM alone on a software adapter or none. */
export function ruleCandidates(adapter: AdapterReport): BackendName[] {
  return adapter.kind === 'webgpu' && !adapter.software ? ['webgpu', 'wasm'] : ['wasm'];
}

const fmtMs = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);

/**
 * Pick and start the backend to train on: time each candidate that starts with the caller's step,
 * leave tfjs on the fastest, and say why. CPU is started only where no candidate starts.
 */
export async function chooseBackend(opts: ChooseOptions): Promise<ChosenBackend> {
  const adapter = opts.adapter ?? await probeWebGPU();
  const candidates = opts.candidates ?? ruleCandidates(adapter);
  const budget = opts.budgetMs ?? 4000;
  const timings: CandidateTiming[] = [];
  const started: BackendInfo[] = [];
  for (const name of candidates) {
    const r = await startBackend(name, adapter);
    if (typeof r === 'string') timings.push({ name, stepMs: null, warmupMs: null, note: r });
    else started.push(r);
  }
  if (started.length === 0) {
    const failed = timings.map((t) => `${t.name}: ${t.note}`).join('; ');
    const cpu = await startBackend('cpu', adapter);
    if (typeof cpu === 'string') throw new Error(`no tfjs backend could start (${failed}; cpu: ${cpu})`);
    cpu.reason = `no faster backend could start (${failed})`;
    cpu.notice = slowNotice(cpu);
    return { ...cpu, timings: [...timings, { name: 'cpu', stepMs: null, warmupMs: null }] };
  }
  const threaded = started.find((i) => i.name === 'wasm' && (i.threads ?? 1) > 1);
  const trySingle = !!threaded && opts.wasmSingleThread !== false;
  let chosen: BackendInfo;
  if (started.length === 1 && !trySingle) {
    chosen = started[0];
    await tf.setBackend(chosen.name);
    chosen.reason = candidates.length > 1
      ? `the only backend that started (${timings.map((t) => `${t.name}: ${t.note}`).join('; ')})`
      : ruleReason(chosen.name, adapter);
    timings.push({ name: chosen.name, threads: chosen.threads, stepMs: null, warmupMs: null, note: 'the only candidate: not timed' });
  } else {
    opts.onTiming?.();
    const measured: { info: BackendInfo; ms: number }[] = [];
    const time = async (info: BackendInfo): Promise<void> => {
      try {
        await tf.setBackend(info.name);
        installTrainingKernels(info.name); // as the runner will: the timing is of the step that trains
        const [warm] = await opts.timeSteps(info.name, 1);
        const stepMs = warm > budget ? warm : (await opts.timeSteps(info.name, 1))[0];
        timings.push({ name: info.name, threads: info.threads, warmupMs: warm, stepMs, note: warm > budget ? 'warm-up step over the budget: not repeated' : undefined });
        measured.push({ info, ms: stepMs });
      } catch (e) {
        timings.push({ name: info.name, threads: info.threads, stepMs: null, warmupMs: null, note: `the step failed: ${e instanceof Error ? e.message : String(e)}` });
      }
    };
    /** Which WASM build tfjs runs now. */
    let wasmNow: BackendInfo | undefined = started.find((i) => i.name === 'wasm');
    for (const info of started) {
      await time(info);
      if (info === threaded && trySingle) {
        const single = await restartWasm(false, adapter, opts.beforeWasmRestart);
        if (typeof single === 'string') {
          timings.push({ name: 'wasm', threads: 1, stepMs: null, warmupMs: null, note: `the single-threaded build did not start: ${single}` });
          const back = await restartWasm(true, adapter, opts.beforeWasmRestart);
          wasmNow = typeof back === 'string' ? undefined : back;
        } else {
          wasmNow = single;
          await time(single);
        }
      }
    }
    if (measured.length === 0) throw new Error(`no backend could run a training step (${timings.map((t) => `${t.name}: ${t.note}`).join('; ')})`);
    measured.sort((a, b) => a.ms - b.ms);
    chosen = measured[0].info;
    if (chosen.name === 'wasm' && wasmNow && (wasmNow.threads ?? 1) !== (chosen.threads ?? 1)) {
      // the faster build is not the one running now: start it again
      const again = await restartWasm((chosen.threads ?? 1) > 1, adapter, opts.beforeWasmRestart);
      if (typeof again === 'string') throw new Error(`the WASM backend did not restart on its faster build: ${again}`);
      chosen = again;
    }
    const others = measured.slice(1).map((m) =>
      `${(m.ms / measured[0].ms).toFixed(1)}x ${m.info.name === 'webgpu' ? `the WebGPU adapter (${describeAdapter(adapter)})` : describeBackend(m.info)} ` +
      `(${fmtMs(m.ms)} a step against ${fmtMs(measured[0].ms)})`);
    const fastest = others.length ? `fastest on this job: ${others.join(', ')}` : 'the only backend whose step ran';
    // WASM alone by rule (a software adapter or none), its two builds timed: say both why and which build
    chosen.reason = candidates.length === 1 && chosen.name === 'wasm' ? `${ruleReason('wasm', adapter)}; ${fastest}` : fastest;
    await tf.setBackend(chosen.name);
  }
  chosen.notice = slowNotice(chosen);
  return { ...chosen, timings };
}
