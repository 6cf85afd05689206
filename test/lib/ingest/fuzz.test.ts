/**
 * Hostile inputs (issue 6 part 2): real numpy-written files, mutated (bytes flipped, truncated,
 * spliced; ZIP sizes, offsets, counts and ZIP64 fields rewritten; NPY headers rewritten: shape,
 * descr, fortran_order, lengths, raw text edits; pickle bytes mutated). Every outcome must be data
 * whose shape matches its length, or an IngestError with a code, never another exception; every
 * case must end within CASE_MS; and no allocation may exceed LIMIT (maxArrayBytes), whatever the
 * file declares. Seeds are fixed (printed) so a failure reproduces.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isIngestError, openNpz, readNpy, type NdArray, type RandomAccessSource,
} from '../../../src/lib/ingest/index.ts';
import { readObjectPickle } from '../../../src/lib/ingest/pickle.ts';
import { installAllocGuard, type AllocGuard } from './alloc-guard.ts';
import { fixtureBytes } from './helpers.ts';
import { fixCrcs, joinNpy, members, put, rezip, splitNpy, toZip64, zipLayout, type Field } from './mutate.ts';

const LIMIT = 8 * 2 ** 20;
const CASE_MS = 5000;
const SEED = Number(process.env.FUZZ_SEED ?? 20261128);
const RUNS = { npzBytes: 600, npzFields: 500, npzHeaders: 400, npy: 600, pickle: 600 };
const CODES = new Set(['not_zip', 'bad_zip', 'zip64', 'encrypted', 'unsupported_compression', 'truncated', 'bad_deflate',
  'bad_crc', 'zip_bomb', 'missing_member', 'bad_magic', 'bad_header', 'header_too_large', 'unsupported_dtype',
  'size_mismatch', 'too_large', 'unsupported_pickle', 'io']);

const NPZ_SEEDS = ['phase_c_like.npz', 'fortran_compressed.npz', 'strings.npz', 'versions.npz', 'special_compressed.npz',
  'pickle_variants.npz', 'dtypes_be.npz', 'dtypes_compressed.npz', 'fortran.npz', 'strings_compressed.npz'];
const npzSeeds: { name: string; bytes: Uint8Array }[] = NPZ_SEEDS.map((f) => ({ name: f, bytes: fixtureBytes(f) }));
// the same archives with ZIP64 central directories and end records, as a >4 GiB np.savez has
npzSeeds.push(...['phase_c_like.npz', 'dtypes_compressed.npz', 'strings.npz'].map((f) => ({ name: `zip64:${f}`, bytes: toZip64(fixtureBytes(f)) })));
const layouts = npzSeeds.map((s) => zipLayout(s.bytes));
/** Every NPY member of every seed, plus the bare .npy fixtures. */
const npySeeds: Uint8Array[] = [
  ...['bare_f32.npy', 'bare_be_c128_fortran.npy', 'bare_v2.npy'].map((f) => fixtureBytes(f)),
  ...NPZ_SEEDS.flatMap((f) => members(fixtureBytes(f)).map(([, d]) => d)),
];
/** Pickles numpy wrote (every protocol) and pickles of other shapes (broken/pickles.npz). */
const pickleSeeds: Uint8Array[] = [...members(fixtureBytes('pickle_variants.npz')), ...members(fixtureBytes('broken/pickles.npz'))]
  .map(([, d]) => splitNpy(d)!.data);

let guard: AllocGuard;
const stats = { ok: 0, errors: new Map<string, number>(), slowestMs: 0, cases: 0, maxAlloc: 0, maxAllocWhat: '' };
beforeAll(() => {
  console.log(`ingest fuzz: seed ${SEED} (set FUZZ_SEED to change), runs ${JSON.stringify(RUNS)}`);
  guard = installAllocGuard();
});
afterAll(() => {
  guard.uninstall();
  console.log(`ingest fuzz: ${stats.cases} cases, ${stats.ok} reads with data, errors by code ${JSON.stringify(Object.fromEntries(stats.errors))}, ` +
    `slowest case ${stats.slowestMs.toFixed(0)} ms, largest allocation ${stats.maxAlloc} bytes (${stats.maxAllocWhat})`);
});

// ---------------------------------------------------------------------------------------------
// outcome checks

function checkArray(a: NdArray): void {
  expect(Array.isArray(a.shape)).toBe(true);
  let count = 1;
  for (const d of a.shape) {
    expect(Number.isSafeInteger(d) && d >= 0, `shape ${String(a.shape)}`).toBe(true);
    count *= d;
  }
  const perElement = a.dtype === 'complex64' || a.dtype === 'complex128' ? 2 : 1;
  if (a.dtype === 'object') expect(a.shape).toEqual([]);
  expect(a.data.length, `${a.dtype} (${a.shape.join(', ')}) data length`).toBe(count * perElement);
  if (!Array.isArray(a.data)) expect(a.data.byteLength).toBeLessThanOrEqual(LIMIT);
  else expect(a.data.every((s) => typeof s === 'string'), 'every item a string').toBe(true); // one expect: 10^6 would take seconds
  stats.ok++;
}

function checkError(e: unknown, file: string): void {
  if (!isIngestError(e)) throw e;
  expect(CODES.has(e.code), `code ${e.code}`).toBe(true);
  expect(e.file).toBe(file);
  expect(e.message.length).toBeGreaterThan(0);
  stats.errors.set(e.code, (stats.errors.get(e.code) ?? 0) + 1);
}

/** Runs one case armed, bounded in time; checks the allocation bound afterwards. */
async function bounded(f: () => Promise<void>): Promise<void> {
  const t = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  guard.reset();
  try {
    await guard.run(() => Promise.race([
      f(),
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`case did not finish within ${CASE_MS} ms`)), CASE_MS); }),
    ]));
  } finally {
    clearTimeout(timer);
  }
  const ms = performance.now() - t;
  stats.slowestMs = Math.max(stats.slowestMs, ms);
  stats.cases++;
  expect(ms, 'a synchronous case cannot be interrupted; its time is checked after').toBeLessThanOrEqual(CASE_MS);
  if (guard.max.bytes > stats.maxAlloc) { stats.maxAlloc = guard.max.bytes; stats.maxAllocWhat = guard.max.what; }
  expect(guard.max.bytes, `allocation ${guard.max.what}`).toBeLessThanOrEqual(LIMIT);
}

type SourceKind = 'bytes' | 'blob' | 'random-access';
function asSource(b: Uint8Array, kind: SourceKind): Uint8Array | Blob | RandomAccessSource {
  if (kind === 'bytes') return b;
  if (kind === 'blob') return new Blob([b as Uint8Array<ArrayBuffer>]);
  return {
    size: b.length,
    read: async (offset, length, into) => {
      const n = Math.max(0, Math.min(length, b.length - offset));
      const out = into ?? new Uint8Array(length);
      out.set(b.subarray(offset, offset + n));
      return out.subarray(0, n);
    },
  };
}

/** openNpz, then info() and read() of every key: each gives data or an IngestError. */
async function readArchive(b: Uint8Array, kind: SourceKind, inflate: 'native' | 'fflate'): Promise<void> {
  const file = 'fuzz.npz';
  let z;
  try {
    z = await openNpz(asSource(b, kind), file, { inflate, maxArrayBytes: LIMIT });
  } catch (e) {
    checkError(e, file);
    return;
  }
  for (const k of z.keys) {
    let info;
    try { info = await z.info(k); } catch (e) { checkError(e, file); }
    try {
      const a = await z.read(k);
      checkArray(a);
      if (info) {
        expect(a.shape).toEqual(info.shape);
        expect(a.dtype).toBe(info.dtype);
      }
    } catch (e) {
      checkError(e, file);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// mutations

const byteMutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), len: fc.integer({ min: 0, max: 64 }), insert: fc.uint8Array({ maxLength: 64 }) }),
);
type ByteMutation = typeof byteMutation extends fc.Arbitrary<infer T> ? T : never;

function mutateBytes(src: Uint8Array, m: ByteMutation): Uint8Array {
  if (src.length === 0) return src.slice();
  const b = src.slice();
  if (m.kind === 'flip') {
    for (const [pos, v] of m.edits) b[pos % b.length] = v;
    return b;
  }
  if (m.kind === 'cut') return b.slice(0, m.at % b.length);
  const at = m.at % b.length;
  const out = new Uint8Array(b.length - Math.min(m.len, b.length - at) + m.insert.length);
  out.set(b.subarray(0, at));
  out.set(m.insert, at);
  out.set(b.subarray(Math.min(b.length, at + m.len)), at + m.insert.length);
  return out;
}

/** Values a size/offset/count field is set to: edges, near the true value, near the file size. */
const fieldValue = fc.oneof(
  fc.constantFrom(0, 1, 0xffff, 0xfffe, 0xffffffff, 0xfffffffe, 2 ** 31, 2 ** 31 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 63, 2 ** 64 - 1),
  fc.record({ rel: fc.constantFrom('value', 'size'), delta: fc.integer({ min: -70, max: 70 }) }),
  fc.nat(),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
);
type FieldValue = typeof fieldValue extends fc.Arbitrary<infer T> ? T : never;

function setField(b: Uint8Array, f: Field, v: FieldValue): void {
  let x: number | bigint;
  if (typeof v === 'object') x = Math.max(0, (v.rel === 'value' ? f.value : b.length) + v.delta);
  else x = v;
  put(b, f.pos, f.width, typeof x === 'number' && !Number.isSafeInteger(x) ? BigInt(Math.min(x, 2 ** 64 - 1)) : x);
}

const DESCRS = ['<f4', '>f4', '<f8', '>f8', '<f2', '>f2', '<c8', '>c16', '|b1', '|u1', '|i1', '<i2', '>i4', '<i8', '>u8', '<u4',
  '<U0', '|S0', '<U1', '>U3', '|S7', '|O', '<M8[ns]', '|V8', '<f16', 'f4', '<i3', '', '<U9007199254740991', '<U99999999999999999999'];
const DIMS = fc.oneof(fc.nat(12), fc.nat(12), fc.constantFrom(0, 1, 2 ** 16, 2 ** 31, 2 ** 32 + 1, 2 ** 53 - 1, 2 ** 53 + 2, 10 ** 15, 10 ** 30));
const none = <T,>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 2 });
const descrArb = fc.oneof({ arbitrary: fc.constantFrom(...DESCRS), weight: 4 }, { arbitrary: fc.string({ maxLength: 8 }), weight: 1 });
const shapeArb = fc.oneof(
  { arbitrary: fc.array(DIMS, { maxLength: 7 }).map((d) => `(${d.join(', ')}${d.length === 1 ? ',' : ''})`), weight: 4 },
  { arbitrary: fc.constantFrom('()', '(3)', '[3]', '(3,', '(3L,)', "('a',)", '(True,)', '(-1,)', '(1.5,)', '((2,),)', '(' + '1,'.repeat(70) + ')'), weight: 1 },
);
/** Header rewrites: mostly well-formed dicts saying something else (dtype, shape, order), some broken. */
const headerEdit = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      descr: none(descrArb), shape: none(shapeArb), fortran: none(fc.constantFrom('True', 'False')),
      keys: fc.constant('keep'), chars: fc.constant([] as [number, string][]), lenDelta: fc.constant(0), major: fc.constantFrom(0, 0, 2, 3),
      data: fc.constantFrom('keep', 'keep', 'short', 'long', 'empty'),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      descr: none(descrArb), shape: none(shapeArb), fortran: none(fc.constantFrom('True', 'False', '0', '1', 'None', "'x'")),
      keys: fc.constantFrom('keep', 'drop', 'dup', 'extra', 'rename'),
      chars: fc.array(fc.tuple(fc.nat(), fc.constantFrom(...`{}()[]:,'" TrueFalsNone0123456789\\xuL-\n\x00é`.split(''))), { maxLength: 3 }),
      lenDelta: fc.constantFrom(0, 0, -1, 1, -16, 64, 70000),
      major: fc.constantFrom(0, 0, 1, 2, 3, 4),
      data: fc.constantFrom('keep', 'keep', 'short', 'long', 'empty'),
    }),
  },
);
type HeaderEdit = typeof headerEdit extends fc.Arbitrary<infer T> ? T : never;

function rewriteNpy(npy: Uint8Array, h: HeaderEdit): Uint8Array {
  const parts = splitNpy(npy);
  if (!parts) return npy;
  let t = parts.text;
  if (h.descr !== undefined) t = t.replace(/'descr': *'[^']*'/, `'descr': '${h.descr}'`);
  if (h.shape !== undefined) t = t.replace(/'shape': *\([^)]*\)/, `'shape': ${h.shape}`);
  if (h.fortran !== undefined) t = t.replace(/'fortran_order': *\w+/, `'fortran_order': ${h.fortran}`);
  if (h.keys === 'drop') t = t.replace(/'fortran_order': *\w+, */, '');
  if (h.keys === 'dup') t = t.replace(/\{/, "{'shape': (1,), ");
  if (h.keys === 'extra') t = t.replace(/\{/, "{'x': 1, ");
  if (h.keys === 'rename') t = t.replace("'descr'", "'dtype'");
  for (const [pos, c] of h.chars) {
    const p = pos % (t.length + 1);
    t = t.slice(0, p) + c + t.slice(p + 1);
  }
  let data = parts.data;
  if (h.data === 'short') data = data.subarray(0, data.length >> 1);
  if (h.data === 'long') { const d = new Uint8Array(data.length + 24); d.set(data); data = d; }
  if (h.data === 'empty') data = data.subarray(0, 0);
  return joinNpy(h.major || parts.major, t, data, h.lenDelta);
}

const PICKLE_OPS = [0x80, 0x95, 0x63, 0x93, 0x8c, 0x58, 0x8d, 0x43, 0x42, 0x71, 0x72, 0x94, 0x68, 0x6a, 0x28, 0x74, 0x29, 0x85,
  0x86, 0x87, 0x4b, 0x4d, 0x4a, 0x88, 0x89, 0x4e, 0x5d, 0x61, 0x65, 0x52, 0x62, 0x2e, 0x69, 0x6f, 0x81, 0x7d, 0x73, 0x8a, 0x47, 0x56];
const pickleMutation = fc.oneof(
  byteMutation,
  fc.record({ kind: fc.constant('ops' as const), at: fc.nat(), ops: fc.array(fc.tuple(fc.constantFrom(...PICKLE_OPS), fc.uint8Array({ maxLength: 9 })), { minLength: 1, maxLength: 4 }) }),
);

// ---------------------------------------------------------------------------------------------

const kinds = fc.constantFrom<SourceKind>('bytes', 'blob', 'random-access');
const inflates = fc.constantFrom<'native' | 'fflate'>('native', 'fflate');

describe(`mutated real numpy files: data or IngestError, no allocation above ${LIMIT} bytes, each case within ${CASE_MS} ms`, () => {
  it('the allocation guard sees what the reader allocates (it can fail)', async () => {
    guard.reset();
    await guard.run(async () => { new Uint8Array(LIMIT + 1); });
    expect(guard.max.bytes).toBe(LIMIT + 1);
    guard.reset();
    await guard.run(async () => { new Array<string>(2 ** 21); });
    expect(guard.max.bytes).toBe(2 ** 24);
    guard.reset();
    // a real read: the 8 KiB diffraction array is allocated by the reader and seen here
    await guard.run(async () => { await (await openNpz(fixtureBytes('phase_c_like.npz'))).read('diffraction'); });
    expect(guard.max.bytes).toBeGreaterThanOrEqual(2688 - 128);
    guard.reset();
  });

  it(`openNpz + info/read of every key, ${RUNS.npzBytes} byte-level mutations (flip, cut, splice; CRCs repaired or not)`, async () => {
    await fc.assert(fc.asyncProperty(fc.nat({ max: npzSeeds.length - 1 }), byteMutation, fc.boolean(), kinds, inflates,
      async (s, m, repair, kind, inflate) => {
        let b = mutateBytes(npzSeeds[s].bytes, m);
        if (repair) b = fixCrcs(b);
        await bounded(() => readArchive(b, kind, inflate));
      }), { numRuns: RUNS.npzBytes, seed: SEED });
  }, 60_000);

  it(`openNpz + info/read of every key, ${RUNS.npzFields} rewrites of ZIP sizes, offsets, counts, CRCs, lengths and ZIP64 fields`, async () => {
    await fc.assert(fc.asyncProperty(fc.nat({ max: npzSeeds.length - 1 }), fc.array(fc.tuple(fc.nat(), fieldValue), { minLength: 1, maxLength: 3 }), kinds, inflates,
      async (s, edits, kind, inflate) => {
        const b = npzSeeds[s].bytes.slice();
        const fields = layouts[s].fields;
        for (const [i, v] of edits) setField(b, fields[i % fields.length], v);
        await bounded(() => readArchive(b, kind, inflate));
      }), { numRuns: RUNS.npzFields, seed: SEED + 1 });
  }, 60_000);

  it(`openNpz + info/read of every key, ${RUNS.npzHeaders} NPY header rewrites inside valid archives (stored and deflated)`, async () => {
    const seedMembers = NPZ_SEEDS.map((f) => members(fixtureBytes(f)));
    await fc.assert(fc.asyncProperty(fc.nat({ max: seedMembers.length - 1 }), fc.nat(), headerEdit, fc.boolean(), kinds, inflates,
      async (s, which, h, deflate, kind, inflate) => {
        const ms = seedMembers[s].map(([n, d]) => [n, d] as [string, Uint8Array]);
        const i = which % ms.length;
        ms[i] = [ms[i][0], rewriteNpy(ms[i][1], h)];
        await bounded(() => readArchive(rezip(ms, deflate), kind, inflate));
      }), { numRuns: RUNS.npzHeaders, seed: SEED + 2 });
  }, 60_000);

  it(`readNpy, ${RUNS.npy} mutations of bare and member NPY files (header rewrites and byte-level)`, async () => {
    await fc.assert(fc.asyncProperty(fc.nat({ max: npySeeds.length - 1 }), fc.oneof(headerEdit, byteMutation),
      async (s, m) => {
        const b = 'keys' in m ? rewriteNpy(npySeeds[s], m) : mutateBytes(npySeeds[s], m);
        await bounded(async () => {
          try {
            checkArray(readNpy(b, 'fuzz.npy', { maxArrayBytes: LIMIT }));
          } catch (e) {
            checkError(e, 'fuzz.npy');
          }
        });
      }), { numRuns: RUNS.npy, seed: SEED + 3 });
  }, 60_000);

  it(`the pickle subset reader, ${RUNS.pickle} mutated pickles (numpy's of every protocol and others)`, async () => {
    let strings = 0;
    await fc.assert(fc.asyncProperty(fc.nat({ max: pickleSeeds.length - 1 }), pickleMutation,
      async (s, m) => {
        let b: Uint8Array;
        if (m.kind === 'ops') {
          const src = pickleSeeds[s];
          const at = m.at % (src.length + 1);
          const ins = m.ops.flatMap(([op, arg]) => [op, ...arg]);
          b = new Uint8Array(src.length + ins.length);
          b.set(src.subarray(0, at)); b.set(ins, at); b.set(src.subarray(at), at + ins.length);
        } else {
          b = mutateBytes(pickleSeeds[s], m);
        }
        await bounded(async () => {
          try {
            expect(typeof readObjectPickle(b, { file: 'fuzz.npy', member: 'm' })).toBe('string');
            strings++;
          } catch (e) {
            checkError(e, 'fuzz.npy');
            expect((e as { code: string }).code).toBe('unsupported_pickle');
          }
        });
      }), { numRuns: RUNS.pickle, seed: SEED + 4 });
    expect(strings).toBeGreaterThan(0); // some mutations keep a readable pickle (e.g. edits inside the string)
  }, 60_000);

  it(`ran at least 2000 mutated inputs`, () => {
    expect(stats.cases).toBeGreaterThanOrEqual(2000);
    expect(stats.ok).toBeGreaterThan(100); // plenty of mutations still read: the checks on data ran
  });
});
