/**
 * Inference on the test split and stitching (`tf_helper.py:1190-1277`): per-group prediction from
 * [s·X, coords_relative] of the trimmed object (or, with object.big at gridsize > 1, of every channel's
 * object window: predictPatches), then the physics' stitchPatches (central M = 20 crop, translate by
 * +(p − mean), complex average) into amplitude and phase. Output NPZ via writeNpz.
 */
import * as tf from '@tensorflow/tfjs';
import { stitchPatches, extractWindowsFlat, DEFAULT_STITCH_M, MERGE_NORM_EPS, type ForwardOperators, type StitchResult } from '../physics';
import { writeNpz } from '../ingest';
import type { NdArray } from '../ingest/types';
import type { GroupedData } from './data';
import type { PtychoPinn } from './pinn';
import { makeBatch } from './train';

export interface TrimmedPatches {
  /** Number of patches: the groups B, or B·C channel windows (see `perChannel`). */
  B: number;
  N: number;
  /** B·N·N, one object patch each (re and im) */
  re: Float32Array;
  im: Float32Array;
  /**
   * B·N·N, 1 where at least half a channel window of the merge reaches the pixel (merged window count
   * >= 0.5), 0 elsewhere: there the model's value is the border branch divided by the 0.001 floor of
   * the merge normaliser (`tf_helper.py:1092-1101`), an artefact, not a reconstruction.
   */
  covered: Uint8Array;
  /** Object position (x, y) of each patch's centre: the group centre p̄, or the channel's p̄ − r_c. */
  centres: Float64Array;
  /**
   * false: the trimmed object per group, centred on p̄ (`tf_helper.py:604-620`, the reference's inference
   * output). true (object.big at gridsize > 1): the object window each channel illuminates, centred on
   * the channel's own position (`tf_helper.py:623-658`); see {@link predictPatches}.
   */
  perChannel: boolean;
}

/** Merged window count below which a trimmed pixel counts as not reconstructed (see TrimmedPatches.covered). */
export const MIN_WINDOW_COUNT = 0.5;
/**
 * The same for a channel window (object.big, gridsize > 1), stricter: every interpolation tap of a
 * window pixel must fall on a canvas pixel whose merged window count is >= this. At a sub-pixel offset
 * the extract's bilinear taps otherwise mix in canvas pixels at a window's edge, which carry the
 * decoder's border branch over a count near 0 (+ the 0.001 floor of the normaliser, up to x1000) or
 * an attenuated value. A channel's central crop lies inside its own decoded window, so this costs no
 * coverage.
 */
export const FULL_WINDOW_COUNT = 0.999;

/** TrimmedPatches.covered for the trimmed objects of the groups in `ops` (B·N·N): merged window count >= MIN_WINDOW_COUNT. */
export function trimmedCoverage(ops: ForwardOperators): Uint8Array {
  const { B, N, P } = ops;
  const pad = (P - N) / 2;
  const out = new Uint8Array(B * N * N);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        const count = ops.normData[b * P * P + (i + pad) * P + (j + pad)] - MERGE_NORM_EPS;
        out[(b * N + i) * N + j] = count >= MIN_WINDOW_COUNT ? 1 : 0;
      }
    }
  }
  return out;
}

/**
 * Predict the object patches to stitch, in batches.
 *
 * object.big = False, or gridsize 1: the trimmed object (B,N,N,1) of every group (`tf_helper.py:604-620`),
 * as the reference stitches it; with object.big = False it is the decoder's patch itself.
 *
 * object.big = True at gridsize > 1: every channel's object window (B·C patches), centred on the
 * channel's position p̄ − r_c. DEVIATION from the reference (README, "Decisions"): its trimmed object
 * is the merge of the C decoded patches cropped at the group centre p̄, and on a scan whose
 * neighbours are >= 0.3·N apart (the study's dense view) the K nearest neighbours of a seed surround
 * it, so no channel's N/2 window reaches p̄: the stitch's central crop then holds the merge floor's
 * artefact, a hole at every group centre. Each channel window is centred on that channel's own decoded
 * patch, the object the loss fitted to its diffraction pattern, so its central crop is covered.
 */
export async function predictPatches(model: PtychoPinn, data: GroupedData, batchSize: number, signal?: AbortSignal): Promise<TrimmedPatches> {
  const { N, B, C } = data;
  const NN = N * N;
  const perChannel = model.settings.objectBig && C > 1;
  const K = perChannel ? C : 1;
  const re = new Float32Array(B * K * NN);
  const im = new Float32Array(B * K * NN);
  const covered = new Uint8Array(B * K * NN);
  const centres = new Float64Array(B * K * 2);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < K; c++) {
      const k = b * K + c;
      centres[2 * k] = data.centres[2 * b] - (perChannel ? data.offsets[(b * C + c) * 2] : 0);
      centres[2 * k + 1] = data.centres[2 * b + 1] - (perChannel ? data.offsets[(b * C + c) * 2 + 1] : 0);
    }
  }
  for (let start = 0; start < B; start += batchSize) {
    if (signal?.aborted) throw Object.assign(new Error('inference cancelled'), { name: 'AbortError' });
    const idx = Int32Array.from({ length: Math.min(batchSize, B - start) }, (_, i) => start + i);
    const { inputs, offsets } = makeBatch(data, idx, model.scale);
    const ops = model.operators(offsets, idx.length);
    const at = start * K * NN;
    try {
      if (perChannel) {
        const out = model.forward(inputs, ops, false, { windows: true });
        // the share of each window pixel's interpolation taps that fall on fully covered canvas pixels
        // fully covered canvas pixels from the merged window count (normData: count + 0.001, before
        // the normaliser's floor), built here rather than with every training step's operators
        const full = tf.tensor3d(Float32Array.from(ops.normData, (v) => (v - MERGE_NORM_EPS >= FULL_WINDOW_COUNT ? 1 : 0)), [ops.B, ops.P, ops.P]);
        const count = tf.tidy(() => extractWindowsFlat(full, ops));
        full.dispose();
        const [r, i, n] = await Promise.all([out.windowsRe.data(), out.windowsIm.data(), count.data()]);
        tf.dispose([out.intensity, out.trimmedRe, out.trimmedIm, out.windowsRe, out.windowsIm, count]);
        re.set(r as Float32Array, at);
        im.set(i as Float32Array, at);
        for (let q = 0; q < n.length; q++) covered[at + q] = n[q] >= FULL_WINDOW_COUNT ? 1 : 0;
        continue;
      }
      // object.big = False: the trimmed object is the decoder's patch itself, no merge normaliser
      if (!model.settings.objectBig) covered.fill(1, at, at + idx.length * NN);
      else covered.set(trimmedCoverage(ops), at);
      const out = model.forward(inputs, ops, false);
      const [r, i] = await Promise.all([out.trimmedRe.data(), out.trimmedIm.data()]);
      tf.dispose([out.intensity, out.trimmedRe, out.trimmedIm]);
      re.set(r as Float32Array, at);
      im.set(i as Float32Array, at);
    } finally {
      ops.dispose();
      inputs.dispose();
    }
  }
  return { B: B * K, N, re, im, covered, centres, perChannel };
}

/**
 * The stitch crop M for patch size N: the reference's 20 (`components.py:792`) for N >= 64; below, scaled
 * with N (10 at N = 32), so the crop stays inside the lit part of the probe as 20 does at N = 64
 * (N/2 = 16 at N = 32 reached the unlit rim: Pearson r 0.17 against 0.45 at M = 8 in the audit).
 */
export function stitchCrop(N: number): number {
  if (N >= 64) return DEFAULT_STITCH_M;
  return Math.max(2, 2 * Math.round((DEFAULT_STITCH_M * N) / 64 / 2));
}

export interface Reconstruction {
  patches: TrimmedPatches;
  stitched: StitchResult;
  /** Centres (x, y) of the stitched patches (TrimmedPatches.centres): the group centres p̄, or the channel positions. */
  centres: Float64Array;
  /** Group centres p̄ (x, y). */
  groupCentres: Float64Array;
  M: number;
}

export async function reconstruct(model: PtychoPinn, data: GroupedData, opts: { batchSize: number; M?: number; signal?: AbortSignal }): Promise<Reconstruction> {
  // M = 20 on the CLI path (`components.py:792`), scaled down for the N = 32 extension. For gridsize 1
  // the crop then lies inside the central window; for gridsize 2 a group's crop can still reach
  // pixels that no channel window covers, so those are masked out of the stitch (TrimmedPatches.covered)
  // instead of carrying the merge normaliser's ×1000 artefact onto the canvas.
  const N = model.settings.N;
  const M = opts.M ?? stitchCrop(N);
  const patches = await predictPatches(model, data, opts.batchSize, opts.signal);
  const stitched = stitchPatches(patches.re, patches.im, patches.B, patches.N, patches.centres, M, patches.covered);
  return { patches, stitched, centres: patches.centres, groupCentres: data.centres, M };
}

/**
 * reconstruction.npz: amplitude (H,W) float32, phase (H,W) float32, object (H,W) complex64,
 * origin_xy (2,) float64 = object coordinates of pixel (0,0), group_centres (B,2) float64,
 * patch_centres (K,2) float64 = the centres of the K stitched patches (the group centres, or with
 * object.big at gridsize > 1 the B·C channel positions),
 * probe (N,N) complex64 (the normalised probe the model used), covered (H,W) uint8 (1 where a test
 * crop reconstructs the pixel; 0 = not scanned, where amplitude, phase and object are 0), metadata: a
 * JSON string.
 */
export function reconstructionNpz(rec: Reconstruction, probe: { re: Float32Array; im: Float32Array }, N: number, metadata: Record<string, unknown>): Uint8Array {
  const { stitched: s } = rec;
  const obj = new Float32Array(2 * s.width * s.height);
  for (let k = 0; k < s.width * s.height; k++) {
    obj[2 * k] = s.re[k];
    obj[2 * k + 1] = s.im[k];
  }
  const pr = new Float32Array(2 * N * N);
  for (let k = 0; k < N * N; k++) {
    pr[2 * k] = probe.re[k];
    pr[2 * k + 1] = probe.im[k];
  }
  const arrays: Record<string, NdArray> = {
    amplitude: { dtype: 'float32', shape: [s.height, s.width], data: s.amplitude },
    phase: { dtype: 'float32', shape: [s.height, s.width], data: s.phase },
    object: { dtype: 'complex64', shape: [s.height, s.width], data: obj },
    origin_xy: { dtype: 'float64', shape: [2], data: Float64Array.from([s.originX, s.originY]) },
    group_centres: { dtype: 'float64', shape: [rec.groupCentres.length / 2, 2], data: Float64Array.from(rec.groupCentres) },
    patch_centres: { dtype: 'float64', shape: [rec.centres.length / 2, 2], data: Float64Array.from(rec.centres) },
    probe: { dtype: 'complex64', shape: [N, N], data: pr },
    covered: { dtype: 'uint8', shape: [s.height, s.width], data: Uint8Array.from(s.weight, (w) => (w > 0 ? 1 : 0)) },
    metadata: { dtype: 'str', shape: [], data: [JSON.stringify({ ...metadata, stitch_M: rec.M, stitch_pad: s.pad })] },
  };
  return writeNpz(arrays, { compress: true });
}
