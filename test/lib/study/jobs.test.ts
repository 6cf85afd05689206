import { describe, expect, it } from 'vitest';
import { buildTrainingJobs, commonRegionPaths, filterJobs, makeTrainingJob, parseFilters } from '../../../src/lib/study/jobs';
import { treePaths } from './helpers';

function matrix(tree: string, prefix = '', artifactRoot = 'art') {
  const set = new Set(treePaths(tree).map((p) => prefix + p));
  return buildTrainingJobs({
    phaseCRoot: `${prefix}phase_c`, phaseDRoot: `${prefix}phase_d`, artifactRoot, exists: (p) => set.has(p),
  });
}

describe('TrainingJob checks (E4 training.py:30-85)', () => {
  const base = { dose: 1000, train_data_path: 'a.npz', test_data_path: 'b.npz', artifact_dir: 'x', log_path: 'x/train.log' };
  it('checks view, then gridsize, then the files, in that order', () => {
    expect(() => makeTrainingJob({ ...base, view: 'wide', gridsize: 3 })).toThrow(/^Invalid view 'wide'/);
    expect(() => makeTrainingJob({ ...base, view: 'baseline', gridsize: 2 })).toThrow('Baseline jobs must use gridsize=1, got 2');
    expect(() => makeTrainingJob({ ...base, view: 'sparse', gridsize: 1 })).toThrow('Overlap jobs (sparse) must use gridsize=2, got 1');
    expect(() => makeTrainingJob({ ...base, view: 'dense', gridsize: 2 }, () => false)).toThrow('Training dataset not found: a.npz');
    expect(() => makeTrainingJob({ ...base, view: 'dense', gridsize: 2 }, (p) => p === 'a.npz')).toThrow('Test dataset not found: b.npz');
    expect(makeTrainingJob({ ...base, view: 'dense', gridsize: 2 }, () => true).view).toBe('dense');
  });
});

describe('job matrix (E4 training.py:88-176, LATEST training.py:94-242)', () => {
  it('full tree: 9 jobs, dose-major then baseline/dense/sparse, reference paths and artifact layout', () => {
    const { jobs, skipped } = matrix('full');
    expect(skipped).toEqual([]);
    expect(jobs.map((j) => `${j.dose}:${j.view}:${j.gridsize}`)).toEqual([
      '1000:baseline:1', '1000:dense:2', '1000:sparse:2',
      '10000:baseline:1', '10000:dense:2', '10000:sparse:2',
      '100000:baseline:1', '100000:dense:2', '100000:sparse:2',
    ]);
    expect(jobs[0]).toEqual({
      dose: 1000, view: 'baseline', gridsize: 1,
      train_data_path: 'phase_c/dose_1000/patched_train.npz', test_data_path: 'phase_c/dose_1000/patched_test.npz',
      artifact_dir: 'art/dose_1000/baseline/gs1', log_path: 'art/dose_1000/baseline/gs1/train.log',
    });
    expect(jobs[5].train_data_path).toBe('phase_d/dose_10000/sparse/sparse_train.npz');
    expect(jobs[5].log_path).toBe('art/dose_10000/sparse/gs2/train.log');
    expect(jobs[8].artifact_dir).toBe('art/dose_100000/sparse/gs2');
  });

  it('sparse missing everywhere: 6 jobs and 3 skip events whose reasons say "not found"', () => {
    const { jobs, skipped } = matrix('sparse_missing');
    expect(jobs).toHaveLength(6);
    expect(new Set(jobs.map((j) => j.view))).toEqual(new Set(['baseline', 'dense']));
    expect(skipped.map((s) => [s.dose, s.view])).toEqual([[1000, 'sparse'], [10000, 'sparse'], [100000, 'sparse']]);
    for (const s of skipped) expect(s.reason).toMatch(/^NPZ files not found \(train=False, test=False\)\. Checked primary/);
  });

  it('fallback train.npz/test.npz and the flat E4 form are found, per split', () => {
    const { jobs, skipped } = matrix('mixed/mystudy', 'mystudy/');
    const byKey = new Map(jobs.map((j) => [`${j.dose}:${j.view}`, j]));
    expect(byKey.get('1000:dense')!.train_data_path).toBe('mystudy/phase_d/dose_1000/dense/dense_train.npz');
    expect(byKey.get('1000:sparse')!.test_data_path).toBe('mystudy/phase_d/dose_1000/sparse/test.npz');
    expect(byKey.get('10000:dense')!.train_data_path).toBe('mystudy/phase_d/dose_10000/dense_train.npz');
    expect(byKey.get('10000:sparse')!.test_data_path).toBe('mystudy/phase_d/dose_10000/sparse_test.npz');
    const d5 = byKey.get('100000:dense')!;
    expect([d5.train_data_path, d5.test_data_path]).toEqual([
      'mystudy/phase_d/dose_100000/dense/train.npz', 'mystudy/phase_d/dose_100000/dense/dense_test.npz']);
    expect(jobs).toHaveLength(8);
    expect(skipped).toEqual([expect.objectContaining({ dose: 100000, view: 'sparse' })]);
  });

  it('missing Phase C files skip that dose baseline with a reason (docs/decisions.md; E4 raises)', () => {
    const set = new Set(treePaths('full').filter((p) => p !== 'phase_c/dose_10000/patched_test.npz'));
    const { jobs, skipped } = buildTrainingJobs({ phaseCRoot: 'phase_c', phaseDRoot: 'phase_d', artifactRoot: 'a', exists: (p) => set.has(p) });
    expect(jobs).toHaveLength(8);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ dose: 10000, view: 'baseline' });
    expect(skipped[0].reason).toContain('not found (train=True, test=False)');
    expect(skipped[0].reason).toContain('phase_c/dose_10000/patched_test.npz');
  });

  it('no Phase D root: every overlap view skipped, reason says not found', () => {
    const set = new Set(treePaths('full'));
    const { jobs, skipped } = buildTrainingJobs({ phaseCRoot: 'phase_c', phaseDRoot: null, artifactRoot: 'a', exists: (p) => set.has(p) });
    expect(jobs.map((j) => j.view)).toEqual(['baseline', 'baseline', 'baseline']);
    expect(skipped).toHaveLength(6);
    for (const s of skipped) expect(s.reason).toContain('not found');
  });
});

describe('filters (E4 training.py:405-416; the reference CLI scenarios)', () => {
  const { jobs } = matrix('full');
  it.each([
    [{}, 9],
    [{ dose: '1000' }, 3],
    [{ dose: '1e3' }, 3],
    [{ dose: '1000.0' }, 3],
    [{ dose: 1000 }, 3],
    [{ view: 'baseline' }, 3],
    [{ gridsize: 2 }, 6],
    [{ gridsize: '2' }, 6],
    [{ dose: '10000', view: 'dense', gridsize: 2 }, 1],
    [{ dose: '999.9999' }, 0],
    [{ dose: '5000' }, 0],
  ])('%o -> %i jobs', (filters, n) => {
    expect(filterJobs(jobs, filters).items).toHaveLength(n);
  });

  it('records each step in the order dose -> view -> gridsize and keeps job order', () => {
    const r = filterJobs(jobs, { gridsize: 2, view: 'dense', dose: '1e4' });
    expect(r.steps).toEqual([
      { name: 'dose', value: 10000, remaining: 3 },
      { name: 'view', value: 'dense', remaining: 1 },
      { name: 'gridsize', value: 2, remaining: 1 },
    ]);
    expect(r.items[0].artifact_dir).toBe('art/dose_10000/dense/gs2');
    expect(filterJobs(jobs, { gridsize: 2 }).items.map((j) => j.dose)).toEqual([1000, 1000, 10000, 10000, 100000, 100000]);
  });

  it('an empty match lists the values that exist', () => {
    const r = filterJobs(jobs, { dose: '5000', view: 'sparse' });
    expect(r.items).toEqual([]);
    expect(r.empty!.available).toEqual({ doses: [1000, 10000, 100000], views: ['baseline', 'dense', 'sparse'], gridsizes: [1, 2] });
    expect(r.empty!.message).toBe('No jobs match the specified filters (dose=5000.0, view=sparse). ' +
      'Available: dose 1000.0, 10000.0, 100000.0; view baseline, dense, sparse; gridsize 1, 2.');
    expect(filterJobs(jobs, { dose: '1000' }).empty).toBeNull();
  });

  it('rejects what argparse would reject', () => {
    expect(() => parseFilters({ dose: 'lots' })).toThrow("invalid float value: 'lots'");
    expect(() => parseFilters({ view: 'wide' })).toThrow("invalid choice: 'wide'");
    expect(() => parseFilters({ gridsize: 3 })).toThrow('invalid choice: 3 (choose from 1, 2)');
    expect(() => parseFilters({ gridsize: 'two' })).toThrow("invalid int value: 'two'");
    expect(parseFilters({ dose: '', view: null })).toEqual({ dose: null, view: null, gridsize: null });
  });
});

describe('commonRegionPaths (the Phase C test files the common-region scores read)', () => {
  it('one per dose of the jobs, only those present, none without a Phase C root', () => {
    const present = new Set(['data/phase_c/dose_1000/patched_test.npz', 'data/phase_c/dose_100000/patched_test.npz']);
    const jobs = [{ dose: 1000 }, { dose: 1000 }, { dose: 10000 }, { dose: 100000 }];
    expect(commonRegionPaths('data/phase_c', jobs, (p) => present.has(p))).toEqual([
      'data/phase_c/dose_1000/patched_test.npz', 'data/phase_c/dose_100000/patched_test.npz',
    ]);
    expect(commonRegionPaths(null, jobs, () => true)).toEqual([]);
  });
});
