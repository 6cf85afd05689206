import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { installFastCpuKernels } from '../../../src/lib/runtime/cpu-kernels';
import { groupDataset, trainingBudget, type GroupedData } from '../../../src/lib/model/data';
import { PtychoPinn } from '../../../src/lib/model/pinn';
import { settingsFromParams } from '../../../src/lib/model/settings';
import { evaluateLoss, trainPinn } from '../../../src/lib/model/train';
import type { TrainingCheckpoint } from '../../../src/lib/model/checkpoint';
import type { RunnerProgress } from '../../../src/lib/study/runner';
import { tinyDataset, tinyParams } from './helpers';

beforeAll(async () => {
  await tf.setBackend('cpu');
  installFastCpuKernels();
});

function setup(over: Record<string, unknown> = {}, n = 40, seed = 11) {
  const settings = settingsFromParams(tinyParams(over));
  const ds = tinyDataset(settings.N, n, 3, settings.nPhotons);
  const data = groupDataset(ds, { gridsize: settings.gridsize, nGroups: settings.nGroups, neighborCount: settings.neighborCount, seed: 5 });
  const model = new PtychoPinn({ settings, probe: ds.probe, seed });
  return { settings, data, model };
}

const allIdx = (d: GroupedData) => Int32Array.from({ length: d.B }, (_, i) => i);

describe('training loop', () => {
  it('lowers the training and validation loss on a tiny simulated dataset', async () => {
    const { data, model } = setup({}, 48);
    const before = await evaluateLoss(model, data, allIdx(data), 16);
    const events: RunnerProgress[] = [];
    const out = await trainPinn(model, data, { epochs: 4, batchSize: 8, seed: 1, onProgress: (p) => events.push(p) });
    const after = await evaluateLoss(model, data, allIdx(data), 16);
    expect(out.status).toBe('success');
    expect(out.epochsCompleted).toBe(4);
    expect(out.trainSamples).toBe(45); // floor(48·0.95)
    expect(out.valSamples).toBe(3);
    expect(after).toBeLessThan(before);
    const h = out.history;
    expect(h.train_loss[3]).toBeLessThan(h.train_loss[0]);
    expect(h.val_loss[3]!).toBeLessThan(h.val_loss[0]!);
    expect(h.learning_rate[0]).toBe(1e-3);
    const epochs = events.filter((e) => e.status === 'epoch');
    const steps = events.filter((e) => e.status === 'step');
    expect(epochs.length).toBe(4);
    expect(steps.length).toBe(4 * 6); // ceil(45/8) steps per epoch
    // the job table's budget (trainingBudget) says what this run did, before it runs
    const { settings } = setup({}, 48);
    expect(trainingBudget(48, { groups: settings.nGroups, batchSize: 8, epochs: 4 })).toEqual({
      groups: data.B, trainGroups: out.trainSamples, stepsPerEpoch: 6, steps: steps.length,
    });
    for (const e of epochs) if (e.status === 'epoch') expect(e.record.samples_per_second).toBeGreaterThan(0);
    // record for the report: loss decrease
    console.log(`[train test] loss before ${before.toFixed(4)} after ${after.toFixed(4)}; history ${h.train_loss.map((v) => v.toFixed(4)).join(', ')}`);
    model.dispose();
  });

  it('keeps the tensor count constant from step to step (gridsize 2, across epochs and validation)', async () => {
    const { data, model } = setup({ gridsize: 2 }, 40);
    const counts: number[] = [];
    const out = await trainPinn(model, data, {
      epochs: 2, batchSize: 8, seed: 2,
      onProgress: (p) => { if (p.status === 'step') counts.push(p.tensors!); },
    });
    expect(out.status).toBe('success');
    expect(counts.length).toBe(2 * 5);
    // Adam creates its moment variables on the first step; from then on nothing may accumulate.
    expect(new Set(counts).size).toBe(1);
    const live = tf.memory().numTensors;
    model.dispose();
    expect(tf.memory().numTensors).toBeLessThan(live);
  });

  it('cancels between steps and reports cancelled', async () => {
    const { data, model } = setup({}, 40);
    const ac = new AbortController();
    let steps = 0;
    const out = await trainPinn(model, data, {
      epochs: 3, batchSize: 8, seed: 3, signal: ac.signal,
      onProgress: (p) => { if (p.status === 'step') { steps++; if (steps === 2) ac.abort(); } },
    });
    expect(out.status).toBe('cancelled');
    expect(steps).toBe(2);
    expect(out.epochsCompleted).toBe(0);
    model.dispose();
  });

  it('fails with the epoch and step when the loss becomes NaN', async () => {
    const { data, model } = setup({}, 40);
    // poison one training group's diffraction: its batch yields a NaN loss
    data.X[3 * 16 * 16 + 7] = Number.NaN;
    const before = model.generator.weights[0].read().dataSync().slice();
    const out = await trainPinn(model, data, { epochs: 2, batchSize: 8, seed: 4 });
    expect(out.status).toBe('failed');
    expect(out.error).toMatch(/loss became NaN at epoch 1, step [1-5] of 5/);
    expect(out.epochsCompleted).toBe(0);
    // the poisoned step's update was not applied, so the weights are finite
    expect(Array.from(model.generator.weights[0].read().dataSync()).every(Number.isFinite)).toBe(true);
    expect(before.length).toBeGreaterThan(0);
    model.dispose();
  });

  it('resuming from an epoch checkpoint gives exactly the weights of an uninterrupted run', async () => {
    const a = setup({ gridsize: 2 }, 40, 21);
    const full = await trainPinn(a.model, a.data, { epochs: 2, batchSize: 8, seed: 9 });
    expect(full.status).toBe('success');
    const wFull = a.model.generator.getWeights().map((t) => Array.from(t.dataSync()));

    const b = setup({ gridsize: 2 }, 40, 21);
    const ac = new AbortController();
    let ck: TrainingCheckpoint | undefined;
    const part = await trainPinn(b.model, b.data, {
      epochs: 2, batchSize: 8, seed: 9, signal: ac.signal,
      onCheckpoint: (c) => { ck = c; ac.abort(); },
    });
    expect(part.status).toBe('cancelled');
    expect(ck!.epoch).toBe(1);
    expect(ck!.optimizerStep).toBe(5);
    b.model.dispose();
    // JSON-free but structured-clone-like copy: a fresh model with a different init seed
    const c = setup({ gridsize: 2 }, 40, 99);
    const res = await trainPinn(c.model, c.data, { epochs: 2, batchSize: 8, seed: 9, resume: structuredClone(ck!) });
    expect(res.status).toBe('success');
    expect(res.epochsCompleted).toBe(2);
    expect(res.history.train_loss[0]).toBe(full.history.train_loss[0]);
    expect(res.history.train_loss[1]).toBe(full.history.train_loss[1]);
    const wRes = c.model.generator.getWeights().map((t) => Array.from(t.dataSync()));
    expect(wRes).toEqual(wFull);
    a.model.dispose();
    c.model.dispose();
  });

  it('refuses a checkpoint from a different run', async () => {
    const a = setup({}, 40);
    let ck: TrainingCheckpoint | undefined;
    await trainPinn(a.model, a.data, { epochs: 1, batchSize: 8, seed: 1, onCheckpoint: (c) => { ck = c; } });
    const out = await trainPinn(a.model, a.data, { epochs: 2, batchSize: 4, seed: 1, resume: ck });
    expect(out.status).toBe('failed');
    expect(out.error).toMatch(/batchSize is 8 in the checkpoint but 4 in this run/);
    a.model.dispose();
  });
});
