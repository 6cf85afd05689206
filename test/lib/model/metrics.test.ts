import { describe, expect, it } from 'vitest';
import { correlationWithTruth, pearson, sampleBilinear, scannedMask } from '../../../src/lib/model/metrics';
import { stitchPatches } from '../../../src/lib/physics/stitch';
import { extractPatch } from '../../../src/lib/sim/simulate';
import { Rng } from '../../../src/lib/sim/rng';
import { linesObject } from '../../../src/lib/sim/lines';

// Expected values computed with numpy 1.x / scipy (python3):
//   i = np.arange(50.); a = np.sin(0.7*i) + 0.01*i*i; b = np.cos(0.3*i)*(1 + 0.05*i) + 0.5*a
//   np.corrcoef(a, b)[0,1]                      -> 0.931364945428264
//   m = i.astype(int) % 3 != 0; np.corrcoef(a[m], b[m])[0,1] -> 0.9306125948407145
//   img = np.arange(30.).reshape(5,6)**1.5
//   scipy.ndimage.map_coordinates(img, [[1.25,2.0,3.5],[0.5,4.75,2.0]], order=1) -> [23.51162236, 68.56959673, 111.00861323]
const i50 = Array.from({ length: 50 }, (_, i) => i);
const A = i50.map((i) => Math.sin(0.7 * i) + 0.01 * i * i);
const B = i50.map((i, k) => Math.cos(0.3 * i) * (1 + 0.05 * i) + 0.5 * A[k]);

describe('pearson', () => {
  it('matches numpy corrcoef, with and without a mask', () => {
    expect(pearson(A, B)).toBeCloseTo(0.931364945428264, 12);
    expect(pearson(A, B, i50.map((i) => i % 3 !== 0))).toBeCloseTo(0.9306125948407145, 12);
  });
  it('is invariant to offset and positive scale, flips sign with negative scale', () => {
    const r = pearson(A, B);
    expect(pearson(A, B.map((v) => 1e6 + 3 * v))).toBeCloseTo(r, 8);
    expect(pearson(A, B.map((v) => -v))).toBeCloseTo(-r, 12);
    expect(pearson(A, A)).toBeCloseTo(1, 12);
  });
  it('is NaN for constant or too short inputs, and refuses mismatched lengths', () => {
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(pearson([1], [2])).toBeNaN();
    expect(() => pearson([1, 2], [1, 2, 3])).toThrow();
  });
});

describe('sampleBilinear', () => {
  const img = { values: Array.from({ length: 30 }, (_, k) => k ** 1.5), H: 5, W: 6 };
  it('matches scipy map_coordinates(order=1) at sub-pixel points', () => {
    const pts: Array<[number, number, number]> = [[1.25, 0.5, 23.51162236], [2.0, 4.75, 68.56959673], [3.5, 2.0, 111.00861323]];
    for (const [row, col, want] of pts) {
      const s = sampleBilinear(img, col, row, 1, 1);
      expect(s.inside[0]).toBe(1);
      expect(s.values[0]).toBeCloseTo(want, 7);
    }
  });
  it('marks samples outside the image', () => {
    const s = sampleBilinear(img, 4.5, -0.5, 3, 2); // cols 4.5, 5.5, 6.5; rows -0.5, 0.5
    expect(Array.from(s.inside)).toEqual([0, 0, 0, 1, 0, 0]);
  });
});

describe('scannedMask', () => {
  it('covers each group crop [p̄ − M/2, p̄ + M/2 − 1] on both axes', () => {
    // one group at (10, 20), M = 4, grid origin (7, 17): object x 8..11 -> cols 1..4, y 18..21 -> rows 1..4
    const m = scannedMask([10, 20], 4, 7, 17, 8, 6);
    const rows = [];
    for (let r = 0; r < 6; r++) rows.push(Array.from(m.subarray(r * 8, r * 8 + 8)).join(''));
    expect(rows).toEqual(['00000000', '01111000', '01111000', '01111000', '01111000', '00000000']);
  });
});

describe('correlationWithTruth', () => {
  // The simulator's own patches of a 'lines' object, stitched like a reconstruction: r must be ~1 on the
  // right grid, and clearly lower for the transposed image (a coordinate mix-up would show here).
  const S = 56;
  const N = 16;
  const amp = linesObject(S, new Rng(7, 1), 100);
  const obj = { re: amp, im: new Float64Array(S * S), H: S, W: S };
  const rng = new Rng(7, 2);
  const B = 60;
  const centres = new Float64Array(2 * B);
  const re = new Float64Array(B * N * N);
  const im = new Float64Array(B * N * N);
  for (let b = 0; b < B; b++) {
    centres[2 * b] = rng.uniform(12, 44);
    centres[2 * b + 1] = rng.uniform(12, 44);
    extractPatch(obj, centres[2 * b], centres[2 * b + 1], N, re, im, b * N * N);
  }
  const M = 8;
  const st = stitchPatches(Float32Array.from(re), Float32Array.from(im), B, N, centres, M);

  it('is ~1 for the stitched true patches over the scanned area', () => {
    const c = correlationWithTruth(st, { values: amp, H: S, W: S }, centres, M);
    expect(c.pixels).toBeGreaterThan(500);
    expect(c.r).toBeGreaterThan(0.99);
  });
  it('drops for a transposed or shifted image', () => {
    const W = st.width;
    const transposed = Float32Array.from({ length: W * W }, (_, k) => st.amplitude[(k % W) * W + Math.floor(k / W)]);
    const rT = correlationWithTruth({ ...st, amplitude: transposed }, { values: amp, H: S, W: S }, centres, M).r;
    const rS = correlationWithTruth({ ...st, originX: st.originX + 6 }, { values: amp, H: S, W: S }, centres, M).r;
    expect(rT).toBeLessThan(0.8);
    expect(rS).toBeLessThan(0.9);
  });
});
