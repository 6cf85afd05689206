import { describe, expect, it } from 'vitest';
import { designToDict, getStudyDesign, validateDesign, VIEW_GRIDSIZE, VIEWS } from '../../../src/lib/study/design';

describe('study design (design.py get_study_design)', () => {
  it('has the reference values and derived thresholds in doubles', () => {
    const d = getStudyDesign();
    expect(d.dose_list).toEqual([1e3, 1e4, 1e5]);
    expect(d.gridsizes).toEqual([1, 2]);
    expect(d.neighbor_count).toBe(7);
    expect(d.patch_size_pixels).toBe(128);
    expect(Object.keys(d.overlap_views)).toEqual(['dense', 'sparse']);
    expect(d.spacing_thresholds.dense).toBe(38.400000000000006);
    expect(d.spacing_thresholds.sparse).toBe(102.4);
    expect(d.rng_seeds).toEqual({ simulation: 42, grouping: 123, subsampling: 456 });
    expect(Object.keys(designToDict(d))).toHaveLength(9);
    expect(VIEWS).toEqual(['baseline', 'dense', 'sparse']);
    expect(VIEW_GRIDSIZE).toEqual({ baseline: 1, dense: 2, sparse: 2 });
  });

  it('validate() raises the reference messages, in the reference order', () => {
    expect(() => getStudyDesign({ neighbor_count: 3 })).toThrow(/^neighbor_count=3 must be ≥ C=4/);
    expect(() => getStudyDesign({ overlap_views: { dense: 1.0 } })).toThrow("overlap_views['dense']=1 must be in [0, 1)");
    expect(() => getStudyDesign({ dose_list: [] })).toThrow('dose_list must not be empty');
    expect(() => getStudyDesign({ dose_list: [1e3, 0] })).toThrow(/^All doses must be positive/);
    // neighbor_count is checked before the doses
    expect(() => getStudyDesign({ neighbor_count: 1, dose_list: [] })).toThrow(/neighbor_count/);
    const d = getStudyDesign();
    d.spacing_thresholds.dense = 0;
    expect(() => validateDesign(d)).toThrow(/spacing_thresholds\['dense'\]=0 must be positive/);
  });
});
