/**
 * Gridsize-2 reconstructions with object.big = True stitch each channel's object window at the
 * channel's own position (src/lib/model/infer.ts predictPatches; README "Decisions"). On a raster
 * spaced >= 0.3·N, as the study's dense view is, the K = 4 nearest neighbours of a seed (seed excluded,
 * `raw_data.py:683-718`) are the four around it, so no channel's N/2 decoder window reaches the group centre:
 * the reference's stitch of the trimmed object at p̄ then has a hole at every group centre.
 *
 * The network is replaced by an oracle: its decoder emits the true object patch of every channel
 * (zero outside the central N/2 window, as pad_object leaves it), so the stitched canvas must be the
 * true object wherever it is covered, and it must cover the scan.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { reconstruct, trimmedCoverage } from '../../../src/lib/model/infer';
import { groupGeometry, groupIndices, type GroupedData } from '../../../src/lib/model/data';
import type { PtychoPinn } from '../../../src/lib/model/pinn';
import { Rng } from '../../../src/lib/model/rng';
import { buildForwardOperators, canvasSize, defaultProbe, disposePhysicsCache, forwardIntensity, MERGE_NORM_EPS, normalizeProbe } from '../../../src/lib/physics';
import { extractPatch } from '../../../src/lib/sim/simulate';
import { sampleBilinear } from '../../../src/lib/model/metrics';

const N = 16;
const C = 4;
const STEP = 5; // >= 0.3·N = 4.8, the dense view's spacing
const L = 8;
const S = (L - 1) * STEP + N + 2;
const M = 6;

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => disposePhysicsCache());

/** A smooth, non-periodic test object (amplitude and phase vary), S x S. */
function trueObject() {
  const re = new Float64Array(S * S);
  const im = new Float64Array(S * S);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const a = 0.6 + 0.3 * Math.sin(0.19 * x + 0.07 * y) * Math.cos(0.13 * y - 0.05 * x);
      const p = 0.8 * Math.sin(0.09 * x - 0.15 * y);
      re[y * S + x] = a * Math.cos(p);
      im[y * S + x] = a * Math.sin(p);
    }
  }
  return { re, im, H: S, W: S };
}

/** Raster positions, K-NN groups of 4 and, as X, each channel's true patch cut to the decoder's N/2 window. */
function oracleGroups(obj: ReturnType<typeof trueObject>): { data: GroupedData; xIm: Float32Array } {
  const n = L * L;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let r = 0; r < L; r++) for (let c = 0; c < L; c++) { xs[r * L + c] = N / 2 + 1 + c * STEP; ys[r * L + c] = N / 2 + 1 + r * STEP; }
  const { indices, seeds } = groupIndices(xs, ys, C, n, 4, new Rng(3));
  const B = indices.length / C;
  const { offsets, centres } = groupGeometry(xs, ys, xs, ys, indices, C);
  const NN = N * N;
  const pRe = new Float64Array(NN);
  const pIm = new Float64Array(NN);
  const X = new Float32Array(B * NN * C);
  const xIm = new Float32Array(B * NN * C);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const i = indices[b * C + c];
      extractPatch(obj, xs[i], ys[i], N, pRe, pIm, 0);
      for (let q = 0; q < NN; q++) {
        const r = Math.floor(q / N);
        const k = q % N;
        const inside = r >= N / 4 && r < (3 * N) / 4 && k >= N / 4 && k < (3 * N) / 4;
        X[(b * NN + q) * C + c] = inside ? pRe[q] : 0;
        xIm[(b * NN + q) * C + c] = inside ? pIm[q] : 0;
      }
    }
  }
  return { data: { N, C, B, X, offsets, centres, indices, seeds, alpha: 1 }, xIm };
}

/** A PtychoPinn stand-in whose decoder emits the true patches (real part from the batch's X, imaginary part looked up). */
function oracleModel(data: GroupedData, xIm: Float32Array, objectBig: boolean): PtychoPinn {
  const P = canvasSize(N, 2);
  const pr = normalizeProbe(defaultProbe(N), 4);
  const probe = { re: tf.tensor2d(pr.re, [N, N]), im: tf.tensor2d(pr.im, [N, N]) };
  const row = N * N * C;
  let next = 0; // predictPatches walks the groups in order, in batches
  const fake = {
    settings: { N, C, objectBig },
    scale: 1,
    operators: (offsets: Float32Array, B: number) => buildForwardOperators(offsets, B, N, C, P),
    forward: (inputs: tf.Tensor4D, ops: ReturnType<typeof buildForwardOperators>, _training: boolean, opts?: { windows: true }) => {
      const b = inputs.shape[0];
      const im = tf.tensor4d(xIm.slice(next * row, (next + b) * row), [b, N, N, C]);
      next += b;
      const out = forwardIntensity(inputs, im, ops, probe, true, { windows: opts?.windows === true });
      im.dispose();
      return out;
    },
  };
  return fake as unknown as PtychoPinn;
}

describe('object.big gridsize-2 stitch: channel windows at their own positions', () => {
  it('groups on a 0.3·N raster surround their seed, leaving the group centre outside every channel window', () => {
    const { data } = oracleGroups(trueObject());
    const P = canvasSize(N, 2);
    const ops = buildForwardOperators(data.offsets, data.B, N, C, P);
    let holes = 0;
    for (let b = 0; b < data.B; b++) {
      const count = ops.normData[b * P * P + (P / 2) * P + P / 2] - MERGE_NORM_EPS; // merged window count at p̄
      if (count < 0.5) holes++;
    }
    ops.dispose();
    // every group whose seed has four raster neighbours: (L − 2)² interior seeds
    expect(holes).toBeGreaterThanOrEqual((L - 2) * (L - 2));
  });

  it('reconstructs the true object over the whole scan from an oracle decoder', async () => {
    const obj = trueObject();
    const { data, xIm } = oracleGroups(obj);
    const rec = await reconstruct(oracleModel(data, xIm, true), data, { batchSize: 8, M });
    expect(rec.patches.perChannel).toBe(true);
    expect(rec.patches.B).toBe(data.B * C);
    expect(rec.groupCentres).toBe(data.centres);
    const st = rec.stitched;
    // every covered pixel is the true object there: the canvas sits at sub-pixel object coordinates
    // (origin x̄ − d − M/2), so the truth is sampled there bilinearly (the border row, which crops
    // reach only by their interpolation weights, is left out); a placement one pixel off is several
    // times worse than the interpolation error
    const sample = (dx: number, dy = dx) => {
      const re = sampleBilinear({ values: obj.re, H: S, W: S }, st.originX + dx, st.originY + dy, st.width, st.height).values;
      const im = sampleBilinear({ values: obj.im, H: S, W: S }, st.originX + dx, st.originY + dy, st.width, st.height).values;
      let worst = 0;
      for (let i = 1; i < st.height - 1; i++) {
        for (let j = 1; j < st.width - 1; j++) {
          const k = i * st.width + j;
          if (st.weight[k] > 0) worst = Math.max(worst, Math.hypot(st.re[k] - re[k], st.im[k] - im[k]));
        }
      }
      return worst;
    };
    const worst = sample(0);
    expect(worst).toBeLessThan(0.03); // measured 0.022
    expect(sample(1)).toBeGreaterThan(3 * worst); // measured 0.089
    const covered = st.weight.reduce((n, w) => n + (w > 0 ? 1 : 0), 0);
    for (let r = 0; r < L; r++) {
      for (let c = 0; c < L; c++) {
        const i = Math.round(N / 2 + 1 + r * STEP - st.originY);
        const j = Math.round(N / 2 + 1 + c * STEP - st.originX);
        expect(st.weight[i * st.width + j]).toBeGreaterThan(0);
      }
    }
    // the crops of the raster tile the scan: about (L − 1)·STEP + M pixels on a side
    expect(covered).toBeGreaterThanOrEqual(((L - 1) * STEP + M - 1) ** 2);
  });

  it('the reference stitch of the trimmed object at p̄ loses the group centres (why the channels are stitched)', () => {
    const { data } = oracleGroups(trueObject());
    // the coverage the reference's per-group output would be stitched with: trimmed object at p̄
    const ops = buildForwardOperators(data.offsets, data.B, N, C, canvasSize(N, 2));
    const mask = trimmedCoverage(ops);
    ops.dispose();
    const NN = N * N;
    // central M x M crop of an interior group: pixels with no reconstruction
    let lost = 0;
    for (let b = 0; b < data.B; b++) {
      for (let i = N / 2 - M / 2; i < N / 2 + M / 2; i++) for (let j = N / 2 - M / 2; j < N / 2 + M / 2; j++) if (!mask[b * NN + i * N + j]) lost++;
    }
    expect(lost).toBeGreaterThan(0);
    expect(lost / (data.B * M * M)).toBeGreaterThan(0.05);
  });
});
