/**
 * One run loop (src/lib/pipeline/run.ts) for the app and the CLI: the same small study trained in
 * the app (its train worker, two job workers side by side on WASM) and by `npm run study` (two
 * worker threads) writes the same training_manifest.json apart from timings. The CLI trains the
 * demo files that src/lib/sim writes for the same seed, at the app's own relative paths.
 */
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDemoStudy } from '../../src/lib/sim';
import { manifestDifferences } from '../../src/lib/report/manifest-compare';
import { chooseBackend, downloadText, fillSettings, loadSmallDemo } from './helpers';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

test('the app and the CLI train one small study through the same loop: equal manifests apart from timings', async ({ page }) => {
  test.setTimeout(600_000);
  await loadSmallDemo(page);
  await page.getByLabel('Dose').selectOption('100000');
  await expect(page.getByRole('status')).toContainText('3 of 9 jobs selected');
  await fillSettings(page, { epochs: 1, groups: 16, batch: 4, filterScale: 0.25 });
  await chooseBackend(page, 'wasm');
  await page.getByTestId('jobs-select').selectOption({ label: '2' });
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByRole('status')).toContainText('Finished 3 job(s)', { timeout: 300_000 });
  const app = JSON.parse((await downloadText(page, () => page.getByRole('button', { name: 'Download manifest' }).click())).text) as Record<string, unknown>;
  // each job kept its live view: 'watch' on another job's row shows its curves and title
  const row = page.locator('tr[data-job]:has([data-testid="watch"])').first();
  const key = await row.getAttribute('data-job');
  await row.getByTestId('watch').click();
  await expect(page.getByTestId('live').locator('strong').first()).toContainText(`${key!.split('/')[1]} (dose=100000`);
  expect(Number(await page.getByTestId('loss-chart').getAttribute('data-points'))).toBeGreaterThan(0);

  const tmp = mkdtempSync(join(tmpdir(), 'one-loop-'));
  try {
    for (const f of (await makeDemoStudy('small')).files) {
      mkdirSync(dirname(join(tmp, f.path)), { recursive: true });
      writeFileSync(join(tmp, f.path), f.bytes);
    }
    const r = spawnSync(`${REPO}node_modules/.bin/tsx`, [`${REPO}src/cli/study.ts`,
      '--phase-c-root', String(app.phase_c_root), '--phase-d-root', String(app.phase_d_root), '--artifact-root', String(app.artifact_root),
      '--dose', '1e5', '--nepochs', '1', '--n-groups', '16', '--batch-size', '4', '--n-filters-scale', '0.25', '--backend', 'wasm', '--jobs', '2'],
    { cwd: tmp, encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    const cli = JSON.parse(readFileSync(join(tmp, String(app.artifact_root), 'training_manifest.json'), 'utf8')) as Record<string, unknown>;
    // the app records the backend with its adapter, threads and reason; the CLI its name
    expect((app.backend as { name: string }).name).toBe(cli.backend);
    expect((app.jobs as unknown[]).length).toBe(3);
    // Training is the same to the bit (losses, histories); the scores, computed in float64 in the
    // page's V8 and in Node's, may differ in their last digit or two.
    expect(manifestDifferences({ ...app, backend: null }, { ...cli, backend: null }, { relTol: 1e-12 })).toEqual([]);
    const losses = (m: Record<string, unknown>) => (m.jobs as { result: { final_loss: number; history: unknown } }[]).map((j) => [j.result.final_loss, j.result.history]);
    expect(losses(app)).toEqual(losses(cli));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
