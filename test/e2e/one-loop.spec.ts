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
import { chooseBackend, downloadText, fillSettings, loadSmallDemo } from './helpers';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Timings, and the bundle's hash and size (model.json records tfjs' dateSaved). */
const TIMING_KEYS = new Set(['timestamp', 'started_at', 'finished_at', 'duration_seconds', 'samples_per_second', 'seconds',
  'training_seconds', 'bundle_sha256', 'bundle_size_bytes']);
function withoutTimings(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutTimings);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => !TIMING_KEYS.has(k)).map(([k, x]) => [k, withoutTimings(x)]));
}

/** Paths where two JSON values differ; numbers within a relative 1e-12 count as equal. */
function differences(a: unknown, b: unknown, at = '', out: string[] = []): string[] {
  if (typeof a === 'number' && typeof b === 'number') {
    if (!(a === b || Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b)))) out.push(`${at}: ${a} vs ${b}`);
  } else if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    if (Array.isArray(a) !== Array.isArray(b)) out.push(`${at}: array vs object`);
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}/${k}`, out);
  } else if (a !== b) out.push(`${at}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  return out;
}

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
    expect(differences(withoutTimings({ ...app, backend: null }), withoutTimings({ ...cli, backend: null }))).toEqual([]);
    const losses = (m: Record<string, unknown>) => (m.jobs as { result: { final_loss: number; history: unknown } }[]).map((j) => [j.result.final_loss, j.result.history]);
    expect(losses(app)).toEqual(losses(cli));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
