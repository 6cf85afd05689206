/**
 * Stitching of per-group reconstructions into one image (`tf_helper.py:1190-1277`), CPU, inference only.
 *
 * 1. crop the central M x M of each patch (rows/cols N/2 − M/2 ... N/2 + M/2 − 1);
 * 2. offsets = group centres − their mean;
 * 3. d = ⌈max |offset|⌉ over both axes, rounded up to even;
 * 4./5. zero-pad each crop by d and translate it by +offset (bilinear, zero fill, `projective_warp_xla.py:242-317`);
 * 6./7. sum the complex crops and divide by the same operation applied to ones, + 1e-9;
 * 8. amplitude |canvas| and phase arg(canvas) (complex values are averaged).
 * Canvas pixel (r, c) lies at object position (ȳ + r − d − M/2, x̄ + c − d − M/2).
 */
import { shiftTaps } from './translate';

/** Stitch crop size on the CLI path (`components.py:792`: M = 20). */
export const DEFAULT_STITCH_M = 20;

export interface StitchResult {
  width: number;
  height: number;
  /** row-major height x width */
  re: Float32Array;
  im: Float32Array;
  amplitude: Float32Array;
  phase: Float32Array;
  /** Object coordinates (x, y) of canvas pixel (0, 0): x̄ − d − M/2, ȳ − d − M/2. */
  originX: number;
  originY: number;
  /** the pad d of step 3 */
  pad: number;
  /** The normaliser before the 1e-9 (step 7): the summed interpolation weight; 0 where no crop reaches. */
  weight: Float32Array;
}

/**
 * @param patchesRe, patchesIm B x N x N row-major (the trimmed object per group)
 * @param centres B x 2 group centres p̄ as (x, y)
 * @param patchMask optional B x N x N: 0 marks a patch pixel that carries no reconstruction (no channel
 *   window of the gridsize-2 merge reached it, so the model's value there is the merge normaliser's
 *   ×1000 artefact, `tf_helper.py:920-1055, 1104-1128`). Masked pixels add neither value nor weight: canvas pixels that
 *   only they reach end with weight 0 (not covered) instead of an amplified value.
 */
export function stitchPatches(
  patchesRe: Float32Array,
  patchesIm: Float32Array,
  B: number,
  N: number,
  centres: Float64Array,
  M = DEFAULT_STITCH_M,
  patchMask?: Uint8Array,
): StitchResult {
  if (patchesRe.length !== B * N * N || patchesIm.length !== B * N * N) throw new Error(`stitchPatches: expected ${B}·${N}·${N} values per part`);
  if (centres.length !== 2 * B) throw new Error(`stitchPatches: centres must hold ${2 * B} values (x, y per group)`);
  if (M > N || M % 2 !== 0 || N % 2 !== 0) throw new Error(`stitchPatches: need even M <= N, got M=${M}, N=${N}`);
  if (B === 0) throw new Error('stitchPatches: no patches');
  if (patchMask && patchMask.length !== B * N * N) throw new Error(`stitchPatches: the mask must hold ${B}·${N}·${N} values`);
  let mx = 0;
  let my = 0;
  for (let b = 0; b < B; b++) {
    mx += centres[2 * b];
    my += centres[2 * b + 1];
  }
  mx /= B;
  my /= B;
  let maxAbs = 0;
  for (let b = 0; b < B; b++) maxAbs = Math.max(maxAbs, Math.abs(centres[2 * b] - mx), Math.abs(centres[2 * b + 1] - my));
  let d = Math.ceil(maxAbs);
  if (d % 2 !== 0) d += 1; // rounded up to even (`tf_helper.py:1190-1277`)
  const S = M + 2 * d;
  const accRe = new Float64Array(S * S);
  const accIm = new Float64Array(S * S);
  const cnt = new Float64Array(S * S);
  const c0 = N / 2 - M / 2; // crop start (`tf_helper.py:1190-1277`)
  for (let b = 0; b < B; b++) {
    const tx = centres[2 * b] - mx;
    const ty = centres[2 * b + 1] - my;
    const base = b * N * N;
    // Only outputs within reach of the crop have non-zero taps: source index s = i − d − t ∈ (−1, M).
    const rLo = Math.max(0, Math.floor(d + ty) - 1);
    const rHi = Math.min(S - 1, Math.ceil(d + ty + M) + 1);
    const cLo = Math.max(0, Math.floor(d + tx) - 1);
    const cHi = Math.min(S - 1, Math.ceil(d + tx + M) + 1);
    const colTaps: Array<Array<[number, number]>> = [];
    for (let c = cLo; c <= cHi; c++) colTaps.push(shiftTaps(c, M, tx, d));
    for (let r = rLo; r <= rHi; r++) {
      const rt = shiftTaps(r, M, ty, d);
      if (rt.length === 0) continue;
      for (let c = cLo; c <= cHi; c++) {
        const ct = colTaps[c - cLo];
        if (ct.length === 0) continue;
        let sr = 0;
        let si = 0;
        let sw = 0;
        for (const [pr, wr] of rt) {
          for (const [pc, wc] of ct) {
            const idx = base + (pr + c0) * N + (pc + c0);
            const w = patchMask && patchMask[idx] === 0 ? 0 : wr * wc;
            sr += w * patchesRe[idx];
            si += w * patchesIm[idx];
            sw += w;
          }
        }
        const o = r * S + c;
        accRe[o] += sr;
        accIm[o] += si;
        cnt[o] += sw;
      }
    }
  }
  const re = new Float32Array(S * S);
  const im = new Float32Array(S * S);
  const amplitude = new Float32Array(S * S);
  const phase = new Float32Array(S * S);
  for (let i = 0; i < S * S; i++) {
    const den = cnt[i] + 1e-9; // + 1e-9, `tf_helper.py:1190-1277`
    const a = accRe[i] / den;
    const bb = accIm[i] / den;
    re[i] = a;
    im[i] = bb;
    amplitude[i] = Math.hypot(a, bb);
    phase[i] = Math.atan2(bb, a);
  }
  return {
    width: S, height: S, re, im, amplitude, phase, originX: mx - d - M / 2, originY: my - d - M / 2, pad: d,
    weight: Float32Array.from(cnt),
  };
}
