/**
 * Inference on the test split and stitching (model spec 4.6): per-group prediction of the trimmed
 * object from [s·X, coords_relative], then the physics' stitchPatches (central M = 20 crop,
 * translate by +(p̄ − mean), complex average) into amplitude and phase. Output NPZ via writeNpz.
 */
import * as tf from '@tensorflow/tfjs';
import { stitchPatches, DEFAULT_STITCH_M, type StitchResult } from '../physics';
import { writeNpz } from '../ingest';
import type { NdArray } from '../ingest/types';
import type { GroupedData } from './data';
import type { PtychoPinn } from './pinn';
import { makeBatch } from './train';

export interface TrimmedPatches {
  B: number;
  N: number;
  /** B·N·N, the trimmed object per group (model spec 2.5), re and im */
  re: Float32Array;
  im: Float32Array;
}

/** Predict the trimmed object (B,N,N,1) for every group, in batches. */
export async function predictTrimmed(model: PtychoPinn, data: GroupedData, batchSize: number, signal?: AbortSignal): Promise<TrimmedPatches> {
  const { N, B } = data;
  const NN = N * N;
  const re = new Float32Array(B * NN);
  const im = new Float32Array(B * NN);
  for (let start = 0; start < B; start += batchSize) {
    if (signal?.aborted) throw Object.assign(new Error('inference cancelled'), { name: 'AbortError' });
    const idx = Int32Array.from({ length: Math.min(batchSize, B - start) }, (_, i) => start + i);
    const { inputs, offsets } = makeBatch(data, idx, model.scale);
    const ops = model.operators(offsets, idx.length);
    try {
      const out = model.forward(inputs, ops, false);
      const [r, i] = await Promise.all([out.trimmedRe.data(), out.trimmedIm.data()]);
      tf.dispose([out.intensity, out.trimmedRe, out.trimmedIm]);
      re.set(r as Float32Array, start * NN);
      im.set(i as Float32Array, start * NN);
    } finally {
      ops.dispose();
      inputs.dispose();
    }
  }
  return { B, N, re, im };
}

export interface Reconstruction {
  patches: TrimmedPatches;
  stitched: StitchResult;
  /** Group centres p̄ (x, y) used for the stitch. */
  centres: Float64Array;
  M: number;
}

export async function reconstruct(model: PtychoPinn, data: GroupedData, opts: { batchSize: number; M?: number; signal?: AbortSignal }): Promise<Reconstruction> {
  // M = 20 on the CLI path (model spec 4.6), which lies inside the central N/2 window for N >= 64.
  // For the N = 32 extension the crop is capped at N/2 so it never reaches the border-branch
  // content that the merge normaliser amplifies ×1000 (model spec 2.4).
  const N = model.settings.N;
  const M = opts.M ?? Math.min(DEFAULT_STITCH_M, N / 2);
  const patches = await predictTrimmed(model, data, opts.batchSize, opts.signal);
  const stitched = stitchPatches(patches.re, patches.im, patches.B, patches.N, data.centres, M);
  return { patches, stitched, centres: data.centres, M };
}

/**
 * reconstruction.npz: amplitude (H,W) float32, phase (H,W) float32, object (H,W) complex64,
 * origin_xy (2,) float64 = object coordinates of pixel (0,0), group_centres (B,2) float64,
 * probe (N,N) complex64 (the normalised probe the model used), metadata: a JSON string.
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
    group_centres: { dtype: 'float64', shape: [rec.centres.length / 2, 2], data: Float64Array.from(rec.centres) },
    probe: { dtype: 'complex64', shape: [N, N], data: pr },
    metadata: { dtype: 'str', shape: [], data: [JSON.stringify({ ...metadata, stitch_M: rec.M, stitch_pad: s.pad })] },
  };
  return writeNpz(arrays, { compress: true });
}
