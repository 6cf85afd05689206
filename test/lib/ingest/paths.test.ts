/**
 * The browser's read paths, exercised in Node: a Blob read as one stream straight into the array
 * (blobReads 'stream', what browsers do with a File) and deflated members inflated by
 * DecompressionStream as gzip, zlib checking the CRC (the default where the platform has it). Both
 * must give the same bytes as the other paths, and on corrupt data the same errors as fflate.
 */
import { describe, expect, it } from 'vitest';
import { isIngestError, openNpz, writeNpz, type NdArray, type OpenNpzOptions } from '../../../src/lib/ingest/index.ts';
import { EXPECTED, expectMatches, fixtureBytes, noise } from './helpers.ts';
import { members, rezip, zipLayout } from './mutate.ts';

const npzFiles = Object.keys(EXPECTED).filter((f) => f.endsWith('.npz'));
const blobOf = (b: Uint8Array) => new Blob([b as Uint8Array<ArrayBuffer>]);

type Outcome = { ok: true; arrays: Record<string, NdArray> } | { ok: false; code: string; member?: string; message: string };

/** Every member of the archive, or the first error (code, member and message). */
async function outcome(source: Uint8Array | Blob, opts: OpenNpzOptions): Promise<Outcome> {
  try {
    const z = await openNpz(source, 'x.npz', opts);
    const arrays: Record<string, NdArray> = {};
    for (const k of z.keys) arrays[k] = await z.read(k);
    return { ok: true, arrays };
  } catch (e) {
    if (!isIngestError(e)) throw e;
    return { ok: false, code: e.code, member: e.member, message: e.message };
  }
}

describe('a Blob read as one stream straight into the array (the browser path)', () => {
  for (const file of npzFiles) {
    it(`${file}: the same arrays as numpy wrote`, async () => {
      const z = await openNpz(blobOf(fixtureBytes(file)), file, { blobReads: 'stream' });
      for (const [key, exp] of Object.entries(EXPECTED[file])) expectMatches(await z.read(key), exp, `${file}[${key}]`);
    });
  }

  const f32 = new Float32Array(noise(24 * 2 ** 20, 7).buffer);
  const big = writeNpz({ big: { dtype: 'float32', shape: [f32.length], data: f32 } });
  it('a 24 MiB stored member: the same bytes as the slice and in-memory paths', async () => {
    for (const blobReads of ['stream', 'slices'] as const) {
      const a = await (await openNpz(blobOf(big), 'big.npz', { blobReads })).read('big');
      expect(a.data.length).toBe(f32.length);
      expect(Buffer.from((a.data as Float32Array).buffer).equals(Buffer.from(f32.buffer)), blobReads).toBe(true);
    }
  });

  it('one flipped byte deep inside the member is a bad_crc, as on the slice path', async () => {
    const bad = big.slice();
    bad[bad.length - 5_000_000] ^= 0x10;
    const stream = await outcome(blobOf(bad), { blobReads: 'stream' });
    const slices = await outcome(blobOf(bad), { blobReads: 'slices' });
    expect(stream).toMatchObject({ ok: false, code: 'bad_crc', member: 'big' });
    expect(stream).toEqual(slices);
  });

  /** A Blob whose slices stream through `make` (the stream a browser might give). */
  class OddBlob extends Blob {
    constructor(parts: BlobPart[], readonly make: (b: Blob) => ReadableStream<Uint8Array>) {
      super(parts);
    }
    override slice(start?: number, end?: number): Blob {
      return new OddBlob([super.slice(start, end)], this.make);
    }
    override stream(): ReadableStream<Uint8Array<ArrayBuffer>> {
      return this.make(new Blob([this])) as ReadableStream<Uint8Array<ArrayBuffer>>;
    }
  }

  it('where Blob.stream() is no byte stream, the range is read with one arrayBuffer()', async () => {
    const plain = (b: Blob) => new ReadableStream<Uint8Array>({ start: async (c) => { c.enqueue(new Uint8Array(await b.arrayBuffer())); c.close(); } });
    const a = await (await openNpz(new OddBlob([big as Uint8Array<ArrayBuffer>], plain), 'big.npz', { blobReads: 'stream' })).read('big');
    expect(Buffer.from((a.data as Float32Array).buffer).equals(Buffer.from(f32.buffer))).toBe(true);
  });

  it('a stream that fails midway is an io error; one that ends early says how much it read', async () => {
    const failing = (b: Blob) => {
      let sent = false;
      return new ReadableStream({
        type: 'bytes',
        pull: async (c) => {
          if (b.size < 2 ** 20 || !sent) {
            const n = b.size < 2 ** 20 ? b.size : 2 ** 20;
            c.enqueue(new Uint8Array(await b.slice(0, n).arrayBuffer()));
            sent = true;
            if (b.size < 2 ** 20) c.close();
            return;
          }
          c.error(new DOMException('the file changed', 'NotReadableError'));
        },
      });
    };
    const e1 = await outcome(new OddBlob([big as Uint8Array<ArrayBuffer>], failing), { blobReads: 'stream' });
    expect(e1).toMatchObject({ ok: false, code: 'io', member: undefined });
    expect((e1 as { message: string }).message).toMatch(/could not read bytes .* the file changed/);
    const short = (b: Blob) => {
      let sent = false;
      return new ReadableStream({
        type: 'bytes',
        pull: async (c) => {
          const n = b.size < 2 ** 20 ? b.size : 2 ** 20;
          if (!sent) c.enqueue(new Uint8Array(await b.slice(0, n).arrayBuffer()));
          sent = true;
          c.close();
        },
      });
    };
    const e2 = await outcome(new OddBlob([big as Uint8Array<ArrayBuffer>], short), { blobReads: 'stream' });
    expect(e2).toMatchObject({ ok: false, code: 'io' });
    expect((e2 as { message: string }).message).toContain(`read ${2 ** 20} bytes at offset`);
  });
});

describe('deflated members on DecompressionStream (gzip framing: zlib checks the CRC) against fflate', () => {
  const deflatedFiles = npzFiles.filter((f) => zipLayout(fixtureBytes(f)).members.some((m) => m.method === 8));

  it('the fixtures have deflated members to test with', () => expect(deflatedFiles.length).toBeGreaterThan(0));

  for (const file of deflatedFiles) {
    it(`${file}: the same arrays on both inflaters and both sources`, async () => {
      for (const src of [fixtureBytes(file), blobOf(fixtureBytes(file))]) {
        for (const inflate of ['native', 'fflate'] as const) {
          const z = await openNpz(src, file, { inflate });
          for (const [key, exp] of Object.entries(EXPECTED[file])) expectMatches(await z.read(key), exp, `${file}[${key}] ${inflate}`);
        }
      }
    });
  }

  // A deflated archive of data with structure (so deflate uses matches and Huffman tables of both kinds).
  const ramp = new Float32Array(20_000).map((_, i) => Math.round(Math.sin(i / 50) * 100) / 4);
  const base = rezip(members(writeNpz({
    a: { dtype: 'float32', shape: [ramp.length], data: ramp },
    b: { dtype: 'uint8', shape: [5000], data: noise(5000, 3) },
  })), true);
  const lay = zipLayout(base);

  const same = async (b: Uint8Array, what: string) => {
    const native = await outcome(b, { inflate: 'native' });
    const fflate = await outcome(b, { inflate: 'fflate' });
    expect(native, what).toEqual(fflate);
    return native;
  };

  it('a wrong CRC in the directory: bad_crc naming the CRC found, as on fflate', async () => {
    const bad = base.slice();
    const crcField = lay.fields.find((f) => f.what === 'central crc')!;
    bad[crcField.pos] ^= 1;
    const o = await same(bad, 'crc');
    expect(o).toMatchObject({ ok: false, code: 'bad_crc', member: lay.members[0].name.replace(/\.npy$/, '') });
    expect((o as { message: string }).message).toMatch(/CRC-32 is 0x[0-9a-f]{8}, the directory says 0x[0-9a-f]{8}/);
  });

  it('a wrong uncompressed size, a cut member and junk after the deflate data: the same outcome as fflate', async () => {
    for (const what of ['central uncompressed size', 'central compressed size']) {
      for (const delta of [-1, 1, -100]) {
        const bad = base.slice();
        const f = lay.fields.find((x) => x.what === what)!;
        new DataView(bad.buffer).setUint32(f.pos, f.value + delta, true);
        const o = await same(bad, `${what} ${delta}`);
        // one byte more to read is junk after the deflate data, which both accept (as numpy does)
        if (what.includes('uncompressed') || delta < 0) expect(o.ok, `${what} ${delta}`).toBe(false);
      }
    }
  });

  it('random corruption of the deflate data: the same bytes or the same error as fflate (200 cases)', async () => {
    const m = lay.members[0];
    let errors = 0;
    for (let t = 0; t < 200; t++) {
      const bad = base.slice();
      const flips = 1 + (t % 3);
      for (let k = 0; k < flips; k++) {
        const pos = m.dataStart + ((t * 7919 + k * 104729) % m.size);
        bad[pos] ^= 1 << ((t + k) % 8);
      }
      const o = await same(bad, `case ${t}`);
      if (!o.ok) errors++;
    }
    expect(errors).toBeGreaterThan(150); // nearly every flip is caught (by the inflater or the CRC)
  });

  it('a zip bomb stops at the declared size on both, with the same error', async () => {
    const zeros = new Uint8Array(4 * 2 ** 20);
    const npy = members(writeNpz({ z: { dtype: 'uint8', shape: [zeros.length], data: zeros } }))[0][1];
    const arch = rezip([['z.npy', npy]], true);
    const l = zipLayout(arch);
    const f = l.fields.find((x) => x.what === 'central uncompressed size')!;
    const bad = arch.slice();
    new DataView(bad.buffer).setUint32(f.pos, 1000, true);
    expect(await same(bad, 'bomb')).toMatchObject({ ok: false, code: 'zip_bomb', member: 'z' });
  });

  it('deflate data zeroed from the middle of the member on: the same error on both', async () => {
    const npy = members(writeNpz({ r: { dtype: 'float32', shape: [ramp.length], data: ramp } }))[0][1];
    const arch = rezip([['r.npy', npy]], true);
    const mm = zipLayout(arch).members[0];
    const cut = arch.slice();
    cut.fill(0, mm.dataStart + Math.floor(mm.size / 2), mm.dataStart + mm.size);
    expect((await same(cut, 'zeroed')).ok).toBe(false);
  });
});
