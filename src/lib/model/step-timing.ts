/**
 * What a study's time estimate is measured from (src/lib/model/estimate.ts): on the current tfjs
 * backend, one real PtychoPINN training step (variableGrads of the real loss + Adam, as
 * timeTrainingSteps below times it) and one forward pass without
 * gradients (the validation loss, previews and scoring: evaluateLoss in src/lib/model/train.ts,
 * predictPatches in src/lib/model/infer.ts) at the settings' shapes (N, gridsize, batch, filter scale).
 *
 * Kept cheap, and each timed step is not the first at its shape (on WASM the first step at a new batch
 * size ran ~30 % slower than the next: buffers are allocated; on WebGPU shaders compile):
 *   1. a warm-up step and a timed step at a batch p of `probeBatch` (4, or the settings' batch when
 *      smaller): the per-sample time t_p / p;
 *   2. the largest batch q <= the settings' batch whose step, at that per-sample time, fits
 *      `budgetMs`: one untimed step at q (its first), one timed; the same for one forward pass;
 *   3. where q is the settings' batch b, that is the measurement; where it is smaller (large models on
 *      WASM or the CPU backend), the times are scaled in proportion, b / q. That errs upwards: the
 *      fixed per-step overhead is scaled too, and small batches use the cores less well. From batch 2
 *      the error was large (WASM, N = 64, filter scale 2, batch 16: 7-9 s estimated against 4.5-6 s a
 *      step), from batch 4 small (1.38 s x 4 = 5.5 s against 5.3-5.9 s), hence p = 4.
 * A backend whose warm-up step alone takes over twice the budget is timed by that step alone.
 * Gridsize changes the shapes (channels, the merge), so each gridsize a study needs is timed on its
 * own model, never scaled. The timed region holds what trainPinn's step time holds (the batch's
 * operators, the gradients, Adam's update, reading the loss).
 */
import * as tf from '@tensorflow/tfjs';
import { PtychoPinn } from './pinn';
import type { PinnSettings } from './settings';
import { disposePhysicsCache } from '../physics/dft';
import type { StepTimer } from '../runtime/choose';

/** The shapes a training step depends on. */
export interface StepShape {
  N: number;
  gridsize: 1 | 2;
  filterScale: number;
  batch: number;
}

/** The settings of a timing model at shape `s` (the reference defaults otherwise; src/lib/model/step-timing.ts too). */
export function stepSettings(s: StepShape): PinnSettings {
  return {
    N: s.N, gridsize: s.gridsize, C: s.gridsize * s.gridsize, nFiltersScale: s.filterScale, batchSize: s.batch, nEpochs: 1,
    nGroups: s.batch, neighborCount: 4, nPhotons: 1e9, probeBig: true, probeMask: false, probeScale: 4, offset: 4,
    maxPositionJitter: 10, ampActivation: 'sigmoid', padObject: true, objectBig: true,
    intensityScaleTrainableRequested: false, nllWeight: 1, maeWeight: 0, realspaceWeight: 0,
    outputPrefix: 'choose', subsampleSeed: 1,
  };
}

/**
 * Milliseconds of `steps` training steps on the current backend at shape `s` (each step awaited
 * to its last variable update), after building the model. Everything it makes is disposed.
 */
/** Synthetic inputs and group offsets of a timing step: B groups of the shape's C channels. */
export function timingBatch(s: Pick<StepShape, 'N' | 'gridsize'>, B: number): { inputs: tf.Tensor4D; offsets: Float32Array } {
  const C = s.gridsize * s.gridsize;
  const inputs = tf.randomUniform([B, s.N, s.N, C], 0, 30, 'float32', 1) as tf.Tensor4D;
  const offsets = new Float32Array(B * C * 2).map((_, i) => (s.gridsize === 1 ? 0 : ((i * 7919) % 13) - 6));
  return { inputs, offsets };
}

/** One optimizer step, waited for to its end (the loss and the last variable read back). */
export async function syncedTrainStep(
  model: PtychoPinn, opt: tf.Optimizer, vars: tf.Variable[], inputs: tf.Tensor4D, ops: ReturnType<PtychoPinn['operators']>,
): Promise<void> {
  const { value, grads } = tf.variableGrads(() => model.loss(inputs, ops, true), vars);
  opt.applyGradients(grads as tf.NamedTensorMap as never);
  tf.dispose(Object.values(grads));
  await value.data();
  value.dispose();
  await vars[vars.length - 1].data();
}

export async function timeTrainingSteps(s: StepShape, steps: number, budgetMs = Infinity): Promise<number[]> {
  const model = new PtychoPinn({ settings: stepSettings(s), seed: 1 });
  const { inputs, offsets } = timingBatch(s, s.batch);
  const ops = model.operators(offsets, s.batch);
  const opt = tf.train.adam(1e-3);
  const vars = model.trainableVariables();
  const out: number[] = [];
  try {
    for (let i = 0; i < steps; i++) {
      const t = performance.now();
      await syncedTrainStep(model, opt, vars, inputs, ops);
      out.push(performance.now() - t);
      if (out.reduce((a, b) => a + b, 0) > budgetMs) break;
    }
  } finally {
    tf.dispose([inputs]);
    ops.dispose();
    opt.dispose();
    model.dispose();
  }
  return out;
}

/**
 * The backend choice's step (src/lib/runtime/choose.ts): a training step at shape `s` on whichever
 * backend is current (the choice starts it and installs our kernels); and the physics' cached
 * matrices dropped before WASM restarts.
 */
export function stepTimer(s: StepShape): { timeSteps: StepTimer; beforeWasmRestart: () => void } {
  return {
    timeSteps: async (_backend, steps) => timeTrainingSteps(s, steps),
    beforeWasmRestart: disposePhysicsCache,
  };
}

export interface ShapeTiming {
  /** The settings' shapes this timing is for (batch = the settings' batch size). */
  N: number;
  gridsize: 1 | 2;
  filterScale: number;
  batch: number;
  /** Seconds of one training step at the settings' batch (measured at `timedBatch`, scaled when smaller). */
  stepSeconds: number;
  /** Seconds of one forward pass (no gradients) of a batch of the settings' size, likewise. */
  forwardSeconds: number;
  /** Seconds to build the model (the runner builds one per job). */
  buildSeconds: number;
  /** Seconds of the first (warm-up) step, at the probe batch. */
  warmupSeconds: number;
  /** The batch the timed step ran at (= batch unless it would have exceeded the budget). */
  timedBatch: number;
}

export interface StepTimingOptions {
  /** Budget of one timed step, ms (default 1500): a larger batch is timed smaller and scaled. */
  budgetMs?: number;
  /** Batch of the probe steps (default 4, or the settings' batch when smaller). */
  probeBatch?: number;
}

const now = () => performance.now();

/** Seconds a training step and a forward pass take at shape `s` on the current backend (see the header). */
export async function measureShape(s: StepShape, opts: StepTimingOptions = {}): Promise<ShapeTiming> {
  const budget = (opts.budgetMs ?? 1500) / 1000;
  const probe = Math.max(1, Math.min(s.batch, opts.probeBatch ?? 4));
  const tb = now();
  const model = new PtychoPinn({ settings: stepSettings(s), seed: 1 });
  const buildSeconds = (now() - tb) / 1000;
  const opt = tf.train.adam(1e-3);
  const vars = model.trainableVariables();
  /** Time `run` on a fresh synthetic batch of b groups (operators built inside the timing, as the runner builds them per batch). */
  const timed = async (b: number, run: (inputs: tf.Tensor4D, ops: ReturnType<PtychoPinn['operators']>) => Promise<void>): Promise<number> => {
    const { inputs, offsets } = timingBatch(s, b);
    await inputs.data();
    const t = now();
    const ops = model.operators(offsets, b);
    try {
      await run(inputs, ops);
      return (now() - t) / 1000;
    } finally {
      inputs.dispose();
      ops.dispose();
    }
  };
  const step = (b: number): Promise<number> => timed(b, (inputs, ops) => syncedTrainStep(model, opt, vars, inputs, ops));
  const forward = (b: number): Promise<number> =>
    timed(b, async (inputs, ops) => {
      const l = tf.tidy(() => model.loss(inputs, ops, false));
      await l.data();
      l.dispose();
    });
  try {
    const warmupSeconds = await step(probe);
    // A backend so slow that its first step alone takes twice the budget (the pure-JavaScript CPU
    // backend on a large model) is not timed again: the warm-up stands for the step (an upper bound).
    const slow = warmupSeconds > 2 * budget;
    const probeSeconds = slow ? warmupSeconds : await step(probe);
    const perSample = probeSeconds / probe;
    const timedBatch = Math.max(probe, Math.min(s.batch, Math.floor(budget / Math.max(perSample, 1e-9))));
    let timedSeconds = probeSeconds;
    if (timedBatch !== probe) {
      await step(timedBatch); // its first step at this batch
      timedSeconds = await step(timedBatch);
    }
    if (!slow) await forward(timedBatch); // the forward pass's first run at this batch
    const fwd = await forward(timedBatch);
    const scale = s.batch / timedBatch;
    return {
      N: s.N, gridsize: s.gridsize, filterScale: s.filterScale, batch: s.batch,
      stepSeconds: timedSeconds * scale,
      forwardSeconds: fwd * scale,
      buildSeconds,
      warmupSeconds,
      timedBatch,
    };
  } finally {
    opt.dispose();
    model.dispose();
  }
}
