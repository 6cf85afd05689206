import { describe, expect, it } from 'vitest';
import { IngestError, isIngestError, openNpz, readNpy, writeNpz, type IngestErrorCode } from '../../../src/lib/ingest/index.ts';
import { fixtureBytes } from './helpers.ts';
import { joinNpy, rezip } from './mutate.ts';

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<{ code: IngestErrorCode; file: string; member?: string; message: string }> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(isIngestError(e), String(e)).toBe(true);
    const ie = e as IngestError;
    return { code: ie.code, file: ie.file, member: ie.member, message: ie.message };
  }
  throw new Error('expected an IngestError, got success');
}

const openBroken = (name: string, opts = {}) => openNpz(fixtureBytes(`broken/${name}`), name, opts);
const readBroken = async (name: string, key: string, opts = {}) => (await openBroken(name, opts)).read(key);

describe('broken and hostile files give their typed error, naming file and member', () => {
  const memberCases: [string, string, IngestErrorCode][] = [
    ['bomb.npz', 'x', 'zip_bomb'],
    ['bomb_ratio.npz', 'x', 'zip_bomb'],
    ['bad_crc_stored.npz', 'x', 'bad_crc'],
    ['bad_crc_deflated.npz', 'x', 'bad_crc'],
    ['truncated_deflate.npz', 'x', 'truncated'],
    ['bad_deflate.npz', 'x', 'bad_deflate'],
    ['huge_header.npz', 'x', 'header_too_large'],
    ['absurd_shape.npz', 'x', 'size_mismatch'],
    ['size_mismatch.npz', 'x', 'size_mismatch'],
    ['bad_header.npz', 'x', 'bad_header'],
    ['structured.npz', 'x', 'unsupported_dtype'],
    ['not_npy_member.npz', 'x', 'bad_magic'],
  ];
  for (const [file, key, code] of memberCases) {
    for (const inflate of ['native', 'fflate'] as const) {
      it(`${file} -> ${code} (${inflate})`, async () => {
        const e = await codeOf(readBroken(file, key, { inflate }));
        expect(e).toMatchObject({ code, file, member: key });
        expect(e.message).toContain(`${file} [${key}]`);
      });
    }
  }

  it('info() reports header problems without inflating the data', async () => {
    expect((await codeOf((await openBroken('huge_header.npz')).info('x'))).code).toBe('header_too_large');
    expect((await codeOf((await openBroken('bad_header.npz')).info('x'))).code).toBe('bad_header');
    expect((await codeOf((await openBroken('bomb_ratio.npz')).info('x'))).code).toBe('zip_bomb');
    // info() inflates in 4 KiB steps only as far as the header, but this bomb overflows on the first step
    expect((await codeOf((await openBroken('bomb.npz')).info('x'))).code).toBe('zip_bomb');
  });

  const pickleCases = ['list_in_0d', 'dict_in_0d', 'int_in_0d', 'bytes_in_0d', 'strings_1d', 'os_system', 'plain_list', 'plain_str', 'truncated_pickle'];
  for (const key of pickleCases) {
    it(`pickle ${key} -> unsupported_pickle, never executed`, async () => {
      const e = await codeOf(readBroken('pickles.npz', key));
      expect(e).toMatchObject({ code: 'unsupported_pickle', file: 'pickles.npz', member: key });
    });
  }
  it('the os.system pickle is refused for naming a forbidden global', async () => {
    expect((await codeOf(readBroken('pickles.npz', 'os_system'))).message).toMatch(/global '(posix|os)\.system'/);
  });

  it('wrong magic / not a zip', async () => {
    expect(await codeOf(openBroken('text.npz'))).toMatchObject({ code: 'not_zip', file: 'text.npz' });
    expect((await codeOf(openNpz(new Uint8Array(5), 'tiny.npz'))).code).toBe('not_zip');
    expect((await codeOf(openNpz(new Blob([]), 'empty.npz'))).code).toBe('not_zip');
    const npy = await codeOf(openNpz(fixtureBytes('bare_f32.npy'), 'bare_f32.npy'));
    expect(npy.code).toBe('not_zip');
    expect(npy.message).toContain('readNpy');
    expect((await codeOf(() => readNpy(fixtureBytes('dtypes_le.npz'), 'x.npy'))).code).toBe('bad_magic');
  });

  it('truncated files', async () => {
    expect(await codeOf(openBroken('truncated_tail.npz'))).toMatchObject({ code: 'truncated', file: 'truncated_tail.npz' });
    expect(await codeOf(() => readNpy(fixtureBytes('broken/truncated.npy'), 'truncated.npy'))).toMatchObject({ code: 'truncated' });
    expect((await codeOf(() => readNpy(fixtureBytes('bare_f32.npy').subarray(0, 9)))).code).toBe('truncated');
    expect((await codeOf(() => readNpy(fixtureBytes('bare_f32.npy').subarray(0, 40)))).code).toBe('truncated');
    expect((await codeOf(() => readNpy(fixtureBytes('broken/huge_header.npy')))).code).toBe('header_too_large');
    // a member whose data runs past the end of the file (the directory survived, the data did not)
    const good = fixtureBytes('phase_c_like.npz');
    const z = await openNpz(good);
    const info = await z.info('_metadata');
    expect(info.compression).toBe('stored');
  });

  it('the allocation limit is configurable and checked before allocating', async () => {
    const file = 'phase_c_like.npz';
    for (const bytes of [fixtureBytes(file), fixtureBytes('phase_d_like.npz')]) {
      const z = await openNpz(bytes, file, { maxArrayBytes: 1000 });
      expect(await codeOf(z.read('diffraction'))).toMatchObject({ code: 'too_large', member: 'diffraction' });
      expect((await z.read('xcoords')).shape.length).toBe(1); // small arrays still read
      expect((await z.info('diffraction')).dtype).toBe('float32'); // info works at any size
    }
    expect((await codeOf(() => readNpy(fixtureBytes('bare_f32.npy'), 'a.npy', { maxArrayBytes: 79 }))).code).toBe('too_large');
    expect(readNpy(fixtureBytes('bare_f32.npy'), 'a.npy', { maxArrayBytes: 80 }).shape).toEqual([4, 5]);
    const z = await openNpz(fixtureBytes('phase_c_like.npz'), file, { maxPickleBytes: 100 });
    expect((await codeOf(z.read('_metadata'))).code).toBe('too_large');
  });

  it('encrypted and unsupported compression methods', async () => {
    const base = writeNpz({ a: { dtype: 'uint8', shape: [3], data: new Uint8Array([1, 2, 3]) } });
    const cdStart = findSig(base, 0x02014b50);
    const enc = base.slice();
    enc[cdStart + 8] |= 1;
    expect((await codeOf((await openNpz(enc, 'e.npz')).read('a'))).code).toBe('encrypted');
    const bz = base.slice();
    bz[cdStart + 10] = 12; // bzip2
    expect((await codeOf((await openNpz(bz, 'b.npz')).read('a'))).code).toBe('unsupported_compression');
    const badLocal = base.slice();
    badLocal[0] = 0;
    expect((await codeOf((await openNpz(badLocal, 'l.npz')).read('a'))).code).toBe('bad_zip');
  });
});

function findSig(b: Uint8Array, sig: number): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = b.length - 4; i >= 0; i--) if (dv.getUint32(i, true) === sig) return i;
  throw new Error('signature not found');
}

describe('string arrays cost memory even when their items are empty', () => {
  // '<U0' / '|S0' hold no data bytes, so a shape of 10**12 passes every size check; the string[]
  // result would still need a slot per element. Found by the fuzz tests (a rewritten header).
  for (const descr of ['<U0', '|S0']) {
    const npy = joinNpy(1, `{'descr': '${descr}', 'fortran_order': False, 'shape': (1000000000000,), }`, new Uint8Array(0));
    it(`${descr} of shape (10**12,) is too_large, in readNpy and in an archive`, async () => {
      expect((await codeOf(() => readNpy(npy, 'u0.npy'))).code).toBe('too_large');
      const z = await openNpz(rezip([['x.npy', npy]], false), 'u0.npz');
      expect(await codeOf(z.read('x'))).toMatchObject({ code: 'too_large', member: 'x' });
    });
  }
  it('a small <U0 array still reads (numpy itself widens U0 to U1; other writers may not)', async () => {
    const a = readNpy(joinNpy(1, "{'descr': '<U0', 'fortran_order': False, 'shape': (3,), }", new Uint8Array(0)));
    expect(a).toEqual({ dtype: 'str', shape: [3], data: ['', '', ''] });
  });
});
