/** Tiny synthetic ptychography data for the model tests (no files): a smooth amplitude object,
 * random scan positions, and diffraction amplitudes |DFT(P·patch)|/N from the physics' CPU FFT. */
import { defaultProbe, farFieldIntensityCpu } from '../../../src/lib/physics';
import type { DiffractionData } from '../../../src/lib/model/data';
import { Rng } from '../../../src/lib/model/rng';

export function tinyDataset(N: number, n: number, seed = 1, photons = 1e4): DiffractionData & { probe: { re: Float32Array; im: Float32Array } } {
  const rng = new Rng(seed);
  const S = 3 * N;
  // smooth object: a few Gaussian blobs, amplitude in ~[0.2, 1]
  const obj = new Float64Array(S * S).fill(0.2);
  for (let k = 0; k < 12; k++) {
    const cx = rng.next() * S, cy = rng.next() * S, r = 1 + rng.next() * N / 4, a = 0.3 + rng.next() * 0.5;
    for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) obj[i * S + j] += a * Math.exp(-((i - cy) ** 2 + (j - cx) ** 2) / (2 * r * r));
  }
  const probe = defaultProbe(N);
  const diffraction = new Float32Array(n * N * N);
  const xcoords = new Float64Array(n), ycoords = new Float64Array(n);
  const re = new Float64Array(N * N), im = new Float64Array(N * N);
  for (let p = 0; p < n; p++) {
    const x = N / 2 + Math.floor(rng.next() * (S - N)), y = N / 2 + Math.floor(rng.next() * (S - N));
    xcoords[p] = x; ycoords[p] = y;
    for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) {
      re[i * N + j] = obj[(y - N / 2 + i) * S + (x - N / 2 + j)] * probe.re[i * N + j];
      im[i * N + j] = 0;
    }
    const I = farFieldIntensityCpu(re, im, N);
    for (let k = 0; k < N * N; k++) diffraction[p * N * N + k] = Math.sqrt(I[k] * photons) / Math.sqrt(photons);
  }
  return { N, n, diffraction, xcoords, ycoords, xcoordsStart: xcoords.slice(), ycoordsStart: ycoords.slice(), probe };
}

/** Small-model legacy params for fast CPU tests (fractional n_filters_scale is a test-only extension). */
export function tinyParams(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { N: 16, gridsize: 1, n_filters_scale: 0.125, batch_size: 8, nepochs: 3, n_groups: 512, neighbor_count: 4, nphotons: 1e4, ...over };
}
