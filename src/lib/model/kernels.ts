/**
 * Our training kernels for each tfjs backend (the runner installs them before a job; the backend
 * choice's timing step too, so that the timing is fair): the CPU backend's fast convolution
 * gradients; on WebGPU the accurate Sin/Cos; WASM's convolution gradients. Our WebGPU training
 kernels (src/lib/model/webgpu-kernels.ts) are installed in Node only, by startNodeBackend: in
 Chromium a job trained with them lost its device ('destroyed') on 2026-12-06, not yet understood.
 */
import { installFastCpuKernels } from './cpu-kernels';
import { installAccurateWebGpuTrig } from './webgpu-kernels';
import { installWasmTrainingKernels } from './wasm-kernels';

export function installTrainingKernels(name: string): void {
  if (name === 'cpu') installFastCpuKernels();
  if (name === 'webgpu') installAccurateWebGpuTrig();
  if (name === 'wasm') installWasmTrainingKernels();
}

