/**
 * ZIP container reading (APPNOTE 6.3.x): the end-of-central-directory record, the ZIP64 locator and
 * record, the central directory with ZIP64 extra fields, and local file headers. Only what a reader of
 * numpy's archives needs: one disk, stored or deflated members.
 */
import { IngestError } from './types.ts';
import type { ByteSource } from './source.ts';

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
export const SIG_LOCAL = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

/** Central directories larger than this are refused (about 700 000 members). */
export const MAX_CENTRAL_DIRECTORY_BYTES = 64 * 2 ** 20;

export const u16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
export const u32 = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 2 ** 24;

function u64(b: Uint8Array, o: number, file: string, what: string): number {
  const lo = u32(b, o), hi = u32(b, o + 4);
  const v = hi * 2 ** 32 + lo;
  if (!Number.isSafeInteger(v)) throw new IngestError('zip64', file, undefined, `${what} (${hi} * 2^32 + ${lo}) is beyond 2^53`);
  return v;
}

export async function readCentralDirectory(src: ByteSource, file: string): Promise<ZipEntry[]> {
  const size = src.size;
  const notZip = async (why: string): Promise<never> => {
    const head = await src.view(0, Math.min(size, 6));
    const npy = head.length === 6 && head[0] === 0x93 && String.fromCharCode(...head.subarray(1)) === 'NUMPY';
    throw new IngestError(
      'not_zip',
      file,
      undefined,
      npy ? 'this is a bare .npy array, not an .npz archive (read it with readNpy)' : `not a ZIP/NPZ archive: ${why}`,
    );
  };
  if (size < EOCD_SIZE) return notZip(`only ${size} bytes long`);
  // The EOCD record sits at the end, followed by a comment of up to 65535 bytes; the ZIP64 locator
  // (20 bytes) immediately precedes it.
  const tailStart = Math.max(0, size - EOCD_SIZE - MAX_COMMENT - 20);
  const tail = await src.view(tailStart, size);
  let e = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (tail[i] === 0x50 && tail[i + 1] === 0x4b && tail[i + 2] === 5 && tail[i + 3] === 6) {
      // the comment length must reach the end of the file (allow trailing junk only if nothing fits)
      if (i + EOCD_SIZE + u16(tail, i + 20) === tail.length) { e = i; break; }
      if (e < 0) e = i;
    }
  }
  if (e < 0) {
    const head = await src.view(0, Math.min(size, 4));
    if (head.length === 4 && u32(head, 0) === SIG_LOCAL) {
      throw new IngestError('truncated', file, undefined, 'the ZIP archive has no end-of-central-directory record: the file is cut short');
    }
    return notZip('no end-of-central-directory record');
  }
  const eocdPos = tailStart + e;
  const diskNo = u16(tail, e + 4), cdDisk = u16(tail, e + 6);
  let entries = u16(tail, e + 10);
  let cdSize = u32(tail, e + 12);
  let cdOffset = u32(tail, e + 16);
  let cdLimit = eocdPos; // the directory must end before this
  const loc = e - 20;
  const hasLocator = loc >= 0 && u32(tail, loc) === SIG_ZIP64_LOCATOR;
  if (hasLocator) {
    const recPos = u64(tail, loc + 8, file, 'ZIP64 end record offset');
    if (recPos + 56 > tailStart + loc) throw new IngestError('zip64', file, undefined, `ZIP64 end record offset ${recPos} is past its locator`);
    const rec = await src.view(recPos, recPos + 56);
    if (u32(rec, 0) !== SIG_ZIP64_EOCD) throw new IngestError('zip64', file, undefined, `no ZIP64 end record at offset ${recPos}`);
    if (u32(rec, 16) !== 0 || u32(rec, 20) !== 0) throw new IngestError('bad_zip', file, undefined, 'multi-disk archives are not supported');
    entries = u64(rec, 32, file, 'ZIP64 entry count');
    cdSize = u64(rec, 40, file, 'ZIP64 central directory size');
    cdOffset = u64(rec, 48, file, 'ZIP64 central directory offset');
    cdLimit = recPos;
  } else {
    if (diskNo !== 0 || cdDisk !== 0) throw new IngestError('bad_zip', file, undefined, 'multi-disk archives are not supported');
    if (entries === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      throw new IngestError('zip64', file, undefined, 'the end record defers to ZIP64 but there is no ZIP64 locator');
    }
  }
  if (cdOffset + cdSize > cdLimit) {
    throw new IngestError(cdOffset + cdSize > size ? 'truncated' : 'bad_zip', file, undefined,
      `central directory (${cdSize} bytes at ${cdOffset}) runs past its end record at ${cdLimit}`);
  }
  if (cdSize > MAX_CENTRAL_DIRECTORY_BYTES) {
    throw new IngestError('too_large', file, undefined, `central directory of ${cdSize} bytes is above the limit of ${MAX_CENTRAL_DIRECTORY_BYTES}`);
  }
  if (entries * 46 > cdSize) throw new IngestError('bad_zip', file, undefined, `${entries} members cannot fit in a ${cdSize}-byte directory`);
  const cd = await src.view(cdOffset, cdOffset + cdSize);
  const utf8 = new TextDecoder('utf-8');
  const out: ZipEntry[] = [];
  let p = 0;
  for (let k = 0; k < entries; k++) {
    if (p + 46 > cd.length || u32(cd, p) !== SIG_CENTRAL) {
      throw new IngestError('bad_zip', file, undefined, `central directory entry ${k} at offset ${cdOffset + p} is malformed`);
    }
    const flags = u16(cd, p + 8);
    const method = u16(cd, p + 10);
    const crc = u32(cd, p + 16);
    let compressedSize = u32(cd, p + 20);
    let uncompressedSize = u32(cd, p + 24);
    const nameLen = u16(cd, p + 28), extraLen = u16(cd, p + 30), commentLen = u16(cd, p + 32);
    const diskStart = u16(cd, p + 34);
    let localHeaderOffset = u32(cd, p + 42);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cd.length) throw new IngestError('bad_zip', file, undefined, `central directory entry ${k} runs past the directory`);
    const nameBytes = cd.subarray(p + 46, p + 46 + nameLen);
    // Bit 11: UTF-8 names. Python writes ASCII names without it and sets it for any other name.
    const name = flags & 0x800 ? utf8.decode(nameBytes) : cp437(nameBytes);
    const needU = uncompressedSize === 0xffffffff, needC = compressedSize === 0xffffffff, needO = localHeaderOffset === 0xffffffff;
    let needD = diskStart === 0xffff;
    if (needU || needC || needO || needD) {
      // ZIP64 extended information (header 0x0001): the fields whose 32-bit slot is all ones, in order.
      let x = p + 46 + nameLen;
      const xEnd = x + extraLen;
      let found = false;
      while (x + 4 <= xEnd) {
        const id = u16(cd, x), len = u16(cd, x + 2);
        if (x + 4 + len > xEnd) break;
        if (id === 1) {
          found = true;
          let q = x + 4;
          const field = (what: string) => {
            if (q + 8 > x + 4 + len) throw new IngestError('zip64', file, name, `ZIP64 extra field lacks the ${what}`);
            const v = u64(cd, q, file, `ZIP64 ${what}`);
            q += 8;
            return v;
          };
          if (needU) uncompressedSize = field('uncompressed size');
          if (needC) compressedSize = field('compressed size');
          if (needO) localHeaderOffset = field('local header offset');
          if (needD) {
            if (q + 4 > x + 4 + len) throw new IngestError('zip64', file, name, 'ZIP64 extra field lacks the disk number');
            needD = u32(cd, q) !== 0;
          }
          break;
        }
        x += 4 + len;
      }
      if (!found && (needU || needC || needO)) {
        throw new IngestError('zip64', file, name, 'sizes or offset defer to ZIP64 but the member has no ZIP64 extra field');
      }
    }
    if (needD || (diskStart !== 0 && diskStart !== 0xffff)) throw new IngestError('bad_zip', file, name, 'member on another disk');
    if (localHeaderOffset + 30 > cdOffset) {
      throw new IngestError('bad_zip', file, name, `local header offset ${localHeaderOffset} is not before the central directory`);
    }
    out.push({ name, method, flags, crc32: crc, compressedSize, uncompressedSize, localHeaderOffset });
    p = end;
  }
  return out;
}

const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

function cp437(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += c < 128 ? String.fromCharCode(c) : CP437_HIGH[c - 128];
  return s;
}
