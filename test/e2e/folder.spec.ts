import { test, expect } from '@playwright/test';
import { downloadText, hasNumpy, python } from './helpers';
import { writeFile } from 'node:fs/promises';

// A numpy-written fixture tree (test/fixtures/study/make_tree.py): dose 1000 only, with
// phase_d/dose_1000/dense/dense_train.npz missing probeGuess.
const TREE = 'test/fixtures/study/trees/broken';

test('choosing a folder shows roots, the per-file report and the job matrix; a dry run gives a manifest', async ({ page }) => {
  await page.goto('/');
  await page.getByLabel('Dataset folder').setInputFiles(TREE);

  const roots = page.getByTestId('roots');
  await expect(roots).toContainText('broken/phase_c');
  await expect(roots).toContainText('broken/phase_d');

  const report = page.getByTestId('validation');
  const bad = report.locator('tr', { hasText: 'dense/dense_train.npz' });
  await expect(bad).toContainText('invalid');
  await expect(bad).toContainText('probeGuess');
  await expect(report.locator('tr', { hasText: 'patched_train.npz' })).toContainText('valid');

  const table = page.getByTestId('job-table');
  await expect(table.locator('tbody tr[data-job]')).toHaveCount(3);
  await expect(table.locator('tr[data-job="dose_1000/dense/gs2"]')).toContainText('blocked');

  await page.getByLabel('Dry run').check();
  // The empty-filter message names what exists.
  await page.getByLabel('View').selectOption('sparse');
  await page.getByLabel('Gridsize').selectOption('1');
  await expect(page.getByTestId('empty-filter')).toContainText('No jobs match');
  await expect(page.getByRole('button', { name: 'Start dry run' })).toBeDisabled();
  await page.getByLabel('Gridsize').selectOption('');
  await page.getByLabel('View').selectOption('');
  await expect(page.getByTestId('empty-filter')).toHaveCount(0);

  await page.getByRole('button', { name: 'Start dry run' }).click();
  await expect(page.getByRole('status')).toContainText('Finished 3 job(s)', { timeout: 60_000 });

  const { name, text, path } = await downloadText(page, () => page.getByRole('button', { name: 'Download manifest' }).click());
  expect(name).toBe('training_manifest.json');
  const m = JSON.parse(text);
  expect(Object.keys(m).slice(0, 7)).toEqual(['timestamp', 'phase_c_root', 'phase_d_root', 'artifact_root', 'filters', 'dry_run', 'jobs']);
  expect(m.phase_c_root).toBe('broken/phase_c');
  expect(m.dry_run).toBe(true);
  expect(m.jobs.map((j: { view: string }) => j.view)).toEqual(['baseline', 'dense', 'sparse']);
  expect(m.jobs[0].result.dry_run).toBe(true);
  expect(m.jobs[0].log_path).toBe('artifacts/dose_1000/baseline/gs1/train.log');
  expect(m.jobs[1].result.status).toBe('blocked');
  expect(text).toContain('"dose": 1000.0');
  if (hasNumpy) {
    await writeFile(`${path}.json`, text);
    expect(python('import json,sys; m=json.load(open(sys.argv[1])); print(len(m["jobs"]), m["jobs"][0]["dose"])', [`${path}.json`]).trim()).toBe('3 1000.0');
  }
});
