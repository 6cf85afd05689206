/**
 * Faults fail only the job they hit (README.md, issue 6 part 3). Each test runs two or three tiny
 * jobs of the small demo study with one fault injected into one of them through the page's test
 * hook (`?faults=<JSON>`, FaultPlan in src/workers/train-protocol.ts), then checks:
 *   - the affected job is marked failed with its reason, in the job table and in the manifest;
 *   - every other job succeeded with a finite loss, and its artifacts are intact (the model bundle
 *     in the artifacts zip hashes to the manifest's bundle_sha256);
 *   - the manifest is consistent with what finished: it lists exactly the jobs that ran, with the
 *     statuses the table shows, both as downloaded and as stored with the artifacts.
 */
import { test, expect, type Page } from '@playwright/test';
import { createHash } from 'node:crypto';
import { unzipSync, strFromU8 } from 'fflate';
import { chooseBackend, downloadBytes, downloadText, faultsUrl, fillSettings, loadSmallDemo } from './helpers';
import type { FaultPlan } from '../../src/workers/train-protocol';

const DENSE = 'dose_1000/dense/gs2';
const SPARSE = 'dose_1000/sparse/gs2';

interface ManifestJob {
  dose: number;
  view: string;
  gridsize: number;
  artifact_dir: string;
  result: Record<string, unknown> & { status: string; error?: string; final_loss?: number | null; bundle_path?: string | null; bundle_sha256?: string | null };
}
interface Manifest { jobs: ManifestJob[]; backend: { name: string; adapter: string } | null; dry_run: boolean }

const keyOf = (j: ManifestJob) => `dose_${j.dose}/${j.view}/gs${j.gridsize}`;

/** The small demo, with faults injected through ?faults= when given. */
const loadDemo = (page: Page, faults?: FaultPlan) => loadSmallDemo(page, faults ? faultsUrl(faults) : '/');

/** 12 groups: 11 training groups, 2 steps of 8 per epoch; batch 8, filter scale 0.25. */
const tinySettings = (page: Page, epochs: number) => fillSettings(page, { epochs, groups: 12 });

/** Dose 1000, gridsize 2: the dense and the sparse job. Tiny settings (SwiftShader is slow). */
async function selectTwoJobs(page: Page, epochs = 1): Promise<void> {
  await page.getByLabel('Dose').selectOption('1000');
  await page.getByLabel('Gridsize').selectOption('2');
  await expect(page.getByRole('status')).toContainText('2 of 9 jobs selected');
  await tinySettings(page, epochs);
}

const statusCell = (page: Page, key: string) => page.locator(`tr[data-job="${key}"] td.status`);

async function tableStatuses(page: Page): Promise<Record<string, string>> {
  return page.locator('tr[data-job]').evaluateAll((rows) => Object.fromEntries(rows.map((r) => [
    r.getAttribute('data-job')!, r.querySelector('td.status')!.getAttribute('data-status')!,
  ])));
}

/**
 * The checks every fault test ends with. `expected` maps each job of the run to its status and, for
 * the failed one, its reason; returns the manifest as downloaded.
 */
async function expectConsistentRun(
  page: Page,
  expected: Record<string, { status: 'success' } | { status: 'failed'; reason: RegExp }>,
  { table: withTable = true } = {},
): Promise<Manifest> {
  const keys = Object.keys(expected);
  // The job table (shown while the study is loaded; a resumed run after a reload has none).
  let table: Record<string, string> = Object.fromEntries(Object.entries(expected).map(([k, e]) => [k, e.status]));
  if (withTable) {
    for (const [key, e] of Object.entries(expected)) {
      await expect(statusCell(page, key)).toHaveAttribute('data-status', e.status);
      if (e.status === 'failed') await expect(statusCell(page, key)).toContainText(e.reason);
    }
    table = await tableStatuses(page);
    const ran = Object.entries(table).filter(([, s]) => s !== 'pending').map(([k]) => k);
    expect(ran.sort()).toEqual([...keys].sort());
  }

  // The manifest as downloaded: exactly the jobs that ran, in order, with the table's statuses.
  const m = JSON.parse((await downloadText(page, () => page.getByRole('button', { name: 'Download manifest' }).click())).text) as Manifest;
  expect(m.dry_run).toBe(false);
  expect(m.jobs.map(keyOf)).toEqual(keys);
  for (const j of m.jobs) {
    const e = expected[keyOf(j)];
    expect(j.result.status, keyOf(j)).toBe(e.status);
    expect(j.result.status).toBe(table[keyOf(j)]);
    if (e.status === 'failed') {
      expect(j.result.error).toMatch(e.reason);
      expect(j.result.bundle_path ?? null).toBeNull();
    } else {
      expect(Number.isFinite(j.result.final_loss), `${keyOf(j)} final_loss ${j.result.final_loss}`).toBe(true);
      expect(j.result.bundle_sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  }

  // The artifacts: the stored manifest says the same; every successful job's bundle is intact.
  const zip = unzipSync((await downloadBytes(page, () => page.getByRole('button', { name: 'Download artifacts' }).click())).bytes);
  const stored = JSON.parse(strFromU8(zip['artifacts/training_manifest.json'])) as Manifest;
  expect(stored.jobs.map(keyOf)).toEqual(keys);
  expect(stored.jobs.map((j) => j.result)).toEqual(m.jobs.map((j) => j.result));
  for (const j of m.jobs) {
    if (j.result.status !== 'success') continue;
    const bundle = zip[`${j.artifact_dir}/${j.result.bundle_path}`];
    expect(bundle, `${j.artifact_dir}/${j.result.bundle_path} in the artifacts zip`).toBeTruthy();
    expect(createHash('sha256').update(bundle).digest('hex')).toBe(j.result.bundle_sha256);
    expect(zip[`${j.artifact_dir}/reconstruction.npz`], `${keyOf(j)} reconstruction.npz`).toBeTruthy();
  }
  return m;
}

test('a NaN loss fails only its job, with the step it happened at', async ({ page }) => {
  await loadDemo(page, { nanLossAt: { job: DENSE, step: 2 } });
  await selectTwoJobs(page);
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByRole('status')).toContainText('Finished 2 job(s)', { timeout: 240_000 });
  await expectConsistentRun(page, {
    [DENSE]: { status: 'failed', reason: /the loss became NaN at epoch 1, step 2/ },
    [SPARSE]: { status: 'success' },
  });
});

test('a lost WebGPU device fails only its job; the next job trains on a new device', async ({ page }) => {
  await loadDemo(page, { loseDeviceAt: { job: DENSE, step: 1 } });
  test.slow(); // two workers compile the shaders (SwiftShader)
  await selectTwoJobs(page);
  // Auto would train on WASM here (the adapter is a software one): this fault needs a GPU device.
  await chooseBackend(page, 'webgpu');
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByRole('status')).toContainText('Finished 2 job(s)', { timeout: 240_000 });
  const m = await expectConsistentRun(page, {
    [DENSE]: { status: 'failed', reason: /GPU device lost \(destroyed\)/ },
    [SPARSE]: { status: 'success' },
  });
  // Still WebGPU after the loss, not a fall back to the CPU.
  expect(m.backend?.name).toBe('webgpu');
  expect(m.jobs[1].result.backend).toBe('webgpu');
});

test('a crashed training worker fails only the job it was running; finished jobs stay, the rest run', async ({ page }) => {
  // Three gridsize-1 jobs (baseline at each dose); the worker dies in the middle one.
  test.slow(); // three jobs, two workers compiling the shaders (SwiftShader)
  await loadDemo(page, { crashWorkerAt: { job: 'dose_10000/baseline/gs1', step: 2 } });
  await page.getByLabel('View').selectOption('baseline');
  await expect(page.getByRole('status')).toContainText('3 of 9 jobs selected');
  await tinySettings(page, 1);
  await page.getByRole('button', { name: 'Start training' }).click();
  // The page restarts the worker for the job left, so the run still finishes.
  await expect(page.getByRole('status')).toContainText('Finished 3 job(s)', { timeout: 240_000 });
  const keys = await page.locator('tr[data-job]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-job')!));
  const baseline = keys.filter((k) => k.includes('/baseline/'));
  expect(baseline).toHaveLength(3);
  expect(baseline[1]).toBe('dose_10000/baseline/gs1');
  await expectConsistentRun(page, {
    [baseline[0]]: { status: 'success' },
    [baseline[1]]: { status: 'failed', reason: /training worker crashed.*injected fault/ },
    [baseline[2]]: { status: 'success' },
  });
});

test('a full store fails only the job whose writes do not fit, with a reason that says so', async ({ page }) => {
  await loadDemo(page, { quotaBytes: { job: SPARSE, bytes: 20_000 } });
  await selectTwoJobs(page);
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByRole('status')).toContainText('Finished 2 job(s)', { timeout: 240_000 });
  await expectConsistentRun(page, {
    [DENSE]: { status: 'success' },
    [SPARSE]: { status: 'failed', reason: /storage full: .*QuotaExceededError/ },
  });
});

test('a reload mid-epoch keeps the finished job as it was and resumes the other from its checkpoint', async ({ page }) => {
  test.slow(); // two jobs of three epochs, and a second worker compiling the shaders
  // The second job holds once its first epoch is checkpointed, so the reload below comes mid-run
  // however fast the backend is (the resumed job stores epochs 2 and 3 only: it is not held again).
  await loadDemo(page, { holdAfterCheckpoint: { job: SPARSE, epoch: 1 } });
  await selectTwoJobs(page, 3);
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(statusCell(page, DENSE)).toHaveAttribute('data-status', 'success', { timeout: 240_000 });
  const before = JSON.parse((await downloadText(page, () => page.getByRole('button', { name: 'Download manifest' }).click())).text) as Manifest;
  expect(before.jobs.map(keyOf)).toEqual([DENSE]);
  await expect(page.getByRole('status')).toContainText('Held after the checkpoint of epoch 1', { timeout: 120_000 });
  expect(await statusCell(page, SPARSE).getAttribute('data-status')).toBe('running');
  await page.reload();

  await expect(page.getByRole('alert').filter({ hasText: 'interrupted' })).toContainText('1 of 2 job(s) finished', { timeout: 30_000 });
  // Right after the reload the manifest covers what finished: the first job, unchanged.
  const restored = JSON.parse((await downloadText(page, () => page.getByRole('button', { name: 'Download manifest' }).click())).text) as Manifest;
  expect(restored.jobs).toEqual(before.jobs);

  await page.getByRole('button', { name: 'Resume run' }).click();
  await expect(page.getByTestId('live')).toContainText(/resumed after epoch 1\b/, { timeout: 60_000 });
  await expect(page.getByRole('status')).toContainText('Finished 2 job(s)', { timeout: 240_000 });
  const m = await expectConsistentRun(page, { [DENSE]: { status: 'success' }, [SPARSE]: { status: 'success' } }, { table: false });
  expect(m.jobs[0]).toEqual(before.jobs[0]);
  expect(m.jobs[1].result.epochs_completed).toBe(3);
  expect(m.jobs[1].result.history).toMatchObject({ train_loss: [expect.any(Number), expect.any(Number), expect.any(Number)] });
});
