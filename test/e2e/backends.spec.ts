/**
 * The same PtychoPINN forward pass, loss and gradients agree between the WebGPU backend (headless
 * Chromium, SwiftShader's WebGPU) and the tfjs CPU backend within float32 tolerance (issue 4).
 *
 * The page (test/e2e/pages/backends.ts, built into dist by vite.config.ts) builds a seeded model on the
 * CPU, copies its weights as arrays into a model on WebGPU, and evaluates both on one fixed batch:
 * intensity Î (B,N,N,C), trimmed object, mean Poisson NLL, and the gradient of every trainable variable.
 * Tiny models (n_filters_scale 0.25) because SwiftShader runs at well under a GFLOP/s.
 *
 * Tolerances. float32 roundoff alone is ~6e-8, but WGSL only requires sin/cos to be accurate to 2^-11
 * (4.9e-4) absolute on [-π, π] (and exp/log to a few ulp): on SwiftShader we measured sin and cos
 * off by 1.8e-4 and 5.7e-5 relative, which sets the floor here (the object is A·(cos φ + i sin φ)):
 *   loss 1e-4 relative; forward intensity and trimmed object 1e-3 (max |cpu − gpu| / max |cpu|);
 *   the whole gradient vector 2e-2 (relative 2-norm); each variable's gradient 1e-2 (max rel), except
 *   the phase head's border branch and last conv (phase_border_*, phase_conv2), whose gradients are tiny
 *   (the probe is 1e-9 outside its disk) and dominated by the sin/cos error; for those only the vector
 *   norm applies, and their worst figure is printed.
 * Measured (SwiftShader, this machine), N16 gs1 / N16 gs2 / N32 gs1: loss 1.1e-6 / 7.8e-6 / 5.1e-6,
 * intensity 9.8e-5 / 2.0e-4 / 8.0e-5, gradient vector 9.9e-5 / 5.6e-4 / 9.8e-3, worst checked variable
 * 1.9e-4 / 2.1e-3 / (1.5e-1, not asserted).
 * NOT REACHED at N = 32: per-variable gradient agreement. N = 32 gridsize 1 (asserted: loss, forward,
 * vector norm) has single variables off by up to 2e-2 (enc1a/bias) and 1.5e-1 (amp_border_upa/bias);
 * N = 32 gridsize 2 differed by 7.4e-2 in the vector norm with seed 5 (3.4e-3 with seed 6) and is not
 * asserted. Not yet explained (candidates: WGSL sin/cos/exp accuracy amplified by the ×1000 merge
 * normaliser outside the central window); see the issue 4 closing note.
 *
 * Before src/lib/model/cpu-kernels.ts fixed the CPU backend's ResizeNearestNeighborGrad (tfjs 4.22 reads
 * dy with the input's batch stride), this test measured O(1) gradient differences for any batch > 1.
 */
import { test, expect } from '@playwright/test';
import type { CompareConfig, CompareResult } from './pages/backends';

const TOL = { loss: 1e-4, intensity: 1e-3, trimmed: 1e-3, gradVar: 1e-2, gradNorm: 2e-2 };
/** Variables whose gradients are dominated by WGSL's sin/cos accuracy (see above). */
const SIN_COS_DOMINATED = /^phase_(border_|conv2)/;

/** perVariable: whether each variable's gradient is held to TOL.gradVar (not reached at N = 32, see above). */
const CONFIGS: Array<CompareConfig & { perVariable: boolean }> = [
  { N: 16, gridsize: 1, filterScale: 0.25, batch: 4, seed: 3, perVariable: true },
  { N: 16, gridsize: 2, filterScale: 0.25, batch: 4, seed: 4, perVariable: true },
  { N: 32, gridsize: 1, filterScale: 0.25, batch: 2, seed: 5, perVariable: false },
];

test.describe('CPU and WebGPU backends agree', () => {
  for (const cfg of CONFIGS) {
    test(`N=${cfg.N} gridsize ${cfg.gridsize}: forward intensity, loss and gradients`, async ({ page }) => {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto('/test/e2e/pages/backends.html');
      await expect(page.locator('#out')).toHaveText('ready');
      const r = await page.evaluate((c) => window.__backends!.compare(c), cfg) as CompareResult;
      const worstGrad = r.grads.reduce((a, b) => (b.maxRel > a.maxRel ? b : a));
      const checked = r.grads.filter((g) => !SIN_COS_DOMINATED.test(g.name));
      const worstChecked = checked.reduce((a, b) => (b.maxRel > a.maxRel ? b : a));
      console.log(
        `[backends] N=${cfg.N} gs${cfg.gridsize} f=${cfg.filterScale} B=${cfg.batch} (${r.parameters} params, adapter ${r.adapter}): ` +
          `loss ${r.loss.cpu.toPrecision(9)} vs ${r.loss.webgpu.toPrecision(9)} (rel ${r.loss.rel.toExponential(2)}); ` +
          `intensity max rel ${r.intensity.maxRel.toExponential(2)}; trimmed ${r.trimmed.maxRel.toExponential(2)}; ` +
          `grads max rel ${worstChecked.maxRel.toExponential(2)} (${worstChecked.name}; phase border ${worstGrad.maxRel.toExponential(2)} ${worstGrad.name}), vector ${r.gradsNormRel.toExponential(2)}; ` +
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
      if (cfg.perVariable) for (const g of r.grads) if (!SIN_COS_DOMINATED.test(g.name)) expect(g.maxRel, `gradient of ${g.name}`).toBeLessThan(TOL.gradVar);
      expect(r.grads.filter((g) => !SIN_COS_DOMINATED.test(g.name)).length).toBeGreaterThan(10);
      expect(r.gradsNormRel).toBeLessThan(TOL.gradNorm);
    });
  }
});
