import { describe, it, expect } from 'vitest';
import { defaultProbe, defocusedProbe, probeMask, normalizeProbe, gaussianFilter2d, farFieldIntensityCpu } from '../../../src/lib/physics';
import { loadNpy, loadIndex, maxAbsErr } from './fixtures';

describe('default probe (probe.py:15-27) vs numpy/scipy', () => {
  const idx = loadIndex().probe;
  for (const N of [32, 64, 128]) {
    it(`N = ${N}: probe, mask and probe_scale-4 normalisation`, () => {
      const p = defaultProbe(N);
      expect(maxAbsErr(p.re, loadNpy(`probe_${N}`).data)).toBeLessThan(1e-7);
      expect(p.im.every((v) => v === 0)).toBe(true);
      const M = probeMask(N);
      expect(maxAbsErr(M, loadNpy(`probe_mask_${N}`).data)).toBe(0);
      expect(M.reduce((a, b) => a + b, 0)).toBe(idx[String(N)].mask_pixels);
      const ph = normalizeProbe(p, 4);
      const ref = loadNpy(`probe_norm4_${N}`).data;
      expect(maxAbsErr(ph.re, ref) / Math.max(...ref)).toBeLessThan(1e-6);
    });
  }

  it('reproduces get_default_probe and set_probe (scipy) at N = 64: 376-pixel disk, peak |P̂| ≈ 2.72, Σ|P̂|² ≈ 2505', () => {
    const p = defaultProbe(64);
    // the σ=1 blur of a binary disk keeps the disk's pixel count as the total mass
    const mass = p.re.reduce((a, b) => a + b, 0);
    expect(Math.round(mass)).toBe(376);
    const ph = normalizeProbe(p, 4);
    let peak = 0;
    let ss = 0;
    for (let i = 0; i < ph.re.length; i++) {
      const a = Math.hypot(ph.re[i], ph.im[i]);
      peak = Math.max(peak, a);
      ss += a * a;
    }
    expect(peak).toBeCloseTo(2.72, 2);
    expect(Math.abs(ss - 2505) / 2505).toBeLessThan(1e-3);
    expect(Math.abs(p.re[0] - 1e-9)).toBeLessThan(1e-15); // exactly 1e-9 far outside the disk
  });

  it('defocusedProbe: the default amplitude, a quadratic phase of w waves at the disk edge, and a spread far field', () => {
    const N = 64;
    const flat = defaultProbe(N);
    const p = defocusedProbe(N, 1);
    const R = (N / (0.7 * Math.PI ** 2)) * Math.sqrt(2 * Math.log(2)); // 10.9 px, `probe.py:15-27`
    expect(R).toBeCloseTo(10.9, 1);
    const c = (N - 1) / 2;
    for (const [i, j] of [[31, 31], [32, 40], [c + R, c].map(Math.round), [20, 25]]) {
      const k = i * N + j;
      expect(Math.hypot(p.re[k], p.im[k])).toBeCloseTo(flat.re[k], 6);
      const want = (2 * Math.PI * ((i - c) ** 2 + (j - c) ** 2)) / (R * R);
      const got = Math.atan2(p.im[k], p.re[k]);
      expect(Math.abs(Math.atan2(Math.sin(got - want), Math.cos(got - want)))).toBeLessThan(1e-5);
    }
    expect(defocusedProbe(N, 0).re).toEqual(flat.re);
    // far-field amplitude max/mean: the flat disk is one Airy peak; one wave of defocus spreads it
    const ratio = (q: { re: Float32Array; im: Float32Array }) => {
      const I = farFieldIntensityCpu(q.re, q.im, N);
      let max = 0;
      let sum = 0;
      for (const v of I) {
        max = Math.max(max, Math.sqrt(v));
        sum += Math.sqrt(v);
      }
      return max / (sum / I.length);
    };
    expect(ratio(flat)).toBeGreaterThan(100);
    expect(ratio(p)).toBeLessThan(0.3 * ratio(flat));
  });

  it('normalizeProbe uses |M ⊙ P| for complex probes', () => {
    const N = 8;
    const re = new Float32Array(N * N).fill(0.6);
    const im = new Float32Array(N * N).fill(0.8); // |P| = 1 everywhere
    const M = probeMask(N);
    const inMask = M.reduce((a, b) => a + b, 0);
    const out = normalizeProbe({ re, im }, 2);
    const expected = 1 / (2 * (inMask / (N * N)));
    expect(Math.hypot(out.re[0], out.im[0])).toBeCloseTo(expected, 5);
  });
});

describe('gaussianFilter2d vs scipy.ndimage.gaussian_filter (reflect, truncate 4)', () => {
  const img = loadNpy('gf_in');
  const [H, W] = img.shape;
  for (const s of [1, 5, 10]) {
    it(`σ = ${s} on a ${H}x${W} image (kernel wider than the image when σ ≥ 5)`, () => {
      expect(maxAbsErr(gaussianFilter2d(img.data, H, W, s), loadNpy(`gf_out_${s}`).data)).toBeLessThan(1e-12);
    });
  }
});
