import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildGenerator, expectedParameterCount, filterPlan, type NetworkConfig } from '../../../src/lib/model/network';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const defaults = (N: number, C: number): NetworkConfig => ({
  N, C, nFiltersScale: 2, objectBig: true, probeBig: true, padObject: true, ampActivation: 'sigmoid', seed: 1,
});

function countAndDispose(cfg: NetworkConfig): number {
  const m = buildGenerator(cfg);
  const n = m.countParams();
  m.dispose();
  return n;
}

describe('generator parameter counts (the Keras layers of model.py:300-473)', () => {
  it('N=64 gridsize 1 default ModelConfig: 2,331,772', () => {
    expect(countAndDispose(defaults(64, 1))).toBe(2_331_772);
  });
  it('N=64 gridsize 2 default ModelConfig: 2,340,208', () => {
    expect(countAndDispose(defaults(64, 4))).toBe(2_340_208);
  });
  it('N=64 probe.big=False (legacy): 2,252,026 and 2,257,000', () => {
    expect(countAndDispose({ ...defaults(64, 1), probeBig: false })).toBe(2_252_026);
    expect(countAndDispose({ ...defaults(64, 4), probeBig: false })).toBe(2_257_000);
  });
  it('N=128 and N=256 match the Conv2D formula; N=32 builds with two encoder blocks', () => {
    for (const [N, C] of [[128, 1], [128, 4], [32, 1], [32, 4]]) {
      const cfg = defaults(N, C);
      expect(countAndDispose(cfg)).toBe(expectedParameterCount(cfg));
    }
    expect(filterPlan(32, 2, 1, true).encoder).toEqual([128, 256]);
    expect(filterPlan(128, 2, 1, true)).toEqual({ encoder: [32, 64, 128, 256], trunk: [256, 128, 64], border: 32, cOut: 1 });
    expect(filterPlan(256, 2, 4, true)).toEqual({ encoder: [16, 32, 64, 128, 256], trunk: [512, 256, 128, 64], border: 16, cOut: 4 });
    expect(expectedParameterCount(defaults(64, 1))).toBe(2_331_772);
  });
  it('pad_object=False and the other amplitude activations build with the formula count', () => {
    for (const cfg of [
      { ...defaults(64, 1), padObject: false },
      { ...defaults(32, 4), ampActivation: 'swish' as const },
      { ...defaults(32, 1), ampActivation: 'softplus' as const, probeBig: false },
    ]) {
      expect(countAndDispose(cfg)).toBe(expectedParameterCount(cfg));
    }
  });
  it('rejects unsupported N and fractional filter counts', () => {
    expect(() => filterPlan(48, 2, 1, true)).toThrow(/N must be/);
    expect(() => filterPlan(64, 0.3, 1, true)).toThrow(/whole number/);
  });
  it('N=256 builds', () => {
    const cfg = defaults(256, 1);
    expect(countAndDispose(cfg)).toBe(expectedParameterCount(cfg));
  });
});

describe('generator structure', () => {
  it('kernels are glorotUniform (bounded by sqrt(6/(fan_in+fan_out))) and biases zero', () => {
    const m = buildGenerator(defaults(32, 4));
    let kernels = 0;
    for (const w of m.weights) {
      const v = w.read();
      const data = v.dataSync();
      if (w.shape.length === 4) {
        kernels++;
        const [kh, kw, cin, cout] = w.shape as number[];
        const limit = Math.sqrt(6 / (kh * kw * cin + kh * kw * cout));
        let maxAbs = 0, sumSq = 0;
        for (const x of data) { maxAbs = Math.max(maxAbs, Math.abs(x)); sumSq += x * x; }
        expect(maxAbs).toBeLessThanOrEqual(limit);
        // Uniform(-L, L) has variance L²/3; glorotNormal would have L²/3 too, but a truncated normal
        // reaches past L with probability ~0.08 per draw, so the bound above already separates them.
        if (data.length > 1000) {
          expect(sumSq / data.length).toBeGreaterThan(0.9 * limit * limit / 3);
          expect(sumSq / data.length).toBeLessThan(1.1 * limit * limit / 3);
          expect(maxAbs).toBeGreaterThan(0.95 * limit);
        }
      } else {
        expect(Array.from(data).every((x) => x === 0)).toBe(true);
      }
    }
    expect(kernels).toBe(2 * 2 + 2 * (2 + 1 + 3));
    m.dispose();
  });

  it('amplitude in (0,1) inside the window, border-only content outside; phase bounded by π inside', () => {
    const m = buildGenerator({ ...defaults(32, 1), nFiltersScale: 0.5 });
    const x = tf.randomUniform([2, 32, 32, 1], 0, 1, 'float32', 3);
    const [amp, ph] = m.predict(x) as tf.Tensor[];
    expect(amp.shape).toEqual([2, 32, 32, 1]);
    const a = amp.dataSync();
    const p = ph.dataSync();
    for (let b = 0; b < 2; b++) for (let r = 8; r < 24; r++) for (let c = 8; c < 24; c++) {
      const i = b * 1024 + r * 32 + c;
      expect(a[i]).toBeGreaterThan(0);
      expect(a[i]).toBeLessThan(1);
      expect(Math.abs(p[i])).toBeLessThan(Math.PI);
    }
    tf.dispose([x, amp, ph]);
    // Without probe.big the outside of the window is exactly zero (zero padding N/4).
    const m2 = buildGenerator({ ...defaults(32, 1), nFiltersScale: 0.5, probeBig: false });
    const x2 = tf.randomUniform([1, 32, 32, 1], 0, 1, 'float32', 4);
    const [amp2] = m2.predict(x2) as tf.Tensor[];
    const a2 = amp2.dataSync();
    expect(a2[0]).toBe(0);
    expect(a2[7 * 32 + 31]).toBe(0);
    expect(a2[16 * 32 + 16]).toBeGreaterThan(0);
    tf.dispose([x2, amp2]);
    m.dispose();
    m2.dispose();
  });

  it('same seed gives the same weights; different seeds differ', () => {
    const a = buildGenerator({ ...defaults(16, 1), nFiltersScale: 0.25 });
    const b = buildGenerator({ ...defaults(16, 1), nFiltersScale: 0.25 });
    const c = buildGenerator({ ...defaults(16, 1), nFiltersScale: 0.25, seed: 2 });
    const wa = a.weights[0].read().dataSync(), wb = b.weights[0].read().dataSync(), wc = c.weights[0].read().dataSync();
    expect(Array.from(wa)).toEqual(Array.from(wb));
    expect(Array.from(wa)).not.toEqual(Array.from(wc));
    a.dispose(); b.dispose(); c.dispose();
  });
});
