/**
 * Where a job's common-region scores (src/lib/model/quality.ts, `scoreCommon`) take their truth
 * region from: the bounding box of the dose's Phase C test scan positions, i.e. `xcoords` and
 * `ycoords` of `<phase_c_root>/dose_<int>/patched_test.npz` (the baseline's test file, the path
 * src/lib/study/jobs.ts `phaseCPath` builds). Every view of a dose is cut from that one scan (the
 * Phase D test files are its subsets in the simulated studies), so its box is the same truth
 * region for all three views. Only the two coordinate members are read (openNpz reads members
 * lazily); nothing else of the file is touched.
 *
 * When that file is not among the files (no Phase C root, a dose without Phase C, an unreadable
 * file), the region falls back to the job's own test positions, with a note that its scores are then
 * not comparable across views.
 */
import { openNpz, type NdArray } from '../ingest';
import { toFloat64 } from '../contract';
import { phaseCPath } from '../study/jobs';
import type { FileSource } from '../study/runner';
import { regionBox, type CommonRegion } from './quality';

/** Coordinates as numbers (the contract's conversion), after the checks the contract makes first. */
function toNumbers(a: NdArray, key: string): Float64Array {
  if (Array.isArray(a.data)) throw new Error(`${key} holds ${a.dtype} values, not numbers`);
  if (a.dtype === 'complex64' || a.dtype === 'complex128') throw new Error(`${key} is complex`);
  return toFloat64(a, key);
}

/** The Phase C test file's positions, or why they could not be had. */
export async function phaseCTestPositions(
  files: FileSource,
  phaseCRoot: string | null | undefined,
  dose: number,
): Promise<{ path: string; xs: Float64Array; ys: Float64Array } | { path: string | null; reason: string }> {
  if (phaseCRoot === null || phaseCRoot === undefined) return { path: null, reason: 'the study has no Phase C root' };
  const path = phaseCPath(phaseCRoot, dose, 'test');
  if (!files.has(path)) return { path, reason: `${path} is not among the files` };
  try {
    const archive = await openNpz(await files.get(path), path);
    for (const k of ['xcoords', 'ycoords']) if (!archive.has(k)) return { path, reason: `${path} has no ${k}` };
    const xs = toNumbers(await archive.read('xcoords'), 'xcoords');
    const ys = toNumbers(await archive.read('ycoords'), 'ycoords');
    if (xs.length !== ys.length) return { path, reason: `${path}: xcoords and ycoords differ in length` };
    return { path, xs, ys };
  } catch (e) {
    return { path, reason: `${path} could not be read (${e instanceof Error ? e.message : String(e)})` };
  }
}

/**
 * The common region of a job: from the dose's Phase C test scan, else (with a note) from the job's
 * own test positions `own`. Null when neither gives a box on the truth.
 */
export async function loadCommonRegion(opts: {
  files: FileSource;
  phaseCRoot: string | null | undefined;
  dose: number;
  truth: { width: number; height: number };
  own: { path: string; xs: ArrayLike<number>; ys: ArrayLike<number> };
}): Promise<CommonRegion | null> {
  const { truth } = opts;
  const c = await phaseCTestPositions(opts.files, opts.phaseCRoot, opts.dose);
  let why: string;
  if ('xs' in c) {
    const box = regionBox(c.xs, c.ys, truth.width, truth.height);
    if (box) return { ...box, source: 'phase_c test scan', path: c.path };
    why = `the positions of ${c.path} give no region on the truth`;
  } else {
    why = c.reason;
  }
  const box = regionBox(opts.own.xs, opts.own.ys, truth.width, truth.height);
  if (!box) return null;
  return {
    ...box,
    source: 'job test scan',
    path: opts.own.path,
    note: `the dose's Phase C test scan was not available (${why}): the region is this job's own test scan, so these scores are not comparable across views`,
  };
}
