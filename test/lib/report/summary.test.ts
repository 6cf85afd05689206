import { describe, expect, it } from 'vitest';
import {
  SCORE_NAMES, SUMMARY_CSV_COLUMNS, comparisonPath, formatScore, readScores, studySummary, studySummaryCsv,
  studySummaryFiles, studySummaryJson, studySummaryText, summaryCell, type JobMetrics, type Scores, type SummaryInput,
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
    expect(lines[0]).toBe('dose,view,gridsize,status,which,part,mae,mse,psnr,ssim,ms_ssim,frc50,frc1over7');
    expect(lines[0].split(',')).toEqual([...SUMMARY_CSV_COLUMNS]);
    expect(rows).toHaveLength(4 * jobs.length);
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
    expect(nullFrc.slice(11)).toEqual(['', '']);
    expect(back(nullFrc)).toEqual(scores(31, { frc50: true, frc1over7: true }));
    expect(find('1000', 'sparse', 'reference', 'amplitude')).toEqual(['1000', 'sparse', '2', 'failed', 'reference', 'amplitude', '', '', '', '', '', '', '']);
  });

  it('quotes cells that need it', () => {
    const t = studySummary([entry(1000, 'dense', { status: 'odd, "status"' })]);
    expect(studySummaryCsv(t).split('\n')[1]).toBe('1000,dense,2,"odd, ""status""",reference,amplitude,,,,,,,');
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
    expect(cells[1]).toBe('0.630 / 0.530 / 20.0 | 0.631'); // phase FRC50 null does not show here
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
