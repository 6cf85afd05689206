/** The float64 sum of an array's numbers (complex as their real and imaginary parts), to compare with numpy's. */
import type { NdArray } from '../src/lib/ingest/types.ts';

export function sumOf(a: NdArray): number {
  let s = 0;
  const d = a.data;
  if (Array.isArray(d)) return NaN;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    for (const x of d) s += Number(x);
    return s;
  }
  for (let i = 0; i < d.length; i++) s += d[i] as number;
  return s;
}
