import { describe, it, expect } from 'vitest';
import { shiftMatrix, shiftMatrix64, translateImage, canvasSize } from '../../../src/lib/physics';
import { loadNpy, loadIndex, maxAbsErr } from './fixtures';

describe('translation operator (projective_warp_xla.py:242-317) vs numpy', () => {
  const img = loadNpy('tr_img');
  const shifts = loadNpy('tr_shifts');
  const out = loadNpy('tr_out');
  const [H, W] = img.shape;
  const nS = shifts.shape[0];

  it('translateImage matches the literal 2-D bilinear zero-fill definition', () => {
    for (let s = 0; s < nS; s++) {
      const got = translateImage(img.data, H, W, shifts.data[2 * s], shifts.data[2 * s + 1]);
      expect(maxAbsErr(got, out.data.subarray(s * H * W, (s + 1) * H * W))).toBeLessThan(1e-12);
    }
  });

  it('the separable form S_y · f · S_xᵀ with shiftMatrix equals it (float32 matrices)', () => {
    for (let s = 0; s < nS; s++) {
      const Sx = shiftMatrix(W, W, shifts.data[2 * s]);
      const Sy = shiftMatrix(H, H, shifts.data[2 * s + 1]);
      const got = new Float64Array(H * W);
      for (let r = 0; r < H; r++) {
        for (let c = 0; c < W; c++) {
          let acc = 0;
          for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) acc += Sy[r * H + i] * img.data[i * W + j] * Sx[c * W + j];
          got[r * W + c] = acc;
        }
      }
      expect(maxAbsErr(got, out.data.subarray(s * H * W, (s + 1) * H * W))).toBeLessThan(1e-5);
    }
  });

  it('shiftMatrix with padding / cropping matches pad-then-translate and translate-then-crop', () => {
    const cases: Array<[number, number, number, number]> = loadIndex().shift_matrix_cases;
    cases.forEach(([nOut, nIn, t, pad], k) => {
      const ref = loadNpy(`sm_${k}`);
      expect(ref.shape).toEqual([nOut, nIn]);
      expect(maxAbsErr(shiftMatrix64(nOut, nIn, t, pad), ref.data)).toBeLessThan(1e-12);
      expect(maxAbsErr(shiftMatrix(nOut, nIn, t, pad), ref.data)).toBeLessThan(1e-7);
    });
  });

  it('moves content by +t (a delta at 3 lands at 5.5 split over 5 and 6)', () => {
    const m = shiftMatrix64(10, 10, 2.5);
    const delta = new Float64Array(10);
    delta[3] = 1;
    const moved = Array.from({ length: 10 }, (_, i) => m.slice(i * 10, i * 10 + 10).reduce((a, v, j) => a + v * delta[j], 0));
    expect(moved[5]).toBeCloseTo(0.5, 12);
    expect(moved[6]).toBeCloseTo(0.5, 12);
    expect(moved.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });
});

describe('canvasSize (params.py:106-122)', () => {
  it('gives P = 74 (g=1) and 78 (g=2) at N = 64 with the legacy offset 4 and jitter 10', () => {
    expect(canvasSize(64, 1)).toBe(74);
    expect(canvasSize(64, 2)).toBe(78);
    expect(canvasSize(128, 2, 4, 10)).toBe(142);
  });
});
