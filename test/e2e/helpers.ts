import { expect, type Download, type Page } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

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
