import { test, expect } from '@playwright/test';
import { fillSettings } from '../test/e2e/helpers';

const OUT = 'docs/screenshots';

test('screenshots of the empty page, a loaded study, a running job, a finished study, its results table and a comparison picture', async ({ page }) => {
  test.setTimeout(3_600_000);
  await page.goto('/');
  await expect(page.getByTestId('adapter')).toHaveAttribute('data-kind', /webgpu|none/);
  await page.screenshot({ path: `${OUT}/1-empty.png`, fullPage: true });

  await page.getByRole('button', { name: 'Load demo study' }).click();
  await expect(page.getByTestId('job-table').locator('tbody tr[data-job]')).toHaveCount(9, { timeout: 60_000 });
  await page.getByText('Validation report').click();
  await page.screenshot({ path: `${OUT}/2-loaded.png`, fullPage: true });
  await page.getByText('Validation report').click();

  await page.getByLabel('Dose').selectOption('100000');
  await page.getByLabel('Gridsize').selectOption('2');
  // every test position (288 groups), so the stitched test reconstruction covers the scan; batch 4
  // (four times the optimizer steps per group seen: bench:quality learns far faster than at 16);
  // filter scale 1 and 30 epochs: the dense job's test amplitude SSIM 0.51 in Node (README)
  await fillSettings(page, { epochs: 30, groups: 288, batch: 4, filterScale: 1 });
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByTestId('epoch')).toContainText(/^10 \/ 30$/, { timeout: 1_200_000 });
  await expect(page.getByRole('img', { name: /^Amplitude/ })).toBeVisible({ timeout: 300_000 });
  await page.screenshot({ path: `${OUT}/3-running.png`, fullPage: true });

  await expect(page.getByRole('status')).toContainText('Finished 2 job(s)', { timeout: 2_000_000 });
  await page.screenshot({ path: `${OUT}/4-finished.png`, fullPage: true });

  // The study's answer: the dose x view table of scores, and one job's truth-vs-reconstruction picture.
  const results = page.getByTestId('study-results');
  await expect(results.getByTestId('study-table')).toBeVisible({ timeout: 60_000 });
  await results.screenshot({ path: `${OUT}/5-study-results.png` });
  await results.locator('td[data-cell="100000/dense"]').getByRole('button').click();
  const dialog = page.getByRole('dialog', { name: /Dose 100000, dense/ });
  await expect(dialog.getByRole('img', { name: /Ground truth beside the reconstruction/ })).toBeVisible();
  await dialog.screenshot({ path: `${OUT}/6-comparison.png` });
});
