/**
 * Starting a tfjs backend in Node (the CLI, `npm run bench:train`, the packed GPU benchmark, tests):
 * 'wasm' (XNNPACK with SIMD, one thread: tfjs' Node build has no threads), 'cpu', or 'webgpu' through
 * Dawn (the `webgpu` npm package's dawn.node). The backend's training kernels are installed as the
 * runner installs them (on WebGPU our accurate Sin/Cos, and our convolution and Adam kernels behind
 * their switch, src/lib/runtime/webgpu-kernels.ts; on WASM the convolution gradients).
 *
 * Dawn finds the Vulkan driver through the Vulkan loader (libvulkan.so.1): on a GPU machine the
 * vendor's, on a machine without one a software driver such as Chromium's SwiftShader:
 *
 *   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium
 *
 * (LD_LIBRARY_PATH is read when the process starts, so it must be in the environment of `node`.)
 * Node-only: never imported by browser code.
 */
import * as tf from '@tensorflow/tfjs';
import { probeWebGPU, describeAdapter } from './adapter';
import { startBackend, type BackendInfo, type BackendName } from './backend';
import { installTrainingKernels } from './kernels';
import { installWebGpuTrainingKernels } from './webgpu-kernels';

export type NodeBackendName = BackendName;

/** What to set when Dawn finds no adapter on a machine without a GPU driver (a sentence). */
export const SWIFTSHADER_HINT =
  'on a machine without a GPU, point the Vulkan loader at a software driver, e.g. Chromium\'s SwiftShader: ' +
  'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium';

let dawnGpu: GPU | null = null;

/**
 * navigator.gpu from Dawn (created once per process), with the WebGPU globals (GPUBufferUsage, ...)
 * tfjs reads. Throws with the reason when the `webgpu` package or its dawn.node cannot load.
 */
export async function nodeGpu(): Promise<GPU> {
  if (dawnGpu) return dawnGpu;
  const { create, globals } = (await import('webgpu')) as unknown as { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  Object.assign(globalThis, globals);
  const gpu = create([]);
  const g = globalThis as unknown as { navigator?: { gpu?: GPU } };
  if (g.navigator === undefined) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  else Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  dawnGpu = gpu;
  return gpu;
}

/**
 * tfjs-backend-webgpu registers its backend at import time only where navigator.gpu already exists,
 * which in Node it does not: register the same factory here (the backend's own, with the adapter's
 * limits as required limits), once Dawn is up.
 */
async function registerNodeWebGpu(): Promise<void> {
  if (tf.findBackendFactory('webgpu')) return;
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  tf.registerBackend('webgpu', async () => {
    const gpu = await nodeGpu();
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new Error(`Dawn found no WebGPU adapter (${SWIFTSHADER_HINT})`);
    const l = adapter.limits;
    const requiredFeatures: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
    const device = await adapter.requestDevice({
      requiredFeatures,
      requiredLimits: {
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      },
    });
    return new WebGPUBackend(device, (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info);
  }, 3);
}

/**
 * Start tfjs on `name` in Node and return what started (threads and SIMD for WASM, the adapter for
 * WebGPU). Throws with the reason when that backend cannot start: never falls back silently.
 */
export async function startNodeBackend(name: NodeBackendName): Promise<BackendInfo> {
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  let adapter;
  if (name === 'webgpu') {
    const gpu = await nodeGpu();
    adapter = await probeWebGPU(gpu);
    if (adapter.kind !== 'webgpu') throw new Error(`no WebGPU adapter in Node: ${adapter.reason ?? 'none'}; ${SWIFTSHADER_HINT}`);
    await registerNodeWebGpu();
  } else {
    adapter = await probeWebGPU(undefined);
  }
  const r = await startBackend(name, adapter);
  if (typeof r === 'string') throw new Error(r);
  installTrainingKernels(name);
  // Node adds our Adam to the kernels above (src/lib/runtime/webgpu-kernels.ts).
  if (name === 'webgpu') installWebGpuTrainingKernels({ adam: true });
  r.reason = `${name} was asked for`;
  return r;
}

/** One line for logs: "wasm (1 thread, SIMD)", "webgpu (google swiftshader ... (software))". */
export function describeNodeBackend(info: BackendInfo): string {
  if (info.name === 'wasm') return `wasm (${info.threads ?? 1} thread${info.threads === 1 ? '' : 's'}${info.simd ? ', SIMD' : ''})`;
  if (info.name === 'webgpu') return `webgpu (${describeAdapter(info.adapter)})`;
  return info.name;
}
