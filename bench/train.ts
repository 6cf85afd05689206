/**
 * `npm run bench:train`: train PtychoPINN on simulated data in Node and report what it learns and how
 * fast it goes.
 *
 * Data: the simulator's reference recipe (the reference's scripts/simulation/run_with_synthetic_lines.py
 * -> simulate_and_save.py -> ptycho/nongrid_simulation.py): a 'lines' object of side int(3.5·N), the
 * default (raw) probe, uniform random positions with buffer N/2, Poisson counts at `--dose` photons per
 * pattern; the y-split of Phase C (train: lower half, test: upper half). Model and loop: the app's
 * PtychoPinn + trainPinn (Adam 1e-3, last 5% of the training groups as validation), nphotons = dose as
 * the runner reads it from the NPZ metadata.
 *
 * Prints per epoch the training and validation loss (mean Poisson NLL) and samples per second; the
 * Pearson r between the stitched test amplitude and the true object amplitude over the scanned area
 * (src/lib/model/metrics.ts) before and after training; and the fraction of the backend's measured
 * matrix-multiply rate that a training step achieves:
 *   FLOPs per training step = 3 × forward FLOPs (backward ≈ 2 × forward),
 *   forward = Σ_conv 2·9·c_in·c_out·H·W per sample + the physics matMuls (merge, extract, 8 DFT
 *   matMuls per field), counted from the layer shapes;
 *   peak = best rate of a large square tf.matMul on the same backend.
 * Writes everything to bench/results/train-<date>.json.
 *
 * DEFAULTS ARE THE REFERENCE PRESET (N = 64, n_filters_scale 2, batch 16, n_groups 512) for 3 epochs, on
 * tfjs' WASM backend (XNNPACK convolutions; the convolution gradients of src/lib/runtime/wasm-kernels.ts):
 * about 2 samples/s on one core of this machine, so ~15 min. The pure-JavaScript CPU backend
 * (`--backend cpu`) runs the same preset at ~0.06 samples/s (an epoch takes over 2 hours); for a quick
 * look there use e.g. `--N 32 --filter-scale 0.5 --groups 128 --epochs 4`.
 *
 * Flags: --N 64 --gridsize 1 --filter-scale 2 --batch 16 --groups 512 --epochs 3 --positions (2·groups)
 *        --dose 1e9 --lr 1e-3 --seed 42 --backend wasm|cpu|webgpu --peak-size 512 --no-write
 * `--backend webgpu` runs tfjs' WebGPU backend on Dawn (src/lib/runtime/node-backend.ts; on a machine
 * without a GPU: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium).
 */
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { startNodeBackend, describeNodeBackend } from '../src/lib/runtime/node-backend.ts';
import { OUR_WEBGPU_KERNELS_FLAG } from '../src/lib/runtime/webgpu-kernels.ts';
import { groupDataset, type DiffractionData, type GroupedData } from '../src/lib/model/data.ts';
import { PtychoPinn } from '../src/lib/model/pinn.ts';
import { settingsFromParams } from '../src/lib/model/settings.ts';
import { evaluateLoss, trainPinn } from '../src/lib/model/train.ts';
import { reconstruct } from '../src/lib/model/infer.ts';
import { correlationWithTruth } from '../src/lib/model/metrics.ts';
import { defaultProbe } from '../src/lib/physics/probe.ts';
import { Rng } from '../src/lib/sim/rng.ts';
import { linesObject } from '../src/lib/sim/lines.ts';
import { uniformPositions } from '../src/lib/sim/simulate.ts';
import { canonicalize, simulateDose, splitByY } from '../src/lib/sim/study.ts';
import type { NdArray } from '../src/lib/ingest/types.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

interface Args {
  N: number;
  gridsize: number;
  filterScale: number;
  batch: number;
  groups: number;
  epochs: number;
  positions: number;
  dose: number;
  lr: number;
  seed: number;
  backend: string;
  peakSize: number;
  write: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { N: 64, gridsize: 1, filterScale: 2, batch: 16, groups: 512, epochs: 3, positions: 0, dose: 1e9, lr: 1e-3, seed: 42, backend: 'wasm', peakSize: 512, write: true };
  const backends = ['wasm', 'cpu', 'webgpu'];
  const numeric: Record<string, keyof Args> = {
    '--N': 'N', '--gridsize': 'gridsize', '--filter-scale': 'filterScale', '--batch': 'batch', '--groups': 'groups', '--epochs': 'epochs',
    '--positions': 'positions', '--dose': 'dose', '--lr': 'lr', '--seed': 'seed', '--peak-size': 'peakSize',
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--no-write') a.write = false;
    else if (k === '--backend') {
      a.backend = argv[++i];
      if (!backends.includes(a.backend)) throw new Error(`--backend is one of ${backends.join(', ')}, got ${a.backend}`);
    }
    else if (k in numeric) {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v)) throw new Error(`${k} needs a number, got ${argv[i]}`);
      (a as unknown as Record<string, number>)[numeric[k]] = v;
    } else throw new Error(`unknown flag ${k}`);
  }
  if (a.positions === 0) a.positions = 2 * a.groups; // the y-split leaves about half for training
  return a;
}

/** Split arrays (simulator keys, canonical names) -> the data path's input. */
function toDiffractionData(arrays: Record<string, NdArray>, N: number): DiffractionData {
  const f64 = (k: string) => Float64Array.from(arrays[k].data as ArrayLike<number>);
  const diffraction = arrays.diffraction.data as Float32Array;
  const xcoords = f64('xcoords');
  return { N, n: xcoords.length, diffraction, xcoords, ycoords: f64('ycoords'), xcoordsStart: f64('xcoords_start'), ycoordsStart: f64('ycoords_start') };
}

/** Best rate of a square float32 matMul of side n on the current backend, FLOP/s (2n³ per product). */
async function peakMatMulRate(n: number): Promise<number> {
  const a = tf.randomUniform([n, n], -1, 1, 'float32', 1);
  const b = tf.randomUniform([n, n], -1, 1, 'float32', 2);
  let best = Infinity;
  try {
    for (let rep = 0; rep < 4; rep++) {
      const t0 = performance.now();
      const c = tf.matMul(a, b);
      await c.data();
      const dt = (performance.now() - t0) / 1000;
      c.dispose();
      if (rep > 0) best = Math.min(best, dt); // the first run warms up
    }
  } finally {
    a.dispose();
    b.dispose();
  }
  return (2 * n ** 3) / best;
}

/** Forward FLOPs of one sample (group): the generator's 3x3 convolutions plus the physics matMuls. */
function forwardFlopsPerSample(model: PtychoPinn): { conv: number; physics: number } {
  let conv = 0;
  for (const layer of model.generator.layers) {
    if (layer.getClassName() !== 'Conv2D') continue;
    const [kh, kw, cin, cout] = layer.getWeights()[0].shape as [number, number, number, number];
    const out = layer.outputShape as number[]; // [null, H, W, cout]
    conv += 2 * kh * kw * cin * cout * out[1] * out[2];
  }
  const { N, C } = model.settings;
  const P = model.P;
  // DFT: 8 real N×N×N matMuls per field (src/lib/physics/dft.ts; the reference's FFT is tf_helper.py:346-367), C fields per group.
  let physics = C * 8 * 2 * N ** 3;
  if (C > 1) {
    // merge (re and im): R_y·O (P×N·N×N) and ·R_xᵀ (P×N·N×P) per field; extract: E_y·canvas (C·N×P·P×P)
    // per group and ·E_xᵀ (N×P·P×N) per field.
    physics += 2 * (C * (2 * P * N * N + 2 * P * P * N) + 2 * C * N * P * P + C * 2 * N * N * P);
  }
  return { conv, physics };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // Exactly the backend asked for, with the training kernels the runner installs (webgpu: Dawn).
  const backendInfo = await startNodeBackend(args.backend as 'wasm' | 'cpu' | 'webgpu');
  const { N } = args;
  const S = Math.floor(3.5 * N); // object side int(3.5·N), the reference's run_with_synthetic_lines.py:63-74
  console.log(`bench:train  backend ${describeNodeBackend(backendInfo)}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}`);
  console.log(`config: N=${N} gridsize=${args.gridsize} n_filters_scale=${args.filterScale} batch=${args.batch} n_groups=${args.groups} epochs=${args.epochs} positions=${args.positions} dose=${args.dose} lr=${args.lr} seed=${args.seed}`);

  // --- simulate (run_with_synthetic_lines.py -> simulate_and_save.py -> nongrid_simulation.py)
  let t = performance.now();
  const amp = linesObject(S, new Rng(args.seed, 1));
  const object = { re: amp, im: new Float64Array(S * S), H: S, W: S };
  const probe = defaultProbe(N);
  const { x, y } = uniformPositions(args.positions, S, S, N / 2, new Rng(args.seed, 2));
  const sim = simulateDose({ object, probe, N, x, y, dose: args.dose, rng: new Rng(args.seed, 3) });
  const split = splitByY(canonicalize(sim.arrays));
  const train = toDiffractionData(split.train, N);
  const test = toDiffractionData(split.test, N);
  const simSeconds = (performance.now() - t) / 1000;
  console.log(`simulated ${args.positions} patterns (object ${S}x${S}, mean counts ${sim.meanCounts.toExponential(3)}) in ${simSeconds.toFixed(1)} s: ${train.n} train / ${test.n} test positions`);

  // --- model and groups
  const settings = settingsFromParams({ N, gridsize: args.gridsize, n_filters_scale: args.filterScale, batch_size: args.batch, nepochs: args.epochs, n_groups: args.groups, nphotons: args.dose });
  const g = { gridsize: settings.gridsize, nGroups: settings.nGroups, neighborCount: settings.neighborCount };
  const trainGroups: GroupedData = groupDataset(train, { ...g, seed: args.seed });
  const testGroups: GroupedData = groupDataset(test, { ...g, seed: args.seed + 1 });
  const model = new PtychoPinn({ settings, probe, seed: args.seed, nPhotons: args.dose });
  const params = model.generator.countParams();
  const nVal = trainGroups.B - Math.floor(trainGroups.B * 0.95); // Keras tail split (validation_split=0.05, the reference's ptycho/model.py:681)
  const valIdx = Int32Array.from({ length: nVal }, (_, i) => trainGroups.B - nVal + i);
  const truth = { values: amp, H: S, W: S };
  const correlation = async () => {
    const rec = await reconstruct(model, testGroups, { batchSize: args.batch });
    return correlationWithTruth(rec.stitched, truth, rec.centres, rec.M);
  };

  const rBefore = await correlation();
  const valBefore = nVal > 0 ? await evaluateLoss(model, trainGroups, valIdx, args.batch) : null;
  console.log(`model: ${params} parameters; ${trainGroups.B} train groups (${trainGroups.B - nVal} fit + ${nVal} validation), ${testGroups.B} test groups`);
  console.log(`before training: val NLL ${valBefore?.toPrecision(8) ?? 'n/a'}, Pearson r (test, ${rBefore.pixels} px) ${rBefore.r.toFixed(4)}`);

  // --- rates
  let peak = await peakMatMulRate(args.peakSize);
  const fl = forwardFlopsPerSample(model);
  const stepFlopsPerSample = 3 * (fl.conv + fl.physics);

  // --- train
  t = performance.now();
  const epochs: Array<{ epoch: number; train_loss: number; val_loss: number | null; seconds: number; samples_per_second: number; achieved_flops: number; fraction_of_peak: number }> = [];
  const outcome = await trainPinn(model, trainGroups, {
    epochs: args.epochs,
    batchSize: args.batch,
    seed: args.seed,
    learningRate: args.lr,
    onProgress: (p) => {
      if (p.status !== 'epoch') return;
      const r = p.record;
      const achieved = r.samples_per_second * stepFlopsPerSample;
      epochs.push({ epoch: r.epoch, train_loss: r.train_loss, val_loss: r.val_loss, seconds: r.seconds, samples_per_second: r.samples_per_second, achieved_flops: achieved, fraction_of_peak: achieved / peak });
      // (the per-epoch fraction uses the peak measured before training; the summary uses the best of both)
      console.log(
        `epoch ${r.epoch}/${args.epochs}: loss ${r.train_loss.toPrecision(8)}  val_loss ${r.val_loss?.toPrecision(8) ?? 'n/a'}  ` +
          `${r.seconds.toFixed(1)} s  ${r.samples_per_second.toFixed(2)} samples/s  ${(achieved / 1e9).toFixed(3)} GFLOP/s = ${(100 * achieved / peak).toFixed(1)} % of matMul peak`,
      );
    },
  });
  const trainWall = (performance.now() - t) / 1000;
  if (outcome.status !== 'success') throw new Error(`training ${outcome.status}: ${outcome.error ?? ''}`);
  // Measured again after training; the better figure is the peak (other processes may share the CPU).
  peak = Math.max(peak, await peakMatMulRate(args.peakSize));
  const rAfter = await correlation();
  const valAfter = outcome.history.val_loss[outcome.history.val_loss.length - 1];
  const achieved = outcome.samplesPerSecond * stepFlopsPerSample;

  console.log(`after training: val NLL ${valAfter?.toPrecision(8) ?? 'n/a'}, Pearson r ${rAfter.r.toFixed(4)} (before ${rBefore.r.toFixed(4)})`);
  console.log(
    `throughput: ${outcome.samplesPerSecond.toFixed(2)} samples/s over ${outcome.trainSeconds.toFixed(1)} s of steps (${trainWall.toFixed(1)} s wall incl. validation); ` +
      `step FLOPs/sample ${(stepFlopsPerSample / 1e6).toFixed(1)} M (conv ${(3 * fl.conv / 1e6).toFixed(1)} M, physics ${(3 * fl.physics / 1e6).toFixed(1)} M); ` +
      `${(achieved / 1e9).toFixed(3)} GFLOP/s achieved vs matMul peak ${(peak / 1e9).toFixed(3)} GFLOP/s (${args.peakSize}²) = ${(100 * achieved / peak).toFixed(1)} %`,
  );

  const result = {
    bench: 'train',
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    backend: tf.getBackend(),
    backendDetail: describeNodeBackend(backendInfo),
    // WebGPU: our WGSL kernels (src/lib/runtime/webgpu-kernels.ts) or tfjs' own (PTYCHO_OUR_WEBGPU_KERNELS=false)
    ourWebGpuKernels: tf.getBackend() === 'webgpu' ? tf.env().getBool(OUR_WEBGPU_KERNELS_FLAG) : null,
    args: process.argv.slice(2),
    config: { ...args, objectSize: S },
    data: { trainPositions: train.n, testPositions: test.n, trainGroups: trainGroups.B, testGroups: testGroups.B, valGroups: nVal, meanCounts: sim.meanCounts, simulateSeconds: simSeconds },
    parameters: params,
    before: { val_nll: valBefore, pearson_r: rBefore.r, pixels: rBefore.pixels },
    after: { val_nll: valAfter, pearson_r: rAfter.r, pixels: rAfter.pixels },
    epochs,
    samplesPerSecond: outcome.samplesPerSecond,
    trainSeconds: outcome.trainSeconds,
    trainWallSeconds: trainWall,
    flops: { forwardConvPerSample: fl.conv, forwardPhysicsPerSample: fl.physics, stepPerSample: stepFlopsPerSample, achievedPerSecond: achieved, matMulPeakPerSecond: peak, peakMatMulSize: args.peakSize, fractionOfPeak: achieved / peak },
  };
  if (args.write) {
    const date = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
    const out = path.join(HERE, 'results', `train-${date}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
  }
  model.dispose();
}

// Dawn (--backend webgpu) keeps the event loop alive: end when main() is done.
main().then(() => process.exit(0), (e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
