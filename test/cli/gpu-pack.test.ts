/**
 * Issue 12 part 4: `npm run bench:gpu:pack` makes a folder that runs the GPU benchmark with no npm and
 * no node on the PATH, from a copy in an empty folder. Packed once, run once with a tiny preset (the
 * reference preset takes hours on a software adapter). Dawn needs a Vulkan driver: where the plain
 * environment has no adapter, Chromium's SwiftShader is used when installed; skipped, with the reason
 * printed, only where neither exists.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
const TOOLS = ['sh', 'tar', 'gzip', 'mktemp', 'dirname', 'mkdir', 'ln', 'rm'];

/** A PATH of one folder holding only the tools run.sh uses (no node, no npm). */
function bareBin(dir: string): string {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  for (const t of TOOLS) {
    const found = ['/usr/bin', '/bin'].map((d) => path.join(d, t)).find((p) => fs.existsSync(p));
    if (!found) throw new Error(`${t} not found`);
    fs.symlinkSync(found, path.join(bin, t));
  }
  return bin;
}

describe('the packed GPU benchmark', () => {
  it('runs from a copy in an empty folder with no node or npm on the PATH and prints its figures', (ctx) => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-pack-test-'));
    try {
      const packed = path.join(tmp, 'packed');
      const p = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/pack-gpu-bench.ts', '--out', packed], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
      expect(p.status, p.stderr).toBe(0);
      const size = fs.readdirSync(packed).reduce((n, f) => n + fs.statSync(path.join(packed, f)).size, 0);
      expect(size).toBeLessThan(60e6);

      const copy = path.join(tmp, 'copy');
      fs.mkdirSync(copy);
      for (const f of fs.readdirSync(packed)) fs.copyFileSync(path.join(packed, f), path.join(copy, f));
      fs.chmodSync(path.join(copy, 'run.sh'), 0o755);
      const bin = bareBin(tmp);
      const tiny = ['--N', '32', '--filter-scale', '0.25', '--batch', '4', '--groups', '8', '--epochs', '1', '--peak-size', '128'];
      const run = (extra: Record<string, string>) => spawnSync(path.join(bin, 'sh'), ['./run.sh', ...tiny], {
        cwd: copy, encoding: 'utf8', timeout: 900_000, env: { PATH: bin, HOME: tmp, TMPDIR: tmp, ...extra },
      });
      let r = run({});
      if (r.status !== 0 && /no WebGPU adapter/.test(r.stderr) && fs.existsSync(SWIFTSHADER)) {
        r = run({ VK_ICD_FILENAMES: SWIFTSHADER, LD_LIBRARY_PATH: path.dirname(SWIFTSHADER) });
      }
      if (r.status !== 0 && /no WebGPU adapter/.test(r.stderr)) {
        console.log(`[gpu-pack] skipped: ${r.stderr.trim().split('\n').pop()}`);
        ctx.skip();
        return;
      }
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      console.log(`[gpu-pack] ${(size / 1e6).toFixed(1)} MB; ${r.stdout.trim().split('\n').filter((l) => /backend|throughput/.test(l)).join(' | ')}`);
      expect(r.stdout).toMatch(/backend webgpu \(.+\)/);
      expect(r.stdout).toMatch(/samples\/s/);
      expect(r.stdout).toMatch(/GFLOP\/s achieved vs matMul peak [\d.]+ GFLOP\/s/);
      const results = fs.readdirSync(path.join(copy, 'results'));
      expect(results).toHaveLength(1);
      const j = JSON.parse(fs.readFileSync(path.join(copy, 'results', results[0]), 'utf8'));
      expect(j.backend).toBe('webgpu');
      expect(j.flops.achievedPerSecond).toBeGreaterThan(0);
      expect(j.flops.matMulPeakPerSecond).toBeGreaterThan(0);
      expect(j.epochs).toHaveLength(1);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, 1_500_000);
});
