/** Loads test/fixtures/eval/cases.{npz,json} (written by test/fixtures/eval/make_fixtures.py) through src/lib/ingest. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { openNpz, type NdArray, type NpzArchive } from '../../../src/lib/ingest';
import type { ComplexImage, RealImage } from '../../../src/lib/eval';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/eval');

export const cases: any = JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8'));

let archive: Promise<NpzArchive> | undefined;
export function npz(): Promise<NpzArchive> {
  archive ??= openNpz(new Uint8Array(readFileSync(join(DIR, 'cases.npz'))), 'cases.npz');
  return archive;
}

export async function readArray(key: string): Promise<NdArray> {
  return (await npz()).read(key);
}

/** A complex64/complex128 member as a ComplexImage with Float32Array/Float64Array planes. */
export async function readComplex(key: string): Promise<ComplexImage> {
  const a = await readArray(key);
  if (a.dtype !== 'complex64' && a.dtype !== 'complex128') throw new Error(`${key}: ${a.dtype} is not complex`);
  const [height, width] = a.shape;
  const d = a.data as Float32Array | Float64Array;
  const n = height * width;
  const re = a.dtype === 'complex64' ? new Float32Array(n) : new Float64Array(n);
  const im = a.dtype === 'complex64' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    re[i] = d[2 * i];
    im[i] = d[2 * i + 1];
  }
  return { height, width, re, im };
}

/** A real 2-D (or 1-D: height 1) member as a float64 RealImage. */
export async function readReal(key: string): Promise<RealImage<Float64Array>> {
  const a = await readArray(key);
  const shape = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  return { height: shape[0], width: shape[1], data: Float64Array.from(a.data as Float32Array | Float64Array) };
}

/** |a − b| ≤ rel·|b| (or both null / both NaN). */
export function relErr(a: number | null, b: number | null): number {
  if (a === null || b === null) return a === b ? 0 : Infinity;
  if (Number.isNaN(a) && Number.isNaN(b)) return 0;
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

export function absErr(a: number | null, b: number | null): number {
  if (a === null || b === null) return a === b ? 0 : Infinity;
  if (a === b) return 0;
  return Math.abs(a - b);
}
