/** NPZ/NPY ingestion: everything numpy writes, read by random access, hostile input refused by typed errors. */
export * from './types.ts';
export { openNpz, type NpzArchive, type OpenNpzOptions } from './npz.ts';
export { readNpy, DEFAULT_LIMITS, type IngestLimits } from './npy.ts';
export { writeNpz, writeNpy, type WriteNpzOptions } from './write.ts';
export { crc32 } from './crc32.ts';
export { isRandomAccessSource, type NpzSource, type RandomAccessSource } from './source.ts';
