/**
 * Far-field diffraction as real matrix products (`tf_helper.py:346-367`; matrices because tfjs-core 4.22.0 `dist/gradients/` has no FFT gradient).
 *
 * tfjs has no gradients for FFT or complex kernels, so the 2-D DFT is written as
 * F = W̃ · Ψ · W̃ᵀ with W̃ = W_s/√N, W_s[k,n] = (−1)^n e^{−2πi kn/N} (fftshift folded in, N even),
 * split into real and imaginary parts and evaluated with 8 real matMuls. The result
 * I = Fr² + Fi² equals fftshift(|DFT2 Ψ|²)/N² (`tf_helper.py:346-367`: orthonormal, DC at (N/2, N/2)).
 */
import * as tf from '@tensorflow/tfjs';

export interface DftMatrices {
  /** Re W̃, row-major N x N (row k = frequency, column n = sample). */
  cr: Float32Array;
  /** Im W̃, row-major N x N. */
  ci: Float32Array;
}

/** W̃[k,n] = (−1)^n e^{−2πi kn/N}/√N (the fftshift of `tf_helper.py:359-366` folded into the DFT), computed in float64 with exact (k·n mod N) reduction. */
export function dftMatrices(N: number): DftMatrices {
  if (!Number.isInteger(N) || N < 2 || N % 2 !== 0) {
    throw new Error(`dftMatrices: N must be an even integer >= 2 (fftshift folding needs even N), got ${N}`);
  }
  const cr = new Float32Array(N * N);
  const ci = new Float32Array(N * N);
  const inv = 1 / Math.sqrt(N);
  for (let k = 0; k < N; k++) {
    for (let n = 0; n < N; n++) {
      const m = (k * n) % N; // exact integer reduction before the angle is formed
      const ang = (2 * Math.PI * m) / N;
      const sign = n % 2 === 0 ? 1 : -1; // fftshift after the DFT == (−1)^n on the input index (N even)
      cr[k * N + n] = sign * Math.cos(ang) * inv;
      ci[k * N + n] = -sign * Math.sin(ang) * inv;
    }
  }
  return { cr, ci };
}

interface DftTensors {
  cr: tf.Tensor2D;
  ci: tf.Tensor2D;
  /** the same matrices with a leading batch axis of 1, for broadcast batched matMul */
  cr3: tf.Tensor3D;
  ci3: tf.Tensor3D;
}

const dftCache = new Map<string, DftTensors>();

function dftTensors(N: number): DftTensors {
  // Keyed by backend too: a tensor belongs to the backend that made it.
  const key = `${tf.getBackend()}:${N}`;
  const hit = dftCache.get(key);
  if (hit !== undefined && !hit.cr.isDisposed) return hit;
  const { cr, ci } = dftMatrices(N);
  const t: DftTensors = tf.tidy(() => {
    const a = tf.tensor2d(cr, [N, N]);
    const b = tf.tensor2d(ci, [N, N]);
    return { cr: tf.keep(a), ci: tf.keep(b), cr3: tf.keep(a.reshape([1, N, N]) as tf.Tensor3D), ci3: tf.keep(b.reshape([1, N, N]) as tf.Tensor3D) };
  });
  dftCache.set(key, t);
  return t;
}

/** Dispose every cached DFT matrix tensor (they are created lazily per N and backend and kept). */
export function disposePhysicsCache(): void {
  for (const t of dftCache.values()) {
    t.cr.dispose();
    t.ci.dispose();
    t.cr3.dispose();
    t.ci3.dispose();
  }
  dftCache.clear();
}

/** Number of tensors the physics cache currently holds (for leak accounting in tests). */
export function physicsCacheTensorCount(): number {
  let n = 0;
  for (const t of dftCache.values()) if (!t.cr.isDisposed) n += 4;
  return n;
}

/**
 * fftshift(|DFT2(re + i·im)|²)/N² for a field [N,N] or a batch [B,N,N]; same shape out.
 * Differentiable w.r.t. re and im (only matMul, reshape, mul, add, sub, square).
 */
export function farFieldIntensity(re: tf.Tensor, im: tf.Tensor): tf.Tensor {
  if (re.rank !== 2 && re.rank !== 3) throw new Error(`farFieldIntensity: expected [N,N] or [B,N,N], got [${re.shape}]`);
  if (re.shape.join() !== im.shape.join()) throw new Error(`farFieldIntensity: re [${re.shape}] and im [${im.shape}] differ`);
  const N = re.shape[re.rank - 1];
  if (re.shape[re.rank - 2] !== N) throw new Error(`farFieldIntensity: fields must be square, got [${re.shape}]`);
  const W = dftTensors(N);
  return tf.tidy(() => {
    const B = re.rank === 3 ? re.shape[0] : 1;
    // Y = Ψ W̃ᵀ : transform along columns; flatten rows of all fields into one 2-D matMul.
    const r2 = re.reshape([B * N, N]);
    const i2 = im.reshape([B * N, N]);
    const yr = tf.sub(tf.matMul(r2, W.cr, false, true), tf.matMul(i2, W.ci, false, true)).reshape([B, N, N]);
    const yi = tf.add(tf.matMul(r2, W.ci, false, true), tf.matMul(i2, W.cr, false, true)).reshape([B, N, N]);
    // F = W̃ Y : transform along rows; W̃ broadcast over the batch (constant, so no gradient is requested for it).
    const fr = tf.sub(tf.matMul(W.cr3, yr), tf.matMul(W.ci3, yi));
    const fi = tf.add(tf.matMul(W.cr3, yi), tf.matMul(W.ci3, yr));
    const I = tf.add(tf.square(fr), tf.square(fi));
    return re.rank === 2 ? I.reshape([N, N]) : I;
  });
}
