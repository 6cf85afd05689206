/**
 * The step measured for the time estimate (src/lib/model/step-timing.ts), on Node's WASM backend at a
 * small shape: positive times, the settings' batch timed where it fits the budget, a smaller batch
 * (scaled) where it does not, and nothing left behind. No assertion on speed (machines are noisy).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installTrainingKernels } from '../../../src/lib/runtime/kernels';
import { measureShape } from '../../../src/lib/model/step-timing';
import { disposePhysicsCache } from '../../../src/lib/physics/dft';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  installTrainingKernels('wasm');
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('measureShape', () => {
  it('times a step and a forward pass at the settings\' batch, at gridsize 1 and 2, disposing everything', async () => {
    disposePhysicsCache();
    const before = tf.memory().numTensors;
    for (const gridsize of [1, 2] as const) {
      const t = await measureShape({ N: 32, gridsize, filterScale: 0.25, batch: 8 }, { budgetMs: 60_000 });
      expect(t).toMatchObject({ N: 32, gridsize, filterScale: 0.25, batch: 8, timedBatch: 8 });
      expect(t.stepSeconds).toBeGreaterThan(0);
      expect(t.forwardSeconds).toBeGreaterThan(0);
      expect(t.warmupSeconds).toBeGreaterThan(0);
      expect(t.buildSeconds).toBeGreaterThanOrEqual(0);
    }
    disposePhysicsCache(); // the physics' DFT matrices are cached between steps by design
    expect(tf.memory().numTensors).toBe(before);
  });

  it('over the budget: timed at the probe batch and scaled to the settings\' batch', async () => {
    const t = await measureShape({ N: 32, gridsize: 1, filterScale: 0.25, batch: 16 }, { budgetMs: 1, probeBatch: 4 });
    expect(t.timedBatch).toBe(4);
    expect(t.batch).toBe(16);
    expect(t.stepSeconds).toBeGreaterThan(0);
  });
});
