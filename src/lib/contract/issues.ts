/**
 * The catalogue of everything dataset validation can say (Svelte-compiler style: `e.missing_key(...)`
 * for errors, `w.legacy_key(...)` for warnings). Every issue names the file, the key, what was found and
 * what was expected, and carries one sentence a scientist understands that contains all four.
 */
import type { IngestError } from '../ingest/types';

export type Severity = 'error' | 'warning';

export interface ContractIssue {
  severity: Severity;
  /** Stable machine-readable code, e.g. 'missing_key'. */
  code: string;
  /** The file as the user knows it, e.g. 'phase_c/dose_1000/patched_train.npz'. */
  file: string;
  /** The NPZ member the issue is about, e.g. 'diffraction'. */
  key: string;
  found: string;
  expected: string;
  message: string;
}

/** numpy's way of writing a shape: (10, 64, 64), (10,), (). */
export function formatShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** A number as a scientist would read it: integers exactly, others to 6 significant digits. */
export function formatNumber(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  if (!Number.isFinite(v)) return String(v);
  return String(Number(v.toPrecision(6)));
}

/** Where an element sits: "pattern 3, row 10, column 12" for stacks of patterns, "index 4" for vectors. */
export function formatPosition(index: readonly number[]): string {
  if (index.length === 1) return `index ${index[0]}`;
  if (index.length === 2) return `row ${index[0]}, column ${index[1]}`;
  if (index.length === 3) return `pattern ${index[0]}, row ${index[1]}, column ${index[2]}`;
  return `index [${index.join(', ')}]`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function make(
  severity: Severity,
  code: string,
  file: string,
  key: string,
  what: string,
  found: string,
  expected: string,
  consequence?: string,
): ContractIssue {
  const tail = consequence === undefined ? '' : `; ${consequence}`;
  return {
    severity, code, file, key, found, expected,
    message: `In ${file}, '${key}' ${what}: found ${found}, expected ${expected}${tail}.`,
  };
}

const FLOAT_DTYPES = 'float32 amplitude (float16 and float64 are accepted too) or uint16 raw intensity';
const PATCH_SIZES = '64, 128 or 256 (an even size from 16 to 62 is allowed for quick tests)';

/** Errors: each one blocks training on the file. */
export const e = {
  missing_key(file: string, key: string, keys: readonly string[], expected: string): ContractIssue {
    const shown = keys.length > 16 ? `${keys.slice(0, 16).join(', ')} and ${keys.length - 16} more` : keys.join(', ');
    const present = keys.length === 0 ? 'an archive with no arrays' : `no such key (the file holds ${shown})`;
    return make('error', 'missing_key', file, key, 'is missing', present, expected);
  },

  unreadable(file: string, key: string, err: IngestError): ContractIssue {
    return make('error', 'unreadable_member', file, key, 'could not be read',
      `${err.code} (${err.detail})`, 'a readable NumPy array');
  },

  alias_mismatch(file: string, found: string, expected: string): ContractIssue {
    return make('error', 'alias_mismatch', file, 'diff3d',
      "disagrees with 'diffraction' (both are present and must hold the same patterns)", found, expected);
  },

  alias_values_differ(file: string, count: number, total: number, first: readonly number[]): ContractIssue {
    return make('error', 'alias_values_differ', file, 'diff3d',
      "holds different values from 'diffraction' (both are present and must hold the same patterns)",
      `${plural(count, 'differing value')} of ${total}, the first at ${formatPosition(first)}`,
      "values identical to 'diffraction'");
  },

  diffraction_dtype(file: string, key: string, dtype: string): ContractIssue {
    return make('error', 'diffraction_dtype', file, key, 'has an unusable data type',
      `dtype ${dtype}`, FLOAT_DTYPES);
  },

  diffraction_rank(file: string, key: string, shape: readonly number[]): ContractIssue {
    return make('error', 'diffraction_rank', file, key, 'is not a stack of 2-D patterns',
      `shape ${formatShape(shape)}`, 'a 3-D array (n_patterns, N, N) (a trailing axis of length 1 is dropped)');
  },

  no_patterns(file: string, key: string, shape: readonly number[]): ContractIssue {
    return make('error', 'no_patterns', file, key, 'holds no diffraction patterns',
      `shape ${formatShape(shape)}`, 'at least one pattern');
  },

  not_square(file: string, key: string, shape: readonly number[]): ContractIssue {
    return make('error', 'not_square', file, key, 'holds patterns that are not square',
      `patterns of ${shape[1]} x ${shape[2]} pixels (shape ${formatShape(shape)})`, 'N x N patterns');
  },

  patch_size(file: string, key: string, n: number): ContractIssue {
    return make('error', 'patch_size', file, key, 'has a pattern size the model cannot use',
      `N = ${n}`, `N = ${PATCH_SIZES}`);
  },

  coord_dtype(file: string, key: string, dtype: string): ContractIssue {
    return make('error', 'coord_dtype', file, key, 'does not hold real numbers',
      `dtype ${dtype}`, 'float64 pixel coordinates (any real float or integer type is accepted)');
  },

  coord_rank(file: string, key: string, shape: readonly number[]): ContractIssue {
    return make('error', 'coord_rank', file, key, 'is not a 1-D vector of coordinates',
      `shape ${formatShape(shape)}`, 'a 1-D array with one coordinate per scan position');
  },

  coord_length(file: string, key: string, length: number, nPatterns: number, diffKey: string): ContractIssue {
    return make('error', 'coord_length', file, key, 'does not have one coordinate per diffraction pattern',
      `${plural(length, 'coordinate')}`, `${nPatterns}, the number of patterns in '${diffKey}'`);
  },

  probe_dtype(file: string, dtype: string): ContractIssue {
    return make('error', 'probe_dtype', file, 'probeGuess', 'is not complex',
      `dtype ${dtype}`, 'complex64 or complex128');
  },

  probe_shape(file: string, shape: readonly number[], n: number | undefined): ContractIssue {
    const expected = n === undefined ? 'a square (N, N) array' : `shape (${n}, ${n}), the size of the diffraction patterns`;
    return make('error', 'probe_shape', file, 'probeGuess', 'does not match the diffraction patterns',
      `shape ${formatShape(shape)}`, expected);
  },

  object_dtype(file: string, dtype: string): ContractIssue {
    return make('error', 'object_dtype', file, 'objectGuess', 'is not complex',
      `dtype ${dtype}`, 'complex64 or complex128');
  },

  object_rank(file: string, shape: readonly number[]): ContractIssue {
    return make('error', 'object_rank', file, 'objectGuess', 'is not a 2-D image',
      `shape ${formatShape(shape)}`, 'a 2-D array (height, width)');
  },

  too_few_positions(file: string, key: string, n: number, gridsize: number): ContractIssue {
    // gridsize 2 groups a seed with its K = 4 nearest neighbours (`raw_data.py:640-644`; TrainingConfig.neighbor_count = 4, `config.py:139`).
    return make('error', 'too_few_positions', file, key, `has too few scan positions for gridsize ${gridsize}`,
      plural(n, 'position'), 'at least 5 (a seed plus its K = 4 nearest neighbours)');
  },

  non_finite(file: string, key: string, count: number, total: number, first: readonly number[]): ContractIssue {
    return make('error', 'non_finite', file, key, 'contains values that are not finite numbers',
      `${plural(count, 'NaN or infinite value')} of ${total}, the first at ${formatPosition(first)}`,
      'only finite values');
  },

  negative_amplitude(file: string, key: string, count: number, min: number, first: readonly number[]): ContractIssue {
    return make('error', 'negative_amplitude', file, key, 'contains negative amplitudes',
      `${plural(count, 'negative value')} (minimum ${formatNumber(min)}), the first at ${formatPosition(first)}`,
      'amplitudes >= 0 (the square root of intensity)');
  },

  zero_diffraction(file: string, key: string): ContractIssue {
    return make('error', 'zero_diffraction', file, key, 'is zero everywhere',
      'only zeros', 'measured amplitudes with a positive mean (training normalises by it)');
  },
} as const;

/** Warnings: the file can still train, but the user should know. */
export const w = {
  legacy_key(file: string): ContractIssue {
    return make('warning', 'legacy_key', file, 'diff3d', "is the legacy name for the diffraction patterns",
      "'diff3d' without 'diffraction'", "'diffraction' (DATA-001)", "'diff3d' is used as the diffraction patterns");
  },

  squeezed_axis(file: string, key: string, shape: readonly number[]): ContractIssue {
    return make('warning', 'squeezed_axis', file, key, 'has a trailing axis of length 1',
      `shape ${formatShape(shape)}`, 'a 3-D array (n_patterns, N, N)', 'the last axis was dropped');
  },

  legacy_layout(file: string, key: string, shape: readonly number[], n: number): ContractIssue {
    return make('warning', 'legacy_layout', file, key, 'uses the legacy (H, W, n_patterns) layout',
      `shape ${formatShape(shape)} with ${n} scan positions`, `(n_patterns, N, N) = (${n}, ${shape[0]}, ${shape[1]})`,
      'the patterns were transposed to that layout');
  },

  intensity_converted(file: string, key: string): ContractIssue {
    return make('warning', 'intensity_converted', file, key, 'holds raw intensity',
      'dtype uint16 (photon counts)', 'float32 amplitude (DATA-001)',
      'it was converted to amplitude with a square root');
  },

  small_patch_size(file: string, key: string, n: number): ContractIssue {
    return make('warning', 'small_patch_size', file, key, 'has small patterns, fine for quick tests only',
      `N = ${n}`, 'N = 64, 128 or 256 for real training');
  },

  amplitude_max(file: string, key: string, max: number): ContractIssue {
    // DATA-001 suggested check: max < 10 (the reference's `docs/data_contracts.md:49-70`).
    return make('warning', 'amplitude_max', file, key, 'looks like intensity or photon counts rather than normalised amplitude',
      `a maximum of ${formatNumber(max)}`, 'a maximum below 10 (normalised amplitude, DATA-001)');
  },

  amplitude_ratio(file: string, key: string, max: number, mean: number): ContractIssue {
    // DATA-001 suggested check: max/mean < 100 (the reference's `docs/data_contracts.md:49-70`).
    return make('warning', 'amplitude_ratio', file, key, 'has an extreme dynamic range',
      `max/mean = ${formatNumber(max / mean)} (max ${formatNumber(max)}, mean ${formatNumber(mean)})`,
      'max/mean below 100 (DATA-001)');
  },

  metadata_unreadable(file: string, err: IngestError): ContractIssue {
    return make('warning', 'metadata_unreadable', file, '_metadata', 'could not be read and is ignored',
      `${err.code} (${err.detail})`, 'a JSON string (a 0-d str array, or a pickled 0-d object array holding one string)');
  },

  metadata_not_json(file: string, found: string): ContractIssue {
    return make('warning', 'metadata_not_json', file, '_metadata', 'is not a JSON document and is ignored',
      found, 'a JSON string');
  },
} as const;

/** A few words per warning code, for summaries that count warnings by kind ("18 × small patterns"). */
export const WARNING_LABELS: Record<keyof typeof w, string> = {
  legacy_key: "legacy 'diff3d' key",
  squeezed_axis: 'trailing axis of length 1 dropped',
  legacy_layout: 'legacy (H, W, n) layout transposed',
  intensity_converted: 'raw intensity converted to amplitude',
  small_patch_size: 'small patterns (quick tests only)',
  amplitude_max: 'amplitude maximum above 10',
  amplitude_ratio: 'amplitude max/mean above 100',
  metadata_unreadable: "unreadable '_metadata'",
  metadata_not_json: "'_metadata' not JSON",
};

/** Warnings counted by kind, most frequent first: [[label, count], ...]. */
export function warningCounts(issues: readonly ContractIssue[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const i of issues) {
    if (i.severity !== 'warning') continue;
    const label = (WARNING_LABELS as Record<string, string>)[i.code] ?? i.code;
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}

/**
 * Study-wide warnings: a property every file of the study shares is one fact about the study, not one
 * per file. Today that is the small pattern size (the N = 32 demo): when every report with a known N
 * carries small_patch_size for the same N, the summary shows one note instead of one warning per file.
 * Returns the notes and the warnings they stand for (the per-file report keeps the detail).
 */
export function studyWideWarnings(reports: ReadonlyArray<{ N?: number; warnings: readonly ContractIssue[] }>): { notes: string[]; covered: Set<ContractIssue> } {
  const sized = reports.filter((r) => r.N !== undefined);
  const small = sized.map((r) => r.warnings.find((i) => i.code === 'small_patch_size'));
  const covered = new Set<ContractIssue>();
  const notes: string[] = [];
  if (sized.length >= 2 && small.every((i) => i !== undefined) && new Set(sized.map((r) => r.N)).size === 1) {
    for (const i of small) covered.add(i!);
    notes.push(`Every file of this study has N = ${sized[0].N} patterns (${sized.length} files): fine for quick tests; real training uses N = 64, 128 or 256.`);
  }
  return { notes, covered };
}
