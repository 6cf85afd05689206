import { describe, expect, it } from 'vitest';
import { writeNpz } from '../../../src/lib/ingest';
import { evalReconstruction } from '../../../src/lib/eval';
import { sampleBilinear } from '../../../src/lib/model/metrics';
import {
  FLAT_PHASE_STD, commonPair, placedPair, regionBox, scoreCommon, scoreReconstruction, truthPhaseSpread,
  type CommonRegion, type StitchedCanvas, type TruthObject,
} from '../../../src/lib/model/quality';
import { loadCommonRegion, phaseCTestPositions } from '../../../src/lib/model/common-region';
import type { FileSource } from '../../../src/lib/study/runner';

const H = 96, W = 96;

/** A textured complex truth (complex64 planes, as objectGuess loads); `phaseAmp` 0 gives phase exactly 0. */
function truthObject(phaseAmp: number): TruthObject {
  const re = new Float32Array(H * W);
  const im = new Float32Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const a = 1 + 0.3 * Math.sin(x / 3.1) * Math.cos(y / 4.3) + 0.2 * Math.sin((x + 2 * y) / 5.7) + 0.1 * Math.cos((3 * x - y) / 2.3);
      const p = phaseAmp * (Math.sin(x / 6.7 + 1) * Math.sin(y / 5.3) + 0.5 * Math.cos((x - y) / 3.9));
      re[y * W + x] = a * Math.cos(p);
      im[y * W + x] = phaseAmp === 0 ? 0 : a * Math.sin(p);
    }
  }
  return { height: H, width: W, re, im };
}

/**
 * A stitched canvas that is the truth itself on a grid at a fractional origin, covered (weight 1)
 * where `cover(r, c)` says, weight 0 and value 0 elsewhere, as the stitch leaves it.
 */
function canvasOf(truth: TruthObject, cover: (r: number, c: number) => boolean, originX = 8.4, originY = 7.7, size = 78): StitchedCanvas {
  const re = Float32Array.from(sampleBilinear({ values: truth.re, H, W }, originX, originY, size, size).values);
  const im = Float32Array.from(sampleBilinear({ values: truth.im, H, W }, originX, originY, size, size).values);
  const weight = new Float32Array(size * size);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      if (cover(r, c)) weight[r * size + c] = 1;
      else re[r * size + c] = im[r * size + c] = 0;
    }
  }
  return { width: size, height: size, re, im, weight, originX, originY };
}

const region: CommonRegion = { x0: 16, y0: 14, x1: 75, y1: 73, source: 'phase_c test scan', path: 'phase_c/dose_1000/patched_test.npz' };

describe('common-region scores', () => {
  const truth = truthObject(0.6);
  const full = canvasOf(truth, () => true);
  // a tenth of the region: a 19 x 19 block in its corner (object x 16..34, y 14..32; 361 of 3600 pixels)
  const tenth = canvasOf(truth, (r, c) => c + 8.4 > 15.5 && c + 8.4 < 34.5 && r + 7.7 > 13.5 && r + 7.7 < 32.5);

  it('takes the truth pixels exactly and places the canvas by its origin', () => {
    const p = commonPair(full, truth, region);
    expect([p.truth.height, p.truth.width]).toEqual([60, 60]);
    expect(p.truth.re).toBeInstanceOf(Float32Array); // objectGuess's own values, no resampling
    expect(p.truth.re[0]).toBe(truth.re[14 * W + 16]);
    expect(p.truth.im[59 * 60 + 59]).toBe(truth.im[73 * W + 75]);
    expect(p.coverage).toBe(1);
    // the canvas is the truth sampled at its own grid: read back at the truth's pixels it is close
    let err = 0;
    for (let i = 0; i < p.recon.re.length; i++) err += Math.abs(p.recon.re[i] - p.truth.re[i]) / p.recon.re.length;
    expect(err).toBeLessThan(0.05);
    // an integer origin reads the canvas without interpolation
    const whole = canvasOf(truth, () => true, 10, 9);
    const q = commonPair(whole, truth, region);
    expect(q.recon.re[3 * 60 + 5]).toBe(whole.re[(14 + 3 - 9) * whole.width + (16 + 5 - 10)]);
  });

  it('uncovered region pixels are 0 and counted in the coverage', () => {
    const p = commonPair(tenth, truth, region);
    expect(p.coverage).toBeCloseTo(0.1, 2);
    let zeros = 0;
    for (let i = 0; i < p.covered.length; i++) {
      if (p.covered[i]) continue;
      expect(p.recon.re[i]).toBe(0);
      expect(p.recon.im[i]).toBe(0);
      zeros++;
    }
    expect(zeros).toBe(3600 - Math.round(p.coverage * 3600));
    expect(Math.abs(3600 - zeros - 361)).toBeLessThanOrEqual(19); // the block, give or take its half-covered edge
    // a canvas that does not reach the region at all covers none of it
    expect(commonPair(canvasOf(truth, () => true, 0, 0, 10), truth, region).coverage).toBe(0);
  });

  it('a canvas covering 10 % of the region scores below the same reconstruction covering all of it', () => {
    const a = scoreCommon(full, truth, region, 20)!;
    const b = scoreCommon(tenth, truth, region, 20)!;
    expect(a.coverage).toBe(1);
    expect(b.coverage).toBeCloseTo(0.1, 2);
    expect(a.amplitude.ssim!).toBeGreaterThan(0.9);
    expect(b.amplitude.ssim!).toBeLessThan(a.amplitude.ssim! - 0.5);
    expect(b.amplitude.ms_ssim!).toBeLessThan(a.amplitude.ms_ssim!);
    expect(b.phase!.ssim!).toBeLessThan(a.phase!.ssim!);
    expect([a.height, a.width, a.stitch_M, a.phase_align, a.ms_ssim_sigma]).toEqual([60, 60, 20, 'plane', 1]);
    expect(a.region).toEqual(region);
  });

  it('the placed pair (the covered bounding box) does not see the difference: the reason for the common region', () => {
    const ssimOf = (st: StitchedCanvas) => {
      const p = placedPair(st, truth)!;
      return evalReconstruction(p.recon, p.truth, { phaseAlign: 'plane', msSsimSigma: 1 }).amplitude.ssim!;
    };
    expect(ssimOf(tenth)).toBeGreaterThan(0.9);
    expect(Math.abs(ssimOf(tenth) - ssimOf(full))).toBeLessThan(0.1);
  });

  it('a reconstruction that covers none of the region, or is all zero, is not scored (null with a note), never an error', () => {
    const away = canvasOf(truth, () => true, 0, 0, 12);
    const m = scoreReconstruction(away, truth, [6, 6], 10, region);
    expect(m.common).toBeNull();
    expect(m.note).toMatch(/common: not scored \(the reconstruction covers none of the region\)/);
    const dark = canvasOf(truth, () => true);
    dark.re.fill(0);
    dark.im.fill(0);
    expect(() => scoreCommon(dark, truth, region, 20)).toThrow(/all NaN/);
  });

  it('a flat-phase truth gives phase null with the reason; a phase-carrying truth gives numbers', () => {
    const flat = truthObject(0);
    expect(truthPhaseSpread(commonPair(canvasOf(flat, () => true), flat, region).truth)).toBe(0);
    const s = scoreCommon(canvasOf(flat, () => true), flat, region, 20)!;
    expect(s.phase).toBeNull();
    expect(s.phase_note).toMatch(/^the true object's phase is flat over the region \(std 0\.0e\+0 rad after plane removal, < 0\.001 rad\): phase scores have no meaning$/);
    expect(s.amplitude.ssim!).toBeGreaterThan(0.9);
    // a constant phase and a phase plane (a tilt) are flat too: plane removal takes them out
    const tilt = truthObject(0);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const k = y * W + x, a = Math.hypot(flat.re[k], flat.im[k]), p = 0.3 + 0.01 * x - 0.02 * y;
        tilt.re[k] = a * Math.cos(p);
        tilt.im[k] = a * Math.sin(p);
      }
    }
    expect(scoreCommon(canvasOf(tilt, () => true), tilt, region, 20)!.phase).toBeNull();
    const t = scoreCommon(full, truth, region, 20)!;
    expect(truthPhaseSpread(commonPair(full, truth, region).truth)).toBeGreaterThan(100 * FLAT_PHASE_STD);
    expect(t.phase_note).toBeUndefined();
    for (const v of Object.values(t.phase!)) expect(typeof v).toBe('number');
  });

  it('scoreReconstruction adds `common` only with a region and keeps reference and placed as they were', () => {
    const centres = [30, 30, 60, 60, 45, 40];
    const without = scoreReconstruction(full, truth, centres, 20);
    const withRegion = scoreReconstruction(full, truth, centres, 20, region);
    expect('common' in without).toBe(false);
    expect(withRegion.reference).toEqual(without.reference);
    expect(withRegion.placed).toEqual(without.placed);
    expect(withRegion.coverage).toBe(without.coverage);
    expect(withRegion.common!.coverage).toBe(1);
    const small = scoreReconstruction(full, truth, centres, 20, { ...region, x1: region.x0 + 5 });
    expect(small.common).toBeNull();
    expect(small.note).toMatch(/common: the region 6x60 px is too small to score/);
  });

  it('regionBox: integer truth pixels inside the positions\' bounding box, clipped to the truth', () => {
    expect(regionBox([10.5, 40.2, 20], [5, 30.9, 12.1], 96, 96)).toEqual({ x0: 11, y0: 5, x1: 40, y1: 30 });
    expect(regionBox([-3, 100], [2, 200], 96, 96)).toEqual({ x0: 0, y0: 2, x1: 95, y1: 95 });
    expect(regionBox([NaN], [1], 96, 96)).toBeNull();
    expect(regionBox([120, 130], [1, 2], 96, 96)).toBeNull();
  });
});

class MemFiles implements FileSource {
  reads: string[] = [];
  constructor(readonly map: Map<string, Uint8Array>) {}
  has(p: string) { return this.map.has(p); }
  async get(p: string) { this.reads.push(p); return new Blob([this.map.get(p)! as Uint8Array<ArrayBuffer>]); }
}

describe('loadCommonRegion', () => {
  // Only the coordinate members: the region needs nothing else of the file.
  const coords = writeNpz({
    xcoords: { dtype: 'float64', shape: [3], data: Float64Array.from([20.5, 70.2, 40]) },
    ycoords: { dtype: 'float32', shape: [3], data: Float32Array.from([18, 66.5, 30]) },
  });
  const own = { path: 'phase_d/dose_1000/sparse/sparse_test.npz', xs: [30, 50], ys: [25, 45] };
  const truth = { width: 96, height: 96 };

  it('is the bounding box of the dose\'s Phase C test scan', async () => {
    const files = new MemFiles(new Map([['data/phase_c/dose_1000/patched_test.npz', coords]]));
    const r = await loadCommonRegion({ files, phaseCRoot: 'data/phase_c', dose: 1000, truth, own });
    expect(r).toEqual({ x0: 21, y0: 18, x1: 70, y1: 66, source: 'phase_c test scan', path: 'data/phase_c/dose_1000/patched_test.npz' });
    expect(files.reads).toEqual(['data/phase_c/dose_1000/patched_test.npz']);
  });

  it('falls back to the job\'s own test positions with a note when the file is missing or unreadable', async () => {
    const files = new MemFiles(new Map([['data/phase_c/dose_10000/patched_test.npz', Uint8Array.from([1, 2, 3])]]));
    const missing = await loadCommonRegion({ files, phaseCRoot: 'data/phase_c', dose: 1000, truth, own });
    expect(missing).toMatchObject({ x0: 30, y0: 25, x1: 50, y1: 45, source: 'job test scan', path: own.path });
    expect(missing!.note).toMatch(/data\/phase_c\/dose_1000\/patched_test\.npz is not among the files\): .*not comparable across views/);
    const noRoot = await loadCommonRegion({ files, phaseCRoot: null, dose: 1000, truth, own });
    expect(noRoot!.note).toMatch(/the study has no Phase C root/);
    const broken = await phaseCTestPositions(files, 'data/phase_c', 10000);
    expect(broken).toMatchObject({ reason: expect.stringMatching(/could not be read/) });
    expect(await loadCommonRegion({ files, phaseCRoot: null, dose: 1000, truth, own: { ...own, xs: [200], ys: [1] } })).toBeNull();
  });
});
