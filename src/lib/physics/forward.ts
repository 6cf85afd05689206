/**
 * The forward physics chain of the generator (`model.py:758-828`), in real arithmetic:
 * merge a group's C patches onto a P x P canvas, trim, extract the C windows again, illuminate
 * with the (normalised) probe, and compute the far-field intensity.
 *
 * DELIBERATE DEVIATION (a), docs/decisions.md; the reference's batched branch is `tf_helper.py:966-1055`: the merge is always PER
 * SAMPLE. The reference's ReassemblePatchesLayer switches to a "batched" branch when B·C >= 64
 * (gridsize 2, batch 16) that sums the patches of all samples onto ONE canvas and extracts only the
 * first C offsets; that is an evident bug, and this port never takes it.
 *
 * All data-dependent operators (translations, crops, pads, the normaliser) are constant tensors built
 * on the CPU from the offsets, so gradients only flow through matMul / mul / div / add / reshape /
 * transpose / slice / sum, all of which have tfjs gradients.
 */
import * as tf from '@tensorflow/tfjs';
import { shiftTaps } from './translate';
import { farFieldIntensity } from './dft';
import { illuminate } from './complex';

/** Normaliser floor added to the merged central-window count (`tf_helper.py:1092-1101`). */
export const MERGE_NORM_EPS = 0.001;

/**
 * DELIBERATE DEVIATION (c): the merge normaliser is at least 1. The reference divides by the merged
 * central-window count + 0.001 (`tf_helper.py:1092-1101`), so where no central
 * window reaches, the border branch's content (probe.big) is multiplied by ~1000 (`tf_helper.py:1092-1101`;
 * docs/decisions.md (c)). With the default disk probe that content meets a probe of 1e-9 and does not matter; with a
 * probe wider than the central N/2 window (the demo study's, overlapping as real scans do) the
 * border branch must put out ~1/1000 of its natural scale through a saturating activation and the
 * job learns far more slowly (docs/decisions/2026-12-06-demo-study.md). Inside the windows (count
 * >= 1) nothing changes.
 */
export const MERGE_NORM_FLOOR = 1;

export interface ForwardOperators {
  readonly B: number;
  readonly N: number;
  readonly C: number;
  readonly P: number;
  /**
   * True when C = 1 and every re-centred offset is 0: the merge -> trim -> extract chain is then
   * exactly O ⊙ W with W = 1/max(window + 0.001, floor) (`tf_helper.py:1092-1101, 1104-1128`), done elementwise.
   */
  readonly identityGeometry: boolean;
  /** Merge matrices along rows / columns, [B·C, P, N] (pad by (P−N)/2, translate by −r̃_c). Null on the identity path. */
  readonly mergeY: tf.Tensor3D | null;
  readonly mergeX: tf.Tensor3D | null;
  /** Normaliser: max(merged central-window indicator + 0.001, floor), [B, P, P]. */
  readonly norm: tf.Tensor3D;
  /** Normaliser restricted to the trimmed N x N centre, [B, N, N, 1] (used by the identity path). */
  readonly normTrim: tf.Tensor4D;
  /** Extract matrices along rows, grouped per sample: [B, C·N, P] (translate by +r_c, centre-crop). Null on the identity path. */
  readonly extractY: tf.Tensor3D | null;
  /** Extract matrices along columns: [B·C, N, P]. Null on the identity path. */
  readonly extractX: tf.Tensor3D | null;
  /** Merged central-window count + 0.001 as float64 numbers, [B, P, P], before the floor (the reference's normaliser; inspection and coverage). */
  readonly normData: Float64Array;
  dispose(): void;
}

export interface BuildForwardOptions {
  /** Build the full matrix path even where the identity shortcut applies (tests compare the two). */
  forceGeneral?: boolean;
  /** Normaliser floor (default MERGE_NORM_FLOOR); 0 gives the reference's merge exactly (tests against its numpy port). */
  normFloor?: number;
}

function fillShift(dst: Float32Array, base: number, nOut: number, nIn: number, t: number, padBefore: number): void {
  for (let i = 0; i < nOut; i++) {
    for (const [j, w] of shiftTaps(i, nIn, t, padBefore)) dst[base + i * nIn + j] += w;
  }
}

/**
 * Build the constant operators of the forward chain for one batch.
 * @param offsets relative offsets r_c = −(p_c − p̄) (`raw_data.py:123, 528-606`), flat index (b·C + c)·2 + {0: x, 1: y}
 * @param P canvas size, see canvasSize()
 */
export function buildForwardOperators(
  offsets: Float32Array,
  B: number,
  N: number,
  C: number,
  P: number,
  options: BuildForwardOptions = {},
): ForwardOperators {
  if (offsets.length !== B * C * 2) throw new Error(`buildForwardOperators: offsets has ${offsets.length} values, expected B·C·2 = ${B * C * 2}`);
  if ((P - N) % 2 !== 0 || P < N + 2) throw new Error(`buildForwardOperators: P − N must be even and >= 2 (the reference's trim breaks at 0: tf_helper.py:604-620), got P=${P}, N=${N}`);
  const BC = B * C;
  const pad = (P - N) / 2; // `tf_helper.py:592-597`; `tf_helper.py:604-620`
  const q0 = N / 4; // central window [N/4, 3N/4) (`tf_helper.py:1092-1101`)
  const q1 = (3 * N) / 4;
  const floor = options.normFloor ?? MERGE_NORM_FLOOR;

  // Re-centre: subtract the mean over all B·C rows (`tf_helper.py:874-880`; a no-op for grouped data).
  let mx = 0;
  let my = 0;
  for (let k = 0; k < BC; k++) {
    mx += offsets[2 * k];
    my += offsets[2 * k + 1];
  }
  mx /= BC;
  my /= BC;
  const rtx = new Float64Array(BC);
  const rty = new Float64Array(BC);
  let allZero = true;
  for (let k = 0; k < BC; k++) {
    rtx[k] = offsets[2 * k] - mx;
    rty[k] = offsets[2 * k + 1] - my;
    if (rtx[k] !== 0 || rty[k] !== 0 || offsets[2 * k] !== 0 || offsets[2 * k + 1] !== 0) allZero = false;
  }
  const identityGeometry = C === 1 && allZero && !options.forceGeneral;

  // Normaliser in float64: Σ_c R_y,c · Win · R_x,cᵀ + 0.001. The window is separable (1-D indicator u),
  // so each term is the outer product (R_y,c u) (R_x,c u)ᵀ.
  const normData = new Float64Array(B * P * P);
  const colY = new Float64Array(P);
  const colX = new Float64Array(P);
  for (let b = 0; b < B; b++) {
    const base = b * P * P;
    for (let c = 0; c < C; c++) {
      const k = b * C + c;
      for (let i = 0; i < P; i++) {
        let sy = 0;
        for (const [j, w] of shiftTaps(i, N, -rty[k], pad)) if (j >= q0 && j < q1) sy += w;
        let sx = 0;
        for (const [j, w] of shiftTaps(i, N, -rtx[k], pad)) if (j >= q0 && j < q1) sx += w;
        colY[i] = sy;
        colX[i] = sx;
      }
      for (let i = 0; i < P; i++) {
        if (colY[i] === 0) continue;
        for (let j = 0; j < P; j++) normData[base + i * P + j] += colY[i] * colX[j];
      }
    }
    for (let i = 0; i < P * P; i++) normData[base + i] += MERGE_NORM_EPS;
  }
  const normTrimData = new Float32Array(B * N * N);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) normTrimData[(b * N + i) * N + j] = Math.max(normData[b * P * P + (i + pad) * P + (j + pad)], floor);
    }
  }

  let mergeY: tf.Tensor3D | null = null;
  let mergeX: tf.Tensor3D | null = null;
  let extractY: tf.Tensor3D | null = null;
  let extractX: tf.Tensor3D | null = null;
  if (!identityGeometry) {
    const my_ = new Float32Array(BC * P * N);
    const mx_ = new Float32Array(BC * P * N);
    const ey = new Float32Array(BC * N * P); // laid out [B, C·N, P]: the same memory as [B·C, N, P]
    const ex = new Float32Array(BC * N * P);
    for (let k = 0; k < BC; k++) {
      // merge: pad by (P−N)/2 then translate by −r̃_c (`tf_helper.py:592-597, 1104-1128`)
      fillShift(my_, k * P * N, P, N, -rty[k], pad);
      fillShift(mx_, k * P * N, P, N, -rtx[k], pad);
      // extract: translate the canvas by +r_c (no re-centring), then centre-crop (`tf_helper.py:623-658`)
      fillShift(ey, k * N * P, N, P, offsets[2 * k + 1], -pad);
      fillShift(ex, k * N * P, N, P, offsets[2 * k], -pad);
    }
    mergeY = tf.tensor3d(my_, [BC, P, N]);
    mergeX = tf.tensor3d(mx_, [BC, P, N]);
    extractY = tf.tensor3d(ey, [B, C * N, P]);
    extractX = tf.tensor3d(ex, [BC, N, P]);
  }
  const norm = tf.tensor3d(Float32Array.from(normData, (v) => Math.max(v, floor)), [B, P, P]);
  const normTrim = tf.tensor4d(normTrimData, [B, N, N, 1]);
  let disposed = false;
  return {
    B, N, C, P, identityGeometry, mergeY, mergeX, norm, normTrim, extractY, extractX, normData,
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const t of [mergeY, mergeX, extractY, extractX, norm, normTrim]) t?.dispose();
    },
  };
}

/** [B,N,N,C] -> [B·C,N,N] in flatten order b·C + c (`tf_helper.py:439-448`). */
function channelsToFlat(x: tf.Tensor, B: number, N: number, C: number): tf.Tensor3D {
  if (C === 1) return x.reshape([B, N, N]);
  return x.transpose([0, 3, 1, 2]).reshape([B * C, N, N]);
}

/** [B·C,N,N] -> [B,N,N,C] (`tf_helper.py:414-428`: reshape to (B,C,N,N), transpose to (B,N,N,C)). */
function flatToChannels(x: tf.Tensor, B: number, N: number, C: number): tf.Tensor4D {
  if (C === 1) return x.reshape([B, N, N, 1]);
  return x.reshape([B, C, N, N]).transpose([0, 2, 3, 1]);
}

function checkObject(o: tf.Tensor, ops: ForwardOperators, what: string, channels = ops.C): void {
  const [b, h, w, c] = o.shape;
  if (o.rank !== 4 || b !== ops.B || h !== ops.N || w !== ops.N || c !== channels) {
    throw new Error(`${what}: expected [${ops.B},${ops.N},${ops.N},${channels}], got [${o.shape}]`);
  }
}

/**
 * Merge one real part: canvas_b = (Σ_c R_y,c · O_{b,c} · R_x,cᵀ) / norm_b, shape [B, P, P]
 * (`tf_helper.py:920-1055, 1104-1128`; per sample, deviation (a)). Apply to re and im separately.
 */
export function mergePatches(obj: tf.Tensor4D, ops: ForwardOperators): tf.Tensor3D {
  checkObject(obj, ops, 'mergePatches');
  const { B, N, C, P } = ops;
  return tf.tidy(() => {
    if (ops.identityGeometry) {
      const pad = (P - N) / 2;
      return tf.div(tf.pad(obj.reshape([B, N, N]), [[0, 0], [pad, pad], [pad, pad]]), ops.norm) as tf.Tensor3D;
    }
    const flat = channelsToFlat(obj, B, N, C);
    const t1 = tf.matMul(ops.mergeY!, flat); // [BC, P, N]
    const t2 = tf.matMul(t1, ops.mergeX!, false, true); // [BC, P, P]
    const summed = C === 1 ? t2 : t2.reshape([B, C, P, P]).sum(1);
    return tf.div(summed, ops.norm) as tf.Tensor3D;
  });
}

/** Centre N x N crop of the canvas, [B, N, N, 1] (`tf_helper.py:604-620`, `trimmed_obj`). */
export function trimCanvas(canvas: tf.Tensor3D, ops: ForwardOperators): tf.Tensor4D {
  const { B, N, P } = ops;
  const pad = (P - N) / 2;
  return tf.tidy(() => tf.slice(canvas, [0, pad, pad], [B, N, N]).reshape([B, N, N, 1]));
}

/** Extract C windows per sample: translate by +r_c and centre-crop (`tf_helper.py:623-658`). Out [B·C, N, N], flat order b·C + c. */
export function extractWindowsFlat(canvas: tf.Tensor3D, ops: ForwardOperators): tf.Tensor3D {
  const { B, N, C, P } = ops;
  return tf.tidy(() => {
    if (ops.identityGeometry) {
      const pad = (P - N) / 2;
      return tf.slice(canvas, [0, pad, pad], [B, N, N]);
    }
    const rows = tf.matMul(ops.extractY!, canvas).reshape([B * C, N, P]); // E_y,c · canvas_b for every c at once
    return tf.matMul(rows, ops.extractX!, false, true); // · E_x,cᵀ
  });
}

/** {@link extractWindowsFlat} reshaped to channels, [B, N, N, C]. */
export function extractWindows(canvas: tf.Tensor3D, ops: ForwardOperators): tf.Tensor4D {
  return tf.tidy(() => flatToChannels(extractWindowsFlat(canvas, ops), ops.B, ops.N, ops.C));
}

/**
 * Decoder objects [B,N,N,C] (re, im) -> predicted far-field intensity [B,N,N,C] and the trimmed
 * object [B,N,N,1] (`model.py:758-828`); with `windows`, also the object window each channel
 * illuminates [B·C,N,N] (`tf_helper.py:623-658`, flat order b·C + c). The intensity is NOT multiplied by e^{2λ} yet.
 * `probe` is the normalised probe P̂ (`probe.py:52-66`), [N,N].
 */
export function forwardIntensity(
  objRe: tf.Tensor4D,
  objIm: tf.Tensor4D,
  ops: ForwardOperators,
  probe: { re: tf.Tensor2D; im: tf.Tensor2D },
  objectBig = true,
  opts: { windows?: boolean } = {},
): { intensity: tf.Tensor4D; trimmedRe: tf.Tensor4D; trimmedIm: tf.Tensor4D; windowsRe?: tf.Tensor3D; windowsIm?: tf.Tensor3D } {
  checkObject(objRe, ops, 'forwardIntensity(objRe)', objectBig ? ops.C : 1);
  checkObject(objIm, ops, 'forwardIntensity(objIm)', objectBig ? ops.C : 1);
  const { B, N, C, P } = ops;
  if (probe.re.shape[0] !== N || probe.re.shape[1] !== N) throw new Error(`forwardIntensity: probe must be [${N},${N}], got [${probe.re.shape}]`);
  return tf.tidy(() => {
    let trimmedRe: tf.Tensor4D;
    let trimmedIm: tf.Tensor4D;
    let winRe: tf.Tensor3D;
    let winIm: tf.Tensor3D;
    if (!objectBig) {
      // object.big = False (`custom_layers.py:133-149`, `tf_helper.py:884-887`): the decoder's single object patch is
      // zero-padded to P x P without translation or normaliser; trimmed_obj is the patch itself and
      // each channel's window is extracted at +r_c from the padded canvas (`tf_helper.py:623-658`).
      const pad = (P - N) / 2;
      trimmedRe = objRe;
      trimmedIm = objIm;
      const canRe = tf.pad(objRe.reshape([B, N, N]), [[0, 0], [pad, pad], [pad, pad]]) as tf.Tensor3D;
      const canIm = tf.pad(objIm.reshape([B, N, N]), [[0, 0], [pad, pad], [pad, pad]]) as tf.Tensor3D;
      winRe = extractWindowsFlat(canRe, ops);
      winIm = extractWindowsFlat(canIm, ops);
    } else if (ops.identityGeometry) {
      // g = 1, zero offsets: merge -> trim -> extract == O ⊙ W, W = 1/(window + 0.001) (`tf_helper.py:920-1055, 1104-1128`).
      trimmedRe = tf.div(objRe, ops.normTrim) as tf.Tensor4D;
      trimmedIm = tf.div(objIm, ops.normTrim) as tf.Tensor4D;
      winRe = trimmedRe.reshape([B, N, N]);
      winIm = trimmedIm.reshape([B, N, N]);
    } else {
      const canRe = mergePatches(objRe, ops);
      const canIm = mergePatches(objIm, ops);
      trimmedRe = trimCanvas(canRe, ops);
      trimmedIm = trimCanvas(canIm, ops);
      winRe = extractWindowsFlat(canRe, ops);
      winIm = extractWindowsFlat(canIm, ops);
    }
    const psi = illuminate(winRe, winIm, probe);
    const I = farFieldIntensity(psi.re, psi.im);
    const out = { intensity: flatToChannels(I, B, N, C), trimmedRe, trimmedIm };
    return opts.windows ? { ...out, windowsRe: winRe, windowsIm: winIm } : out;
  });
}
