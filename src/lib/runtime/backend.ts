/**
 * The tfjs runtime: which backends can start, what the adapter is, device-loss watching and memory
 * figures. Everything else imports tfjs ops but never picks a backend (the measured choice between
 * the backends that start is src/lib/runtime/choose.ts, timing the step the caller gives it).
 *
 * Three backends (docs/backends.md): WebGPU (hardware adapters; a software one is correct but
 * slow), tfjs' WASM backend (XNNPACK with SIMD, and threads where the page is cross-origin isolated;
 * in the browser its .wasm files must be located first, see src/workers/wasm-assets.ts), and the
 * pure-JavaScript CPU backend, the last resort where WebAssembly cannot start.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { probeWebGPU, describeAdapter, type AdapterReport } from './adapter';

export type BackendName = 'webgpu' | 'wasm' | 'cpu';
/** What the user asked for: a backend, or 'auto' (the measured choice). */
export type BackendChoice = 'auto' | BackendName;

export const BACKEND_NAMES: readonly BackendName[] = ['webgpu', 'wasm', 'cpu'];

export interface BackendInfo {
  name: BackendName;
  adapter: AdapterReport;
  /** WASM only: the threads XNNPACK runs on (1 where the page is not cross-origin isolated). */
  threads?: number;
  /** WASM only: whether the SIMD build runs. */
  simd?: boolean;
  /** Why this backend trains, in a sentence (the choice, or what failed before it). */
  reason?: string;
  /** A sentence for the user when training will be slow (CPU fallback or a software adapter). */
  notice?: string;
}

/** What the manifest's `backend` records: the backend, its threads and SIMD, the adapter, and why. */
export interface BackendRecord {
  name: BackendName;
  threads: number | null;
  simd: boolean | null;
  adapter: string;
  reason: string;
  [key: string]: unknown;
}

export function backendRecord(info: BackendInfo): BackendRecord {
  return {
    name: info.name,
    threads: info.threads ?? null,
    simd: info.simd ?? null,
    adapter: describeAdapter(info.adapter),
    reason: info.reason ?? '',
  };
}

/** "WASM, 2 threads, SIMD", "WebGPU (google swiftshader (software))", "CPU". */
export function describeBackend(info: Pick<BackendInfo, 'name' | 'threads' | 'simd' | 'adapter'>): string {
  if (info.name === 'wasm') {
    const t = info.threads ?? 1;
    return `WASM, ${t} thread${t === 1 ? '' : 's'}${info.simd ? ', SIMD' : ', no SIMD'}`;
  }
  if (info.name === 'webgpu') return `WebGPU (${describeAdapter(info.adapter)})`;
  return 'CPU (JavaScript)';
}

interface WebGPUBackendLike {
  device?: GPUDevice;
}

/**
 * Start tfjs on exactly `name`; the backend's details on success, the reason in words on failure.
 * The backend's own training kernels are installed by the runner (src/lib/pipeline/runner.ts).
 */
export async function startBackend(name: BackendName, adapter?: AdapterReport): Promise<BackendInfo | string> {
  const a = adapter ?? (name === 'webgpu' ? await probeWebGPU() : undefined);
  if (name === 'webgpu' && a && a.kind !== 'webgpu') return a.reason ?? 'no WebGPU adapter was found';
  try {
    if (!(await tf.setBackend(name))) return `tfjs could not start the ${name} backend`;
    await tf.ready();
  } catch (err) {
    return `the ${name} backend failed to start: ${err instanceof Error ? err.message : String(err)}`;
  }
  const info: BackendInfo = { name, adapter: a ?? (await probeWebGPU()) };
  if (name === 'wasm') {
    info.threads = getThreadsCount();
    info.simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  }
  return info;
}

/** The notice shown for a backend that trains slowly; undefined for the fast ones. */
export function slowNotice(info: BackendInfo): string | undefined {
  if (info.name === 'cpu') {
    return `Training on the CPU (JavaScript) backend because ${info.reason ?? 'it was chosen'}. This will be slow: use fewer epochs and a smaller filter scale.`;
  }
  if (info.name === 'webgpu' && info.adapter.software) {
    return `Training on a software WebGPU adapter (${describeAdapter(info.adapter)}): correct but slow.`;
  }
  return undefined;
}

/**
 * Start a backend by rule, without timing anything: `prefer` when it starts; else WebGPU on a
 * hardware adapter, WASM where the adapter is a software one or absent, CPU only where WebAssembly
 * cannot start. (The measured choice is chooseBackend in src/lib/runtime/choose.ts.)
 */
export async function initBackend(prefer: BackendChoice = 'auto'): Promise<BackendInfo> {
  const adapter = await probeWebGPU();
  const failures: string[] = [];
  const order: BackendName[] = prefer !== 'auto'
    ? [prefer, ...(['wasm', 'cpu'] as const).filter((n) => n !== prefer)]
    : adapter.kind === 'webgpu' && !adapter.software ? ['webgpu', 'wasm', 'cpu'] : ['wasm', 'cpu'];
  for (const name of order) {
    const r = await startBackend(name, adapter);
    if (typeof r !== 'string') {
      r.reason = failures.length ? failures.join('; ') : prefer === name ? `${name} was chosen` : ruleReason(name, adapter);
      r.notice = slowNotice(r);
      return r;
    }
    failures.push(r);
  }
  throw new Error(`no tfjs backend could start: ${failures.join('; ')}`);
}

/** Why the rule picks `name` on this adapter, in words. */
export function ruleReason(name: BackendName, adapter: AdapterReport): string {
  if (name === 'webgpu') return `the WebGPU adapter is a hardware one (${describeAdapter(adapter)})`;
  if (name === 'wasm') {
    return adapter.kind === 'webgpu'
      ? `the WebGPU adapter is a software one (${describeAdapter(adapter)})`
      : `there is no WebGPU adapter (${adapter.reason ?? 'none found'})`;
  }
  return 'WebAssembly could not start';
}

/** The GPUDevice tfjs trains on, when the backend is WebGPU. */
export function currentDevice(): GPUDevice | undefined {
  if (tf.getBackend() !== 'webgpu') return undefined;
  return (tf.backend() as unknown as WebGPUBackendLike).device;
}

/** Resolves with a reason when the WebGPU device is lost (driver reset, destroy(), OOM kill). */
export function deviceLost(): Promise<string> | undefined {
  const device = currentDevice();
  if (!device) return undefined;
  return device.lost.then((info) => `GPU device lost (${info.reason}): ${info.message || 'no message'}`);
}

export interface MemoryFigures {
  tensors: number;
  bytes: number;
  /** Bytes held in GPU buffers by tfjs (WebGPU only); the pool never shrinks until disposal. */
  gpuBytes?: number;
  gpuBytesAllocated?: number;
}

export function memoryFigures(): MemoryFigures {
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
  return { tensors: m.numTensors, bytes: m.numBytes, gpuBytes: m.numBytesInGPU, gpuBytesAllocated: m.numBytesAllocatedInGPU };
}

interface BufferManagerLike {
  freeBuffers: Map<string, GPUBuffer[]>;
  numFreeBuffers: number;
  numBytesAllocated: number;
}

/**
 * Destroy the WebGPU buffers tfjs keeps in its pool for reuse (the free ones; live tensors keep
 * theirs). tfjs 4.22 never shrinks that pool until the backend is disposed, so a study whose jobs
 * differ in shapes (gridsize 1 and 2, several N) would hold every job's intermediates. Called at the
 * end of each job, when nothing is in flight: the queued commands are submitted first (tfjs releases
 * the buffers they use only then) and the GPU is waited for. Returns the bytes released; 0 on other
 * backends. The map's keys are kept (tfjs' releaseBuffer ignores buffers when the map is empty).
 */
export async function releaseGpuBufferPool(): Promise<number> {
  if (tf.getBackend() !== 'webgpu') return 0;
  const be = tf.backend() as unknown as WebGPUBackendLike & { bufferManager?: BufferManagerLike; submitQueue?: () => void; commandEncoder?: unknown };
  const pool = be.bufferManager;
  if (!be.device || !pool || !(pool.freeBuffers instanceof Map)) return 0;
  if (be.commandEncoder) be.submitQueue?.(); // commands still being recorded (submitQueue needs an encoder)
  // A lost device may never report its work done: then leave the pool alone.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const idle = await Promise.race([
    be.device.queue.onSubmittedWorkDone().then(() => true, () => false),
    new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), 5000); }),
  ]);
  clearTimeout(timer);
  if (!idle) return 0;
  let freed = 0;
  for (const list of pool.freeBuffers.values()) {
    for (const buffer of list) {
      freed += buffer.size;
      buffer.destroy();
    }
    pool.numFreeBuffers -= list.length;
    list.length = 0;
  }
  pool.numBytesAllocated -= freed;
  return freed;
}
