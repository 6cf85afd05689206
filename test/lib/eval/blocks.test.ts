/** Building blocks of src/lib/eval against scikit-image / scipy / the reference's functions (fixtures). */
import { describe, it, expect } from 'vitest';
import {
  ssim, msSsim, msSsimDetail, gaussianFilter, gaussianFilter1d, frcCutoffs, frcCurve, firstBelowThreshold, ringIndex,
  fitAndRemovePlane, alignPhase, psnr, mae, mse, trim, trimComplex, getFftPlan, meanFloat32, decimate2, atan2f, cabsf, fma32,
  amplitude, phase, removeMean, type RealImage,
} from '../../../src/lib/eval';
import { cases, readArray, readReal, relErr, absErr } from './fixtures';

const blocks = cases.blocks;

describe('ssim = skimage structural_similarity(a, b, data_range=R) (win 7, uniform, sample covariance)', () => {
  for (const c of blocks.ssim) {
    it(`${c.name} (R = ${c.data_range})`, async () => {
      const a = await readReal(`${c.name}__a`);
      const b = await readReal(`${c.name}__b`);
      expect(relErr(ssim(a, b, c.data_range), c.ssim)).toBeLessThan(1e-10);
    });
  }
  it('is 1 for identical images, NaN for flat windows with data range 0, and throws under 7×7', () => {
    const a: RealImage = { height: 9, width: 8, data: Float64Array.from({ length: 72 }, (_, i) => Math.sin(i)) };
    expect(ssim(a, a, 2)).toBeCloseTo(1, 14);
    const flat: RealImage = { height: 8, width: 8, data: new Float64Array(64).fill(0.3) };
    expect(ssim(flat, flat, 0)).toBeNaN();
    expect(() => ssim({ height: 6, width: 9, data: new Float64Array(54) }, { height: 6, width: 9, data: new Float64Array(54) }, 1)).toThrow(/7×7/);
  });
});

describe("ms_ssim (the reference's: σ pre-smoothing, [::2], weights, 1e-4 clamp, 0 on NaN)", () => {
  for (const c of blocks.ms_ssim) {
    it(`${c.name} (σ = ${c.sigma}, ${c.per_level.length} level(s))`, async () => {
      const a = await readReal(`${c.name}__a`);
      const b = await readReal(`${c.name}__b`);
      const d = msSsimDetail(a, b, { sigma: c.sigma });
      expect(relErr(d.dataRange, c.data_range)).toBeLessThan(1e-12);
      expect(d.perLevel.length).toBe(c.per_level.length);
      d.perLevel.forEach((v, i) => expect(relErr(v, c.per_level[i])).toBeLessThan(1e-9));
      expect(relErr(d.value, c.ms_ssim)).toBeLessThan(1e-9);
      expect(msSsim(a, b, { sigma: c.sigma })).toBe(d.value);
    });
  }
  it('hits the negative clamp in the anti-correlated case (ms4) and drops, not renormalises, weights', async () => {
    const c = blocks.ms_ssim.find((x: any) => x.name === 'ms4');
    expect(Math.min(...c.per_level)).toBeLessThan(0);
    const one = blocks.ms_ssim.find((x: any) => x.name === 'ms5'); // 7×9: one level, weight 0.0448 only
    expect(one.per_level.length).toBe(1);
    expect(one.ms_ssim).toBeCloseTo(one.per_level[0] ** 0.0448, 12);
  });
  it('decimates by keeping even indices (ceil(n/2))', () => {
    const img: RealImage = { height: 3, width: 5, data: Float64Array.from({ length: 15 }, (_, i) => i) };
    const d = decimate2(img);
    expect([d.height, d.width]).toEqual([2, 3]);
    expect(Array.from(d.data)).toEqual([0, 2, 4, 10, 12, 14]);
  });
});

describe("gaussian_filter (scipy, mode 'reflect', truncate 4)", () => {
  for (const c of blocks.gaussian_filter) {
    it(`${c.name} (σ = ${c.sigma}; radius can exceed the image)`, async () => {
      const a = await readReal(`${c.name}__in`);
      const out = await readReal(`${c.name}__out`);
      const g = gaussianFilter(a, c.sigma);
      for (let i = 0; i < out.data.length; i++) expect(Math.abs(g.data[i] - out.data[i])).toBeLessThan(1e-12);
    });
  }
});

describe('FRC (frc_cutoffs / FSC / spinavej)', () => {
  for (const c of blocks.frc) {
    it(`${c.name} (frc_sigma ${c.frc_sigma})`, async () => {
      const t = await readReal(`${c.name}__t`);
      const p = await readReal(`${c.name}__p`);
      const curve = (await readReal(`${c.name}__curve`)).data;
      const r = frcCutoffs(t, p, c.frc_sigma);
      expect(r.curve!.length).toBe(curve.length);
      for (let k = 0; k < curve.length; k++) expect(Math.abs(r.curve![k] - curve[k])).toBeLessThan(1e-8);
      expect(absErr(r.frc50, c.frc50)).toBeLessThan(1e-6);
      expect(absErr(r.frc1over7, c.frc1over7)).toBeLessThan(1e-6);
    });
  }
  it('ring count L = round(√2·⌊n/2⌋) + 1 (45 for 62, 232 for 326) and FRC[0] = 1', () => {
    expect(ringIndex(62).length).toBe(45);
    expect(ringIndex(326).length).toBe(232);
    expect(ringIndex(5).length).toBe(4);
    const a: RealImage = { height: 16, width: 16, data: Float64Array.from({ length: 256 }, (_, i) => Math.cos(i * 0.37) + 2) };
    const b: RealImage = { height: 16, width: 16, data: Float64Array.from({ length: 256 }, (_, i) => Math.sin(i * 0.11) + 2) };
    expect(frcCurve(a, b)[0]).toBeCloseTo(1, 14);
  });
  it('all-zero target: null curve and NaN cut-offs; all-NaN prediction throws', () => {
    const z: RealImage = { height: 8, width: 8, data: new Float64Array(64) };
    const p: RealImage = { height: 8, width: 8, data: new Float64Array(64).fill(1) };
    expect(frcCutoffs(z, p)).toEqual({ curve: null, frc50: NaN, frc1over7: NaN });
    expect(() => frcCutoffs(p, { ...p, data: new Float64Array(64).fill(NaN) })).toThrow(/NaN/);
  });
  it('_first_below_threshold_interpolated on hand-made curves', () => {
    for (const c of blocks.threshold) {
      const curve = c.curve.map((v: number | string | null) => (v === null ? NaN : v === 'inf' ? Infinity : v));
      expect(absErr(Number.isNaN(firstBelowThreshold(curve, 0.5)) ? null : firstBelowThreshold(curve, 0.5), c.frc50)).toBeLessThan(1e-12);
      const f7 = firstBelowThreshold(curve, 1 / 7);
      expect(absErr(Number.isNaN(f7) ? null : f7, c.frc1over7)).toBeLessThan(1e-12);
    }
    expect(firstBelowThreshold([1, 0.9, 0.6, 0.4, 0.1], 0.5)).toBeCloseTo(2.5, 12);
  });
});

describe('phase alignment, PSNR, MAE/MSE, trim', () => {
  it('fit_and_remove_plane matches numpy lstsq on a 13×22 image', async () => {
    const a = await readReal('plane__in');
    const out = await readReal('plane__out');
    const got = fitAndRemovePlane(a);
    for (let i = 0; i < out.data.length; i++) expect(Math.abs(got.data[i] - out.data[i])).toBeLessThan(1e-12);
    const m = alignPhase(a, 'mean');
    expect(m.data.reduce((s, v) => s + v, 0) / m.data.length).toBeCloseTo(0, 14);
  });
  it('psnr = cv2.PSNR on float32 casts, peak 255', async () => {
    const a = await readReal('psnr__a');
    const b = await readReal('psnr__b');
    expect(relErr(psnr(a, b), blocks.psnr.psnr)).toBeLessThan(1e-12);
    expect(psnr(a, a)).toBe(blocks.psnr.identical);
    expect(blocks.psnr.identical).toBeCloseTo(361.20199909921956, 10);
    // a 1e-12 difference vanishes in the float32 cast, as in the reference
    const c = { ...a, data: a.data.map((v) => v + 1e-12) };
    expect(psnr(a, c)).toBe(blocks.psnr.float32_equal);
    expect(mae(a, a)).toBe(0);
    expect(mse(a, b)).toBeGreaterThan(0);
  });
  it("trim removes offset/2 px per side, keeps the array type; offset 0 is empty (Python's a[0:-0])", () => {
    const img = { height: 6, width: 7, data: Float32Array.from({ length: 42 }, (_, i) => i) };
    const t = trim(img, 4);
    expect([t.height, t.width]).toEqual([2, 3]);
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(Array.from(t.data)).toEqual([16, 17, 18, 23, 24, 25]);
    expect(trim(img, 0).data.length).toBe(0);
    expect(trim(img, 8).data.length).toBe(0);
    expect(() => trim(img, 3)).toThrow(/even/);
    const z = trimComplex({ height: 6, width: 7, re: new Float64Array(42), im: new Float64Array(42) }, 2);
    expect([z.height, z.width, z.re.length]).toEqual([4, 5, 20]);
  });
  it('meanFloat32 is numpy float32 np.mean bit for bit (pairwise, 8192-element buffers)', () => {
    for (const c of blocks.mean32) {
      const v = Float32Array.from({ length: c.n }, (_, i) => ((i * 0.7361) % 1.3) + 0.05);
      expect(meanFloat32(v)).toBe(c.mean);
    }
  });
});

describe("numpy's float32 np.abs / np.angle of complex64 (AVX-512: SIMD cabs with FMA, SVML atan2f)", () => {
  const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
  it(`bit for bit on ${blocks.float32.n_regular} values (normal, 1e±30 scales, the section-7 pixels) and ${blocks.float32.n_special} special ones`, async () => {
    const z = (await readArray('f32__z')).data as Float32Array; // interleaved re, im
    const ang = (await readArray('f32__angle')).data as Float32Array;
    const abs = (await readArray('f32__abs')).data as Float32Array;
    const n = ang.length;
    expect(n).toBe(blocks.float32.n_regular + blocks.float32.n_special);
    const bad: string[] = [];
    for (let i = 0; i < n; i++) {
      const re = z[2 * i];
      const im = z[2 * i + 1];
      const a = atan2f(im, re);
      const m = cabsf(re, im);
      if (!same(a, ang[i])) bad.push(`angle(${re} + ${im}i): ${a} vs ${ang[i]}`);
      if (!same(m, abs[i])) bad.push(`abs(${re} + ${im}i): ${m} vs ${abs[i]}`);
    }
    expect(bad).toEqual([]);
    // the correctly rounded values differ from numpy's in a good share of the regular values
    let differ = 0;
    for (let i = 0; i < blocks.float32.n_regular; i++) if (Math.fround(Math.atan2(z[2 * i + 1], z[2 * i])) !== ang[i]) differ++;
    expect(differ).toBeGreaterThan(blocks.float32.n_regular / 10);
  });
  it('amplitude/phase use them for Float32Array planes only; removeMean(…, float32) is numpy float32 φ − np.mean(φ)', () => {
    const re = Float32Array.from([0.3, -1.7, 2.5, 1e-3]);
    const im = Float32Array.from([-0.9, 0.4, 1.25, 7]);
    const z32 = { height: 2, width: 2, re, im };
    const z64 = { height: 2, width: 2, re: Float64Array.from(re), im: Float64Array.from(im) };
    for (let i = 0; i < 4; i++) {
      expect(amplitude(z32).data[i]).toBe(cabsf(re[i], im[i]));
      expect(phase(z32).data[i]).toBe(atan2f(im[i], re[i]));
      expect(amplitude(z64).data[i]).toBe(Math.sqrt(re[i] * re[i] + im[i] * im[i]));
      expect(phase(z64).data[i]).toBe(Math.atan2(im[i], re[i]));
    }
    const phi: RealImage = { height: 1, width: 5, data: Float64Array.from([0.1, 0.7, -2.3, 1.9, 0.45], Math.fround) };
    const m = meanFloat32(phi.data);
    expect(Array.from(removeMean(phi, true).data)).toEqual(Array.from(phi.data, (v) => Math.fround(v - m)));
    expect(alignPhase(phi, 'mean', true)).toEqual(removeMean(phi, true));
  });
  it('fma32 rounds a·b + c once, including a double-rounding tie', () => {
    expect(fma32(3, 5, 7)).toBe(22);
    // (1 + 2⁻²³)(1 − 2⁻²³) − 1 = −2⁻⁴⁶ exactly: unfused float32 arithmetic gives 0
    expect(fma32(1 + 2 ** -23, 1 - 2 ** -23, -1)).toBe(-(2 ** -46));
    // a·b = 2⁻²⁴(1 + 2896·2⁻²³)(1 − 2895·2⁻²³) = 2⁻²⁴ + 4688·2⁻⁷⁰, so a·b + 1 rounds in double to the
    // float32 midpoint 1 + 2⁻²⁴ (which ties to 1), but the exact value is above it: 1 + 2⁻²³
    const a = 2 ** -24 * (1 + 2896 * 2 ** -23);
    const b = 1 - 2895 * 2 ** -23;
    const c = 1;
    expect([Math.fround(a), Math.fround(b)]).toEqual([a, b]);
    expect(Math.fround(a * b + c)).toBe(1);
    expect(fma32(a, b, c)).toBe(1 + 2 ** -23);
  });
});

describe('FFT (mixed radix and Bluestein) vs a direct DFT', () => {
  for (const n of [1, 2, 7, 12, 62, 64, 97, 196, 127 * 2]) {
    it(`n = ${n}`, () => {
      const re = Float64Array.from({ length: n }, (_, i) => Math.sin(1.3 * i) + 0.1 * i);
      const im = Float64Array.from({ length: n }, (_, i) => Math.cos(0.7 * i * i));
      const xr = re.slice();
      const xi = im.slice();
      getFftPlan(n).forward(xr, xi);
      let worst = 0;
      let scale = 0;
      for (let k = 0; k < n; k++) {
        let sr = 0;
        let si = 0;
        for (let j = 0; j < n; j++) {
          const a = (-2 * Math.PI * ((k * j) % n)) / n;
          sr += re[j] * Math.cos(a) - im[j] * Math.sin(a);
          si += re[j] * Math.sin(a) + im[j] * Math.cos(a);
        }
        worst = Math.max(worst, Math.abs(sr - xr[k]), Math.abs(si - xi[k]));
        scale = Math.max(scale, Math.hypot(sr, si));
      }
      expect(worst / Math.max(scale, 1)).toBeLessThan(1e-12);
    });
  }
});

describe('gaussianFilter1d', () => {
  it('smooths a 1-D curve like scipy (constant stays constant, symmetric kernel)', () => {
    const g = gaussianFilter1d([1, 1, 1, 1], 2);
    g.forEach((v) => expect(v).toBeCloseTo(1, 14));
    expect(Array.from(gaussianFilter1d([1, 2, 3], 0))).toEqual([1, 2, 3]);
  });
});

describe('frcCurve: packed (t + i·p) and separate transforms agree', () => {
  it('a target 1e-6 the size of the prediction takes the separate path and matches a scaled copy', () => {
    const n = 30;
    const t = Float64Array.from({ length: n * n }, (_, i) => Math.sin(i * 0.37) + Math.cos(i * 0.011));
    const p = Float64Array.from({ length: n * n }, (_, i) => Math.sin(i * 0.37 + 0.2) + 0.3 * Math.cos(i * 0.05));
    const base = frcCurve({ height: n, width: n, data: t }, { height: n, width: n, data: p }); // packed
    const tiny = frcCurve({ height: n, width: n, data: t.map((v) => v * 1e-6) }, { height: n, width: n, data: p }); // separate
    base.forEach((v, k) => expect(Math.abs(tiny[k] - v)).toBeLessThan(1e-9));
  });
});
