/**
 * The training loop (`model.py:625-684`): Adam 1e-3, batch from params, the last 5% as validation
 * (Keras tail split, before shuffling), the training part reshuffled every epoch (seeded),
 * ReduceLROnPlateau on val loss, EarlyStopping on training loss, per-step and per-epoch progress,
 * cancellation between steps, NaN/Inf detection, per-epoch checkpoints and resume.
 *
 * Tensor hygiene: every step creates its batch tensors and operators and disposes them before the
 * next one; after the first step (which creates Adam's moment variables) the live tensor count is
 * the same at the end of every step (reported in the 'step' events and tested).
 */
import * as tf from '@tensorflow/tfjs';
import type { EpochRecord, RunnerProgress } from '../study/runner';
import type { GroupedData } from './data';
import { validationSplit, VALIDATION_FRACTION } from './data';
import type { PtychoPinn } from './pinn';
import { Rng } from './rng';
import { EarlyStopping, ReduceLROnPlateau } from './callbacks';
import {
  decodeTensors,
  encodeTensors,
  fingerprintMismatch,
  type CheckpointFingerprint,
  type TrainingCheckpoint,
  type TrainingHistory,
} from './checkpoint';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  /** Seed of the shuffle generator. */
  seed: number;
  /** Adam learning rate, 1e-3 (`model.py:879`). */
  learningRate?: number;
  /**
   * ReduceLROnPlateau on the validation loss (default true, `model.py:653-655`). The reference's lines
   * benchmark streams its > 10 000 samples without a validation split, so the schedule never fires
   * there (`model.py:650-674`): false reproduces that.
   */
  reduceLrOnPlateau?: boolean;
  /** EarlyStopping on the training loss, patience 3 (default true, `model.py:653-655`). */
  earlyStopping?: boolean;
  /** Keras validation_split 0.05 (`model.py:681`). */
  validationFraction?: number;
  signal?: AbortSignal;
  onProgress?: (p: RunnerProgress) => void;
  /** Called after every epoch with the state needed to resume (await-ed before the next epoch). */
  onCheckpoint?: (c: TrainingCheckpoint) => void | Promise<void>;
  resume?: TrainingCheckpoint;
  /** Awaited after every epoch (after the checkpoint), e.g. to render a preview reconstruction. */
  onEpochEnd?: (epoch: number) => void | Promise<void>;
  /** One line per epoch and notable event (for train.log). */
  log?: (line: string) => void;
  /**
   * Test hook (fault injection, test/e2e/faults.spec.ts): the loss of this training step (1-based,
   * counted over the steps this call runs) is multiplied by NaN, so the NaN check below fires.
   */
  nanLossAtStep?: number;
}

export interface TrainOutcome {
  status: 'success' | 'failed' | 'cancelled';
  error?: string;
  history: TrainingHistory;
  epochsCompleted: number;
  finalLoss: number | null;
  stoppedEarly: boolean;
  /** Training samples per second of training-step time, over the whole run. */
  samplesPerSecond: number;
  trainSeconds: number;
  trainSamples: number;
  valSamples: number;
}

const now = (): number => globalThis.performance.now();

/** Let queued macrotasks (an abort message in a worker, UI events) run between steps. */
const yieldToEventLoop = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

interface AdamInternals {
  learningRate: number;
  accBeta1?: tf.Variable;
  accBeta2?: tf.Variable;
  iterations: number;
}

/** Build the model inputs s·X for the groups `idx` and their offsets. */
export function makeBatch(data: GroupedData, idx: ArrayLike<number>, scale: number): { inputs: tf.Tensor4D; offsets: Float32Array } {
  const { N, C } = data;
  const row = N * N * C;
  const b = idx.length;
  const x = new Float32Array(b * row);
  const offsets = new Float32Array(b * C * 2);
  for (let i = 0; i < b; i++) {
    const g = idx[i];
    const src = data.X.subarray(g * row, (g + 1) * row);
    const dst = i * row;
    for (let k = 0; k < row; k++) x[dst + k] = scale * src[k]; // model input s·X (`model.py:614-616`)
    offsets.set(data.offsets.subarray(g * C * 2, (g + 1) * C * 2), i * C * 2);
  }
  return { inputs: tf.tensor4d(x, [b, N, N, C]), offsets };
}

/** Mean loss over `idx` in batches, weighted by batch size (Keras reports sample-weighted means). */
export async function evaluateLoss(model: PtychoPinn, data: GroupedData, idx: Int32Array, batchSize: number): Promise<number> {
  let total = 0;
  for (let start = 0; start < idx.length; start += batchSize) {
    const part = idx.subarray(start, Math.min(idx.length, start + batchSize));
    const { inputs, offsets } = makeBatch(data, part, model.scale);
    const ops = model.operators(offsets, part.length);
    try {
      const l = tf.tidy(() => model.loss(inputs, ops, false));
      const v = (await l.data())[0];
      l.dispose();
      total += v * part.length;
    } finally {
      ops.dispose();
      inputs.dispose();
    }
  }
  return total / idx.length;
}

export async function trainPinn(model: PtychoPinn, data: GroupedData, opts: TrainOptions): Promise<TrainOutcome> {
  const s = model.settings;
  const lr0 = opts.learningRate ?? 1e-3; // Adam lr 1e-3, `model.py:879`
  const { train: nTrain, val: nVal } = validationSplit(data.B, opts.validationFraction ?? VALIDATION_FRACTION); // `model.py:681`
  const history: TrainingHistory = { train_loss: [], val_loss: [], learning_rate: [], epochs: [] };
  const outcome = (status: TrainOutcome['status'], extra: Partial<TrainOutcome> = {}): TrainOutcome => ({
    status,
    history,
    epochsCompleted: history.train_loss.length,
    finalLoss: history.train_loss.length ? history.train_loss[history.train_loss.length - 1] : null,
    stoppedEarly: false,
    samplesPerSecond: trainSeconds > 0 ? samplesSeen / trainSeconds : 0,
    trainSeconds,
    trainSamples: nTrain,
    valSamples: nVal,
    ...extra,
  });
  let trainSeconds = 0;
  let samplesSeen = 0;
  if (nTrain < 1) {
    return outcome('failed', { error: `training: ${data.B} group(s) leave no training samples after the 5% validation split` });
  }
  const bs = opts.batchSize;
  const trainIdx = new Int32Array(nTrain);
  for (let i = 0; i < nTrain; i++) trainIdx[i] = i;
  const valIdx = new Int32Array(nVal);
  for (let i = 0; i < nVal; i++) valIdx[i] = nTrain + i;
  const stepsPerEpoch = Math.ceil(nTrain / bs);

  const fingerprint: CheckpointFingerprint = {
    N: s.N,
    gridsize: s.gridsize,
    nFiltersScale: s.nFiltersScale,
    probeBig: s.probeBig,
    padObject: s.padObject,
    batchSize: bs,
    trainSamples: nTrain,
    valSamples: nVal,
    seed: opts.seed,
  };

  const optimizer = tf.train.adam(lr0); // Keras defaults β1 0.9, β2 0.999; ε = backend epsilon (`model.py:879`; tfjs `adam_optimizer.js:50-51`)
  const adam = optimizer as unknown as AdamInternals;
  const plateau = new ReduceLROnPlateau();
  const early = new EarlyStopping();
  let rng = new Rng(opts.seed);
  let lr = lr0;
  let startEpoch = 0;
  let stepsRun = 0;
  const vars = model.trainableVariables();

  try {
    if (opts.resume) {
      const ck = opts.resume;
      const why = fingerprintMismatch(fingerprint, ck.fingerprint);
      if (why) return outcome('failed', { error: `resume: the checkpoint does not belong to this run (${why})` });
      const w = decodeTensors(ck.weights);
      try {
        model.generator.setWeights(w.map((n) => n.tensor));
      } finally {
        tf.dispose(w.map((n) => n.tensor));
      }
      model.logScale.assign(tf.scalar(ck.lambda));
      const ow = decodeTensors(ck.optimizer);
      try {
        await optimizer.setWeights(ow);
      } finally {
        tf.dispose(ow.map((n) => n.tensor));
      }
      if (ck.adamAccBeta && adam.accBeta1 && adam.accBeta2) {
        adam.accBeta1.assign(tf.scalar(ck.adamAccBeta[0]));
        adam.accBeta2.assign(tf.scalar(ck.adamAccBeta[1]));
      }
      rng = new Rng(ck.rngState);
      plateau.state = { ...ck.plateau };
      early.state = { ...ck.earlyStopping };
      lr = ck.learningRate;
      startEpoch = ck.epoch;
      history.train_loss.push(...ck.history.train_loss);
      history.val_loss.push(...ck.history.val_loss);
      history.learning_rate.push(...ck.history.learning_rate);
      history.epochs.push(...ck.history.epochs);
      opts.log?.(`resumed from the checkpoint after epoch ${ck.epoch} (optimizer step ${ck.optimizerStep}, lr ${lr})`);
      if (ck.finished) return outcome('success', { stoppedEarly: ck.stoppedEarly });
    }

    const checkpoint = async (epoch: number, finished: boolean, stoppedEarly: boolean): Promise<TrainingCheckpoint> => {
      const weights = await encodeTensors(model.generator.weights.map((w, i) => ({ name: `w${i}`, tensor: w.read() })));
      const ow = await optimizer.getWeights();
      let optimizerW;
      try {
        optimizerW = await encodeTensors(ow);
      } finally {
        ow[0]?.tensor.dispose(); // the 'iter' scalar is created by getWeights; the moments are live variables
      }
      const accBeta: [number, number] | null =
        adam.accBeta1 && adam.accBeta2 ? [adam.accBeta1.dataSync()[0], adam.accBeta2.dataSync()[0]] : null;
      return {
        kind: 'ptychopinn-checkpoint',
        version: 1,
        fingerprint,
        epoch,
        optimizerStep: adam.iterations,
        learningRate: lr,
        lambda: model.lambda(),
        history: {
          train_loss: [...history.train_loss],
          val_loss: [...history.val_loss],
          learning_rate: [...history.learning_rate],
          epochs: history.epochs.map((e) => ({ ...e })),
        },
        rngState: rng.getState(),
        plateau: { ...plateau.state },
        earlyStopping: { ...early.state },
        weights,
        optimizer: optimizerW,
        adamAccBeta: accBeta,
        finished,
        stoppedEarly,
      };
    };

    for (let epoch = startEpoch; epoch < opts.epochs; epoch++) {
      adam.learningRate = lr;
      const order = rng.shuffle(trainIdx.slice()); // shuffle=True: reshuffle the training part every epoch
      const t0 = now();
      let stepSeconds = 0;
      let lossSum = 0;
      for (let step = 0; step < stepsPerEpoch; step++) {
        await yieldToEventLoop();
        if (opts.signal?.aborted) {
          opts.log?.(`cancelled at epoch ${epoch + 1}, before step ${step + 1} of ${stepsPerEpoch}`);
          return outcome('cancelled');
        }
        const part = order.subarray(step * bs, Math.min(nTrain, (step + 1) * bs));
        const ts = now();
        const { inputs, offsets } = makeBatch(data, part, model.scale);
        const ops = model.operators(offsets, part.length);
        let loss: number;
        const poison = ++stepsRun === opts.nanLossAtStep;
        try {
          const { value, grads } = tf.variableGrads(() => {
            const l = model.loss(inputs, ops, true);
            return poison ? tf.mul(l, NaN) : l;
          }, vars);
          loss = (await value.data())[0];
          value.dispose();
          if (!Number.isFinite(loss)) {
            tf.dispose(grads);
            const error = `training: the loss became ${loss} at epoch ${epoch + 1}, step ${step + 1} of ${stepsPerEpoch}; training stopped (weights before this step are kept)`;
            opts.log?.(error);
            return outcome('failed', { error });
          }
          (optimizer as tf.Optimizer).applyGradients(grads);
          tf.dispose(grads);
        } finally {
          ops.dispose();
          inputs.dispose();
        }
        const dt = (now() - ts) / 1000;
        stepSeconds += dt;
        trainSeconds += dt;
        samplesSeen += part.length;
        lossSum += loss * part.length;
        const done = step + 1;
        const sps = stepSeconds > 0 ? (done === stepsPerEpoch ? nTrain : done * bs) / stepSeconds : 0;
        const remainingSteps = stepsPerEpoch - done + (opts.epochs - epoch - 1) * stepsPerEpoch;
        opts.onProgress?.({
          status: 'step',
          epoch: epoch + 1,
          epochs: opts.epochs,
          step: done,
          steps: stepsPerEpoch,
          loss,
          samples_per_second: sps,
          eta_seconds: done > 0 ? (stepSeconds / done) * remainingSteps : null,
          tensors: tf.memory().numTensors,
        });
      }
      const trainLoss = lossSum / nTrain;
      let valLoss: number | null = null;
      if (nVal > 0) {
        valLoss = await evaluateLoss(model, data, valIdx, bs);
        if (!Number.isFinite(valLoss)) {
          const error = `training: the validation loss became ${valLoss} after epoch ${epoch + 1}; training stopped`;
          opts.log?.(error);
          return outcome('failed', { error });
        }
      }
      const seconds = (now() - t0) / 1000;
      const record: EpochRecord = {
        epoch: epoch + 1,
        train_loss: trainLoss,
        val_loss: valLoss,
        learning_rate: lr,
        seconds,
        samples_per_second: stepSeconds > 0 ? nTrain / stepSeconds : 0,
      };
      history.train_loss.push(trainLoss);
      history.val_loss.push(valLoss);
      history.learning_rate.push(lr);
      history.epochs.push(record);
      opts.onProgress?.({ status: 'epoch', record, epochs: opts.epochs });
      opts.log?.(
        `epoch ${epoch + 1}/${opts.epochs}: loss ${trainLoss.toPrecision(8)}, val_loss ${valLoss === null ? 'n/a' : valLoss.toPrecision(8)}, ` +
          `lr ${lr.toExponential(3)}, ${seconds.toFixed(2)} s, ${record.samples_per_second.toFixed(1)} samples/s`,
      );
      // Callback order as in the reference fit: [reduce_lr, earlystop] (model.py:653-655).
      const newLr = (opts.reduceLrOnPlateau ?? true) ? plateau.onEpochEnd(valLoss, lr) : lr;
      if (newLr !== lr) opts.log?.(`ReduceLROnPlateau: learning rate ${lr.toExponential(3)} -> ${newLr.toExponential(3)}`);
      lr = newLr;
      const stop = (opts.earlyStopping ?? true) ? early.onEpochEnd(trainLoss, epoch) : false;
      const last = stop || epoch + 1 === opts.epochs;
      if (opts.onCheckpoint) await opts.onCheckpoint(await checkpoint(epoch + 1, last, stop));
      if (opts.onEpochEnd) await opts.onEpochEnd(epoch + 1);
      if (stop) {
        opts.log?.(`EarlyStopping: training loss did not improve for ${early.patience} epochs; stopped after epoch ${epoch + 1}`);
        return outcome('success', { stoppedEarly: true });
      }
    }
    return outcome('success');
  } finally {
    optimizer.dispose();
  }
}
