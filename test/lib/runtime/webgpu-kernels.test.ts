/**
 * Issue 21 part 2: our WebGPU kernels (src/lib/runtime/webgpu-conv.ts, webgpu-matmul.ts, webgpu-ops.ts,
 * webgpu-adam.ts) compute what the CPU backend computes: each op's value and its gradients with
 * respect to every input, on small shapes, within the tolerance the backend comparison gives the
 * forward intensity (test/e2e/pages/tolerances.ts: 1e-5 relative to the largest CPU value), and
 * Adam's state after three steps likewise. Each case must also have run on our programs (a tfjs
 * fallback passing would prove nothing), and the switch must send calls back to tfjs' programs.
 *
 * Runs in a child process (webgpu-kernels-compare.ts) on Dawn: with this environment, or where Dawn
 * finds no adapter and Chromium's SwiftShader Vulkan driver is installed, with the loader pointed
 * at it. Skipped, with the reason printed, only where there is no adapter.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseResult } from './webgpu-kernels-compare';
import { BACKEND_TOLERANCES as TOL } from '../../e2e/pages/tolerances';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';

interface Outcome {
  skip?: string;
  adapter: string;
  cases: CaseResult[];
  adam: { value: number; moment: number; accBeta1: number; programs: string[]; tensorsGrew: number };
  switchOff: string[];
}

function runCompare(env: NodeJS.ProcessEnv): Outcome {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(HERE, 'webgpu-kernels-compare.ts')], {
    cwd: ROOT, env, encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`webgpu-kernels-compare failed (status ${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(line) as Outcome;
}

function outcome(): Outcome {
  const first = runCompare(process.env);
  if (!first.skip || !existsSync(SWIFTSHADER)) return first;
  const dir = path.dirname(SWIFTSHADER);
  return runCompare({ ...process.env, VK_ICD_FILENAMES: SWIFTSHADER, LD_LIBRARY_PATH: [dir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') });
}

/** Which of our programs each case must have dispatched (by name prefix). */
const MUST_RUN: Array<[RegExp, string[]]> = [
  [/^conv .*fallback/, []],
  [/^conv same relu 8->16, filter gradient split/, ['ConvProgram', 'FilterGradProgram', 'AxisSumProgram']],
  [/^conv same relu/, ['ConvProgram', 'FilterGradProgram', 'BiasAddProgram', 'AxisSumProgram']],
  [/^conv valid linear/, ['ConvProgram', 'FilterGradProgram', 'AxisSumProgram']],
  [/^matMul 3x8x12/, ['MatMulProgram']],
  [/^matMul 7x9/, ['MatMulGeneralProgram']],
  [/^bias add/, ['BiasAddProgram', 'AxisSumProgram']],
  [/^sum/, ['AxisSumProgram']],
  [/^upsample/, ['Upsample2GradProgram']],
];

describe('our WebGPU kernels against the CPU backend (Dawn in Node)', () => {
  it('values and gradients agree, on our programs; Adam agrees; the switch turns them off', (ctx) => {
    const o = outcome();
    if (o.skip) {
      console.log(`[webgpu-kernels] skipped: ${o.skip}`);
      ctx.skip();
      return;
    }
    console.log(`[webgpu-kernels] ${o.adapter}`);
    expect(o.cases.length).toBe(17);
    for (const c of o.cases) {
      console.log(`[webgpu-kernels] ${c.name}: value ${c.value.toExponential(1)}, grads ${c.grads.map((g) => g.toExponential(1)).join(' ')}; ${c.programs.join(' ')}`);
      expect(c.scale, c.name).toBeGreaterThan(0);
      expect(c.value, `${c.name}: value`).toBeLessThan(TOL.intensity);
      c.grads.forEach((g, i) => expect(g, `${c.name}: gradient ${i}`).toBeLessThan(TOL.intensity));
      const must = MUST_RUN.find(([re]) => re.test(c.name));
      expect(must, `${c.name}: listed in MUST_RUN`).toBeDefined();
      for (const p of must![1]) expect(c.programs, `${c.name} ran ${p}`).toContain(p);
      if (/fallback/.test(c.name)) expect(c.programs).not.toContain('ConvProgram');
    }
    const a = o.adam;
    console.log(`[webgpu-kernels] Adam: variables ${a.value.toExponential(1)}, first moment ${a.moment.toExponential(1)}; ${a.programs.join(' ')}`);
    expect(a.programs).toContain('AdamProgram');
    expect(a.value).toBeLessThan(TOL.intensity);
    expect(a.moment).toBeLessThan(TOL.intensity);
    expect(a.accBeta1).toBeLessThan(1e-7);
    expect(a.tensorsGrew).toBe(0);
    console.log(`[webgpu-kernels] switch off: ${o.switchOff.join(' ')}`);
    expect(o.switchOff.length).toBeGreaterThan(0);
    for (const ours of ['ConvProgram', 'BiasAddProgram', 'FilterGradProgram', 'AxisSumProgram']) expect(o.switchOff).not.toContain(ours);
  }, 700_000);
});
