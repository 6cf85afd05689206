/**
 * Gridsize 2 learns the object (issue "Make gridsize 2 learn"): on a tiny version of the reference's
 * grid-sampled 'lines' benchmark (src/lib/model/benchmark.ts, `grid_lines_workflow.py:101-123`), training raises the test
 * amplitude SSIM, scored exactly as the reference does (stitch, align_for_evaluation,
 * eval_reconstruction), by a margin measured when this test was written, not just the loss.
 *
 * Configuration (WASM backend, a couple of minutes on two cores):
 * - N = 16, one 64-px 'lines' training object (100 lines on its 128-px canvas: the reference's texture
 *   per pixel), groups of 2 x 2 patches 4 px apart on a stride-2 grid (529 groups), test object on a
 *   stride-4 grid (144 groups, so the M = 4 crops tile it), 1e9 photons;
 * - object.big = False (the benchmark's model), NLL loss, n_filters_scale 0.125, batch 4, Adam 1e-3,
 *   no LR plateau (the benchmark streams), 6 epochs; stitch crop M = 4 (inside the N = 16 probe disk).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installWasmTrainingKernels } from '../../../src/lib/runtime/wasm-kernels';
import { PtychoPinn } from '../../../src/lib/model/pinn';
import { settingsFromParams } from '../../../src/lib/model/settings';
import { trainPinn } from '../../../src/lib/model/train';
import { reconstruct } from '../../../src/lib/model/infer';
import { scoreReconstruction } from '../../../src/lib/model/quality';
import { benchmarkObject, simulateGridGroups } from '../../../src/lib/model/benchmark';
import { defaultProbe } from '../../../src/lib/physics/probe';
import { Rng } from '../../../src/lib/sim/rng';

const N = 16;
const SIZE = 64;
const SEED = 42;
const M = 4;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  installWasmTrainingKernels();
});

describe('gridsize 2 learns the object (tiny grid-lines benchmark)', () => {
  it('raises the reference-scored test amplitude SSIM by a clear margin', async () => {
    const probe = defaultProbe(N);
    const geo = { N, gridsize: 2 as const, size: SIZE, offset: 4, nphotons: 1e9, probe };
    const train = simulateGridGroups(benchmarkObject('lines', SIZE, new Rng(SEED, 1), 100), { ...geo, outerOffset: 4 }, new Rng(SEED, 201));
    const testObject = benchmarkObject('lines', SIZE, new Rng(SEED, 101), 100);
    const test = simulateGridGroups(testObject, { ...geo, outerOffset: 8 }, new Rng(SEED, 301));
    expect(train.B).toBe(529);
    expect(test.B).toBe(144);
    const settings = settingsFromParams({ N, gridsize: 2, n_filters_scale: 0.125, batch_size: 4, nepochs: 6, n_groups: train.B, nphotons: 1e9, 'object.big': false });
    const model = new PtychoPinn({ settings, probe, seed: SEED, nPhotons: 1e9 });
    const truth = { height: SIZE, width: SIZE, re: Float32Array.from(testObject.re), im: Float32Array.from(testObject.im) };
    const ssim = async () => {
      const rec = await reconstruct(model, test, { batchSize: 16, M });
      return scoreReconstruction(rec.stitched, truth, rec.centres, rec.M).reference!.amplitude.ssim!;
    };
    try {
      const before = await ssim();
      const out = await trainPinn(model, train, { epochs: 6, batchSize: 4, seed: SEED, reduceLrOnPlateau: false, earlyStopping: false });
      expect(out.status).toBe('success');
      const after = await ssim();
      console.log(`gridsize-2 learning test: amplitude SSIM ${before.toFixed(3)} -> ${after.toFixed(3)}`);
      // measured when written (WASM, seed 42, 2 shared cores, ~30 s): 0.052 -> 0.207
      expect(after - before).toBeGreaterThan(0.12);
      expect(after).toBeGreaterThan(0.18);
    } finally {
      model.dispose();
    }
  }, 600_000);
});
