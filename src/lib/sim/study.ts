/**
 * Study steps on simulated data (`generation.py`; `overlap.py`): one simulation per dose, the y-split into
 * patched_train / patched_test (Phase C stage 4), and the dense / sparse views by the nearest-neighbour
 * spacing filter (Phase D, OVL-D).
 */
import type { NdArray } from '../ingest/types';
import type { ProbeArrays } from '../physics/probe';
import type { Rng } from './rng';
import { extractPatch, simulateDiffraction, type ComplexImage } from './simulate';

/** Phase C split fraction, hard-coded in the reference (`generation.py:210`). */
export const SPLIT_FRACTION = 0.5;
/** Phase D: fewer than this fraction of positions passing the filter is an error (`overlap.py:331-338`). */
export const MIN_ACCEPTANCE = 0.1;
/** Study design overlap fractions (`design.py:47-50`: dense 0.7, sparse 0.2). */
export const OVERLAP_VIEWS: Readonly<Record<'dense' | 'sparse', number>> = { dense: 0.7, sparse: 0.2 };

/** Spacing threshold (1 − f)·patch in IEEE doubles (`design.py:53, 83-86`; (1 − 0.7)·128 = 38.400000000000006). */
export function spacingThreshold(overlap: number, patchSize: number): number {
  return (1.0 - overlap) * patchSize;
}

/** Number of positions an NPZ record describes (length of xcoords). */
function positionCount(arrays: Record<string, NdArray>): number {
  const x = arrays.xcoords;
  if (!x) throw new Error('the arrays have no xcoords');
  return x.shape[0];
}

function rowSize(a: NdArray): number {
  let s = 1;
  for (let i = 1; i < a.shape.length; i++) s *= a.shape[i];
  return a.dtype === 'complex64' || a.dtype === 'complex128' ? 2 * s : s;
}

/** Keep rows where keep[i] is true, for an array whose first axis is the position count. */
export function selectRows(a: NdArray, keep: ArrayLike<boolean | number>): NdArray {
  const n = a.shape[0];
  let m = 0;
  for (let i = 0; i < n; i++) if (keep[i]) m++;
  const shape = [m, ...a.shape.slice(1)];
  if (Array.isArray(a.data)) {
    const rs = rowSize(a);
    const out: string[] = [];
    for (let i = 0; i < n; i++) if (keep[i]) out.push(...a.data.slice(i * rs, (i + 1) * rs));
    return { dtype: a.dtype, shape, data: out };
  }
  const rs = rowSize(a);
  const src = a.data;
  const Ctor = src.constructor as { new (n: number): typeof src };
  const out = new Ctor(m * rs);
  let o = 0;
  for (let i = 0; i < n; i++) {
    if (!keep[i]) continue;
    (out as { set(v: ArrayLike<number | bigint>, off: number): void }).set(src.subarray(i * rs, (i + 1) * rs) as ArrayLike<number | bigint>, o);
    o += rs;
  }
  return { dtype: a.dtype, shape, data: out };
}

/** Split every array whose first axis equals the position count; copy the others (`split_dataset_tool.py:63-92`; `overlap.py:185-190`). */
function applyMask(arrays: Record<string, NdArray>, keep: ArrayLike<boolean | number>, skip: string[] = []): Record<string, NdArray> {
  const n = positionCount(arrays);
  const out: Record<string, NdArray> = {};
  for (const [k, a] of Object.entries(arrays)) {
    if (skip.includes(k)) continue;
    out[k] = a.shape.length > 0 && a.shape[0] === n ? selectRows(a, keep) : a;
  }
  return out;
}

function coordValues(a: NdArray): Float64Array {
  if (Array.isArray(a.data)) throw new Error('coordinates must be numeric');
  return Float64Array.from(a.data as ArrayLike<number>);
}

export interface SplitResult {
  train: Record<string, NdArray>;
  test: Record<string, NdArray>;
  splitPoint: number;
  trainCount: number;
  testCount: number;
}

/**
 * Phase C stage 4: split_point = min + 0.5·(max − min) of ycoords; train = y < split_point (strict),
 * test = the rest (`split_dataset_tool.py:63-72`). `_metadata` (if any) is not carried; callers write new ones.
 */
export function splitByY(arrays: Record<string, NdArray>): SplitResult {
  const y = coordValues(arrays.ycoords);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of y) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const splitPoint = lo + SPLIT_FRACTION * (hi - lo);
  const keep = Array.from(y, (v) => v < splitPoint);
  const trainCount = keep.filter(Boolean).length;
  return {
    train: applyMask(arrays, keep, ['_metadata']),
    test: applyMask(arrays, keep.map((k) => !k), ['_metadata']),
    splitPoint,
    trainCount,
    testCount: y.length - trainCount,
  };
}

/** Nearest-neighbour distance of every (x, y) point, sqrt(dx² + dy²) as scipy's KD-tree computes it. Infinity for a lone point. */
export function nearestNeighbourDistances(x: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
  const n = x.length;
  const best = new Float64Array(n).fill(Infinity);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = x[i] - x[j];
      const dy = y[i] - y[j];
      const d2 = dx * dx + dy * dy;
      if (d2 < best[i]) best[i] = d2;
      if (d2 < best[j]) best[j] = d2;
    }
  }
  for (let i = 0; i < n; i++) best[i] = Math.sqrt(best[i]);
  return best;
}

export interface SpacingMetrics {
  min_spacing: number;
  max_spacing: number;
  mean_spacing: number;
  median_spacing: number;
  threshold: number;
  n_positions: number;
  n_accepted: number;
  n_rejected: number;
  acceptance_rate: number;
  /** 'greedy' when the greedy fallback chose the points (a later greedy revision of `overlap.py`) */
  selection_strategy?: 'direct' | 'greedy';
  /** points the direct rule would have kept, when the greedy fallback ran */
  direct_accepted?: number;
}

/**
 * Greedy thinning (the later Phase D revisions' fallback, finding ACCEPTANCE-001, a later greedy revision of `overlap.py`): visit the
 * points in file order and keep one when it lies >= threshold from every point kept so far. Unlike the
 * direct rule it thins a dense regular scan to a sparse one instead of rejecting every point.
 */
export function greedySpacing(x: ArrayLike<number>, y: ArrayLike<number>, threshold: number): Uint8Array {
  const n = x.length;
  const keep = new Uint8Array(n);
  const kx: number[] = [];
  const ky: number[] = [];
  const t2 = threshold * threshold;
  for (let i = 0; i < n; i++) {
    let ok = true;
    for (let j = 0; j < kx.length && ok; j++) {
      const dx = x[i] - kx[j];
      const dy = y[i] - ky[j];
      if (dx * dx + dy * dy < t2) ok = false;
    }
    if (ok) {
      keep[i] = 1;
      kx.push(x[i]);
      ky.push(y[i]);
    }
  }
  return keep;
}

export interface SpacingResult {
  arrays: Record<string, NdArray>;
  keep: Uint8Array;
  metrics: SpacingMetrics;
}

/**
 * Phase D (OVL-D) filter: keep a position iff its nearest-neighbour distance in the whole split is
 * >= threshold; fewer than 10 % kept is an error (`overlap.py:146, 318-338`). Arrays whose first axis
 * is the position count are filtered, the others copied. `_metadata` is dropped (callers write a new one).
 * With `greedyFallback`, a direct rule that keeps fewer than 10 % hands over to greedySpacing (the later
 * reference revisions' fallback) instead of failing; the metrics then say selection_strategy 'greedy'.
 */
export function spacingFilter(arrays: Record<string, NdArray>, threshold: number, label = 'positions', opts: { greedyFallback?: boolean } = {}): SpacingResult {
  const x = coordValues(arrays.xcoords);
  const y = coordValues(arrays.ycoords);
  const d = nearestNeighbourDistances(x, y);
  const n = x.length;
  const keep = new Uint8Array(n);
  let accepted = 0;
  for (let i = 0; i < n; i++) {
    if (d[i] >= threshold) {
      keep[i] = 1;
      accepted++;
    }
  }
  const finite = Array.from(d).filter(Number.isFinite).sort((a, b) => a - b);
  const mid = finite.length >> 1;
  const median = finite.length === 0 ? NaN : finite.length % 2 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
  const metrics: SpacingMetrics = {
    min_spacing: finite.length ? finite[0] : NaN,
    max_spacing: finite.length ? finite[finite.length - 1] : NaN,
    mean_spacing: finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN,
    median_spacing: median,
    threshold,
    n_positions: n,
    n_accepted: accepted,
    n_rejected: n - accepted,
    acceptance_rate: n ? accepted / n : 0,
  };
  if (opts.greedyFallback && n > 0 && accepted < MIN_ACCEPTANCE * n) {
    const g = greedySpacing(x, y, threshold);
    let kept = 0;
    for (let i = 0; i < n; i++) kept += g[i];
    if (kept > 0) {
      const gm: SpacingMetrics = { ...metrics, n_accepted: kept, n_rejected: n - kept, acceptance_rate: kept / n, selection_strategy: 'greedy', direct_accepted: accepted };
      return { arrays: applyMask(arrays, g, ['_metadata']), keep: g, metrics: gm };
    }
  }
  if (accepted < MIN_ACCEPTANCE * n || n === 0) {
    throw new Error(
      `spacing filter on ${label}: only ${accepted} of ${n} positions (${(100 * metrics.acceptance_rate).toFixed(1)} %) have a nearest neighbour at >= ${threshold} px; at least 10 % must pass (Phase D rule)`,
    );
  }
  return { arrays: applyMask(arrays, keep, ['_metadata']), keep, metrics };
}

export interface SimulateDoseOptions {
  /** the object, complex */
  object: ComplexImage;
  /** RAW probe (`diffsim.py:59-155`; the model's P̂ is `probe.py:52-66`), N x N */
  probe: ProbeArrays;
  N: number;
  /** scan positions (x = column, y = row) in object pixels */
  x: Float64Array;
  y: Float64Array;
  /** photons per pattern (nphotons) */
  dose: number;
  rng: Rng;
}

export interface SimulateDoseResult {
  /** the simulator's keys (`simulate_and_save.py:126-136`): xcoords, ycoords, xcoords_start, ycoords_start, diff3d, probeGuess, objectGuess, scan_index */
  arrays: Record<string, NdArray>;
  sSim: number;
  /** mean over patterns of the expected total counts (Σ of Poisson rates); equals the dose by construction */
  meanExpectedCounts: number;
  /** mean over patterns of the sampled total counts */
  meanCounts: number;
}

function complex64(re: ArrayLike<number>, im: ArrayLike<number>, shape: number[]): NdArray {
  const d = new Float32Array(2 * re.length);
  for (let i = 0; i < re.length; i++) {
    d[2 * i] = re[i];
    d[2 * i + 1] = im[i];
  }
  return { dtype: 'complex64', shape, data: d };
}

/** One simulation at one dose (`raw_data.py:892-930`, `diffsim.py:59-155`), returning the arrays simulate_and_save writes. */
export function simulateDose(o: SimulateDoseOptions): SimulateDoseResult {
  const { N, x, y, object, probe, dose, rng } = o;
  const n = x.length;
  if (y.length !== n) throw new Error('simulateDose: x and y differ in length');
  const NN = N * N;
  const pRe = new Float64Array(n * NN);
  const pIm = new Float64Array(n * NN);
  for (let b = 0; b < n; b++) extractPatch(object, x[b], y[b], N, pRe, pIm, b * NN);
  const sim = simulateDiffraction(pRe, pIm, n, N, probe, dose, rng);
  const arrays: Record<string, NdArray> = {
    xcoords: { dtype: 'float64', shape: [n], data: Float64Array.from(x) },
    ycoords: { dtype: 'float64', shape: [n], data: Float64Array.from(y) },
    // start coordinates equal the coordinates (`nongrid_simulation.py:153-190`)
    xcoords_start: { dtype: 'float64', shape: [n], data: Float64Array.from(x) },
    ycoords_start: { dtype: 'float64', shape: [n], data: Float64Array.from(y) },
    diff3d: { dtype: 'float32', shape: [n, N, N], data: sim.amplitude },
    probeGuess: complex64(probe.re, probe.im, [N, N]),
    objectGuess: complex64(object.re, object.im, [object.H, object.W]),
    // a single scan: zeros, as the reference's loaders build it
    scan_index: { dtype: 'int64', shape: [n], data: new BigInt64Array(n) },
  };
  const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
  return { arrays, sSim: sim.sSim, meanExpectedCounts: mean(sim.expectedTotals), meanCounts: mean(sim.countTotals) };
}

/** Phase C stage 2: rename diff3d to diffraction (`generation.py`). */
export function canonicalize(arrays: Record<string, NdArray>): Record<string, NdArray> {
  const out: Record<string, NdArray> = {};
  for (const [k, v] of Object.entries(arrays)) out[k === 'diff3d' ? 'diffraction' : k] = v;
  return out;
}
