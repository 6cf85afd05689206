/**
 * Tree detection: from the relative POSIX paths of what the user dropped (folder picker
 * `webkitRelativePath`s, walked drag-and-drop entries, loose files, or the members of one zip),
 * find the Phase C and Phase D roots and the doses present (docs/data.md).
 *
 * - A Phase C root is a folder holding `dose_<int>/patched_{train,test}.npz`.
 * - A Phase D root is a folder holding `dose_<int>/{dense,sparse}/{<view>_,}{train,test}.npz`
 *   or the flat E4 form `dose_<int>/{dense,sparse}_{train,test}.npz`.
 * One drop may hold both; one folder may even be both. A root is reported as '.' when the dose
 * folders sit at the top of the drop.
 */
import { pyPathStr } from './pyformat';

export type TreeIssueCode = 'no_phase_c_root' | 'no_phase_d_root' | 'ambiguous_phase_c_root' | 'ambiguous_phase_d_root';

export interface TreeIssue {
  code: TreeIssueCode;
  /** Blocking issues stop planning; the rest are shown and planning goes on. */
  severity: 'error' | 'warning';
  message: string;
  candidates?: string[];
}

export interface DetectedTree {
  /** Every normalised path considered (junk such as __MACOSX/ and ._ files removed), in input order. */
  paths: string[];
  phaseCCandidates: string[];
  phaseDCandidates: string[];
  /** The chosen roots: the one candidate, or the caller's choice; null when none or ambiguous. */
  phaseCRoot: string | null;
  phaseDRoot: string | null;
  /** Doses (from `dose_<int>` folder names) holding relevant files under each chosen root, ascending. */
  phaseCDoses: number[];
  phaseDDoses: number[];
  issues: TreeIssue[];
}

const DOSE_DIR = /^dose_(\d+)$/;
const PHASE_C_FILE = /^patched_(train|test)\.npz$/;
const PHASE_D_NESTED = /^(?:(dense|sparse)_)?(train|test)\.npz$/;
const PHASE_D_FLAT = /^(dense|sparse)_(train|test)\.npz$/;

/** Normalise one dropped path; undefined for junk that is never study data. */
export function normaliseDroppedPath(p: string): string | undefined {
  const s = pyPathStr(p.replace(/\\/g, '/'));
  const parts = s.split('/');
  const base = parts[parts.length - 1];
  if (parts.some((x) => x === '__MACOSX') || base.startsWith('._') || base === '.DS_Store') return undefined;
  return s;
}

function rootOf(parts: string[], depthFromEnd: number): string {
  const r = parts.slice(0, parts.length - depthFromEnd);
  return r.length === 0 ? '.' : r.join('/');
}

interface Hit { root: string; dose: number }

function classify(path: string): { c?: Hit; d?: Hit } {
  const parts = path.split('/');
  const n = parts.length;
  const out: { c?: Hit; d?: Hit } = {};
  const base = parts[n - 1];
  // <root>/dose_N/patched_split.npz
  if (n >= 2 && PHASE_C_FILE.test(base)) {
    const m = DOSE_DIR.exec(parts[n - 2]);
    if (m) out.c = { root: rootOf(parts, 2), dose: Number(m[1]) };
  }
  // <root>/dose_N/<view>/{<view>_,}split.npz
  if (n >= 3 && (parts[n - 2] === 'dense' || parts[n - 2] === 'sparse')) {
    const f = PHASE_D_NESTED.exec(base);
    const m = DOSE_DIR.exec(parts[n - 3]);
    if (f && m && (f[1] === undefined || f[1] === parts[n - 2])) out.d = { root: rootOf(parts, 3), dose: Number(m[1]) };
  }
  // <root>/dose_N/<view>_split.npz (flat E4)
  if (n >= 2 && PHASE_D_FLAT.test(base)) {
    const m = DOSE_DIR.exec(parts[n - 2]);
    if (m) out.d = { root: rootOf(parts, 2), dose: Number(m[1]) };
  }
  return out;
}

export interface DetectOptions {
  /** The user's choice when detection is ambiguous (or to override it). */
  phaseCRoot?: string | null;
  phaseDRoot?: string | null;
}

function choose(
  candidates: string[],
  chosen: string | null | undefined,
  phase: 'C' | 'D',
  issues: TreeIssue[],
): string | null {
  const what = phase === 'C' ? 'dose_<N>/patched_{train,test}.npz' : 'dose_<N>/{dense,sparse}/... NPZ files';
  if (chosen !== undefined && chosen !== null) return pyPathStr(chosen);
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) {
    issues.push({
      code: phase === 'C' ? 'no_phase_c_root' : 'no_phase_d_root',
      severity: 'warning',
      message: `No Phase ${phase} root found: no folder holds ${what}.` +
        (phase === 'C' ? ' Baseline jobs will be skipped.' : ' Dense and sparse jobs will be skipped.'),
    });
    return null;
  }
  issues.push({
    code: phase === 'C' ? 'ambiguous_phase_c_root' : 'ambiguous_phase_d_root',
    severity: 'error',
    message: `Found ${candidates.length} possible Phase ${phase} roots (${candidates.join(', ')}); choose one.`,
    candidates: [...candidates],
  });
  return null;
}

/** Detect the Phase C and Phase D roots in a list of dropped paths. */
export function detectTree(rawPaths: readonly string[], opts: DetectOptions = {}): DetectedTree {
  const paths: string[] = [];
  const seen = new Set<string>();
  for (const p of rawPaths) {
    const s = normaliseDroppedPath(p);
    if (s !== undefined && !seen.has(s)) { seen.add(s); paths.push(s); }
  }
  const cHits = new Map<string, Set<number>>();
  const dHits = new Map<string, Set<number>>();
  for (const p of paths) {
    const { c, d } = classify(p);
    if (c) { if (!cHits.has(c.root)) cHits.set(c.root, new Set()); cHits.get(c.root)!.add(c.dose); }
    if (d) { if (!dHits.has(d.root)) dHits.set(d.root, new Set()); dHits.get(d.root)!.add(d.dose); }
  }
  const issues: TreeIssue[] = [];
  const phaseCCandidates = [...cHits.keys()].sort();
  const phaseDCandidates = [...dHits.keys()].sort();
  const phaseCRoot = choose(phaseCCandidates, opts.phaseCRoot, 'C', issues);
  const phaseDRoot = choose(phaseDCandidates, opts.phaseDRoot, 'D', issues);
  const dosesUnder = (hits: Map<string, Set<number>>, root: string | null): number[] =>
    root === null ? [] : [...(hits.get(root) ?? [])].sort((a, b) => a - b);
  return {
    paths,
    phaseCCandidates,
    phaseDCandidates,
    phaseCRoot,
    phaseDRoot,
    phaseCDoses: dosesUnder(cHits, phaseCRoot),
    phaseDDoses: dosesUnder(dHits, phaseDRoot),
    issues,
  };
}
