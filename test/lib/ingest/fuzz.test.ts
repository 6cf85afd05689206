import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isIngestError, openNpz, readNpy } from '../../../src/lib/ingest/index.ts';
import { fixtureBytes } from './helpers.ts';

// Real numpy files, mutated: every outcome must be data or an IngestError, never another exception.
const SEEDS = ['phase_c_like.npz', 'fortran_compressed.npz', 'strings.npz', 'versions.npz', 'special_compressed.npz', 'pickle_variants.npz'];
const seeds = SEEDS.map((f) => fixtureBytes(f));

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }), insert: fc.uint8Array({ maxLength: 64 }) }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(src: Uint8Array, m: Mutation): Uint8Array {
  const b = src.slice();
  if (m.kind === 'flip') {
    for (const [pos, v] of m.edits) b[pos % b.length] = v;
    return b;
  }
  if (m.kind === 'cut') return b.subarray(0, m.at % b.length);
  const at = m.at % b.length;
  const out = new Uint8Array(b.length - Math.min(m.len, b.length - at) + m.insert.length);
  out.set(b.subarray(0, at));
  out.set(m.insert, at);
  out.set(b.subarray(Math.min(b.length, at + m.len)), at + m.insert.length);
  return out;
}

async function readAll(bytes: Uint8Array, inflate: 'native' | 'fflate'): Promise<number> {
  let ok = 0;
  const z = await openNpz(bytes, 'fuzz.npz', { inflate, maxArrayBytes: 64 * 2 ** 20 });
  for (const k of z.keys) {
    for (const op of [() => z.info(k), () => z.read(k)]) {
      try {
        const r = await op();
        if ('data' in r) expect(r.data.length).toBeGreaterThanOrEqual(0);
        ok++;
      } catch (e) {
        if (!isIngestError(e)) throw e;
        expect(e.file).toBe('fuzz.npz');
      }
    }
  }
  return ok;
}

describe('mutated real files: data or IngestError, never anything else', () => {
  it('openNpz/info/read over 300 mutations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: seeds.length - 1 }), mutation, fc.boolean(), async (s, m, native) => {
        const bytes = mutate(seeds[s], m);
        try {
          await readAll(bytes, native ? 'native' : 'fflate');
        } catch (e) {
          if (!isIngestError(e)) throw e;
        }
      }),
      { numRuns: 300, seed: 20240611 },
    );
  });

  it('readNpy over 300 mutations', () => {
    const npy = ['bare_f32.npy', 'bare_be_c128_fortran.npy', 'bare_v2.npy'].map((f) => fixtureBytes(f));
    fc.assert(
      fc.property(fc.nat({ max: npy.length - 1 }), mutation, (s, m) => {
        try {
          readNpy(mutate(npy[s], m), 'fuzz.npy', { maxArrayBytes: 64 * 2 ** 20 });
        } catch (e) {
          if (!isIngestError(e)) throw e;
        }
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});
