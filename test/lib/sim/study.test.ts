import { describe, it, expect, beforeAll } from 'vitest';
import type { NdArray } from '../../../src/lib/ingest/types';
import { openNpz } from '../../../src/lib/ingest';
import { loadDataset } from '../../../src/lib/contract';
import { splitByY, spacingFilter, spacingThreshold, nearestNeighbourDistances, greedySpacing, makeDemoStudy, demoGeometry, DEMO_DOSES, DEMO_PROBE_RADIUS, DEMO_PHASE_PEAK, DEMO_SPOKES, DEMO_STAR_BLUR, siemensStar, type DemoStudy } from '../../../src/lib/sim';
import { groupDataset } from '../../../src/lib/model/data';
import { stitchCrop } from '../../../src/lib/model/infer';
import { coverageOf } from '../../../src/lib/model/quality';
import { stitchPatches } from '../../../src/lib/physics';

/**
 * Fraction of the scanned area (the bounding box of the group centres) that the M x M stitch crops
 * cover, measured as the runner measures it: stitch constant patches at the centres and count canvas
 * pixels with stitch weight >= 0.5 (src/lib/model/quality.ts coverageOf).
 */
function cropCoverage(centres: Float64Array, N: number, M: number): number {
  const B = centres.length / 2;
  const ones = new Float32Array(B * N * N).fill(1);
  const st = stitchPatches(ones, new Float32Array(B * N * N), B, N, centres, M);
  return coverageOf(st, centres);
}
import { loadNpy, loadIndex, maxAbsErr } from '../physics/fixtures';

function fixtureArrays(): Record<string, NdArray> {
  const xy = loadNpy('sp_xy').data;
  const n = xy.length / 2;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = xy[2 * i];
    y[i] = xy[2 * i + 1];
  }
  const diff = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) diff.fill(i, 4 * i, 4 * i + 4);
  const cplx = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) cplx[2 * i + 1] = i;
  return {
    xcoords: { dtype: 'float64', shape: [n], data: x },
    ycoords: { dtype: 'float64', shape: [n], data: y },
    diffraction: { dtype: 'float32', shape: [n, 2, 2], data: diff },
    tag: { dtype: 'complex64', shape: [n], data: cplx },
    probeGuess: { dtype: 'complex64', shape: [2, 2], data: new Float32Array(8) },
  };
}

const ids = (a: NdArray) => Array.from(a.data as Float32Array).filter((_, k) => k % 4 === 0);

describe('Phase C y-split (split_dataset_tool.py:63-72) vs numpy', () => {
  it('train = y < min + 0.5 (max − min), strict; per-position arrays split, others copied', () => {
    const arrays = fixtureArrays();
    const r = splitByY(arrays);
    expect(r.splitPoint).toBe(loadIndex().split_point);
    const mask = loadNpy('sp_train_mask').data;
    const trainIds = Array.from(mask).flatMap((m, i) => (m ? [i] : []));
    const testIds = Array.from(mask).flatMap((m, i) => (m ? [] : [i]));
    expect(ids(r.train.diffraction)).toEqual(trainIds);
    expect(ids(r.test.diffraction)).toEqual(testIds);
    expect(mask[3]).toBe(0); // the point exactly at the split point goes to test
    expect(r.trainCount + r.testCount).toBe(mask.length);
    expect(r.train.tag.shape).toEqual([trainIds.length]);
    expect(Array.from(r.train.tag.data as Float32Array).filter((_, k) => k % 2 === 1)).toEqual(trainIds);
    expect(r.train.probeGuess).toBe(arrays.probeGuess);
    expect(r.test.probeGuess).toBe(arrays.probeGuess);
  });
});

describe('Phase D spacing filter (overlap.py:296-338) vs scipy cKDTree', () => {
  const arrays = fixtureArrays();

  it('nearest-neighbour distances agree', () => {
    const d = nearestNeighbourDistances(arrays.xcoords.data as Float64Array, arrays.ycoords.data as Float64Array);
    expect(maxAbsErr(d, loadNpy('sp_nn').data)).toBeLessThan(1e-12);
  });

  it('thresholds are (1 − f)·N in doubles: 38.400000000000006 and 102.4 at 128', () => {
    expect(spacingThreshold(0.7, 128)).toBe(38.400000000000006);
    expect(spacingThreshold(0.2, 128)).toBe(102.4);
  });

  const spacing = loadIndex().spacing as Record<string, { overlap: number; patch: number; threshold: number; kept: number }>;
  for (const [tag, s] of Object.entries(spacing)) {
    it(`${tag}: keeps exactly the points with NN distance >= ${s.threshold}`, () => {
      const thr = spacingThreshold(s.overlap, s.patch);
      expect(thr).toBe(s.threshold);
      const want = loadNpy(`sp_keep_${tag}`).data;
      if (s.kept < 0.1 * want.length) {
        expect(() => spacingFilter(arrays, thr, tag)).toThrow(/at least 10 %/);
        return;
      }
      const r = spacingFilter(arrays, thr, tag);
      expect(Array.from(r.keep)).toEqual(Array.from(want));
      expect(r.metrics.n_accepted).toBe(s.kept);
      expect(r.arrays.diffraction.shape[0]).toBe(s.kept);
      expect(r.arrays.probeGuess).toBe(arrays.probeGuess);
    });
  }

  it('the 38.4 trap: a pair exactly 38.4 apart is rejected, a pair (1 − 0.7)·128 apart is kept', () => {
    const n = arrays.xcoords.shape[0];
    const r = spacingFilter(arrays, spacingThreshold(0.7, 64), 'trap-check'); // a threshold low enough to pass 10 %
    expect(r.keep[n - 1]).toBe(1);
    const keep = loadNpy('sp_keep_dense128').data;
    expect(Array.from(keep.slice(n - 4))).toEqual([0, 0, 1, 1]);
  });
});

describe('makeDemoStudy (docs/demo-study.md)', () => {
  let study: DemoStudy;
  let seconds = 0;
  beforeAll(async () => {
    const t0 = performance.now();
    study = await makeDemoStudy('small', { timestamp: '2025-01-01T00:00:00.000Z' });
    seconds = (performance.now() - t0) / 1000;
  });

  it('writes the standard tree for doses 1e3, 1e4, 1e5, quickly', () => {
    const paths = study.files.map((f) => f.path).sort();
    const want: string[] = [];
    for (const d of [1000, 10000, 100000]) {
      want.push(`phase_c/dose_${d}/patched_test.npz`, `phase_c/dose_${d}/patched_train.npz`);
      for (const v of ['dense', 'sparse']) want.push(`phase_d/dose_${d}/${v}/${v}_test.npz`, `phase_d/dose_${d}/${v}/${v}_train.npz`);
    }
    expect(paths).toEqual(want.sort());
    expect(seconds).toBeLessThan(20);
    expect(study.description).toMatch(/N = 32/);
  });

  it('every file passes our own validation; keys, dtypes and _metadata are as the reference writes them', async () => {
    const g = demoGeometry('small');
    for (const f of study.files) {
      const a = await openNpz(f.bytes, f.path);
      const phaseC = f.path.startsWith('phase_c');
      expect(a.keys.sort()).toEqual(['_metadata', 'diffraction', 'objectGuess', 'probeGuess', 'scan_index', 'xcoords', 'xcoords_start', 'ycoords', 'ycoords_start']);
      const meta = await a.read('_metadata');
      expect(meta.dtype).toBe(phaseC ? 'object' : 'str'); // Phase C pickled 0-d object, Phase D 0-d unicode (`metadata.py:112-117`; `overlap.py:345-352`)
      const m = JSON.parse((meta.data as string[])[0]);
      if (phaseC) {
        expect(m.physics_parameters.N).toBe(32);
        expect(DEMO_DOSES as readonly number[]).toContain(m.physics_parameters.nphotons);
        expect(m.additional_parameters.demo.object_size).toBe(g.S);
        expect(m.data_transformations[1].operation).toBe('train_test_split');
      } else {
        expect(['dense', 'sparse']).toContain(m.overlap_view);
        expect(m.spacing_threshold).toBe(spacingThreshold(m.overlap_view === 'dense' ? 0.7 : 0.2, 32));
        expect(m.demo.n_positions).toBe(g.nPositions);
      }
      expect((await a.info('diffraction')).dtype).toBe('float32');
      expect((await a.info('probeGuess')).dtype).toBe('complex64');
      expect((await a.info('objectGuess')).shape).toEqual([g.S, g.S]);
      expect((await a.info('xcoords')).dtype).toBe('float64');
      const res = await loadDataset(a, { file: f.path, gridsize: phaseC ? 1 : 2 });
      expect(res.report.errors).toEqual([]);
      expect(res.report.ok).toBe(true);
      expect(res.dataset!.N).toBe(32);
    }
  });

  it('every view keeps tens of positions; dense keeps exactly the direct rule, sparse the greedy thinning; mean counts ≈ dose', async () => {
    for (const [tag, v] of Object.entries(study.summary.views)) {
      for (const view of ['baseline', 'dense', 'sparse'] as const) {
        expect(v[view].train).toBeGreaterThanOrEqual(25);
        expect(v[view].test).toBeGreaterThanOrEqual(25);
      }
      const dose = Number(tag.slice(5));
      const n = study.summary.nPositions;
      expect(Math.abs(v.meanCounts - dose)).toBeLessThan(4 * Math.sqrt(dose / n));
    }
    const coords = async (path: string) => {
      const a = await openNpz(study.files.find((z) => z.path === path)!.bytes, path);
      return { x: (await a.read('xcoords')).data as Float64Array, y: (await a.read('ycoords')).data as Float64Array };
    };
    for (const part of ['train', 'test'] as const) {
      const c = await coords(`phase_c/dose_1000/patched_${part}.npz`);
      const dAll = nearestNeighbourDistances(c.x, c.y);
      const dense = await coords(`phase_d/dose_1000/dense/dense_${part}.npz`);
      const direct = Array.from(dAll).map((d, i) => (d >= spacingThreshold(0.7, 32) ? i : -1)).filter((i) => i >= 0);
      expect(Array.from(dense.x)).toEqual(direct.map((i) => c.x[i]));
      expect(Array.from(dense.y)).toEqual(direct.map((i) => c.y[i]));
      const sparse = await coords(`phase_d/dose_1000/sparse/sparse_${part}.npz`);
      const thr = spacingThreshold(0.2, 32);
      const g = greedySpacing(c.x, c.y, thr);
      const gi = Array.from(g).map((k, i) => (k ? i : -1)).filter((i) => i >= 0);
      expect(Array.from(sparse.x)).toEqual(gi.map((i) => c.x[i]));
      // every kept pair lies >= threshold apart, and every dropped point is too close to a kept one
      expect(Math.min(...nearestNeighbourDistances(sparse.x, sparse.y))).toBeGreaterThanOrEqual(thr);
      for (let i = 0; i < c.x.length; i++) {
        if (g[i]) continue;
        expect(Math.min(...Array.from(sparse.x, (sx, k) => Math.hypot(sx - c.x[i], sparse.y[k] - c.y[i])))).toBeLessThan(thr);
      }
      const f = study.files.find((z) => z.path === `phase_d/dose_1000/sparse/sparse_${part}.npz`)!;
      const meta = JSON.parse(((await (await openNpz(f.bytes, f.path)).read('_metadata')).data as string[])[0]);
      expect(meta.spacing_metrics.selection_strategy).toBe('greedy');
    }
  });

  it('the test crops of baseline and dense cover >= 95 % of the scanned area (stitch M, groups as the runner forms them)', async () => {
    for (const size of ['small', 'standard'] as const) {
      const s = size === 'small' ? study : await makeDemoStudy('standard', { timestamp: '2025-01-01T00:00:00.000Z' });
      const N = s.summary.N;
      const M = stitchCrop(N);
      for (const [view, path, gridsize] of [
        ['baseline', 'phase_c/dose_1000/patched_test.npz', 1],
        ['dense', 'phase_d/dose_1000/dense/dense_test.npz', 2],
        ['sparse', 'phase_d/dose_1000/sparse/sparse_test.npz', 2],
      ] as const) {
        const f = s.files.find((z) => z.path === path)!;
        const ds = (await loadDataset(await openNpz(f.bytes, f.path), { file: path, gridsize })).dataset!;
        const groups = groupDataset(ds, { gridsize, nGroups: 512, neighborCount: 4, seed: 43 });
        const cov = cropCoverage(groups.centres, N, M);
        if (view === 'sparse') expect(cov).toBeLessThan(0.95); // the overlap study: sparse leaves gaps
        else expect(cov, `${size} ${view}`).toBeGreaterThanOrEqual(0.95);
      }
      if (size === 'standard') {
        // and the standard demo validates without a single warning (amplitude max < 10, max/mean < 100, N = 64)
        for (const f of s.files) {
          const r = await loadDataset(await openNpz(f.bytes, f.path), { file: f.path, gridsize: f.path.startsWith('phase_c') ? 1 : 2 });
          expect(r.report.warnings.map((w) => `${w.code}: ${w.message}`), f.path).toEqual([]);
        }
      }
    }
  }, 120_000);

  it('overlaps as real scans do and carries phase: a probe disk of 0.45 N over a 0.305 N raster (66 %), the set_phi phase (peak 1 rad) in objectGuess, both in _metadata', async () => {
    const g = demoGeometry('small');
    expect(g.probeRadius / g.N).toBeCloseTo(DEMO_PROBE_RADIUS, 6);
    expect(g.overlap).toBeGreaterThanOrEqual(0.5);
    expect(g.overlap).toBeLessThanOrEqual(0.7);
    // every object pixel is illuminated: a square raster of step a needs a disk radius above a/√2
    expect(g.probeRadius).toBeGreaterThan(g.step / Math.SQRT2);
    const f = study.files.find((x) => x.path === 'phase_c/dose_100000/patched_test.npz')!;
    const a = await openNpz(f.bytes, f.path);
    const obj = await a.read('objectGuess');
    const d = obj.data as Float32Array;
    let s = 0, s2 = 0, lo = Infinity, hi = -Infinity;
    const n = d.length / 2;
    for (let i = 0; i < n; i++) {
      const ph = Math.atan2(d[2 * i + 1], d[2 * i]);
      s += ph;
      s2 += ph * ph;
      lo = Math.min(lo, ph);
      hi = Math.max(hi, ph);
    }
    const std = Math.sqrt(s2 / n - (s / n) ** 2);
    expect(std).toBeGreaterThan(0.1); // rad: not a flat phase (the star's spokes against its background)
    expect(hi - lo).toBeGreaterThan(0.3);
    expect(lo).toBeGreaterThan(-Math.PI / 2); // no wrapping
    expect(hi).toBeLessThan(Math.PI / 2);
    // the probe: the defocused disk of that radius (amplitude ~1 inside, ~0 a few pixels outside)
    const probe = (await a.read('probeGuess')).data as Float32Array;
    const c = (g.N - 1) / 2;
    for (let i = 0; i < g.N; i++) {
      for (let j = 0; j < g.N; j++) {
        const r = Math.hypot(i - c, j - c);
        const amp = Math.hypot(probe[2 * (i * g.N + j)], probe[2 * (i * g.N + j) + 1]);
        if (r < g.probeRadius - 2) expect(amp).toBeGreaterThan(0.9);
        if (r > g.probeRadius + 3) expect(amp).toBeLessThan(0.02);
      }
    }
    const meta = JSON.parse(String((await a.read('_metadata')).data[0]));
    const demo = meta.additional_parameters.demo;
    expect(demo.probe_radius_px).toBeCloseTo(g.probeRadius, 9);
    expect(demo.linear_overlap_dense).toBeCloseTo(g.overlap, 9);
    expect(DEMO_PHASE_PEAK).toBe(1);
    expect(demo.object_phase_peak).toBeCloseTo(DEMO_PHASE_PEAK, 12);
    expect(study.description).toMatch(/overlap 66 %/);
  });

  it('draws a Siemens star: 2 x spokes edges on every circle, amplitude 1 on the background, blurred edges; the kind in _metadata and the description', async () => {
    const g = demoGeometry('small');
    expect(g.object).toBe('star');
    const f = study.files.find((x) => x.path === 'phase_c/dose_100000/patched_train.npz')!;
    const a = await openNpz(f.bytes, f.path);
    const obj = (await a.read('objectGuess')).data as Float32Array;
    const S = g.S;
    const amp = (r: number, q: number) => Math.hypot(obj[2 * (r * S + q)], obj[2 * (r * S + q) + 1]);
    const c = (S - 1) / 2;
    for (const radius of [40, 80, 120]) {
      // walk the circle from the middle of a spoke; count crossings of the mid amplitude: K spokes give 2K
      let crossings = 0;
      let prev = 0;
      const steps = 4000;
      for (let i = 0; i <= steps; i++) {
        const th = Math.PI / (2 * DEMO_SPOKES) + (2 * Math.PI * i) / steps;
        const v = amp(Math.round(c + radius * Math.sin(th)), Math.round(c + radius * Math.cos(th))) - (0.25 + 1) / 2;
        const sgn = Math.sign(v);
        if (i > 0 && sgn !== 0 && prev !== 0 && sgn !== prev) crossings++;
        if (sgn !== 0) prev = sgn;
      }
      expect(crossings, `radius ${radius}`).toBe(2 * DEMO_SPOKES);
    }
    // the edges are blurred (intermediate values far from the centre), the plateaus are 0.25 and 1
    const raw = siemensStar(S, DEMO_SPOKES, 0);
    const blurred = siemensStar(S, DEMO_SPOKES, DEMO_STAR_BLUR * g.N);
    let mids = 0;
    let rawMids = 0;
    for (let q = 0; q < S; q++) {
      if (blurred[5 * S + q] > 0.4 && blurred[5 * S + q] < 0.85) mids++;
      if (raw[5 * S + q] > 0.4 && raw[5 * S + q] < 0.85) rawMids++;
    }
    expect(mids).toBeGreaterThan(2 * rawMids);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of blurred) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBeGreaterThanOrEqual(0.25 - 1e-12);
    expect(hi).toBeLessThanOrEqual(1 + 1e-12);
    const meta = JSON.parse(String((await a.read('_metadata')).data[0]));
    const demo = meta.additional_parameters.demo;
    expect(demo.object_kind).toBe('star');
    expect(demo.star_spokes).toBe(DEMO_SPOKES);
    expect(demo.star_blur_px).toBeCloseTo(DEMO_STAR_BLUR * g.N, 12);
    expect(study.description).toMatch(/Siemens star of 24 spokes/);
  });

  it('is reproducible: the same seed and timestamp give the same bytes; another seed differs', async () => {
    const again = await makeDemoStudy('small', { timestamp: '2025-01-01T00:00:00.000Z' });
    expect(again.files.length).toBe(study.files.length);
    for (let i = 0; i < again.files.length; i++) expect(Buffer.compare(Buffer.from(again.files[i].bytes), Buffer.from(study.files[i].bytes))).toBe(0);
    const other = await makeDemoStudy('small', { seed: 7, timestamp: '2025-01-01T00:00:00.000Z' });
    expect(Buffer.compare(Buffer.from(other.files[0].bytes), Buffer.from(study.files[0].bytes))).not.toBe(0);
  });
});
