import { expect, type Download, type Page } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import type { FaultPlan } from '../../src/workers/train-protocol';

export async function downloadText(page: Page, click: () => Promise<void>): Promise<{ name: string; text: string; path: string }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), click()]);
  const path = await saved(dl);
  return { name: dl.suggestedFilename(), text: await readFile(path, 'utf8'), path };
}

export async function downloadBytes(page: Page, click: () => Promise<void>): Promise<{ name: string; bytes: Uint8Array; path: string }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), click()]);
  const path = await saved(dl);
  return { name: dl.suggestedFilename(), bytes: new Uint8Array(await readFile(path)), path };
}

async function saved(dl: Download): Promise<string> {
  const p = await dl.path();
  expect(p, 'the download was saved').toBeTruthy();
  return p!;
}

export const hasNumpy = existsSync('/usr/bin/python3') &&
  spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

/** Run a short python snippet with /usr/bin/python3 and return stdout (throws on failure). */
export function python(code: string, args: string[] = []): string {
  const r = spawnSync('/usr/bin/python3', ['-c', code, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout;
}

/** The app's URL with faults injected through its test hook (`?faults=<JSON>`, parseFaults). */
export const faultsUrl = (faults: FaultPlan): string => `/?faults=${encodeURIComponent(JSON.stringify(faults))}`;

/** Open the app (at `url`, e.g. faultsUrl(...)) and load the small demo study: 9 jobs. */
export async function loadSmallDemo(page: Page, url = '/'): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Demo size').selectOption('small');
  await page.getByRole('button', { name: 'Load demo study' }).click();
  await expect(page.getByTestId('job-table').locator('tbody tr[data-job]')).toHaveCount(9, { timeout: 60_000 });
}

/**
 * Fill the training settings. Small values let SwiftShader (about 0.3 GFLOP/s here) train a job in
 * tens of seconds: few epochs and groups, batch 8, a quarter-width network (filter scale 0.25 gives
 * 1/64 of the default's FLOPs). `filterScale: null` leaves that field as the preset set it.
 */
export async function fillSettings(page: Page, s: { epochs: number; groups: number; batch?: number; filterScale?: number | null }): Promise<void> {
  await page.getByLabel('Epochs').fill(String(s.epochs));
  await page.getByLabel('Groups').fill(String(s.groups));
  await page.getByLabel('Batch size').fill(String(s.batch ?? 8));
  if (s.filterScale !== null) await page.getByLabel('Filter scale').fill(String(s.filterScale ?? 0.25));
}

/** Pick the training backend in the Backend select ('auto' is the measured choice). */
export async function chooseBackend(page: Page, backend: 'auto' | 'webgpu' | 'wasm' | 'cpu'): Promise<void> {
  await page.getByLabel('Backend').selectOption(backend);
}
