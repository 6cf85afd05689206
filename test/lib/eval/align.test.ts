/** alignForEvaluation vs the reference's align_for_evaluation (cropping.py:111-175), random scan coordinates. */
import { describe, it, expect } from 'vitest';
import { alignForEvaluation, scanBoundingBox, centerCrop } from '../../../src/lib/eval';
import { cases, readArray, readComplex } from './fixtures';

describe('alignForEvaluation', () => {
  for (const c of cases.align) {
    it(`${c.name} (M = ${c.M}${c.error ? ', reference raises' : ''})`, async () => {
      const recon = await readComplex(`${c.name}__recon`);
      const truth = await readComplex(`${c.name}__truth`);
      const coords = Float64Array.from((await readArray(`${c.name}__coords`)).data as Float64Array);
      if (c.error) {
        expect(() => alignForEvaluation(recon, truth, coords, c.M)).toThrow();
        return;
      }
      const out = alignForEvaluation(recon, truth, coords, c.M);
      const er = await readComplex(`${c.name}__out_recon`);
      const eg = await readComplex(`${c.name}__out_truth`);
      for (const [got, exp] of [[out.recon, er], [out.truth, eg]] as const) {
        expect([got.height, got.width]).toEqual([exp.height, exp.width]);
        expect(got.re.constructor).toBe(exp.re.constructor);
        expect(Array.from(got.re)).toEqual(Array.from(exp.re));
        expect(Array.from(got.im)).toEqual(Array.from(exp.im));
      }
    });
  }

  it('bounding box: int() truncates toward zero, end exclusive, clamped to the GT', () => {
    const coords = Float64Array.from([-3.7, 10.9, 20.2, 5.5, 7.0, 30.99]); // rows [y, x]
    expect(scanBoundingBox(coords, 10, 100, 100)).toEqual({ r0: 0, r1: 25, c0: 0, c1: 35 });
    expect(scanBoundingBox(coords, 4, 22, 100)).toEqual({ r0: 0, r1: 22, c0: 3, c1: 32 });
    expect(() => scanBoundingBox(new Float64Array(3), 4, 10, 10)).toThrow();
  });

  it('centre crop starts at ((h−th)//2, (w−tw)//2) and returns the same object when the shape matches', () => {
    const img = { height: 5, width: 4, re: Float64Array.from({ length: 20 }, (_, i) => i), im: new Float64Array(20) };
    expect(centerCrop(img, 5, 4)).toBe(img);
    const c = centerCrop(img, 2, 2);
    expect(Array.from(c.re)).toEqual([5, 6, 9, 10]);
    expect(() => centerCrop(img, 0, 2)).toThrow(/positive/);
    expect(() => centerCrop(img, 6, 2)).toThrow(/exceeds/);
  });
});
