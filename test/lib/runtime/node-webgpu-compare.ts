/**
 * Run by test/lib/runtime/node-webgpu.test.ts in a child process (the Vulkan loader reads
 * LD_LIBRARY_PATH only when a process starts): tfjs' WebGPU backend in Node on Dawn
 * (src/lib/runtime/node-backend.ts) against the CPU backend, through the same compare() the browser
 * test uses (test/e2e/pages/backends.ts). Prints one JSON line: {"skip": reason} where Dawn finds
 * no adapter, else {"adapter", "results": CompareResult[]}.
 */
import { startWebGpuOrSkip } from './webgpu-child';
import { describeAdapter } from '../../../src/lib/runtime/adapter';
import { compare, type CompareConfig } from '../../e2e/pages/backends';

const configs = JSON.parse(process.argv[2] ?? '[]') as CompareConfig[];
const info = await startWebGpuOrSkip();
const results = [];
for (const c of configs) results.push(await compare(c));
process.stdout.write(`${JSON.stringify({ adapter: describeAdapter(info.adapter), results })}\n`);
process.exit(0); // Dawn keeps the event loop alive
