/**
 * Node only (CLI, bench, tests; never imported by src/lib): a RandomAccessSource over a file handle.
 * FileHandle.read writes each piece straight into the array the reader allocated for the member, so
 * a stored member costs one pass over the data (about 2x faster than fs.openAsBlob, whose pieces are
 * copied once more), and zlib.crc32 (Node >= 20.15) checksums it natively.
 */
import { open } from 'node:fs/promises';
import * as zlib from 'node:zlib';
import type { RandomAccessSource } from './source.ts';

export interface NodeFileSource extends RandomAccessSource {
  readonly path: string;
  /** Closes the file handle; reads after this fail with an 'io' IngestError. */
  close(): Promise<void>;
}

/** zlib.crc32 where this Node has it (20.15+), else undefined (the reader's own CRC is used). */
export const nativeCrc32: ((data: Uint8Array, previous: number) => number) | undefined =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function' ? (data, previous) => zlib.crc32(data, previous) : undefined;

/** Opens `path` for positional reads. Pass the result to openNpz and close() it when done. */
export async function openFileSource(path: string, options: { nativeCrc?: boolean } = {}): Promise<NodeFileSource> {
  const fh = await open(path, 'r');
  let size: number;
  try {
    size = (await fh.stat()).size;
  } catch (err) {
    await fh.close();
    throw err;
  }
  return {
    path,
    size,
    async read(offset, length, into) {
      const buf = into ? into.subarray(0, length) : new Uint8Array(length);
      if (buf.length < length) throw new RangeError(`destination of ${buf.length} bytes for a ${length}-byte read`);
      let done = 0;
      while (done < length) {
        // pread(2) returns at most 2 GiB - 4 KiB per call on Linux; loop until done or end of file
        const { bytesRead } = await fh.read(buf, done, Math.min(length - done, 2 ** 30), offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return buf.subarray(0, done);
    },
    crc32: options.nativeCrc === false ? undefined : nativeCrc32,
    close: () => fh.close(),
  };
}
