import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { NdArray } from '../../../src/lib/ingest/index.ts';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/ingest');
export const fixture = (name: string) => path.join(FIXTURES, name);
export const fixtureBytes = (name: string) => new Uint8Array(fs.readFileSync(fixture(name)));

/** Deterministic pseudo-random bytes (xorshift32). */
export function noise(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    b[i] = x & 255;
  }
  return b;
}

export interface Expected {
  dtype: string;
  shape: number[];
  descr: string;
  fortran: boolean;
  values: unknown[];
}
export const EXPECTED: Record<string, Record<string, Expected>> = JSON.parse(fs.readFileSync(fixture('expected.json'), 'utf8'));

function num(v: unknown): number {
  if (v === 'nan') return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  if (v === '-0') return -0; // JSON.stringify cannot write -0
  return v as number;
}

/** Compares an array with what numpy wrote, value by value (exactly: NaN, -0 and all). */
export function expectMatches(a: NdArray, exp: Expected, where: string): void {
  expect(a.dtype, `${where} dtype`).toBe(exp.dtype);
  expect(a.shape, `${where} shape`).toEqual(exp.shape);
  const vals = exp.values;
  const d = a.data;
  if (exp.dtype === 'complex64' || exp.dtype === 'complex128') {
    expect(d.length, `${where} length`).toBe(vals.length * 2);
    vals.forEach((v, i) => {
      const [re, im] = v as [unknown, unknown];
      expect(Object.is(d[2 * i], num(re)) , `${where}[${i}].re ${String(d[2 * i])} vs ${String(re)}`).toBe(true);
      expect(Object.is(d[2 * i + 1], num(im)), `${where}[${i}].im ${String(d[2 * i + 1])} vs ${String(im)}`).toBe(true);
    });
    return;
  }
  expect(d.length, `${where} length`).toBe(vals.length);
  if (exp.dtype === 'int64' || exp.dtype === 'uint64') {
    expect(Array.from(d as BigInt64Array, (x) => x.toString()), where).toEqual(vals);
    return;
  }
  if (exp.dtype === 'str' || exp.dtype === 'bytes' || exp.dtype === 'object') {
    expect(d, where).toEqual(vals);
    return;
  }
  vals.forEach((v, i) => {
    expect(Object.is(d[i], num(v)), `${where}[${i}] ${String(d[i])} vs ${String(v)}`).toBe(true);
  });
  const Ctor = {
    bool: Uint8Array, int8: Int8Array, int16: Int16Array, int32: Int32Array, uint8: Uint8Array, uint16: Uint16Array,
    uint32: Uint32Array, float16: Float32Array, float32: Float32Array, float64: Float64Array,
  }[exp.dtype];
  expect(Ctor && d instanceof Ctor, `${where} data type`).toBe(true);
}
