/**
 * `--out DIR` of bench:quality and bench:demo-job: the final reconstruction as the runner writes it
 * (reconstruction.npz) and the truth it was scored against (truth.npz, `objectGuess` complex64), for
 * re-scoring with other tools (e.g. numpy / scikit-image).
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeNpz } from '../src/lib/ingest/index.ts';
import { reconstructionNpz, type Reconstruction } from '../src/lib/model/infer.ts';
import type { TruthObject } from '../src/lib/model/quality.ts';

export function writeReconstructionAndTruth(
  dir: string,
  rec: Reconstruction,
  probe: { re: Float32Array; im: Float32Array },
  N: number,
  metadata: Record<string, unknown>,
  truth: TruthObject,
): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'reconstruction.npz'), reconstructionNpz(rec, probe, N, metadata));
  const obj = new Float32Array(2 * truth.re.length);
  for (let k = 0; k < truth.re.length; k++) {
    obj[2 * k] = truth.re[k];
    obj[2 * k + 1] = truth.im[k];
  }
  fs.writeFileSync(path.join(dir, 'truth.npz'), writeNpz({ objectGuess: { dtype: 'complex64', shape: [truth.height, truth.width], data: obj } }));
}
