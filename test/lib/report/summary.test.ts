import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  SCORE_NAMES, SCORINGS, SCORING_ORDER, SUMMARY_CSV_COLUMNS, comparisonPath, defaultScoring, formatScore, phaseNotes, readScores,
  scoringCoverage, studySummary, studySummaryCsv, studySummaryFiles, studySummaryJson, studySummaryText, summaryCell,
  type JobMetrics, type Scores, type SummaryInput,
} from '../../../src/lib/report/summary';

/** Distinct scores per job, part and scoring, so any mix-up shows. */
function scores(seed: number, nulls: Partial<Record<keyof Scores, true>> = {}): Scores {
  const s: Scores = {
    mae: 0.01 * seed + 0.001, mse: 1e-4 * seed + 3e-6, psnr: 60 + seed / 7, ssim: 0.5 + seed / 1000,
    ms_ssim: 0.6 + seed / 1000 + 1e-7, frc50: 10 + seed / 3, frc1over7: 20 + seed / 9,
  };
  for (const k of Object.keys(nulls) as (keyof Scores)[]) s[k] = null;
  return s;
}

function metrics(seed: number, phaseNulls: Partial<Record<keyof Scores, true>> = {}): JobMetrics {
  const part = (off: number) => ({
    amplitude: scores(seed + off), phase: scores(seed + off + 1, phaseNulls),
    height: 40, width: 44, stitch_M: 20, phase_align: 'plane' as const, ms_ssim_sigma: 1 as const,
  });
  return { reference: part(0), placed: part(100), coverage: 0.9 + seed / 1000, ssim_history: [{ epoch: 1, amplitude_ssim: 0.2 }] };
}

const entry = (dose: number, view: string, result: Record<string, unknown>): SummaryInput => ({
  dose, view, gridsize: view === 'baseline' ? 1 : 2, artifact_dir: `artifacts/dose_${dose}/${view}`, result,
});

// Deliberately out of order: the summary sorts dose-major, then baseline, dense, sparse.
const jobs: SummaryInput[] = [
  entry(10000, 'sparse', { status: 'success', final_loss: 1, metrics: metrics(40) }),
  entry(1000, 'sparse', { status: 'failed', error: 'NaN loss at step 3' }),
  entry(10000, 'baseline', { status: 'success', metrics: metrics(30, { frc50: true, frc1over7: true }) }),
  entry(1000, 'dense', { status: 'success', metrics: metrics(20) }),
  entry(1000, 'baseline', { status: 'success', metrics: metrics(10) }),
  entry(100000, 'dense', { status: 'cancelled' }),
  entry(100000, 'baseline', { status: 'success' }), // trained, no scores (no ground truth)
];

describe('studySummary (study_summary.json)', () => {
  const s = studySummary(jobs);

  it('orders jobs dose-major, then baseline, dense, sparse', () => {
    expect(s.doses).toEqual([1000, 10000, 100000]);
    expect(s.views).toEqual(['baseline', 'dense', 'sparse']);
    expect(s.jobs.map((j) => `${j.dose}/${j.view}`)).toEqual([
      '1000/baseline', '1000/dense', '1000/sparse', '10000/baseline', '10000/sparse', '100000/baseline', '100000/dense',
    ]);
  });

  it('keeps each job\'s reference and placed scores, coverage and status', () => {
    const d = summaryCell(s, 1000, 'dense')!;
    expect(d.status).toBe('success');
    expect(d.gridsize).toBe(2);
    expect(d.reference).toEqual({ amplitude: scores(20), phase: scores(21) });
    expect(d.placed).toEqual({ amplitude: scores(120), phase: scores(121) });
    expect(d.coverage).toBe(0.92);
    expect(d.artifact_dir).toBe('artifacts/dose_1000/dense');
    expect(summaryCell(s, 10000, 'baseline')!.reference!.phase.frc50).toBeNull();
    expect(summaryCell(s, 10000, 'baseline')!.reference!.amplitude.frc50).toBe(scores(30).frc50);
  });

  it('failed, cancelled and unscored jobs have no scores; missing cells are null', () => {
    const f = summaryCell(s, 1000, 'sparse')!;
    expect(f).toMatchObject({ status: 'failed', error: 'NaN loss at step 3', reference: null, placed: null, coverage: null });
    expect(summaryCell(s, 100000, 'dense')).toMatchObject({ status: 'cancelled', reference: null });
    expect(summaryCell(s, 100000, 'baseline')).toMatchObject({ status: 'success', reference: null, placed: null });
    expect(summaryCell(s, 10000, 'dense')).toBeNull();
    expect(summaryCell(s, 100000, 'sparse')).toBeNull();
    expect(s.table['10000'].dense).toBeNull();
    expect(Object.keys(s.table)).toEqual(['1000', '10000', '100000']);
    expect(Object.keys(s.table['1000'])).toEqual(['baseline', 'dense', 'sparse']);
  });

  it('a failed job\'s scores are ignored even if present; a dry run is its own status', () => {
    const t = studySummary([
      entry(1000, 'dense', { status: 'failed', metrics: metrics(1) }),
      entry(1000, 'baseline', { dry_run: true, dose: 1000 }),
    ]);
    expect(t.jobs.map((j) => [j.view, j.status, j.reference])).toEqual([['baseline', 'dry-run', null], ['dense', 'failed', null]]);
  });

  it('non-finite or malformed scores become null', () => {
    expect(readScores({ ssim: NaN, ms_ssim: Infinity, mae: '0.3', psnr: 70 })).toEqual({
      mae: null, mse: null, psnr: 70, ssim: null, ms_ssim: null, frc50: null, frc1over7: null,
    });
    const t = studySummary([entry(1000, 'dense', { status: 'success', metrics: { reference: { amplitude: 1 }, coverage: 'x' } })]);
    expect(t.jobs[0]).toMatchObject({ reference: null, placed: null, coverage: null });
  });

  it('round-trips through JSON unchanged', () => {
    const text = studySummaryJson(s);
    expect(JSON.parse(text)).toEqual(s);
    expect(text.endsWith('}\n')).toBe(true);
  });

  it('an empty manifest gives an empty summary', () => {
    expect(studySummary([])).toEqual({ doses: [], views: [], jobs: [], table: {} });
    expect(studySummaryText(studySummary([]))).toContain('dose');
  });
});

describe('studySummaryCsv (study_summary.csv)', () => {
  const s = studySummary(jobs);
  const csv = studySummaryCsv(s);
  const lines = csv.trimEnd().split('\n');
  const rows = lines.slice(1).map((l) => l.split(','));

  it('is tidy: the header, then four rows per job in job order', () => {
    expect(lines[0]).toBe('dose,view,gridsize,status,which,part,mae,mse,psnr,ssim,ms_ssim,frc50,frc1over7,' +
      'coverage,region_x0,region_y0,region_x1,region_y1,region_source,note');
    expect(lines[0].split(',')).toEqual([...SUMMARY_CSV_COLUMNS]);
    expect(rows).toHaveLength(6 * jobs.length);
    expect(rows.slice(0, 4).map((r) => r.slice(0, 6))).toEqual([
      ['1000', 'baseline', '1', 'success', 'reference', 'amplitude'],
      ['1000', 'baseline', '1', 'success', 'reference', 'phase'],
      ['1000', 'baseline', '1', 'success', 'placed', 'amplitude'],
      ['1000', 'baseline', '1', 'success', 'placed', 'phase'],
    ]);
    expect(rows.every((r) => r.length === SUMMARY_CSV_COLUMNS.length)).toBe(true);
  });

  it('values round-trip exactly; nulls and unscored jobs are empty cells', () => {
    const find = (dose: string, view: string, which: string, part: string) =>
      rows.find((r) => r[0] === dose && r[1] === view && r[4] === which && r[5] === part)!;
    const back = (r: string[]) => Object.fromEntries(SCORE_NAMES.map((k, i) => [k, r[6 + i] === '' ? null : Number(r[6 + i])]));
    expect(back(find('1000', 'dense', 'placed', 'phase'))).toEqual(scores(121));
    expect(back(find('10000', 'sparse', 'reference', 'amplitude'))).toEqual(scores(40));
    const nullFrc = find('10000', 'baseline', 'reference', 'phase');
    expect(nullFrc.slice(11, 13)).toEqual(['', '']);
    expect(nullFrc.slice(13)).toEqual(['0.93', '', '', '', '', '', '']); // its own coverage; no common region
    expect(back(nullFrc)).toEqual(scores(31, { frc50: true, frc1over7: true }));
    expect(find('1000', 'sparse', 'reference', 'amplitude')).toEqual(['1000', 'sparse', '2', 'failed', 'reference', 'amplitude', ...Array(14).fill('')]);
    // results written before common-region scores existed: empty common rows
    expect(find('1000', 'dense', 'common', 'amplitude').slice(6)).toEqual(Array(14).fill(''));
  });

  it('quotes cells that need it', () => {
    const t = studySummary([entry(1000, 'dense', { status: 'odd, "status"' })]);
    expect(studySummaryCsv(t).split('\n')[1]).toBe('1000,dense,2,"odd, ""status""",reference,amplitude,,,,,,,,,,,,,,');
  });
});

describe('studySummaryText (the CLI table)', () => {
  const s = studySummary(jobs);
  const text = studySummaryText(s);
  const lines = text.split('\n');

  it('rows are doses, columns views, cells amplitude MS-SSIM / SSIM / FRC50 | phase MS-SSIM of the reference scores', () => {
    const header = lines.find((l) => l.startsWith('dose'))!;
    expect(header.split(/\s+/)).toEqual(['dose', 'baseline', 'dense', 'sparse']);
    const r = metrics(20).reference!;
    const cell = `${r.amplitude.ms_ssim!.toFixed(3)} / ${r.amplitude.ssim!.toFixed(3)} / ${r.amplitude.frc50!.toFixed(1)} | ${r.phase.ms_ssim!.toFixed(3)}`;
    expect(cell).toBe('0.620 / 0.520 / 16.7 | 0.621');
    const row1000 = lines.find((l) => l.startsWith('1000 '))!;
    expect(row1000).toContain(cell);
    // columns line up: each view's cell starts under its header
    for (const v of ['baseline', 'dense']) expect(row1000.slice(header.indexOf(v)).startsWith('0.')).toBe(true);
    // the failed sparse job at dose 1000 is '-'
    expect(row1000.trimEnd().endsWith(' -')).toBe(true);
  });

  it("'-' for missing, failed, cancelled and unscored jobs, and for single missing scores", () => {
    const row1e4 = lines.find((l) => l.startsWith('10000 '))!;
    const cells = row1e4.split(/\s{3,}/);
    expect(cells[0]).toBe('10000');
    expect(cells[1]).toBe('0.630 / 0.530 / 20.0 | 0.631 cov 93%'); // phase FRC50 null does not show here
    expect(cells[2]).toBe('-'); // no dense job at 10000
    const row1e5 = lines.find((l) => l.startsWith('100000'))!.split(/\s{3,}/);
    expect(row1e5).toEqual(['100000', '-', '-', '-']);
    expect(text).toContain('dose 1000, sparse: failed (NaN loss at step 3)');
    expect(text).toContain('dose 100000, dense: cancelled');
    expect(text).toContain('dose 100000, baseline: trained, not scored');
  });

  it('formats each score for reading', () => {
    expect(formatScore('ssim', 0.98765)).toBe('0.988');
    expect(formatScore('frc50', 33.3394)).toBe('33.3');
    expect(formatScore('ms_ssim', null)).toBe('-');
    expect(formatScore('mse', 2.5e-5)).toBe('2.50e-5');
    expect(formatScore('mae', 0.05)).toBe('0.0500');
  });
});

describe('studySummaryFiles', () => {
  it('writes the JSON and CSV at the artifact root', () => {
    const files = studySummaryFiles('artifacts/', jobs);
    expect(files.map((f) => f.path)).toEqual(['artifacts/study_summary.json', 'artifacts/study_summary.csv']);
    expect(JSON.parse(files[0].text)).toEqual(studySummary(jobs));
    expect(files[1].text).toBe(studySummaryCsv(studySummary(jobs)));
    expect(comparisonPath('artifacts/dose_1000/dense/')).toBe('artifacts/dose_1000/dense/comparison.png');
  });
});

// ------------------------------------------------------------------ common-region scores

const PY = '/usr/bin/python3';
// Reading the CSV back needs Debian's python3-numpy at /usr/bin/python3 (.ci/run installs it);
// without it that test is skipped (vitest reports it as skipped).
const hasNumpy = fs.existsSync(PY) && spawnSync(PY, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

const FLAT = "the true object's phase is flat over the region (std 0.0e+0 rad after plane removal, < 0.001 rad): phase scores have no meaning";
const OWN = "the dose's Phase C test scan was not available (phase_c/dose_10000/patched_test.npz is not among the files): " +
  'the region is this job\'s own test scan, so these scores are not comparable across views';

/** A result with all three scorings; the common set as the runner writes it (src/lib/model/quality.ts). */
function withCommon(seed: number, coverage: number, opts: { flat?: boolean; own?: boolean } = {}): JobMetrics {
  const m = metrics(seed);
  const region = opts.own
    ? { x0: 30, y0: 28, x1: 90, y1: 60, source: 'job test scan' as const, path: 'phase_d/dose_10000/sparse/sparse_test.npz', note: OWN }
    : { x0: 20, y0: 18, x1: 100, y1: 90, source: 'phase_c test scan' as const, path: 'phase_c/dose_1000/patched_test.npz' };
  return {
    ...m,
    common: {
      amplitude: scores(seed + 200), phase: opts.flat ? null : scores(seed + 201), ...(opts.flat ? { phase_note: FLAT } : {}),
      height: region.y1 - region.y0 + 1, width: region.x1 - region.x0 + 1, stitch_M: 20, phase_align: 'plane', ms_ssim_sigma: 1,
      region, coverage,
    },
  };
}

const commonJobs: SummaryInput[] = [
  entry(1000, 'baseline', { status: 'success', metrics: withCommon(10, 1) }),
  entry(1000, 'dense', { status: 'success', metrics: withCommon(20, 0.98) }),
  entry(1000, 'sparse', { status: 'success', metrics: withCommon(5, 0.1) }),
  entry(10000, 'baseline', { status: 'success', metrics: withCommon(30, 1, { flat: true }) }),
  entry(10000, 'dense', { status: 'success', metrics: withCommon(40, 0.97, { flat: true }) }),
  entry(10000, 'sparse', { status: 'success', metrics: withCommon(15, 0.4, { flat: true, own: true }) }),
];

describe('common-region scores in the summary', () => {
  const s = studySummary(commonJobs);

  it('keeps the common scores, the region and its coverage beside the reference and placed ones', () => {
    const j = summaryCell(s, 1000, 'sparse')!;
    expect(j.common).toEqual({ amplitude: scores(205), phase: scores(206) });
    expect(j.common_region).toEqual({ x0: 20, y0: 18, x1: 100, y1: 90, source: 'phase_c test scan', coverage: 0.1, note: null });
    expect(j.coverage).toBe(0.905); // its own scan's
    expect(j.phase_note).toBeNull();
    expect(scoringCoverage(j, 'common')).toBe(0.1);
    expect(scoringCoverage(j, 'reference')).toBe(0.905);
    expect(defaultScoring(s)).toBe('common');
    expect(SCORINGS).toEqual(['reference', 'placed', 'common']);
    expect(SCORING_ORDER[0]).toBe('common');
    expect(JSON.parse(studySummaryJson(s))).toEqual(s);
  });

  it('a flat true phase: phase scores null in every scoring, amplitude kept, the reason recorded', () => {
    const j = summaryCell(s, 10000, 'dense')!;
    expect(j.phase_note).toBe(FLAT);
    for (const which of SCORINGS) {
      expect(j[which]!.phase).toEqual(readScores(null));
      expect(j[which]!.amplitude.ssim).not.toBeNull();
    }
    expect(j.reference!.amplitude).toEqual(scores(40));
    expect(phaseNotes(s)).toEqual([{ note: FLAT, where: 'dose 10000: baseline, dense, sparse' }]);
    // the manifest's numbers are untouched: the summary only shows them as null
    expect((commonJobs[4].result.metrics as JobMetrics).reference!.phase).toEqual(scores(41));
  });

  it('results without common scores default to the reference table', () => {
    expect(defaultScoring(studySummary(jobs))).toBe('reference');
    expect(studySummaryText(studySummary(jobs))).toContain('(no common-region scores: these results were written before they existed)');
    expect(defaultScoring(studySummary([]))).toBe('common');
  });

  it('the CLI table shows the common region by default, says so, with coverage in every cell and "-" for a flat phase', () => {
    const text = studySummaryText(s);
    const lines = text.split('\n');
    expect(lines[0]).toBe('Study results: common-region scores against ground truth: every view of a dose is scored on the same ' +
      'truth region (the bounding box of its Phase C test scan), pixels no test crop covers count as wrong');
    expect(lines[1]).toContain('phase MS-SSIM, coverage of the region');
    const row = (d: string) => lines.find((l) => l.startsWith(`${d} `))!.split(/\s{3,}/);
    const c = scores(205);
    expect(row('1000')[3]).toBe(`${c.ms_ssim!.toFixed(3)} / ${c.ssim!.toFixed(3)} / ${c.frc50!.toFixed(1)} | ${scores(206).ms_ssim!.toFixed(3)} cov 10%`);
    expect(row('1000')[1]).toMatch(/ cov 100%$/);
    expect(row('10000')[2]).toMatch(/^0\.840 \/ 0\.740 \/ 90\.0 \| - cov 97%$/);
    expect(row('10000')[3]).toMatch(/\| - cov 40% \*$/);
    expect(text).toContain(`phase -: ${FLAT} (dose 10000: baseline, dense, sparse)`);
    expect(text).toContain(`* dose 10000, sparse: ${OWN}`);
    // the other scorings on request, with their own coverage and the same '-' for the flat phase
    const ref = studySummaryText(s, 'reference');
    expect(ref.split('\n')[0]).toBe('Study results: reference scores against ground truth (Phase G alignment), each job on its own region');
    expect(ref).toMatch(/0\.640 \/ 0\.540 \/ 23\.3 \| - cov 94%/);
  });

  it('study_summary.csv: six rows per job, the common rows with coverage, region and notes', () => {
    const rows = parseCsv(studySummaryCsv(s));
    expect(rows[0]).toEqual([...SUMMARY_CSV_COLUMNS]);
    expect(rows).toHaveLength(1 + 6 * commonJobs.length);
    const col = (name: string) => SUMMARY_CSV_COLUMNS.indexOf(name as (typeof SUMMARY_CSV_COLUMNS)[number]);
    const find = (dose: string, view: string, which: string, part: string) =>
      rows.find((r) => r[0] === dose && r[1] === view && r[4] === which && r[5] === part)!;
    const sp = find('1000', 'sparse', 'common', 'amplitude');
    expect(sp.slice(col('coverage'))).toEqual(['0.1', '20', '18', '100', '90', 'phase_c test scan', '']);
    expect(Number(sp[col('ssim')])).toBe(scores(205).ssim);
    expect(find('1000', 'sparse', 'reference', 'amplitude')[col('coverage')]).toBe('0.905');
    const flat = find('10000', 'dense', 'common', 'phase');
    expect(flat.slice(col('mae'), col('coverage'))).toEqual(Array(7).fill(''));
    expect(flat[col('note')]).toBe(FLAT);
    expect(find('10000', 'dense', 'reference', 'phase')[col('note')]).toBe(FLAT);
    expect(find('10000', 'dense', 'reference', 'amplitude')[col('note')]).toBe('');
    expect(find('10000', 'sparse', 'common', 'amplitude')[col('note')]).toBe(OWN);
    expect(find('10000', 'sparse', 'common', 'phase')[col('note')]).toBe(`${FLAT}; ${OWN}`);
    expect(find('10000', 'sparse', 'common', 'phase')[col('region_source')]).toBe('job test scan');
  });

  it.skipIf(!hasNumpy)('study_summary.csv reads in Python (csv + numpy): the common columns are there and numeric', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'summary-csv-'));
    try {
      const file = path.join(dir, 'study_summary.csv');
      fs.writeFileSync(file, studySummaryCsv(s));
      const script = [
        'import csv, json, sys',
        'import numpy as np',
        "with open(sys.argv[1], newline='', encoding='utf-8') as f:",
        '    rows = list(csv.DictReader(f))',
        "common = [r for r in rows if r['which'] == 'common']",
        "cols = ['coverage', 'region_x0', 'region_y0', 'region_x1', 'region_y1']",
        'table = np.array([[float(r[c]) for c in cols] for r in common], dtype=np.float64)',
        "amp = np.array([float(r['ssim']) for r in common if r['part'] == 'amplitude'])",
        "phase = np.array([float(r['ssim']) if r['ssim'] != '' else np.nan for r in common if r['part'] == 'phase'])",
        'print(json.dumps({',
        "    'columns': list(rows[0].keys()), 'n': len(rows), 'shape': list(table.shape), 'finite': bool(np.isfinite(table).all()),",
        "    'coverage': table[::2, 0].tolist(), 'boxes': table[::2, 1:].astype(int).tolist(), 'amp_ssim': amp.tolist(),",
        "    'phase_nan': np.isnan(phase).tolist(), 'sources': [r['region_source'] for r in common[::2]],",
        '}))',
      ].join('\n');
      const r = spawnSync(PY, ['-c', script, file], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout);
      expect(out.columns).toEqual([...SUMMARY_CSV_COLUMNS]);
      expect(out.n).toBe(6 * commonJobs.length);
      expect(out.shape).toEqual([2 * commonJobs.length, 5]);
      expect(out.finite).toBe(true);
      expect(out.coverage).toEqual([1, 0.98, 0.1, 1, 0.97, 0.4]);
      expect(out.boxes[0]).toEqual([20, 18, 100, 90]);
      expect(out.boxes[5]).toEqual([30, 28, 90, 60]);
      expect(out.amp_ssim).toEqual([10, 20, 5, 30, 40, 15].map((k) => scores(k + 200).ssim));
      expect(out.phase_nan).toEqual([false, false, false, true, true, true]);
      expect(out.sources).toEqual([...Array(5).fill('phase_c test scan'), 'job test scan']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** RFC 4180 rows (quoted cells with commas, doubled quotes), for checking the CSV in TypeScript too. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(cell); cell = ''; }
    else if (ch === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; }
    else cell += ch;
  }
  return rows;
}
