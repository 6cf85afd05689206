/**
 * Losses (`model.py:485-498, 869-886`). The default training minimises only the mean Poisson NLL on predicted
 * intensities; the MAE on amplitudes is kept for a non-zero mae_weight. The realspace term has
 * weight 0 in the reference and is omitted (`tf_helper.py:1502-1545`, weights at `model.py:869-886`).
 */
import * as tf from '@tensorflow/tfjs';

/**
 * ε inside the log: the reference relies on Î > 0; the reference's `docs/specs/spec-ptycho-core.md:87`
 * allows a small ε (here ≤ 1e-12) before the log (`model.py:485-498`; `tf_helper.py:1502-1545`).
 */
export const NLL_EPSILON = 1e-12;

/** Poisson NLL ℓ = Î − Y·ln(Î + ε), mean over all elements (tf.nn.log_poisson_loss, compute_full_loss=False; `model.py:485-498, 869-886`). */
export function poissonNll(predIntensity: tf.Tensor, targetIntensity: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const logI = tf.log(tf.add(predIntensity, NLL_EPSILON));
    return tf.mean(tf.sub(predIntensity, tf.mul(targetIntensity, logI))) as tf.Scalar;
  });
}

/** ε under the square root for the MAE path, where d√I is infinite at I = 0 (the reference takes A = √I, `tf_helper.py:359-366`). */
const SQRT_EPSILON = 1e-12;

/** MAE on amplitudes: mean |√Î − s·X| (`model.py:485-498, 869-886`). */
export function amplitudeMae(predIntensity: tf.Tensor, targetAmplitude: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(tf.sqrt(tf.add(predIntensity, SQRT_EPSILON)), targetAmplitude))) as tf.Scalar);
}

/** Weighted total: nll_weight·NLL + mae_weight·MAE (`model.py:485-498, 869-886`: weights [realspace, MAE, NLL] = [0, 0, 1]). */
export function totalLoss(
  predIntensity: tf.Tensor,
  targetAmplitude: tf.Tensor,
  weights: { nll: number; mae: number },
): tf.Scalar {
  return tf.tidy(() => {
    let loss = tf.scalar(0);
    if (weights.nll !== 0) loss = tf.add(loss, tf.mul(weights.nll, poissonNll(predIntensity, tf.square(targetAmplitude))));
    if (weights.mae !== 0) loss = tf.add(loss, tf.mul(weights.mae, amplitudeMae(predIntensity, targetAmplitude)));
    return loss as tf.Scalar;
  });
}
