/**
 * Issue 12: with only a software WebGPU adapter (SwiftShader here), Auto trains on tfjs' WASM backend
 * in the cross-origin-isolated page, with SIMD; where threads start (2+ cores) the threaded build is
 * timed against the single-threaded one on the job's step and the faster trains (on this busy 2-core
 * machine usually the single-threaded one), which the page and the manifest say. A demo job trains to
 * completion on it and the manifest's `backend` records the backend, its threads and the adapter.
 * (offline.spec.ts checks the same run for requests off the origin and CSP violations.)
 */
import { test, expect } from '@playwright/test';
import { downloadText, fillSettings, loadSmallDemo } from './helpers';

test('with a software adapter Auto picks WASM (SIMD, the faster of its builds) and a demo job trains to completion on it', async ({ page }) => {
  await loadSmallDemo(page);
  expect(await page.evaluate(() => crossOriginIsolated), 'the page is cross-origin isolated').toBe(true);
  await expect(page.getByTestId('adapter')).toHaveAttribute('data-kind', 'webgpu');
  await expect(page.getByTestId('software-warning')).toBeVisible();
  await expect(page.getByTestId('backend-select')).toHaveValue('auto');

  await page.getByLabel('Dose').selectOption('1000');
  await page.getByLabel('View').selectOption('baseline');
  await fillSettings(page, { epochs: 2, groups: 16 });
  await page.getByRole('button', { name: 'Start training' }).click();
  const line = page.getByTestId('backend');
  await expect(line).toHaveAttribute('data-name', 'wasm', { timeout: 60_000 });
  await expect(line).toContainText(/WASM, \d+ threads?, SIMD: the WebGPU adapter is a software one/);
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  // The other build, timed on the same step, is named with how much slower it was.
  if (cores >= 2) await expect(line).toContainText(/fastest on this job: \d+\.\dx WASM, \d+ threads?, SIMD \(/);
  await expect(page.getByRole('status')).toContainText('Finished 1 job(s)', { timeout: 180_000 });

  const m = JSON.parse((await downloadText(page, () => page.getByRole('button', { name: 'Download manifest' }).click())).text);
  expect(m.backend.name).toBe('wasm');
  expect(m.backend.simd).toBe(true);
  // Threads need SharedArrayBuffer, which only an isolated page has; which build trains is measured.
  expect(m.backend.threads).toBeGreaterThanOrEqual(1);
  if (cores >= 2) expect(m.backend.reason).toMatch(/software one .*; fastest on this job: .*WASM, \d+ threads?, SIMD/);
  expect(m.backend.adapter).toMatch(/software/);
  expect(m.jobs[0].result.status).toBe('success');
  expect(m.jobs[0].result.backend).toBe('wasm');
  expect(m.jobs[0].result.epochs_completed).toBe(2);
  expect(Number.isFinite(m.jobs[0].result.final_loss)).toBe(true);
});
