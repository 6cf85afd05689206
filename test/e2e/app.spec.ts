import { test, expect, type Page } from '@playwright/test';
import { unzipSync, strFromU8 } from 'fflate';
import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openNpz } from '../../src/lib/ingest';
import { chooseBackend, downloadBytes, downloadText, faultsUrl, fillSettings, hasNumpy, loadSmallDemo, python } from './helpers';

/** Few epochs and groups, batch 8, filter scale 0.25 (see fillSettings). */
const quickSettings = (page: Page, epochs = 1) => fillSettings(page, { epochs, groups: 20 });

test('demo study: a dry run manifest, then two jobs trained on WebGPU with live progress, manifest and artifacts', async ({ page }) => {
  // Long tasks on the main thread while training (the UI must stay responsive).
  await page.addInitScript(() => {
    const w = window as unknown as { __longtasks: number[] };
    w.__longtasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__longtasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
  await loadSmallDemo(page);

  // 1. Dry run of all 9 jobs.
  await page.getByLabel('Dry run').check();
  await page.getByRole('button', { name: 'Start dry run' }).click();
  await expect(page.getByRole('status')).toContainText('Finished 9 job(s)', { timeout: 60_000 });
  const dry = JSON.parse((await downloadText(page, () => page.getByRole('button', { name: 'Download manifest' }).click())).text);
  expect(dry.dry_run).toBe(true);
  expect(dry.jobs).toHaveLength(9);
  expect(dry.jobs.map((j: { view: string }) => j.view).slice(0, 3)).toEqual(['baseline', 'dense', 'sparse']);
  expect(dry.jobs.every((j: { result: { dry_run: boolean } }) => j.result.dry_run === true)).toBe(true);

  // 2. Train two jobs (dose 1000, gridsize 2: dense and sparse) for real.
  await page.getByLabel('Dry run').uncheck();
  await page.getByLabel('Dose').selectOption('1000');
  await page.getByLabel('Gridsize').selectOption('2');
  await expect(page.getByRole('status')).toContainText('2 of 9 jobs selected');
  await quickSettings(page);
  // Auto would pick WASM on this software adapter (wasm.spec.ts); this test trains on WebGPU.
  await chooseBackend(page, 'webgpu');
  const before = await page.evaluate(() => (window as unknown as { __longtasks: number[] }).__longtasks.length);
  await page.getByRole('button', { name: 'Start training' }).click();

  // The progress bar and the loss chart move while the first job trains.
  const bar = page.getByTestId('job-progress');
  await expect.poll(async () => Number(await bar.getAttribute('value')), { timeout: 180_000 }).toBeGreaterThan(0);
  await expect.poll(async () => Number(await page.getByTestId('loss-chart').getAttribute('data-points')), { timeout: 180_000 }).toBeGreaterThan(0);
  // The page stays interactive: a control responds while training runs.
  await page.getByText('Validation report').click();

  await expect(page.getByRole('status')).toContainText('Finished 2 job(s)', { timeout: 300_000 });
  await expect(page.getByRole('img', { name: /^Amplitude/ })).toBeVisible();
  const longtasks = await page.evaluate((n) => (window as unknown as { __longtasks: number[] }).__longtasks.slice(n), before);
  expect(Math.max(0, ...longtasks), `main-thread long tasks during training: ${longtasks.join(', ')}`).toBeLessThan(100);

  const { text } = await downloadText(page, () => page.getByRole('button', { name: 'Download manifest' }).click());
  const m = JSON.parse(text);
  expect(m.dry_run).toBe(false);
  expect(m.backend.name).toBe('webgpu');
  expect(m.backend.adapter).toMatch(/software/);
  expect(m.filters).toEqual({ dose: 1000, view: null, gridsize: 2 });
  expect(m.jobs.map((j: { view: string }) => j.view)).toEqual(['dense', 'sparse']);
  for (const j of m.jobs) {
    expect(j.result.status).toBe('success');
    expect(Number.isFinite(j.result.final_loss)).toBe(true);
    expect(j.result.epochs_completed).toBe(1);
    expect(j.result.history.train_loss).toHaveLength(1);
    expect(j.result.bundle_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(j.result.bundle_size_bytes).toBeGreaterThan(0);
  }

  // 3. The artifacts zip: per job train.log, params.json, history.json, the model bundle, reconstruction.
  const zip = await downloadBytes(page, () => page.getByRole('button', { name: 'Download artifacts' }).click());
  const files = unzipSync(zip.bytes);
  const names = Object.keys(files);
  expect(names).toContain('artifacts/training_manifest.json');
  const dir = 'artifacts/dose_1000/dense/gs2';
  for (const f of ['train.log', 'params.json', 'history.json', 'reconstruction.npz', 'reconstruction.png']) {
    expect(names, `${dir}/${f} in the artifacts zip`).toContain(`${dir}/${f}`);
  }
  expect(names).toContain(`${dir}/${m.jobs[0].result.bundle_path}`);
  const params = JSON.parse(strFromU8(files[`${dir}/params.json`]));
  expect(params.gridsize).toBe(2);
  expect(params.nphotons).toBe(1000);
  expect(params.nepochs).toBe(1);
  expect(params.n_groups).toBe(20);
  expect(params.n_filters_scale).toBe(0.25);
  const png = files[`${dir}/reconstruction.png`];
  expect(Array.from(png.slice(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);

  const npz = await openNpz(files[`${dir}/reconstruction.npz`], 'reconstruction.npz');
  expect(npz.keys).toEqual(expect.arrayContaining(['amplitude', 'phase']));
  const amp = await npz.read('amplitude');
  expect(amp.shape).toHaveLength(2);
  expect(amp.dtype).toBe('float32');
  if (hasNumpy) {
    const tmp = await mkdtemp(join(tmpdir(), 'recon-'));
    const p = join(tmp, 'reconstruction.npz');
    await writeFile(p, files[`${dir}/reconstruction.npz`]);
    const out = python('import numpy as np,sys; d=np.load(sys.argv[1]); a=d["amplitude"]; print(a.dtype, a.shape[0], a.shape[1], bool(np.isfinite(a).all()))', [p]).trim();
    expect(out).toBe(`float32 ${amp.shape[0]} ${amp.shape[1]} True`);
  }
});

/** The app with the dose-1000 baseline job held after its first checkpoint (test hook). */
const HELD_AFTER_EPOCH_1 = faultsUrl({ holdAfterCheckpoint: { job: 'dose_1000/baseline/gs1', epoch: 1 } });

test('cancel stops the running job at the next step and records it as cancelled', async ({ page }) => {
  // The job holds after its first epoch (test hook), so it is still running when Cancel is clicked
  // however fast the backend is.
  await loadSmallDemo(page, HELD_AFTER_EPOCH_1);
  await page.getByLabel('Dose').selectOption('1000');
  await page.getByLabel('View').selectOption('baseline');
  await quickSettings(page, 3);
  await chooseBackend(page, 'webgpu');
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect.poll(async () => Number(await page.getByTestId('job-progress').getAttribute('value')), { timeout: 180_000 }).toBeGreaterThan(0);
  await expect(page.getByRole('status')).toContainText('Held after the checkpoint of epoch 1', { timeout: 240_000 });
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('status')).toContainText('Cancelled', { timeout: 120_000 });
  const m = JSON.parse((await downloadText(page, () => page.getByRole('button', { name: 'Download manifest' }).click())).text);
  expect(m.jobs).toHaveLength(1);
  expect(m.jobs[0].result.status).toBe('cancelled');
});

test('a reload mid-run shows what finished and resumes the unfinished job from its last checkpoint', async ({ page }) => {
  // The job holds once its first epoch's checkpoint is in IndexedDB (test hook), so the reload lands
  // between the first and the last epoch however fast the backend is.
  await loadSmallDemo(page, HELD_AFTER_EPOCH_1);
  await page.getByLabel('Dose').selectOption('1000');
  await page.getByLabel('View').selectOption('baseline');
  await quickSettings(page, 3);
  // Checkpoints and resume on WebGPU (the fault tests cover WASM).
  await chooseBackend(page, 'webgpu');
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByRole('status')).toContainText('Held after the checkpoint of epoch 1', { timeout: 240_000 });
  await page.reload();
  await expect(page.getByRole('alert').filter({ hasText: 'interrupted' })).toBeVisible({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Resume run' }).click();
  await expect(page.getByTestId('live')).toContainText('resumed after epoch 1', { timeout: 60_000 });
  await expect(page.getByRole('status')).toContainText('Finished 1 job(s)', { timeout: 300_000 });
  const m = JSON.parse((await downloadText(page, () => page.getByRole('button', { name: 'Download manifest' }).click())).text);
  expect(m.jobs[0].result.status).toBe('success');
  expect(m.jobs[0].result.epochs_completed).toBe(3);
  expect(m.jobs[0].result.history.train_loss).toHaveLength(3);
});

test('the job table says how much training each job gets, from its train file and the settings', async ({ page }) => {
  await loadSmallDemo(page); // the demo selects its Demo preset: 288 groups, batch 4, 40 epochs
  await expect(page.getByLabel('Preset')).toHaveValue('Demo');
  const budget = (key: string) => page.locator(`tr[data-job="${key}"] td[data-testid="budget"]`);
  // dense: 288 train positions -> 288 groups, floor(288·0.95) = 273 train, ceil(273 / 4) = 69 steps an epoch
  await expect(budget('dose_100000/dense/gs2')).toHaveText('288 groups · 69 steps × 40 = 2760 steps');
  // sparse: 35 positions (small demo, src/lib/sim/demo.ts) -> 35 groups, 33 train, 9 steps
  await expect(budget('dose_100000/sparse/gs2')).toContainText('35 groups · 9 steps × 40 = 360 steps');
  await expect(budget('dose_100000/sparse/gs2').locator('.warn')).toHaveText('the file has 35 positions: 35 of the 288 groups asked');
  await expect(budget('dose_100000/dense/gs2').locator('.warn')).toHaveCount(0);
  // the Reference preset: 512 groups asked, so the dense job forms its 288 (273 train, 18 steps)
  await page.getByLabel('Preset').selectOption('Reference');
  await expect(budget('dose_100000/dense/gs2')).toContainText('288 groups · 18 steps × 50 = 900 steps');
  await expect(budget('dose_100000/dense/gs2').locator('.warn')).toHaveText('the file has 288 positions: 288 of the 512 groups asked');
  await page.getByLabel('Batch size').fill('4');
  await expect(budget('dose_100000/dense/gs2')).toContainText('288 groups · 69 steps × 50 = 3450 steps');
});

test('the page says how long the selected jobs will take before a run, and how long is left while it runs', async ({ page }) => {
  // The job holds after its first epoch (test hook), so the run is still going when the time left is read.
  await loadSmallDemo(page, HELD_AFTER_EPOCH_1);
  // Before a run: a step is measured in a worker for the settings' shapes (the Demo preset: gridsize 1 and 2).
  const estimate = page.getByTestId('estimate');
  await expect(estimate).toContainText(
    /^Estimated time for the 9 selected jobs: (under a minute|about \d+ min|about \d+ h( \d+ min)?) \(measured step [\d.]+ m?s at gridsize 1(.*), [\d.]+ m?s at gridsize 2(.*), on WASM/,
    { timeout: 120_000 });
  const all = Number(await estimate.getAttribute('data-seconds'));
  expect(all).toBeGreaterThan(0);
  // One job of the nine: the same measurement, a smaller estimate.
  await page.getByLabel('Dose').selectOption('1000');
  await page.getByLabel('View').selectOption('baseline');
  await expect(estimate).toContainText(/^Estimated time for the 1 selected job: .*measured step [\d.]+ m?s at gridsize 1/);
  const one = Number(await estimate.getAttribute('data-seconds'));
  expect(one).toBeGreaterThan(0);
  expect(one).toBeLessThan(all);
  // Other shapes are measured again; more epochs cost more.
  await quickSettings(page, 3);
  await expect(estimate).toContainText(/^Estimated time for the 1 selected job/, { timeout: 120_000 });
  const three = Number(await estimate.getAttribute('data-seconds'));
  await page.getByLabel('Epochs').fill('30');
  await expect.poll(async () => Number(await estimate.getAttribute('data-seconds'))).toBeGreaterThan(three);
  await page.getByLabel('Epochs').fill('3');

  // While it runs: the time left, for the run and in the running job's row.
  await page.getByRole('button', { name: 'Start training' }).click();
  const left = page.getByTestId('remaining');
  await expect(left).toContainText(/^(Under a minute|About \d+ min|About \d+ h( \d+ min)?) left/, { timeout: 240_000 });
  await expect(page.getByRole('status')).toContainText('Held after the checkpoint of epoch 1', { timeout: 240_000 });
  // two of the three epochs are left
  expect(Number(await left.getAttribute('data-seconds'))).toBeGreaterThan(0);
  await expect(page.locator('tr[data-job="dose_1000/baseline/gs1"] [data-testid="job-left"]')).toContainText(/(under a minute|about \d+ (min|h)).* left/);
  await expect(estimate).toHaveCount(0);
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('status')).toContainText('Cancelled', { timeout: 120_000 });
  await expect(left).toHaveCount(0);
});
