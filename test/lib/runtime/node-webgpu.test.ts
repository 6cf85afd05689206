/**
 * Issue 12 part 3: tfjs' WebGPU backend in Node, on Dawn (the `webgpu` package), computes the same
 * PtychoPINN forward intensity, loss and gradients as the CPU backend, within the tolerances of the
 * browser's test (test/e2e/backends.spec.ts), with our accurate Sin/Cos installed by startNodeBackend.
 *
 * Runs in a child process (node-webgpu-compare.ts): first with this environment; where Dawn finds no
 * adapter and Chromium's SwiftShader Vulkan driver is installed, again with the loader pointed at it
 * (VK_ICD_FILENAMES, LD_LIBRARY_PATH). Skipped, with the reason printed, only where there is no adapter.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CompareConfig, CompareResult } from '../../e2e/pages/backends';
import { BACKEND_TOLERANCES as TOL } from '../../e2e/pages/tolerances';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';

const CONFIGS: CompareConfig[] = [
  { N: 16, gridsize: 1, filterScale: 0.25, batch: 4, seed: 3 },
  { N: 16, gridsize: 2, filterScale: 0.25, batch: 4, seed: 4 },
  { N: 32, gridsize: 2, filterScale: 0.25, batch: 2, seed: 5 },
];

type Outcome = { skip: string } | { adapter: string; results: CompareResult[] };

function runCompare(env: NodeJS.ProcessEnv): Outcome {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(HERE, 'node-webgpu-compare.ts'), JSON.stringify(CONFIGS)], {
    cwd: ROOT, env, encoding: 'utf8', timeout: 900_000, maxBuffer: 64 << 20,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`node-webgpu-compare failed (status ${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(line) as Outcome;
}

function outcome(): Outcome {
  const first = runCompare(process.env);
  if (!('skip' in first) || !existsSync(SWIFTSHADER)) return first;
  const dir = path.dirname(SWIFTSHADER);
  return runCompare({
    ...process.env,
    VK_ICD_FILENAMES: SWIFTSHADER,
    LD_LIBRARY_PATH: [dir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
  });
}

describe('WebGPU in Node (Dawn) against the CPU backend', () => {
  it('forward intensity, loss and gradients agree within the browser test\'s tolerances', (ctx) => {
    const o = outcome();
    if ('skip' in o) {
      console.log(`[node-webgpu] skipped: ${o.skip}`);
      ctx.skip();
      return;
    }
    for (const r of o.results) {
      const worst = r.grads.reduce((a, b) => (b.maxRel > a.maxRel ? b : a));
      console.log(
        `[node-webgpu] N=${r.config.N} gs${r.config.gridsize} (${o.adapter}): loss rel ${r.loss.rel.toExponential(2)}, ` +
          `intensity ${r.intensity.maxRel.toExponential(2)}, trimmed ${r.trimmed.maxRel.toExponential(2)}, ` +
          `grads worst ${worst.maxRel.toExponential(2)} (${worst.name}), vector ${r.gradsNormRel.toExponential(2)}; ` +
          `cpu ${r.seconds.cpu.toFixed(1)} s, webgpu ${r.seconds.webgpu.toFixed(1)} s`,
      );
      expect(r.backends).toEqual(['cpu', 'webgpu']);
      expect(r.grads.length).toBeGreaterThan(10);
      expect(r.gradNorm).toBeGreaterThan(0);
      expect(Number.isFinite(r.loss.cpu)).toBe(true);
      expect(r.loss.rel).toBeLessThan(TOL.loss);
      expect(r.intensity.maxRel).toBeLessThan(TOL.intensity);
      expect(r.trimmed.maxRel).toBeLessThan(TOL.trimmed);
      for (const g of r.grads) expect(g.maxRel, `gradient of ${g.name}`).toBeLessThan(TOL.gradVar);
      expect(r.gradsNormRel).toBeLessThan(TOL.gradNorm);
    }
  }, 1_000_000);
});
