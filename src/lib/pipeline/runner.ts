/**
 * The real PtychoPINN job runner (docs/decisions.md, README.md), as named stages over one job
 * context: backend, resolve (the settings from the bridged legacy dict, CONFIG-001), load (train
 * and test NPZ through the data contract), group, build, train, reconstruct the test split, score
 * it against the truth, and write the artifacts into the job's artifact dir:
 *
 *   train.log            progress lines (appended; the planner owns the file)
 *   history.json         per-epoch losses, learning rate, time, throughput
 *   reconstruction.npz   amplitude, phase, complex object, origin, group centres, probe, metadata
 *   reconstruction.png   amplitude | phase preview
 *   model.zip            the trained generator in tfjs format (model.json + weights.bin) + extras
 *
 * Failures never throw out of the runner: they come back as status 'failed' with
 * '<stage>: <reason>' (LATEST `training.py:466-567` `execute_training_job`), cancellation as 'cancelled'. Nothing is faked.
 */
import * as tf from '@tensorflow/tfjs';
import { strToU8 } from 'fflate';
import type { ArtifactSink, JobRunner, RunnerArgs, RunnerProgress, RunnerResult, TrainingJob } from '../study/runner';
import { openNpz, writeNpz } from '../ingest';
import { loadDataset, type Dataset } from '../contract';
import { settingsFromParams, type PinnSettings } from '../model/settings';
import { groupDataset, type GroupedData } from '../model/data';
import { PtychoPinn } from '../model/pinn';
import { trainPinn, type TrainOutcome } from '../model/train';
import { isTrainingCheckpoint, type TrainingCheckpoint } from '../model/checkpoint';
import { reconstruct, reconstructionNpz, type Reconstruction } from '../model/infer';
import { comparisonPng, reconstructionPreview } from '../model/png';
import { commonPair, placedAmplitudeSsim, placedPair, scoreReconstruction, type JobMetrics, type StitchedCanvas, type TruthObject } from '../model/quality';
import { loadCommonRegion } from '../model/common-region';
import { sampleBilinear } from '../model/metrics';
import { modelFiles, sha256Hex, zipBundle } from '../model/bundle';
import { installTrainingKernels } from '../runtime/kernels';
import { releaseGpuBufferPool } from '../runtime/backend';

export interface PtychoPinnRunnerOptions {
  /** Train this many epochs instead of params.nepochs (tests). */
  epochsOverride?: number;
  /** Use this many groups instead of params.n_groups. */
  nGroupsOverride?: number;
  /** Batch size instead of params.batch_size. */
  batchSizeOverride?: number;
  /**
   * Make sure tfjs runs on this backend (calls tf.setBackend when it differs). Default: leave the
   * backend the app chose (src/lib/runtime/backend.ts) alone. 'wasm' (Node only: the CLI and
   * bench:train) needs '@tensorflow/tfjs-backend-wasm' imported by the caller.
   */
  backend?: 'cpu' | 'webgpu' | 'wasm';
  /** Train λ (the intensity scale); default false: constant, deviation (b) of docs/decisions.md. */
  trainableIntensityScale?: boolean;
  /** Seed for subsampling, grouping, shuffling and initialisation when params.subsample_seed is unset. Default 42. */
  seed?: number;
  /** Stitch crop M (`components.py:792`: 20). */
  stitchM?: number;
  /** Bundle file name inside the artifact dir. Default 'model.zip'. */
  bundleName?: string;
  /**
   * Emit a 'preview' progress event (stitched amplitude/phase of up to previewGroups test groups)
   * every this many epochs; 0 (default) = only the final reconstruction's preview.
   */
  previewEveryEpochs?: number;
  /** Test groups used for the per-epoch previews. Default 64. */
  previewGroups?: number;
  /** Score the test reconstruction (amplitude SSIM) during training when the test file has the truth. Default true. */
  liveScores?: boolean;
  /** Test hook (fault injection): the loss of this training step becomes NaN (TrainOptions.nanLossAtStep). */
  nanLossAtStep?: number;
  /** Called with every epoch checkpoint (in addition to RunnerArgs.onCheckpoint). */
  onCheckpoint?: (epoch: number, state: TrainingCheckpoint) => void | Promise<void>;
}

class StageError extends Error {
  constructor(readonly stage: string, message: string) {
    super(`${stage}: ${message}`);
  }
}

const errText = (e: unknown): string => (e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e));

const join = (dir: string, name: string): string => (dir === '' || dir === '.' ? name : `${dir.replace(/\/+$/, '')}/${name}`);

/**
 * nphotons from the NPZ _metadata when present (`scripts/training/train.py:379-398`: it replaces the config value):
 * top-level `nphotons`, or `physics_parameters.nphotons` as Phase C metadata carries it (`metadata.py:53-80`).
 */
export function metadataNphotons(meta: unknown): number | undefined {
  if (typeof meta !== 'object' || meta === null) return undefined;
  const m = meta as Record<string, unknown>;
  const phys = m['physics_parameters'];
  const v = m['nphotons'] ?? (typeof phys === 'object' && phys !== null ? (phys as Record<string, unknown>)['nphotons'] : undefined);
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}

async function loadSplit(args: RunnerArgs, path: string, gridsize: 1 | 2, stage: string): Promise<Dataset> {
  if (!args.files.has(path)) throw new StageError(stage, `the file ${path} is not among the dropped files`);
  let blob: Blob;
  try {
    blob = await args.files.get(path);
  } catch (e) {
    throw new StageError(stage, `${path} could not be read (${errText(e)})`);
  }
  let result;
  try {
    const archive = await openNpz(blob, path);
    result = await loadDataset(archive, { file: path, gridsize });
  } catch (e) {
    throw new StageError(stage, errText(e));
  }
  if (!result.report.ok || !result.dataset) {
    const msgs = result.report.errors.map((i) => i.message);
    throw new StageError(stage, msgs.length ? msgs.join(' ') : `${path} did not pass validation`);
  }
  return result.dataset;
}

/** What every stage of a job sees: its arguments, where it writes, and how it reports. */
interface JobContext {
  readonly args: RunnerArgs;
  readonly opts: PtychoPinnRunnerOptions;
  readonly job: TrainingJob;
  readonly sink: ArtifactSink;
  readonly dir: string;
  /** A stamped line appended to train.log (best effort). */
  readonly log: (line: string) => Promise<void>;
  /** The same, from a synchronous callback (the lines keep their order). */
  readonly logLater: (line: string) => void;
  readonly progress: (p: RunnerProgress) => void;
}

/** The resolve stage's answer: the model's settings, from the bridged legacy dict and nothing else. */
interface Resolved {
  settings: PinnSettings;
  seed: number;
}

/** The load stage's answer: both splits, validated, and the dose they were simulated at. */
interface Loaded {
  train: Dataset;
  test: Dataset;
  nPhotons: number;
}

interface Grouped {
  trainGroups: GroupedData;
  testGroups: GroupedData;
}

/**
 * The backend stage: make sure tfjs runs where the caller asked, and install that backend's
 * training kernels (src/lib/model/*-kernels.ts).
 */
async function backendStage(ctx: JobContext): Promise<void> {
  const want = ctx.opts.backend;
  if (want && tf.getBackend() !== want) {
    if (!(await tf.setBackend(want))) throw new StageError('backend', `tfjs could not start the '${want}' backend`);
    await tf.ready();
  }
  installTrainingKernels(tf.getBackend());
  await ctx.log(`backend: ${tf.getBackend()}`);
}

/**
 * The resolve stage (CONFIG-001): the model's settings from the bridged legacy dict, the one place
 * the job's gridsize reaches the model from (the run loop put the job's gridsize there).
 */
async function resolveStage(ctx: JobContext): Promise<Resolved> {
  const { opts } = ctx;
  let settings: PinnSettings;
  try {
    settings = settingsFromParams({
      ...ctx.args.params,
      ...(opts.epochsOverride !== undefined ? { nepochs: opts.epochsOverride } : {}),
      ...(opts.nGroupsOverride !== undefined ? { n_groups: opts.nGroupsOverride } : {}),
      ...(opts.batchSizeOverride !== undefined ? { batch_size: opts.batchSizeOverride } : {}),
    });
  } catch (e) {
    throw new StageError('config', errText(e));
  }
  if (settings.realspaceWeight !== 0) await ctx.log(`note: realspace_weight ${settings.realspaceWeight} is ignored (the realspace loss is not ported; its default weight is 0, config.py:132-133)`);
  if (settings.intensityScaleTrainableRequested && !opts.trainableIntensityScale) {
    await ctx.log("params 'intensity_scale.trainable' is True, but the intensity scale is kept constant (deviation (b): it never moved in the reference's runs)");
  }
  return { settings, seed: settings.subsampleSeed ?? opts.seed ?? 42 };
}

/**
 * The load stage: both splits through the data contract at the settings' gridsize. nphotons is the
 * training file's metadata value where it has one, else the settings' (the reference replaces the
 * config value so, `scripts/training/train.py:379-398`).
 */
async function loadStage(ctx: JobContext, { settings }: Resolved): Promise<Loaded> {
  const { job, progress } = ctx;
  const gs = settings.gridsize;
  if (gs !== 1 && gs !== 2) throw new StageError('config', `the study's data contract covers gridsize 1 and 2, params say ${gs}`);
  progress({ status: 'loading', message: `Loading ${job.train_data_path}` });
  const train = await loadSplit(ctx.args, job.train_data_path, gs, 'load train');
  progress({ status: 'loading', message: `Loading ${job.test_data_path}` });
  const test = await loadSplit(ctx.args, job.test_data_path, gs, 'load test');
  if (train.N !== settings.N) throw new StageError('config', `the training data have N=${train.N} but params say N=${settings.N}`);
  if (test.N !== train.N) throw new StageError('load test', `the test data have N=${test.N}, the training data N=${train.N}`);
  const metaPhotons = metadataNphotons(train.metadata);
  if (metaPhotons !== undefined && metaPhotons !== settings.nPhotons) {
    await ctx.log(`nphotons ${metaPhotons} from the training file's metadata replaces ${settings.nPhotons} (as the reference does, scripts/training/train.py:379-398)`);
  }
  return { train, test, nPhotons: metaPhotons ?? settings.nPhotons };
}

/** The group stage: K-NN groups of the training and test positions (src/lib/model/data.ts). */
async function groupStage(ctx: JobContext, { settings, seed }: Resolved, { train, test, nPhotons }: Loaded): Promise<Grouped> {
  let trainGroups: GroupedData;
  let testGroups: GroupedData;
  try {
    const g = { gridsize: settings.gridsize, nGroups: settings.nGroups, neighborCount: settings.neighborCount };
    trainGroups = groupDataset(train, { ...g, seed });
    testGroups = groupDataset(test, { ...g, seed: seed + 1 });
  } catch (e) {
    throw new StageError('grouping', errText(e));
  }
  await ctx.log(
    `data: N=${settings.N}, ${train.n} train / ${test.n} test positions, ${trainGroups.B} train / ${testGroups.B} test groups of ${settings.C}` +
      `${settings.C > 1 ? ' (channels in row-major order of position, not the reference\'s random order: README, Decisions)' : ''}, ` +
      `alpha=${trainGroups.alpha.toPrecision(6)}, nphotons=${nPhotons}, seed=${seed}`,
  );
  return { trainGroups, testGroups };
}

/** The build stage: the generator and the physics around it (src/lib/model/pinn.ts). */
async function buildStage(ctx: JobContext, { settings, seed }: Resolved, { train, nPhotons }: Loaded): Promise<PtychoPinn> {
  ctx.progress({ status: 'compiling', message: 'Building the PtychoPINN model' });
  let model: PtychoPinn;
  try {
    model = new PtychoPinn({ settings, probe: train.probe, seed, trainableScale: ctx.opts.trainableIntensityScale ?? false, nPhotons });
  } catch (e) {
    throw new StageError('model', errText(e));
  }
  await ctx.log(
    `model: ${model.generator.countParams()} parameters, s=${model.scale.toPrecision(6)} (lambda=${model.lambda().toPrecision(6)}, ` +
      `${model.trainableScale ? 'trainable' : 'constant'}), canvas P=${model.P}, probe from ${model.probeSource === 'data' ? 'the data' : 'the default recipe'}`,
  );
  return model;
}

/**
 * The train stage: trainPinn with checkpoints, the live previews every `previewEveryEpochs` and the
 * live amplitude SSIM on the whole test split (placed scores), every k epochs with k chosen so that
 * scoring costs at most ~10 % of the training time (measured: k = ceil(cost / (0.1·epoch))).
 */
async function trainStage(
  ctx: JobContext, { settings, seed }: Resolved, { test }: Loaded, { trainGroups, testGroups }: Grouped, model: PtychoPinn,
): Promise<{ outcome: TrainOutcome; ssimHistory: { epoch: number; amplitude_ssim: number }[] }> {
  const { args, opts, progress } = ctx;
  const previewEvery = opts.previewEveryEpochs ?? 0;
  const previewGroups = subsetGroups(testGroups, opts.previewGroups ?? 64);
  const truth: TruthObject | undefined = test.object;
  const ssimHistory: { epoch: number; amplitude_ssim: number }[] = [];
  let scoreEvery = 1;
  let lastEpochSeconds = 0;
  const resume = isTrainingCheckpoint(args.resume) ? args.resume : undefined;
  if (args.resume !== undefined && !resume) await ctx.log('resume state ignored: it is not a PtychoPINN checkpoint');
  const outcome = await trainPinn(model, trainGroups, {
    epochs: settings.nEpochs,
    batchSize: settings.batchSize,
    seed,
    signal: args.signal,
    onProgress: (p) => {
      if (p.status === 'epoch') lastEpochSeconds = p.record.seconds;
      progress(p);
    },
    resume,
    log: ctx.logLater,
    nanLossAtStep: opts.nanLossAtStep,
    onCheckpoint: async (c) => {
      await args.onCheckpoint?.(c.epoch, c);
      await opts.onCheckpoint?.(c.epoch, c);
    },
    onEpochEnd: async (epoch) => {
      if (previewEvery > 0 && args.onProgress && epoch % previewEvery === 0) {
        const rec = await reconstruct(model, previewGroups, { batchSize: settings.batchSize, M: opts.stitchM, signal: args.signal });
        const st = rec.stitched;
        progress({ status: 'preview', epoch, width: st.width, height: st.height, ...previewImages(st, truth, rec.centres) });
      }
      if (truth && (opts.liveScores ?? true) && epoch % scoreEvery === 0) {
        const t = performance.now();
        const rec = await reconstruct(model, testGroups, { batchSize: settings.batchSize, M: opts.stitchM, signal: args.signal });
        const ssim = placedAmplitudeSsim(rec.stitched, truth, rec.M);
        const cost = (performance.now() - t) / 1000;
        if (ssim !== null) {
          ssimHistory.push({ epoch, amplitude_ssim: ssim });
          progress({ status: 'score', epoch, amplitude_ssim: ssim });
          ctx.logLater(`epoch ${epoch}: test amplitude SSIM ${ssim.toFixed(4)} (placed; scored in ${cost.toFixed(1)} s, every ${scoreEvery} epoch(s))`);
        }
        if (lastEpochSeconds > 0) scoreEvery = Math.max(1, Math.ceil(cost / (0.1 * lastEpochSeconds)));
      }
    },
  });
  return { outcome, ssimHistory };
}

/**
 * The score stage: the test reconstruction against the true object on the dose's common region
 * (its Phase C test scan, else this job's own with a note: src/lib/model/common-region.ts), written
 * as metrics.json and comparison.png; undefined without a truth.
 */
async function scoreStage(
  ctx: JobContext, { test }: Loaded, rec: Reconstruction, ssimHistory: { epoch: number; amplitude_ssim: number }[],
): Promise<JobMetrics | undefined> {
  const { args, job, sink, dir } = ctx;
  const truth = test.object;
  if (!truth) {
    await ctx.log('scores: the test file has no objectGuess, so the reconstruction is not scored');
    return undefined;
  }
  const st = rec.stitched;
  ctx.progress({ status: 'saving', message: 'Scoring the reconstruction against the true object' });
  const region = await loadCommonRegion({
    files: args.files, phaseCRoot: args.phaseCRoot, dose: job.dose, truth,
    own: { path: job.test_data_path, xs: test.xcoords, ys: test.ycoords },
  });
  const metrics = scoreReconstruction(st, truth, rec.centres, rec.M, region ?? undefined);
  if (!region) metrics.note = [metrics.note, 'common: no scan position lies on the truth'].filter(Boolean).join('; ');
  if (ssimHistory.length) metrics.ssim_history = ssimHistory;
  await sink.writeText(join(dir, 'metrics.json'), JSON.stringify(metrics, null, 2));
  // comparison.png shows the pair the study table shows first: the common region (uncovered
  // pixels blue-grey), or the placed pair when the job has no common scores.
  const pair = metrics.common ? commonPair(st, truth, metrics.common.region) : placedPair(st, truth);
  if (pair) {
    const amp = (z: { re: ArrayLike<number>; im: ArrayLike<number> }) => Float64Array.from(z.re, (v, k) => Math.hypot(v, z.im[k]));
    const ph = (z: { re: ArrayLike<number>; im: ArrayLike<number> }) => Float64Array.from(z.re, (v, k) => Math.atan2(z.im[k], v));
    await sink.writeBytes(
      join(dir, 'comparison.png'),
      comparisonPng(pair.recon.width, pair.recon.height, { amplitude: amp(pair.truth), phase: ph(pair.truth) }, { amplitude: amp(pair.recon), phase: ph(pair.recon) }, pair.covered),
    );
  }
  const r = metrics.reference;
  const pl = metrics.placed;
  const cm = metrics.common;
  const f = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(4));
  await ctx.log(
    `scores vs objectGuess: reference amplitude SSIM ${f(r?.amplitude.ssim)} MS-SSIM ${f(r?.amplitude.ms_ssim)} FRC50 ${f(r?.amplitude.frc50)}; ` +
      `placed amplitude SSIM ${f(pl?.amplitude.ssim)} MS-SSIM ${f(pl?.amplitude.ms_ssim)}; coverage ${(100 * metrics.coverage).toFixed(1)} % (metrics.json, comparison.png)`,
  );
  if (cm) {
    const g = cm.region;
    await ctx.log(
      `common region x ${g.x0}..${g.x1}, y ${g.y0}..${g.y1} (${g.source}, ${g.path}): amplitude SSIM ${f(cm.amplitude.ssim)} MS-SSIM ${f(cm.amplitude.ms_ssim)} ` +
        `FRC50 ${f(cm.amplitude.frc50)}; phase ${cm.phase ? `SSIM ${f(cm.phase.ssim)} MS-SSIM ${f(cm.phase.ms_ssim)}` : `- (${cm.phase_note})`}; ` +
        `coverage ${(100 * cm.coverage).toFixed(1)} %${g.note ? `; note: ${g.note}` : ''}`,
    );
  } else if (metrics.note) {
    await ctx.log(`common region: not scored (${metrics.note})`);
  }
  return metrics;
}

/** The write stage: reconstruction.npz / .png, the model bundle and history.json; the bundle's name, hash and size. */
async function writeStage(
  ctx: JobContext, { settings, seed }: Resolved, { nPhotons }: Loaded, { trainGroups, testGroups }: Grouped,
  model: PtychoPinn, outcome: TrainOutcome, rec: Reconstruction,
): Promise<{ bundle_path: string; bundle_sha256: string; bundle_size_bytes: number }> {
  const { job, sink, dir } = ctx;
  const st = rec.stitched;
  const metadata = {
    generator: 'PtychoPINN Studio (src/lib/model)',
    job: { dose: job.dose, view: job.view, gridsize: job.gridsize, train_data_path: job.train_data_path, test_data_path: job.test_data_path },
    N: settings.N,
    gridsize: settings.gridsize,
    n_groups_test: testGroups.B,
    alpha_test: testGroups.alpha,
    intensity_scale: model.scale,
    log_intensity_scale: model.lambda(),
    nphotons: nPhotons,
    epochs: outcome.epochsCompleted,
    final_loss: outcome.finalLoss,
    seed,
  };
  await sink.writeBytes(join(dir, 'reconstruction.npz'), reconstructionNpz(rec, model.probeArrays, settings.N, metadata));
  await sink.writeBytes(join(dir, 'reconstruction.png'), reconstructionPreview(st.width, st.height, st.amplitude, st.phase));
  await ctx.log(`reconstruction: ${st.width}x${st.height} from ${testGroups.B} test groups (reconstruction.npz, reconstruction.png)`);

  ctx.progress({ status: 'saving', message: 'Saving the model bundle' });
  const bundleName = ctx.opts.bundleName ?? 'model.zip';
  const files = await modelFiles(model, { ptychopinn: { ...metadata, settings, alpha_train: trainGroups.alpha, probe_source: model.probeSource } });
  const zip = zipBundle({ ...files, 'probe.npz': reconstructionProbeNpz(model), 'history.json': strToU8(JSON.stringify(outcome.history)) });
  await sink.writeBytes(join(dir, bundleName), zip);
  const sha = await sha256Hex(zip);
  await writeHistory(ctx, outcome);
  await ctx.log(`saved ${bundleName} (${zip.length} bytes, sha256 ${sha})`);
  return { bundle_path: bundleName, bundle_sha256: sha, bundle_size_bytes: zip.length };
}

async function writeHistory(ctx: JobContext, outcome: TrainOutcome): Promise<void> {
  const h = outcome.history;
  await ctx.sink.writeText(
    join(ctx.dir, 'history.json'),
    JSON.stringify({ train_loss: h.train_loss, val_loss: h.val_loss, learning_rate: h.learning_rate, epochs: h.epochs, stopped_early: outcome.stoppedEarly }, null, 2),
  );
}

/**
 * One job through the stages: backend, resolve, load, group, build, train, reconstruct, score,
 * write. A stage's failure comes back as status 'failed' with '<stage>: <reason>'.
 */
export function createPtychoPinnRunner(opts: PtychoPinnRunnerOptions = {}): JobRunner {
  return async (args: RunnerArgs): Promise<RunnerResult> => {
    const { job, sink } = args;
    const t0 = Date.now();
    const log = async (line: string) => {
      try {
        await sink.appendText(job.log_path, `[${new Date().toISOString()}] ${line}\n`);
      } catch {
        /* the log is best effort; artifacts and the result carry the facts */
      }
    };
    let pendingLog: Promise<void> = Promise.resolve();
    const ctx: JobContext = {
      args, opts, job, sink, dir: job.artifact_dir, log,
      logLater: (line) => { pendingLog = pendingLog.then(() => log(line)); },
      progress: args.onProgress ?? (() => {}),
    };
    let outcome: TrainOutcome | undefined;
    let model: PtychoPinn | undefined;
    const base = (): Partial<RunnerResult> => {
      const finished = Date.now();
      return {
        final_loss: outcome?.finalLoss ?? null,
        epochs_completed: outcome?.epochsCompleted ?? 0,
        history: outcome
          ? { train_loss: outcome.history.train_loss, val_loss: outcome.history.val_loss, learning_rate: outcome.history.learning_rate }
          : { train_loss: [], val_loss: [], learning_rate: [] },
        started_at: new Date(t0).toISOString(),
        finished_at: new Date(finished).toISOString(),
        duration_seconds: (finished - t0) / 1000,
        samples_per_second: outcome?.samplesPerSecond ?? 0,
        backend: tf.getBackend(),
      };
    };
    const noBundle = { bundle_path: null, bundle_sha256: null, bundle_size_bytes: null };

    try {
      await sink.mkdir(ctx.dir);
      await log(`PtychoPINN Studio training: view=${job.view} dose=${job.dose} gridsize=${job.gridsize}`);
      await log(`Train: ${job.train_data_path}`);
      await log(`Test: ${job.test_data_path}`);
      await backendStage(ctx);
      const resolved = await resolveStage(ctx);
      const loaded = await loadStage(ctx, resolved);
      const grouped = await groupStage(ctx, resolved, loaded);
      model = await buildStage(ctx, resolved, loaded);
      const trained = await trainStage(ctx, resolved, loaded, grouped, model);
      outcome = trained.outcome;
      await pendingLog;
      if (outcome.status !== 'success') {
        await writeHistory(ctx, outcome);
        if (outcome.status === 'cancelled') return { ...base(), status: 'cancelled', ...noBundle };
        throw new StageError('training', outcome.error?.replace(/^training: /, '') ?? 'training failed');
      }

      // reconstruct the test split
      ctx.progress({ status: 'saving', message: 'Reconstructing the test split' });
      const rec = await reconstruct(model, grouped.testGroups, { batchSize: resolved.settings.batchSize, M: opts.stitchM, signal: args.signal });
      const st = rec.stitched;
      ctx.progress({ status: 'preview', epoch: outcome.epochsCompleted, width: st.width, height: st.height, ...previewImages(st, loaded.test.object, rec.centres) });
      const metrics = await scoreStage(ctx, loaded, rec, trained.ssimHistory);
      const bundle = await writeStage(ctx, resolved, loaded, grouped, model, outcome, rec);
      ctx.progress({ status: 'done', message: `Trained ${outcome.epochsCompleted} epochs; final loss ${outcome.finalLoss === null ? 'n/a' : outcome.finalLoss.toPrecision(6)}` });
      return { ...base(), status: 'success', stopped_early: outcome.stoppedEarly, ...(metrics ? { metrics } : {}), ...bundle };
    } catch (e) {
      await pendingLog;
      const aborted = args.signal?.aborted && (e as Error)?.name === 'AbortError';
      if (aborted) return { ...base(), status: 'cancelled', ...noBundle };
      const error = e instanceof StageError ? e.message : `runner: ${errText(e)}`;
      await log(`FAILED: ${error}`);
      return { ...base(), status: 'failed', error, ...noBundle };
    } finally {
      model?.dispose();
      // WebGPU: give back the buffers tfjs pooled for this job (its shapes may not recur).
      await releaseGpuBufferPool().catch(() => 0);
    }
  };
}

/** The normalised probe the model used, as probe.npz (complex64 N×N) inside the bundle. */
function reconstructionProbeNpz(model: PtychoPinn): Uint8Array {
  const N = model.settings.N;
  const pr = new Float32Array(2 * N * N);
  for (let k = 0; k < N * N; k++) {
    pr[2 * k] = model.probeArrays.re[k];
    pr[2 * k + 1] = model.probeArrays.im[k];
  }
  return writeNpz({
    probe: { dtype: 'complex64', shape: [N, N], data: pr },
    log_intensity_scale: { dtype: 'float64', shape: [], data: Float64Array.from([model.lambda()]) },
  });
}

/**
 * Amplitude and phase for a live preview: pixels that no test crop reaches (stitch weight 0) are NaN,
 * so a display can tell "not scanned" from a reconstructed zero. The saved files keep the reference's
 * values (0 there). With the truth, it comes along sampled on the same grid (NaN where not scanned),
 * and the group centres in canvas pixels for a scan-position map.
 */
function previewImages(
  st: StitchedCanvas & { amplitude: Float32Array; phase: Float32Array },
  truth?: TruthObject,
  centres?: Float64Array,
): { amplitude: Float32Array; phase: Float32Array; truthAmplitude?: Float32Array; truthPhase?: Float32Array; positions?: { x: Float64Array; y: Float64Array } } {
  const amplitude = st.amplitude.slice();
  const phase = st.phase.slice();
  for (let i = 0; i < amplitude.length; i++) {
    if (st.weight[i] === 0) {
      amplitude[i] = NaN;
      phase[i] = NaN;
    }
  }
  const out: ReturnType<typeof previewImages> = { amplitude, phase };
  if (truth) {
    const re = sampleBilinear({ values: truth.re, H: truth.height, W: truth.width }, st.originX, st.originY, st.width, st.height).values;
    const im = sampleBilinear({ values: truth.im, H: truth.height, W: truth.width }, st.originX, st.originY, st.width, st.height).values;
    out.truthAmplitude = Float32Array.from(re, (v, k) => (st.weight[k] === 0 ? NaN : Math.hypot(v, im[k])));
    out.truthPhase = Float32Array.from(re, (v, k) => (st.weight[k] === 0 ? NaN : Math.atan2(im[k], v)));
  }
  if (centres) {
    const B = centres.length / 2;
    out.positions = {
      x: Float64Array.from({ length: B }, (_, b) => centres[2 * b] - st.originX),
      y: Float64Array.from({ length: B }, (_, b) => centres[2 * b + 1] - st.originY),
    };
  }
  return out;
}

/** The first k groups of a grouped set (a view for previews). */
function subsetGroups(g: GroupedData, k: number): GroupedData {
  const B = Math.min(g.B, Math.max(1, k));
  const row = g.N * g.N * g.C;
  return {
    ...g,
    B,
    X: g.X.subarray(0, B * row),
    offsets: g.offsets.subarray(0, B * g.C * 2),
    centres: g.centres.subarray(0, B * 2),
    indices: g.indices.subarray(0, B * g.C),
    seeds: g.seeds.subarray(0, B),
  };
}
