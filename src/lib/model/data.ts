/**
 * The data path from a validated dataset to model-ready groups (`raw_data.py:372-606`, `972-992`; `loader.py:422-514`; `train_pinn.py:165-180`):
 * subsampling, grouping (gridsize 1: the points in file order; gridsize > 1: K-nearest neighbours
 * of random seeds, seed excluded, C of K at random), offsets r_c = −(p_c − p̄) from the *_start
 * coordinates, the (N/2)² diffraction normalisation and the intensity scale s.
 */
import type { Dataset } from '../contract/types';
import { Rng } from './rng';

/** The fields of the contract's Dataset that training needs (tests build these without a file). */
export type DiffractionData = Pick<Dataset, 'N' | 'n' | 'diffraction' | 'xcoords' | 'ycoords' | 'xcoordsStart' | 'ycoordsStart'>;

export interface GroupedData {
  N: number;
  C: number;
  /** Number of groups B. */
  B: number;
  /** Normalised amplitude X = α·d, layout (B, N, N, C). */
  X: Float32Array;
  /** Relative offsets r_c from the start coordinates, flat index (b·C + c)·2 + {0:x, 1:y}. */
  offsets: Float32Array;
  /** Group centres p̄ from the plain coordinates (global offsets, used for stitching), (b·2 + {0:x,1:y}). */
  centres: Float64Array;
  /** Point index (into the dataset given) of each channel, b·C + c. */
  indices: Int32Array;
  /** Point index of each group's seed (for gridsize 1, the point itself; the seed is not in its group when C > 1). */
  seeds: Int32Array;
  /** The normalisation factor α (`raw_data.py:972-992`). */
  alpha: number;
}

export class DataError extends Error {
  override readonly name = 'DataError';
}

/** s = sqrt(nphotons) / (N/2) (`train_pinn.py:165-180`). */
export function intensityScale(nphotons: number, N: number): number {
  return Math.sqrt(nphotons) / (N / 2);
}

/**
 * Subsample (`components.py:398-426`): if there are more than nSubsample positions, draw nSubsample at
 * random without replacement and sort them; otherwise keep all, in file order.
 */
export function subsampleIndices(n: number, nSubsample: number, rng: Rng): Int32Array {
  if (n <= nSubsample) {
    const all = new Int32Array(n);
    for (let i = 0; i < n; i++) all[i] = i;
    return all;
  }
  return rng.choose(n, nSubsample).sort();
}

/**
 * Indices of the K nearest neighbours of point `seed` among `pts`, nearest first, the seed itself
 * excluded (`raw_data.py:683-718`: the KD-tree's first hit, the seed, is dropped). Distance is
 * Euclidean in (x, y); ties broken by the lower index. Brute force: n is at most a few thousand.
 */
export function nearestNeighbours(xs: Float64Array, ys: Float64Array, seed: number, K: number): Int32Array {
  const n = xs.length;
  if (K > n - 1) throw new DataError(`need at least ${K + 1} positions for ${K} neighbours, have ${n}`);
  const best = new Int32Array(K).fill(-1);
  const bestD = new Float64Array(K).fill(Infinity);
  const x0 = xs[seed];
  const y0 = ys[seed];
  for (let j = 0; j < n; j++) {
    if (j === seed) continue;
    const dx = xs[j] - x0;
    const dy = ys[j] - y0;
    const d = dx * dx + dy * dy;
    if (!(d < bestD[K - 1])) continue;
    let k = K - 1;
    while (k > 0 && d < bestD[k - 1]) {
      bestD[k] = bestD[k - 1];
      best[k] = best[k - 1];
      k--;
    }
    bestD[k] = d;
    best[k] = j;
  }
  return best;
}

/**
 * Group point indices into B groups of C channels (`raw_data.py:372-526`, `609-726`).
 * C = 1: the points themselves, in order, at most nGroups of them.
 * C > 1: nGroups seeds drawn without replacement (capped at the number of points), the K nearest
 * neighbours of each (seed excluded), C of those K chosen at random without replacement
 * (`raw_data.py:683-718`), as the reference draws them.
 *
 * DEVIATION (README, "Decisions"): the reference keeps the C members in their random draw order
 * (`raw_data.py:683-718`), so a channel's place in the group changes from group to group and the network,
 * which sees the diffraction channels but not the offsets, cannot tell which neighbour a channel is.
 * Here each group's channels are put in row-major order of their positions (y, then x; the index
 * breaks ties), the layout of the reference's grid-sampled benchmark. The members, the seeds, the
 * random stream and the physics (the merge sums over channels, the loss is per channel) are
 * unchanged. Measured on the standard demo's dense gridsize-2 job (README): after 20 epochs at filter
 * scale 1, batch 4, placed amplitude SSIM 0.332 -> 0.411 on the test positions and 0.329 -> 0.395 on
 * the training positions (random -> row-major). On the small demo (N = 32) the effect is mixed (README).
 * The neighbour search uses the plain (x, y) coordinates, as the reference's KD-tree does.
 */
export function groupIndices(
  xs: Float64Array,
  ys: Float64Array,
  C: number,
  nGroups: number,
  K: number,
  rng: Rng,
): { indices: Int32Array; seeds: Int32Array } {
  const n = xs.length;
  if (C === 1) {
    const B = Math.min(n, nGroups);
    const out = new Int32Array(B);
    for (let i = 0; i < B; i++) out[i] = i;
    return { indices: out, seeds: out.slice() };
  }
  if (K < C) throw new DataError(`neighbor_count K=${K} is smaller than the ${C} channels of a group`);
  if (n < K + 1) {
    throw new DataError(`gridsize ${Math.sqrt(C)} needs at least ${K + 1} positions (a seed and ${K} neighbours), the data have ${n}`);
  }
  const B = Math.min(n, nGroups);
  const seeds = rng.choose(n, B);
  const out = new Int32Array(B * C);
  for (let b = 0; b < B; b++) {
    const nn = nearestNeighbours(xs, ys, seeds[b], K);
    const pick = rng.choose(K, C);
    const members = Array.from(pick, (k) => nn[k]).sort((i, j) => ys[i] - ys[j] || xs[i] - xs[j] || i - j);
    out.set(members, b * C);
  }
  return { indices: out, seeds };
}

/** α = sqrt((N/2)² / mean_{b,c} Σ_{h,w} d²) over the grouped array (`raw_data.py:972-992`). */
export function normalisationFactor(diffraction: Float32Array, N: number, indices: Int32Array): number {
  const NN = N * N;
  let total = 0;
  for (let i = 0; i < indices.length; i++) {
    const base = indices[i] * NN;
    let s = 0;
    for (let k = 0; k < NN; k++) {
      const v = diffraction[base + k];
      s += v * v;
    }
    total += s;
  }
  const meanEnergy = total / indices.length;
  if (!(meanEnergy > 0) || !Number.isFinite(meanEnergy)) {
    throw new DataError(`the diffraction patterns have no energy to normalise (mean Σd² = ${meanEnergy})`);
  }
  return Math.sqrt(((N / 2) * (N / 2)) / meanEnergy);
}

/**
 * Per-group geometry (`raw_data.py:123, 528-606`): relative offsets r_c = −(p_c − p̄) from the START coordinates
 * (the model consumes coords_start_*, loader.py:464-467), flat (b·C + c)·2 + {0:x, 1:y}; and the
 * group centres p̄ from the plain coordinates (global offsets, used to stitch).
 */
export function groupGeometry(
  xs: Float64Array,
  ys: Float64Array,
  xs0: Float64Array,
  ys0: Float64Array,
  indices: Int32Array,
  C: number,
): { offsets: Float32Array; centres: Float64Array } {
  const B = indices.length / C;
  const offsets = new Float32Array(B * C * 2);
  const centres = new Float64Array(B * 2);
  for (let b = 0; b < B; b++) {
    let mx0 = 0, my0 = 0, mx = 0, my = 0;
    for (let c = 0; c < C; c++) {
      const i = indices[b * C + c];
      mx0 += xs0[i];
      my0 += ys0[i];
      mx += xs[i];
      my += ys[i];
    }
    mx0 /= C; my0 /= C; mx /= C; my /= C;
    for (let c = 0; c < C; c++) {
      const i = indices[b * C + c];
      offsets[(b * C + c) * 2] = -(xs0[i] - mx0); // local_offset_sign = −1 (`raw_data.py:123`)
      offsets[(b * C + c) * 2 + 1] = -(ys0[i] - my0);
    }
    centres[b * 2] = mx;
    centres[b * 2 + 1] = my;
  }
  return { offsets, centres };
}

export interface GroupOptions {
  gridsize: number;
  nGroups: number;
  neighborCount: number;
  seed: number;
  /** Use this α instead of computing one (e.g. to apply the training α elsewhere). Default: compute. */
  alpha?: number;
}

/**
 * Subsample, group and normalise a dataset. Seeded, so the same options give the same groups.
 * Subsampling keeps n_groups points (n_subsample defaults to n_groups, `components.py:398-426`).
 */
export function groupDataset(data: DiffractionData, opts: GroupOptions): GroupedData {
  const { N } = data;
  const C = opts.gridsize * opts.gridsize;
  const rng = new Rng(opts.seed);
  const sub = subsampleIndices(data.n, opts.nGroups, rng);
  const pick = (a: Float64Array) => Float64Array.from(sub, (i) => a[i]);
  const xs = pick(data.xcoords);
  const ys = pick(data.ycoords);
  const xs0 = pick(data.xcoordsStart);
  const ys0 = pick(data.ycoordsStart);
  const { indices: local, seeds } = groupIndices(xs, ys, C, opts.nGroups, opts.neighborCount, rng);
  const indices = Int32Array.from(local, (i) => sub[i]);
  const B = indices.length / C;
  const alpha = opts.alpha ?? normalisationFactor(data.diffraction, N, indices);

  const NN = N * N;
  const X = new Float32Array(B * NN * C);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const src = indices[b * C + c] * NN;
      const dst = b * NN * C + c;
      for (let k = 0; k < NN; k++) X[dst + k * C] = alpha * data.diffraction[src + k];
    }
  }

  const { offsets, centres } = groupGeometry(xs, ys, xs0, ys0, local, C);
  return { N, C, B, X, offsets, centres, indices, seeds: Int32Array.from(seeds, (i) => sub[i]), alpha };
}

/**
 * Keras validation_split: the last fraction of the arrays, in array order, before shuffling
 * (`model.py:681`): split_at = floor(n·(1 − fraction)).
 */
export function validationSplit(n: number, fraction: number): { train: number; val: number } {
  const train = Math.floor(n * (1.0 - fraction));
  return { train, val: n - train };
}

/** Keras validation_split of the reference's training call (`model.py:681`). */
export const VALIDATION_FRACTION = 0.05;

export interface TrainingBudget {
  /** Groups formed: min(n_groups, positions) (subsampleIndices / groupIndices). */
  groups: number;
  /** Groups left for training after the validation split. */
  trainGroups: number;
  stepsPerEpoch: number;
  /** Optimizer steps over all epochs (without early stopping). */
  steps: number;
}

/**
 * How much training a job gets before it starts, from the train file's position count and the
 * settings: the groups grouping forms, the training split, and the optimizer steps (trainPinn's
 * ceil(train / batch) per epoch). Shown beside each job so that a job too small to learn is visible.
 */
export function trainingBudget(positions: number, s: { groups: number; batchSize: number; epochs: number }): TrainingBudget {
  const groups = Math.min(positions, s.groups);
  const { train } = validationSplit(groups, VALIDATION_FRACTION);
  const stepsPerEpoch = train > 0 ? Math.ceil(train / s.batchSize) : 0;
  return { groups, trainGroups: train, stepsPerEpoch, steps: stepsPerEpoch * s.epochs };
}
