/**
 * Learning is real (issue 4 acceptance): on simulated data, training lowers the validation NLL, and
 * the stitched amplitude of the test region correlates with the true object (Pearson r over the
 * scanned area) at least 0.5, and clearly more than before training.
 *
 * The quick configuration (about a minute of CPU on the tfjs CPU backend):
 * - data: the simulator's recipe (`run_with_synthetic_lines.py` → `simulate_and_save.py` → `nongrid_simulation.py`): 'lines' object, default (raw) probe, 256 uniform
 *   positions with buffer N/2, Poisson counts at 1e9 photons per pattern, Phase C y-split
 *   (train = lower half, test = upper half, ~130 positions each). N = 16, object side int(3.5·N) = 56.
 *   Lines: 100 on the 2S = 112 px canvas, which is the reference's texture per pixel (400 lines on the
 *   448 px canvas of N = 64, `diffsim.py:157-170`). With the reference's 400 lines on this small canvas the
 *   object is nearly flat (std/mean 0.03 instead of the reference's 0.18). Positions are dense: the
 *   scan area is 40 x 40 px for 256 patterns, so neighbouring patches overlap almost entirely.
 * - model: gridsize 1, N = 16 (the test-only extension of network.ts), n_filters_scale 0.125
 *   (encoder 16, border 16 filters; 8,812 parameters), sigmoid amplitude, probe.big, pad_object.
 * - training: the app's trainPinn with the reference optimiser, Adam lr 1e-3, for 8 epochs, but batch
 *   4 instead of 16: at equal compute that gives 4x more updates (batch 16 reaches r ≈ 0.16 in the same
 *   time; measured while choosing this configuration).
 * - measured here (2 shared cores): r -0.05 -> 0.62, val NLL -5.46e7 -> -6.44e7, ~45 s CPU.
 * - stitching: M = 4 instead of min(20, N/2). The loss only constrains the object where the probe
 *   illuminates it; the reference's M = 20 lies inside its 21.8 px wide probe disk (N = 64), while at
 *   N = 16 the disk is 5.4 px wide (`probe.py:15-27`), so the crop that lies inside it is 4 px.
 *   (With M = 8 the unconstrained corners keep their initial values and r stays near 0.2.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { installFastCpuKernels } from '../../../src/lib/runtime/cpu-kernels';
import { groupDataset, validationSplit, type DiffractionData } from '../../../src/lib/model/data';
import { PtychoPinn } from '../../../src/lib/model/pinn';
import { settingsFromParams } from '../../../src/lib/model/settings';
import { evaluateLoss, trainPinn } from '../../../src/lib/model/train';
import { reconstruct } from '../../../src/lib/model/infer';
import { correlationWithTruth } from '../../../src/lib/model/metrics';
import { defaultProbe } from '../../../src/lib/physics/probe';
import { Rng } from '../../../src/lib/sim/rng';
import { linesObject } from '../../../src/lib/sim/lines';
import { uniformPositions } from '../../../src/lib/sim/simulate';
import { canonicalize, simulateDose, splitByY } from '../../../src/lib/sim/study';
import type { NdArray } from '../../../src/lib/ingest/types';

const N = 16;
const S = Math.floor(3.5 * N);
const LINES = 100;
const POSITIONS = 256;
const DOSE = 1e9;
const SEED = 42;
const BATCH = 4;
const EPOCHS = 8;
const STITCH_M = 4;

beforeAll(async () => {
  await tf.setBackend('cpu');
  installFastCpuKernels();
});

function toDiffractionData(arrays: Record<string, NdArray>): DiffractionData {
  const f64 = (k: string) => Float64Array.from(arrays[k].data as ArrayLike<number>);
  const xcoords = f64('xcoords');
  return {
    N,
    n: xcoords.length,
    diffraction: arrays.diffraction.data as Float32Array,
    xcoords,
    ycoords: f64('ycoords'),
    xcoordsStart: f64('xcoords_start'),
    ycoordsStart: f64('ycoords_start'),
  };
}

describe('learning on simulated data', () => {
  it(
    'lowers the validation NLL and the stitched test amplitude correlates with the true object (r >= 0.5)',
    async () => {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const amp = linesObject(S, new Rng(SEED, 1), LINES);
      const object = { re: amp, im: new Float64Array(S * S), H: S, W: S };
      const probe = defaultProbe(N);
      const { x, y } = uniformPositions(POSITIONS, S, S, N / 2, new Rng(SEED, 2));
      const sim = simulateDose({ object, probe, N, x, y, dose: DOSE, rng: new Rng(SEED, 3) });
      const split = splitByY(canonicalize(sim.arrays));
      const train = toDiffractionData(split.train);
      const test = toDiffractionData(split.test);

      const settings = settingsFromParams({ N, gridsize: 1, n_filters_scale: 0.125, batch_size: BATCH, nepochs: EPOCHS, n_groups: 512, nphotons: DOSE });
      const g = { gridsize: 1, nGroups: settings.nGroups, neighborCount: settings.neighborCount };
      const trainGroups = groupDataset(train, { ...g, seed: SEED });
      const testGroups = groupDataset(test, { ...g, seed: SEED + 1 });
      expect(trainGroups.B).toBeGreaterThan(100);
      expect(testGroups.B).toBeGreaterThan(100);
      const model = new PtychoPinn({ settings, probe, seed: SEED, nPhotons: DOSE });
      const truth = { values: amp, H: S, W: S };
      const correlation = async () => {
        const rec = await reconstruct(model, testGroups, { batchSize: 32, M: STITCH_M });
        return correlationWithTruth(rec.stitched, truth, rec.centres, rec.M);
      };
      const { train: nFit, val: nVal } = validationSplit(trainGroups.B, 0.05);
      const valIdx = Int32Array.from({ length: nVal }, (_, i) => nFit + i);

      const before = await correlation();
      const valBefore = await evaluateLoss(model, trainGroups, valIdx, BATCH);
      const out = await trainPinn(model, trainGroups, { epochs: EPOCHS, batchSize: BATCH, seed: SEED, learningRate: 1e-3 });
      const after = await correlation();
      expect(out.status).toBe('success');
      expect(out.epochsCompleted).toBe(EPOCHS);
      const valAfter = out.history.val_loss[EPOCHS - 1]!;
      // independent re-evaluation of the validation NLL with the trained weights
      expect(await evaluateLoss(model, trainGroups, valIdx, BATCH)).toBeCloseTo(valAfter, -1);
      const cpu = process.cpuUsage(cpu0);
      console.log(
        `[learning] ${trainGroups.B} train groups (${nVal} validation), ${testGroups.B} test groups; ` +
          `val NLL ${valBefore.toPrecision(8)} -> ${valAfter.toPrecision(8)}; train loss ${out.history.train_loss.map((v) => v.toPrecision(6)).join(', ')}; ` +
          `Pearson r (test, ${after.pixels} px) ${before.r.toFixed(4)} -> ${after.r.toFixed(4)}; ` +
          `${((performance.now() - t0) / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU`,
      );

      expect(after.pixels).toBeGreaterThan(400); // the scanned test area, about 40 x 20 px with M = 4
      expect(valAfter).toBeLessThan(valBefore);
      expect(out.history.train_loss[EPOCHS - 1]).toBeLessThan(out.history.train_loss[0]);
      expect(after.r).toBeGreaterThanOrEqual(0.5);
      expect(after.r - before.r).toBeGreaterThan(0.3);
      model.dispose();
    },
    600_000,
  );
});
