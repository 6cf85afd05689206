/**
 * The WASM backend's convolution gradients (src/lib/runtime/wasm-kernels.ts) against the CPU backend's:
 * single convolutions of several geometries, then every gradient of a small PtychoPINN generator.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installWasmTrainingKernels } from '../../../src/lib/runtime/wasm-kernels';
import { installFastCpuKernels } from '../../../src/lib/runtime/cpu-kernels';
import { PtychoPinn } from '../../../src/lib/model/pinn';
import { settingsFromParams } from '../../../src/lib/model/settings';
import { Rng } from '../../../src/lib/model/rng';

function random(n: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => 2 * r.next() - 1);
}

/** max |a − b| / max |a| */
function relErr(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(a[i]));
  }
  return d / s;
}

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

async function convGrads(backend: 'cpu' | 'wasm', xShape: number[], wShape: number[], pad: Pad, seed: number) {
  await tf.setBackend(backend);
  const x = tf.tensor4d(random(xShape.reduce((a, b) => a * b), seed), xShape as [number, number, number, number]);
  const w = tf.tensor4d(random(wShape.reduce((a, b) => a * b), seed + 1), wShape as [number, number, number, number]);
  const before = tf.memory().numTensors;
  const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad))))([x, w]);
  const out = { dx: (await g[0].data()) as Float32Array, dw: (await g[1].data()) as Float32Array, shapes: [g[0].shape, g[1].shape] };
  tf.dispose(g);
  const leaked = tf.memory().numTensors - before;
  tf.dispose([x, w]);
  return { ...out, leaked };
}

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
  installWasmTrainingKernels();
  await tf.setBackend('cpu');
  installFastCpuKernels();
});

describe('WASM convolution gradients', () => {
  const cases: Array<[string, number[], number[], Pad]> = [
    ['3x3 same', [2, 9, 7, 3], [3, 3, 3, 5], 'same'],
    ['3x3 valid', [2, 9, 7, 3], [3, 3, 3, 4], 'valid'],
    ['1x1 same', [3, 5, 5, 4], [1, 1, 4, 2], 'same'],
    ['4x4 same (uneven pads)', [1, 8, 8, 2], [4, 4, 2, 3], 'same'],
    ['5x3 explicit pads', [2, 6, 7, 2], [5, 3, 2, 3], [[0, 0], [2, 1], [0, 2], [0, 0]]],
  ];
  for (const [name, xs, ws, pad] of cases) {
    it(`${name}: dx and dW equal the CPU backend's`, async () => {
      const cpu = await convGrads('cpu', xs, ws, pad, 11);
      const wasm = await convGrads('wasm', xs, ws, pad, 11);
      expect(wasm.shapes).toEqual(cpu.shapes);
      expect(relErr(cpu.dx, wasm.dx)).toBeLessThan(1e-5);
      expect(relErr(cpu.dw, wasm.dw)).toBeLessThan(1e-5);
      expect(wasm.leaked).toBe(cpu.leaked);
    });
  }

  it('every gradient of a small generator (N = 16, gridsize 2) equals the CPU backend\'s', async () => {
    const settings = settingsFromParams({ N: 16, gridsize: 2, n_filters_scale: 0.25, batch_size: 3, nphotons: 1e6 });
    const B = 3;
    const inputs = random(B * 16 * 16 * 4, 5).map((v) => 40 * Math.abs(v));
    const offsets = random(B * 4 * 2, 6).map((v) => 3 * v);
    const evaluate = async (backend: 'cpu' | 'wasm', weights?: tf.Tensor[]) => {
      await tf.setBackend(backend);
      const model = new PtychoPinn({ settings, seed: 9 });
      if (weights) model.generator.setWeights(weights.map((w) => tf.tensor(w.dataSync(), w.shape)));
      const x = tf.tensor4d(inputs, [B, 16, 16, 4]);
      const ops = model.operators(offsets, B);
      const vars = model.trainableVariables();
      const { value, grads } = tf.variableGrads(() => model.loss(x, ops, true), vars);
      const out = { loss: (await value.data())[0], grads: vars.map((v) => grads[v.name].dataSync() as Float32Array), weights: model.generator.getWeights().map((w) => w.clone()) };
      tf.dispose([value, ...Object.values(grads), x]);
      ops.dispose();
      model.dispose();
      return out;
    };
    const cpu = await evaluate('cpu');
    const cpuWeights = cpu.weights.map((w) => ({ v: w.dataSync().slice(), s: w.shape }));
    await tf.setBackend('wasm');
    const wasm = await evaluate('wasm', cpuWeights.map((w) => tf.tensor(w.v, w.s)));
    expect(Math.abs(wasm.loss - cpu.loss) / Math.abs(cpu.loss)).toBeLessThan(1e-5);
    let worst = 0;
    cpu.grads.forEach((g, i) => { worst = Math.max(worst, relErr(g, wasm.grads[i])); });
    expect(worst).toBeLessThan(1e-2);
    expect(cpu.grads.length).toBeGreaterThan(10);
  });
});
