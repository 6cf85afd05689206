/**
 * Structure-aware mutation of real numpy-written files for the fuzz tests. The ZIP walker here is
 * written independently of src/lib/ingest/zip.ts (it only needs to find where fields are, in files
 * we know are well formed), so the mutations do not inherit the reader's assumptions.
 */
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { crc32 } from '../../../src/lib/ingest/crc32.ts';

const rd16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const rd32 = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 2 ** 24;
export function put(b: Uint8Array, o: number, width: number, v: number | bigint): void {
  let x = BigInt.asUintN(width * 8, BigInt(v));
  for (let i = 0; i < width && o + i < b.length; i++) { b[o + i] = Number(x & 0xffn); x >>= 8n; }
}

/** A header field a mutation may rewrite: where it is, how wide, and what it is. */
export interface Field { pos: number; width: 2 | 4 | 8; what: string; value: number }

export interface Layout {
  fields: Field[];
  /** Where each member's NPY bytes start (stored members: the header text is editable in place). */
  members: { name: string; dataStart: number; method: number; size: number; centralPos: number; localPos: number }[];
}

/** Finds every length, size, offset, CRC and count of a well-formed archive (ZIP64 records included). */
export function zipLayout(b: Uint8Array): Layout {
  const fields: Field[] = [];
  const f = (pos: number, width: 2 | 4 | 8, what: string) => {
    fields.push({ pos, width, what, value: width === 2 ? rd16(b, pos) : width === 4 ? rd32(b, pos) : rd32(b, pos) + rd32(b, pos + 4) * 2 ** 32 });
  };
  let e = b.length - 22;
  while (e >= 0 && rd32(b, e) !== 0x06054b50) e--;
  if (e < 0) throw new Error('no EOCD');
  f(e + 8, 2, 'eocd entries on disk'); f(e + 10, 2, 'eocd entries'); f(e + 12, 4, 'eocd cd size');
  f(e + 16, 4, 'eocd cd offset'); f(e + 20, 2, 'eocd comment length');
  let entries = rd16(b, e + 10), cdOffset = rd32(b, e + 16);
  if (e >= 20 && rd32(b, e - 20) === 0x07064b50) {
    f(e - 20 + 8, 8, 'zip64 locator record offset');
    const r = rd32(b, e - 20 + 8);
    f(r + 4, 8, 'zip64 eocd record size'); f(r + 16, 4, 'zip64 eocd disk'); f(r + 24, 8, 'zip64 eocd entries on disk');
    f(r + 32, 8, 'zip64 eocd entries'); f(r + 40, 8, 'zip64 eocd cd size'); f(r + 48, 8, 'zip64 eocd cd offset');
    entries = rd32(b, r + 32); cdOffset = rd32(b, r + 48);
  }
  const members: Layout['members'] = [];
  let p = cdOffset;
  for (let k = 0; k < entries; k++) {
    // fixCrcs walks mutated files too: stop where the directory stops making sense
    if (p + 46 > b.length || rd32(b, p) !== 0x02014b50) throw new Error(`no central entry ${k}`);
    const nameLen = rd16(b, p + 28), extraLen = rd16(b, p + 30), commentLen = rd16(b, p + 32);
    const name = new TextDecoder().decode(b.subarray(p + 46, p + 46 + nameLen));
    f(p + 8, 2, 'central flags'); f(p + 10, 2, 'central method'); f(p + 16, 4, 'central crc');
    f(p + 20, 4, 'central compressed size'); f(p + 24, 4, 'central uncompressed size'); f(p + 28, 2, 'central name length');
    f(p + 30, 2, 'central extra length'); f(p + 32, 2, 'central comment length'); f(p + 34, 2, 'central disk');
    f(p + 42, 4, 'central local header offset');
    let size = rd32(b, p + 20), lho = rd32(b, p + 42);
    for (let x = p + 46 + nameLen; x + 4 <= p + 46 + nameLen + extraLen;) {
      const id = rd16(b, x), len = rd16(b, x + 2);
      f(x + 2, 2, 'central extra field length');
      if (id === 1) {
        // this walker writes ZIP64 central extras only in toZip64 below: usize, csize, offset
        f(x + 4, 8, 'central zip64 uncompressed size'); f(x + 12, 8, 'central zip64 compressed size'); f(x + 20, 8, 'central zip64 offset');
        size = rd32(b, x + 12); lho = rd32(b, x + 20);
      }
      x += 4 + len;
    }
    if (lho + 30 > b.length || rd32(b, lho) !== 0x04034b50) throw new Error(`no local header for entry ${k}`);
    const lNameLen = rd16(b, lho + 26), lExtraLen = rd16(b, lho + 28);
    f(lho + 14, 4, 'local crc'); f(lho + 18, 4, 'local compressed size'); f(lho + 22, 4, 'local uncompressed size');
    f(lho + 26, 2, 'local name length'); f(lho + 28, 2, 'local extra length');
    for (let x = lho + 30 + lNameLen; x + 4 <= lho + 30 + lNameLen + lExtraLen;) {
      const id = rd16(b, x), len = rd16(b, x + 2);
      if (id === 1) for (let q = 0; q + 8 <= len; q += 8) f(x + 4 + q, 8, 'local zip64 size');
      x += 4 + len;
    }
    members.push({ name, dataStart: lho + 30 + lNameLen + lExtraLen, method: rd16(b, p + 10), size, centralPos: p, localPos: lho });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return { fields, members };
}

/** Recomputes every member's CRC (central and local) so that data-level edits reach the decoder. */
export function fixCrcs(b: Uint8Array): Uint8Array {
  let lay: Layout;
  try { lay = zipLayout(b); } catch { return b; }
  for (const m of lay.members) {
    if (m.dataStart + m.size > b.length || m.centralPos + 20 > b.length || m.localPos + 18 > b.length) continue;
    if (m.method !== 0) continue; // deflated: the CRC is of the inflated bytes; leave it
    const c = crc32(b.subarray(m.dataStart, m.dataStart + m.size));
    put(b, m.centralPos + 16, 4, c);
    put(b, m.localPos + 14, 4, c);
  }
  return b;
}

/**
 * The same archive with a ZIP64 central directory: every size and offset set to 0xffffffff in the
 * 32-bit slots and given in a ZIP64 extra field, a ZIP64 end record and locator, 0xffff/0xffffffff
 * in the end record. What a >4 GiB np.savez file looks like, at fixture size.
 */
export function toZip64(b: Uint8Array): Uint8Array {
  const lay = zipLayout(b);
  let e = b.length - 22;
  while (rd32(b, e) !== 0x06054b50) e--;
  const cdOffset = rd32(b, e + 16);
  const parts: number[] = Array.from(b.subarray(0, cdOffset));
  const push = (v: number, w: number) => { for (let i = 0; i < w; i++) parts.push(Number((BigInt(v) >> BigInt(8 * i)) & 0xffn)); };
  for (const m of lay.members) {
    const p = m.centralPos;
    const nameLen = rd16(b, p + 28), extraLen = rd16(b, p + 30), commentLen = rd16(b, p + 32);
    const head = b.slice(p, p + 46);
    const usize = rd32(b, p + 24), csize = rd32(b, p + 20), lho = rd32(b, p + 42);
    put(head, 20, 4, 0xffffffff); put(head, 24, 4, 0xffffffff); put(head, 42, 4, 0xffffffff);
    put(head, 30, 2, extraLen + 28);
    parts.push(...head, ...b.subarray(p + 46, p + 46 + nameLen));
    push(1, 2); push(24, 2); push(usize, 8); push(csize, 8); push(lho, 8);
    parts.push(...b.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen + commentLen));
  }
  const cdSize = parts.length - cdOffset;
  const recPos = parts.length;
  push(0x06064b50, 4); push(44, 8); push(45, 2); push(45, 2); push(0, 4); push(0, 4);
  push(lay.members.length, 8); push(lay.members.length, 8); push(cdSize, 8); push(cdOffset, 8);
  push(0x07064b50, 4); push(0, 4); push(recPos, 8); push(1, 4);
  push(0x06054b50, 4); push(0, 2); push(0, 2); push(0xffff, 2); push(0xffff, 2); push(0xffffffff, 4); push(0xffffffff, 4); push(0, 2);
  return Uint8Array.from(parts);
}

/** The members of an archive as raw NPY bytes (fflate's unzip, independent of our reader). */
export function members(b: Uint8Array): [string, Uint8Array][] {
  return Object.entries(unzipSync(b));
}

/** Builds an archive from raw NPY members (fflate: correct CRCs), stored or deflated. */
export function rezip(ms: [string, Uint8Array][], deflate: boolean): Uint8Array {
  const z: Zippable = {};
  for (const [n, d] of ms) z[n] = [d, { level: deflate ? 6 : 0 }];
  return zipSync(z);
}

/** Splits an NPY file into its preamble version, header text and data. */
export function splitNpy(b: Uint8Array): { major: number; text: string; data: Uint8Array } | null {
  if (b.length < 10 || b[0] !== 0x93) return null;
  const major = b[6];
  const hs = major === 1 ? 10 : 12;
  const hl = major === 1 ? rd16(b, 8) : rd32(b, 8);
  if (hs + hl > b.length) return null;
  let text = '';
  for (const c of b.subarray(hs, hs + hl)) text += String.fromCharCode(c);
  return { major, text, data: b.subarray(hs + hl) };
}

/** An NPY file with this header text (padded as numpy does); `lenDelta` corrupts the length field. */
export function joinNpy(major: number, text: string, data: Uint8Array, lenDelta = 0): Uint8Array {
  const hs = major === 1 ? 10 : 12;
  let t = text.replace(/\s+$/, '');
  const total = Math.ceil((hs + t.length + 1) / 64) * 64;
  t = t.padEnd(total - hs - 1, ' ') + '\n';
  const out = new Uint8Array(hs + t.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  put(out, 8, major === 1 ? 2 : 4, Math.max(0, t.length + lenDelta));
  for (let i = 0; i < t.length; i++) out[hs + i] = t.charCodeAt(i) & 0xff;
  out.set(data, hs + t.length);
  return out;
}
