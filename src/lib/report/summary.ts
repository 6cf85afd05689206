/**
 * The study's answer (docs/quality.md): every job's reconstruction scores against ground truth, as
 * the dose x view table that `study_summary.json`, `study_summary.csv`, the CLI's closing table and
 * the app's "Study results" section all show. Pure functions of the manifest's job entries: the
 * scores are the `result.metrics` the runner writes (also in each job's `metrics.json`).
 *
 * Three scorings per job, each for amplitude and phase:
 * - `reference`: the reference's Phase G path (central-crop stitch, align_for_evaluation,
 *   eval_reconstruction with plane phase alignment, MS-SSIM sigma 1; reference/ptychopinn-eval.md);
 * - `placed`: the stitched canvas placed on the truth grid by its own origin;
 * - `common`: every view of a dose on the same truth region, the bounding box of the dose's Phase C
 *   test scan, with pixels no test crop covers counted as wrong (src/lib/model/quality.ts,
 *   `scoreCommon`). The only scoring whose numbers compare across views; what the tables show first.
 *
 * A score the truth gives no meaning is null with the reason: when the true object's phase is flat
 * over the dose's region (`metrics.common.phase_note`), the phase scores of all three scorings are
 * null here and `phase_note` says why (the manifest and metrics.json keep the reference and placed
 * numbers as the runner computed them).
 */
import { VIEWS } from '../study/design';
import { pyPathJoin } from '../study/pyformat';

/** eval_reconstruction's scalar scores, in its order (reference/ptychopinn-eval.md 1). */
export const SCORE_NAMES = ['mae', 'mse', 'psnr', 'ssim', 'ms_ssim', 'frc50', 'frc1over7'] as const;
export type ScoreName = (typeof SCORE_NAMES)[number];
export type Scores = Record<ScoreName, number | null>;

/** Short names of the scores, for headers. */
export const SCORE_LABELS: Readonly<Record<ScoreName, string>> = {
  mae: 'MAE', mse: 'MSE', psnr: 'PSNR', ssim: 'SSIM', ms_ssim: 'MS-SSIM', frc50: 'FRC50', frc1over7: 'FRC 1/7',
};

/** What each score means, in a sentence (tooltips; reference/ptychopinn-eval.md 1). */
export const SCORE_DESCRIPTIONS: Readonly<Record<ScoreName, string>> = {
  mae: 'Mean absolute error against the truth (lower is better).',
  mse: 'Mean squared error against the truth (lower is better).',
  psnr: 'Peak signal-to-noise ratio in dB with the peak fixed at 255, as cv2.PSNR computes it (higher is better).',
  ssim: 'Structural similarity with the truth: 1 is identical, 0 unrelated.',
  ms_ssim: 'Multi-scale structural similarity with the truth (Gaussian sigma 1, as the reference\'s Phase G): 1 is identical.',
  frc50: 'Fourier ring correlation cutoff at 0.5: the ring, in Fourier pixels of the evaluated square, where the ' +
    'correlation with the truth first drops below 0.5. Higher means finer detail recovered.',
  frc1over7: 'Fourier ring correlation cutoff at 1/7: the ring where the correlation with the truth first drops below 1/7. Higher is finer.',
};

/** In the order of study_summary.csv's rows (the first two as before `common` existed). */
export const SCORINGS = ['reference', 'placed', 'common'] as const;
export type Scoring = (typeof SCORINGS)[number];
/** In the order the tables offer them: the common region first, the default. */
export const SCORING_ORDER: readonly Scoring[] = ['common', 'reference', 'placed'];
export const PARTS = ['amplitude', 'phase'] as const;
export type Part = (typeof PARTS)[number];

export const SCORING_DESCRIPTIONS: Readonly<Record<Scoring, string>> = {
  reference: 'Scored as the reference\'s Phase G comparison: central-crop stitch, align_for_evaluation, ' +
    'eval_reconstruction with plane phase alignment and MS-SSIM sigma 1.',
  placed: 'The stitched canvas placed on the truth grid by its own origin, without registration or cropping to the ' +
    'reference\'s evaluation window.',
  common: 'All views of a dose scored on the same truth region, the bounding box of the dose\'s Phase C test scan ' +
    'positions; the reconstruction placed on the truth grid by its own origin, and region pixels that no test crop ' +
    'covers count as wrong (0). Coverage: the fraction of that region the test crops cover.',
};

/** One scoring of a job's reconstruction and a job's `result.metrics`, as the runner writes them (src/lib/eval/types.ts). */
export type { ScoreSet as ScoredReconstruction, JobMetrics } from '../eval/types';

/** What a summary needs of a manifest entry (a ManifestJob has it all). */
export interface SummaryInput {
  dose: number;
  view: string;
  gridsize: number;
  artifact_dir?: string;
  result: Record<string, unknown>;
}

export interface PartScores {
  amplitude: Scores;
  phase: Scores;
}

/** The common region of a job (object pixels, both ends included) and how much of it the job covers. */
export interface SummaryRegion {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** 'phase_c test scan' (the same region for every view of the dose) or 'job test scan' (a fallback: see note) */
  source: string;
  /** fraction of the region's pixels the job's test crops cover */
  coverage: number | null;
  /** e.g. why the region is the job's own scan (then its scores do not compare across views) */
  note: string | null;
}

export interface SummaryJob {
  dose: number;
  view: string;
  gridsize: number;
  /** success | failed | cancelled | dry-run | unknown */
  status: string;
  error: string | null;
  artifact_dir: string | null;
  /** fraction of the job's own scanned area that its test crops cover (the reference and placed scorings') */
  coverage: number | null;
  /** null when the job has no scores (failed, cancelled, dry run, no ground truth). */
  reference: PartScores | null;
  placed: PartScores | null;
  /** the common-region scores; null also for results written before they existed */
  common: PartScores | null;
  common_region: SummaryRegion | null;
  /** why this job's phase scores are null in every scoring (a flat true phase), else null */
  phase_note: string | null;
}

/** `study_summary.json`. */
export interface StudySummary {
  /** Ascending. */
  doses: number[];
  /** baseline, dense, sparse (those present), then any other view by name. */
  views: string[];
  /** Dose-major, then view in the order of `views`, then gridsize. */
  jobs: SummaryJob[];
  /** table[String(dose)][view]: the job of that cell, null where the study has none. */
  table: Record<string, Record<string, SummaryJob | null>>;
}

export const SUMMARY_JSON_NAME = 'study_summary.json';
export const SUMMARY_CSV_NAME = 'study_summary.csv';
export const COMPARISON_NAME = 'comparison.png';

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Scores from untrusted JSON: each a finite number or null (NaN, Inf, missing, non-numbers). */
export function readScores(v: unknown): Scores {
  const o = isRecord(v) ? v : {};
  return Object.fromEntries(SCORE_NAMES.map((k) => [k, finite(o[k])])) as Scores;
}

const NO_SCORES: Scores = readScores(null);

function readPart(v: unknown): PartScores | null {
  if (!isRecord(v) || !isRecord(v.amplitude) || !isRecord(v.phase)) return null;
  return { amplitude: readScores(v.amplitude), phase: readScores(v.phase) };
}

/** The common set: its phase may be null (a flat true phase, with `phase_note`). */
function readCommon(v: unknown): { scores: PartScores; region: SummaryRegion; phaseNote: string | null } | null {
  if (!isRecord(v) || !isRecord(v.amplitude) || !(isRecord(v.phase) || v.phase === null)) return null;
  const g = isRecord(v.region) ? v.region : {};
  const n = (k: string) => finite(g[k]);
  const [x0, y0, x1, y1] = [n('x0'), n('y0'), n('x1'), n('y1')];
  if (x0 === null || y0 === null || x1 === null || y1 === null) return null;
  const phaseNote = typeof v.phase_note === 'string' ? v.phase_note : v.phase === null ? 'no phase scores' : null;
  return {
    scores: { amplitude: readScores(v.amplitude), phase: readScores(v.phase) },
    region: { x0, y0, x1, y1, source: typeof g.source === 'string' ? g.source : 'unknown', coverage: finite(v.coverage), note: typeof g.note === 'string' ? g.note : null },
    phaseNote,
  };
}

/** The part scores with the phase taken out when the truth gives it no meaning. */
function withoutPhase(p: PartScores | null, note: string | null): PartScores | null {
  return p && note !== null ? { amplitude: p.amplitude, phase: { ...NO_SCORES } } : p;
}

function jobStatus(result: Record<string, unknown>): string {
  if (result.dry_run === true) return 'dry-run';
  return typeof result.status === 'string' ? result.status : 'unknown';
}

/** Views in study order, then others alphabetically. */
function viewRank(v: string): number {
  const i = (VIEWS as readonly string[]).indexOf(v);
  return i < 0 ? VIEWS.length : i;
}

export function compareViews(a: string, b: string): number {
  return viewRank(a) - viewRank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

export function studySummary(manifestJobs: readonly SummaryInput[]): StudySummary {
  const jobs: SummaryJob[] = manifestJobs.map((j) => {
    const r = isRecord(j.result) ? j.result : {};
    const m = isRecord(r.metrics) ? r.metrics : null;
    const status = jobStatus(r);
    // Only a successful job's scores count; anything else has none to show.
    const scored = status === 'success' && m !== null;
    const common = scored ? readCommon(m.common) : null;
    const phaseNote = common?.phaseNote ?? null;
    return {
      dose: j.dose,
      view: j.view,
      gridsize: j.gridsize,
      status,
      error: typeof r.error === 'string' ? r.error : null,
      artifact_dir: j.artifact_dir ?? null,
      coverage: scored ? finite(m.coverage) : null,
      reference: scored ? withoutPhase(readPart(m.reference), phaseNote) : null,
      placed: scored ? withoutPhase(readPart(m.placed), phaseNote) : null,
      common: withoutPhase(common?.scores ?? null, phaseNote),
      common_region: common?.region ?? null,
      phase_note: phaseNote,
    };
  });
  jobs.sort((a, b) => a.dose - b.dose || compareViews(a.view, b.view) || a.gridsize - b.gridsize);
  const doses = [...new Set(jobs.map((j) => j.dose))];
  const views = [...new Set(jobs.map((j) => j.view))].sort(compareViews);
  const table: StudySummary['table'] = {};
  for (const d of doses) {
    const row: Record<string, SummaryJob | null> = {};
    for (const v of views) row[v] = jobs.find((j) => j.dose === d && j.view === v) ?? null;
    table[String(d)] = row;
  }
  return { doses, views, jobs, table };
}

/**
 * The scoring tables show unless told otherwise: the common region, or the reference scores for
 * results written before common-region scores existed (none of the jobs has them).
 */
export function defaultScoring(s: StudySummary): Scoring {
  if (s.jobs.some((j) => j.common)) return 'common';
  return s.jobs.some((j) => j.reference || j.placed) ? 'reference' : 'common';
}

/** The coverage that goes with a scoring: of the dose's common region, or of the job's own scan. */
export function scoringCoverage(j: SummaryJob, scoring: Scoring): number | null {
  return scoring === 'common' ? (j.common_region?.coverage ?? null) : j.coverage;
}

/** The distinct phase notes of a summary, each with the cells it applies to ("dose 1000: baseline, dense"). */
export function phaseNotes(s: StudySummary): { note: string; where: string }[] {
  const byNote = new Map<string, Map<number, string[]>>();
  for (const j of s.jobs) {
    if (j.phase_note === null) continue;
    const doses = byNote.get(j.phase_note) ?? new Map<number, string[]>();
    doses.set(j.dose, [...(doses.get(j.dose) ?? []), j.view]);
    byNote.set(j.phase_note, doses);
  }
  return [...byNote].map(([note, doses]) => ({ note, where: [...doses].map(([d, v]) => `dose ${d}: ${v.join(', ')}`).join('; ') }));
}

/** The cell of a dose and view, or null. */
export function summaryCell(s: StudySummary, dose: number, view: string): SummaryJob | null {
  return s.table[String(dose)]?.[view] ?? null;
}

/** `study_summary.json`'s text. */
export function studySummaryJson(s: StudySummary): string {
  return JSON.stringify(s, null, 2) + '\n';
}

/**
 * After the scores: `coverage` (common rows: of the dose's common region; reference and placed
 * rows: of the job's own scanned area), the common region's box in object pixels (common rows
 * only), its source, and a note (why a phase row is empty; why a region is the job's own).
 */
export const SUMMARY_CSV_COLUMNS = [
  'dose', 'view', 'gridsize', 'status', 'which', 'part', ...SCORE_NAMES,
  'coverage', 'region_x0', 'region_y0', 'region_x1', 'region_y1', 'region_source', 'note',
] as const;

function csvCell(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * `study_summary.csv`: tidy, one row per job x scoring (reference, placed, common) x part
 * (amplitude, phase), in the summary's job order. Every job has its six rows; unscored values are
 * empty cells. Numbers are written in shortest round-trip form.
 */
export function studySummaryCsv(s: StudySummary): string {
  const lines = [SUMMARY_CSV_COLUMNS.join(',')];
  for (const j of s.jobs) {
    for (const which of SCORINGS) {
      for (const part of PARTS) {
        const sc = j[which]?.[part] ?? null;
        const g = which === 'common' ? j.common_region : null;
        const notes = [part === 'phase' && j[which] ? j.phase_note : null, g?.note ?? null].filter((n): n is string => n !== null);
        lines.push([
          j.dose, j.view, j.gridsize, j.status, which, part, ...SCORE_NAMES.map((k) => sc?.[k] ?? null),
          j[which] ? scoringCoverage(j, which) : null, g?.x0 ?? null, g?.y0 ?? null, g?.x1 ?? null, g?.y1 ?? null, g?.source ?? null,
          notes.length ? notes.join('; ') : null,
        ].map(csvCell).join(','));
      }
    }
  }
  return lines.join('\n') + '\n';
}

/** A score for a table: 3 decimals for similarities, 1 for FRC ring indices and PSNR; '-' for none. */
export function formatScore(name: ScoreName, v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  if (name === 'frc50' || name === 'frc1over7' || name === 'psnr') return v.toFixed(1);
  if (name === 'mae' || name === 'mse') return Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : v.toFixed(4);
  return v.toFixed(3);
}

/** What each scoring's table is, in a sentence (the CLI table's first line). */
export const SCORING_SENTENCES: Readonly<Record<Scoring, string>> = {
  common: 'common-region scores against ground truth: every view of a dose is scored on the same truth region ' +
    '(the bounding box of its Phase C test scan), pixels no test crop covers count as wrong',
  reference: 'reference scores against ground truth (Phase G alignment), each job on its own region',
  placed: 'placed scores against ground truth (the canvas on the truth grid), each job on its own covered region',
};

/** A coverage fraction as a whole percentage. */
export function formatCoverage(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : `${Math.round(100 * v)}%`;
}

/**
 * The fixed-width table the CLI prints at the end of a run: rows dose, columns views; each cell
 * one scoring's amplitude MS-SSIM / SSIM / FRC50 | phase MS-SSIM and the coverage that goes with it
 * (default: the common region, `defaultScoring`). '-' where a job is missing, did not succeed or has
 * no scores, and for phase where the truth gives it no meaning (the reason below the table);
 * failed jobs and jobs whose common region is their own scan are listed below the table.
 */
export function studySummaryText(s: StudySummary, scoring: Scoring = defaultScoring(s)): string {
  const cell = (j: SummaryJob | null): string => {
    const r = j?.[scoring];
    if (!j || !r) return '-';
    return `${formatScore('ms_ssim', r.amplitude.ms_ssim)} / ${formatScore('ssim', r.amplitude.ssim)} / ` +
      `${formatScore('frc50', r.amplitude.frc50)} | ${formatScore('ms_ssim', r.phase.ms_ssim)} cov ${formatCoverage(scoringCoverage(j, scoring))}` +
      `${scoring === 'common' && j.common_region?.note ? ' *' : ''}`;
  };
  const header = ['dose', ...s.views];
  const rows = s.doses.map((d) => [String(d), ...s.views.map((v) => cell(summaryCell(s, d, v)))]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((x, c) => x.padEnd(widths[c])).join('   ').trimEnd();
  const cov = scoring === 'common' ? 'coverage of the region' : 'coverage of its own scan';
  const out = [
    `Study results: ${SCORING_SENTENCES[scoring]}`,
    `each cell: amplitude MS-SSIM / SSIM / FRC50 | phase MS-SSIM, ${cov}   (- = no score)`,
  ];
  if (scoring !== 'common' && !s.jobs.some((j) => j.common) && s.jobs.some((j) => j.reference || j.placed)) {
    out.push('(no common-region scores: these results were written before they existed)');
  }
  out.push('', line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line));
  const notes = s.jobs.filter((j) => j.status !== 'success' && j.status !== 'dry-run');
  const unscored = s.jobs.filter((j) => j.status === 'success' && !j[scoring]);
  const phase = phaseNotes(s);
  const own = scoring === 'common' ? s.jobs.filter((j) => j.common && j.common_region?.note) : [];
  if (notes.length || unscored.length || phase.length || own.length) out.push('');
  for (const p of phase) out.push(`phase -: ${p.note} (${p.where})`);
  for (const j of own) out.push(`* dose ${j.dose}, ${j.view}: ${j.common_region!.note}`);
  for (const j of notes) out.push(`dose ${j.dose}, ${j.view}: ${j.status}${j.error ? ` (${j.error})` : ''}`);
  for (const j of unscored) {
    out.push(`dose ${j.dose}, ${j.view}: trained, not scored${j.reference || j.placed || j.common ? ` (no ${scoring} scores)` : ' (no ground truth in its test file?)'}`);
  }
  return out.join('\n') + '\n';
}

/** The summary files at the artifact root, for any writer (training worker, page, CLI). */
export function studySummaryFiles(artifactRoot: string, manifestJobs: readonly SummaryInput[]): { path: string; text: string }[] {
  const s = studySummary(manifestJobs);
  return [
    { path: pyPathJoin(artifactRoot, SUMMARY_JSON_NAME), text: studySummaryJson(s) },
    { path: pyPathJoin(artifactRoot, SUMMARY_CSV_NAME), text: studySummaryCsv(s) },
  ];
}

/** The path of a job's truth-vs-reconstruction picture (written by the runner). */
export function comparisonPath(artifactDir: string): string {
  return pyPathJoin(artifactDir, COMPARISON_NAME);
}
