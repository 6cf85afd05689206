/**
 * Offline and safe (docs/hosting.md, issue 6 part 4): during a whole demo run (load the app, simulate
 * the demo study, train a job, download the manifest and the artifacts) every request the page and
 * its workers make stays on the page's origin (or is a blob:/data: URL), and the Content-Security-
 * Policy (self, blob:, data:; no eval, only 'wasm-unsafe-eval' for WebAssembly) reports no violation,
 * with tfjs on WebGPU, on WASM (Auto's choice on this software adapter: threads in the cross-origin-
 * isolated page, the .wasm files and the thread workers' script from our origin) and on the CPU backend. Each run ends with a deliberate violation (an inline script) to show that the detectors
 * do see one.
 */
import { test, expect, chromium, type Page, type ConsoleMessage } from '@playwright/test';
import { chooseBackend, downloadBytes, downloadText, fillSettings, loadSmallDemo } from './helpers';

interface Recorder {
  requests: string[];
  consoleViolations: string[];
  workerUrls: string[];
}

/** Record every request (page and workers), CSP console messages, and securitypolicyviolation events. */
async function record(page: Page): Promise<Recorder> {
  const rec: Recorder = { requests: [], consoleViolations: [], workerUrls: [] };
  const onConsole = (m: ConsoleMessage) => {
    const t = m.text();
    if (/Content Security Policy|Content-Security-Policy|securitypolicyviolation|Refused to/i.test(t)) rec.consoleViolations.push(t);
  };
  page.context().on('request', (r) => rec.requests.push(r.url()));
  page.on('console', onConsole);
  page.on('worker', (w) => {
    rec.workerUrls.push(w.url());
    w.on('console', onConsole);
  });
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      w.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || '(inline/eval)'} in ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  return rec;
}

const pageViolations = (page: Page) => page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);

/** A demo job trained on `backend`: 'auto' leaves the Backend select on Auto and expects WASM. */
async function demoRun(page: Page, backend: 'webgpu' | 'auto' | 'cpu'): Promise<void> {
  await loadSmallDemo(page);
  expect(await page.evaluate(() => crossOriginIsolated), 'the page is cross-origin isolated').toBe(true);
  await chooseBackend(page, backend);
  await page.getByLabel('Dose').selectOption('1000');
  await page.getByLabel('View').selectOption('baseline');
  await expect(page.getByRole('status')).toContainText('1 of 9 jobs selected');
  await fillSettings(page, { epochs: 1, groups: 16 });
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByRole('status')).toContainText('Finished 1 job(s)', { timeout: 180_000 });
  const m = JSON.parse((await downloadText(page, () => page.getByRole('button', { name: 'Download manifest' }).click())).text);
  expect(m.backend.name).toBe(backend === 'auto' ? 'wasm' : backend);
  expect(m.jobs[0].result.status).toBe('success');
  const zip = await downloadBytes(page, () => page.getByRole('button', { name: 'Download artifacts' }).click());
  expect(zip.bytes.length).toBeGreaterThan(0);
  const demo = await downloadBytes(page, () => page.getByRole('button', { name: /demo.*zip/i }).click());
  expect(demo.bytes.length).toBeGreaterThan(0);
}

async function expectOfflineAndClean(page: Page, rec: Recorder, baseURL: string): Promise<void> {
  const origin = new URL(baseURL).origin;
  const off = rec.requests.filter((u) => {
    const url = new URL(u);
    return url.protocol !== 'blob:' && url.protocol !== 'data:' && url.origin !== origin;
  });
  expect(off, 'requests that left the origin').toEqual([]);
  // The recorder saw the app's own requests, worker scripts included (it is not blind).
  expect(rec.requests.some((u) => new URL(u).pathname === '/')).toBe(true);
  expect(rec.requests.filter((u) => /worker/i.test(u)).length, `worker scripts among ${rec.requests.length} requests`).toBeGreaterThan(0);
  expect(rec.workerUrls.length).toBeGreaterThan(0);

  expect(await pageViolations(page), 'securitypolicyviolation events').toEqual([]);
  expect(rec.consoleViolations, 'CSP messages in the console').toEqual([]);

  // The detectors do see a violation: an inline script is refused by script-src 'self'. (The page
  // inserts it; Playwright's own evaluate is exempt from the CSP, so eval cannot serve here.)
  const inlineRan = await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__inlineRan = true;';
    document.head.append(s);
    return (window as unknown as { __inlineRan?: boolean }).__inlineRan === true;
  });
  expect(inlineRan, 'an inline script is blocked by the CSP').toBe(false);
  // One event per policy that refuses it (the meta tag and, from `vite preview`, the header).
  await expect.poll(async () => (await pageViolations(page)).length).toBeGreaterThan(0);
  for (const v of await pageViolations(page)) expect(v).toMatch(/^script-src(-elem)? blocked inline/);
  await expect.poll(() => rec.consoleViolations.length, 'the console detector sees the refusal too').toBeGreaterThan(0);
}

test('on WebGPU: a demo run makes no request off the origin and no CSP violation', async ({ page, baseURL }) => {
  const rec = await record(page);
  await demoRun(page, 'webgpu');
  await expectOfflineAndClean(page, rec, baseURL!);
});

test('on WASM (Auto, threads): a demo run makes no request off the origin and no CSP violation', async ({ page, baseURL }) => {
  const rec = await record(page);
  await demoRun(page, 'auto');
  await expectOfflineAndClean(page, rec, baseURL!);
  // The threaded build ran: its .wasm and its thread workers' script came from our origin.
  const paths = rec.requests.map((u) => new URL(u)).filter((u) => u.protocol.startsWith('http')).map((u) => u.pathname);
  expect(paths.some((p) => /tfjs-backend-wasm-threaded-simd-.*\.wasm$/.test(p)), paths.join(' ')).toBe(true);
  expect(paths.some((p) => /tfjs-backend-wasm-threaded-simd-.*\.js$/.test(p)), paths.join(' ')).toBe(true);
});

test('on the CPU backend: a demo run makes no request off the origin and no CSP violation', async ({ baseURL }) => {
  // A browser without a WebGPU adapter, the CPU backend picked in the Backend select.
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
      '--no-sandbox', '--disable-gpu', '--disable-features=WebGPU,Vulkan'],
  });
  try {
    const context = await browser.newContext({ baseURL, acceptDownloads: true });
    const page = await context.newPage();
    const rec = await record(page);
    await demoRun(page, 'cpu');
    await expectOfflineAndClean(page, rec, baseURL!);
  } finally {
    await browser.close();
  }
});
