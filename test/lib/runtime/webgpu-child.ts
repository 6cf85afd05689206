/**
 * The start of the Node WebGPU test children (node-webgpu-compare.ts, webgpu-kernels-compare.ts,
 * learning-webgpu-run.ts): start tfjs' WebGPU backend on Dawn (src/lib/runtime/node-backend.ts), or
 * print the one JSON line {"skip": reason} their tests read and end the process where Dawn finds
 * no adapter.
 */
import { startNodeBackend } from '../../../src/lib/runtime/node-backend';
import type { BackendInfo } from '../../../src/lib/runtime/backend';

export async function startWebGpuOrSkip(): Promise<BackendInfo> {
  try {
    return await startNodeBackend('webgpu');
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ skip: e instanceof Error ? e.message : String(e) })}\n`);
    process.exit(0);
  }
}
