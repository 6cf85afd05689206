/** Minimal reader for the .npy fixtures written by test/fixtures/physics/make_fixtures.py (NPY 1.0, little-endian, C order). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/physics');

export interface Npy {
  shape: number[];
  data: Float64Array;
}

export function loadNpy(name: string): Npy {
  const buf = readFileSync(join(DIR, `${name}.npy`));
  if (buf[0] !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${name}: not an npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${name}: fortran order`);
  const shapeTxt = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '';
  const shape = shapeTxt.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const size = shape.reduce((a, b) => a * b, 1);
  const off = hstart + hlen;
  const ab = buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + buf.length);
  let src: ArrayLike<number>;
  switch (descr) {
    case '<f8': src = new Float64Array(ab, 0, size); break;
    case '<f4': src = new Float32Array(ab, 0, size); break;
    case '<i4': src = new Int32Array(ab, 0, size); break;
    case '<i8': src = Array.from(new BigInt64Array(ab, 0, size), Number); break;
    case '|u1': case '|b1': src = new Uint8Array(ab, 0, size); break;
    default: throw new Error(`${name}: unsupported dtype ${descr}`);
  }
  return { shape, data: Float64Array.from(src) };
}

export function loadIndex(): any {
  return JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8'));
}

/** max|a − b| / max|b| */
export function relMaxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let md = 0;
  let mr = 0;
  for (let i = 0; i < a.length; i++) {
    md = Math.max(md, Math.abs(a[i] - b[i]));
    mr = Math.max(mr, Math.abs(b[i]));
  }
  return md / mr;
}

export function maxAbsErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let md = 0;
  for (let i = 0; i < a.length; i++) md = Math.max(md, Math.abs(a[i] - b[i]));
  return md;
}
