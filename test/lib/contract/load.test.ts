/**
 * loadDataset's conversions against values numpy computed (expected/*.gz), what it reads and never
 * reads, _metadata, and inferPatchSize; plus properties over every fixture.
 */
import { describe, expect, it } from 'vitest';
import { inferPatchSize, inspectDataset, loadDataset, type Dataset } from '../../../src/lib/contract';
import { IngestError } from '../../../src/lib/ingest/types';
import type { DatasetArchive } from '../../../src/lib/contract';
import { bin, expectSameValues, expected, fixtureNames, open, spy } from './helpers';

/** The same archive, but read(key) fails with `err` for one key. */
function failingRead(inner: DatasetArchive, key: string, err: Error): DatasetArchive {
  return {
    keys: inner.keys,
    has: (k) => inner.has(k),
    info: (k) => inner.info(k),
    read: (k) => (k === key ? Promise.reject(err) : inner.read(k)),
  };
}

async function load(name: string, gridsize?: 1 | 2): Promise<Dataset> {
  const { report, dataset } = await loadDataset(await open(name), { file: name, gridsize });
  expect(report.errors).toEqual([]);
  expect(report.ok).toBe(true);
  expect(dataset).toBeDefined();
  const d = dataset!;
  const meta = expected[name] as { N?: number; n?: number } | undefined;
  if (meta?.N !== undefined) {
    expect(d.N).toBe(meta.N);
    expect(d.n).toBe(meta.n);
    expect(report.N).toBe(meta.N);
    expect(report.nPositions).toBe(meta.n);
  }
  expect(d.file).toBe(name);
  expect(d.diffraction).toBeInstanceOf(Float32Array);
  expect(d.diffraction.length).toBe(d.n * d.N * d.N);
  expect(d.probe.re.length).toBe(d.N * d.N);
  expect(d.probe.im.length).toBe(d.N * d.N);
  for (const c of [d.xcoords, d.ycoords, d.xcoordsStart, d.ycoordsStart]) {
    expect(c).toBeInstanceOf(Float64Array);
    expect(c.length).toBe(d.n);
  }
  return d;
}

describe('loadDataset conversions match numpy', () => {
  it('valid_n64.npz: float32 patterns as written, complex128 probe/object to float32 planes, float32 coords widened', async () => {
    const d = await load('valid_n64.npz');
    expectSameValues(d.diffraction, bin('valid_n64.npz', 'diffraction'));
    expectSameValues(d.probe.re, bin('valid_n64.npz', 'probe_re'));
    expectSameValues(d.probe.im, bin('valid_n64.npz', 'probe_im'));
    expect(d.object).toBeDefined();
    expect([d.object!.height, d.object!.width]).toEqual([72, 72]);
    expectSameValues(d.object!.re, bin('valid_n64.npz', 'object_re'));
    expectSameValues(d.object!.im, bin('valid_n64.npz', 'object_im'));
    expectSameValues(d.xcoords, bin('valid_n64.npz', 'xcoords'));
    expectSameValues(d.ycoords, bin('valid_n64.npz', 'ycoords'));
  });

  it('legacy_hwn.npz: (H, W, n) is transposed to C-order (n, N, N)', async () => {
    const d = await load('legacy_hwn.npz');
    expectSameValues(d.diffraction, bin('legacy_hwn.npz', 'diffraction'));
  });

  it('legacy_hwn_uint16.npz: legacy diff3d (H, W, n) uint16 counts are transposed and square-rooted', async () => {
    const d = await load('legacy_hwn_uint16.npz');
    expectSameValues(d.diffraction, bin('legacy_hwn_uint16.npz', 'diffraction'));
  });

  it('trailing_singleton.npz: (n, N, N, 1) is squeezed', async () => {
    const d = await load('trailing_singleton.npz');
    expectSameValues(d.diffraction, bin('trailing_singleton.npz', 'diffraction'));
  });

  it('uint16_intensity.npz: uint16 counts become float32 sqrt amplitudes', async () => {
    const d = await load('uint16_intensity.npz');
    const want = bin('uint16_intensity.npz', 'diffraction');
    expectSameValues(d.diffraction, want);
    // Not a trivially exact case: most counts are not perfect squares.
    expect(Array.from(want).some((v) => !Number.isInteger(v))).toBe(true);
  });

  it('float64_complex128.npz: float64 -> float32 rounding, big-endian complex128 probe, non-square object', async () => {
    const d = await load('float64_complex128.npz');
    expectSameValues(d.diffraction, bin('float64_complex128.npz', 'diffraction'));
    expectSameValues(d.probe.re, bin('float64_complex128.npz', 'probe_re'));
    expectSameValues(d.probe.im, bin('float64_complex128.npz', 'probe_im'));
    expect([d.object!.height, d.object!.width]).toEqual([80, 72]);
    expectSameValues(d.object!.re, bin('float64_complex128.npz', 'object_re'));
    expectSameValues(d.object!.im, bin('float64_complex128.npz', 'object_im'));
    expectSameValues(d.xcoords, bin('float64_complex128.npz', 'xcoords'));
  });

  it('float16_diffraction.npz: float16 values widened exactly', async () => {
    const d = await load('float16_diffraction.npz');
    expectSameValues(d.diffraction, bin('float16_diffraction.npz', 'diffraction'));
  });

  it('phase_c_patched_train.npz: *_start coordinates come from their own keys', async () => {
    const d = await load('phase_c_patched_train.npz');
    expectSameValues(d.xcoordsStart, bin('phase_c_patched_train.npz', 'xcoords_start'));
    expectSameValues(d.ycoordsStart, bin('phase_c_patched_train.npz', 'ycoords_start'));
    expect(d.xcoordsStart[0]).toBe(d.xcoords[0] + 0.5);
  });

  it('legacy_diff3d_only.npz: missing *_start default to copies of the coordinates', async () => {
    const d = await load('legacy_diff3d_only.npz');
    expectSameValues(d.xcoordsStart, d.xcoords);
    expectSameValues(d.ycoordsStart, d.ycoords);
    expect(d.xcoordsStart).not.toBe(d.xcoords);
  });

  it('both_keys_agree.npz: equal diffraction and diff3d load as one', async () => {
    const d = await load('both_keys_agree.npz');
    expect(d.n).toBe(10);
  });
});

describe('_metadata', () => {
  it('Phase C: the pickled 0-d object string is parsed as JSON', async () => {
    const d = await load('phase_c_patched_train.npz');
    const want = (expected['phase_c_patched_train.npz'] as { metadata: unknown }).metadata;
    expect(d.metadata).toEqual(want);
    expect((d.metadata as { schema_version: string }).schema_version).toBe('1.0.0');
  });

  it('Phase D: the 0-d unicode string is parsed as JSON, and lands in the report too', async () => {
    const { report, dataset } = await loadDataset(await open('phase_d_dense_train.npz'), { file: 'd.npz', gridsize: 2 });
    const want = (expected['phase_d_dense_train.npz'] as { metadata: unknown }).metadata;
    expect(dataset?.metadata).toEqual(want);
    expect(report.metadata).toEqual(want);
    expect((report.metadata as { overlap_view: string }).overlap_view).toBe('dense');
  });

  it('an unreadable pickle leaves the dataset usable and without metadata', async () => {
    const { report, dataset } = await loadDataset(await open('bad_pickle_metadata.npz'), { file: 'p.npz' });
    expect(report.ok).toBe(true);
    expect(dataset).toBeDefined();
    expect(dataset!.metadata).toBeUndefined();
    expect(report.metadata).toBeUndefined();
  });
});

describe('what is read', () => {
  it('inspectDataset reads headers only, never data', async () => {
    for (const name of ['phase_c_patched_train.npz', 'valid_n64.npz', 'alias_value_mismatch.npz']) {
      const a = spy(await open(name));
      await inspectDataset(a, { file: name });
      expect(a.reads).toEqual([]);
      expect(a.infos.length).toBeGreaterThan(0);
    }
  });

  it('loadDataset reads only the training members: never Y or ground_truth_patches (Phase C)', async () => {
    const a = spy(await open('phase_c_patched_train.npz'));
    expect(a.keys).toContain('Y');
    expect(a.keys).toContain('ground_truth_patches');
    const { dataset } = await loadDataset(a, { file: 'c.npz' });
    expect(dataset).toBeDefined();
    expect([...a.reads].sort()).toEqual(
      ['_metadata', 'diffraction', 'objectGuess', 'probeGuess', 'xcoords', 'xcoords_start', 'ycoords', 'ycoords_start'].sort());
    expect(a.infos).not.toContain('Y');
    expect(a.infos).not.toContain('ground_truth_patches');
  });

  it('loadDataset never reads Y, filenames or other extras (reference fixture layout)', async () => {
    const a = spy(await open('valid_n64.npz'));
    expect(a.keys).toEqual(expect.arrayContaining(['Y', 'filenames']));
    await loadDataset(a, { file: 'v.npz' });
    expect([...a.reads].sort()).toEqual(['diffraction', 'objectGuess', 'probeGuess', 'xcoords', 'ycoords'].sort());
  });

  it('reads diff3d too when both keys exist, to compare values', async () => {
    const a = spy(await open('both_keys_agree.npz'));
    await loadDataset(a, { file: 'b.npz' });
    expect(a.reads).toContain('diff3d');
    expect(a.reads).toContain('diffraction');
  });

  it('a file with header errors is not read beyond its headers', async () => {
    const a = spy(await open('probe_size.npz'));
    const { report, dataset } = await loadDataset(a, { file: 'x.npz' });
    expect(report.ok).toBe(false);
    expect(dataset).toBeUndefined();
    expect(a.reads).toEqual([]);
  });
});

describe('failures while reading', () => {
  it('an IngestError reading a coordinate becomes an error naming file and key', async () => {
    const err = new IngestError('truncated', 'v.npz', 'ycoords', 'the member ends after 40 of 80 bytes');
    const { report, dataset } = await loadDataset(failingRead(await open('valid_n64.npz'), 'ycoords', err), { file: 'v.npz' });
    expect(dataset).toBeUndefined();
    expect(report.ok).toBe(false);
    expect(report.errors.map((i) => [i.code, i.key, i.found])).toEqual([
      ['unreadable_member', 'ycoords', 'truncated (the member ends after 40 of 80 bytes)'],
    ]);
  });

  it('anything that is not an IngestError is a programmer error and propagates', async () => {
    const bug = new TypeError('reader bug');
    await expect(loadDataset(failingRead(await open('valid_n64.npz'), 'probeGuess', bug), { file: 'v.npz' }))
      .rejects.toBe(bug);
  });
});

describe('inferPatchSize (LATEST _infer_patch_size order)', () => {
  const cases: [string, number | undefined][] = [
    ['valid_n64.npz', 64],               // diffraction.shape[1]
    ['small_n16.npz', 16],
    ['legacy_hwn.npz', 64],              // (H, W, n): shape[1] is W
    ['legacy_diff3d_only.npz', 64],      // diff3d.shape[1]
    ['alias_shape_mismatch.npz', 64],    // diffraction wins over diff3d
    ['infer_rank2_diff3d32.npz', 32],    // 2-D diffraction -> diff3d
    ['infer_4d_probe32.npz', 32],        // 4-D diffraction is not 3-D -> probeGuess.shape[0]
    ['missing_diffraction.npz', 64],     // probeGuess.shape[0]
    ['infer_nothing.npz', undefined],    // failure: the caller falls back (reference: 64)
  ];
  for (const [name, want] of cases) {
    it(`${name} -> ${String(want)}`, async () => {
      const a = spy(await open(name));
      expect(await inferPatchSize(a)).toBe(want);
      expect(a.reads).toEqual([]);
    });
  }
});

describe('properties over every fixture', () => {
  const names = fixtureNames();

  it('has the fixtures the script writes', () => {
    expect(names.length).toBeGreaterThanOrEqual(45);
  });

  it('inspect and load never throw, agree on header issues, and every message names file, key, found and expected', async () => {
    for (const name of names) {
      for (const gridsize of [1, 2] as const) {
        const file = `root/${name}`;
        const inspected = await inspectDataset(await open(name), { file, gridsize });
        const { report, dataset } = await loadDataset(await open(name), { file, gridsize });
        const sig = (i: { code: string; key: string }): string => `${i.code}:${i.key}`;
        // load adds value-level issues but never loses a header-level one
        for (const i of [...inspected.errors, ...inspected.warnings]) {
          expect([...report.errors, ...report.warnings].map(sig)).toContain(sig(i));
        }
        expect(report.N).toBe(inspected.N);
        expect(report.nPositions).toBe(inspected.nPositions);
        expect(dataset !== undefined).toBe(report.ok);
        for (const issue of [...report.errors, ...report.warnings]) {
          expect(issue.file).toBe(file);
          expect(issue.message).toContain(file);
          expect(issue.message).toContain(`'${issue.key}'`);
          expect(issue.message).toContain(issue.found);
          expect(issue.message).toContain(issue.expected);
          expect(issue.found.length).toBeGreaterThan(0);
          expect(issue.expected.length).toBeGreaterThan(0);
          // one sentence: a single full stop at the end (decimal points aside)
          expect(issue.message.endsWith('.')).toBe(true);
          expect(issue.message.slice(0, -1)).not.toMatch(/\.\s+[A-Z]/);
        }
      }
    }
  });
});
