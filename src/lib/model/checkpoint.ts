/**
 * Per-epoch training checkpoints (README.md: unfinished jobs resume from their last epoch
 * checkpoint). Everything is plain data (numbers, arrays, ArrayBuffers), so the app can put it in
 * IndexedDB or post it between a worker and the page.
 */
import * as tf from '@tensorflow/tfjs';
import type { RngState } from './rng';
import type { PlateauState, EarlyStoppingState } from './callbacks';
import type { EpochRecord } from '../study/runner';

export interface TrainingHistory {
  train_loss: number[];
  val_loss: (number | null)[];
  learning_rate: number[];
  epochs: EpochRecord[];
}

/** tfjs-core's NamedTensor (not re-exported by the @tensorflow/tfjs bundle). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

export interface EncodedWeights {
  specs: tf.io.WeightsManifestEntry[];
  data: ArrayBuffer;
}

/** What a checkpoint must match to be resumable into a run (same model and same data). */
export interface CheckpointFingerprint {
  N: number;
  gridsize: number;
  nFiltersScale: number;
  probeBig: boolean;
  padObject: boolean;
  batchSize: number;
  trainSamples: number;
  valSamples: number;
  seed: number;
}

export interface TrainingCheckpoint {
  kind: 'ptychopinn-checkpoint';
  version: 1;
  fingerprint: CheckpointFingerprint;
  /** Epochs completed (1-based count). */
  epoch: number;
  /** Adam step count. */
  optimizerStep: number;
  learningRate: number;
  /** λ (log intensity scale). */
  lambda: number;
  history: TrainingHistory;
  rngState: RngState;
  plateau: PlateauState;
  earlyStopping: EarlyStoppingState;
  /** Generator weights, in generator.weights order. */
  weights: EncodedWeights;
  /** Adam state: iter, first moments, second moments (tfjs Optimizer.getWeights order). */
  optimizer: EncodedWeights;
  /** Adam's running β1^t, β2^t as stored (restored exactly so a resumed run is bit-identical). */
  adamAccBeta: [number, number] | null;
  /** Training ended with this epoch (last epoch or early stopping): a resume trains no further. */
  finished: boolean;
  stoppedEarly: boolean;
}

export function isTrainingCheckpoint(x: unknown): x is TrainingCheckpoint {
  if (typeof x !== 'object' || x === null) return false;
  const c = x as Partial<TrainingCheckpoint>;
  return c.kind === 'ptychopinn-checkpoint' && c.version === 1 && typeof c.epoch === 'number' && !!c.weights && !!c.optimizer;
}

function toArrayBuffer(data: tf.io.WeightData): ArrayBuffer {
  return Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data;
}

export async function encodeTensors(named: NamedTensor[]): Promise<EncodedWeights> {
  const { data, specs } = await tf.io.encodeWeights(named);
  return { data: toArrayBuffer(data), specs };
}

export function decodeTensors(w: EncodedWeights): NamedTensor[] {
  const map = tf.io.decodeWeights(w.data, w.specs);
  return w.specs.map((s) => ({ name: s.name, tensor: map[s.name] }));
}

/** First difference between two fingerprints, in words, or null when they match. */
export function fingerprintMismatch(a: CheckpointFingerprint, b: CheckpointFingerprint): string | null {
  for (const k of Object.keys(a) as (keyof CheckpointFingerprint)[]) {
    if (a[k] !== b[k]) return `${k} is ${String(b[k])} in the checkpoint but ${String(a[k])} in this run`;
  }
  return null;
}
