/**
 * The reference simulation recipe (`nongrid_simulation.py:153-190`, `raw_data.py:892-930`, `diffsim.py:59-155`), CPU only:
 * uniform random scan positions with a buffer, bilinear patch extraction, s_sim, far-field intensity,
 * Poisson counts and stored amplitudes sqrt(counts)/s_sim.
 */
import { shiftTaps } from '../physics/translate';
import { farFieldIntensityCpu } from '../physics/fft';
import type { Rng } from './rng';
import { poisson } from './poisson';

export interface ComplexImage {
  /** row-major H x W */
  re: Float64Array | Float32Array;
  im: Float64Array | Float32Array;
  H: number;
  W: number;
}

/**
 * n positions x ~ U(b, W − b), y ~ U(b, H − b), drawn as x then y per position (`nongrid_simulation.py:153-190`).
 * The buffer is capped at min(H, W)/2 − 1 as the reference does.
 */
export function uniformPositions(n: number, W: number, H: number, buffer: number, rng: Rng): { x: Float64Array; y: Float64Array } {
  const b = Math.min(buffer, Math.min(H, W) / 2 - 1); // buffer cap, `nongrid_simulation.py:153-190`
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = rng.uniform(b, W - b);
    y[i] = rng.uniform(b, H - b);
  }
  return { x, y };
}

/**
 * Bilinear patch at scan position (x, y) (`raw_data.py:892-930`): the object is zero-padded by N/2 and patch
 * pixel (i, j) samples object pixel (y − N/2 + i, x − N/2 + j); zero outside the object.
 */
export function extractPatch(obj: ComplexImage, x: number, y: number, N: number, outRe: Float64Array, outIm: Float64Array, outOffset = 0): void {
  const rows = [];
  const cols = [];
  for (let i = 0; i < N; i++) {
    rows.push(shiftTaps(i, obj.H, N / 2 - y, 0)); // source row i + y − N/2
    cols.push(shiftTaps(i, obj.W, N / 2 - x, 0));
  }
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      let sr = 0;
      let si = 0;
      for (const [r, wr] of rows[i]) {
        for (const [c, wc] of cols[j]) {
          const w = wr * wc;
          sr += w * obj.re[r * obj.W + c];
          si += w * obj.im[r * obj.W + c];
        }
      }
      outRe[outOffset + i * N + j] = sr;
      outIm[outOffset + i * N + j] = si;
    }
  }
}

export interface DiffractionResult {
  /** stored amplitude sqrt(counts)/s_sim, n x N x N (`diffsim.py:59-155`) */
  amplitude: Float32Array;
  /** s_sim = sqrt(nphotons / mean_b Σ |A_obj ⊙ |P||²) (`diffsim.py:59-155`) */
  sSim: number;
  /** expected total counts per pattern (Σ of the Poisson rates) */
  expectedTotals: Float64Array;
  /** sampled total counts per pattern */
  countTotals: Float64Array;
}

/**
 * Diffraction and Poisson noise for n patches (`diffsim.py:59-155`). `probe` is the RAW probe (as `diffsim.py:59-155`;
 * the model's P̂ is `probe.py:52-66`), N x N row-major. Patches are n x N x N (re, im).
 */
export function simulateDiffraction(
  patchRe: Float64Array,
  patchIm: Float64Array,
  n: number,
  N: number,
  probe: { re: ArrayLike<number>; im: ArrayLike<number> },
  nphotons: number,
  rng: Rng,
): DiffractionResult {
  const NN = N * N;
  // s_sim uses the object amplitude and |P| only (`diffsim.py:59-155`)
  let acc = 0;
  for (let b = 0; b < n; b++) {
    for (let k = 0; k < NN; k++) {
      const a = Math.hypot(patchRe[b * NN + k], patchIm[b * NN + k]) * Math.hypot(probe.re[k], probe.im[k]);
      acc += a * a;
    }
  }
  const meanEnergy = acc / n;
  if (!(meanEnergy > 0)) throw new Error('simulateDiffraction: the illuminated object is zero everywhere');
  const sSim = Math.sqrt(nphotons / meanEnergy);
  const amplitude = new Float32Array(n * NN);
  const expectedTotals = new Float64Array(n);
  const countTotals = new Float64Array(n);
  const psiRe = new Float64Array(NN);
  const psiIm = new Float64Array(NN);
  const I = new Float64Array(NN);
  for (let b = 0; b < n; b++) {
    for (let k = 0; k < NN; k++) {
      // Ψ = s_sim · O · P (`diffsim.py:59-155`)
      const oR = patchRe[b * NN + k];
      const oI = patchIm[b * NN + k];
      psiRe[k] = sSim * (oR * probe.re[k] - oI * probe.im[k]);
      psiIm[k] = sSim * (oR * probe.im[k] + oI * probe.re[k]);
    }
    farFieldIntensityCpu(psiRe, psiIm, N, I); // fftshift(|DFT Ψ|²)/N² (`diffsim.py:59-155`)
    let e = 0;
    let t = 0;
    for (let k = 0; k < NN; k++) {
      const lam = I[k] > 0 ? I[k] : 0;
      const cnt = poisson(rng, lam); // counts ~ Poisson(I) per pixel (`diffsim.py:59-155`)
      e += lam;
      t += cnt;
      amplitude[b * NN + k] = Math.sqrt(cnt) / sSim; // `diffsim.py:59-155`
    }
    expectedTotals[b] = e;
    countTotals[b] = t;
  }
  return { amplitude, sSim, expectedTotals, countTotals };
}
