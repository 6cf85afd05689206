import { test, expect, type Page } from '@playwright/test';
import { unzipSync, strFromU8 } from 'fflate';
import { downloadBytes, downloadText, fillSettings, loadSmallDemo } from './helpers';

/**
 * The "Study results" section from a finished, scored run as the training worker stores it in
 * IndexedDB (src/workers/store.ts): the page restores it on load, builds the dose x view table
 * (common-region scores first, with coverage; a flat true phase shows '-' and why), the
 * score-vs-dose chart and each job's comparison.png dialog, and writes study_summary.json/.csv
 * beside the manifest. Seeded rather than trained, so it runs in seconds and the numbers are known.
 */

// A 2x1 PNG (red, blue): a real image the dialog must decode.
const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAADUlEQVR4nGP4zwAE/wEHAAH/4iOeWQAAAABJRU5ErkJggg==';

type Scores = Record<'mae' | 'mse' | 'psnr' | 'ssim' | 'ms_ssim' | 'frc50' | 'frc1over7', number | null>;
const scores = (q: number): Scores => ({
  mae: 0.2 - q / 10, mse: 0.04 - q / 100, psnr: 60 + 10 * q, ssim: q, ms_ssim: q + 0.05, frc50: 40 * q, frc1over7: 50 * q,
});
const FLAT = "the true object's phase is flat over the region (std 0.0e+0 rad after plane removal, < 0.001 rad): phase scores have no meaning";
/**
 * A scored result as the runner writes it (src/lib/model/quality.ts): reference and placed on the
 * job's own region (own coverage 0.97), common on the dose's region with `cov`; `flat`: the truth's
 * phase is flat, so the common set has no phase scores and says why.
 */
const metrics = (dose: number, q: number, cov: number, flat: boolean) => {
  const part = (a: number, p: number) => ({
    amplitude: scores(a), phase: scores(p), height: 40, width: 40, stitch_M: 20, phase_align: 'plane', ms_ssim_sigma: 1,
  });
  const region = { x0: 20, y0: 18, x1: 100, y1: 90, source: 'phase_c test scan', path: `phase_c/dose_${dose}/patched_test.npz` };
  const c = part(q - 0.05, q - 0.25);
  const common = { ...c, phase: flat ? null : c.phase, ...(flat ? { phase_note: FLAT } : {}), height: 73, width: 81, region, coverage: cov };
  return { reference: part(q, q - 0.2), placed: part(q - 0.1, q - 0.3), coverage: 0.97, common };
};

const views = { baseline: 1, dense: 2, sparse: 2 } as const;
type V = keyof typeof views;
const job = (dose: number, view: V) => ({
  dose, view, gridsize: views[view],
  train_data_path: view === 'baseline' ? `phase_c/dose_${dose}/patched_train.npz` : `phase_d/dose_${dose}/${view}/${view}_train.npz`,
  test_data_path: view === 'baseline' ? `phase_c/dose_${dose}/patched_test.npz` : `phase_d/dose_${dose}/${view}/${view}_test.npz`,
  artifact_dir: `artifacts/dose_${dose}/${view}/gs${views[view]}`,
  log_path: `artifacts/dose_${dose}/${view}/gs${views[view]}/train.log`,
});
const ok = (dose: number, q: number, cov: number, flat = false) => ({ status: 'success', final_loss: -1, epochs_completed: 1, metrics: metrics(dose, q, cov, flat) });

/** Dose 1e4 sparse is not in the study: its cell is empty. Dose 1e4's truth has a flat phase. */
const seeded: { dose: number; view: V; result: Record<string, unknown> }[] = [
  { dose: 1000, view: 'baseline', result: ok(1000, 0.5, 1) },
  { dose: 1000, view: 'dense', result: ok(1000, 0.7, 0.98) },
  { dose: 1000, view: 'sparse', result: { status: 'failed', error: 'NaN loss at step 3' } },
  { dose: 10000, view: 'baseline', result: ok(10000, 0.6, 1, true) },
  { dose: 10000, view: 'dense', result: ok(10000, 0.9, 0.96, true) },
];

async function seedRun(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.getByTestId('adapter')).toBeVisible();
  const jobs = seeded.map((s) => ({ job: job(s.dose, s.view), key: `dose_${s.dose}/${s.view}/gs${views[s.view]}`, blocked: [] as string[], result: s.result }));
  await page.evaluate(async ({ jobs, png }) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open('ptychopinn-studio', 1);
      r.onupgradeneeded = () => {
        for (const s of ['runs', 'results', 'artifacts', 'checkpoints']) {
          const os = r.result.createObjectStore(s, { keyPath: s === 'runs' ? 'id' : 'key' });
          os.createIndex(s === 'runs' ? 'created' : 'runId', s === 'runs' ? 'created' : 'runId');
        }
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const runId = 'run-e2e-study-table';
    const now = new Date().toISOString();
    const plan = {
      phaseCRoot: 'phase_c', phaseDRoot: 'phase_d', artifactRoot: 'artifacts',
      filters: { dose: null, view: null, gridsize: null }, dryRun: false,
      settings: { preset: 'Quick look', epochs: 1, groups: 20, batchSize: 8, filterScale: 0.25 },
      backend: 'webgpu', jobs: jobs.map(({ job, key, blocked }) => ({ job, key, blocked })), skipped: [],
    };
    const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
    const tx = db.transaction(['runs', 'results', 'artifacts'], 'readwrite');
    tx.objectStore('runs').put({ id: runId, created: now, updated: now, state: 'finished', plan });
    for (const j of jobs) {
      tx.objectStore('results').put({ key: `${runId}|${j.key}`, runId, jobKey: j.key, result: { backend: 'webgpu', ...j.result }, updated: now });
      if (j.result.status === 'success') {
        const path = `${j.job.artifact_dir}/comparison.png`;
        tx.objectStore('artifacts').put({ key: `${runId}|${path}`, runId, path, bytes });
      }
    }
    await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); });
    db.close();
  }, { jobs, png: PNG_B64 });
  await page.reload();
  await expect(page.getByRole('status')).toContainText('Restored the last run: 5 job(s)');
}

test('study results: dose x view table, common region first, scoring toggle, score chart, comparison dialog, summary files', async ({ page }) => {
  await seedRun(page);
  const section = page.getByRole('region', { name: '4. Study results' });
  await expect(section).toBeVisible();
  const table = section.getByTestId('study-table');

  // Rows: doses ascending; columns: baseline, dense, sparse.
  await expect(table.locator('thead th[scope=col]')).toHaveText([/^Dose/, /^baseline/, /^dense/, /^sparse/]);
  await expect(table.locator('tbody th[scope=row]')).toHaveText([/^1000/, /^10000/]);

  // Common-region scores by default, said in a sentence: amplitude MS-SSIM / SSIM / FRC50 and phase,
  // and the coverage of the dose's region in every cell.
  await expect(table).toHaveAttribute('data-scoring', 'common');
  await expect(section.getByLabel('Common region per dose')).toBeChecked();
  await expect(section.getByTestId('scoring-sentence')).toContainText('Shown: common-region scores. Every view of a dose is scored on the same part of the true object');
  const cell = (d: number, v: string) => table.locator(`td[data-cell="${d}/${v}"]`);
  const num = (d: number, v: string, k: string) => cell(d, v).locator(`[data-score="${k}"]`);
  await expect(num(10000, 'dense', 'amplitude.ms_ssim')).toHaveText('0.900');
  await expect(num(10000, 'dense', 'amplitude.ssim')).toHaveText('0.850');
  await expect(num(10000, 'dense', 'amplitude.frc50')).toHaveText('34.0');
  await expect(num(1000, 'dense', 'phase.ms_ssim')).toHaveText('0.500');
  await expect(num(1000, 'baseline', 'amplitude.ssim')).toHaveText('0.450');
  await expect(cell(1000, 'dense').locator('.cov')).toHaveText('coverage 98%');
  await expect(cell(10000, 'dense').locator('.cov')).toHaveText('coverage 96%');
  await expect(cell(1000, 'baseline').locator('.cov')).toHaveText('coverage 100%');
  // A flat true phase: '-' instead of numbers, the reason on the row and below the table.
  for (const k of ['ms_ssim', 'ssim', 'frc50']) await expect(num(10000, 'dense', `phase.${k}`)).toHaveText('-');
  await expect(cell(10000, 'dense').locator('[data-part="phase"]')).toHaveAttribute('title', FLAT);
  await expect(cell(10000, 'dense').getByRole('button')).toHaveAttribute('aria-label', /phase: no scores \(the true object's phase is flat/);
  await expect(section.getByTestId('phase-note')).toHaveText(`Phase '-': ${FLAT} (dose 10000: baseline, dense).`);
  await expect(cell(1000, 'sparse')).toHaveAttribute('data-status', 'failed');
  await expect(cell(1000, 'sparse')).toHaveText('failed');
  await expect(cell(10000, 'sparse')).toHaveAttribute('data-status', 'missing');
  await expect(cell(10000, 'sparse')).toHaveText('–');
  // Headers explain the scores.
  await expect(section.locator('abbr', { hasText: 'FRC50' })).toHaveAttribute('title', /Fourier ring correlation/);

  // The toggle keeps the placed and reference scores, with each job's own coverage; the flat phase
  // is '-' there too (the manifest keeps those numbers).
  await section.getByLabel('Placed on the truth grid').check();
  await expect(table).toHaveAttribute('data-scoring', 'placed');
  await expect(section.getByTestId('scoring-sentence')).toContainText('Shown: placed scores, each job on its own region');
  await expect(num(10000, 'dense', 'amplitude.ssim')).toHaveText('0.800');
  await expect(num(10000, 'dense', 'phase.ms_ssim')).toHaveText('-');
  await expect(num(1000, 'dense', 'phase.ms_ssim')).toHaveText('0.450');
  await expect(cell(1000, 'dense').locator('.cov')).toHaveText('coverage 97%');
  await section.getByLabel('Reference (Phase G alignment)').check();
  await expect(num(10000, 'dense', 'amplitude.ssim')).toHaveText('0.900');
  await expect(num(1000, 'baseline', 'amplitude.ssim')).toHaveText('0.500');
  await section.getByLabel('Common region per dose').check();
  await expect(table).toHaveAttribute('data-scoring', 'common');

  // The chart: one score against dose, one line per view; 4 scored points for amplitude MS-SSIM.
  const chart = section.getByTestId('score-chart');
  await expect(chart).toHaveAttribute('data-points', '4');
  await expect(chart.getByRole('img')).toHaveAttribute('aria-label', /amplitude MS-SSIM against dose, one line per view \(common scores\)/);
  await expect(chart.locator('circle title')).toHaveText([
    'baseline, dose 1000: amplitude MS-SSIM 0.500', 'baseline, dose 10000: amplitude MS-SSIM 0.600',
    'dense, dose 1000: amplitude MS-SSIM 0.700', 'dense, dose 10000: amplitude MS-SSIM 0.900',
  ]);
  await expect(chart.locator('polyline')).toHaveCount(2);
  // Phase: no points where the true phase is flat (dose 1e4).
  await section.getByLabel('Score to plot').selectOption('phase:frc50');
  await expect(chart.getByRole('img')).toHaveAttribute('aria-label', /phase FRC50 against dose/);
  await expect(chart).toHaveAttribute('data-points', '2');
  await expect(chart.locator('circle title').first()).toHaveText('baseline, dose 1000: phase FRC50 10.0');
  await expect(section).toContainText('Phase has no points where the true phase is flat.');
  await expect(chart).toContainText('baseline');
  await expect(chart).toContainText('sparse (no scores)');
  // Styles set from script pass the page's Content-Security-Policy (style-src 'self').
  expect(await chart.locator('.legend i').first().evaluate((e) => getComputedStyle(e).backgroundColor)).toBe('rgb(31, 95, 191)');

  // A cell opens that job's comparison.png from the stored artifacts.
  await cell(10000, 'dense').getByRole('button').click();
  const dialog = page.getByRole('dialog', { name: /Dose 10000, dense/ });
  await expect(dialog).toBeVisible();
  const img = dialog.getByRole('img', { name: /Ground truth beside the reconstruction/ });
  await expect(img).toBeVisible();
  await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(2);
  await expect(dialog.getByTestId('comparison-region')).toContainText('x 20–100, y 18–90 (phase_c test scan), 96% covered');
  await expect(dialog.locator('tbody tr').first()).toContainText('MAE');
  await expect(dialog.locator('thead th').nth(1)).toHaveText('common amplitude');
  await expect(dialog.locator('tbody tr').last()).toHaveText(/Coverage\s*96%\s*97%\s*97%/);
  await expect(dialog).toContainText(`Phase '-': ${FLAT}.`);
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toBeHidden();
  // Keyboard: the cell buttons are reachable and Escape closes the dialog.
  await cell(1000, 'baseline').getByRole('button').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('dialog', { name: /Dose 1000, baseline/ })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toBeHidden();

  // The artifacts zip holds study_summary.json and .csv beside the manifest.
  const zip = unzipSync((await downloadBytes(page, () => page.getByRole('button', { name: 'Download artifacts' }).click())).bytes);
  const summary = JSON.parse(strFromU8(zip['artifacts/study_summary.json']));
  expect(summary.doses).toEqual([1000, 10000]);
  expect(summary.views).toEqual(['baseline', 'dense', 'sparse']);
  expect(summary.table['10000'].dense.reference.amplitude.ssim).toBe(0.9);
  expect(summary.table['10000'].dense.common.amplitude.ssim).toBe(0.85);
  expect(summary.table['10000'].dense.common_region).toEqual({ x0: 20, y0: 18, x1: 100, y1: 90, source: 'phase_c test scan', coverage: 0.96, note: null });
  expect(summary.table['10000'].dense.phase_note).toBe(FLAT);
  expect(summary.table['10000'].dense.reference.phase.ssim).toBeNull();
  expect(summary.table['1000'].dense.common.phase.ssim).toBeCloseTo(0.45, 12);
  expect(summary.table['10000'].sparse).toBeNull();
  expect(summary.table['1000'].sparse.status).toBe('failed');
  const csv = strFromU8(zip['artifacts/study_summary.csv']).trimEnd().split('\n');
  expect(csv[0]).toBe('dose,view,gridsize,status,which,part,mae,mse,psnr,ssim,ms_ssim,frc50,frc1over7,' +
    'coverage,region_x0,region_y0,region_x1,region_y1,region_source,note');
  expect(csv).toHaveLength(1 + 6 * seeded.length);
  expect(csv).toContain(['1000', 'dense', 2, 'success', 'common', 'amplitude', ...Object.values(scores(0.7 - 0.05)), 0.98, 20, 18, 100, 90, 'phase_c test scan', ''].join(','));
  expect(csv.find((l) => l.startsWith('10000,dense,2,success,common,phase,'))).toBe(`10000,dense,2,success,common,phase,,,,,,,,0.96,20,18,100,90,phase_c test scan,"${FLAT}"`);
  expect(zip['artifacts/dose_10000/dense/gs2/comparison.png']).toBeDefined();
});

test('a trained demo job: preview with truth and scan positions, live SSIM, a scored cell and its comparison.png', async ({ page }) => {
  test.setTimeout(600_000); // one real job on SwiftShader, scored, on a shared machine
  await loadSmallDemo(page);
  await page.getByLabel('Dose').selectOption('1000');
  await page.getByLabel('View').selectOption('dense');
  await fillSettings(page, { epochs: 1, groups: 20 });
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByRole('status')).toContainText('Finished 1 job(s)', { timeout: 540_000 });

  // The preview: reconstruction and truth on one crop, and the test scan positions.
  const preview = page.getByTestId('preview');
  await expect(preview.getByRole('img', { name: /^Amplitude \(epoch 1\)/ })).toBeVisible();
  await expect(preview.getByRole('img', { name: /^Truth amplitude/ })).toBeVisible();
  await expect(preview.getByRole('img', { name: /^Truth phase/ })).toBeVisible();
  expect(Number(await preview.getByTestId('scan-map').getAttribute('data-positions'))).toBeGreaterThan(0);
  await expect(preview).toContainText('Cropped to the scanned region');
  expect(await preview.locator('.bar').first().evaluate((e) => getComputedStyle(e).backgroundImage)).toContain('linear-gradient');
  expect(Number(await page.getByTestId('loss-chart').getAttribute('data-scores'))).toBeGreaterThan(0);

  // The manifest's scores are the table's: the common region's by default, with its coverage.
  const m = JSON.parse((await downloadText(page, () => page.getByRole('button', { name: 'Download manifest' }).click())).text);
  const ref = m.jobs[0].result.metrics.reference;
  const common = m.jobs[0].result.metrics.common;
  const td = page.getByTestId('study-table').locator('td[data-cell="1000/dense"]');
  // A filtered run (no baseline job) still scores on the dose's common region: the page hands the
  // worker the dose's Phase C test file too (src/lib/study/jobs.ts commonRegionPaths).
  expect(common.region).toMatchObject({ source: 'phase_c test scan', path: 'phase_c/dose_1000/patched_test.npz' });
  await expect(td.locator('.own')).toHaveCount(0);
  await expect(td.locator('[data-score="amplitude.ssim"]')).toHaveText(common.amplitude.ssim.toFixed(3));
  await expect(td.locator('.cov')).toHaveText(new RegExp(`^coverage ${Math.round(100 * common.coverage)}%`));
  if (common.phase === null) await expect(td.locator('[data-score="phase.ssim"]')).toHaveText('-');
  await td.getByRole('button').click();
  const img = page.getByRole('dialog').getByRole('img', { name: /Ground truth beside the reconstruction/ });
  await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth), { timeout: 30_000 }).toBeGreaterThan(0);
  await page.keyboard.press('Escape');

  const zip = unzipSync((await downloadBytes(page, () => page.getByRole('button', { name: 'Download artifacts' }).click())).bytes);
  const summary = JSON.parse(strFromU8(zip['artifacts/study_summary.json']));
  expect(summary.table['1000'].dense.reference.amplitude).toEqual(ref.amplitude);
  expect(summary.table['1000'].dense.common.amplitude).toEqual(common.amplitude);
  expect(summary.table['1000'].dense.common_region.coverage).toBe(common.coverage);
  expect(strFromU8(zip['artifacts/study_summary.csv'])).toContain('1000,dense,2,success,reference,amplitude,');
  expect(strFromU8(zip['artifacts/study_summary.csv'])).toContain('1000,dense,2,success,common,amplitude,');
});
