/**
 * `npm run bench:demo-study -- [options]`: the newcomer's path, timed. Builds nothing itself (the npm
 * script runs `vite build` first), serves `dist/` with `vite preview`, opens the app in headless
 * Chromium (Debian's /usr/bin/chromium, WebGPU enabled, so Auto picks the backend as it would for a
 * user), clicks **Load demo study** and **Start training** with nothing changed, waits for every job,
 * downloads the artifacts and prints one row per job, then, as its last line,
 *
 *   demo study: <minutes> min, dense top-dose SSIM <x>, baseline top-dose SSIM <y>
 *
 * where the SSIMs are the top dose's amplitude SSIM on the dose's common region (`result.metrics.common`,
 * docs/decisions/2026-12-06-demo-study.md). Minutes are wall time from the click on Start training to
 * "Finished".
 *
 *   --size small|standard   demo size (default: the app's default)
 *   --epochs E --groups G --batch B --filter-scale F   change the preset's values in the page first
 *                           (a reduced budget for a quick check; the default changes nothing)
 *   --out DIR               where the artifacts zip, the JSON and the top dose's comparison pictures go
 *                           (default bench/results/demo-study-<timestamp>/)
 *   --timeout-min M         give up after M minutes of training (default 120)
 *   --jobs K|compare        jobs at once (the page's "Jobs at once"; default: the app's, the cores);
 *                           `compare` trains the study at k = 1 and then k = 2 in one run, prints
 *                           both times and their ratio, and whether the two manifests are equal apart
 *                           from timings (the table and last line are then the k = 2 run's)
 *   --screenshots DIR       also photograph the path into DIR (`npm run screenshots` writes
 *                           docs/screenshots/ this way): 1-empty, 2-loaded, 3-running, 4-finished,
 *                           5-study-results, 6-comparison (the top dose's dense job)
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { unzipSync, strFromU8 } from 'fflate';
import { manifestDifferences } from '../src/lib/report/manifest-compare';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PORT = 4177;

const argv = process.argv.slice(2);
const flags = new Map<string, string>();
for (let i = 0; i < argv.length; i += 2) {
  if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new Error(`expected --flag value pairs, got '${argv[i]}'`);
  flags.set(argv[i].slice(2), argv[i + 1]);
}
const known = ['size', 'epochs', 'groups', 'batch', 'filter-scale', 'out', 'timeout-min', 'screenshots', 'jobs'];
for (const k of flags.keys()) if (!known.includes(k)) throw new Error(`unknown flag --${k} (known: ${known.map((f) => '--' + f).join(' ')})`);
const size = flags.get('size');
if (size !== undefined && size !== 'small' && size !== 'standard') throw new Error(`--size is small or standard, got ${size}`);
const timeoutMin = Number(flags.get('timeout-min') ?? 120);
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const outDir = flags.get('out') ?? path.join(ROOT, 'bench/results', `demo-study-${stamp}`);
fs.mkdirSync(outDir, { recursive: true });

if (!fs.existsSync(path.join(ROOT, 'dist/index.html'))) throw new Error('dist/ is missing: run `npm run bench:demo-study` (it builds first) or `npx vite build`');

const server = spawn('npx', ['vite', 'preview', '--host', '127.0.0.1', '--port', String(PORT), '--strictPort'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
const stopServer = () => {
  try {
    process.kill(-server.pid!, 'SIGTERM');
  } catch {
    /* already gone */
  }
};
process.on('exit', stopServer);
const base = `http://127.0.0.1:${PORT}`;
for (let i = 0; ; i++) {
  try {
    if ((await fetch(base)).ok) break;
  } catch {
    /* not up yet */
  }
  if (i > 120) throw new Error(`vite preview did not answer on ${base}`);
  await new Promise((r) => setTimeout(r, 500));
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--no-sandbox'],
});
const jobsFlag = flags.get('jobs');
if (jobsFlag !== undefined && jobsFlag !== 'compare' && !/^[1-9]\d*$/.test(jobsFlag)) throw new Error(`--jobs is a whole number or compare, got ${jobsFlag}`);

interface Run { minutes: number; zipPath: string; estimate: string | null; backendLine: string | null; preset: string }

/** The newcomer's path once, in a fresh browser context (an empty IndexedDB), at `jobs` at once. */
async function trainOnce(jobs: string | undefined, shots: string | undefined, zipName: string): Promise<Run> {
  if (shots) fs.mkdirSync(shots, { recursive: true });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const shot = async (name: string) => {
    if (shots) await page.screenshot({ path: path.join(shots, name), fullPage: true });
  };
  await page.goto(base);
  await page.getByTestId('adapter').waitFor({ timeout: 60_000 });
  await shot('1-empty.png');
  if (size) await page.getByLabel('Demo size').selectOption(size);
  await page.getByRole('button', { name: 'Load demo study' }).click();
  await page.getByTestId('job-table').locator('tbody tr[data-job]').nth(8).waitFor({ timeout: 120_000 });
  const fills: [string, string][] = [['epochs', 'Epochs'], ['groups', 'Groups'], ['batch', 'Batch size'], ['filter-scale', 'Filter scale']];
  for (const [flag, label] of fills) {
    const v = flags.get(flag);
    if (v !== undefined) await page.getByLabel(label, { exact: true }).fill(v);
  }
  if (jobs !== undefined) await page.getByTestId('jobs-select').selectOption({ label: jobs });
  const preset = await page.getByLabel('Preset').inputValue().catch(() => '?');
  await page.getByTestId('estimate').filter({ hasText: /^Estimated time/ }).waitFor({ timeout: 180_000 }).catch(() => undefined);
  await shot('2-loaded.png');
  const estimate = (await page.getByTestId('estimate').textContent({ timeout: 60_000 }).catch(() => null))?.trim() ?? null;
  console.log(`bench:demo-study  preset ${preset}${[...flags].filter(([k]) => fills.some(([f]) => f === k)).map(([k, v]) => `, --${k} ${v}`).join('')}` +
    `, jobs at once: ${await page.getByTestId('jobs-select').locator('option:checked').textContent()}`);
  if (estimate) console.log(`the page's estimate before start: ${estimate}`);

  const t0 = performance.now();
  await page.getByRole('button', { name: 'Start training' }).click();
  const backendLine = (await page.getByTestId('backend').textContent({ timeout: 300_000 }).catch(() => null))?.trim() ?? null;
  if (backendLine) console.log(backendLine);
  const deadline = t0 + timeoutMin * 60_000;
  let lastStatus = '';
  let runningShot = !shots;
  for (;;) {
    // the running picture: a minute in, once a live preview is on the page
    if (!runningShot && (await page.getByRole('img', { name: /^Amplitude/ }).count()) > 0 && performance.now() - t0 > 60_000) {
      await shot('3-running.png');
      runningShot = true;
    }
    const status = (await page.getByTestId('status').textContent())?.trim() ?? '';
    if (status !== lastStatus) {
      console.log(`  [${((performance.now() - t0) / 60_000).toFixed(1)} min] ${status}`);
      lastStatus = status;
    }
    if (/^Finished \d+ job|Training stopped/.test(status)) break;
    if (performance.now() > deadline) throw new Error(`the study did not finish in ${timeoutMin} min (status: ${status})`);
    await new Promise((r) => setTimeout(r, 5000));
  }
  const minutes = (performance.now() - t0) / 60_000;
  await shot('4-finished.png');
  if (shots) {
    const results = page.getByTestId('study-results');
    await results.getByTestId('study-table').waitFor({ timeout: 60_000 });
    await results.screenshot({ path: path.join(shots, '5-study-results.png') });
  }

  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download artifacts' }).click()]);
  const zipPath = path.join(outDir, zipName);
  await dl.saveAs(zipPath);
  if (shots) {
    const cells = page.getByTestId('study-results').locator('td[data-cell$="/dense"]');
    const n = await cells.count();
    if (n > 0) {
      await cells.nth(n - 1).getByRole('button').click();
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('img').first().waitFor({ timeout: 60_000 });
      await dialog.screenshot({ path: path.join(shots, '6-comparison.png') });
    }
  }
  await context.close();
  return { minutes, zipPath, estimate, backendLine, preset };
}

const loadManifest = (zipPath: string) => JSON.parse(strFromU8(unzipSync(new Uint8Array(fs.readFileSync(zipPath)))['training_manifest.json'])) as Record<string, unknown>;
let run: Run;
let compared: { k1: Run; k2: Run; equal: boolean; diffs: string[] } | null = null;
if (jobsFlag === 'compare') {
  const k1 = await trainOnce('1', undefined, 'ptychopinn-artifacts-k1.zip');
  const k2 = await trainOnce('2', flags.get('screenshots'), 'ptychopinn-artifacts.zip');
  const [m1, m2] = [loadManifest(k1.zipPath), loadManifest(k2.zipPath)];
  // the backend record says how many WASM threads trained: side by side each job worker has one
  const strip = (m: Record<string, unknown>) => ({ ...m, backend: { ...(m.backend as object), threads: null, reason: null } });
  const diffs = manifestDifferences(strip(m1), strip(m2), { max: 12 });
  compared = { k1, k2, equal: diffs.length === 0, diffs };
  run = k2;
} else {
  run = await trainOnce(jobsFlag, flags.get('screenshots'), 'ptychopinn-artifacts.zip');
}
await browser.close();
stopServer();
const { minutes, zipPath, estimate, backendLine, preset } = run;

const files = unzipSync(new Uint8Array(fs.readFileSync(zipPath)));
const manifest = JSON.parse(strFromU8(files['training_manifest.json'])) as { backend?: unknown; jobs: Job[] };
interface Score { ssim: number | null; ms_ssim: number | null; frc50: number | null }
interface ScoreSet { amplitude: Score; phase: Score | null; coverage?: number; phase_note?: string }
interface Job {
  dose: number;
  view: string;
  gridsize: number;
  artifact_dir: string;
  result: { status: string; epochs_completed?: number; training_seconds?: number; duration_seconds?: number; error?: string; metrics?: { common?: ScoreSet | null; reference?: ScoreSet | null; coverage?: number } };
}
const f = (v: number | null | undefined, d = 3) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d));
const rows = manifest.jobs.map((j) => {
  const m = j.result.metrics;
  const c = m?.common ?? null;
  const secs = j.result.duration_seconds ?? j.result.training_seconds ?? null;
  return {
    dose: j.dose, view: j.view, gridsize: j.gridsize, status: j.result.status, epochs: j.result.epochs_completed ?? null, seconds: secs,
    common_amp_ssim: c?.amplitude.ssim ?? null, common_amp_ms_ssim: c?.amplitude.ms_ssim ?? null, common_phase_ssim: c?.phase?.ssim ?? null,
    common_coverage: c?.coverage ?? null, phase_note: c?.phase_note ?? null, own_region_amp_ssim: m?.reference?.amplitude.ssim ?? null, own_coverage: m?.coverage ?? null,
    artifact_dir: j.artifact_dir, error: j.result.error ?? null,
  };
});
console.log('\n dose    view      gs  status   epochs  train s | common: amp SSIM  MS-SSIM  phase SSIM  coverage | own region: amp SSIM  coverage');
for (const r of rows) {
  console.log(
    `${String(r.dose).padStart(6)}  ${r.view.padEnd(8)}  ${r.gridsize}   ${r.status.padEnd(7)}  ${String(r.epochs ?? '-').padStart(6)}  ${f(r.seconds, 0).padStart(7)} | ` +
      `${f(r.common_amp_ssim).padStart(16)}  ${f(r.common_amp_ms_ssim).padStart(7)}  ${f(r.common_phase_ssim).padStart(10)}  ${(r.common_coverage === null ? '-' : (100 * r.common_coverage).toFixed(0) + ' %').padStart(8)} | ` +
      `${f(r.own_region_amp_ssim).padStart(19)}  ${(r.own_coverage === null ? '-' : (100 * r.own_coverage).toFixed(0) + ' %').padStart(8)}${r.error ? `  (${r.error})` : ''}`,
  );
}
// the top dose's comparison pictures, for looking at
const top = Math.max(...manifest.jobs.map((j) => j.dose));
for (const j of manifest.jobs.filter((x) => x.dose === top)) {
  const png = files[`${j.artifact_dir}/comparison.png`]; // the zip holds the artifacts at their manifest paths
  if (png) fs.writeFileSync(path.join(outDir, `comparison-dose${top}-${j.view}.png`), png);
}
const pick = (view: string) => rows.find((r) => r.dose === top && r.view === view)?.common_amp_ssim ?? null;
const sideBySide = compared && {
  k1_minutes: compared.k1.minutes, k2_minutes: compared.k2.minutes, ratio: compared.k1.minutes / compared.k2.minutes,
  manifests_equal_apart_from_timings: compared.equal, differences: compared.diffs,
};
const summary = { bench: 'demo-study', date: new Date().toISOString(), preset, flags: Object.fromEntries(flags), estimate, backend: manifest.backend ?? backendLine, minutes, rows, side_by_side: sideBySide };
fs.writeFileSync(path.join(outDir, 'demo-study.json'), JSON.stringify(summary, null, 2));
console.log(`\nwrote ${path.relative(ROOT, outDir)}/ (artifacts zip, demo-study.json, the top dose's comparison pictures)`);
if (sideBySide) {
  console.log(`jobs side by side: k = 1 ${sideBySide.k1_minutes.toFixed(1)} min, k = 2 ${sideBySide.k2_minutes.toFixed(1)} min, ` +
    `ratio ${sideBySide.ratio.toFixed(2)}x; manifests equal apart from timings: ${sideBySide.manifests_equal_apart_from_timings ? 'yes' : 'NO'}`);
  for (const d of sideBySide.differences) console.log(`  differs: ${d}`);
}
console.log(`demo study: ${minutes.toFixed(1)} min, dense top-dose SSIM ${f(pick('dense'))}, baseline top-dose SSIM ${f(pick('baseline'))}`);
process.exit(0);
