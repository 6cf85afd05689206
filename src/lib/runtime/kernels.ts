/**
 * Our training kernels for each tfjs backend (the runner installs them before a job; the backend
 * choice before it times a candidate's step, so that the timing is fair): the CPU backend's fast
 * convolution gradients; on WebGPU the accurate Sin/Cos and our convolution, elementwise and
 * matrix-product kernels behind the PTYCHO_OUR_WEBGPU_KERNELS switch
 * (src/lib/runtime/webgpu-kernels.ts; our Adam only in Node, startNodeBackend: see
 * installWebGpuTrainingKernels); WASM's convolution gradients.
 */
import { installFastCpuKernels } from './cpu-kernels';
import { installWebGpuTrainingKernels } from './webgpu-kernels';
import { installWasmTrainingKernels } from './wasm-kernels';

export function installTrainingKernels(name: string): void {
  if (name === 'cpu') installFastCpuKernels();
  if (name === 'webgpu') installWebGpuTrainingKernels({ adam: false });
  if (name === 'wasm') installWasmTrainingKernels();
}
