import { describe, expect, it } from 'vitest';
import { detectTree } from '../../../src/lib/study/tree';
import { treePaths } from './helpers';

describe('tree detection (docs/data.md)', () => {
  it('finds both roots under a picked folder and the doses present', () => {
    const t = detectTree(treePaths('full').map((p) => `mystudy/${p}`));
    expect(t.phaseCRoot).toBe('mystudy/phase_c');
    expect(t.phaseDRoot).toBe('mystudy/phase_d');
    expect(t.phaseCDoses).toEqual([1000, 10000, 100000]);
    expect(t.phaseDDoses).toEqual([1000, 10000, 100000]);
    expect(t.issues).toEqual([]);
  });

  it('handles zip members with ./ and junk, the flat E4 form and the fallback names', () => {
    const t = detectTree([
      './study//phase_c/dose_1000/patched_train.npz', 'study/phase_c/dose_1000/patched_test.npz',
      'study/phase_c/dose_1000/patched.npz', '__MACOSX/study/phase_c/dose_1000/._patched_train.npz',
      'study/phase_d/dose_1000/dense_train.npz', 'study/phase_d/dose_1000/sparse/test.npz',
      'study/phase_d/dose_1000/dense/metrics_bundle.json',
    ]);
    expect(t.paths).toHaveLength(6);
    expect(t.phaseCRoot).toBe('study/phase_c');
    expect(t.phaseDRoot).toBe('study/phase_d');
  });

  it('dose folders at the top of the drop give root "." and one folder can be both roots', () => {
    const t = detectTree(['dose_1000/patched_train.npz', 'dose_1000/patched_test.npz', 'dose_1000/dense_train.npz']);
    expect(t.phaseCRoot).toBe('.');
    expect(t.phaseDRoot).toBe('.');
  });

  it('reports two Phase C roots as ambiguous and lets the caller choose', () => {
    const paths = ['a/phase_c/dose_1000/patched_train.npz', 'b/phase_c/dose_1000/patched_train.npz'];
    const t = detectTree(paths);
    expect(t.phaseCRoot).toBeNull();
    expect(t.issues.find((i) => i.code === 'ambiguous_phase_c_root')).toMatchObject({
      severity: 'error', candidates: ['a/phase_c', 'b/phase_c'],
    });
    expect(t.issues.find((i) => i.code === 'no_phase_d_root')?.severity).toBe('warning');
    expect(detectTree(paths, { phaseCRoot: 'b/phase_c/' }).phaseCRoot).toBe('b/phase_c');
  });

  it('loose files without dose folders are not a study', () => {
    const t = detectTree(['patched_train.npz', 'dense_train.npz']);
    expect(t.phaseCRoot).toBeNull();
    expect(t.phaseDRoot).toBeNull();
    expect(t.issues.map((i) => i.code)).toEqual(['no_phase_c_root', 'no_phase_d_root']);
  });
});
