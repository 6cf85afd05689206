/**
 * In-browser benchmarks driven by bench/run.ts through Playwright: one PtychoPINN training step
 * timed on the current backend, the forward physics as matrix-DFT versus tfjs' FFT, and the peak
 * of a large matrix product on the same backend.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/lib/runtime/backend';
import { PtychoPinn } from '../../src/lib/model/pinn';
import type { PinnSettings } from '../../src/lib/model/settings';

export async function setBackend(name: 'webgpu' | 'cpu'): Promise<string> {
  const info = await initBackend(name);
  return info.name;
}

function settings(N: number, gridsize: number, f: number, batch: number): PinnSettings {
  return {
    N, gridsize, C: gridsize * gridsize, nFiltersScale: f, batchSize: batch, nEpochs: 1, nGroups: 64,
    neighborCount: 4, nPhotons: 1e9, probeBig: true, probeMask: false, probeScale: 4, offset: 4,
    maxPositionJitter: 10, ampActivation: 'sigmoid', padObject: true, objectBig: true,
    intensityScaleTrainableRequested: true, nllWeight: 1, maeWeight: 0, realspaceWeight: 0,
    outputPrefix: 'bench', subsampleSeed: 1,
  };
}

export interface StepTiming {
  firstStepMs: number;
  stepMs: number[];
  medianStepMs: number;
  forwardMs: number;
}

/** Time training steps (variableGrads + Adam) for a fixed batch; the first includes shader compilation. */
export async function trainStep(N: number, gridsize: number, f: number, batch: number, steps: number): Promise<StepTiming> {
  const s = settings(N, gridsize, f, batch);
  const model = new PtychoPinn({ settings: s, seed: 1 });
  const C = s.C;
  const inputs = tf.randomUniform([batch, N, N, C], 0, 30, 'float32', 1) as tf.Tensor4D;
  const offsets = new Float32Array(batch * C * 2).map((_, i) => (gridsize === 1 ? 0 : ((i * 7919) % 13) - 6));
  const ops = model.operators(offsets, batch);
  const opt = tf.train.adam(1e-3);
  const vars = model.trainableVariables();
  const one = async () => {
    const t = performance.now();
    const { value, grads } = tf.variableGrads(() => model.loss(inputs, ops, true), vars);
    await value.data();
    opt.applyGradients(grads as tf.NamedTensorMap as never);
    tf.dispose([value, ...Object.values(grads)]);
    // Wait for the optimizer update to finish on the device too.
    await vars[0].data();
    return performance.now() - t;
  };
  const firstStepMs = await one();
  const stepMs: number[] = [];
  for (let i = 0; i < steps; i++) stepMs.push(await one());
  const tf0 = performance.now();
  const l = model.loss(inputs, ops, false);
  await l.data();
  const forwardMs = performance.now() - tf0;
  l.dispose();
  ops.dispose();
  inputs.dispose();
  opt.dispose();
  model.dispose();
  const sorted = [...stepMs].sort((a, b) => a - b);
  return { firstStepMs, stepMs, medianStepMs: sorted[Math.floor(sorted.length / 2)], forwardMs };
}

/** Median milliseconds of fn() (awaiting its result's data) over `reps` runs after one warm-up. */
export async function timeOp(fn: () => tf.Tensor, reps = 3): Promise<number> {
  const run = async () => {
    const t = performance.now();
    const y = fn();
    await y.data();
    y.dispose();
    return performance.now() - t;
  };
  await run();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) ts.push(await run());
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}

export async function probeOps(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const x = tf.randomNormal([8, 32, 32, 64]) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, 64, 64]) as tf.Tensor4D;
  out['conv 8x32x32x64 -> 64'] = await timeOp(() => tf.conv2d(x, w, 1, 'same'));
  const a = tf.randomNormal([512, 512]);
  out['matmul 512^3'] = await timeOp(() => tf.matMul(a, a));
  const e = tf.randomNormal([8, 32, 32, 64]);
  out['relu 8x32x32x64'] = await timeOp(() => tf.relu(e));
  const small = tf.randomNormal([4]);
  out['add tiny'] = await timeOp(() => tf.add(small, small), 10);
  tf.dispose([x, w, a, e, small]);
  return out;
}
