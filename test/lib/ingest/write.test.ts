import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openNpz, readNpy, writeNpy, writeNpz, type NdArray } from '../../../src/lib/ingest/index.ts';
import { EXPECTED, expectMatches, fixture, type Expected } from './helpers.ts';

const PY = '/usr/bin/python3';
// The numpy round trip needs Debian's python3-numpy at /usr/bin/python3; without it those tests are
// skipped (vitest reports them as skipped) and the in-process round trip below still runs.
const hasNumpy = fs.existsSync(PY) && spawnSync(PY, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

/** Arrays covering every dtype the writer supports, with awkward values. */
function sampleArrays(): Record<string, NdArray> {
  const big = new Float32Array(50 * 40);
  for (let i = 0; i < big.length; i++) big[i] = Math.sqrt(i % 97) * (i % 3 === 0 ? -1 : 1);
  return {
    bool: { dtype: 'bool', shape: [2, 2], data: new Uint8Array([1, 0, 0, 1]) },
    int8: { dtype: 'int8', shape: [3], data: new Int8Array([-128, 0, 127]) },
    uint8: { dtype: 'uint8', shape: [3], data: new Uint8Array([0, 128, 255]) },
    int16: { dtype: 'int16', shape: [3], data: new Int16Array([-32768, 1, 32767]) },
    uint16: { dtype: 'uint16', shape: [3], data: new Uint16Array([0, 1, 65535]) },
    int32: { dtype: 'int32', shape: [1, 3], data: new Int32Array([-(2 ** 31), 5, 2 ** 31 - 1]) },
    uint32: { dtype: 'uint32', shape: [3], data: new Uint32Array([0, 7, 2 ** 32 - 1]) },
    int64: { dtype: 'int64', shape: [3], data: new BigInt64Array([-(2n ** 63n), 0n, 2n ** 63n - 1n]) },
    uint64: { dtype: 'uint64', shape: [2], data: new BigUint64Array([0n, 2n ** 64n - 1n]) },
    float16: { dtype: 'float16', shape: [6], data: new Float32Array([0, -0, 1.5, 65504, NaN, -Infinity]) },
    float32: { dtype: 'float32', shape: [50, 40], data: big },
    float64: { dtype: 'float64', shape: [4], data: new Float64Array([Math.PI, -0, 5e-324, Infinity]) },
    complex64: { dtype: 'complex64', shape: [2], data: new Float32Array([1, -2, NaN, 0.5]) },
    complex128: { dtype: 'complex128', shape: [1, 1, 2], data: new Float64Array([1e300, -1e-300, 0, 1]) },
    str: { dtype: 'str', shape: [2, 2], data: ['a', 'ünï', '🧪 emoji', ''] },
    bytes: { dtype: 'bytes', shape: [3], data: ['abc', 'a\u0000b', '\u00ff'] },
    scalar: { dtype: 'float64', shape: [], data: new Float64Array([2.5]) },
    empty: { dtype: 'complex64', shape: [0, 3], data: new Float32Array(0) },
    empty_str: { dtype: 'str', shape: [0], data: [] },
    _metadata: { dtype: 'object', shape: [], data: [JSON.stringify({ dose: 1000, note: 'ünï ✓' })] },
    'ünïcode key': { dtype: 'uint8', shape: [1], data: new Uint8Array([9]) },
  };
}

/** The expected.json encoding of an array (see make_fixtures.py). */
function encode(a: NdArray): Expected {
  const enc = (x: number) => (Number.isNaN(x) ? 'nan' : x === Infinity ? 'inf' : x === -Infinity ? '-inf' : Object.is(x, -0) ? '-0' : x);
  const d = a.data;
  let values: unknown[];
  if (Array.isArray(d)) values = d;
  else if (d instanceof BigInt64Array || d instanceof BigUint64Array) values = Array.from(d, String);
  else if (a.dtype.startsWith('complex')) values = Array.from({ length: d.length / 2 }, (_, i) => [enc(d[2 * i] as number), enc(d[2 * i + 1] as number)]);
  else values = Array.from(d as Float64Array, enc);
  return { dtype: a.dtype, shape: a.shape, descr: '', fortran: false, values };
}

describe('writeNpz', () => {
  for (const compress of [false, true]) {
    it(`round-trips through our reader (compress=${compress})`, async () => {
      const arrays = sampleArrays();
      const z = await openNpz(writeNpz(arrays, { compress }), 'rt.npz');
      expect(z.keys).toEqual(Object.keys(arrays));
      for (const [k, a] of Object.entries(arrays)) {
        expectMatches(await z.read(k), encode(a), k);
        expect((await z.info(k)).compression).toBe(compress ? 'deflate' : 'stored');
      }
    });

    it.skipIf(!hasNumpy)(`np.load reads it back exactly (compress=${compress}, check_roundtrip.py)`, () => {
      const arrays = sampleArrays();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npz-rt-'));
      try {
        fs.writeFileSync(path.join(dir, 'a.npz'), writeNpz(arrays, { compress }));
        fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify(Object.fromEntries(Object.entries(arrays).map(([k, a]) => [k, encode(a)]))));
        const r = spawnSync(PY, [fixture('check_roundtrip.py'), path.join(dir, 'a.npz'), path.join(dir, 'a.json')], { encoding: 'utf8' });
        expect(r.stdout + r.stderr).toContain(`OK ${Object.keys(arrays).length} arrays`);
        expect(r.status).toBe(0);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it.skipIf(!hasNumpy)('the check script catches a wrong value (it can fail)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npz-rt-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.npz'), writeNpz({ x: { dtype: 'int16', shape: [2], data: new Int16Array([1, 2]) } }));
      fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify({ x: { dtype: 'int16', shape: [2], values: [1, 3] } }));
      const r = spawnSync(PY, [fixture('check_roundtrip.py'), path.join(dir, 'a.npz'), path.join(dir, 'a.json')], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stdout).toContain('x[1]');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('re-writes every numpy fixture losslessly', async () => {
    for (const file of Object.keys(EXPECTED).filter((f) => f.endsWith('.npz'))) {
      const src = await openNpz(new Uint8Array(fs.readFileSync(fixture(file))), file);
      const arrays: Record<string, NdArray> = {};
      for (const k of src.keys) arrays[k] = await src.read(k);
      const again = await openNpz(writeNpz(arrays, { compress: true }), file);
      for (const [k, exp] of Object.entries(EXPECTED[file])) expectMatches(await again.read(k), exp, `${file}:${k}`);
    }
  });

  it('writes float16 with round-to-nearest-even like numpy', () => {
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even (1); 1 + 3*2^-11 ties up to 1 + 2^-9
    const a = readNpy(writeNpy({ dtype: 'float16', shape: [5], data: new Float32Array([1 + 2 ** -11, 1 + 3 * 2 ** -11, 65520, 2 ** -25, 2 ** -24]) }));
    expect(Array.from(a.data as Float32Array)).toEqual([1, 1 + 2 ** -9, Infinity, 0, 2 ** -24]);
  });

  it('writes NPY 1.0 headers padded so the data starts on a 64-byte boundary, like numpy', () => {
    for (const a of Object.values(sampleArrays())) {
      const b = writeNpy(a);
      expect(Array.from(b.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
      const hlen = b[8] | (b[9] << 8);
      expect((10 + hlen) % 64).toBe(0);
      expect(b[10 + hlen - 1]).toBe(0x0a);
    }
  });

  it('refuses data that does not match dtype or shape', () => {
    expect(() => writeNpz({ a: { dtype: 'float32', shape: [3], data: new Float32Array(2) } })).toThrow(/needs 3 values/);
    expect(() => writeNpz({ a: { dtype: 'float32', shape: [2], data: new Float64Array(2) } })).toThrow(/Float32Array/);
    expect(() => writeNpz({ a: { dtype: 'object', shape: [2], data: ['a', 'b'] } })).toThrow(/0-d/);
    expect(() => writeNpz({ a: { dtype: 'bytes', shape: [1], data: ['\u0100'] } })).toThrow(/above/);
  });
});
