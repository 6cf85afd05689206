import { describe, it, expect } from 'vitest';
import { bresenhamLine, linesObjectFromEndpoints, linesObject, extractPatch, simulateDiffraction, uniformPositions, Rng } from '../../../src/lib/sim';
import { defaultProbe } from '../../../src/lib/physics';
import { loadNpy, loadIndex, maxAbsErr, relMaxErr } from '../physics/fixtures';

describe("'lines' object (diffsim.py:157-170) vs skimage-style Bresenham and scipy blurs", () => {
  const { S, pixels_per_line } = loadIndex().lines as { S: number; pixels_per_line: number[] };
  const ends = loadNpy('ln_ends').data;

  it('Bresenham lines are the same pixels as skimage.draw.line', () => {
    const L = 2 * S;
    const canvas = new Uint8Array(L * L);
    for (let k = 0; k < ends.length / 4; k++) {
      const { rr, cc } = bresenhamLine(ends[4 * k], ends[4 * k + 1], ends[4 * k + 2], ends[4 * k + 3]);
      expect(rr.length).toBe(pixels_per_line[k]);
      for (let i = 0; i < rr.length; i++) canvas[rr[i] * L + cc[i]] = 1;
    }
    expect(maxAbsErr(canvas, loadNpy('ln_canvas').data)).toBe(0);
  });

  it('G1 + 2 G5 + 5 G10, central S x S crop, matches scipy.ndimage.gaussian_filter on the full 2S canvas', () => {
    const got = linesObjectFromEndpoints(S, ends);
    const ref = loadNpy('ln_object').data;
    expect(relMaxErr(got, ref)).toBeLessThan(1e-12);
  });

  it('linesObject is seeded: same seed same object, another seed another object', () => {
    const a = linesObject(90, new Rng(1), 50);
    const b = linesObject(90, new Rng(1), 50);
    const c = linesObject(90, new Rng(2), 50);
    expect(maxAbsErr(a, b)).toBe(0);
    expect(maxAbsErr(a, c)).toBeGreaterThan(0.1);
  });
});

describe('patch extraction and diffraction (raw_data.py:892-930, diffsim.py:59-155) vs numpy', () => {
  const { N, H, W, nphotons, s_sim } = loadIndex().sim as { N: number; H: number; W: number; nphotons: number; s_sim: number };
  const obj = { re: loadNpy('sim_obj_re').data, im: loadNpy('sim_obj_im').data, H, W };
  const px = loadNpy('sim_px').data;
  const py = loadNpy('sim_py').data;
  const n = px.length;
  const pRe = new Float64Array(n * N * N);
  const pIm = new Float64Array(n * N * N);
  for (let b = 0; b < n; b++) extractPatch(obj, px[b], py[b], N, pRe, pIm, b * N * N);

  it('patch pixel (i, j) samples object pixel (y − N/2 + i, x − N/2 + j), bilinear, zero outside', () => {
    expect(maxAbsErr(pRe, loadNpy('sim_patches_re').data)).toBeLessThan(1e-12);
    expect(maxAbsErr(pIm, loadNpy('sim_patches_im').data)).toBeLessThan(1e-12);
  });

  it('s_sim and the Poisson rates match; expected counts per pattern average exactly nphotons', () => {
    const probe = { re: loadNpy('sim_probe_re').data, im: loadNpy('sim_probe_im').data };
    const sim = simulateDiffraction(pRe, pIm, n, N, probe, nphotons, new Rng(11));
    expect(sim.sSim / s_sim - 1).toBeLessThan(1e-12);
    const rates = loadNpy('sim_rates').data;
    for (let b = 0; b < n; b++) {
      let e = 0;
      for (let k = 0; k < N * N; k++) e += rates[b * N * N + k];
      expect(Math.abs(sim.expectedTotals[b] - e) / e).toBeLessThan(1e-10);
    }
    const meanExpected = sim.expectedTotals.reduce((a, v) => a + v, 0) / n;
    expect(Math.abs(meanExpected - nphotons) / nphotons).toBeLessThan(1e-10);
    // stored amplitude = sqrt(counts)/s_sim, so (amplitude·s_sim)² is an integer count
    for (let i = 0; i < sim.amplitude.length; i += 37) {
      const c = (sim.amplitude[i] * sim.sSim) ** 2;
      expect(Math.abs(c - Math.round(c))).toBeLessThan(1e-3 * Math.max(1, c));
    }
  });
});

describe('simulated counts equal the dose within Poisson error (diffsim.py:59-155)', () => {
  for (const dose of [1e3, 1e5]) {
    it(`dose ${dose.toExponential(0)}: mean total counts per pattern`, () => {
      const N = 32;
      const S = 120;
      const amp = linesObject(S, new Rng(4, 1), 100);
      const object = { re: amp, im: new Float64Array(S * S), H: S, W: S };
      const n = 60;
      const { x, y } = uniformPositions(n, S, S, N / 2, new Rng(4, 2));
      for (let i = 0; i < n; i++) {
        expect(x[i] >= N / 2 && x[i] < S - N / 2 && y[i] >= N / 2 && y[i] < S - N / 2).toBe(true);
      }
      const pRe = new Float64Array(n * N * N);
      const pIm = new Float64Array(n * N * N);
      for (let b = 0; b < n; b++) extractPatch(object, x[b], y[b], N, pRe, pIm, b * N * N);
      const sim = simulateDiffraction(pRe, pIm, n, N, defaultProbe(N), dose, new Rng(4, 3));
      const meanCounts = sim.countTotals.reduce((a, v) => a + v, 0) / n;
      // Var(mean of totals) = mean of expected totals / n (sums of independent Poisson counts)
      expect(Math.abs(meanCounts - dose)).toBeLessThan(4 * Math.sqrt(dose / n));
      let total = 0;
      for (let i = 0; i < sim.amplitude.length; i++) total += (sim.amplitude[i] * sim.sSim) ** 2;
      expect(Math.abs(total / n - meanCounts) / meanCounts).toBeLessThan(1e-5);
    });
  }
});
