/**
 * The measured backend choice (src/lib/runtime/choose.ts, with the model's step: src/lib/model/step-timing.ts stepTimer), in Node with the CPU and WASM
 * backends as candidates: both are timed on a real step, tfjs is left on the one whose step was
 * faster, and the reason names the other with the measured ratio. Which one wins is the machine's
 * business (benchmarks measure that); this checks that the choice follows the measurements.
 */
import { describe, it, expect, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { chooseBackend, restartWasm, ruleCandidates } from '../../../src/lib/runtime/choose';
import { stepTimer, timeTrainingSteps } from '../../../src/lib/model/step-timing';
import { installTrainingKernels } from '../../../src/lib/runtime/kernels';
import { disposePhysicsCache } from '../../../src/lib/physics/dft';
import type { AdapterReport } from '../../../src/lib/runtime/adapter';

const adapter = (software: boolean): AdapterReport => ({
  kind: 'webgpu', vendor: 'v', architecture: software ? 'swiftshader' : 'ampere', device: '', description: '', software,
});
const none: AdapterReport = { kind: 'none', vendor: '', architecture: '', device: '', description: '', software: false, reason: 'no navigator.gpu' };

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('chooseBackend', () => {
  it('times WebGPU only on a hardware adapter; WASM everywhere', () => {
    expect(ruleCandidates(adapter(false))).toEqual(['webgpu', 'wasm']);
    expect(ruleCandidates(adapter(true))).toEqual(['wasm']);
    expect(ruleCandidates(none)).toEqual(['wasm']);
  });

  it('times each candidate on a real step and keeps the faster one', async () => {
    const shape = { N: 32, gridsize: 1 as const, filterScale: 0.25, batch: 2 };
    let told = 0;
    const c = await chooseBackend({ ...stepTimer(shape), candidates: ['cpu', 'wasm'], adapter: none, onTiming: () => { told += 1; } });
    expect(told).toBe(1);
    expect(c.timings.map((t) => t.name)).toEqual(['cpu', 'wasm']);
    for (const t of c.timings) {
      expect(t.warmupMs).toBeGreaterThan(0);
      expect(t.stepMs).toBeGreaterThan(0);
    }
    const fastest = c.timings.reduce((a, b) => (b.stepMs! < a.stepMs! ? b : a));
    expect(c.name).toBe(fastest.name);
    expect(tf.getBackend()).toBe(c.name);
    const other = c.timings.find((t) => t.name !== c.name)!;
    expect(c.reason).toContain(`${(other.stepMs! / fastest.stepMs!).toFixed(1)}x`);
    if (c.name === 'wasm') expect(c.simd).toBe(true);
    expect(tf.memory().numTensors).toBeLessThan(50); // the timing models were disposed
  });

  it('with one candidate nothing is timed; where no candidate starts, the CPU backend trains and says why', async () => {
    const one = await chooseBackend({ ...stepTimer({ N: 32, gridsize: 1, filterScale: 0.25, batch: 2 }), candidates: ['wasm'], adapter: adapter(true) });
    expect(one.name).toBe('wasm');
    expect(one.timings[0].stepMs).toBeNull();
    expect(one.reason).toMatch(/software one/);
    // Node has no navigator.gpu here: WebGPU cannot start, so the CPU backend is the fallback.
    const fallback = await chooseBackend({ ...stepTimer({ N: 32, gridsize: 1, filterScale: 0.25, batch: 2 }), candidates: ['webgpu'], adapter: none });
    expect(fallback.name).toBe('cpu');
    expect(fallback.reason).toMatch(/webgpu: no navigator.gpu/);
    expect(fallback.notice).toMatch(/CPU/);
  });

  it('restarts the WASM backend on another build: training steps and the gradient kernels still work', async () => {
    await tf.setBackend('wasm');
    installTrainingKernels('wasm');
    const before = tf.memory().numTensors;
    const r = await restartWasm(false, none, disposePhysicsCache);
    expect(typeof r).not.toBe('string');
    const info = r as Exclude<typeof r, string>;
    expect(info.name).toBe('wasm');
    expect(info.threads).toBe(1); // Node's tfjs has no WASM threads: the single-threaded build either way
    expect(tf.getBackend()).toBe('wasm');
    const ms = await timeTrainingSteps({ N: 32, gridsize: 2, filterScale: 0.25, batch: 2 }, 1);
    expect(ms[0]).toBeGreaterThan(0);
    // a stride-2 convolution's input gradient goes to the backend's own kernel, bound to the new module
    const x = tf.randomNormal([1, 8, 8, 2]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 2, 3]) as tf.Tensor4D;
    const wasmDx = tf.grad((a: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, w, 2, 'same')))(x);
    const dx = await wasmDx.data();
    await tf.setBackend('cpu');
    const cpuDx = await tf.grad((a: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, w, 2, 'same')))(x).data();
    for (let i = 0; i < dx.length; i++) expect(dx[i]).toBeCloseTo(cpuDx[i], 4);
    tf.dispose([x, w, wasmDx]);
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 1);
  });
});
