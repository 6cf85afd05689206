import { describe, expect, it } from 'vitest';
import { crc32, openNpz, writeNpz, type IngestError } from '../../../src/lib/ingest/index.ts';
import { readCentralDirectory } from '../../../src/lib/ingest/zip.ts';
import { toSource } from '../../../src/lib/ingest/source.ts';

/** Little-endian byte builder. */
class Bytes {
  private a: number[] = [];
  get length() { return this.a.length; }
  u16(v: number) { this.a.push(v & 0xff, (v >>> 8) & 0xff); return this; }
  u32(v: number) { for (let i = 0; i < 4; i++) this.a.push(Math.floor(v / 2 ** (8 * i)) & 0xff); return this; }
  u64(v: number) { return this.u32(v % 2 ** 32).u32(Math.floor(v / 2 ** 32)); }
  raw(b: ArrayLike<number>) { for (let i = 0; i < b.length; i++) this.a.push(b[i]); return this; }
  str(s: string) { return this.raw(new TextEncoder().encode(s)); }
  done() { return Uint8Array.from(this.a); }
}

function npyHeader(descr: string, shape: string): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const h = new Bytes().raw([0x93]).str('NUMPY').raw([1, 0]).u16(total - 10).str(dict);
  while (h.length < total - 1) h.raw([0x20]);
  return h.raw([0x0a]).done();
}

/**
 * A hand-made ZIP64 archive: `big.npy` declares 2^31 x 3 float64 (48 GiB + header) through ZIP64 extra
 * fields (only its first bytes are present), then `small.npy`, a real member whose local header
 * offset is given only in its ZIP64 extra field. The end record defers to a ZIP64 end record.
 */
function makeZip64() {
  const bigHeader = npyHeader('<f8', '(2147483648, 3)');
  const bigSize = bigHeader.length + 2 ** 31 * 3 * 8;
  const smallNpy = (() => {
    const h = npyHeader('<i4', '(4,)');
    const out = new Uint8Array(h.length + 16);
    out.set(h);
    new Int32Array(out.buffer, h.length, 4).set([7, -8, 9, 2 ** 31 - 1]);
    return out;
  })();
  const f = new Bytes();
  // big.npy: local header with ZIP64 sizes, then only the NPY header and 64 bytes of data
  const bigOff = f.length;
  f.u32(0x04034b50).u16(45).u16(0).u16(0).u16(0).u16(0x21).u32(0).u32(0xffffffff).u32(0xffffffff).u16(7).u16(20).str('big.npy');
  f.u16(1).u16(16).u64(bigSize).u64(bigSize).raw(bigHeader).raw(new Uint8Array(64));
  const smallOff = f.length;
  f.u32(0x04034b50).u16(45).u16(0).u16(0).u16(0).u16(0x21).u32(crc32(smallNpy)).u32(0xffffffff).u32(0xffffffff).u16(9).u16(20).str('small.npy');
  f.u16(1).u16(16).u64(smallNpy.length).u64(smallNpy.length).raw(smallNpy);
  const cdOff = f.length;
  f.u32(0x02014b50).u16(45).u16(45).u16(0).u16(0).u16(0).u16(0x21).u32(0).u32(0xffffffff).u32(0xffffffff).u16(7).u16(28).u16(0).u16(0).u16(0).u32(0).u32(0xffffffff).str('big.npy');
  f.u16(1).u16(24).u64(bigSize).u64(bigSize).u64(bigOff);
  f.u32(0x02014b50).u16(45).u16(45).u16(0).u16(0).u16(0).u16(0x21).u32(crc32(smallNpy)).u32(smallNpy.length).u32(smallNpy.length).u16(9).u16(12).u16(0).u16(0).u16(0).u32(0).u32(0xffffffff).str('small.npy');
  f.u16(1).u16(8).u64(smallOff);
  const cdSize = f.length - cdOff;
  const z64Off = f.length;
  f.u32(0x06064b50).u64(44).u16(45).u16(45).u32(0).u32(0).u64(2).u64(2).u64(cdSize).u64(cdOff);
  f.u32(0x07064b50).u32(0).u64(z64Off).u32(1);
  f.u32(0x06054b50).u16(0).u16(0).u16(0xffff).u16(0xffff).u32(0xffffffff).u32(0xffffffff).u16(0);
  return { bytes: f.done(), bigSize, bigOff, smallOff, smallSize: smallNpy.length };
}

describe('ZIP64', () => {
  it('parses 64-bit sizes and offsets from ZIP64 extra fields and the ZIP64 end record', async () => {
    const { bytes, bigSize, bigOff, smallOff, smallSize } = makeZip64();
    expect(bigSize).toBeGreaterThan(2 ** 32);
    const entries = await readCentralDirectory(toSource(bytes, 'z64.npz'), 'z64.npz');
    expect(entries.map((e) => [e.name, e.compressedSize, e.uncompressedSize, e.localHeaderOffset])).toEqual([
      ['big.npy', bigSize, bigSize, bigOff],
      ['small.npy', smallSize, smallSize, smallOff],
    ]);
    const z = await openNpz(bytes, 'z64.npz');
    expect(z.keys).toEqual(['big', 'small']);
    expect(z.has('big')).toBe(true);
    const info = await z.info('big');
    expect(info).toMatchObject({ dtype: 'float64', shape: [2 ** 31, 3], compression: 'stored', compressedSize: bigSize, uncompressedSize: bigSize, dataBytes: 2 ** 31 * 24 });
    // reading the giant fails cleanly, before allocating anything
    await expect(z.read('big')).rejects.toMatchObject({ code: 'truncated', member: 'big' });
    const small = await z.read('small');
    expect(small.dtype).toBe('int32');
    expect(Array.from(small.data as Int32Array)).toEqual([7, -8, 9, 2 ** 31 - 1]);
  });

  it('rejects a malformed ZIP64 extra field', async () => {
    const { bytes } = makeZip64();
    const bad = bytes.slice();
    // shrink big.npy's central ZIP64 extra from 24 to 8 bytes of data (it needs three fields)
    const dv = new DataView(bad.buffer);
    let i = bad.length - 4;
    while (dv.getUint32(i, true) !== 0x02014b50 || new TextDecoder().decode(bad.subarray(i + 46, i + 53)) !== 'big.npy') i--;
    dv.setUint16(i + 46 + 7 + 2, 8, true);
    await expect(openNpz(bad, 'bad64.npz')).rejects.toMatchObject({ code: 'zip64', member: 'big.npy' } satisfies Partial<IngestError>);
  });

  it('reads numpy savez members, which carry ZIP64 extras in every local header', async () => {
    const stored = writeNpz({ a: { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) } });
    expect((await (await openNpz(stored)).read('a')).data).toEqual(new Float32Array([1, 2]));
  });
});
