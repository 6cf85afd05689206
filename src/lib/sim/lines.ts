/**
 * The 'lines' synthetic object (`diffsim.py:157-170`, `ptycho/datagen`):
 * 1. a zero image of side 2S; 2. straight lines (Bresenham, as skimage.draw.line) between endpoints
 * drawn uniformly from the integers [0, 2S), line pixels set to 1; 3. G₁ + 2·G₅ + 5·G₁₀ with G_σ a
 * scipy-style Gaussian blur (mode 'reflect', truncate 4); 4. the central S x S crop. Amplitude only.
 */
import { gaussianFilter2d } from '../physics/probe';
import type { Rng } from './rng';

/** Lines drawn by the reference on the 2S canvas for S = int(3.5·N) (`diffsim.py:157-170`). */
export const REFERENCE_LINE_COUNT = 400;
/** Blur widths and weights G₁ + 2·G₅ + 5·G₁₀ (`diffsim.py:157-170`). */
export const LINE_BLURS: ReadonlyArray<readonly [sigma: number, weight: number]> = [[1, 1], [5, 2], [10, 5]];

/** Pixels of the Bresenham line from (r0, c0) to (r1, c1), inclusive, in skimage.draw.line's order. */
export function bresenhamLine(r0: number, c0: number, r1: number, c1: number): { rr: Int32Array; cc: Int32Array } {
  let r = r0;
  let c = c0;
  let dr = Math.abs(r1 - r0);
  let dc = Math.abs(c1 - c0);
  let sc = c1 - c > 0 ? 1 : -1;
  let sr = r1 - r > 0 ? 1 : -1;
  let steep = false;
  if (dr > dc) {
    steep = true;
    [c, r] = [r, c];
    [dc, dr] = [dr, dc];
    [sc, sr] = [sr, sc];
  }
  let d = 2 * dr - dc;
  const rr = new Int32Array(dc + 1);
  const cc = new Int32Array(dc + 1);
  for (let i = 0; i < dc; i++) {
    if (steep) {
      rr[i] = c;
      cc[i] = r;
    } else {
      rr[i] = r;
      cc[i] = c;
    }
    while (d >= 0) {
      r += sr;
      d -= 2 * dc;
    }
    c += sc;
    d += 2 * dr;
  }
  rr[dc] = r1;
  cc[dc] = c1;
  return { rr, cc };
}

/**
 * The 'lines' object from given endpoints: `endpoints` holds (r0, c0, r1, c1) per line on the 2S canvas.
 * Only the central crop plus the blur radius is blurred: with truncate 4 the crop never reaches the
 * canvas edge (for S >= 80), so the result equals blurring the whole 2S image and cropping.
 */
export function linesObjectFromEndpoints(S: number, endpoints: ArrayLike<number>): Float64Array {
  const L = 2 * S;
  const canvas = new Uint8Array(L * L);
  for (let k = 0; k + 3 < endpoints.length; k += 4) {
    const { rr, cc } = bresenhamLine(endpoints[k], endpoints[k + 1], endpoints[k + 2], endpoints[k + 3]);
    for (let i = 0; i < rr.length; i++) canvas[rr[i] * L + cc[i]] = 1;
  }
  const radius = Math.max(...LINE_BLURS.map(([s]) => Math.floor(4 * s + 0.5)));
  const lo = Math.max(0, Math.floor(S / 2) - radius);
  const hi = Math.min(L, Math.floor(S / 2) + S + radius);
  const Wn = hi - lo;
  const win = new Float64Array(Wn * Wn);
  for (let i = 0; i < Wn; i++) for (let j = 0; j < Wn; j++) win[i * Wn + j] = canvas[(lo + i) * L + (lo + j)];
  const acc = new Float64Array(Wn * Wn);
  for (const [sigma, weight] of LINE_BLURS) {
    const g = gaussianFilter2d(win, Wn, Wn, sigma);
    for (let i = 0; i < acc.length; i++) acc[i] += weight * g[i];
  }
  // central S x S crop of the 2S canvas: rows/cols [S/2, S/2 + S) in numpy's [S//2 : S//2 + S] sense
  const out = new Float64Array(S * S);
  const off = Math.floor(S / 2) - lo;
  for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) out[i * S + j] = acc[(off + i) * Wn + (off + j)];
  return out;
}

/**
 * A seeded 'lines' object of side S. `nLines` defaults to the reference's 400; callers that enlarge S
 * beyond 3.5·N scale it to keep the reference's line density (see makeDemoStudy).
 */
export function linesObject(S: number, rng: Rng, nLines = REFERENCE_LINE_COUNT): Float64Array {
  const L = 2 * S;
  const ends = new Int32Array(4 * nLines);
  for (let i = 0; i < ends.length; i++) ends[i] = rng.int(L);
  return linesObjectFromEndpoints(S, ends);
}

