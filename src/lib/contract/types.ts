/**
 * The validated dataset that training consumes, the report every file gets, and the narrow view of
 * an NPZ archive this stage needs (satisfied by ingest's NpzArchive, and by test wrappers around it).
 */
import type { ArrayInfo, NdArray } from '../ingest/types';
import type { ContractIssue } from './issues';

/** What validation needs from an opened NPZ: headers without data (info) and single members (read). */
export interface DatasetArchive {
  readonly keys: readonly string[];
  has(key: string): boolean;
  info(key: string): Promise<ArrayInfo>;
  read(key: string): Promise<NdArray>;
}

export interface ValidateOptions {
  /** The file as the user knows it (a POSIX path relative to what was dropped); used in every message. */
  file: string;
  /** 1 (baseline) or 2 (dense/sparse views); gridsize 2 needs at least 5 positions. Default 1. */
  gridsize?: 1 | 2;
}

export interface DatasetReport {
  file: string;
  /** True when there are no errors (warnings allowed). */
  ok: boolean;
  errors: ContractIssue[];
  warnings: ContractIssue[];
  /** Pattern size, when the diffraction header allowed it to be determined. */
  N?: number;
  /** Number of diffraction patterns / scan positions, when known. */
  nPositions?: number;
  /** Every member of the archive, in archive order. */
  keys: string[];
  /** Parsed JSON of `_metadata` (loadDataset only; inspectDataset reads no data). */
  metadata?: unknown;
}

export interface ComplexImage {
  re: Float32Array;
  im: Float32Array;
}

export interface Dataset {
  file: string;
  /** Pattern size: each diffraction pattern and the probe are N x N. */
  N: number;
  /** Number of patterns (= scan positions). */
  n: number;
  /** n * N * N amplitudes (sqrt of intensity), C order (pattern, row, column). */
  diffraction: Float32Array;
  xcoords: Float64Array;
  ycoords: Float64Array;
  /** `xcoords_start` when the file has it, else a copy of `xcoords` (the reference's `docs/specs/spec-ptycho-core.md:118-131`). */
  xcoordsStart: Float64Array;
  ycoordsStart: Float64Array;
  /** N * N, C order. */
  probe: ComplexImage;
  object?: ComplexImage & { height: number; width: number };
  /** Parsed JSON of `_metadata` when readable. */
  metadata?: unknown;
}

export interface LoadResult {
  report: DatasetReport;
  /** Present exactly when report.ok. */
  dataset?: Dataset;
}
