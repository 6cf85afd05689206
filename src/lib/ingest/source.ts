/** Random access to the bytes of a Blob (read lazily through Blob.slice) or an in-memory Uint8Array. */
import { IngestError } from './types.ts';

export interface ByteSource {
  readonly size: number;
  /** Bytes [start, end). May be a view into shared memory: callers must not write to it. */
  view(start: number, end: number): Promise<Uint8Array>;
  /** Bytes [start, end) in a fresh ArrayBuffer of exactly that length (byteOffset 0, safe to mutate). */
  owned(start: number, end: number): Promise<Uint8Array>;
}

export function toSource(source: Blob | Uint8Array, file: string): ByteSource {
  if (source instanceof Uint8Array) {
    return {
      size: source.length,
      view: async (s, e) => source.subarray(s, e),
      owned: async (s, e) => source.slice(s, e),
    };
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    const read = async (s: number, e: number): Promise<Uint8Array> => {
      let buf: ArrayBuffer;
      try {
        buf = await source.slice(s, e).arrayBuffer();
      } catch (err) {
        throw new IngestError('io', file, undefined, `could not read bytes ${s}-${e} of the file (${String(err)})`);
      }
      const want = Math.max(0, Math.min(e, source.size) - s);
      if (buf.byteLength !== want) {
        throw new IngestError('io', file, undefined, `read ${buf.byteLength} bytes at offset ${s} where ${want} were expected (did the file change?)`);
      }
      return new Uint8Array(buf);
    };
    return { size: source.size, view: read, owned: read };
  }
  throw new IngestError('io', file, undefined, 'the source is neither a Blob nor a Uint8Array');
}
