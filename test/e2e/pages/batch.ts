/**
 * The fixed batch the backend comparisons evaluate (test/e2e/pages/backends.ts, and
 * bench/sensitivity.ts for the same case on the CPU alone): model inputs s·X and group offsets from a
 * seed. Pure: no DOM, no backend.
 */
import { intensityScale } from '../../../src/lib/model/data';
import { Rng } from '../../../src/lib/model/rng';

export function batchData(cfg: { N: number; gridsize: number; batch: number; seed: number }): { inputs: Float32Array; offsets: Float32Array } {
  const { N, gridsize, batch } = cfg;
  const C = gridsize * gridsize;
  const rng = new Rng(cfg.seed + 1000);
  const s = intensityScale(1e9, N);
  // Model input s·X with X a plausible normalised amplitude: a bright centre (DC at N/2) over a
  // random speckle, mean Σ X² around (N/2)² (`raw_data.py:972-992`).
  const inputs = new Float32Array(batch * N * N * C);
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < N; i++)
      for (let j = 0; j < N; j++)
        for (let c = 0; c < C; c++) {
          const r2 = (i - N / 2) ** 2 + (j - N / 2) ** 2;
          inputs[((b * N + i) * N + j) * C + c] = s * (0.2 * rng.next() + 3 * Math.exp(-r2 / 4));
        }
  // Relative offsets r_c = −(p_c − p̄): random positions within ±4 px, centred per group (`raw_data.py:123, 528-606`).
  const offsets = new Float32Array(batch * C * 2);
  if (C > 1) {
    for (let b = 0; b < batch; b++) {
      const p = Array.from({ length: C * 2 }, () => 8 * rng.next() - 4);
      for (let k = 0; k < 2; k++) {
        let m = 0;
        for (let c = 0; c < C; c++) m += p[c * 2 + k] / C;
        for (let c = 0; c < C; c++) offsets[(b * C + c) * 2 + k] = -(p[c * 2 + k] - m);
      }
    }
  }
  return { inputs, offsets };
}
