/**
 * writeNpz / writeNpy: archives that `np.load` reads back exactly. NPY 1.0 headers (2.0 when the header
 * exceeds 65535 bytes), padded so the data starts on a 64-byte boundary as numpy does; ZIP members
 * `<key>.npy`, stored or deflated, with correct CRC-32; fixed 1980-01-01 timestamps so output is
 * deterministic.
 */
import { deflateSync } from 'fflate';
import { crc32 } from './crc32.ts';
import { HOST_LE, byteSwap } from './npy.ts';
import { IngestError, type NdArray } from './types.ts';

export interface WriteNpzOptions {
  /** Deflate members (as np.savez_compressed). Default false (as np.savez). */
  compress?: boolean;
  /** Deflate level 1-9 when compressing (default 6, zlib's default as numpy uses). */
  level?: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
}

const WRITER = 'writeNpz';

const DESCR: Record<string, [string, Function, number]> = {
  bool: ['|b1', Uint8Array, 1],
  int8: ['|i1', Int8Array, 1],
  uint8: ['|u1', Uint8Array, 1],
  int16: ['<i2', Int16Array, 1],
  uint16: ['<u2', Uint16Array, 1],
  int32: ['<i4', Int32Array, 1],
  uint32: ['<u4', Uint32Array, 1],
  int64: ['<i8', BigInt64Array, 1],
  uint64: ['<u8', BigUint64Array, 1],
  float16: ['<f2', Float32Array, 1],
  float32: ['<f4', Float32Array, 1],
  float64: ['<f8', Float64Array, 1],
  complex64: ['<c8', Float32Array, 2],
  complex128: ['<c16', Float64Array, 2],
};

const f32 = new Float32Array(1);
const f32u = new Uint32Array(f32.buffer);
/** float32 -> IEEE half bits, round to nearest even (as numpy's astype(float16)). */
export function toHalfBits(v: number): number {
  f32[0] = v;
  const x = f32u[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

function shapeText(shape: number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

function npyHeader(descr: string, shape: number[]): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText(shape)}, }`;
  let version = 1;
  let pre = 10;
  let total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  if (total - pre > 0xffff) {
    version = 2;
    pre = 12;
    total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  }
  const out = new Uint8Array(total);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const hlen = total - pre;
  if (version === 1) { out[8] = hlen & 0xff; out[9] = hlen >>> 8; }
  else new DataView(out.buffer).setUint32(8, hlen, true);
  for (let i = 0; i < dict.length; i++) out[pre + i] = dict.charCodeAt(i);
  out.fill(0x20, pre + dict.length, total - 1);
  out[total - 1] = 0x0a;
  return out;
}

function bytesOf(a: ArrayBufferView, swapSize: number): Uint8Array {
  const u = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (HOST_LE || swapSize <= 1) return u;
  const c = u.slice();
  byteSwap(c, swapSize);
  return c;
}

/** numpy's own protocol-3 pickle of `np.array(text, dtype=object)` (without memo puts). */
function pickleObjectString(text: string): Uint8Array {
  const enc = new TextEncoder();
  const parts: number[] = [];
  const ascii = (s: string) => { for (let i = 0; i < s.length; i++) parts.push(s.charCodeAt(i)); };
  const le32 = (n: number) => parts.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  const uni = (s: string) => { const b = enc.encode(s); parts.push(0x58); le32(b.length); for (const x of b) parts.push(x); };
  parts.push(0x80, 3);
  parts.push(0x63); ascii('numpy.core.multiarray\n_reconstruct\n');
  parts.push(0x63); ascii('numpy\nndarray\n');
  parts.push(0x4b, 0, 0x85, 0x43, 1, 0x62, 0x87, 0x52);
  parts.push(0x28, 0x4b, 1, 0x29);
  parts.push(0x63); ascii('numpy\ndtype\n');
  uni('O8');
  parts.push(0x89, 0x88, 0x87, 0x52);
  parts.push(0x28, 0x4b, 3); uni('|');
  parts.push(0x4e, 0x4e, 0x4e, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x4b, 63, 0x74, 0x62);
  parts.push(0x89, 0x5d);
  const head = Uint8Array.from(parts);
  const body = enc.encode(text);
  const tail = [0x61, 0x74, 0x62, 0x2e];
  const out = new Uint8Array(head.length + 5 + body.length + tail.length);
  out.set(head);
  let p = head.length;
  out[p++] = 0x58;
  new DataView(out.buffer).setUint32(p, body.length, true);
  p += 4;
  out.set(body, p);
  out.set(tail, p + body.length);
  return out;
}

/** The NPY bytes of one array, as [header, data]. */
export function encodeNpy(a: NdArray, key = 'array'): [Uint8Array, Uint8Array] {
  const bad = (code: 'unsupported_dtype' | 'size_mismatch', detail: string) => new IngestError(code, WRITER, key, detail);
  if (!Array.isArray(a.shape) || !a.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw bad('size_mismatch', `shape ${JSON.stringify(a.shape)} is not a list of non-negative integers`);
  }
  let count = 1;
  for (const d of a.shape) count *= d;
  if (a.dtype === 'object') {
    if (a.shape.length !== 0 || !Array.isArray(a.data) || a.data.length !== 1 || typeof a.data[0] !== 'string') {
      throw bad('unsupported_dtype', 'only a 0-d object array holding one string can be written');
    }
    return [npyHeader('|O', []), pickleObjectString(a.data[0])];
  }
  if (a.dtype === 'str' || a.dtype === 'bytes') {
    const d = a.data;
    if (!Array.isArray(d) || d.length !== count) throw bad('size_mismatch', `shape (${a.shape.join(', ')}) needs ${count} strings, got ${Array.isArray(d) ? d.length : 'a typed array'}`);
    if (a.dtype === 'str') {
      const cps = d.map((s) => Array.from(s, (c) => c.codePointAt(0)!));
      const n = Math.max(1, ...cps.map((c) => c.length));
      const data = new Uint8Array(count * n * 4);
      const dv = new DataView(data.buffer);
      cps.forEach((c, e) => c.forEach((cp, k) => dv.setUint32((e * n + k) * 4, cp, true)));
      return [npyHeader(`<U${n}`, a.shape), data];
    }
    const n = Math.max(1, ...d.map((s) => s.length));
    const data = new Uint8Array(count * n);
    d.forEach((s, e) => {
      for (let k = 0; k < s.length; k++) {
        const c = s.charCodeAt(k);
        if (c > 0xff) throw bad('unsupported_dtype', `bytes element ${e} has a character above \\xff`);
        data[e * n + k] = c;
      }
    });
    return [npyHeader(`|S${n}`, a.shape), data];
  }
  const spec = DESCR[a.dtype];
  if (!spec) throw bad('unsupported_dtype', `unknown dtype '${String(a.dtype)}'`);
  const [descr, Ctor, comps] = spec;
  if (!(a.data instanceof Ctor)) {
    throw bad('unsupported_dtype', `dtype ${a.dtype} needs its data in a ${Ctor.name}, got ${a.data.constructor.name}`);
  }
  const typed = a.data as Exclude<NdArray['data'], string[]>;
  if (typed.length !== count * comps) {
    throw bad('size_mismatch', `shape (${a.shape.join(', ')}) of ${a.dtype} needs ${count * comps} values, got ${typed.length}`);
  }
  if (a.dtype === 'float16') {
    const h = new Uint16Array(count);
    const f = typed as Float32Array;
    for (let i = 0; i < count; i++) h[i] = toHalfBits(f[i]);
    return [npyHeader(descr, a.shape), bytesOf(h, 2)];
  }
  if (a.dtype === 'bool') {
    const u = typed as Uint8Array;
    const b = new Uint8Array(count);
    for (let i = 0; i < count; i++) b[i] = u[i] ? 1 : 0;
    return [npyHeader(descr, a.shape), b];
  }
  return [npyHeader(descr, a.shape), bytesOf(typed, typed.BYTES_PER_ELEMENT)];
}

/** One bare .npy file. */
export function writeNpy(a: NdArray): Uint8Array {
  const [h, d] = encodeNpy(a);
  const out = new Uint8Array(h.length + d.length);
  out.set(h);
  out.set(d, h.length);
  return out;
}

export function writeNpz(arrays: Record<string, NdArray>, opts: WriteNpzOptions = {}): Uint8Array {
  const enc = new TextEncoder();
  interface Member { name: Uint8Array; utf8: boolean; parts: Uint8Array[]; crc: number; usize: number; csize: number; method: number; offset: number }
  const members: Member[] = [];
  let offset = 0;
  for (const [key, arr] of Object.entries(arrays)) {
    if (key === '') throw new IngestError('bad_header', WRITER, key, 'an array name must not be empty');
    const name = enc.encode(`${key}.npy`);
    if (name.length > 0xffff) throw new IngestError('bad_header', WRITER, key, 'the array name is too long');
    const [h, d] = encodeNpy(arr, key);
    const usize = h.length + d.length;
    const crc = crc32(d, crc32(h));
    let parts = [h, d];
    let method = 0;
    if (opts.compress) {
      const whole = new Uint8Array(usize);
      whole.set(h);
      whole.set(d, h.length);
      parts = [deflateSync(whole, { level: opts.level ?? 6 })];
      method = 8;
    }
    const csize = parts.reduce((s, p) => s + p.length, 0);
    members.push({ name, utf8: /[^\x00-\x7f]/.test(key), parts, crc, usize, csize, method, offset });
    offset += 30 + name.length + csize;
  }
  const cdOffset = offset;
  const cdSize = members.reduce((s, m) => s + 46 + m.name.length, 0);
  const total = cdOffset + cdSize + 22;
  if (members.length > 0xfffe || total >= 0xffffffff || members.some((m) => m.usize >= 0xffffffff)) {
    throw new IngestError('too_large', WRITER, undefined, 'writeNpz writes archives below 4 GiB with fewer than 65535 arrays');
  }
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let p = 0;
  const w16 = (v: number) => { dv.setUint16(p, v, true); p += 2; };
  const w32 = (v: number) => { dv.setUint32(p, v >>> 0, true); p += 4; };
  for (const m of members) {
    w32(0x04034b50); w16(20); w16(m.utf8 ? 0x800 : 0); w16(m.method); w16(0); w16(0x21);
    w32(m.crc); w32(m.csize); w32(m.usize); w16(m.name.length); w16(0);
    out.set(m.name, p); p += m.name.length;
    for (const part of m.parts) { out.set(part, p); p += part.length; }
  }
  for (const m of members) {
    w32(0x02014b50); w16(20); w16(20); w16(m.utf8 ? 0x800 : 0); w16(m.method); w16(0); w16(0x21);
    w32(m.crc); w32(m.csize); w32(m.usize); w16(m.name.length); w16(0); w16(0); w16(0); w16(0);
    w32(0o600 << 16); w32(m.offset);
    out.set(m.name, p); p += m.name.length;
  }
  w32(0x06054b50); w16(0); w16(0); w16(members.length); w16(members.length); w32(cdSize); w32(cdOffset); w16(0);
  return out;
}
