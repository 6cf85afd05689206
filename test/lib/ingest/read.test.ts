import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openNpz, readNpy } from '../../../src/lib/ingest/index.ts';
import { EXPECTED, expectMatches, fixture, fixtureBytes } from './helpers.ts';

const npzFiles = Object.keys(EXPECTED).filter((f) => f.endsWith('.npz'));
const npyFiles = Object.keys(EXPECTED).filter((f) => f.endsWith('.npy'));

describe('every value numpy wrote (expected.json from make_fixtures.py)', () => {
  it('covers the fixture set', () => {
    expect(npzFiles.length).toBeGreaterThanOrEqual(13);
    const dtypes = new Set(Object.values(EXPECTED).flatMap((f) => Object.values(f).map((a) => a.dtype)));
    for (const d of ['bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float16', 'float32',
      'float64', 'complex64', 'complex128', 'str', 'bytes', 'object']) expect(dtypes, d).toContain(d);
  });

  for (const file of npzFiles) {
    for (const mode of ['auto', 'fflate'] as const) {
      it(`${file} (Uint8Array, inflate=${mode})`, async () => {
        const z = await openNpz(fixtureBytes(file), file, { inflate: mode });
        expect(z.fileName).toBe(file);
        expect(z.keys).toEqual(Object.keys(EXPECTED[file]));
        for (const [key, exp] of Object.entries(EXPECTED[file])) {
          expect(z.has(key)).toBe(true);
          const info = await z.info(key);
          expect(info.dtype).toBe(exp.dtype);
          expect(info.shape).toEqual(exp.shape);
          expect(info.descr).toBe(exp.descr);
          expect(info.fortranOrder).toBe(exp.fortran);
          expectMatches(await z.read(key), exp, `${file}:${key}`);
        }
      });
    }
    it(`${file} (fs.openAsBlob)`, async () => {
      const z = await openNpz(await fs.openAsBlob(fixture(file)), file);
      for (const [key, exp] of Object.entries(EXPECTED[file])) expectMatches(await z.read(key), exp, `${file}:${key}`);
    });
  }

  it('reads from an in-memory Blob and a Uint8Array view at an odd offset', async () => {
    const file = 'dtypes_be.npz';
    const bytes = fixtureBytes(file);
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    for (const src of [new Blob([bytes]), padded.subarray(3)]) {
      const z = await openNpz(src, file);
      for (const [key, exp] of Object.entries(EXPECTED[file])) expectMatches(await z.read(key), exp, `${file}:${key}`);
    }
    // reading never modifies the caller's bytes (big-endian data is swapped in our own copy)
    expect(padded.subarray(3)).toEqual(bytes);
  });

  for (const file of npyFiles) {
    it(`readNpy ${file}`, () => {
      const bytes = fixtureBytes(file);
      const copy = bytes.slice();
      expectMatches(readNpy(bytes, file), EXPECTED[file][''], file);
      expect(bytes).toEqual(copy);
    });
  }

  it('decodes the Phase C pickled _metadata to its JSON string', async () => {
    const z = await openNpz(fixtureBytes('phase_c_like.npz'), 'phase_c_like.npz');
    const m = await z.read('_metadata');
    expect(m.dtype).toBe('object');
    expect(m.shape).toEqual([]);
    expect(JSON.parse((m.data as string[])[0])).toMatchObject({ dose: 1000, phase: 'C', note: 'ünïcödé ✓' });
    const d = await (await openNpz(fixtureBytes('phase_d_like.npz'))).read('_metadata');
    expect(d.dtype).toBe('str');
    expect(JSON.parse((d.data as string[])[0])).toMatchObject({ view: 'dense' });
  });

  it('reports sizes and compression in info() without reading the data', async () => {
    const stored = await openNpz(fixtureBytes('phase_c_like.npz'));
    const i = await stored.info('diffraction');
    expect(i).toMatchObject({ compression: 'stored', version: [1, 0], dataBytes: 10 * 8 * 8 * 4 });
    expect(i.compressedSize).toBe(i.uncompressedSize);
    const deflated = await openNpz(fixtureBytes('versions.npz'));
    expect(await deflated.info('v2')).toMatchObject({ compression: 'deflate', version: [2, 0], dataBytes: 24, descr: '>i4' });
    expect(await deflated.info('v3')).toMatchObject({ version: [3, 0], descr: '<U3' });
  });

  it('reads only the member asked for (Blob.slice ranges)', async () => {
    const bytes = fixtureBytes('phase_c_like.npz');
    const ranges: [number, number][] = [];
    class Spy extends Blob {
      override slice(start?: number, end?: number): Blob {
        ranges.push([start ?? 0, end ?? this.size]);
        return super.slice(start, end);
      }
    }
    const z = await openNpz(new Spy([bytes]), 'spy.npz');
    const dirReads = ranges.length;
    ranges.length = 0;
    await z.read('xcoords');
    const total = ranges.reduce((s, [a, b]) => s + (b - a), 0);
    expect(dirReads).toBeLessThanOrEqual(3);
    expect(total).toBeLessThan(80 + 128 + 200 + 4096 + 100);
    ranges.length = 0;
    await z.info('diffraction');
    expect(ranges.reduce((s, [a, b]) => s + (b - a), 0)).toBeLessThan(4096 + 200);
  });

  it('missing keys give missing_member with the key and the file', async () => {
    const z = await openNpz(fixtureBytes('special.npz'), 'special.npz');
    expect(z.has('nope')).toBe(false);
    await expect(z.read('nope')).rejects.toMatchObject({ code: 'missing_member', file: 'special.npz', member: 'nope' });
    await expect(z.info('nope')).rejects.toMatchObject({ code: 'missing_member' });
  });
});
