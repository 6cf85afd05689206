/**
 * Reading a validated file into the Dataset training uses. Only the members training needs are read
 * (diffraction or diff3d, probeGuess, objectGuess, xcoords, ycoords, *_start when present, _metadata);
 * `Y`, `ground_truth_patches` and everything else stay unread, however large.
 */
import { isIngestError, type NdArray } from '../ingest/types';
import { e, w, type ContractIssue } from './issues';
import { examine, type LoadPlan } from './inspect';
import type { ComplexImage, Dataset, DatasetArchive, DatasetReport, LoadResult, ValidateOptions } from './types';

/** DATA-001 suggested checks (the reference's `docs/data_contracts.md:49-70`): max < 10 and max/mean < 100. */
export const AMPLITUDE_MAX_HINT = 10;
export const AMPLITUDE_RATIO_HINT = 100;

class Unreadable {
  constructor(readonly issue: ContractIssue) {}
}

async function readMember(archive: DatasetArchive, file: string, key: string): Promise<NdArray> {
  try {
    return await archive.read(key);
  } catch (err) {
    if (isIngestError(err)) throw new Unreadable(e.unreadable(file, key, err));
    throw err;
  }
}

function expectLength(key: string, arr: NdArray, length: number): void {
  if (arr.data.length !== length) {
    // The header promised a shape the reader did not deliver: a reader bug, not a data problem.
    throw new Error(`contract: '${key}' has ${arr.data.length} values where its header implies ${length}`);
  }
}

/** Flat index in the file's own layout -> (pattern, row, column). */
function patternPosition(flat: number, plan: LoadPlan): number[] {
  const { N, n } = plan;
  if (plan.legacyLayout) {
    // (H, W, n): flat = (row * N + column) * n + pattern
    return [flat % n, Math.floor(flat / (n * N)), Math.floor(flat / n) % N];
  }
  return [Math.floor(flat / (N * N)), Math.floor(flat / N) % N, flat % N];
}

/** Squeeze, legacy transpose, uint16 -> sqrt amplitude, float64 -> float32 (the reference's `docs/data_contracts.md:80-99`; `components.py:325-345`). */
function toAmplitude(arr: NdArray, plan: LoadPlan): Float32Array {
  const { N, n } = plan;
  const NN = N * N;
  const src = arr.data;
  if (!(src instanceof Float32Array || src instanceof Float64Array || src instanceof Uint16Array)) {
    throw new Error(`contract: diffraction data of dtype ${arr.dtype} reached conversion`);
  }
  const sqrt = src instanceof Uint16Array;
  if (!plan.legacyLayout) {
    if (src instanceof Float32Array) return src;
    const out = new Float32Array(src.length);
    if (sqrt) for (let i = 0; i < src.length; i++) out[i] = Math.sqrt(src[i]);
    else out.set(src);
    return out;
  }
  const out = new Float32Array(n * NN);
  for (let rc = 0, k = 0; rc < NN; rc++) {
    for (let p = 0; p < n; p++, k++) {
      const v = src[k];
      out[p * NN + rc] = sqrt ? Math.sqrt(v) : v;
    }
  }
  return out;
}

function compareAlias(a: NdArray, b: NdArray, plan: LoadPlan, file: string): ContractIssue | undefined {
  const x = a.data;
  const y = b.data;
  if (typeof x[0] === 'string' || typeof y[0] === 'string' || x.length !== y.length) {
    throw new Error('contract: diffraction and diff3d passed the header check but differ in kind');
  }
  const xs = x as ArrayLike<number>;
  const ys = y as ArrayLike<number>;
  let count = 0;
  let first = -1;
  for (let i = 0; i < xs.length; i++) {
    const u = xs[i];
    const v = ys[i];
    if (u !== v && !(u !== u && v !== v)) {
      if (first < 0) first = i;
      count++;
    }
  }
  return count === 0 ? undefined : e.alias_values_differ(file, count, xs.length, patternPosition(first, plan));
}

function checkAmplitude(amp: Float32Array, plan: LoadPlan, file: string, errors: ContractIssue[], warnings: ContractIssue[]): void {
  const key = plan.diffKey;
  const N = plan.N;
  const pos = (i: number): number[] => [Math.floor(i / (N * N)), Math.floor(i / N) % N, i % N];
  let nonFinite = 0;
  let firstNonFinite = -1;
  let negative = 0;
  let firstNegative = -1;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let finite = 0;
  for (let i = 0; i < amp.length; i++) {
    const v = amp[i];
    if (!Number.isFinite(v)) {
      if (firstNonFinite < 0) firstNonFinite = i;
      nonFinite++;
      continue;
    }
    if (v < 0) {
      if (firstNegative < 0) firstNegative = i;
      negative++;
    }
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    finite++;
  }
  if (nonFinite > 0) errors.push(e.non_finite(file, key, nonFinite, amp.length, pos(firstNonFinite)));
  if (negative > 0) errors.push(e.negative_amplitude(file, key, negative, min, pos(firstNegative)));
  if (finite === 0) return;
  if (negative === 0 && max === 0) {
    errors.push(e.zero_diffraction(file, key));
    return;
  }
  const mean = sum / finite;
  if (max >= AMPLITUDE_MAX_HINT) warnings.push(w.amplitude_max(file, key, max));
  if (mean > 0 && max / mean >= AMPLITUDE_RATIO_HINT) warnings.push(w.amplitude_ratio(file, key, max, mean));
}

/** A real numeric array's values as float64 (64-bit integers through Number); the caller has checked the dtype. */
export function toFloat64(arr: NdArray, key: string): Float64Array {
  const src = arr.data;
  if (src instanceof Float64Array) return src;
  if (Array.isArray(src)) throw new Error(`contract: coordinates '${key}' of dtype ${arr.dtype} reached conversion`);
  const out = new Float64Array(src.length);
  if (src instanceof BigInt64Array || src instanceof BigUint64Array) {
    for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
  } else {
    out.set(src);
  }
  return out;
}

function checkFinite(values: Float64Array, key: string, file: string, errors: ContractIssue[]): void {
  let count = 0;
  let first = -1;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (count > 0) errors.push(e.non_finite(file, key, count, values.length, [first]));
}

/** Interleaved complex (complex64 or complex128) -> float32 (re, im) planes; reports non-finite elements. */
function toComplex(arr: NdArray, key: string, width: number, file: string, errors: ContractIssue[]): ComplexImage {
  const src = arr.data;
  if (!(src instanceof Float32Array || src instanceof Float64Array)) {
    throw new Error(`contract: '${key}' of dtype ${arr.dtype} reached complex conversion`);
  }
  const size = src.length / 2;
  const re = new Float32Array(size);
  const im = new Float32Array(size);
  let count = 0;
  let first = -1;
  for (let i = 0; i < size; i++) {
    const a = src[2 * i];
    const b = src[2 * i + 1];
    re[i] = a;
    im[i] = b;
    if (!Number.isFinite(re[i]) || !Number.isFinite(im[i])) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (count > 0) errors.push(e.non_finite(file, key, count, size, [Math.floor(first / width), first % width]));
  return { re, im };
}

/** Best-effort _metadata: a 0-d str (Phase D) or decoded pickle string (Phase C) holding JSON. */
async function readMetadata(archive: DatasetArchive, file: string, warnings: ContractIssue[]): Promise<unknown> {
  let arr: NdArray;
  try {
    arr = await archive.read('_metadata');
  } catch (err) {
    if (isIngestError(err)) {
      warnings.push(w.metadata_unreadable(file, err));
      return undefined;
    }
    throw err;
  }
  const text = arr.shape.length === 0 && Array.isArray(arr.data) ? arr.data[0] : undefined;
  if (typeof text !== 'string') {
    warnings.push(w.metadata_not_json(file, `dtype ${arr.dtype} with shape (${arr.shape.join(', ')})`));
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    const head = text.length > 40 ? `${text.slice(0, 40)}...` : text;
    warnings.push(w.metadata_not_json(file, `the text "${head}"`));
    return undefined;
  }
}

/**
 * Validate a file and, when it passes, read it into a Dataset: headers first (inspectDataset), then
 * the training members, converted to the canonical layout and checked value by value. A file whose
 * headers already fail is not read further (its report lists the header errors).
 */
export async function loadDataset(archive: DatasetArchive, opts: ValidateOptions): Promise<LoadResult> {
  const { report, plan, metadataReadable } = await examine(archive, opts);
  const file = opts.file;
  if (metadataReadable) {
    const metadata = await readMetadata(archive, file, report.warnings);
    if (metadata !== undefined) report.metadata = metadata;
  }
  if (plan === undefined) return { report };
  try {
    const dataset = await readTrainingMembers(archive, file, plan, report);
    report.ok = report.errors.length === 0;
    if (!report.ok) return { report };
    if (report.metadata !== undefined) dataset.metadata = report.metadata;
    return { report, dataset };
  } catch (err) {
    if (err instanceof Unreadable) {
      report.errors.push(err.issue);
      report.ok = false;
      return { report };
    }
    throw err;
  }
}

async function readTrainingMembers(
  archive: DatasetArchive, file: string, plan: LoadPlan, report: DatasetReport,
): Promise<Dataset> {
  const { errors, warnings } = report;
  const { N, n } = plan;

  const raw = await readMember(archive, file, plan.diffKey);
  expectLength(plan.diffKey, raw, n * N * N);
  if (plan.compareAlias) {
    // Both keys exist with equal headers (inspect checked): their values must agree too.
    const alias = await readMember(archive, file, 'diff3d');
    const issue = compareAlias(raw, alias, plan, file);
    if (issue !== undefined) errors.push(issue);
  }
  const diffraction = toAmplitude(raw, plan);
  checkAmplitude(diffraction, plan, file, errors, warnings);

  const coord = async (key: string): Promise<Float64Array> => {
    const arr = await readMember(archive, file, key);
    expectLength(key, arr, n);
    const values = toFloat64(arr, key);
    checkFinite(values, key, file, errors);
    return values;
  };
  const xcoords = await coord('xcoords');
  const ycoords = await coord('ycoords');
  const xcoordsStart = plan.xStartKey === 'xcoords' ? xcoords.slice() : await coord(plan.xStartKey);
  const ycoordsStart = plan.yStartKey === 'ycoords' ? ycoords.slice() : await coord(plan.yStartKey);

  const probeArr = await readMember(archive, file, 'probeGuess');
  expectLength('probeGuess', probeArr, 2 * N * N);
  const probe = toComplex(probeArr, 'probeGuess', N, file, errors);

  const [height, width] = plan.objectShape;
  const objectArr = await readMember(archive, file, 'objectGuess');
  expectLength('objectGuess', objectArr, 2 * height * width);
  const object = { ...toComplex(objectArr, 'objectGuess', width, file, errors), height, width };

  return { file, N, n, diffraction, xcoords, ycoords, xcoordsStart, ycoordsStart, probe, object };
}
