import { describe, it, expect } from 'vitest';
import { stitchPatches } from '../../../src/lib/physics';
import { loadNpy, loadIndex, maxAbsErr } from './fixtures';

describe('stitchPatches (tf_helper.py:1190-1277) vs numpy', () => {
  it('matches crop, pad d, translate by +(p̄ − mean), sum / (ones + 1e-9)', () => {
    const { B, N, M, d, originX, originY } = loadIndex().stitch;
    const re = Float32Array.from(loadNpy('st_re').data);
    const im = Float32Array.from(loadNpy('st_im').data);
    const centres = loadNpy('st_centres').data;
    const out = stitchPatches(re, im, B, N, centres, M);
    expect(out.pad).toBe(d);
    expect(out.width).toBe(M + 2 * d);
    expect(out.height).toBe(M + 2 * d);
    expect(out.originX).toBeCloseTo(originX, 10);
    expect(out.originY).toBeCloseTo(originY, 10);
    const refRe = loadNpy('st_canvas_re').data;
    const refIm = loadNpy('st_canvas_im').data;
    expect(maxAbsErr(out.re, refRe)).toBeLessThan(1e-5);
    expect(maxAbsErr(out.im, refIm)).toBeLessThan(1e-5);
    let worst = 0;
    for (let i = 0; i < refRe.length; i++) {
      worst = Math.max(worst, Math.abs(out.amplitude[i] - Math.hypot(refRe[i], refIm[i])));
      if (Math.hypot(refRe[i], refIm[i]) > 1e-3) {
        const dp = Math.abs(out.phase[i] - Math.atan2(refIm[i], refRe[i]));
        worst = Math.max(worst, Math.min(dp, 2 * Math.PI - dp));
      }
    }
    expect(worst).toBeLessThan(1e-4);
  });

  it('reassembles a known object: patches cut at the centres stitch back to it', () => {
    // object f(x, y) = smooth complex function; each patch pixel (i, j) = f(x̄ − N/2 + j, ȳ − N/2 + i) at integer centres
    const f = (x: number, y: number) => [Math.cos(0.13 * x) + 0.2 * y / 50, Math.sin(0.07 * y)];
    const N = 32;
    const cs = [[50, 40], [58, 40], [50, 49], [61, 52], [46, 54]]; // integer mean (53, 47): integer shifts, exact placement
    const B = cs.length;
    const re = new Float32Array(B * N * N);
    const im = new Float32Array(B * N * N);
    cs.forEach(([x, y], b) => {
      for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) {
        const [a, c] = f(x - N / 2 + j, y - N / 2 + i);
        re[(b * N + i) * N + j] = a;
        im[(b * N + i) * N + j] = c;
      }
    });
    const out = stitchPatches(re, im, B, N, Float64Array.from(cs.flat()));
    let checked = 0;
    for (let r = 0; r < out.height; r++) for (let c = 0; c < out.width; c++) {
      const k = r * out.width + c;
      if (out.amplitude[k] === 0 && out.re[k] === 0) continue;
      // only fully covered pixels (integer shifts here: weight 1 where any crop lands)
      const [a, b] = f(out.originX + c, out.originY + r);
      if (Math.abs(out.re[k]) < 1e-6 && Math.abs(a) > 1e-3) continue; // outside every crop
      expect(out.re[k]).toBeCloseTo(a, 4);
      expect(out.im[k]).toBeCloseTo(b, 4);
      checked++;
    }
    expect(checked).toBeGreaterThan(400);
  });

  it('masked patch pixels add neither value nor weight: no normaliser artefact reaches the canvas', () => {
    const N = 8;
    const M = 8;
    const B = 2;
    const re = new Float32Array(B * N * N).fill(1);
    const im = new Float32Array(B * N * N);
    const mask = new Uint8Array(B * N * N).fill(1);
    // patch 0's right half is an artefact (×1000) and masked; patch 1 sits 3 px to the right and covers part of it
    for (let i = 0; i < N; i++) for (let j = N / 2; j < N; j++) {
      re[i * N + j] = 1000;
      mask[i * N + j] = 0;
    }
    const centres = Float64Array.from([10, 10, 13, 10]);
    const plain = stitchPatches(re, im, B, N, centres, M);
    const masked = stitchPatches(re, im, B, N, centres, M, mask);
    expect(Math.max(...plain.amplitude)).toBeGreaterThan(100); // without the mask the artefact is on the canvas
    expect(Math.max(...masked.amplitude)).toBeCloseTo(1, 5);
    let uncovered = 0;
    for (let k = 0; k < masked.weight.length; k++) {
      if (masked.weight[k] === 0) {
        uncovered++;
        expect(masked.amplitude[k]).toBe(0);
      } else expect(masked.amplitude[k]).toBeCloseTo(1, 5);
    }
    // the canvas border (pad d) and the rows outside both crops are reached by no unmasked pixel
    expect(uncovered).toBeGreaterThan(0);
    expect(() => stitchPatches(re, im, B, N, centres, M, new Uint8Array(3))).toThrow(/mask/);
  });
});

