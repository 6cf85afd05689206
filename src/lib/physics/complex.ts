/** Complex arithmetic on (re, im) float32 tensor pairs (tfjs has no complex gradients: tfjs-core 4.22.0 `dist/gradients/` registers none for Complex, Real, Imag or FFT). */
import * as tf from '@tensorflow/tfjs';

export interface ComplexPair<T extends tf.Tensor = tf.Tensor> {
  re: T;
  im: T;
}

/** (a + ib)(p + iq) = (ap − bq) + i(aq + bp), broadcasting like tf.mul (`model.py:216`). */
export function complexMul<T extends tf.Tensor>(aRe: T, aIm: T, pRe: tf.Tensor, pIm: tf.Tensor): ComplexPair<T> {
  return tf.tidy(() => ({
    re: tf.sub(tf.mul(aRe, pRe), tf.mul(aIm, pIm)) as T,
    im: tf.add(tf.mul(aRe, pIm), tf.mul(aIm, pRe)) as T,
  }));
}

/** Illumination Ψ = P̂ · window (`model.py:176-229`); the probe [N,N] broadcasts over leading axes of [..., N, N]. */
export function illuminate<T extends tf.Tensor>(
  winRe: T,
  winIm: T,
  probe: { re: tf.Tensor2D; im: tf.Tensor2D },
): ComplexPair<T> {
  return complexMul(winRe, winIm, probe.re, probe.im);
}

/** O = A·(cos φ + i sin φ) (`custom_layers.py:60-63`). */
export function fromAmplitudePhase<T extends tf.Tensor>(amp: T, phase: T): ComplexPair<T> {
  return tf.tidy(() => ({ re: tf.mul(amp, tf.cos(phase)) as T, im: tf.mul(amp, tf.sin(phase)) as T }));
}
