/**
 * The NPY format (numpy/lib/format.py): magic, version, header dict, raw array data.
 * Parsing the header, mapping descr strings to our dtypes, and turning raw bytes into a C-ordered,
 * native-endian NdArray.
 */
import { IngestError, type ArrayData, type DType, type NdArray } from './types.ts';
import { readObjectPickle } from './pickle.ts';

export const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Bounds against hostile files. Every one is checked before the memory it guards is allocated. */
export interface IngestLimits {
  /**
   * Largest array we allocate, in bytes of the decoded result (float16 counts twice since it is widened).
   * Default 2 GiB, about what a browser lets one ArrayBuffer have.
   */
  maxArrayBytes: number;
  /**
   * Largest NPY header dict, in bytes. numpy itself refuses headers over 10000 bytes unless told
   * otherwise; we allow 64 KiB (the whole range of a v1.0 header) so any header numpy writes for the
   * dtypes we read fits, while a hostile 4 GiB v2.0 header length is refused before it is read.
   */
  maxHeaderBytes: number;
  /**
   * Largest pickled object array member we parse (a JSON `_metadata` string is a few KiB). Default
   * 64 MiB; maxArrayBytes applies too, as the pickle is read into memory whole.
   */
  maxPickleBytes: number;
}

export const DEFAULT_LIMITS: IngestLimits = {
  maxArrayBytes: 2 ** 31,
  maxHeaderBytes: 65536,
  maxPickleBytes: 64 * 2 ** 20,
};

export const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A parsed NPY header. */
export interface NpyHeader {
  version: [number, number];
  /** Offset of the array data from the start of the NPY bytes (magic + lengths + dict). */
  dataOffset: number;
  descr: string;
  dtype: DType;
  fortranOrder: boolean;
  shape: number[];
  count: number;
  /** Bytes per element in the file (0 for object arrays). */
  itemsize: number;
  /** true when the file's multi-byte values are little-endian. */
  littleEndian: boolean;
  /** count x itemsize, or -1 for object arrays (pickle, size known only from the container). */
  dataBytes: number;
  /** For 'U' and 'S': characters per element. */
  chars: number;
}

interface Ctx {
  file: string;
  member: string | undefined;
}

const err = (c: Ctx, code: ConstructorParameters<typeof IngestError>[0], detail: string) =>
  new IngestError(code, c.file, c.member, detail);

/**
 * How many bytes the header occupies, from the first 12 bytes (or fewer: returns 'need' with a count).
 * Throws bad_magic / bad_header / header_too_large.
 */
export function npyPreamble(
  b: Uint8Array,
  ctx: Ctx,
  limits: IngestLimits,
): { version: [number, number]; dataOffset: number; headerStart: number } | { need: number } {
  const magicLen = Math.min(b.length, 6);
  for (let i = 0; i < magicLen; i++) {
    if (b[i] !== NPY_MAGIC[i]) {
      throw err(ctx, 'bad_magic', 'not an NPY array: it does not start with \\x93NUMPY');
    }
  }
  if (b.length < 8) return { need: 10 };
  const major = b[6], minor = b[7];
  if (major < 1 || major > 3 || minor !== 0) {
    throw err(ctx, 'bad_header', `unsupported NPY format version ${major}.${minor} (1.0, 2.0 and 3.0 are known)`);
  }
  const lenBytes = major === 1 ? 2 : 4;
  const headerStart = 8 + lenBytes;
  if (b.length < headerStart) return { need: headerStart };
  const hlen = major === 1 ? b[8] | (b[9] << 8) : (b[8] | (b[9] << 8) | (b[10] << 16)) + b[11] * 2 ** 24;
  if (hlen > limits.maxHeaderBytes) {
    throw err(ctx, 'header_too_large', `NPY header of ${hlen} bytes is above the limit of ${limits.maxHeaderBytes} bytes`);
  }
  return { version: [major, minor], dataOffset: headerStart + hlen, headerStart };
}

/** Parses the NPY header in `b` (which must hold at least the full header). */
export function parseNpyHeader(b: Uint8Array, ctx: Ctx, limits: IngestLimits): NpyHeader {
  const pre = npyPreamble(b, ctx, limits);
  if ('need' in pre) throw err(ctx, 'truncated', `the NPY data ends after ${b.length} bytes, inside its preamble`);
  if (b.length < pre.dataOffset) {
    throw err(ctx, 'truncated', `the NPY header needs ${pre.dataOffset} bytes but only ${b.length} are there`);
  }
  const raw = b.subarray(pre.headerStart, pre.dataOffset);
  let text: string;
  if (pre.version[0] === 3) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw err(ctx, 'bad_header', 'the NPY 3.0 header is not valid UTF-8');
    }
  } else {
    text = latin1(raw);
  }
  const dict = parseHeaderDict(text, ctx);
  const dt = parseDescr(dict.descr, ctx);
  let count = 1;
  for (const d of dict.shape) count *= d;
  if (!Number.isSafeInteger(count)) {
    throw err(ctx, 'too_large', `shape (${dict.shape.join(', ')}) has more elements than can be counted`);
  }
  const dataBytes = dt.dtype === 'object' ? -1 : count * dt.itemsize;
  return {
    version: pre.version,
    dataOffset: pre.dataOffset,
    descr: dict.descr,
    dtype: dt.dtype,
    fortranOrder: dict.fortranOrder,
    shape: dict.shape,
    count,
    itemsize: dt.itemsize,
    littleEndian: dt.littleEndian,
    dataBytes,
    chars: dt.chars,
  };
}

export function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode.apply(null, Array.from(b.subarray(i, i + 8192)));
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// The header dict: a Python literal like {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }

type PyVal = string | number | boolean | null | PyVal[] | { tuple: PyVal[] } | Map<string, PyVal>;

function parseHeaderDict(text: string, ctx: Ctx): { descr: string; fortranOrder: boolean; shape: number[] } {
  let i = 0;
  const fail = (what: string): never => {
    throw err(ctx, 'bad_header', `cannot parse the NPY header ${JSON.stringify(text.slice(0, 200))}: ${what}`);
  };
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  let depth = 0;
  const value = (): PyVal => {
    ws();
    const ch = text[i];
    if (ch === undefined) return fail('unexpected end');
    if (++depth > 32) fail('nested too deeply');
    try {
      if (ch === '{') {
        i++;
        const m = new Map<string, PyVal>();
        for (;;) {
          ws();
          if (text[i] === '}') { i++; return m; }
          const k = value();
          if (typeof k !== 'string') fail('dict key is not a string');
          ws();
          if (text[i] !== ':') fail("expected ':'");
          i++;
          if (m.has(k as string)) fail(`duplicate key '${k as string}'`);
          m.set(k as string, value());
          ws();
          if (text[i] === ',') i++;
          else if (text[i] !== '}') fail("expected ',' or '}'");
        }
      }
      if (ch === '(' || ch === '[') {
        const close = ch === '(' ? ')' : ']';
        i++;
        const items: PyVal[] = [];
        let sawComma = false;
        for (;;) {
          ws();
          if (text[i] === close) { i++; break; }
          items.push(value());
          ws();
          if (text[i] === ',') { i++; sawComma = true; }
          else if (text[i] !== close) fail(`expected ',' or '${close}'`);
        }
        if (ch === '[') return items;
        // (x) without a comma is just x in Python
        if (items.length === 1 && !sawComma) return items[0];
        return { tuple: items };
      }
      if (ch === "'" || ch === '"') {
        i++;
        let s = '';
        for (;;) {
          const c = text[i++];
          if (c === undefined) fail('unterminated string');
          if (c === ch) break;
          if (c === '\\') {
            const e = text[i++];
            const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
            if (e in simple) s += simple[e];
            else if (e === 'x' || e === 'u' || e === 'U') {
              const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
              const hex = text.slice(i, i + n);
              if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) fail('bad escape');
              const cp = parseInt(hex, 16);
              if (cp > 0x10ffff) fail('bad escape');
              s += String.fromCodePoint(cp);
              i += n;
            } else fail('unsupported escape');
          } else s += c;
        }
        return s;
      }
      const m = /^(True|False|None|-?\d+L?)/.exec(text.slice(i, i + 40));
      if (!m) return fail(`unexpected ${JSON.stringify(text.slice(i, i + 10))}`);
      i += m[0].length;
      if (m[0] === 'True') return true;
      if (m[0] === 'False') return false;
      if (m[0] === 'None') return null;
      return Number(m[0].replace('L', ''));
    } finally {
      depth--;
    }
  };
  const d = value();
  ws();
  if (i !== text.length) fail('trailing characters');
  if (!(d instanceof Map)) return fail('not a dict');
  const keys = [...d.keys()].sort().join(',');
  if (keys !== 'descr,fortran_order,shape') fail(`keys are {${keys}}, expected {descr, fortran_order, shape}`);
  const descr = d.get('descr');
  const fo = d.get('fortran_order');
  const shapeV = d.get('shape');
  if (typeof fo !== 'boolean') fail('fortran_order is not a bool');
  if (typeof descr !== 'string') {
    throw err(ctx, 'unsupported_dtype', 'structured (record) dtypes are not supported');
  }
  const tup = typeof shapeV === 'object' && shapeV !== null && 'tuple' in shapeV ? shapeV.tuple : null;
  if (!tup) return fail('shape is not a tuple');
  const shape: number[] = [];
  for (const v of tup!) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return fail('shape holds a value that is not a non-negative integer');
    shape.push(v);
  }
  if (shape.length > 64) fail('more than 64 dimensions');
  return { descr: descr as string, fortranOrder: fo as boolean, shape };
}

// ---------------------------------------------------------------------------------------------
// descr strings

const NUMERIC: Record<string, DType> = {
  b1: 'bool',
  i1: 'int8', i2: 'int16', i4: 'int32', i8: 'int64',
  u1: 'uint8', u2: 'uint16', u4: 'uint32', u8: 'uint64',
  f2: 'float16', f4: 'float32', f8: 'float64',
  c8: 'complex64', c16: 'complex128',
};

export function parseDescr(descr: string, ctx: Ctx): { dtype: DType; itemsize: number; littleEndian: boolean; chars: number } {
  const m = /^([<>|=]?)([a-zA-Z])(\d*)$/.exec(descr);
  if (!m) throw err(ctx, 'unsupported_dtype', `dtype '${descr}' is not supported`);
  const [, order, kind, sizeStr] = m;
  const littleEndian = order !== '>';
  const size = sizeStr === '' ? NaN : Number(sizeStr);
  if (kind === 'O') return { dtype: 'object', itemsize: 0, littleEndian, chars: 0 };
  if (kind === 'U' || kind === 'S') {
    if (!Number.isSafeInteger(size)) throw err(ctx, 'unsupported_dtype', `dtype '${descr}' has no length`);
    return kind === 'U'
      ? { dtype: 'str', itemsize: size * 4, littleEndian, chars: size }
      : { dtype: 'bytes', itemsize: size, littleEndian, chars: size };
  }
  const dtype = NUMERIC[kind + sizeStr];
  if (!dtype) {
    const hint = kind === 'M' || kind === 'm' ? ' (datetime/timedelta)' : kind === 'V' ? ' (void/record)' : '';
    throw err(ctx, 'unsupported_dtype', `dtype '${descr}'${hint} is not supported`);
  }
  return { dtype, itemsize: size, littleEndian, chars: 0 };
}

// ---------------------------------------------------------------------------------------------
// Turning raw bytes into data

let F16_LUT: Float32Array | null = null;
function f16Lut(): Float32Array {
  if (F16_LUT) return F16_LUT;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const f = h & 0x3ff;
    t[h] = e === 0 ? s * f * 2 ** -24 : e === 31 ? (f ? NaN : s * Infinity) : s * (1 + f / 1024) * 2 ** (e - 15);
  }
  return (F16_LUT = t);
}

/** Swaps every `size`-byte group of `b` in place (size 2, 4 or 8). */
export function byteSwap(b: Uint8Array, size: number): void {
  const n = b.length - (b.length % size);
  if (size === 2) {
    if (b.byteOffset % 2 === 0) {
      const u = new Uint16Array(b.buffer, b.byteOffset, n / 2);
      for (let i = 0; i < u.length; i++) { const x = u[i]; u[i] = (x >>> 8) | ((x & 0xff) << 8); }
      return;
    }
    for (let i = 0; i < n; i += 2) { const t = b[i]; b[i] = b[i + 1]; b[i + 1] = t; }
    return;
  }
  if (b.byteOffset % 4 === 0) {
    const u = new Uint32Array(b.buffer, b.byteOffset, n / 4);
    const sw = (x: number) => ((x >>> 24) | ((x >>> 8) & 0xff00) | ((x & 0xff00) << 8) | (x << 24)) >>> 0;
    if (size === 4) {
      for (let i = 0; i < u.length; i++) u[i] = sw(u[i]);
    } else {
      for (let i = 0; i < u.length; i += 2) { const a = u[i]; u[i] = sw(u[i + 1]); u[i + 1] = sw(a); }
    }
    return;
  }
  for (let i = 0; i < n; i += size) {
    for (let a = i, z = i + size - 1; a < z; a++, z--) { const t = b[a]; b[a] = b[z]; b[z] = t; }
  }
}

type Indexable = { length: number; [i: number]: unknown };

/**
 * A copy of b[start, end) in a fresh ArrayBuffer. Not `b.slice()`: on a Node Buffer (a Uint8Array
 * subclass) slice() returns a view of the same memory, so byte-swapping it would write into the
 * caller's input and its byteOffset could stay unaligned.
 */
export function copyBytes(b: Uint8Array, start = 0, end = b.length): Uint8Array {
  return Uint8Array.prototype.slice.call(b, start, end);
}

/** Reorders a Fortran-ordered array (each element `comps` slots wide) into C order. */
export function fortranToC<T extends Indexable>(src: T, shape: number[], comps: number, make: (n: number) => T): T {
  const nd = shape.length;
  let count = 1;
  for (const d of shape) count *= d;
  let nonTrivial = 0;
  for (const d of shape) if (d > 1) nonTrivial++;
  if (count === 0 || nonTrivial <= 1) return src; // a vector is the same in both orders
  const out = make(src.length);
  const fStride: number[] = [];
  let s = 1;
  for (let k = 0; k < nd; k++) { fStride.push(s); s *= shape[k]; }
  const inner = shape[nd - 1];
  const innerStride = fStride[nd - 1] * comps;
  const idx = new Array<number>(nd).fill(0);
  let o = 0;
  let base = 0;
  const outer = count / inner;
  for (let r = 0; r < outer; r++) {
    let p = base * comps;
    if (comps === 1) {
      for (let j = 0; j < inner; j++, p += innerStride) out[o++] = src[p];
    } else {
      for (let j = 0; j < inner; j++, p += innerStride) for (let c = 0; c < comps; c++) out[o++] = src[p + c];
    }
    for (let k = nd - 2; k >= 0; k--) {
      idx[k]++;
      base += fStride[k];
      if (idx[k] < shape[k]) break;
      base -= fStride[k] * shape[k];
      idx[k] = 0;
    }
  }
  return out;
}

/**
 * Refuses arrays whose decoded data would exceed limits.maxArrayBytes (checked before allocating).
 * A str/bytes array becomes a string[] costing at least a pointer per element, so a hostile
 * '<U0' of shape (10**12,) (no data bytes at all) is refused too.
 */
export function checkAllocation(h: NpyHeader, ctx: Ctx, limits: IngestLimits): void {
  const outBytes = h.dtype === 'float16' ? h.dataBytes * 2
    : h.dtype === 'str' || h.dtype === 'bytes' ? Math.max(h.dataBytes, h.count * STRING_SLOT_BYTES)
    : h.dataBytes;
  if (outBytes > limits.maxArrayBytes) {
    throw err(ctx, 'too_large',
      `array ${h.descr} of shape (${h.shape.join(', ')}) needs ${outBytes} bytes, above the limit of ${limits.maxArrayBytes}`);
  }
}

/** Bytes counted per element of a string[] result against maxArrayBytes (one pointer). */
const STRING_SLOT_BYTES = 8;

/** Refuses a pickled object array of `n` bytes above maxPickleBytes or maxArrayBytes (before it is read). */
export function checkPickleSize(n: number, ctx: Ctx, limits: IngestLimits): void {
  const lim = Math.min(limits.maxPickleBytes, limits.maxArrayBytes);
  if (n > lim) throw err(ctx, 'too_large', `pickled object array of ${n} bytes is above the limit of ${lim}`);
}

/**
 * Decodes array data. `bytes` must be exactly the data (header.dataBytes long), in a buffer the
 * caller owns with byteOffset a multiple of 8: it may be byte-swapped in place and aliased by the result.
 */
export function decodeArray(h: NpyHeader, bytes: Uint8Array, ctx: Ctx, limits: IngestLimits): NdArray {
  const { shape, count, dtype } = h;
  if (dtype === 'object') {
    checkPickleSize(bytes.length, ctx, limits);
    const s = readObjectPickle(bytes, ctx);
    if (shape.length !== 0) {
      throw err(ctx, 'unsupported_pickle', `object array of shape (${shape.join(', ')}): only a 0-d object array holding one string is read`);
    }
    return { dtype: 'object', shape: [], data: [s] };
  }
  if (bytes.length !== h.dataBytes) {
    throw err(ctx, 'size_mismatch', `${h.descr} array of shape (${shape.join(', ')}) needs ${h.dataBytes} data bytes, the file has ${bytes.length}`);
  }
  let data: ArrayData;
  if (dtype === 'str' || dtype === 'bytes') {
    data = decodeStrings(h, bytes);
    if (h.fortranOrder) data = fortranToC(data, shape, 1, (n) => new Array<string>(n));
    return { dtype, shape, data };
  }
  const size = h.itemsize;
  const comps = dtype === 'complex64' || dtype === 'complex128' ? 2 : 1;
  const compSize = size / comps;
  if (compSize > 1 && h.littleEndian !== HOST_LE) byteSwap(bytes, compSize);
  if (bytes.byteOffset % 8 !== 0) bytes = copyBytes(bytes);
  const buf = bytes.buffer, off = bytes.byteOffset, n = count * comps;
  switch (dtype) {
    case 'bool': {
      for (let i = 0; i < bytes.length; i++) if (bytes[i] > 1) bytes[i] = 1;
      data = bytes;
      break;
    }
    case 'int8': data = new Int8Array(buf, off, n); break;
    case 'uint8': data = bytes; break;
    case 'int16': data = new Int16Array(buf, off, n); break;
    case 'uint16': data = new Uint16Array(buf, off, n); break;
    case 'int32': data = new Int32Array(buf, off, n); break;
    case 'uint32': data = new Uint32Array(buf, off, n); break;
    case 'int64': data = new BigInt64Array(buf, off, n); break;
    case 'uint64': data = new BigUint64Array(buf, off, n); break;
    case 'float16': {
      const u = new Uint16Array(buf, off, n);
      const lut = f16Lut();
      const f = new Float32Array(n);
      for (let i = 0; i < n; i++) f[i] = lut[u[i]];
      data = f;
      break;
    }
    case 'float32': case 'complex64': data = new Float32Array(buf, off, n); break;
    case 'float64': case 'complex128': data = new Float64Array(buf, off, n); break;
    default:
      throw err(ctx, 'unsupported_dtype', `dtype '${h.descr}' is not supported`);
  }
  if (h.fortranOrder) {
    const Ctor = data.constructor as new (n: number) => typeof data;
    data = fortranToC(data as Indexable, shape, comps, (k) => new Ctor(k) as unknown as Indexable) as unknown as typeof data;
  }
  return { dtype, shape, data };
}

function decodeStrings(h: NpyHeader, bytes: Uint8Array): string[] {
  const out = new Array<string>(h.count);
  const chars = h.chars;
  if (h.dtype === 'bytes') {
    for (let e = 0; e < h.count; e++) {
      let end = (e + 1) * chars;
      const start = e * chars;
      while (end > start && bytes[end - 1] === 0) end--;
      out[e] = latin1(bytes.subarray(start, end));
    }
    return out;
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = h.littleEndian;
  const cps: number[] = [];
  for (let e = 0; e < h.count; e++) {
    const start = e * chars;
    let end = start + chars;
    while (end > start && dv.getUint32((end - 1) * 4, le) === 0) end--;
    cps.length = 0;
    for (let k = start; k < end; k++) {
      const cp = dv.getUint32(k * 4, le);
      cps.push(cp > 0x10ffff ? 0xfffd : cp);
    }
    let s = '';
    for (let k = 0; k < cps.length; k += 4096) s += String.fromCodePoint(...cps.slice(k, k + 4096));
    out[e] = s;
  }
  return out;
}

/** Reads a bare .npy file held in memory. The input is never modified. */
export function readNpy(bytes: Uint8Array, fileName = 'array.npy', limits: Partial<IngestLimits> = {}): NdArray {
  const lim = { ...DEFAULT_LIMITS, ...limits };
  const ctx: Ctx = { file: fileName, member: undefined };
  const h = parseNpyHeader(bytes, ctx, lim);
  checkAllocation(h, ctx, lim);
  const rest = bytes.length - h.dataOffset;
  if (h.dtype !== 'object' && rest < h.dataBytes) {
    throw err(ctx, 'truncated', `the array needs ${h.dataBytes} data bytes but the file holds only ${rest}`);
  }
  if (h.dtype !== 'object' && rest > h.dataBytes) {
    throw err(ctx, 'size_mismatch', `${rest - h.dataBytes} unexpected bytes follow the array data`);
  }
  if (h.dtype === 'object') checkPickleSize(rest, ctx, lim);
  return decodeArray(h, copyBytes(bytes, h.dataOffset), ctx, lim);
}
