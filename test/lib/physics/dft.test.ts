import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { dftMatrices, farFieldIntensity, disposePhysicsCache, physicsCacheTensorCount, farFieldIntensityCpu } from '../../../src/lib/physics';
import { loadNpy, relMaxErr } from './fixtures';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => disposePhysicsCache());

describe('dftMatrices', () => {
  it('is W_s/√N with W_s[k,n] = (−1)^n e^{−2πi kn/N}', () => {
    const N = 6;
    const { cr, ci } = dftMatrices(N);
    for (let k = 0; k < N; k++) {
      for (let n = 0; n < N; n++) {
        const a = (-2 * Math.PI * k * n) / N;
        const s = (n % 2 === 0 ? 1 : -1) / Math.sqrt(N);
        expect(cr[k * N + n]).toBeCloseTo(s * Math.cos(a), 6);
        expect(ci[k * N + n]).toBeCloseTo(s * Math.sin(a), 6);
      }
    }
  });

  it('is unitary to float32 precision at N = 128 (exact k·n mod N reduction)', () => {
    const N = 128;
    const { cr, ci } = dftMatrices(N);
    let worst = 0;
    for (const [a, b] of [[0, 0], [1, 1], [3, 77], [127, 127], [64, 5]]) {
      let re = 0;
      let im = 0;
      for (let n = 0; n < N; n++) {
        // (W̃ W̃ᴴ)[a,b] = Σ_n W̃[a,n] conj(W̃[b,n])
        re += cr[a * N + n] * cr[b * N + n] + ci[a * N + n] * ci[b * N + n];
        im += ci[a * N + n] * cr[b * N + n] - cr[a * N + n] * ci[b * N + n];
      }
      worst = Math.max(worst, Math.abs(re - (a === b ? 1 : 0)), Math.abs(im));
    }
    expect(worst).toBeLessThan(1e-6);
  });

  it('rejects odd N', () => {
    expect(() => dftMatrices(7)).toThrow(/even/);
  });
});

describe('farFieldIntensity vs numpy fftshift(|fft2|²)/N²', () => {
  for (const N of [32, 64, 128]) {
    it(`N = ${N}: relative error < 1e-5`, () => {
      const re = loadNpy(`fft_in_re_${N}`);
      const im = loadNpy(`fft_in_im_${N}`);
      const ref = loadNpy(`fft_out_${N}`);
      const out = tf.tidy(() => {
        const I = farFieldIntensity(tf.tensor3d(Float32Array.from(re.data), re.shape as [number, number, number]), tf.tensor3d(Float32Array.from(im.data), im.shape as [number, number, number]));
        expect(I.shape).toEqual(re.shape);
        return I.dataSync().slice();
      });
      const err = relMaxErr(out, ref.data);
      console.log(`farFieldIntensity N=${N}: max|diff|/max|ref| = ${err.toExponential(2)}`);
      expect(err).toBeLessThan(1e-5);
    });
  }

  it('accepts a single [N,N] field', () => {
    const N = 32;
    const re = loadNpy(`fft_in_re_${N}`);
    const im = loadNpy(`fft_in_im_${N}`);
    const ref = loadNpy(`fft_out_${N}`);
    const out = tf.tidy(() => {
      const I = farFieldIntensity(tf.tensor2d(Float32Array.from(re.data.subarray(N * N, 2 * N * N)), [N, N]), tf.tensor2d(Float32Array.from(im.data.subarray(N * N, 2 * N * N)), [N, N]));
      expect(I.shape).toEqual([N, N]);
      return I.dataSync().slice();
    });
    expect(relMaxErr(out, ref.data.subarray(N * N, 2 * N * N))).toBeLessThan(1e-5);
  });

  it('the CPU FFT used by the simulator agrees with numpy to 1e-12', () => {
    for (const N of [32, 128]) {
      const re = loadNpy(`fft_in_re_${N}`);
      const im = loadNpy(`fft_in_im_${N}`);
      const ref = loadNpy(`fft_out_${N}`);
      const out = farFieldIntensityCpu(re.data.subarray(0, N * N), im.data.subarray(0, N * N), N);
      expect(relMaxErr(out, ref.data.subarray(0, N * N))).toBeLessThan(1e-12);
    }
  });

  it('caches the DFT matrices per N, leaks nothing, and frees them on disposePhysicsCache()', () => {
    disposePhysicsCache();
    const base = tf.memory().numTensors;
    const x = tf.randomNormal([2, 16, 16]);
    tf.tidy(() => {
      farFieldIntensity(x, x);
    });
    const afterFirst = tf.memory().numTensors;
    expect(afterFirst - base).toBe(1 + physicsCacheTensorCount());
    tf.tidy(() => {
      farFieldIntensity(x, x);
    });
    expect(tf.memory().numTensors).toBe(afterFirst);
    disposePhysicsCache();
    x.dispose();
    expect(tf.memory().numTensors).toBe(base);
  });

  it('is differentiable (gradient of Σ I equals 2Ψ by Parseval)', () => {
    const re = tf.randomNormal([2, 8, 8]);
    const im = tf.randomNormal([2, 8, 8]);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => farFieldIntensity(a, b).sum());
    const [gr, gi] = g([re, im]);
    expect(relMaxErr(gr.dataSync(), tf.mul(re, 2).dataSync())).toBeLessThan(1e-5);
    expect(relMaxErr(gi.dataSync(), tf.mul(im, 2).dataSync())).toBeLessThan(1e-5);
    tf.dispose([re, im, gr, gi]);
  });
});
