/** Shared test helpers: open a numpy-written fixture, spy on an archive, read numpy's expected values. */
import { readFileSync, readdirSync } from 'node:fs';
import { expect } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { openNpz } from '../../../src/lib/ingest';
import type { ArrayInfo, NdArray } from '../../../src/lib/ingest/types';
import type { DatasetArchive } from '../../../src/lib/contract';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/contract/', import.meta.url));

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES).filter((f) => f.endsWith('.npz')).sort();
}

export async function open(name: string): Promise<DatasetArchive> {
  const bytes = new Uint8Array(readFileSync(join(FIXTURES, name)));
  return openNpz(bytes, name);
}

/** An archive wrapper that records every info() and read() call, in order. */
export interface Spied extends DatasetArchive {
  infos: string[];
  reads: string[];
}

export function spy(inner: DatasetArchive): Spied {
  const infos: string[] = [];
  const reads: string[] = [];
  return {
    keys: inner.keys,
    has: (key: string) => inner.has(key),
    info: (key: string): Promise<ArrayInfo> => { infos.push(key); return inner.info(key); },
    read: (key: string): Promise<NdArray> => { reads.push(key); return inner.read(key); },
    infos,
    reads,
  };
}

interface BinSpec { file: string; dtype: 'float32' | 'float64'; shape: number[] }
type ExpectedEntry = Record<string, unknown>;

export const expected: Record<string, ExpectedEntry> =
  JSON.parse(readFileSync(join(FIXTURES, 'expected', 'expected.json'), 'utf8')) as Record<string, ExpectedEntry>;

/** A raw little-endian array that numpy wrote (gzipped) next to expected.json. */
export function bin(fixture: string, field: string): Float32Array | Float64Array {
  const spec = expected[fixture]?.[field] as BinSpec | undefined;
  if (spec === undefined) throw new Error(`no expected '${field}' for ${fixture}`);
  const raw = gunzipSync(readFileSync(join(FIXTURES, 'expected', spec.file)));
  const buf = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
  const arr = spec.dtype === 'float32' ? new Float32Array(buf) : new Float64Array(buf);
  expect(arr.length).toBe(spec.shape.reduce((a, b) => a * b, 1));
  return arr;
}

/** Exact element-wise equality with a readable failure (index and both values). */
export function expectSameValues(actual: ArrayLike<number>, wanted: ArrayLike<number>): void {
  expect(actual.length).toBe(wanted.length);
  for (let i = 0; i < wanted.length; i++) {
    if (!Object.is(actual[i], wanted[i]) && actual[i] !== wanted[i]) {
      expect({ index: i, value: actual[i] }).toEqual({ index: i, value: wanted[i] });
    }
  }
}
