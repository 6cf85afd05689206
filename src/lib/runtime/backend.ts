/**
 * The one file that owns the tfjs runtime: which backend trains, what the adapter is, device-loss
 * watching and memory figures. Everything else imports tfjs ops but never picks a backend.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { probeWebGPU, describeAdapter, type AdapterReport } from './adapter';

export type BackendName = 'webgpu' | 'cpu';

export interface BackendInfo {
  name: BackendName;
  adapter: AdapterReport;
  /** A sentence for the user when training will be slow (CPU fallback or a software adapter). */
  notice?: string;
}

interface WebGPUBackendLike {
  device?: GPUDevice;
}

/** Start tfjs on WebGPU when an adapter is granted, else on the CPU backend with a notice. */
export async function initBackend(prefer: BackendName = 'webgpu'): Promise<BackendInfo> {
  const adapter = await probeWebGPU();
  if (prefer === 'webgpu' && adapter.kind === 'webgpu') {
    try {
      if (await tf.setBackend('webgpu')) {
        await tf.ready();
        return {
          name: 'webgpu',
          adapter,
          notice: adapter.software
            ? `The WebGPU adapter is a software one (${describeAdapter(adapter)}): training is correct but slow.`
            : undefined,
        };
      }
    } catch (err) {
      adapter.reason = `the WebGPU backend failed to start: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  await tf.setBackend('cpu');
  await tf.ready();
  const why = prefer === 'cpu' ? 'the CPU backend was chosen' : (adapter.reason ?? 'no WebGPU adapter was found');
  return {
    name: 'cpu',
    adapter,
    notice: `Training on the CPU because ${why}. This will be slow: use the "Quick look" preset.`,
  };
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
