/**
 * Array and error types shared by every reader in src/lib/ingest and by all later stages.
 * An NdArray is always C-ordered and in the platform's native byte order, whatever the file had.
 */

export type NumericDType =
  | 'bool'
  | 'int8' | 'int16' | 'int32' | 'int64'
  | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'float16' | 'float32' | 'float64'
  | 'complex64' | 'complex128';

/** numpy's `dtype.name` for numeric kinds; 'str' for `<U`, 'bytes' for `S`, 'object' for a decoded 0-d pickle string. */
export type DType = NumericDType | 'str' | 'bytes' | 'object';

export type NumericData =
  | Uint8Array | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint16Array | Uint32Array | BigUint64Array
  | Float32Array | Float64Array;

export type ArrayData = NumericData | string[];

export interface NdArray {
  dtype: DType;
  /** [] for 0-d arrays (which hold exactly one element). */
  shape: number[];
  /**
   * bool -> Uint8Array; intN/uintN -> matching typed array (BigInt64Array/BigUint64Array for 64-bit);
   * float16/float32 -> Float32Array; float64 -> Float64Array;
   * complex64/complex128 -> interleaved [re, im, ...] Float32Array/Float64Array (length 2 x size);
   * str/bytes/object -> string[].
   */
  data: ArrayData;
}

/** What an NPY header says about a member, read without reading its data. */
export interface ArrayInfo {
  dtype: DType;
  shape: number[];
  fortranOrder: boolean;
  /** The numpy descr string as written, e.g. '<f4', '>c8', '<U12', '|O'. */
  descr: string;
  /** NPY format version, e.g. [1, 0]. */
  version: [number, number];
  /** Bytes of array data after the header (uncompressed). */
  dataBytes: number;
  compression: 'stored' | 'deflate';
  compressedSize: number;
  uncompressedSize: number;
}

export type IngestErrorCode =
  | 'not_zip'              // no end-of-central-directory record / wrong magic
  | 'bad_zip'              // inconsistent central directory, bad local header, overlapping members
  | 'zip64'                // malformed ZIP64 record or extra field
  | 'encrypted'            // encrypted member
  | 'unsupported_compression'
  | 'truncated'            // the member or file ends before its declared size
  | 'bad_deflate'          // the deflate stream of a member is corrupt
  | 'bad_crc'              // CRC-32 mismatch
  | 'zip_bomb'             // inflates past its declared size or past the safety ratio
  | 'missing_member'       // a key that the archive does not contain
  | 'bad_magic'            // not an NPY file (member does not start with \x93NUMPY)
  | 'bad_header'           // unparsable or inconsistent NPY header dict
  | 'header_too_large'     // NPY header above the size limit
  | 'unsupported_dtype'
  | 'size_mismatch'        // element count x itemsize disagrees with the member size
  | 'too_large'            // array would exceed the allocation limit
  | 'unsupported_pickle'   // object array whose pickle is not a single 0-d string
  | 'io';                  // the Blob could not be read

/** Every failure of the ingest stage is one of these: a code, the file, the member, and a sentence. */
export class IngestError extends Error {
  override readonly name = 'IngestError';
  constructor(
    readonly code: IngestErrorCode,
    readonly file: string,
    readonly member: string | undefined,
    readonly detail: string,
  ) {
    super(`${file}${member !== undefined ? ` [${member}]` : ''}: ${detail}`);
  }
}

export function isIngestError(e: unknown): e is IngestError {
  return e instanceof IngestError;
}
