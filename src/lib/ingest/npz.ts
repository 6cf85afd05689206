/**
 * openNpz: random access to the arrays of an .npz archive. Only the central directory is read up
 * front; each read/info touches only its own member (Blob.slice, or positional reads of a
 * RandomAccessSource).
 *
 * Stored members (np.savez): one small read for the local header and NPY header (a small member is
 * read whole with it), then one exact read of the array data into its own ArrayBuffer, which becomes
 * the array without a copy (byte-swapped in place if the file is big-endian); a RandomAccessSource
 * reads it in pieces straight into that buffer, the next piece in flight while the CRC of the last is
 * folded in, and a browser's File streams into it (source.ts). Deflated members (np.savez_compressed):
 * the compressed bytes are read in pieces and inflated by the platform's DecompressionStream (native
 * zlib in browsers and Node) or fflate's streaming Inflate where that is missing; output goes straight
 * into an array buffer of the declared size. CRC-32 is checked for every member: for deflated members
 * on the native inflater by zlib itself, the member framed as a gzip stream whose trailer carries the
 * directory's CRC and size (a member that fails there is redone on fflate, so every error is the same
 * as on the fflate path).
 */
import { Inflate } from 'fflate';
import { crc32 as builtinCrc32 } from './crc32.ts';
import {
  DEFAULT_LIMITS, checkAllocation, checkPickleSize, copyBytes, decodeArray, npyPreamble, parseNpyHeader,
  type IngestLimits, type NpyHeader,
} from './npy.ts';
import { toSource, type BlobReads, type ByteSource, type NpzSource } from './source.ts';
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
  /** How large ranges of a Blob are read (source.ts): 'auto' (default) picks by platform. */
  blobReads?: BlobReads;
  /**
   * A CRC-32 to use instead of the built-in one (same contract as ./crc32.ts), e.g. Node's
   * zlib.crc32. Default: the source's own (RandomAccessSource.crc32), else the built-in.
   */
  crc32?: (data: Uint8Array, previous: number) => number;
}

/** Deflate cannot expand by more than 1032:1 (258-byte matches coded in 2 bits); more is a lie. */
const MAX_DEFLATE_RATIO = 1032;
/** Stored members up to this size are read whole with their local header: one read instead of two. */
const SMALL_MEMBER = 2 ** 20;
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
  const { inflate = 'auto', checkCrc = true, crc32: crcOption, blobReads = 'auto', ...lim } = options;
  const limits: IngestLimits = { ...DEFAULT_LIMITS, ...lim };
  const src = toSource(source, fileName, blobReads);
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
    const small = e.compressedSize <= SMALL_MEMBER;
    const { dataStart, head } = await locate(key, e, small ? e.compressedSize : Math.min(e.compressedSize, 4096));
    const headerBytes = await storedHeader(key, e, dataStart, head);
    const h = parseNpyHeader(headerBytes, ctx, limits);
    checkSize(key, e, h);
    checkAllocation(h, ctx, limits);
    const headerOnly = headerBytes.subarray(0, h.dataOffset);
    let crc = checkCrc ? crc32(headerOnly, 0) : 0;
    let data: Uint8Array;
    if (small && head.length === e.compressedSize && headerBytes === head) {
      data = copyBytes(head, h.dataOffset); // read whole with the local header
      if (checkCrc) crc = crc32(data, crc);
    } else {
      data = await src.owned(dataStart + h.dataOffset, dataStart + e.compressedSize,
        checkCrc ? (piece) => { crc = crc32(piece, crc); } : undefined);
    }
    if (checkCrc && crc !== e.crc32) throw fail('bad_crc', key, `CRC-32 is ${hex(crc)}, the directory says ${hex(e.crc32)}`);
    return decodeArray(h, data, ctx, limits);
  };

  const readDeflated = async (key: string, e: ZipEntry): Promise<NdArray> => {
    const ctx = { file: fileName, member: key };
    const { dataStart, head } = await locate(key, e, Math.min(e.compressedSize, 2048));
    const h = await deflatedHeader(key, e, dataStart, head);
    checkSize(key, e, h);
    checkAllocation(h, ctx, limits);
    const compressedEnd = dataStart + e.compressedSize;
    /**
     * Inflates the whole member into a fresh array buffer: 'gzip' (DecompressionStream, zlib checks
     * the CRC and the length), 'native' (DecompressionStream('deflate-raw'), our CRC), or 'fflate'.
     */
    const inflateMember = async (how: 'gzip' | 'native' | 'fflate'): Promise<Uint8Array> => {
      const headerBuf = new Uint8Array(h.dataOffset);
      const data = new Uint8Array(e.uncompressedSize - h.dataOffset);
      const ourCrc = checkCrc && how !== 'gzip';
      let total = 0;
      let crc = 0;
      const sink = (chunk: Uint8Array) => {
        const end = total + chunk.length;
        if (end > e.uncompressedSize) {
          throw fail('zip_bomb', key, `inflates past its declared size of ${e.uncompressedSize} bytes`);
        }
        if (ourCrc) crc = crc32(chunk, crc);
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
      if (how !== 'fflate') {
        await inflateNative(src, dataStart, compressedEnd, sink, how === 'gzip' ? { crc: e.crc32, size: e.uncompressedSize } : undefined);
      } else {
        const inf = new Inflate((chunk) => sink(chunk));
        for await (const { at, chunk } of pieces(src, dataStart, compressedEnd)) {
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
      if (ourCrc && crc !== e.crc32) throw fail('bad_crc', key, `CRC-32 is ${hex(crc)}, the directory says ${hex(e.crc32)}`);
      return data;
    };
    let data: Uint8Array;
    if (!useNative) {
      data = await inflateMember('fflate');
    } else if (!checkCrc) {
      try {
        data = await inflateMember('native');
      } catch (err) {
        throw err instanceof NativeInflateError ? inflateError(err.inner, key, true) : err;
      }
    } else {
      try {
        data = await inflateMember('gzip');
      } catch {
        // zlib's verdict ("incorrect data check", "invalid block type", "unexpected end of file") covers
        // the deflate data, the CRC and the length at once, and zlib hands out output before it finds
        // a fault that fflate reports first. So any failure is decided by the fflate path, which checks
        // each on its own and names the fault (bad_crc with the CRC found, truncated, bad_deflate,
        // zip_bomb): the errors are exactly those of inflate: 'fflate'. Success needs no second opinion:
        // zlib accepted the whole stream, its CRC and its length, and the sink never overflowed.
        data = await inflateMember('fflate');
      }
    }
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

/**
 * [start, end) of the source in pieces of src.pieceBytes, in order, the next one read while the
 * caller inflates this one (reads run outside this thread: in the browser process, on Node's I/O threads).
 */
async function* pieces(src: ByteSource, start: number, end: number): AsyncGenerator<{ at: number; chunk: Uint8Array }> {
  const read = (at: number) => {
    if (at >= end) return null;
    const p = src.view(at, Math.min(end, at + src.pieceBytes));
    p.catch(() => undefined); // awaited below, unless an earlier piece failed
    return p;
  };
  let next = read(start);
  for (let at = start; next; at += src.pieceBytes) {
    const cur = next;
    next = read(at + src.pieceBytes);
    yield { at, chunk: await cur };
  }
}

/** An error of the platform's DecompressionStream (as opposed to one of ours from the sink or a read). */
class NativeInflateError extends Error {
  constructor(readonly inner: unknown) {
    super(inner instanceof Error ? inner.message : String(inner));
  }
}

/** The fixed 10-byte gzip header (RFC 1952: deflate, no flags, no time, unknown OS). */
const GZIP_HEADER = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);

/**
 * Inflates [start, end) of the source with DecompressionStream, feeding chunks to `sink`. With
 * `check`, the raw deflate data is framed as a gzip member (header + data + trailer of the expected
 * CRC-32 and size mod 2^32), so that zlib verifies the CRC as it inflates; else 'deflate-raw'.
 * Errors of the stream come out as NativeInflateError; errors thrown by `sink` or by a read as they are.
 */
async function inflateNative(
  src: ByteSource,
  start: number,
  end: number,
  sink: (chunk: Uint8Array) => void,
  check?: { crc: number; size: number },
): Promise<void> {
  const ds = new DecompressionStream((check ? 'gzip' : 'deflate-raw') as CompressionFormat);
  const writer = ds.writable.getWriter();
  const reader = ds.readable.getReader();
  let stop: unknown = null;
  let ours = false;
  const write = (async () => {
    try {
      if (check) await writer.write(GZIP_HEADER.slice());
      const input = pieces(src, start, end);
      for (;;) {
        let next: IteratorResult<{ chunk: Uint8Array }>;
        try {
          next = await input.next();
        } catch (err) {
          if (stop === null) { stop = err; ours = true; }
          throw err;
        }
        if (next.done || stop !== null) break;
        const { chunk } = next.value;
        for (let p = 0; p < chunk.length && stop === null; p += PUSH_CHUNK) {
          await writer.write(chunk.subarray(p, Math.min(chunk.length, p + PUSH_CHUNK)) as Uint8Array<ArrayBuffer>);
        }
      }
      if (check && stop === null) {
        const trailer = new Uint8Array(8);
        const dv = new DataView(trailer.buffer);
        dv.setUint32(0, check.crc >>> 0, true);
        dv.setUint32(4, check.size % 2 ** 32, true);
        await writer.write(trailer);
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
      try {
        sink(value);
      } catch (err) {
        if (stop === null) { stop = err; ours = true; }
        throw err;
      }
    }
  } catch (err) {
    if (stop === null) stop = err;
    await reader.cancel(err).catch(() => undefined);
  }
  await write;
  if (stop !== null) {
    if (ours || stop instanceof IngestError) throw stop;
    throw new NativeInflateError(stop);
  }
}
