/**
 * Issue 6: "Datasets that break each validation rule appear in the app as clear per-file errors while
 * the other jobs still run."
 *
 * At test time three study trees are composed in a temp folder by copying the numpy-written contract
 * fixtures (test/fixtures/contract/*.npz, one broken rule each; see test/lib/contract/rules.test.ts)
 * into the study's file slots, then each tree is chosen with the folder picker. For every file the
 * per-file report must show exactly the errors and warnings the data contract gives that file
 * (loadDataset, run here in the test process on the same bytes, with the file's relative path and
 * its job's gridsize), each naming the file, the key and the problem; clean files show as valid. Every
 * error rule of the contract catalogue is triggered by at least one file; every warning rule too.
 *
 * Tree A also holds one valid job (the 32x32 n32 pair, baseline at dose 1000): it trains for real with
 * tiny settings and completes with results, while the eight jobs with broken files are recorded as
 * blocked with their files' errors, in the page and in training_manifest.json. Trees B and C are
 * planned and checked only.
 */
import { test, expect, type Page } from '@playwright/test';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isIngestError, openNpz } from '../../src/lib/ingest';
import { e as errorRules, w as warningRules, loadDataset, type DatasetReport } from '../../src/lib/contract';
import { unzipSync } from 'fflate';
import { downloadBytes, downloadText, fillSettings } from './helpers';

const CONTRACT = 'test/fixtures/contract';
const N32 = 'test/fixtures/study/trees/n32/phase_c/dose_1000';
const DOSES = [1000, 10000, 100000] as const;
const VIEWS = ['baseline', 'dense', 'sparse'] as const;
type View = (typeof VIEWS)[number];

/**
 * Each catalogue function and the code its issues carry. A rule added to the catalogue (issues.ts)
 * without a fixture and a place in these trees fails the coverage test below.
 */
const ERROR_CODES: Record<keyof typeof errorRules, string> = {
  missing_key: 'missing_key', unreadable: 'unreadable_member', alias_mismatch: 'alias_mismatch',
  alias_values_differ: 'alias_values_differ', diffraction_dtype: 'diffraction_dtype', diffraction_rank: 'diffraction_rank',
  no_patterns: 'no_patterns', not_square: 'not_square', patch_size: 'patch_size', coord_dtype: 'coord_dtype',
  coord_rank: 'coord_rank', coord_length: 'coord_length', probe_dtype: 'probe_dtype', probe_shape: 'probe_shape',
  object_dtype: 'object_dtype', object_rank: 'object_rank', too_few_positions: 'too_few_positions',
  non_finite: 'non_finite', negative_amplitude: 'negative_amplitude', zero_diffraction: 'zero_diffraction',
};
const WARNING_CODES: Record<keyof typeof warningRules, string> = {
  legacy_key: 'legacy_key', squeezed_axis: 'squeezed_axis', legacy_layout: 'legacy_layout',
  intensity_converted: 'intensity_converted', small_patch_size: 'small_patch_size', amplitude_max: 'amplitude_max',
  amplitude_ratio: 'amplitude_ratio', metadata_unreadable: 'metadata_unreadable', metadata_not_json: 'metadata_not_json',
};

/**
 * What goes into one slot: a contract fixture (by name), an n32 study file, or a fixture cut in half
 * (not an NPZ any more). `errors` / `warnings` are what the contract says about it at the slot's
 * gridsize, as 'code:key' (test/lib/contract/rules.test.ts); the spec checks the library agrees.
 */
interface Source { from: string; errors: string[]; warnings: string[]; truncate?: boolean }
const F = (from: string, errors: string[] = [], warnings: string[] = []): Source => ({ from, errors, warnings });
const n32 = (split: 'train' | 'test'): Source => F(`${N32}/patched_${split}.npz`, [], ['small_patch_size:diffraction']);
const cutShort = (fixture: string): Source => ({ ...F(fixture, ['unreadable:']), truncate: true });

type Pair = [train: Source, test: Source];
type TreeSpec = Record<number, Partial<Record<View, Pair>>>;

interface Slot { path: string; dose: number; view: View; split: 'train' | 'test'; gridsize: 1 | 2; src: Source }

function slotPath(dose: number, view: View, split: 'train' | 'test'): string {
  return view === 'baseline' ? `phase_c/dose_${dose}/patched_${split}.npz` : `phase_d/dose_${dose}/${view}/${view}_${split}.npz`;
}

/** The slots in the order the app validates them: dose-major, then baseline, dense, sparse, then train, test. */
function slotsOf(name: string, spec: TreeSpec): Slot[] {
  const out: Slot[] = [];
  for (const dose of DOSES) {
    for (const view of VIEWS) {
      const pair = spec[dose]?.[view];
      if (!pair) continue;
      pair.forEach((src, i) => {
        const split = i === 0 ? 'train' : 'test';
        out.push({ path: `${name}/${slotPath(dose, view, split)}`, dose, view, split, gridsize: view === 'baseline' ? 1 : 2, src });
      });
    }
  }
  return out;
}

// Tree A: the one valid job (n32, baseline at dose 1000) and 16 broken files.
const TREE_A: TreeSpec = {
  1000: {
    baseline: [n32('train'), n32('test')],
    dense: [F('missing_probe.npz', ['missing_key:probeGuess']), F('missing_diffraction.npz', ['missing_key:diffraction'])],
    sparse: [F('missing_ycoords.npz', ['missing_key:ycoords']), F('missing_object.npz', ['missing_key:objectGuess'])],
  },
  10000: {
    baseline: [F('alias_shape_mismatch.npz', ['alias_mismatch:diff3d']), F('alias_value_mismatch.npz', ['alias_values_differ:diff3d'])],
    // gridsize 2 needs a seed plus 4 neighbours: 4 positions are too few here (and fine for a baseline, tree C).
    dense: [F('four_positions.npz', ['too_few_positions:diffraction']), F('rank2_diffraction.npz', ['diffraction_rank:diffraction'])],
    sparse: [F('non_square.npz', ['not_square:diffraction']), F('int32_diffraction.npz', ['diffraction_dtype:diffraction'])],
  },
  100000: {
    baseline: [F('coord_length.npz', ['coord_length:xcoords']), F('start_coord_length.npz', ['coord_length:xcoords_start'])],
    dense: [F('coord_rank.npz', ['coord_rank:xcoords']), F('complex_coords.npz', ['coord_dtype:ycoords'])],
    sparse: [F('real_probe.npz', ['probe_dtype:probeGuess']), F('probe_size.npz', ['probe_shape:probeGuess'])],
  },
};

// Tree B: 14 more broken files (the value checks among them), a file cut short, and valid files.
const TREE_B: TreeSpec = {
  1000: {
    baseline: [F('real_object.npz', ['object_dtype:objectGuess']), F('object_rank3.npz', ['object_rank:objectGuess'])],
    dense: [F('nan_diffraction.npz', ['non_finite:diffraction']), F('negative_amplitude.npz', ['negative_amplitude:diffraction'])],
    sparse: [F('zero_diffraction.npz', ['zero_diffraction:diffraction']), F('nan_coords.npz', ['non_finite:xcoords'])],
  },
  10000: {
    baseline: [F('nan_probe.npz', ['non_finite:probeGuess']), F('no_patterns.npz', ['no_patterns:diffraction'])],
    dense: [F('odd_n15.npz', ['patch_size:diffraction']), F('tiny_n8.npz', ['patch_size:diffraction'])],
    // n96 also has only 4 positions: at gridsize 2 it breaks two rules.
    sparse: [F('n96.npz', ['patch_size:diffraction', 'too_few_positions:diffraction']),
      F('corrupt_probe_header.npz', ['unreadable_member:probeGuess'], ['small_patch_size:diffraction'])],
  },
  100000: {
    baseline: [F('corrupt_diffraction_data.npz', ['unreadable_member:diffraction'], ['small_patch_size:diffraction']),
      F('legacy_hwn_nan_alias.npz', ['alias_values_differ:diff3d', 'non_finite:diffraction'], ['legacy_layout:diffraction'])],
    dense: [F('valid_n64.npz'), cutShort('valid_n64.npz')], // a valid train file, its test file blocks the job
    sparse: [F('phase_d_dense_train.npz'), F('both_keys_agree.npz')],
  },
};

// Tree C: files that train with warnings, clean ones, and no sparse view at dose 1e5 (a skipped view).
const TREE_C: TreeSpec = {
  1000: {
    baseline: [F('four_positions.npz'), F('phase_c_patched_train.npz')],
    dense: [F('legacy_diff3d_only.npz', [], ['legacy_key:diff3d']), F('legacy_hwn.npz', [], ['legacy_layout:diffraction'])],
    sparse: [F('legacy_hwn_uint16.npz', [], ['legacy_key:diff3d', 'legacy_layout:diff3d', 'intensity_converted:diff3d']),
      F('trailing_singleton.npz', [], ['squeezed_axis:diffraction'])],
  },
  10000: {
    baseline: [F('uint16_intensity.npz', [], ['legacy_key:diff3d', 'intensity_converted:diff3d']),
      F('small_n16.npz', [], ['small_patch_size:diffraction'])],
    dense: [F('bad_pickle_metadata.npz', [], ['metadata_unreadable:_metadata']), F('metadata_not_json.npz', [], ['metadata_not_json:_metadata'])],
    sparse: [F('huge_amplitude.npz', [], ['amplitude_max:diffraction']), F('spiky_amplitude.npz', [], ['amplitude_ratio:diffraction'])],
  },
  100000: {
    baseline: [F('corrupt_metadata_header.npz', [], ['small_patch_size:diffraction', 'metadata_unreadable:_metadata']),
      F('float64_complex128.npz')],
    dense: [F('float16_diffraction.npz'), F('valid_n64.npz')],
  },
};

const TREES = { 'study-a': TREE_A, 'study-b': TREE_B, 'study-c': TREE_C };
type TreeName = keyof typeof TREES;

let root = '';

/** What the page shows for one file. */
interface Row { file: string; status: string; N: string; positions: string; errors: string[]; warnings: string[] }

function sourcePath(src: Source): string {
  return src.from.includes('/') ? src.from : join(CONTRACT, src.from);
}

const sig = (issues: { code: string; key: string }[]) => issues.map((i) => `${i.code}:${i.key}`).sort();

/** The report the data contract gives this slot's bytes, under the path the page knows the file by. */
async function contractReport(slot: Slot): Promise<DatasetReport> {
  const bytes = await readFile(join(root, slot.path));
  let archive;
  try {
    archive = await openNpz(new Blob([bytes]), slot.path);
  } catch (err) {
    // Not an NPZ at all: the plan reports the file as unreadable (src/lib/study/plan.ts), saying why.
    if (!isIngestError(err)) throw err;
    return {
      file: slot.path, ok: false, keys: [], warnings: [],
      errors: [{
        severity: 'error', code: 'unreadable', file: slot.path, key: '', found: err.detail, expected: 'a readable NPZ file',
        message: `${slot.path}: could not be read as an NPZ file (${err.detail}).`,
      }],
    };
  }
  return (await loadDataset(archive, { file: slot.path, gridsize: slot.gridsize })).report;
}

async function expectedRows(name: TreeName): Promise<{ slots: Slot[]; reports: DatasetReport[]; rows: Row[] }> {
  const slots = slotsOf(name, TREES[name]);
  const reports: DatasetReport[] = [];
  const rows: Row[] = [];
  for (const slot of slots) {
    const r = await contractReport(slot);
    // The rules each file is here for (rules.test.ts) are the ones the contract finds in it.
    expect(sig(r.errors), `errors of ${slot.path} (${slot.src.from})`).toEqual([...slot.src.errors].sort());
    expect(sig(r.warnings), `warnings of ${slot.path} (${slot.src.from})`).toEqual([...slot.src.warnings].sort());
    for (const i of [...r.errors, ...r.warnings]) {
      // Each message names the file, the key, what was found and what was expected.
      expect(i.message).toContain(slot.path);
      if (i.key) expect(i.message).toContain(`'${i.key}'`);
      expect(i.message).toContain(i.found);
      if (i.code !== 'unreadable') expect(i.message).toContain(i.expected);
    }
    reports.push(r);
    rows.push({
      file: slot.path, status: r.ok ? 'valid' : 'invalid', N: String(r.N ?? '–'), positions: String(r.nPositions ?? '–'),
      errors: r.errors.map((i) => i.message), warnings: r.warnings.map((i) => i.message),
    });
  }
  return { slots, reports, rows };
}

async function shownRows(page: Page): Promise<Row[]> {
  return page.getByTestId('validation').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => {
    const td = [...tr.querySelectorAll(':scope > td')];
    const text = (el: Element) => (el.textContent ?? '').trim();
    return {
      file: text(td[0]), status: text(td[1]), N: text(td[2]), positions: text(td[3]),
      errors: [...td[4].querySelectorAll('.err')].map(text),
      warnings: [...td[4].querySelectorAll('.warn')].map(text),
    };
  }));
}

/** Choose the tree with the folder picker and wait for the plan; checks the report row by row. */
async function dropAndCheckReport(page: Page, name: TreeName): Promise<{ slots: Slot[]; reports: DatasetReport[] }> {
  const { slots, reports, rows } = await expectedRows(name);
  await page.getByLabel('Dataset folder').setInputFiles(join(root, name));
  const invalid = rows.filter((r) => r.status === 'invalid').length;
  await expect(page.getByRole('status')).toContainText(`${slots.length / 2} jobs enumerated`, { timeout: 60_000 });
  await expect(page.getByTestId('roots')).toContainText(`${name}/phase_c`);
  await expect(page.getByTestId('roots')).toContainText(`${name}/phase_d`);
  if (invalid) await expect(page.getByRole('status')).toContainText(`${invalid} file(s) failed validation`);
  await expect(page.getByText('Validation report:')).toContainText(`${rows.length - invalid} of ${rows.length} files valid`);

  const shown = await shownRows(page);
  expect(shown.map((r) => r.file)).toEqual(rows.map((r) => r.file));
  for (let i = 0; i < rows.length; i++) expect(shown[i], `the report row of ${rows[i].file}`).toEqual(rows[i]);
  return { slots, reports };
}

/** Each job's row: blocked with the first error of its files (train, then test), or ready. */
async function checkJobTable(page: Page, slots: Slot[], reports: DatasetReport[], skippedViews: number): Promise<Map<string, string[]>> {
  const reasons = new Map<string, string[]>();
  for (let i = 0; i < slots.length; i += 2) {
    const key = `dose_${slots[i].dose}/${slots[i].view}/gs${slots[i].gridsize}`;
    reasons.set(key, [...reports[i].errors, ...reports[i + 1].errors].map((e) => e.message));
  }
  const table = page.getByTestId('job-table');
  await expect(table.locator('tbody tr[data-job]')).toHaveCount(reasons.size);
  await expect(table.locator('tbody tr.skip')).toHaveCount(skippedViews);
  for (const [key, why] of reasons) {
    const cell = table.locator(`tr[data-job="${key}"] td.status`);
    if (why.length === 0) {
      await expect(cell, key).toHaveAttribute('data-status', 'pending');
      await expect(cell, key).toHaveText('ready');
    } else {
      await expect(cell, key).toHaveAttribute('data-status', 'blocked');
      await expect(cell.locator('.err'), key).toHaveText(why[0] + (why.length > 1 ? ` (+${why.length - 1} more)` : ''));
    }
  }
  return reasons;
}

test.beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'invalid-files-'));
  for (const name of Object.keys(TREES) as TreeName[]) {
    for (const slot of slotsOf(name, TREES[name])) {
      const to = join(root, slot.path);
      await mkdir(dirname(to), { recursive: true });
      if (slot.src.truncate) {
        const bytes = await readFile(sourcePath(slot.src));
        await writeFile(to, bytes.subarray(0, bytes.length >> 1));
      } else {
        await copyFile(sourcePath(slot.src), to);
      }
    }
  }
});

test.afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

test('the trees break every rule of the contract catalogue', () => {
  expect(Object.keys(errorRules).sort()).toEqual(Object.keys(ERROR_CODES).sort());
  expect(Object.keys(warningRules).sort()).toEqual(Object.keys(WARNING_CODES).sort());
  const sources = Object.entries(TREES).flatMap(([name, spec]) => slotsOf(name, spec).map((s) => s.src));
  const codes = (list: 'errors' | 'warnings') => new Set(sources.flatMap((s) => s[list].map((c) => c.split(':')[0])));
  const errors = codes('errors');
  for (const code of Object.values(ERROR_CODES)) expect(errors.has(code), `a file breaking '${code}'`).toBe(true);
  const warnings = codes('warnings');
  for (const code of Object.values(WARNING_CODES)) expect(warnings.has(code), `a file warned with '${code}'`).toBe(true);
});

test('trees B and C: every broken file shows its own errors, clean files show as valid, jobs are blocked only by their files', async ({ page }) => {
  await page.goto('/');
  const b = await dropAndCheckReport(page, 'study-b');
  await expect(page.locator('details').filter({ hasText: 'Validation report' })).toHaveAttribute('open', '');
  // For a person to look at: the per-file report of tree B.
  await page.getByTestId('validation').screenshot({ path: join(tmpdir(), 'invalid-files.png') });
  const reasonsB = await checkJobTable(page, b.slots, b.reports, 0);
  expect([...reasonsB].filter(([, why]) => why.length === 0).map(([k]) => k)).toEqual(['dose_100000/sparse/gs2']);

  const c = await dropAndCheckReport(page, 'study-c');
  const reasonsC = await checkJobTable(page, c.slots, c.reports, 1);
  expect([...reasonsC.values()].every((why) => why.length === 0)).toBe(true);
  await expect(page.getByText('Validation report:')).toContainText('16 of 16 files valid');
});

test('tree A: the valid job trains and completes with results while the jobs with broken files are blocked', async ({ page }) => {
  await page.goto('/');
  const a = await dropAndCheckReport(page, 'study-a');
  const reasons = await checkJobTable(page, a.slots, a.reports, 0);
  const runnable = [...reasons].filter(([, why]) => why.length === 0).map(([k]) => k);
  expect(runnable).toEqual(['dose_1000/baseline/gs1']);

  // Tiny settings (as app.spec.ts): one epoch, a quarter-width network; 10 positions make 2 steps.
  await fillSettings(page, { epochs: 1, groups: 20 });
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByRole('status')).toContainText('Finished 9 job(s)', { timeout: 240_000 });
  await expect(page.getByRole('img', { name: /^Amplitude/ })).toBeVisible();

  const table = page.getByTestId('job-table');
  await expect(table.locator('tr[data-job="dose_1000/baseline/gs1"] td.status')).toHaveAttribute('data-status', 'success');
  await expect(table.locator('tr[data-job="dose_1000/baseline/gs1"] td.status')).toContainText('done, loss');
  for (const [key, why] of reasons) {
    if (why.length === 0) continue;
    await expect(table.locator(`tr[data-job="${key}"] td.status`), key).toHaveAttribute('data-status', 'blocked');
  }

  const { text } = await downloadText(page, () => page.getByRole('button', { name: 'Download manifest' }).click());
  const m = JSON.parse(text);
  expect(m.dry_run).toBe(false);
  expect(m.phase_c_root).toBe('study-a/phase_c');
  expect(m.jobs).toHaveLength(9);
  const keys = [...reasons.keys()];
  for (let i = 0; i < keys.length; i++) {
    const j = m.jobs[i];
    const why = reasons.get(keys[i])!;
    expect(`dose_${j.dose}/${j.view}/gs${j.gridsize}`).toBe(keys[i]);
    if (why.length === 0) {
      expect(j.result.status).toBe('success');
      expect(Number.isFinite(j.result.final_loss)).toBe(true);
      expect(j.result.epochs_completed).toBe(1);
      expect(j.result.bundle_sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(j.train_data_path).toBe('study-a/phase_c/dose_1000/patched_train.npz');
    } else {
      expect(j.result.status, keys[i]).toBe('blocked');
      expect(j.result.errors, keys[i]).toEqual(why);
      expect(j.result.error, keys[i]).toBe(`Blocked by validation errors: ${why.join(' | ')}`);
    }
  }

  // The trained job's results are in the artifacts; the blocked jobs left none.
  const zip = await downloadBytes(page, () => page.getByRole('button', { name: 'Download artifacts' }).click());
  const names = Object.keys(unzipSync(zip.bytes));
  const dir = 'artifacts/dose_1000/baseline/gs1';
  for (const f of ['train.log', 'params.json', 'history.json', 'reconstruction.npz', 'reconstruction.png', m.jobs[0].result.bundle_path]) {
    expect(names, `${dir}/${f} in the artifacts zip`).toContain(`${dir}/${f}`);
  }
  expect(names.filter((n) => n.endsWith('reconstruction.npz'))).toEqual([`${dir}/reconstruction.npz`]);
});
