/**
 * The third source kind (RandomAccessSource, and Node's file-handle implementation in
 * node-source.ts), the injectable CRC-32, and the built-in CRC against zlib's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  crc32, isIngestError, openNpz, writeNpz, type IngestError, type NdArray, type RandomAccessSource,
} from '../../../src/lib/ingest/index.ts';
import { nativeCrc32, openFileSource } from '../../../src/lib/ingest/node-source.ts';
import { EXPECTED, expectMatches, fixture, noise } from './helpers.ts';

const npzFiles = Object.keys(EXPECTED).filter((f) => f.endsWith('.npz'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ingest-source-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** An in-memory RandomAccessSource with hooks for misbehaving. */
function memorySource(bytes: Uint8Array, opts: { ignoreInto?: boolean; failAt?: number; short?: boolean } = {}): RandomAccessSource & { reads: number } {
  const src = {
    size: bytes.length,
    reads: 0,
    async read(offset: number, length: number, into?: Uint8Array) {
      src.reads++;
      if (opts.failAt !== undefined && offset <= opts.failAt && opts.failAt < offset + length) throw new Error('EIO: disk on fire');
      const n = Math.max(0, Math.min(length, bytes.length - offset) - (opts.short && length > 1000 ? 1 : 0));
      if (into && !opts.ignoreInto) {
        into.set(bytes.subarray(offset, offset + n));
        return into.subarray(0, n);
      }
      return bytes.slice(offset, offset + n);
    },
  };
  return src;
}

describe('CRC-32', () => {
  it('the built-in slicing-by-16 CRC equals zlib.crc32 on random data, any length, alignment and split', () => {
    expect(typeof zlib.crc32).toBe('function');
    const big = noise(1 << 20, 12345);
    expect(crc32(big)).toBe(zlib.crc32(big));
    for (let t = 0; t < 300; t++) {
      const off = (t * 7919) % 97;
      const len = t < 100 ? t : (t * 104729) % 70000;
      const b = big.subarray(off, off + len);
      const cut = (t * 31) % (len + 1);
      const whole = zlib.crc32(b);
      expect(crc32(b), `len ${len} at ${off}`).toBe(whole);
      expect(crc32(b.subarray(cut), crc32(b.subarray(0, cut))), `split at ${cut}`).toBe(whole);
      expect(nativeCrc32!(b.subarray(cut), nativeCrc32!(b.subarray(0, cut), 0))).toBe(whole);
    }
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926); // the CRC-32 check value
  });

  it('an injected crc32 option is what checks the members', async () => {
    let calls = 0;
    const z = await openNpz(fs.readFileSync(fixture('phase_c_like.npz')), 'p.npz', {
      crc32: (d, prev) => { calls++; return zlib.crc32(d, prev); },
    });
    for (const k of z.keys) await z.read(k);
    expect(calls).toBeGreaterThanOrEqual(z.keys.length);
    // a wrong CRC function makes every read fail its check: the option is really used
    const bad = await openNpz(fs.readFileSync(fixture('phase_c_like.npz')), 'p.npz', { crc32: () => 0 });
    await expect(bad.read(bad.keys[0])).rejects.toMatchObject({ code: 'bad_crc' });
  });
});

describe('Node Buffer input (a Uint8Array whose slice() is a view)', () => {
  for (const file of ['dtypes_be.npz', 'dtypes_le.npz', 'fortran.npz', 'phase_c_like.npz']) {
    it(`${file} from fs.readFileSync: right values, input bytes untouched`, async () => {
      // a Buffer from Node's pool at an odd offset, as small reads give
      const raw = fs.readFileSync(fixture(file));
      const buf = Buffer.concat([Buffer.from([1]), raw]).subarray(1);
      expect(buf.byteOffset % 8).not.toBe(0);
      const before = Buffer.from(buf);
      const z = await openNpz(buf, file);
      for (const [key, exp] of Object.entries(EXPECTED[file])) expectMatches(await z.read(key), exp, `${file}:${key}`);
      expect(buf.equals(before)).toBe(true);
    });
  }
});

describe('RandomAccessSource', () => {
  for (const file of npzFiles) {
    for (const nativeCrc of [true, false]) {
      it(`${file} through a Node file handle (${nativeCrc ? 'zlib.crc32' : 'JS crc32'})`, async () => {
        const src = await openFileSource(fixture(file), { nativeCrc });
        try {
          expect(src.size).toBe(fs.statSync(fixture(file)).size);
          expect(src.crc32 === undefined).toBe(!nativeCrc);
          const z = await openNpz(src, file);
          expect(z.keys).toEqual(Object.keys(EXPECTED[file]));
          for (const [key, exp] of Object.entries(EXPECTED[file])) {
            expect((await z.info(key)).shape).toEqual(exp.shape);
            expectMatches(await z.read(key), exp, `${file}:${key}`);
          }
        } finally {
          await src.close();
        }
      });
    }
  }

  // A stored member spanning many pieces (4 MiB, 4 in flight), an odd length, big-endian on disk.
  const n = 3 * 2 ** 20 + 13;
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = Math.sin(i) * 1e3;
  const arrays: Record<string, NdArray> = {
    big: { dtype: 'float64', shape: [n], data: values },
    small: { dtype: 'int16', shape: [2, 3], data: new Int16Array([1, -2, 3, -4, 5, -6]) },
  };
  const bytes = writeNpz(arrays);
  const bigFile = path.join(tmp, 'big.npz');
  fs.writeFileSync(bigFile, bytes);

  it('reads a 24 MiB stored member in pieces straight into one buffer, identical to the Uint8Array path', async () => {
    const src = await openFileSource(bigFile);
    try {
      const a = await (await openNpz(src, 'big.npz')).read('big');
      const b = await (await openNpz(bytes, 'big.npz')).read('big');
      expect(a.shape).toEqual([n]);
      expect(a.data).toBeInstanceOf(Float64Array);
      expect((a.data as Float64Array).byteOffset).toBe(0);
      expect((a.data as Float64Array).buffer.byteLength).toBe(n * 8); // no slack, no second buffer
      expect(Buffer.from((a.data as Float64Array).buffer).equals(Buffer.from((b.data as Float64Array).buffer))).toBe(true);
      expect(Array.from((a.data as Float64Array).subarray(n - 3))).toEqual(Array.from(values.subarray(n - 3)));
    } finally {
      await src.close();
    }
  });

  it('a source that ignores `into` still gives the right data', async () => {
    const src = memorySource(bytes, { ignoreInto: true });
    const a = await (await openNpz(src, 'big.npz')).read('big');
    expect((a.data as Float64Array)[n - 1]).toBe(values[n - 1]);
    expect(src.reads).toBeGreaterThan(6); // read in pieces, not in one go
  });

  it('one flipped byte deep inside the member (the 5th piece) is a bad_crc, with either CRC', async () => {
    const broken = bytes.slice();
    broken[bytes.length - 2 ** 20] ^= 0x10; // inside 'big' data near its end (the directory follows 'small')
    const file = path.join(tmp, 'flipped.npz');
    fs.writeFileSync(file, broken);
    for (const nativeCrc of [true, false]) {
      const src = await openFileSource(file, { nativeCrc });
      try {
        await expect((await openNpz(src, 'flipped.npz')).read('big')).rejects.toMatchObject({ code: 'bad_crc', member: 'big' });
      } finally {
        await src.close();
      }
    }
  });

  it('a read that fails mid-member is an io IngestError, and reads still in flight do not leak rejections', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const z = await openNpz(memorySource(bytes, { failAt: 9 * 2 ** 20 }), 'fail.npz');
      const err = await z.read('big').then(() => null, (e: unknown) => e);
      expect(isIngestError(err)).toBe(true);
      expect((err as IngestError).code).toBe('io');
      expect((err as IngestError).message).toContain('disk on fire');
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a source that returns fewer bytes than asked is an io IngestError', async () => {
    const z = await openNpz(memorySource(bytes, { short: true }), 'short.npz').catch((e: unknown) => e);
    const err = isIngestError(z) ? z : await (z as Awaited<ReturnType<typeof openNpz>>).read('big').then(() => null, (e: unknown) => e);
    expect((err as IngestError).code).toBe('io');
  });

  it('a closed file handle is an io IngestError, not a crash', async () => {
    const src = await openFileSource(bigFile);
    const z = await openNpz(src, 'big.npz');
    await src.close();
    await expect(z.read('small')).rejects.toMatchObject({ code: 'io' });
  });

  it('objects that are not sources are refused with an io IngestError', async () => {
    await expect(openNpz({ size: 'x', read: () => null } as unknown as RandomAccessSource, 'x.npz')).rejects.toMatchObject({ code: 'io' });
    await expect(openNpz({ size: -1, read: async () => new Uint8Array(0) }, 'x.npz')).rejects.toMatchObject({ code: 'io' });
  });
});
