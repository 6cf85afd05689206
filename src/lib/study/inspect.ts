/**
 * The real dataset inspector and N inference: ingest's `openNpz` (random access through
 * Blob.slice) and the contract's `loadDataset` / `inferPatchSize`.
 * The app's worker and the CLI both use these, so both validate with the same code.
 */
import { openNpz } from '../ingest/npz';
import { inferPatchSize, loadDataset } from '../contract/index';
import type { DatasetInspector } from './plan';
import type { FileSource } from './runner';

/**
 * Every rule of the data contract on one file, before any training: the headers (keys, dtypes,
 * shapes, N, positions) and then the values of the members training reads (NaN/Inf, negative or
 * all-zero amplitudes, `diff3d` differing from `diffraction`, members whose data fail their CRC,
 * the DATA-001 amplitude hints, `_metadata`). Headers alone would let those files through to fail
 * only when their job trains, and never show them in the per-file report. Only the training members
 * are read (never `Y`), one file at a time; the loaded arrays are dropped, the report kept.
 */
export const inspectNpz: DatasetInspector = async (file, blob, { gridsize }) => {
  const archive = await openNpz(blob, file);
  return (await loadDataset(archive, { file, gridsize })).report;
};

/** The reference's fallback when N cannot be read (LATEST `training.py:248-274` `_infer_patch_size`). */
export const FALLBACK_N = 64;

/**
 * LATEST `_infer_patch_size(train_path)`: diffraction.shape[1] if 3-D, else diff3d.shape[1] if
 * 3-D, else probeGuess.shape[0], else 64 on any failure. Reads headers only.
 */
export async function inferJobPatchSize(files: FileSource, path: string): Promise<number> {
  try {
    const archive = await openNpz(await files.get(path), path);
    return (await inferPatchSize(archive)) ?? FALLBACK_N;
  } catch {
    return FALLBACK_N;
  }
}
