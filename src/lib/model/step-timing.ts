/**
 * What a study's time estimate is measured from (src/lib/model/estimate.ts): on the current tfjs
 * backend, one real PtychoPINN training step (variableGrads of the real loss + Adam, as
 * timeTrainingSteps in src/lib/model/choose-backend.ts times it) and one forward pass without
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
import { stepSettings, syncedTrainStep, timingBatch, type StepShape } from './choose-backend';

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
