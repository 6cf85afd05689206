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
