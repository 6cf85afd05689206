import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  parsePythonFloat, pyFloatRepr, pyFormatE0, pyPathJoin, pyPathStr, pyUtcIsoTimestamp,
} from '../../../src/lib/study/pyformat';
import { pyJsonDumps, pyJsonString } from '../../../src/lib/report/pyjson';
import { havePython, runPython } from './helpers';

describe('Python number text (trap 8.2)', () => {
  it('repr(float)', () => {
    expect(pyFloatRepr(1000)).toBe('1000.0');
    expect(pyFloatRepr(1e5)).toBe('100000.0');
    expect(pyFloatRepr(1e9)).toBe('1000000000.0');
    expect(pyFloatRepr(1e15)).toBe('1000000000000000.0');
    expect(pyFloatRepr(1e16)).toBe('1e+16');
    expect(pyFloatRepr(1.5e16)).toBe('1.5e+16');
    expect(pyFloatRepr(0.0001)).toBe('0.0001');
    expect(pyFloatRepr(5e-5)).toBe('5e-05');
    expect(pyFloatRepr(1.25e-7)).toBe('1.25e-07');
    expect(pyFloatRepr(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(pyFloatRepr((1 - 0.7) * 128)).toBe('38.400000000000006');
    expect(pyFloatRepr(-2.5)).toBe('-2.5');
    expect(pyFloatRepr(-0)).toBe('-0.0');
    expect(pyFloatRepr(NaN)).toBe('nan');
    expect(pyFloatRepr(-Infinity)).toBe('-inf');
    expect(pyFloatRepr(1e300)).toBe('1e+300');
  });

  it("format(x, '.0e') with round-half-even (JS toExponential(0) differs)", () => {
    expect(pyFormatE0(1000)).toBe('1e+03');
    expect(pyFormatE0(1e4)).toBe('1e+04');
    expect(pyFormatE0(1e5)).toBe('1e+05');
    expect(pyFormatE0(2500)).toBe('2e+03');
    expect((2500).toExponential(0)).toBe('3e+3');
    expect(pyFormatE0(3500)).toBe('4e+03');
    expect(pyFormatE0(1500)).toBe('2e+03');
    expect(pyFormatE0(9.6e4)).toBe('1e+05');
    expect(pyFormatE0(0.00012)).toBe('1e-04');
    expect(pyFormatE0(1e100)).toBe('1e+100');
    expect(pyFormatE0(-5)).toBe('-5e+00');
    expect(pyFormatE0(0)).toBe('0e+00');
  });

  it.skipIf(!havePython)('agrees with CPython on random doubles (repr, .0e, float())', () => {
    const xs = fc.sample(fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer({ min: 1, max: 10_000_000 }).map((i) => i * 500),
      fc.integer({ min: -40, max: 40 }).map((e) => 10 ** e),
    ), { numRuns: 600, seed: 42 });
    const reprs = xs.map((x) => x.toString());
    const py = JSON.parse(runPython(
      "import json,sys\nxs=[float(s) for s in json.load(sys.stdin)]\nprint(json.dumps([[repr(x), format(x,'.0e')] for x in xs]))",
      JSON.stringify(reprs),
    )) as [string, string][];
    xs.forEach((x, i) => {
      expect(pyFloatRepr(x), String(x)).toBe(py[i][0]);
      expect(pyFormatE0(x), String(x)).toBe(py[i][1]);
    });
  });

  it('float() parsing for --dose', () => {
    expect(parsePythonFloat('1000')).toBe(1000);
    expect(parsePythonFloat('1e3')).toBe(1000);
    expect(parsePythonFloat('1000.0')).toBe(1000);
    expect(parsePythonFloat(' 1_000 ')).toBe(1000);
    expect(parsePythonFloat('.5')).toBe(0.5);
    expect(parsePythonFloat('5.')).toBe(5);
    expect(parsePythonFloat('-Infinity')).toBe(-Infinity);
    expect(Number.isNaN(parsePythonFloat('nan'))).toBe(true);
    for (const bad of ['', 'abc', '0x10', '1__0', '1e', '_1', '1,000', 'e3']) expect(parsePythonFloat(bad), bad).toBeUndefined();
  });
});

describe('timestamps (trap 8.11)', () => {
  it('isoformat() + Z with microseconds, fraction omitted at .000000', () => {
    const t = Date.UTC(2025, 10, 4, 6, 0, 41);
    expect(pyUtcIsoTimestamp(t + 71.179)).toBe('2025-11-04T06:00:41.071179Z');
    expect(pyUtcIsoTimestamp(t)).toBe('2025-11-04T06:00:41Z');
    expect(pyUtcIsoTimestamp(t + 0.001)).toBe('2025-11-04T06:00:41.000001Z');
    expect(pyUtcIsoTimestamp(t + 999.9996)).toBe('2025-11-04T06:00:42Z');
  });
});

describe('paths (trap 8.13)', () => {
  it('normalises like pathlib', () => {
    expect(pyPathStr('./a//b/')).toBe('a/b');
    expect(pyPathStr('.')).toBe('.');
    expect(pyPathStr('')).toBe('.');
    expect(pyPathStr('/x/./y')).toBe('/x/y');
    expect(pyPathStr('../a')).toBe('../a');
    expect(pyPathJoin('.', 'dose_1000', 'patched_train.npz')).toBe('dose_1000/patched_train.npz');
    expect(pyPathJoin('art/', 'dose_1000', 'baseline', 'gs1')).toBe('art/dose_1000/baseline/gs1');
  });
});

describe('json.dumps(indent=2)', () => {
  it('escapes like ensure_ascii and lays out like Python', () => {
    expect(pyJsonString('é→\u{1F600}"\\\n\u007f')).toBe('"\\u00e9\\u2192\\ud83d\\ude00\\"\\\\\\n\\u007f"');
    const v = { a: [], b: {}, dose: 1000, n: 3, f: 0.5, list: [1, 2], nested: { dose: [1e4, 1e5] }, bad: NaN, u: undefined };
    expect(pyJsonDumps(v, { floatKeys: new Set(['dose']) })).toBe(
      '{\n  "a": [],\n  "b": {},\n  "dose": 1000.0,\n  "n": 3,\n  "f": 0.5,\n  "list": [\n    1,\n    2\n  ],\n' +
      '  "nested": {\n    "dose": [\n      10000.0,\n      100000.0\n    ]\n  },\n  "bad": NaN\n}');
  });

  it.skipIf(!havePython)('is byte-identical to Python json.dumps for the same data', () => {
    const data = { name: 'Ünïcødé ✓', dose: [1000, 1e-5, 1e16, 0.1], n: [1, 2 ** 53], t: true, z: null, s: 'tab\there' };
    const py = runPython(
      "import json,sys\nd=json.load(sys.stdin)\nd['dose']=[float(x) for x in d['dose']]\nprint(json.dumps(d, indent=2), end='')",
      JSON.stringify(data),
    );
    expect(pyJsonDumps(data, { floatKeys: new Set(['dose']) })).toBe(py);
  });
});
