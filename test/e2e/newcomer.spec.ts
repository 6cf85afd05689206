/**
 * The newcomer's path (issue 20): open the page, Load demo study, Start training, read Study
 * results. The full path with the Demo preset takes about half an hour here, so it is timed by
 * `npm run bench:demo-study`, not here; this test walks the same clicks with every job's budget cut
 * to one epoch and checks what the page shows at the end: all nine jobs, each cell with the dose's
 * common-region scores and its coverage, sparse covering less of the region than dense, and the
 * demo's phase scored (its object carries phase, src/lib/sim/demo.ts).
 */
import { test, expect } from '@playwright/test';
import { downloadText, fillSettings, loadSmallDemo } from './helpers';

test('the newcomer path on a reduced budget: nine jobs, the common-region table with coverage, the phase scored', async ({ page }) => {
  test.setTimeout(1_200_000);
  await loadSmallDemo(page);
  // nothing changed but the budget: the Demo preset is selected, as a newcomer finds it
  await expect(page.getByLabel('Preset')).toHaveValue('Demo');
  await expect(page.getByTestId('estimate')).toContainText(/^Estimated time for the 9 selected jobs/, { timeout: 180_000 });
  // with more than one core the jobs train side by side, each on WASM's single-threaded build, and
  // the estimate's step is timed on that build (src/workers/estimate.worker.ts)
  if (await page.evaluate(() => navigator.hardwareConcurrency > 1)) {
    await expect(page.getByTestId('estimate')).toContainText(/on WASM, 1 thread/);
  }
  // one epoch, a quarter-width network (fillSettings), but every position as a group: the test split
  // is grouped with the same n_groups, and the coverage checked below needs all of it
  await fillSettings(page, { epochs: 1, groups: 288 });
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByRole('status')).toContainText('Finished 9 job(s)', { timeout: 1_100_000 });

  const results = page.getByTestId('study-results');
  await expect(results).toContainText(/common region/i);
  const m = JSON.parse((await downloadText(page, () => page.getByRole('button', { name: 'Download manifest' }).click())).text);
  expect(m.jobs).toHaveLength(9);
  const coverage: Record<string, number> = {};
  for (const j of m.jobs) {
    expect(j.result.status).toBe('success');
    const common = j.result.metrics.common;
    // every view of a dose on the same region: the dose's Phase C test scan
    expect(common.region).toMatchObject({ source: 'phase_c test scan', path: `phase_c/dose_${j.dose}/patched_test.npz` });
    const td = results.locator(`td[data-cell="${j.dose}/${j.view}"]`);
    await expect(td.locator('[data-score="amplitude.ssim"]')).toHaveText(common.amplitude.ssim.toFixed(3));
    await expect(td.locator('.cov')).toHaveText(new RegExp(`^coverage ${Math.round(100 * common.coverage)}%`));
    // the demo's object carries phase, so its phase is scored, not '-'
    expect(common.phase).not.toBeNull();
    await expect(td.locator('[data-score="phase.ssim"]')).toHaveText(common.phase.ssim.toFixed(3));
    coverage[`${j.dose}/${j.view}`] = common.coverage;
  }
  // the sparse cells' low scores are explained in a sentence
  const note = results.getByTestId('coverage-note');
  for (const dose of [1000, 10000, 100000]) await expect(note).toContainText(`dose ${dose} sparse`);
  await expect(note).not.toContainText('dense');
  for (const dose of [1000, 10000, 100000]) {
    // sparse keeps a third of the raster on each axis: it covers far less of the dose's region
    expect(coverage[`${dose}/sparse`]).toBeLessThan(0.6 * coverage[`${dose}/dense`]);
    expect(coverage[`${dose}/dense`]).toBeGreaterThan(0.9);
    expect(coverage[`${dose}/baseline`]).toBeGreaterThan(0.9);
  }
});
