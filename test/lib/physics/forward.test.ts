import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  buildForwardOperators,
  forwardIntensity,
  mergePatches,
  trimCanvas,
  extractWindows,
  farFieldIntensity,
  canvasSize,
  defaultProbe,
  normalizeProbe,
  disposePhysicsCache,
  physicsCacheTensorCount,
  shiftTaps,
  farFieldIntensityCpu,
  type ForwardOperators,
} from '../../../src/lib/physics';
import { loadNpy, loadIndex, relMaxErr, maxAbsErr } from './fixtures';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => disposePhysicsCache());

const f32 = (a: ArrayLike<number>) => Float32Array.from(a);
/** live tensors, not counting the DFT matrices the physics cache keeps on purpose */
const live = () => tf.memory().numTensors - physicsCacheTensorCount();

describe('forward chain, gridsize 2, random sub-pixel offsets, vs numpy (custom_layers.py:82-234, model.py:176-229, tf_helper.py:346-367)', () => {
  const { N, B, C, P } = loadIndex().forward as { N: number; B: number; C: number; P: number };
  const objRe = loadNpy('fw_obj_re');
  const objIm = loadNpy('fw_obj_im');
  const offsets = f32(loadNpy('fw_offsets').data); // (B, C, 2) = flat (b·C + c)·2 + {x, y}
  const probeRe = loadNpy('fw_probe_re');
  const probeIm = loadNpy('fw_probe_im');

  function setup() {
    const ops = buildForwardOperators(offsets, B, N, C, P, { normFloor: 0 });
    const oRe = tf.tensor4d(f32(objRe.data), [B, N, N, C]);
    const oIm = tf.tensor4d(f32(objIm.data), [B, N, N, C]);
    const probe = { re: tf.tensor2d(f32(probeRe.data), [N, N]), im: tf.tensor2d(f32(probeIm.data), [N, N]) };
    return { ops, oRe, oIm, probe, dispose: () => { ops.dispose(); tf.dispose([oRe, oIm, probe.re, probe.im]); } };
  }

  it('uses P = canvasSize(N, 2)', () => expect(P).toBe(canvasSize(N, 2)));

  it('merge (per sample), trim and extract match', () => {
    const s = setup();
    expect(s.ops.identityGeometry).toBe(false);
    tf.tidy(() => {
      const cRe = mergePatches(s.oRe, s.ops);
      const cIm = mergePatches(s.oIm, s.ops);
      expect(cRe.shape).toEqual([B, P, P]);
      const scale = Math.max(...loadNpy('fw_canvas_re').data.map(Math.abs));
      expect(maxAbsErr(cRe.dataSync(), loadNpy('fw_canvas_re').data) / scale).toBeLessThan(2e-6);
      expect(maxAbsErr(cIm.dataSync(), loadNpy('fw_canvas_im').data) / scale).toBeLessThan(2e-6);
      const tRe = trimCanvas(cRe, s.ops);
      expect(tRe.shape).toEqual([B, N, N, 1]);
      expect(maxAbsErr(tRe.dataSync(), loadNpy('fw_trimmed_re').data) / scale).toBeLessThan(2e-6);
      // windows: fixture is (B, C, N, N); ours is [B, N, N, C]
      const wRe = extractWindows(cRe, s.ops).transpose([0, 3, 1, 2]);
      const wIm = extractWindows(cIm, s.ops).transpose([0, 3, 1, 2]);
      expect(maxAbsErr(wRe.dataSync(), loadNpy('fw_windows_re').data) / scale).toBeLessThan(2e-6);
      expect(maxAbsErr(wIm.dataSync(), loadNpy('fw_windows_im').data) / scale).toBeLessThan(2e-6);
    });
    s.dispose();
  });

  it('forwardIntensity matches, shapes [B,N,N,C] and [B,N,N,1], no leaks', () => {
    const s = setup();
    const before = live();
    const out = forwardIntensity(s.oRe, s.oIm, s.ops, s.probe);
    expect(out.intensity.shape).toEqual([B, N, N, C]);
    expect(out.trimmedRe.shape).toEqual([B, N, N, 1]);
    const err = relMaxErr(out.intensity.dataSync(), loadNpy('fw_intensity').data);
    console.log(`forwardIntensity gridsize 2: max|diff|/max|ref| = ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-5);
    expect(relMaxErr(out.trimmedIm.dataSync(), loadNpy('fw_trimmed_im').data)).toBeLessThan(1e-5);
    tf.dispose([out.intensity, out.trimmedRe, out.trimmedIm]);
    expect(live()).toBe(before);
    s.dispose();
  });

  it('gradients w.r.t. objRe/objIm match numpy float64 central finite differences', () => {
    const s = setup();
    const wts = tf.tensor4d(f32(loadNpy('fd_wts').data), [B, N, N, C]);
    const before = live();
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => {
      const o = forwardIntensity(a as tf.Tensor4D, b as tf.Tensor4D, s.ops, s.probe);
      return tf.sum(tf.mul(o.intensity, wts));
    }));
    const [gRe, gIm] = g([s.oRe, s.oIm]);
    const gr = gRe.dataSync();
    const gi = gIm.dataSync();
    const idx = loadNpy('fd_idx').data;
    const fd = loadNpy('fd_val').data;
    let scale = 0;
    for (const v of fd) scale = Math.max(scale, Math.abs(v));
    let worst = 0;
    for (let k = 0; k < fd.length; k++) {
      const [part, b, i, j, c] = Array.from(idx.subarray(5 * k, 5 * k + 5));
      const flat = ((b * N + i) * N + j) * C + c;
      const got = part === 0 ? gr[flat] : gi[flat];
      worst = Math.max(worst, Math.abs(got - fd[k]) / scale);
    }
    console.log(`gradient vs finite differences: max|diff|/max|fd| = ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);
    tf.dispose([gRe, gIm]);
    expect(live()).toBe(before);
    wts.dispose();
    s.dispose();
  });

  it('offsets sign matters: flipping r_c changes the windows (the test can fail)', () => {
    const flipped = offsets.map((v) => -v);
    const ops = buildForwardOperators(flipped, B, N, C, P, { normFloor: 0 });
    const s = setup();
    const d = tf.tidy(() => {
      const w = extractWindows(mergePatches(s.oRe, ops), ops).transpose([0, 3, 1, 2]);
      return maxAbsErr(w.dataSync(), loadNpy('fw_windows_re').data);
    });
    expect(d).toBeGreaterThan(1e-2);
    ops.dispose();
    s.dispose();
  });
});

describe('gridsize 1 with zero offsets: chain == O ⊙ W, W = 1/1.001 inside [N/4,3N/4)², 1 outside (deviation (c), docs/decisions.md; the reference: 1000, tf_helper.py:1092-1101)', () => {
  const N = 16;
  const B = 2;
  const P = canvasSize(N, 1);
  const offsets = new Float32Array(B * 2);
  const ph = normalizeProbe(defaultProbe(N), 4);

  function check(ops: ForwardOperators, outside = 1) {
    const oRe = tf.randomUniform([B, N, N, 1], 0.1, 1, 'float32', 1) as tf.Tensor4D;
    const oIm = tf.randomUniform([B, N, N, 1], -0.5, 0.5, 'float32', 2) as tf.Tensor4D;
    const probe = { re: tf.tensor2d(ph.re, [N, N]), im: tf.tensor2d(ph.im, [N, N]) };
    const before = live();
    const out = forwardIntensity(oRe, oIm, ops, probe);
    const re = oRe.dataSync();
    const tr = out.trimmedRe.dataSync();
    let worst = 0;
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < N; i++) {
        for (let j = 0; j < N; j++) {
          const inside = i >= N / 4 && i < (3 * N) / 4 && j >= N / 4 && j < (3 * N) / 4;
          const W = inside ? 1 / 1.001 : outside;
          const k = (b * N + i) * N + j;
          worst = Math.max(worst, Math.abs(tr[k] - re[k] * W) / (Math.abs(re[k] * W) + 1e-30));
        }
      }
    }
    expect(worst).toBeLessThan(1e-6);
    const expected = tf.tidy(() => {
      const wRe = out.trimmedRe.reshape([B, N, N]);
      const wIm = out.trimmedIm.reshape([B, N, N]);
      const pRe = wRe.mul(probe.re).sub(wIm.mul(probe.im));
      const pIm = wRe.mul(probe.im).add(wIm.mul(probe.re));
      return farFieldIntensity(pRe, pIm).dataSync().slice();
    });
    expect(relMaxErr(out.intensity.dataSync(), expected)).toBeLessThan(1e-6);
    const result = { intensity: out.intensity.dataSync().slice(), trimmed: tr.slice() };
    tf.dispose([out.intensity, out.trimmedRe, out.trimmedIm]);
    expect(live()).toBe(before);
    tf.dispose([oRe, oIm, probe.re, probe.im]);
    return result;
  }

  it('identity shortcut and the general matrix path agree', () => {
    const fast = buildForwardOperators(offsets, B, N, 1, P);
    const general = buildForwardOperators(offsets, B, N, 1, P, { forceGeneral: true });
    expect(fast.identityGeometry).toBe(true);
    expect(general.identityGeometry).toBe(false);
    const a = check(fast);
    const b = check(general);
    expect(relMaxErr(a.trimmed, b.trimmed)).toBeLessThan(1e-6);
    expect(relMaxErr(a.intensity, b.intensity)).toBeLessThan(1e-5);
    const n0 = live();
    fast.dispose();
    general.dispose();
    general.dispose(); // idempotent
    expect(live()).toBe(n0 - 2 - 6);
  });

  it("with normFloor 0 it is the reference's merge: W = 1000 outside the central window", () => {
    const ref = buildForwardOperators(offsets, B, N, 1, P, { normFloor: 0 });
    check(ref, 1000);
    expect(Math.min(...ref.normData)).toBeCloseTo(0.001, 9);
    ref.dispose();
  });

  it('rejects objects of the wrong shape', () => {
    const ops = buildForwardOperators(offsets, B, N, 1, P);
    const bad = tf.zeros([B, N, N, 4]) as tf.Tensor4D;
    const probe = { re: tf.ones([N, N]) as tf.Tensor2D, im: tf.zeros([N, N]) as tf.Tensor2D };
    expect(() => forwardIntensity(bad, bad, ops, probe)).toThrow(/expected \[2,16,16,1\]/);
    tf.dispose([bad, probe.re, probe.im]);
    ops.dispose();
  });
});

describe('object.big = False: one object patch per group, padded and viewed at +r_c (custom_layers.py:133-149, tf_helper.py:884-887; extract tf_helper.py:623-658)', () => {
  it('each channel sees the padded patch translated by +r_c: matches a float64 CPU computation, and trimmed_obj is the patch', async () => {
    const N = 16;
    const B = 2;
    const C = 4;
    const P = canvasSize(N, 2);
    const pad = (P - N) / 2;
    const offsets = Float32Array.from([2, 2, -2, 2, 2, -2, -2, -2, 1.5, -0.25, -3.5, 1.75, 0.5, 0.5, 1.5, -2]);
    // r_c per group sums to 0 as grouping gives it
    for (let b = 0; b < B; b++) {
      for (const ax of [0, 1]) {
        let m = 0;
        for (let c = 0; c < C; c++) m += offsets[(b * C + c) * 2 + ax];
        for (let c = 0; c < C; c++) offsets[(b * C + c) * 2 + ax] -= m / C;
      }
    }
    const rnd = (seed: number, n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 0.5 + 0.5);
    const oRe = rnd(1, B * N * N);
    const oIm = rnd(2, B * N * N).map((v) => v - 0.5);
    const pr = normalizeProbe(defaultProbe(N), 4);
    const ops = buildForwardOperators(offsets, B, N, C, P, { normFloor: 0 });
    const probe = { re: tf.tensor2d(pr.re, [N, N]), im: tf.tensor2d(pr.im, [N, N]) };
    const tRe = tf.tensor4d(oRe, [B, N, N, 1]);
    const tIm = tf.tensor4d(oIm, [B, N, N, 1]);
    const out = forwardIntensity(tRe, tIm, ops, probe, false);
    const I = (await out.intensity.data()) as Float32Array;
    expect(out.intensity.shape).toEqual([B, N, N, C]);
    expect(maxAbsErr(await out.trimmedRe.data(), oRe)).toBe(0);
    // CPU float64: window_c(i, j) = padded(i + pad − r_y, j + pad − r_x) bilinear, zero fill; then probe and |FFT|²
    let worst = 0;
    let scale = 0;
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        const rx = offsets[(b * C + c) * 2];
        const ry = offsets[(b * C + c) * 2 + 1];
        const wRe = new Float64Array(N * N);
        const wIm = new Float64Array(N * N);
        for (let i = 0; i < N; i++) {
          for (let j = 0; j < N; j++) {
            let sr = 0;
            let si = 0;
            // canvas = patch padded by `pad`; window pixel (i, j) is canvas (i + pad, j + pad) translated by +r
            for (const [pi, wi] of shiftTaps(i + pad, P, ry, 0)) {
              for (const [pj, wj] of shiftTaps(j + pad, P, rx, 0)) {
                const y = pi - pad;
                const x = pj - pad;
                if (y < 0 || y >= N || x < 0 || x >= N) continue;
                sr += wi * wj * oRe[(b * N + y) * N + x];
                si += wi * wj * oIm[(b * N + y) * N + x];
              }
            }
            const k = i * N + j;
            wRe[k] = sr * pr.re[k] - si * pr.im[k];
            wIm[k] = sr * pr.im[k] + si * pr.re[k];
          }
        }
        const want = farFieldIntensityCpu(wRe, wIm, N);
        for (let k = 0; k < N * N; k++) {
          worst = Math.max(worst, Math.abs(I[(b * N * N + k) * C + c] - want[k]));
          scale = Math.max(scale, want[k]);
        }
      }
    }
    expect(worst / scale).toBeLessThan(1e-5);
    // and the big=True chain on the same patch repeated per channel is different (merge normaliser): the test can fail
    const rep = (a: Float32Array) => { const o = new Float32Array(B * N * N * C); for (let i = 0; i < B * N * N; i++) for (let c = 0; c < C; c++) o[i * C + c] = a[i]; return o; };
    const big = forwardIntensity(tf.tensor4d(rep(oRe), [B, N, N, C]), tf.tensor4d(rep(oIm), [B, N, N, C]), ops, probe, true);
    expect(maxAbsErr(await big.intensity.data(), I) / scale).toBeGreaterThan(1e-3);
    expect(() => forwardIntensity(tf.tensor4d(rep(oRe), [B, N, N, C]), tf.tensor4d(rep(oIm), [B, N, N, C]), ops, probe, false)).toThrow(/expected/);
    ops.dispose();
  });
});
