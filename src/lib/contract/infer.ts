/**
 * N from a file's headers, as the LATEST study runner's `_infer_patch_size` does (LATEST
 * `training.py:248-274`): `diffraction.shape[1]` if it is 3-D, else `diff3d.shape[1]` if 3-D, else
 * `probeGuess.shape[0]`. The reference falls back to 64 on any failure; this returns undefined and
 * leaves the fallback to the caller. Only headers are read.
 */
import type { DatasetArchive } from './types';

export async function inferPatchSize(archive: DatasetArchive): Promise<number | undefined> {
  try {
    for (const key of ['diffraction', 'diff3d']) {
      if (!archive.has(key)) continue;
      const { shape } = await archive.info(key);
      if (shape.length === 3) return shape[1];
    }
    const { shape } = await archive.info('probeGuess');
    return shape.length >= 1 ? shape[0] : undefined;
  } catch {
    return undefined;
  }
}
