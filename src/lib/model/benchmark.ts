/**
 * The reference's synthetic 'lines' benchmark (`grid_lines_workflow.py:101-123`), scaled: objects of
 * side `size`, diffraction simulated on a grid of groups, the test reconstruction stitched and scored
 * against the true object. Used by `npm run bench:quality` and the gridsize-2 learning test.
 *
 * Grid geometry (`params.py:106-111`, `tf_helper.py:486`): bigN = N + (gridsize − 1)·offset; groups are taken with stride
 * outer_offset/2 and VALID padding, so there are floor((size − bigN)/stride) + 1 per axis; a
 * gridsize-2 group is the 2x2 block of patches whose top-left corners are `offset` apart. A patch whose
 * top-left object pixel is (r0, c0) is centred at (r0 + N/2, c0 + N/2) in the simulator's convention
 * (`raw_data.py:892-930`). Channels are listed row-major within the block.
 */
import { Rng } from '../sim/rng';
import { linesObject } from '../sim/lines';
import { extractPatch, simulateDiffraction, type ComplexImage } from '../sim/simulate';
import { defaultProbe, type ProbeArrays } from '../physics/probe';
import { fft2 } from '../physics/fft';
import { groupGeometry, normalisationFactor, type GroupedData } from './data';
import { gaussianFilter } from '../eval';

export type BenchmarkObject = 'lines' | 'grf';

export interface GridBenchmarkOptions {
  N: number;
  gridsize: 1 | 2;
  /** object side (reference 392 at N = 64) */
  size: number;
  /** within-group patch offset (reference 4) */
  offset: number;
  /** outer offset; the group stride is outer/2 (reference 8 for train, 20 for test) */
  outerOffset: number;
  nphotons: number;
  probe?: ProbeArrays;
}

/** Group top-left corners along one axis (VALID extraction with stride outer/2). */
export function gridStarts(size: number, N: number, gridsize: number, offset: number, outerOffset: number): number[] {
  const bigN = N + (gridsize - 1) * offset;
  const stride = outerOffset / 2;
  const n = Math.floor((size - bigN) / stride) + 1;
  return Array.from({ length: Math.max(0, n) }, (_, k) => k * stride);
}

/** Scan positions of every channel of every group, (x, y), group-major. */
export function gridPositions(o: Pick<GridBenchmarkOptions, 'N' | 'gridsize' | 'size' | 'offset' | 'outerOffset'>): { x: Float64Array; y: Float64Array; B: number; C: number } {
  const starts = gridStarts(o.size, o.N, o.gridsize, o.offset, o.outerOffset);
  const C = o.gridsize * o.gridsize;
  const B = starts.length * starts.length;
  const x = new Float64Array(B * C);
  const y = new Float64Array(B * C);
  let k = 0;
  for (const r0 of starts) {
    for (const c0 of starts) {
      for (let i = 0; i < o.gridsize; i++) {
        for (let j = 0; j < o.gridsize; j++) {
          y[k] = r0 + i * o.offset + o.N / 2;
          x[k] = c0 + j * o.offset + o.N / 2;
          k++;
        }
      }
    }
  }
  return { x, y, B, C };
}

/** Simulate one image's groups: diffraction (Poisson at nphotons, `diffsim.py:59-155`), α-normalised, as GroupedData. */
export function simulateGridGroups(object: ComplexImage, o: GridBenchmarkOptions, rng: Rng): GroupedData {
  const { N } = o;
  const probe = o.probe ?? defaultProbe(N);
  const { x, y, B, C } = gridPositions(o);
  const n = B * C;
  const NN = N * N;
  const pRe = new Float64Array(n * NN);
  const pIm = new Float64Array(n * NN);
  for (let k = 0; k < n; k++) extractPatch(object, x[k], y[k], N, pRe, pIm, k * NN);
  const sim = simulateDiffraction(pRe, pIm, n, N, probe, o.nphotons, rng);
  const indices = Int32Array.from({ length: n }, (_, k) => k);
  const alpha = normalisationFactor(sim.amplitude, N, indices); // `raw_data.py:972-992`
  const X = new Float32Array(B * NN * C);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const src = (b * C + c) * NN;
      const dst = b * NN * C + c;
      for (let q = 0; q < NN; q++) X[dst + q * C] = alpha * sim.amplitude[src + q];
    }
  }
  const { offsets, centres } = groupGeometry(x, y, x, y, indices, C);
  const seeds = Int32Array.from({ length: B }, (_, b) => b * C);
  return { N, C, B, X, offsets, centres, indices, seeds, alpha };
}

/** Concatenate grouped sets (several training images) into one. α differs per image; it is kept per image in X. */
export function concatGroups(parts: GroupedData[]): GroupedData {
  const { N, C } = parts[0];
  const B = parts.reduce((s, p) => s + p.B, 0);
  const X = new Float32Array(B * N * N * C);
  const offsets = new Float32Array(B * C * 2);
  const centres = new Float64Array(B * 2);
  const indices = new Int32Array(B * C);
  const seeds = new Int32Array(B);
  let b0 = 0;
  let i0 = 0;
  for (const p of parts) {
    X.set(p.X, b0 * N * N * C);
    offsets.set(p.offsets, b0 * C * 2);
    centres.set(p.centres, b0 * 2);
    indices.set(Int32Array.from(p.indices, (v) => v + i0), b0 * C);
    seeds.set(Int32Array.from(p.seeds, (v) => v + i0), b0);
    b0 += p.B;
    i0 += p.B * C;
  }
  return { N, C, B, X, offsets, centres, indices, seeds, alpha: parts[0].alpha };
}

/**
 * A 'grf' object (`datagen/grf.py:58-77`): a Gaussian random field with power spectrum k^−0.4, normalised to
 * [0, 1] and smoothed with σ = 1 (amplitude only, phase 0).
 */
export function grfObject(size: number, rng: Rng): Float64Array {
  const re = new Float64Array(size * size);
  const im = new Float64Array(size * size);
  for (let i = 0; i < re.length; i += 2) {
    // Box–Muller: two standard normals from two uniforms
    const u = 1 - rng.random();
    const v = rng.random();
    const m = Math.sqrt(-2 * Math.log(u));
    re[i] = m * Math.cos(2 * Math.PI * v);
    if (i + 1 < re.length) re[i + 1] = m * Math.sin(2 * Math.PI * v);
  }
  fft2(re, im, size, size);
  for (let r = 0; r < size; r++) {
    const ky = r <= size / 2 ? r : r - size;
    for (let c = 0; c < size; c++) {
      const kx = c <= size / 2 ? c : c - size;
      const k = Math.hypot(kx, ky) / size;
      const a = k === 0 ? 0 : Math.pow(k, -0.2); // amplitude sqrt(P(k)), P = k^−0.4
      re[r * size + c] *= a;
      im[r * size + c] *= a;
    }
  }
  // inverse DFT via conj(FFT(conj(·)))
  for (let i = 0; i < im.length; i++) im[i] = -im[i];
  fft2(re, im, size, size);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < re.length; i++) {
    lo = Math.min(lo, re[i]);
    hi = Math.max(hi, re[i]);
  }
  const norm = Float64Array.from(re, (v) => (v - lo) / (hi - lo));
  return gaussianFilter({ height: size, width: size, data: norm }, 1).data; // scipy gaussian_filter, as datagen/grf.py
}

/** One benchmark object (amplitude, phase 0) of side `size`; `nLines` for 'lines' (default the reference's 400). */
export function benchmarkObject(kind: BenchmarkObject, size: number, rng: Rng, nLines?: number): ComplexImage {
  const amp = kind === 'grf' ? grfObject(size, rng) : linesObject(size, rng, nLines); // 400 lines on 2·size, `diffsim.py:161-170`
  return { re: amp, im: new Float64Array(size * size), H: size, W: size };
}
