/**
 * Header-level validation (DATA-001 plus what the TF loader enforces: the reference's `docs/data_contracts.md`,
 * `components.py:295-437`): only
 * archive.info() is called, so no member's data is read or inflated.
 */
import { isIngestError, type ArrayInfo, type DType, type IngestError } from '../ingest/types';
import { e, formatShape, w, type ContractIssue } from './issues';
import type { DatasetArchive, DatasetReport, ValidateOptions } from './types';

/** Patch sizes the model is built for (`model.py:300-473`: encoder/decoder stacks for N = 64, 128, 256). */
export const SUPPORTED_N: readonly number[] = [64, 128, 256];
/** Smallest even N accepted, with a warning, for quick tests. */
export const MIN_TEST_N = 16;
/** gridsize 2 groups a seed with K = 4 neighbours (`config.py:139` TrainingConfig.neighbor_count). */
export const MIN_POSITIONS_GRIDSIZE2 = 5;

const FLOAT_DTYPES: ReadonlySet<DType> = new Set(['float16', 'float32', 'float64']);
const COMPLEX_DTYPES: ReadonlySet<DType> = new Set(['complex64', 'complex128']);
const REAL_DTYPES: ReadonlySet<DType> = new Set([
  'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float16', 'float32', 'float64',
]);

export type DiffractionKey = 'diffraction' | 'diff3d';

/** Everything loadDataset needs to read and convert the members, decided from the headers. */
export interface LoadPlan {
  diffKey: DiffractionKey;
  /** Both keys exist with equal headers: their values must be compared once read. */
  compareAlias: boolean;
  diffDtype: DType;
  /** The file stores (H, W, n) rather than (n, H, W). */
  legacyLayout: boolean;
  N: number;
  n: number;
  xStartKey: string;
  yStartKey: string;
  objectShape: [number, number];
}

export interface Examination {
  report: DatasetReport;
  /** Present when the headers raised no error. */
  plan?: LoadPlan;
  /** _metadata exists and its header could be read (so loadDataset should try to read it). */
  metadataReadable: boolean;
}

const DIFF_EXPECTED = "an (n_patterns, N, N) float32 amplitude array 'diffraction' (or the legacy 'diff3d')";
const COORD_EXPECTED = 'a 1-D float64 array of pixel coordinates, one per diffraction pattern';

/** Reads headers, turning ingest failures into issues; rethrows anything that is not an IngestError. */
async function header(
  archive: DatasetArchive, key: string, onFail: (err: IngestError) => void,
): Promise<ArrayInfo | undefined> {
  try {
    return await archive.info(key);
  } catch (err) {
    if (isIngestError(err)) {
      onFail(err);
      return undefined;
    }
    throw err;
  }
}

export async function examine(archive: DatasetArchive, opts: ValidateOptions): Promise<Examination> {
  const file = opts.file;
  const gridsize = opts.gridsize ?? 1;
  const keys = [...archive.keys];
  const errors: ContractIssue[] = [];
  const warnings: ContractIssue[] = [];
  const report: DatasetReport = { file, ok: false, errors, warnings, keys };

  const required = async (key: string, expected: string): Promise<ArrayInfo | undefined> => {
    if (!archive.has(key)) {
      errors.push(e.missing_key(file, key, keys, expected));
      return undefined;
    }
    return header(archive, key, (err) => errors.push(e.unreadable(file, key, err)));
  };
  const optional = async (key: string): Promise<ArrayInfo | undefined> =>
    archive.has(key) ? header(archive, key, (err) => errors.push(e.unreadable(file, key, err))) : undefined;

  // ---- diffraction / diff3d (names: the reference's `docs/data_contracts.md:7-21`; the alias and the loader's reshapes: `components.py:325-345`)
  const hasDiffraction = archive.has('diffraction');
  const hasDiff3d = archive.has('diff3d');
  let diffKey: DiffractionKey = 'diffraction';
  let diffInfo: ArrayInfo | undefined;
  let compareAlias = false;
  if (!hasDiffraction && !hasDiff3d) {
    errors.push(e.missing_key(file, 'diffraction', keys, DIFF_EXPECTED));
  } else if (!hasDiffraction) {
    diffKey = 'diff3d';
    warnings.push(w.legacy_key(file));
    diffInfo = await optional('diff3d');
  } else {
    diffInfo = await optional('diffraction');
    if (hasDiff3d) {
      const alias = await optional('diff3d');
      if (diffInfo !== undefined && alias !== undefined) {
        const sameShape = alias.shape.length === diffInfo.shape.length && alias.shape.every((d, i) => d === diffInfo!.shape[i]);
        if (!sameShape || alias.dtype !== diffInfo.dtype) {
          errors.push(e.alias_mismatch(file,
            `dtype ${alias.dtype}, shape ${formatShape(alias.shape)}`,
            `dtype ${diffInfo.dtype}, shape ${formatShape(diffInfo.shape)} as in 'diffraction'`));
        } else {
          compareAlias = true;
        }
      }
    }
  }

  // ---- coordinates (headers first: their length decides the legacy layout)
  const xInfo = await required('xcoords', COORD_EXPECTED);
  const yInfo = await required('ycoords', COORD_EXPECTED);
  const coordCount = [xInfo, yInfo].find((i) => i !== undefined && i.shape.length === 1)?.shape[0];

  let N: number | undefined;
  let n: number | undefined;
  let legacyLayout = false;
  if (diffInfo !== undefined) {
    const dtype = diffInfo.dtype;
    if (dtype === 'uint16') warnings.push(w.intensity_converted(file, diffKey));
    else if (!FLOAT_DTYPES.has(dtype)) errors.push(e.diffraction_dtype(file, diffKey, dtype));

    let shape = diffInfo.shape;
    if (shape.length === 4 && shape[3] === 1) {
      // The TF loader squeezes a trailing singleton 4th axis (`components.py:328-333`).
      warnings.push(w.squeezed_axis(file, diffKey, shape));
      shape = shape.slice(0, 3);
    }
    if (shape.length !== 3) {
      errors.push(e.diffraction_rank(file, diffKey, diffInfo.shape));
    } else {
      // Legacy (H, W, n): axis 0 != n but the last axis == n is transposed (components.py:335-345).
      if (coordCount !== undefined && shape[0] !== coordCount && shape[2] === coordCount) {
        legacyLayout = true;
        warnings.push(w.legacy_layout(file, diffKey, shape, coordCount));
        shape = [shape[2], shape[0], shape[1]];
      }
      n = shape[0];
      if (n === 0) errors.push(e.no_patterns(file, diffKey, diffInfo.shape));
      if (shape[1] !== shape[2]) {
        errors.push(e.not_square(file, diffKey, shape));
      } else {
        N = shape[1];
        if (!SUPPORTED_N.includes(N)) {
          if (N % 2 === 0 && N >= MIN_TEST_N && N < SUPPORTED_N[0]) warnings.push(w.small_patch_size(file, diffKey, N));
          else errors.push(e.patch_size(file, diffKey, N));
        }
      }
      if (gridsize === 2 && n > 0 && n < MIN_POSITIONS_GRIDSIZE2) {
        errors.push(e.too_few_positions(file, diffKey, n, gridsize));
      }
    }
  }

  const checkCoord = (key: string, info: ArrayInfo | undefined): void => {
    if (info === undefined) return;
    if (!REAL_DTYPES.has(info.dtype)) errors.push(e.coord_dtype(file, key, info.dtype));
    if (info.shape.length !== 1) errors.push(e.coord_rank(file, key, info.shape));
    else if (n !== undefined && info.shape[0] !== n) errors.push(e.coord_length(file, key, info.shape[0], n, diffKey));
  };
  checkCoord('xcoords', xInfo);
  checkCoord('ycoords', yInfo);
  // *_start default to the coordinates (RawData contract, the reference's `docs/specs/spec-ptycho-core.md:118-131`).
  const xStartKey = archive.has('xcoords_start') ? 'xcoords_start' : 'xcoords';
  const yStartKey = archive.has('ycoords_start') ? 'ycoords_start' : 'ycoords';
  if (xStartKey === 'xcoords_start') checkCoord(xStartKey, await optional(xStartKey));
  if (yStartKey === 'ycoords_start') checkCoord(yStartKey, await optional(yStartKey));

  // ---- probe: complex N x N matching the patterns
  const probeInfo = await required('probeGuess', 'a complex64 (N, N) probe matching the diffraction patterns');
  if (probeInfo !== undefined) {
    if (!COMPLEX_DTYPES.has(probeInfo.dtype)) errors.push(e.probe_dtype(file, probeInfo.dtype));
    const s = probeInfo.shape;
    const square = s.length === 2 && s[0] === s[1];
    if (!square || (N !== undefined && s[0] !== N)) errors.push(e.probe_shape(file, s, N));
  }

  // ---- object: complex 2-D
  const objectInfo = await required('objectGuess', 'a complex64 2-D object image');
  if (objectInfo !== undefined) {
    if (!COMPLEX_DTYPES.has(objectInfo.dtype)) errors.push(e.object_dtype(file, objectInfo.dtype));
    if (objectInfo.shape.length !== 2) errors.push(e.object_rank(file, objectInfo.shape));
  }

  // ---- _metadata: optional and never fatal
  let metadataReadable = false;
  if (archive.has('_metadata')) {
    const info = await header(archive, '_metadata', (err) => warnings.push(w.metadata_unreadable(file, err)));
    metadataReadable = info !== undefined;
  }

  if (N !== undefined) report.N = N;
  if (n !== undefined) report.nPositions = n;
  report.ok = errors.length === 0;
  if (!report.ok || N === undefined || n === undefined || diffInfo === undefined || objectInfo === undefined) {
    return { report, metadataReadable };
  }
  return {
    report,
    metadataReadable,
    plan: {
      diffKey, compareAlias, diffDtype: diffInfo.dtype, legacyLayout, N, n, xStartKey, yStartKey,
      objectShape: [objectInfo.shape[0], objectInfo.shape[1]],
    },
  };
}

/**
 * Validate an archive from its headers alone (no member data is read): required keys, the diff3d
 * alias, ranks, shapes, dtypes, legacy layouts, pattern size and the gridsize-2 position count.
 */
export async function inspectDataset(archive: DatasetArchive, opts: ValidateOptions): Promise<DatasetReport> {
  return (await examine(archive, opts)).report;
}
