/**
 * The real dataset inspector and N inference: ingest's `openNpz` (random access through
 * Blob.slice, only headers read) and the contract's `inspectDataset` / `inferPatchSize`.
 * The app's worker and the CLI both use these, so both validate with the same code.
 */
import { openNpz } from '../ingest/npz';
import { inferPatchSize, inspectDataset } from '../contract/index';
import type { DatasetInspector } from './plan';
import type { FileSource } from './runner';

export const inspectNpz: DatasetInspector = async (file, blob, { gridsize }) => {
  const archive = await openNpz(blob, file);
  return inspectDataset(archive, { file, gridsize });
};

/** The reference's fallback when N cannot be read (LATEST `_infer_patch_size`, study spec 4.3). */
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
