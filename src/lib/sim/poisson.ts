/**
 * Poisson sampling, exact for every rate (`diffsim.py:79-86`; issue 4 item 6), following numpy's
 * `random_poisson` (numpy/random/src/distributions/distributions.c):
 * - rate < 10: Knuth's multiplication method (product of uniforms against e^{−λ}); exact.
 * - rate >= 10: PTRS, Hörmann's transformed rejection with squeeze (W. Hörmann, "The transformed
 *   rejection method for generating Poisson random variables", Insurance: Math. & Econ. 12, 1993);
 *   an exact rejection sampler whose acceptance test uses log Γ(k+1) evaluated as numpy does.
 * - rate 0 gives 0; negative or non-finite rates throw.
 */
import type { Rng } from './rng';

/** Threshold between the two methods (numpy uses the same). */
export const POISSON_PTRS_MIN = 10;

const LOGGAM_A = [
  8.333333333333333e-2, -2.777777777777778e-3, 7.936507936507937e-4, -5.952380952380952e-4, 8.417508417508418e-4,
  -1.917526917526918e-3, 6.41025641025641e-3, -2.955065359477124e-2, 1.796443723688307e-1, -1.3924322169059,
];

/** log Γ(x) for x >= 1 (Stirling series with upward shift below 7, as numpy's random_loggam). */
export function logGamma(x: number): number {
  if (x === 1 || x === 2) return 0;
  const n = x < 7 ? Math.floor(7 - x) : 0;
  let x0 = x + n;
  const x2 = (1 / x0) * (1 / x0);
  let gl0 = LOGGAM_A[9];
  for (let k = 8; k >= 0; k--) gl0 = gl0 * x2 + LOGGAM_A[k];
  let gl = gl0 / x0 + 0.5 * 1.8378770664093453 + (x0 - 0.5) * Math.log(x0) - x0;
  for (let k = 1; k <= n; k++) {
    gl -= Math.log(x0 - 1);
    x0 -= 1;
  }
  return gl;
}

function poissonMult(rng: Rng, lam: number): number {
  const enlam = Math.exp(-lam);
  let x = 0;
  let prod = 1;
  for (;;) {
    prod *= rng.random();
    if (prod > enlam) x += 1;
    else return x;
  }
}

function poissonPtrs(rng: Rng, lam: number): number {
  const slam = Math.sqrt(lam);
  const loglam = Math.log(lam);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const U = rng.random() - 0.5;
    const V = rng.random();
    const us = 0.5 - Math.abs(U);
    const k = Math.floor(((2 * a) / us + b) * U + lam + 0.43);
    if (us >= 0.07 && V <= vr) return k;
    if (k < 0 || (us < 0.013 && V > us)) continue;
    if (Math.log(V) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -lam + k * loglam - logGamma(k + 1)) return k;
  }
}

/** One Poisson(λ) draw. */
export function poisson(rng: Rng, lam: number): number {
  if (!(lam >= 0) || !Number.isFinite(lam)) throw new Error(`poisson: rate must be finite and >= 0, got ${lam}`);
  if (lam === 0) return 0;
  return lam >= POISSON_PTRS_MIN ? poissonPtrs(rng, lam) : poissonMult(rng, lam);
}
