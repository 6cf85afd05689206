/**
 * The same PtychoPINN forward pass, loss and gradients agree between the WebGPU backend (headless
 * Chromium, SwiftShader's WebGPU) and the tfjs CPU backend within float32 tolerance (issue 4).
 *
 * The page (test/e2e/pages/backends.ts, built into dist by vite.config.ts) builds a seeded model on the
 * CPU, copies its weights as arrays into a model on WebGPU, and evaluates both on one fixed batch:
 * intensity Î (B,N,N,C), trimmed object, mean Poisson NLL, and the gradient of every trainable variable.
 * Tiny models (n_filters_scale 0.25) because SwiftShader runs at well under a GFLOP/s.
 *
 * Sin and Cos. WGSL only requires its built-in sin/cos to be accurate to 2^-11 absolute on [-π, π];
 * SwiftShader's are off by 1.9e-4 (measured below). The loss gradients are sums of large, nearly
 * cancelling terms, so that error alone moved single variables' gradients by up to 15 % at N = 32 (and a
 * CPU-only experiment, bench/sensitivity.ts, shows the same from a 1e-5 relative sin/cos error). The
 * runner therefore replaces the WebGPU Sin/Cos kernels with float32 range reduction + minimax
 * polynomials (src/lib/runtime/webgpu-kernels.ts); the first test checks those against Math.sin/Math.cos.
 *
 * Tolerances, for float32 arithmetic evaluated in a different order: loss and forward intensity 1e-5
 * relative (max |cpu − gpu| / max |cpu|), trimmed object 1e-5; the whole gradient vector 5e-3 (relative
 * 2-norm); each variable's gradient 2e-2 (max |Δ| / max |g| over the variable). The per-variable figure
 * is the loosest because of the same cancellation: perturbing the CPU's matMul/conv outputs by 1e-7
 * relative already moves single variables by 2e-4, and WebGPU's exp and tanh are a few ulp off.
 * Measured here with the accurate kernels, N16 gs1 / N16 gs2 / N32 gs1 / N32 gs2: see the printed lines;
 * at N32 gs1: loss 1.3e-7, intensity 1.9e-7, vector 1.0e-4, worst variable 6.3e-3 (phase_conv2/bias);
 * N32 gs2: vector 1.1e-3, worst 7.2e-3. With tfjs' built-in Sin/Cos the same N32 gs1 case measured
 * loss 5.1e-6, intensity 8.0e-5, vector 9.8e-3 and a worst variable of 1.5e-1.
 *
 * Before src/lib/runtime/cpu-kernels.ts fixed the CPU backend's ResizeNearestNeighborGrad (tfjs 4.22 reads
 * dy with the input's batch stride), this test measured O(1) gradient differences for any batch > 1.
 */
import { test, expect } from '@playwright/test';
import type { CompareConfig, CompareResult, PoolRelease, TrigAccuracy } from './pages/backends';
import { BACKEND_TOLERANCES as TOL } from './pages/tolerances';

const CONFIGS: CompareConfig[] = [
  { N: 16, gridsize: 1, filterScale: 0.25, batch: 4, seed: 3 },
  { N: 16, gridsize: 2, filterScale: 0.25, batch: 4, seed: 4 },
  { N: 32, gridsize: 1, filterScale: 0.25, batch: 2, seed: 5 },
  { N: 32, gridsize: 2, filterScale: 0.25, batch: 2, seed: 5 },
];

test.describe('CPU and WebGPU backends agree', () => {
  test('Sin and Cos on WebGPU are float32-accurate', async ({ page }) => {
    await page.goto('/test/e2e/pages/backends.html');
    await expect(page.locator('#out')).toHaveText('ready');
    const a = await page.evaluate(() => window.__backends!.trigAccuracy()) as TrigAccuracy;
    console.log(
      `[backends] max |error| on [-π, π]: WGSL built-in sin ${a.builtin.sin.toExponential(2)}, cos ${a.builtin.cos.toExponential(2)}; ` +
        `ours sin ${a.accurate.sin.toExponential(2)}, cos ${a.accurate.cos.toExponential(2)}; on [-1000, 1000] ours ${a.accurateWide.sin.toExponential(2)}, ${a.accurateWide.cos.toExponential(2)}`,
    );
    // 2.4e-7 = 2 ulp of 1: float32 roundoff of a correctly reduced argument and a ~1 ulp polynomial.
    for (const e of [a.accurate.sin, a.accurate.cos, a.accurateWide.sin, a.accurateWide.cos]) expect(e).toBeLessThan(2.4e-7);
    expect(a.specials).toEqual({ sinZero: 0, cosZero: 1, nan: true });
  });

  test('releasing tfjs\' WebGPU buffer pool frees the pooled bytes, keeps live tensors, and tfjs computes on', async ({ page }) => {
    await page.goto('/test/e2e/pages/backends.html');
    await expect(page.locator('#out')).toHaveText('ready');
    const p = await page.evaluate(() => window.__backends!.poolRelease()) as PoolRelease;
    console.log(`[backends] pool: allocated ${p.before.allocated} B (live ${p.before.live}) -> freed ${p.freed} -> allocated ${p.after.allocated} B (live ${p.after.live})`);
    expect(p.before.allocated).toBeGreaterThan(p.before.live + 4 * 4096 * 2); // the disposed intermediates sit in the pool
    expect(p.freed).toBe(p.before.allocated - p.after.allocated);
    expect(p.after.allocated).toBe(p.after.live); // nothing pooled is left
    expect(p.after.live).toBe(p.before.live);
    expect(p.keptIntact).toBe(true);
    expect(p.sameResult).toBe(0);
  });

  for (const cfg of CONFIGS) {
    test(`N=${cfg.N} gridsize ${cfg.gridsize}: forward intensity, loss and gradients`, async ({ page }) => {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto('/test/e2e/pages/backends.html');
      await expect(page.locator('#out')).toHaveText('ready');
      const r = await page.evaluate((c) => window.__backends!.compare(c), cfg) as CompareResult;
      const worst = r.grads.reduce((a, b) => (b.maxRel > a.maxRel ? b : a));
      console.log(
        `[backends] N=${cfg.N} gs${cfg.gridsize} f=${cfg.filterScale} B=${cfg.batch} (${r.parameters} params, adapter ${r.adapter}): ` +
          `loss ${r.loss.cpu.toPrecision(9)} vs ${r.loss.webgpu.toPrecision(9)} (rel ${r.loss.rel.toExponential(2)}); ` +
          `intensity max rel ${r.intensity.maxRel.toExponential(2)}; trimmed ${r.trimmed.maxRel.toExponential(2)}; ` +
          `grads: worst variable ${worst.maxRel.toExponential(2)} (${worst.name}), vector ${r.gradsNormRel.toExponential(2)}; ` +
          `cpu ${r.seconds.cpu.toFixed(1)} s, webgpu ${r.seconds.webgpu.toFixed(1)} s`,
      );
      expect(errors).toEqual([]);
      expect(r.backends).toEqual(['cpu', 'webgpu']);
      expect(r.grads.length).toBeGreaterThan(10);
      expect(r.gradNorm).toBeGreaterThan(0);
      expect(Number.isFinite(r.loss.cpu)).toBe(true);
      expect(r.loss.rel).toBeLessThan(TOL.loss);
      expect(r.intensity.maxRel).toBeLessThan(TOL.intensity);
      expect(r.trimmed.maxRel).toBeLessThan(TOL.trimmed);
      for (const g of r.grads) expect(g.maxRel, `gradient of ${g.name}`).toBeLessThan(TOL.gradVar);
      expect(r.gradsNormRel).toBeLessThan(TOL.gradNorm);
    });
  }
});
