/**
 * Random access to the bytes of an archive: a Blob (read lazily through Blob.slice), an in-memory
 * Uint8Array, or a RandomAccessSource (positional reads into a caller's buffer, e.g. a Node file
 * handle from node-source.ts).
 *
 * Blobs are read differently in browsers and in Node, because their Blob implementations cost
 * differently (measured by `npm run bench`, bench/browser/npz.ts, on the same 200 MB files):
 * - Browsers (a File from the folder picker or a drop): every Blob read is a round trip to the
 *   browser process, so a large range is read as ONE streamed read (Blob.stream() with a BYOB
 *   reader) straight into the result's buffer, each piece checksummed as it lands. In headless
 *   Chromium 200 MB read in 2 MiB slices took 3.5-4 s; one streamed read about 1 s.
 * - Node (fs.openAsBlob): 2 MiB slices, the next in flight while the last is copied (Node's Blob
 *   stream hands out 64 KiB pieces: 7 s for the same 200 MB; its arrayBuffer() of the whole holds
 *   the data twice).
 */
import { copyBytes } from './npy.ts';
import { IngestError } from './types.ts';

/**
 * Positional reads from something of known size: the fastest way to read a file where the platform
 * offers it (Node's FileHandle.read writes straight into the destination array, no intermediate copy).
 */
export interface RandomAccessSource {
  readonly size: number;
  /**
   * Reads `length` bytes at `offset` (fewer only where the source ends). With `into` (at least
   * `length` bytes long), the bytes are written into it and a view of `into` is returned; without it,
   * into a fresh buffer.
   */
  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  /**
   * Optional CRC-32 with the contract of ./crc32.ts (`crc32(b, crc32(a)) === crc32(a ++ b)`), used
   * instead of the built-in one: Node's native zlib.crc32 is about twice as fast.
   */
  crc32?: (data: Uint8Array, previous: number) => number;
}

export type NpzSource = Blob | Uint8Array | RandomAccessSource;

export function isRandomAccessSource(x: unknown): x is RandomAccessSource {
  return typeof x === 'object' && x !== null && !(x instanceof Uint8Array) &&
    typeof (x as RandomAccessSource).read === 'function' && typeof (x as RandomAccessSource).size === 'number';
}

export interface ByteSource {
  readonly size: number;
  /** Bytes [start, end). May be a view into shared memory: callers must not write to it. */
  view(start: number, end: number): Promise<Uint8Array>;
  /**
   * Bytes [start, end) in a fresh ArrayBuffer of exactly that length (byteOffset 0, safe to mutate).
   * `onChunk` sees the bytes in order, in pieces, while they are fresh in cache (used for the CRC).
   */
  owned(start: number, end: number, onChunk?: (piece: Uint8Array) => void): Promise<Uint8Array>;
  /** The CRC-32 the source brings along, if any (see RandomAccessSource.crc32). */
  crc32?: (data: Uint8Array, previous: number) => number;
  /** Bytes to ask for per view() when reading a long range piece by piece (the deflated path). */
  readonly pieceBytes: number;
}

/**
 * How large Blob ranges are read: 'stream' (one Blob.stream() read straight into the result: browsers),
 * 'slices' (2 MiB Blob.slice reads copied into the result: Node), or 'auto' (by platform).
 */
export type BlobReads = 'auto' | 'stream' | 'slices';

/** Node (and Deno, Bun: they carry process.versions.node) or a browser. */
const IN_NODE = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** Piece size for large Blob reads (fastest in bench/npz.ts: 2 MiB beat 1, 4, 8 and 16). */
const BLOB_CHUNK = 2 * 2 ** 20;
/**
 * Piece size and reads in flight for large RandomAccessSource reads. Pieces are read straight into
 * the result while the oldest one is checksummed (reads run on Node's I/O threads, the CRC on this
 * one). Measured on the 2-core dev machine, 200 MB through a file handle with zlib.crc32: 4 MiB x 4
 * in flight ~200 ms median, 4 MiB x 1 ~265 ms; 0.5-32 MiB x 1-8 were otherwise within its noise.
 */
const RA_CHUNK = 4 * 2 ** 20;
const RA_DEPTH = 4;
/** Blob reads each allocate their piece, so only one runs ahead. */
const BLOB_DEPTH = 1;
/** Pieces of long sequential ranges (deflated members): per source kind, see pieceBytes. */
const PIECE = 4 * 2 ** 20;
const STREAM_PIECE = 16 * 2 ** 20;

const noop = () => undefined;

/**
 * Reads [s, e) as consecutive pieces of `chunk` bytes with up to `depth` reads in flight, so that
 * reading runs ahead while `onPiece` works on the oldest piece. Reads are issued and handed on in order.
 */
async function pipelined(
  s: number,
  e: number,
  chunk: number,
  depth: number,
  readPiece: (start: number, end: number) => Promise<Uint8Array>,
  onPiece: (piece: Uint8Array, at: number) => void,
): Promise<void> {
  const inflight: { at: number; piece: Promise<Uint8Array> }[] = [];
  let next = s;
  const issue = () => {
    if (next >= e) return;
    const piece = readPiece(next, Math.min(e, next + chunk));
    piece.catch(noop); // pieces left in flight when an earlier one fails are never awaited
    inflight.push({ at: next, piece });
    next += chunk;
  };
  for (let i = 0; i < depth; i++) issue();
  while (inflight.length) {
    const { at, piece } = inflight.shift()!;
    const got = await piece;
    issue();
    onPiece(got, at);
  }
}

/**
 * Reads [s, e) of a Blob as one stream straight into one buffer of exactly e - s bytes (a BYOB reader
 * fills it piece by piece as the bytes arrive; `onChunk` sees each piece before the next read), or,
 * where Blob.stream() is not a byte stream, as one arrayBuffer() of the range.
 */
async function streamInto(
  blob: Blob, s: number, e: number, onChunk: ((piece: Uint8Array) => void) | undefined,
  fail: (err: unknown) => Error, short: (got: number) => Error,
): Promise<Uint8Array> {
  const n = e - s;
  const part = blob.slice(s, e);
  let reader: ReadableStreamBYOBReader | undefined;
  try {
    reader = part.stream().getReader({ mode: 'byob' });
  } catch {
    reader = undefined; // not a byte stream here
  }
  if (!reader) {
    let buf: ArrayBuffer;
    try {
      buf = await part.arrayBuffer();
    } catch (err) {
      throw fail(err);
    }
    if (buf.byteLength !== n) throw short(buf.byteLength);
    const out = new Uint8Array(buf);
    if (onChunk) for (let p = 0; p < n; p += BLOB_CHUNK) onChunk(out.subarray(p, p + BLOB_CHUNK));
    return out;
  }
  let buf = new ArrayBuffer(n);
  let at = 0;
  try {
    while (at < n) {
      // Each read transfers the buffer to the stream and hands it back (detaching the old one).
      const { value, done } = await reader.read(new Uint8Array(buf, at, n - at));
      if (value) buf = value.buffer as ArrayBuffer;
      if (done || !value || value.length === 0) break;
      onChunk?.(value);
      at += value.length;
    }
  } catch (err) {
    throw fail(err);
  } finally {
    // A read past the end of the range (more bytes than asked for) cannot happen: each read is
    // bounded by its view. Release the stream whatever happened.
    reader.cancel().catch(() => undefined);
  }
  if (at !== n) throw short(at);
  return new Uint8Array(buf, 0, n);
}

export function toSource(source: NpzSource, file: string, blobReads: BlobReads = 'auto'): ByteSource {
  const ioError = (s: number, e: number, err: unknown) =>
    err instanceof IngestError ? err : new IngestError('io', file, undefined, `could not read bytes ${s}-${e} of the file (${String(err)})`);
  const shortRead = (got: number, s: number, want: number) =>
    new IngestError('io', file, undefined, `read ${got} bytes at offset ${s} where ${want} were expected (did the file change?)`);

  if (source instanceof Uint8Array) {
    return {
      size: source.length,
      view: async (s, e) => source.subarray(s, e),
      owned: async (s, e, onChunk) => {
        const out = copyBytes(source, s, e); // a copy even of a Node Buffer, whose slice() is a view
        if (onChunk) for (let p = 0; p < out.length; p += BLOB_CHUNK) onChunk(out.subarray(p, p + BLOB_CHUNK));
        return out;
      },
      pieceBytes: PIECE,
    };
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    const stream = blobReads === 'stream' || (blobReads === 'auto' && !IN_NODE);
    const read = async (s: number, e: number): Promise<Uint8Array> => {
      let buf: ArrayBuffer;
      try {
        buf = await source.slice(s, e).arrayBuffer();
      } catch (err) {
        throw ioError(s, e, err);
      }
      const want = Math.max(0, Math.min(e, source.size) - s);
      if (buf.byteLength !== want) throw shortRead(buf.byteLength, s, want);
      return new Uint8Array(buf);
    };
    const owned = async (s: number, e: number, onChunk?: (piece: Uint8Array) => void): Promise<Uint8Array> => {
      e = Math.min(e, source.size);
      if (e - s <= BLOB_CHUNK) {
        const one = await read(s, e);
        onChunk?.(one);
        return one;
      }
      if (stream) {
        return streamInto(source, s, e, onChunk, (err) => ioError(s, e, err), (got) => shortRead(got, s, e - s));
      }
      // Large ranges: 2 MiB reads (the next one in flight while this one is copied and checksummed)
      // into one exact buffer. In Node a file-backed Blob's arrayBuffer() of 200 MB is 3x slower than
      // this and holds the data twice at its peak.
      const out = new Uint8Array(e - s);
      await pipelined(s, e, BLOB_CHUNK, BLOB_DEPTH, read, (piece, p) => {
        out.set(piece, p - s);
        onChunk?.(out.subarray(p - s, p - s + piece.length));
      });
      return out;
    };
    return { size: source.size, view: read, owned, pieceBytes: stream ? STREAM_PIECE : PIECE };
  }
  if (isRandomAccessSource(source)) {
    const size = source.size;
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new IngestError('io', file, undefined, `the source reports an impossible size (${String(size)})`);
    }
    /** Exactly [s, e) (clamped to the size), into `into` when given. */
    const read = async (s: number, e: number, into?: Uint8Array): Promise<Uint8Array> => {
      const want = Math.max(0, Math.min(e, size) - s);
      let got: Uint8Array;
      try {
        got = await source.read(s, want, into);
      } catch (err) {
        throw ioError(s, e, err);
      }
      if (!(got instanceof Uint8Array) || got.length !== want) throw shortRead(got instanceof Uint8Array ? got.length : 0, s, want);
      if (into && (got.buffer !== into.buffer || got.byteOffset !== into.byteOffset)) {
        into.set(got); // the source ignored `into`: still correct, one copy more
        return into.subarray(0, want);
      }
      return got;
    };
    const owned = async (s: number, e: number, onChunk?: (piece: Uint8Array) => void): Promise<Uint8Array> => {
      e = Math.max(s, Math.min(e, size));
      const out = new Uint8Array(e - s);
      await pipelined(s, e, RA_CHUNK, RA_DEPTH, (a, b) => read(a, b, out.subarray(a - s, b - s)), (piece) => onChunk?.(piece));
      return out;
    };
    return { size, view: (s, e) => read(s, e), owned, crc32: typeof source.crc32 === 'function' ? source.crc32 : undefined, pieceBytes: PIECE };
  }
  throw new IngestError('io', file, undefined, 'the source is neither a Blob, a Uint8Array nor a RandomAccessSource');
}
