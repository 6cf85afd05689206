/**
 * Run by test/lib/model/learning-webgpu.test.ts in a child process (the Vulkan loader reads
 * LD_LIBRARY_PATH only when a process starts): the gridsize-2 lines benchmark of
 * test/lib/model/learning-gs2.test.ts, trained on WebGPU in Node (Dawn) with the kernels
 * startNodeBackend installs (ours, src/lib/runtime/webgpu-kernels.ts). Prints one JSON line:
 * {"skip": reason} where Dawn finds no adapter, else the SSIM before and after and what ran.
 */
import * as tf from '@tensorflow/tfjs';
import { startWebGpuOrSkip } from '../runtime/webgpu-child';
import { describeAdapter } from '../../../src/lib/runtime/adapter';
import { countDispatches } from '../../../src/lib/runtime/webgpu-profile';
import { PtychoPinn } from '../../../src/lib/model/pinn';
import { settingsFromParams } from '../../../src/lib/model/settings';
import { trainPinn } from '../../../src/lib/model/train';
import { reconstruct } from '../../../src/lib/model/infer';
import { scoreReconstruction } from '../../../src/lib/model/quality';
import { benchmarkObject, simulateGridGroups } from '../../../src/lib/model/benchmark';
import { defaultProbe } from '../../../src/lib/physics/probe';
import { Rng } from '../../../src/lib/sim/rng';

const { epochs, groups } = JSON.parse(process.argv[2] ?? '{}') as { epochs?: number; groups?: number };
const N = 16;
const SIZE = 64;
const SEED = 42;
const M = 4;
const info = await startWebGpuOrSkip();
const t0 = performance.now();
const probe = defaultProbe(N);
const geo = { N, gridsize: 2 as const, size: SIZE, offset: 4, nphotons: 1e9, probe };
const all = simulateGridGroups(benchmarkObject('lines', SIZE, new Rng(SEED, 1), 100), { ...geo, outerOffset: 4 }, new Rng(SEED, 201));
const testObject = benchmarkObject('lines', SIZE, new Rng(SEED, 101), 100);
const test = simulateGridGroups(testObject, { ...geo, outerOffset: 8 }, new Rng(SEED, 301));
const nEpochs = epochs ?? 6;
const settings = settingsFromParams({ N, gridsize: 2, n_filters_scale: 0.125, batch_size: 4, nepochs: nEpochs, n_groups: all.B, nphotons: 1e9, 'object.big': false });
const model = new PtychoPinn({ settings, probe, seed: SEED, nPhotons: 1e9 });
const truth = { height: SIZE, width: SIZE, re: Float32Array.from(testObject.re), im: Float32Array.from(testObject.im) };
const ssim = async () => {
  const rec = await reconstruct(model, test, { batchSize: 16, M });
  return scoreReconstruction(rec.stitched, truth, rec.centres, rec.M).reference!.amplitude.ssim!;
};
const counter = countDispatches();
const before = await ssim();
const out = await trainPinn(model, all, { epochs: nEpochs, batchSize: 4, seed: SEED, reduceLrOnPlateau: false, earlyStopping: false });
const after = await ssim();
const programs = counter.byProgram();
counter.stop();
model.dispose();
process.stdout.write(`${JSON.stringify({
  adapter: describeAdapter(info.adapter), backend: tf.getBackend(), status: out.status, epochs: out.epochsCompleted,
  trainGroups: all.B, before, after, trainLoss: out.history.train_loss, seconds: (performance.now() - t0) / 1000, programs,
})}\n`);
process.exit(0); // Dawn keeps the event loop alive
