/**
 * One numpy-written file per rule (test/fixtures/contract/make_fixtures.py): each must yield exactly
 * the issues listed (code, severity, key), in inspectDataset (headers) and loadDataset (values too),
 * with messages that name the file, the key, what was found and what was expected.
 */
import { describe, expect, it } from 'vitest';
import { e, w, formatNumber, inspectDataset, loadDataset, warningCounts, studyWideWarnings, WARNING_LABELS, type ContractIssue } from '../../../src/lib/contract';
import { expected, open } from './helpers';

type Sev = 'error' | 'warning';
/** [severity, code, key, ...fragments the message must contain] */
type Want = [Sev, string, string, ...string[]];

interface Case {
  fixture: string;
  gridsize?: 1 | 2;
  /** Issues from the headers alone. */
  inspect: Want[];
  /** Issues once values are read; defaults to `inspect`. */
  load?: Want[];
  why: string;
}

const spikyMean = (expected['spiky_amplitude.npz'] as { mean: number }).mean;
const hugeMax = (expected['huge_amplitude.npz'] as { max: number }).max;

const CASES: Case[] = [
  // ---- valid files
  { fixture: 'valid_n64.npz', inspect: [], why: 'the reference test fixture layout is clean' },
  { fixture: 'phase_c_patched_train.npz', inspect: [], why: 'Phase C with pickled _metadata, Y and ground truth is clean' },
  { fixture: 'phase_d_dense_train.npz', gridsize: 2, inspect: [], why: 'Phase D with str _metadata is clean at gridsize 2' },
  { fixture: 'both_keys_agree.npz', inspect: [], why: 'diffraction and diff3d may both be present when equal' },
  { fixture: 'float64_complex128.npz', inspect: [], why: 'float64 diffraction and complex128 probe/object are accepted' },
  { fixture: 'float16_diffraction.npz', inspect: [], why: 'float16 diffraction is accepted' },
  { fixture: 'four_positions.npz', gridsize: 1, inspect: [], why: 'four positions are enough at gridsize 1' },
  {
    fixture: 'legacy_diff3d_only.npz', why: 'diff3d alone is the legacy name',
    inspect: [['warning', 'legacy_key', 'diff3d', "'diff3d' without 'diffraction'", "'diffraction' (DATA-001)"]],
  },
  {
    fixture: 'legacy_hwn.npz', why: '(H, W, n) is transposed with a warning',
    inspect: [['warning', 'legacy_layout', 'diffraction', 'shape (64, 64, 10) with 10 scan positions', '(n_patterns, N, N) = (10, 64, 64)', 'transposed']],
  },
  {
    fixture: 'legacy_hwn_uint16.npz', why: 'legacy diff3d in (H, W, n) uint16: renamed, transposed and converted',
    inspect: [
      ['warning', 'legacy_key', 'diff3d'],
      ['warning', 'legacy_layout', 'diff3d', 'shape (64, 64, 10)'],
      ['warning', 'intensity_converted', 'diff3d'],
    ],
  },
  {
    fixture: 'legacy_hwn_nan_alias.npz', why: 'in the legacy layout, bad values are located as (pattern, row, column)',
    inspect: [['warning', 'legacy_layout', 'diffraction']],
    load: [
      ['warning', 'legacy_layout', 'diffraction'],
      ['error', 'alias_values_differ', 'diff3d', '1 differing value of 40960', 'the first at pattern 4, row 5, column 6'],
      ['error', 'non_finite', 'diffraction', '1 NaN or infinite value of 40960', 'the first at pattern 3, row 10, column 12'],
    ],
  },
  {
    fixture: 'trailing_singleton.npz', why: 'a trailing singleton axis is squeezed',
    inspect: [['warning', 'squeezed_axis', 'diffraction', 'shape (10, 64, 64, 1)', 'dropped']],
  },
  {
    fixture: 'uint16_intensity.npz', why: 'uint16 intensity is converted to amplitude',
    inspect: [
      ['warning', 'legacy_key', 'diff3d'],
      ['warning', 'intensity_converted', 'diff3d', 'uint16', 'float32 amplitude', 'square root'],
    ],
  },
  {
    fixture: 'small_n16.npz', why: 'small even N is allowed with a warning',
    inspect: [['warning', 'small_patch_size', 'diffraction', 'N = 16', 'N = 64, 128 or 256']],
  },
  {
    fixture: 'bad_pickle_metadata.npz', why: 'an unreadable pickle in _metadata is a warning, not fatal',
    inspect: [],
    load: [['warning', 'metadata_unreadable', '_metadata', 'unsupported_pickle', 'a JSON string']],
  },
  {
    fixture: 'metadata_not_json.npz', why: 'a _metadata string that is not JSON is a warning',
    inspect: [],
    load: [['warning', 'metadata_not_json', '_metadata', 'the text "dense view, threshold 38.4"', 'a JSON string']],
  },

  // ---- one broken rule per file
  {
    fixture: 'missing_probe.npz', why: 'probeGuess is required',
    inspect: [['error', 'missing_key', 'probeGuess', 'the file holds diffraction, objectGuess, xcoords, ycoords', 'complex64 (N, N) probe']],
  },
  {
    fixture: 'missing_diffraction.npz', why: 'diffraction (or diff3d) is required',
    inspect: [['error', 'missing_key', 'diffraction', 'no such key', "(or the legacy 'diff3d')"]],
  },
  {
    fixture: 'missing_ycoords.npz', why: 'ycoords is required',
    inspect: [['error', 'missing_key', 'ycoords', 'no such key', 'one per diffraction pattern']],
  },
  {
    fixture: 'missing_object.npz', why: 'objectGuess is required',
    inspect: [['error', 'missing_key', 'objectGuess', 'no such key', 'complex64 2-D object']],
  },
  {
    fixture: 'alias_shape_mismatch.npz', why: 'diffraction and diff3d must agree in shape',
    inspect: [['error', 'alias_mismatch', 'diff3d', 'dtype float32, shape (10, 32, 32)', "dtype float32, shape (10, 64, 64) as in 'diffraction'"]],
  },
  {
    fixture: 'alias_value_mismatch.npz', why: 'diffraction and diff3d must agree in values',
    inspect: [],
    load: [['error', 'alias_values_differ', 'diff3d', '2 differing values of 40960', 'pattern 2, row 5, column 7', "identical to 'diffraction'"]],
  },
  {
    fixture: 'rank2_diffraction.npz', why: 'diffraction must be 3-D',
    inspect: [['error', 'diffraction_rank', 'diffraction', 'shape (10, 4096)', '3-D array (n_patterns, N, N)']],
  },
  {
    fixture: 'non_square.npz', why: 'patterns must be square',
    inspect: [['error', 'not_square', 'diffraction', '64 x 48 pixels', 'shape (10, 64, 48)', 'N x N']],
  },
  {
    fixture: 'int32_diffraction.npz', why: 'diffraction must be float (or uint16 intensity)',
    inspect: [['error', 'diffraction_dtype', 'diffraction', 'dtype int32', 'float32 amplitude', 'uint16 raw intensity']],
  },
  {
    fixture: 'coord_length.npz', why: 'xcoords needs one value per pattern',
    inspect: [['error', 'coord_length', 'xcoords', '9 coordinates', "10, the number of patterns in 'diffraction'"]],
  },
  {
    fixture: 'start_coord_length.npz', why: 'xcoords_start, when present, needs one value per pattern',
    inspect: [['error', 'coord_length', 'xcoords_start', '8 coordinates', '10, the number of patterns']],
  },
  {
    fixture: 'coord_rank.npz', why: 'coordinates are 1-D',
    inspect: [['error', 'coord_rank', 'xcoords', 'shape (10, 2)', '1-D array']],
  },
  {
    fixture: 'complex_coords.npz', why: 'coordinates are real',
    inspect: [['error', 'coord_dtype', 'ycoords', 'dtype complex64', 'float64 pixel coordinates']],
  },
  {
    fixture: 'real_probe.npz', why: 'the probe is complex',
    inspect: [['error', 'probe_dtype', 'probeGuess', 'dtype float32', 'complex64 or complex128']],
  },
  {
    fixture: 'probe_size.npz', why: 'the probe matches the pattern size',
    inspect: [['error', 'probe_shape', 'probeGuess', 'shape (32, 32)', 'shape (64, 64), the size of the diffraction patterns']],
  },
  {
    fixture: 'real_object.npz', why: 'the object is complex',
    inspect: [['error', 'object_dtype', 'objectGuess', 'dtype float64', 'complex64 or complex128']],
  },
  {
    fixture: 'object_rank3.npz', why: 'the object is 2-D',
    inspect: [['error', 'object_rank', 'objectGuess', 'shape (1, 72, 72)', '2-D array']],
  },
  {
    fixture: 'nan_diffraction.npz', why: 'diffraction values must be finite',
    inspect: [],
    load: [['error', 'non_finite', 'diffraction', '3 NaN or infinite values of 40960', 'the first at pattern 3, row 10, column 12', 'only finite values']],
  },
  {
    fixture: 'negative_amplitude.npz', why: 'amplitudes are non-negative',
    inspect: [],
    load: [['error', 'negative_amplitude', 'diffraction', '2 negative values (minimum -0.5)', 'the first at pattern 1, row 2, column 3', 'amplitudes >= 0']],
  },
  {
    fixture: 'huge_amplitude.npz', why: 'DATA-001 heuristic max < 10 (warning)',
    inspect: [],
    load: [['warning', 'amplitude_max', 'diffraction', `a maximum of ${formatNumber(hugeMax)}`, 'a maximum below 10']],
  },
  {
    fixture: 'spiky_amplitude.npz', why: 'DATA-001 heuristic max/mean < 100 (warning)',
    inspect: [],
    load: [['warning', 'amplitude_ratio', 'diffraction', `max/mean = ${formatNumber(1 / spikyMean)}`, 'max/mean below 100']],
  },
  {
    fixture: 'zero_diffraction.npz', why: 'all-zero diffraction cannot be normalised',
    inspect: [],
    load: [['error', 'zero_diffraction', 'diffraction', 'only zeros', 'positive mean']],
  },
  {
    fixture: 'nan_coords.npz', why: 'coordinates must be finite',
    inspect: [],
    load: [['error', 'non_finite', 'xcoords', '2 NaN or infinite values of 10', 'the first at index 4']],
  },
  {
    fixture: 'nan_probe.npz', why: 'the probe must be finite',
    inspect: [],
    load: [['error', 'non_finite', 'probeGuess', '1 NaN or infinite value of 4096', 'the first at row 10, column 20']],
  },
  {
    fixture: 'four_positions.npz', gridsize: 2, why: 'gridsize 2 needs a seed plus K = 4 neighbours',
    inspect: [['error', 'too_few_positions', 'diffraction', 'gridsize 2', '4 positions', 'at least 5']],
  },
  {
    fixture: 'no_patterns.npz', why: 'a file needs at least one pattern',
    inspect: [['error', 'no_patterns', 'diffraction', 'shape (0, 64, 64)', 'at least one pattern']],
  },
  {
    fixture: 'odd_n15.npz', why: 'odd N is refused',
    inspect: [['error', 'patch_size', 'diffraction', 'N = 15', 'N = 64, 128 or 256']],
  },
  {
    fixture: 'tiny_n8.npz', why: 'N below 16 is refused',
    inspect: [['error', 'patch_size', 'diffraction', 'N = 8']],
  },
  {
    fixture: 'n96.npz', why: 'even N between the supported sizes is refused',
    inspect: [['error', 'patch_size', 'diffraction', 'N = 96']],
  },
  {
    fixture: 'corrupt_probe_header.npz', why: 'a member whose header cannot be read is an error naming it',
    inspect: [
      ['warning', 'small_patch_size', 'diffraction'],
      ['error', 'unreadable_member', 'probeGuess', 'found bad_magic', 'a readable NumPy array'],
    ],
  },
  {
    fixture: 'corrupt_diffraction_data.npz', why: 'a member whose data fail their CRC is an error naming it',
    inspect: [['warning', 'small_patch_size', 'diffraction']],
    load: [
      ['warning', 'small_patch_size', 'diffraction'],
      ['error', 'unreadable_member', 'diffraction', 'found bad_crc', 'a readable NumPy array'],
    ],
  },
  {
    fixture: 'corrupt_metadata_header.npz', why: 'a damaged _metadata is a warning, not fatal',
    inspect: [
      ['warning', 'small_patch_size', 'diffraction'],
      ['warning', 'metadata_unreadable', '_metadata', 'found bad_magic', 'a JSON string'],
    ],
  },
];

const sig = (i: { severity: string; code: string; key: string }): string => `${i.severity}:${i.code}:${i.key}`;

function checkIssues(file: string, got: ContractIssue[], want: Want[]): void {
  expect(got.map(sig).sort()).toEqual(want.map(([s, c, k]) => `${s}:${c}:${k}`).sort());
  for (const [severity, code, key, ...fragments] of want) {
    const issue = got.find((i) => i.code === code && i.key === key)!;
    expect(issue.severity).toBe(severity);
    expect(issue.file).toBe(file);
    expect(issue.message).toContain(file);
    expect(issue.message).toContain(`'${key}'`);
    for (const f of fragments) expect(issue.message).toContain(f);
  }
}

describe('contract rules, one numpy-written file each', () => {
  for (const c of CASES) {
    const file = `phase_c/dose_1000/${c.fixture}`;
    const label = `${c.fixture}${c.gridsize === 2 ? ' (gridsize 2)' : ''}: ${c.why}`;

    it(`inspect ${label}`, async () => {
      const report = await inspectDataset(await open(c.fixture), { file, gridsize: c.gridsize });
      checkIssues(file, [...report.errors, ...report.warnings], c.inspect);
      expect(report.errors.every((i) => i.severity === 'error')).toBe(true);
      expect(report.warnings.every((i) => i.severity === 'warning')).toBe(true);
      expect(report.ok).toBe(report.errors.length === 0);
      expect(report.file).toBe(file);
    });

    it(`load ${label}`, async () => {
      const { report, dataset } = await loadDataset(await open(c.fixture), { file, gridsize: c.gridsize });
      checkIssues(file, [...report.errors, ...report.warnings], c.load ?? c.inspect);
      expect(report.ok).toBe(report.errors.length === 0);
      expect(dataset !== undefined).toBe(report.ok);
    });
  }
});

describe('warnings counted by kind', () => {
  it('labels every warning of the catalogue and counts them most frequent first', () => {
    const f = 'a.npz';
    const issues: ContractIssue[] = [
      w.small_patch_size(f, 'diffraction', 32), w.amplitude_max(f, 'diffraction', 20),
      w.small_patch_size('b.npz', 'diffraction', 32), e.missing_key(f, 'probeGuess', ['diffraction'], 'a complex (N, N) array'),
    ];
    expect(warningCounts(issues)).toEqual([['small patterns (quick tests only)', 2], ['amplitude maximum above 10', 1]]);
    expect(Object.keys(WARNING_LABELS).sort()).toEqual(Object.keys(w).sort());
    expect(warningCounts([])).toEqual([]);
  });
});

describe('study-wide warnings', () => {
  const rep = (file: string, N: number | undefined, small: boolean) => ({ N, warnings: small && N !== undefined ? [w.small_patch_size(file, 'diffraction', N)] : [] });
  it('one note when every file has the same small N; the per-file warnings it stands for are listed', () => {
    const reports = [rep('a', 32, true), rep('b', 32, true), rep('c', undefined, false)];
    const s = studyWideWarnings(reports);
    expect(s.notes).toEqual(['Every file of this study has N = 32 patterns (2 files): fine for quick tests; real training uses N = 64, 128 or 256.']);
    expect([...s.covered]).toEqual([reports[0].warnings[0], reports[1].warnings[0]]);
  });
  it('no note when the files differ in N or some are full size, or there is a single file', () => {
    expect(studyWideWarnings([rep('a', 32, true), rep('b', 16, true)]).notes).toEqual([]);
    expect(studyWideWarnings([rep('a', 32, true), rep('b', 64, false)]).notes).toEqual([]);
    expect(studyWideWarnings([rep('a', 32, true)]).notes).toEqual([]);
  });
});
