/**
 * openNpz: random access to the arrays of an .npz archive. Only the central directory is read up
 * front; each read/info touches only its own member (Blob.slice, or positional reads of a
 * RandomAccessSource).
 *
 * Stored members (np.savez): one small read for the local header and NPY header, then one exact read
 * of the array data into its own ArrayBuffer, which becomes the array without a copy (byte-swapped in
 * place if the file is big-endian); a RandomAccessSource reads it in pieces straight into that buffer,
 * the next piece in flight while the CRC of the last is folded in. Deflated members (np.savez_compressed): the compressed bytes are
 * read in chunks and inflated by the platform's DecompressionStream('deflate-raw') (native zlib in
 * browsers and Node) or fflate's streaming Inflate where that is missing; output goes straight into
 * an array buffer of the declared size. CRC-32 is checked for every member.
 */
import { Inflate } from 'fflate';
import { crc32 as builtinCrc32 } from './crc32.ts';
import {
  DEFAULT_LIMITS, checkAllocation, checkPickleSize, decodeArray, npyPreamble, parseNpyHeader,
  type IngestLimits, type NpyHeader,
} from './npy.ts';
import { toSource, type ByteSource, type NpzSource } from './source.ts';
import { IngestError, type ArrayInfo, type IngestErrorCode, type NdArray } from './types.ts';
import { readCentralDirectory, SIG_LOCAL, u16, u32, type ZipEntry } from './zip.ts';

export interface NpzArchive {
  fileName: string;
  /** Member names without `.npy`, in directory order (as numpy's NpzFile.files). */
  keys: string[];
  has(key: string): boolean;
  info(key: string): Promise<ArrayInfo>;
  read(key: string): Promise<NdArray>;
}

export interface OpenNpzOptions extends Partial<IngestLimits> {
  /**
   * Which inflater to use for deflated members: 'auto' (DecompressionStream when the platform has
   * 'deflate-raw', else fflate), or force one. Default 'auto'.
   */
  inflate?: 'auto' | 'native' | 'fflate';
  /** Verify CRC-32 of every member read (default true). */
  checkCrc?: boolean;
  /**
   * A CRC-32 to use instead of the built-in one (same contract as ./crc32.ts), e.g. Node's
   * zlib.crc32. Default: the source's own (RandomAccessSource.crc32), else the built-in.
   */
  crc32?: (data: Uint8Array, previous: number) => number;
}

/** Deflate cannot expand by more than 1032:1 (258-byte matches coded in 2 bits); more is a lie. */
const MAX_DEFLATE_RATIO = 1032;
/** Compressed bytes per Blob read while inflating. */
const READ_CHUNK = 4 * 2 ** 20;
/**
 * Compressed bytes per inflater push. Bounds what one push can produce (1032 x this) before the
 * output counter sees a zip bomb; larger pushes were no faster in bench/npz.ts.
 */
const PUSH_CHUNK = 256 * 2 ** 10;

let nativeOk: boolean | undefined;
function hasNativeInflate(): boolean {
  if (nativeOk === undefined) {
    try {
      nativeOk = typeof DecompressionStream === 'function' && !!new DecompressionStream('deflate-raw' as CompressionFormat);
    } catch {
      nativeOk = false;
    }
  }
  return nativeOk;
}

/**
 * Opens an archive from a Blob (browser File, Node's fs.openAsBlob), bytes in memory, or a
 * RandomAccessSource (Node: openFileSource from ./node-source.ts, the fastest there).
 */
export async function openNpz(source: NpzSource, fileName = 'archive.npz', options: OpenNpzOptions = {}): Promise<NpzArchive> {
  const { inflate = 'auto', checkCrc = true, crc32: crcOption, ...lim } = options;
  const limits: IngestLimits = { ...DEFAULT_LIMITS, ...lim };
  const src = toSource(source, fileName);
  const crc32 = crcOption ?? src.crc32 ?? builtinCrc32;
  const entries = await readCentralDirectory(src, fileName);
  const byKey = new Map<string, ZipEntry>();
  const keys: string[] = [];
  for (const e of entries) {
    if (e.name.endsWith('/')) continue; // a directory
    const key = e.name.endsWith('.npy') ? e.name.slice(0, -4) : e.name;
    if (!byKey.has(key)) keys.push(key);
    byKey.set(key, e); // a later duplicate wins, as in Python's zipfile
  }
  const useNative = inflate === 'native' || (inflate === 'auto' && hasNativeInflate());
  const infos = new Map<string, Promise<ArrayInfo>>();

  const entry = (key: string): ZipEntry => {
    const e = byKey.get(key);
    if (!e) {
      const list = keys.length > 12 ? `${keys.slice(0, 12).join(', ')}, ...` : keys.join(', ');
      throw new IngestError('missing_member', fileName, key, `no array '${key}' in the archive (it has: ${list || 'nothing'})`);
    }
    if (e.flags & 1) throw new IngestError('encrypted', fileName, key, 'the member is encrypted');
    if (e.method !== 0 && e.method !== 8) {
      throw new IngestError('unsupported_compression', fileName, key, `compression method ${e.method} (only stored and deflate are supported)`);
    }
    if (e.method === 0 && e.compressedSize !== e.uncompressedSize) {
      throw new IngestError('bad_zip', fileName, key, `stored member with compressed size ${e.compressedSize} != uncompressed size ${e.uncompressedSize}`);
    }
    if (e.method === 8 && e.uncompressedSize > e.compressedSize * MAX_DEFLATE_RATIO + 64) {
      throw new IngestError('zip_bomb', fileName, key,
        `declares ${e.uncompressedSize} bytes from ${e.compressedSize} compressed, beyond deflate's maximum ratio of ${MAX_DEFLATE_RATIO}:1`);
    }
    return e;
  };

  /** Reads the local header; returns where the member data starts and the bytes read after it. */
  const locate = async (key: string, e: ZipEntry, probe: number, whole = true): Promise<{ dataStart: number; head: Uint8Array }> => {
    const start = e.localHeaderOffset;
    const guess = 30 + 2 * e.name.length + 64 + 20 + probe;
    let hdr = await src.view(start, Math.min(src.size, start + guess));
    if (hdr.length < 30) throw new IngestError('truncated', fileName, key, 'the file ends inside the local header');
    if (u32(hdr, 0) !== SIG_LOCAL) throw new IngestError('bad_zip', fileName, key, `no local header at offset ${start}`);
    const dataStart = start + 30 + u16(hdr, 26) + u16(hdr, 28);
    // read() needs the whole member; info() only the part holding the NPY header
    if (whole && dataStart + e.compressedSize > src.size) {
      throw new IngestError('truncated', fileName, key,
        `the member's ${e.compressedSize} bytes at offset ${dataStart} run past the end of the ${src.size}-byte file`);
    }
    let head = hdr.subarray(Math.min(hdr.length, dataStart - start));
    const want = Math.min(probe, e.compressedSize);
    if (head.length < want) {
      hdr = await src.view(dataStart, dataStart + want);
      head = hdr;
    }
    return { dataStart, head: head.subarray(0, Math.min(head.length, e.compressedSize)) };
  };

  const fail = (code: IngestErrorCode, key: string, detail: string) => new IngestError(code, fileName, key, detail);

  const checkSize = (key: string, e: ZipEntry, h: NpyHeader) => {
    if (h.dtype !== 'object' && h.dataOffset + h.dataBytes !== e.uncompressedSize) {
      throw fail('size_mismatch', key,
        `${h.descr} array of shape (${h.shape.join(', ')}) needs ${h.dataOffset} + ${h.dataBytes} bytes but the member holds ${e.uncompressedSize}`);
    }
    if (h.dtype === 'object') checkPickleSize(e.uncompressedSize - h.dataOffset, { file: fileName, member: key }, limits);
  };

  const toInfo = (e: ZipEntry, h: NpyHeader): ArrayInfo => ({
    dtype: h.dtype,
    shape: h.shape,
    fortranOrder: h.fortranOrder,
    descr: h.descr,
    version: h.version,
    dataBytes: e.uncompressedSize - h.dataOffset,
    compression: e.method === 0 ? 'stored' : 'deflate',
    compressedSize: e.compressedSize,
    uncompressedSize: e.uncompressedSize,
  });

  /** The NPY header of a deflated member, inflating only as far as the header reaches. */
  const deflatedHeader = async (key: string, e: ZipEntry, dataStart: number, head: Uint8Array): Promise<NpyHeader> => {
    const ctx = { file: fileName, member: key };
    let out = new Uint8Array(0);
    let pos = 0;
    let need = 12;
    let done = false;
    const inf = new Inflate((chunk) => {
      if (done) return;
      const n = new Uint8Array(out.length + chunk.length);
      n.set(out);
      n.set(chunk, out.length);
      out = n;
    });
    let input = head;
    let inputEnd = dataStart + head.length;
    for (;;) {
      while (pos < input.length && out.length < need) {
        const end = Math.min(input.length, pos + 4096);
        const last = inputEnd === dataStart + e.compressedSize && end === input.length;
        try {
          inf.push(input.subarray(pos, end), last);
        } catch (err) {
          throw inflateError(err, key, last);
        }
        pos = end;
        if (out.length > e.uncompressedSize) throw fail('zip_bomb', key, `inflates past its declared size of ${e.uncompressedSize} bytes`);
        if (out.length >= 10 && need === 12) {
          const pre = npyPreamble(out, ctx, limits);
          need = 'need' in pre ? pre.need : pre.dataOffset;
        }
      }
      if (out.length >= need) {
        const pre = npyPreamble(out, ctx, limits);
        if (!('need' in pre) && out.length >= pre.dataOffset) break;
        if ('need' in pre) { need = pre.need; continue; }
        need = pre.dataOffset;
        continue;
      }
      if (inputEnd >= dataStart + e.compressedSize) {
        if (out.length < need && need > e.uncompressedSize) break; // let parseNpyHeader report it
        throw fail('truncated', key, `the member ends after ${out.length} bytes, inside its NPY header`);
      }
      const next = Math.min(dataStart + e.compressedSize, inputEnd + 65536);
      input = await src.view(inputEnd, next);
      inputEnd = next;
      pos = 0;
    }
    done = true;
    return parseNpyHeader(out.subarray(0, Math.min(out.length, e.uncompressedSize)), ctx, limits);
  };

  const inflateError = (err: unknown, key: string, wasLast: boolean): IngestError => {
    if (err instanceof IngestError) return err;
    const msg = err instanceof Error ? err.message : String(err);
    const eof = /unexpected (EOF|end)/i.test(msg) && wasLast;
    return fail(eof ? 'truncated' : 'bad_deflate', key, eof ? `the compressed data ends early (${msg})` : `corrupt deflate data (${msg})`);
  };

  const info = (key: string): Promise<ArrayInfo> => {
    let p = infos.get(key);
    if (!p) {
      p = (async () => {
        const e = entry(key);
        const probe = Math.min(e.compressedSize, e.method === 0 ? 4096 : 2048);
        const { dataStart, head } = await locate(key, e, probe, false);
        let h: NpyHeader;
        if (e.method === 0) {
          h = parseNpyHeader(await storedHeader(key, e, dataStart, head), { file: fileName, member: key }, limits);
        } else {
          h = await deflatedHeader(key, e, dataStart, head);
        }
        checkSize(key, e, h);
        return toInfo(e, h);
      })();
      infos.set(key, p);
      p.catch(() => infos.delete(key));
    }
    return p;
  };

  /** The NPY header bytes of a stored member, from the probe or (long header) read exactly. */
  const storedHeader = async (key: string, e: ZipEntry, dataStart: number, head: Uint8Array): Promise<Uint8Array> => {
    const ctx = { file: fileName, member: key };
    const pre = npyPreamble(head, ctx, limits);
    if (!('need' in pre) && pre.dataOffset <= head.length) return head;
    const pre2 = npyPreamble(await src.view(dataStart, dataStart + Math.min(e.compressedSize, 12)), ctx, limits);
    if ('need' in pre2) throw fail('truncated', key, 'the member ends inside its NPY preamble');
    if (pre2.dataOffset > e.compressedSize) throw fail('truncated', key, 'the member ends inside its NPY header');
    return src.view(dataStart, dataStart + pre2.dataOffset);
  };

  const readStored = async (key: string, e: ZipEntry): Promise<NdArray> => {
    const ctx = { file: fileName, member: key };
    const { dataStart, head } = await locate(key, e, Math.min(e.compressedSize, 4096));
    const headerBytes = await storedHeader(key, e, dataStart, head);
    const h = parseNpyHeader(headerBytes, ctx, limits);
    checkSize(key, e, h);
    checkAllocation(h, ctx, limits);
    const headerOnly = headerBytes.subarray(0, h.dataOffset);
    let crc = checkCrc ? crc32(headerOnly, 0) : 0;
    const data = await src.owned(dataStart + h.dataOffset, dataStart + e.compressedSize,
      checkCrc ? (piece) => { crc = crc32(piece, crc); } : undefined);
    if (checkCrc && crc !== e.crc32) throw fail('bad_crc', key, `CRC-32 is ${hex(crc)}, the directory says ${hex(e.crc32)}`);
    return decodeArray(h, data, ctx, limits);
  };

  const readDeflated = async (key: string, e: ZipEntry): Promise<NdArray> => {
    const ctx = { file: fileName, member: key };
    const { dataStart, head } = await locate(key, e, Math.min(e.compressedSize, 2048));
    const h = await deflatedHeader(key, e, dataStart, head);
    checkSize(key, e, h);
    checkAllocation(h, ctx, limits);
    const dataLen = e.uncompressedSize - h.dataOffset;
    const headerBuf = new Uint8Array(h.dataOffset);
    const data = new Uint8Array(dataLen);
    let total = 0;
    let crc = 0;
    const sink = (chunk: Uint8Array) => {
      const end = total + chunk.length;
      if (end > e.uncompressedSize) {
        throw fail('zip_bomb', key, `inflates past its declared size of ${e.uncompressedSize} bytes`);
      }
      if (checkCrc) crc = crc32(chunk, crc);
      let c = chunk;
      if (total < h.dataOffset) {
        const k = Math.min(c.length, h.dataOffset - total);
        headerBuf.set(c.subarray(0, k), total);
        c = c.subarray(k);
        total += k;
      }
      if (c.length) {
        data.set(c, total - h.dataOffset);
        total += c.length;
      }
    };
    const compressedEnd = dataStart + e.compressedSize;
    if (useNative) {
      await inflateNative(src, dataStart, compressedEnd, sink, (err, last) => inflateError(err, key, last));
    } else {
      const inf = new Inflate((chunk) => sink(chunk));
      for (let at = dataStart; at < compressedEnd; at += READ_CHUNK) {
        const chunk = await src.view(at, Math.min(compressedEnd, at + READ_CHUNK));
        for (let p = 0; p < chunk.length; p += PUSH_CHUNK) {
          const last = at + p + PUSH_CHUNK >= compressedEnd;
          try {
            inf.push(chunk.subarray(p, Math.min(chunk.length, p + PUSH_CHUNK)), last);
          } catch (err) {
            throw inflateError(err, key, last);
          }
        }
      }
      if (e.compressedSize === 0) throw fail('truncated', key, 'the member has no compressed data');
    }
    if (total < e.uncompressedSize) {
      throw fail('truncated', key, `inflates to ${total} bytes, fewer than the declared ${e.uncompressedSize}`);
    }
    if (checkCrc && crc !== e.crc32) throw fail('bad_crc', key, `CRC-32 is ${hex(crc)}, the directory says ${hex(e.crc32)}`);
    return decodeArray(h, data, ctx, limits);
  };

  return {
    fileName,
    keys,
    has: (key) => byKey.has(key),
    info,
    read: async (key) => {
      const e = entry(key);
      return e.method === 0 ? readStored(key, e) : readDeflated(key, e);
    },
  };
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/** Inflates [start, end) of the source with DecompressionStream('deflate-raw'), feeding chunks to `sink`. */
async function inflateNative(
  src: ByteSource,
  start: number,
  end: number,
  sink: (chunk: Uint8Array) => void,
  mapError: (err: unknown, last: boolean) => IngestError,
): Promise<void> {
  const ds = new DecompressionStream('deflate-raw' as CompressionFormat);
  const writer = ds.writable.getWriter();
  const reader = ds.readable.getReader();
  let stop: unknown = null;
  const write = (async () => {
    try {
      for (let at = start; at < end && stop === null; at += READ_CHUNK) {
        const chunk = await src.view(at, Math.min(end, at + READ_CHUNK));
        for (let p = 0; p < chunk.length && stop === null; p += PUSH_CHUNK) {
          await writer.write(chunk.subarray(p, Math.min(chunk.length, p + PUSH_CHUNK)) as Uint8Array<ArrayBuffer>);
        }
      }
      if (stop === null) await writer.close();
    } catch (err) {
      if (stop === null) stop = err;
      await writer.abort(err).catch(() => undefined);
    }
  })();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      sink(value);
    }
  } catch (err) {
    if (stop === null) stop = err;
    await reader.cancel(err).catch(() => undefined);
  }
  await write;
  if (stop !== null) {
    if (stop instanceof IngestError) throw stop;
    throw mapError(stop, true);
  }
}
