import { describe, expect, it } from 'vitest';
import { openAsBlob } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { planStudy, refilterPlan, memoryFileSource } from '../../../src/lib/study/plan';
import { inspectNpz } from '../../../src/lib/study/inspect';
import { loadTree } from './helpers';

describe('planStudy (the worker logic) on numpy-written trees', () => {
  it('full tree under a picked folder: roots, 9 jobs, 18 files validated with the real contract, filters', async () => {
    const files = await loadTree('full', 'mystudy/');
    const progress: string[] = [];
    const plan = await planStudy(files, { inspect: inspectNpz, filters: { dose: '1e3' }, onProgress: (p) => progress.push(p.status) });
    expect(plan.phaseCRoot).toBe('mystudy/phase_c');
    expect(plan.phaseDRoot).toBe('mystudy/phase_d');
    expect(plan.artifactRoot).toBe('artifacts');
    expect(plan.doses).toEqual([1000, 10000, 100000]);
    expect(plan.dosesFrom).toBe('data');
    expect(plan.jobs).toHaveLength(9);
    expect(plan.reports).toHaveLength(18);
    expect(plan.reports.every((r) => r.ok)).toBe(true);
    expect(plan.jobs.every((j) => !j.blocked && j.N === 64)).toBe(true);
    expect(plan.jobs.map((j) => j.trainPositions)).toEqual(Array(9).fill(10)); // numpy wrote 10 positions in each train file
    expect(plan.jobs.map((j) => j.testPositions)).toEqual(Array(9).fill(10)); // and in each test file
    expect(plan.selected.map((j) => j.job.view)).toEqual(['baseline', 'dense', 'sparse']);
    expect(plan.steps).toEqual([{ name: 'dose', value: 1000, remaining: 3 }]);
    expect(plan.selected[1].job.artifact_dir).toBe('artifacts/dose_1000/dense/gs2');
    expect(progress[0]).toBe('detected');
    expect(progress.at(-1)).toBe('validated');
    expect(structuredClone(plan)).toEqual(plan); // crosses postMessage intact
  });

  it('a file failing validation blocks only the job that needs it', async () => {
    const plan = await planStudy(await loadTree('broken'), { inspect: inspectNpz });
    expect(plan.doses).toEqual([1000]);
    expect(plan.absentDesignDoses).toEqual([10000, 100000]);
    expect(plan.notes.join(' ')).toMatch(/10000, 100000 have no data/);
    const byView = Object.fromEntries(plan.jobs.map((j) => [j.job.view, j]));
    expect(byView.baseline.blocked).toBe(false);
    expect(byView.sparse.blocked).toBe(false);
    expect(byView.dense.blocked).toBe(true);
    expect(byView.dense.reasons.join('\n')).toMatch(/phase_d\/dose_1000\/dense\/dense_train\.npz/);
    expect(byView.dense.reasons.join('\n')).toMatch(/probeGuess/);
    const bad = plan.reports.filter((r) => !r.ok);
    expect(bad.map((r) => r.file)).toEqual(['phase_d/dose_1000/dense/dense_train.npz']);
  });

  it('rules on values (NaN, negative, all-zero, a bad CRC) are reported per file before training and block only their jobs', async () => {
    const contract = fileURLToPath(new URL('../../fixtures/contract/', import.meta.url));
    const swap: Record<string, string> = {
      'phase_c/dose_1000/patched_test.npz': 'nan_diffraction.npz',
      'phase_d/dose_1000/dense/dense_train.npz': 'negative_amplitude.npz',
      'phase_d/dose_10000/sparse/sparse_test.npz': 'zero_diffraction.npz',
      'phase_c/dose_100000/patched_train.npz': 'corrupt_diffraction_data.npz',
    };
    const files = await Promise.all((await loadTree('full')).map(async (f) =>
      swap[f.path] ? { path: f.path, blob: await openAsBlob(`${contract}${swap[f.path]}`) } : f));
    const plan = await planStudy(files, { inspect: inspectNpz });
    const bad = plan.reports.filter((r) => !r.ok);
    expect(bad.map((r) => [r.file, r.errors.map((e) => `${e.code}:${e.key}`)])).toEqual([
      ['phase_c/dose_1000/patched_test.npz', ['non_finite:diffraction']],
      ['phase_d/dose_1000/dense/dense_train.npz', ['negative_amplitude:diffraction']],
      ['phase_d/dose_10000/sparse/sparse_test.npz', ['zero_diffraction:diffraction']],
      ['phase_c/dose_100000/patched_train.npz', ['unreadable_member:diffraction']],
    ]);
    for (const r of bad) expect(r.errors[0].message).toContain(r.file);
    const blocked = plan.jobs.filter((j) => j.blocked).map((j) => `${j.job.dose}/${j.job.view}`);
    expect(blocked).toEqual(['1000/baseline', '1000/dense', '10000/sparse', '100000/baseline']);
    expect(plan.jobs.find((j) => j.job.dose === 1000 && j.job.view === 'baseline')!.reasons[0]).toMatch(/3 NaN or infinite values/);
  });

  it("validate: 'selected' opens only the filtered jobs' files; unreadable files become report errors", async () => {
    const files = await loadTree('full');
    files.push({ path: 'phase_c/dose_1000/patched_train.npz', blob: new Blob([new Uint8Array([1, 2, 3])]) });
    const plan = await planStudy(files, { inspect: inspectNpz, validate: 'selected', filters: { view: 'baseline', dose: 1000 } });
    expect(plan.reports.map((r) => r.file)).toEqual(['phase_c/dose_1000/patched_train.npz', 'phase_c/dose_1000/patched_test.npz']);
    expect(plan.reports[0].ok).toBe(false);
    // The sentence names the file once, then what is wrong with it.
    expect(plan.reports[0].errors[0].message)
      .toBe('phase_c/dose_1000/patched_train.npz: could not be read as an NPZ file (not a ZIP/NPZ archive: only 3 bytes long).');
    expect(plan.selected[0].blocked).toBe(true);
  });

  it('empty match, refilter, ambiguous roots and cancellation', async () => {
    const files = await loadTree('sparse_missing');
    const plan = await planStudy(files, { validate: 'none', filters: { view: 'sparse' } });
    expect(plan.skipped).toHaveLength(3);
    expect(plan.selected).toEqual([]);
    expect(plan.empty!.available.views).toEqual(['baseline', 'dense']);
    const again = refilterPlan(plan, { gridsize: 2 });
    expect(again.selected).toHaveLength(3);
    expect(again.empty).toBeNull();

    const two = [...files, ...files.map((f) => ({ ...f, path: `copy/${f.path}` }))];
    const amb = await planStudy(two, { validate: 'none' });
    expect(amb.blocking).toHaveLength(2);
    expect(amb.jobs).toEqual([]);
    const chosen = await planStudy(two, { validate: 'none', phaseCRoot: 'copy/phase_c', phaseDRoot: 'phase_d' });
    expect(chosen.jobs[0].job.train_data_path).toBe('copy/phase_c/dose_1000/patched_train.npz');
    expect(chosen.jobs[1].job.train_data_path).toBe('phase_d/dose_1000/dense/dense_train.npz');

    const ac = new AbortController();
    ac.abort();
    await expect(planStudy(files, { inspect: inspectNpz, signal: ac.signal })).rejects.toThrow();
  });

  it('memoryFileSource serves the dropped files by their normalised paths', async () => {
    const src = memoryFileSource([{ path: './a//b.npz', blob: new Blob(['x']) }]);
    expect(src.has('a/b.npz')).toBe(true);
    expect(await (await src.get('a/b.npz')).text()).toBe('x');
    await expect(src.get('nope')).rejects.toThrow(/not found/);
  });
});
