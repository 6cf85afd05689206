/**
 * Reconstruction scoring exactly as PtychoPINN's `ptycho/evaluation.py::eval_reconstruction` does it
 * (shared/reference/ptychopinn-eval.md §1; test vector §7).
 *
 * Pipeline: trim offset/2 px per side → amplitude: scale pred by mean(t)/mean(p) → MAE, MSE,
 * PSNR (peak 255), SSIM (data range of the target), MS-SSIM (σ = msSsimSigma), FRC;
 * phase: plane- or mean-removed independently → MAE, MSE, PSNR, FRC; (φ+π)/2π → SSIM (range 1),
 * MS-SSIM (σ = 0).
 *
 * Float64 arithmetic throughout, except where the reference's own float32 steps decide results: for
 * complex64 (Float32Array) inputs numpy's float32 |z|, angle(z), 'mean' phase and scaled prediction
 * are reproduced bit for bit (float32.ts), which moves the §7 FRC50s by up to 0.07.
 */
import { frcCutoffs } from './frc.ts';
import { alignPhase, amplitude, dataRange, isFloat32, mae, mse, phase, psnr, referenceMeanScale, roundToFloat32, scaleImage, scalePhase, trimComplex } from './metrics.ts';
import { msSsim, ssim } from './ssim.ts';
import type { ComplexImage, EvalOptions, EvalResult, Scores } from './types.ts';

export * from './types.ts';
export { getFftPlan, fft2, type FftPlan } from '../physics/fft.ts';
export { gaussianFilter, gaussianFilter1d, gaussianKernel1d } from './filters.ts';
export { ssim, msSsim, msSsimDetail, decimate2, MS_SSIM_WEIGHTS, type MsSsimOptions, type MsSsimDetail } from './ssim.ts';
export { frcCurve, frcCutoffs, firstBelowThreshold, ringIndex, type FrcResult } from './frc.ts';
export { atan2f, cabsf, fma32 } from './float32.ts';
export {
  trim, trimComplex, amplitude, phase, isFloat32, mean, meanFloat32, meanScale, referenceMeanScale, scaleImage, fitAndRemovePlane, removeMean, alignPhase,
  mae, mse, psnr, scalePhase, dataRange, roundToFloat32,
} from './metrics.ts';
export { alignForEvaluation, centerCrop, cropComplex, scanBoundingBox, type AlignBox } from './align.ts';

const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v);

/**
 * Score a reconstruction against ground truth (both 2-D complex, same shape). Returns amplitude and
 * phase scores (null where the reference gives NaN) and the FRC curves. Throws where the reference
 * raises: shape mismatch, odd or zero offset, a trimmed image under 7×7 (SSIM window), an all-NaN
 * prediction (FRC), an unknown phase-align method.
 */
export function evalReconstruction(recon: ComplexImage, truth: ComplexImage, opts: EvalOptions = {}): EvalResult {
  const method = opts.phaseAlign ?? 'plane';
  const msSsimSigma = opts.msSsimSigma ?? 1;
  const offset = opts.offset ?? 4;
  const frcSigma = opts.frcSigma ?? 0;
  if (recon.height !== truth.height || recon.width !== truth.width) {
    throw new RangeError(`evalReconstruction: shapes differ (${recon.height}×${recon.width} vs ${truth.height}×${truth.width})`);
  }
  for (const z of [recon, truth]) {
    const n = z.height * z.width;
    if (z.re.length !== n || z.im.length !== n) throw new RangeError('evalReconstruction: re/im length is not height·width');
  }
  if (offset === 0) throw new RangeError('evalReconstruction: offset 0 trims everything (the reference slices arr[0:-0])');
  if (method !== 'plane' && method !== 'mean') {
    throw new RangeError(`Unknown phase_align_method: ${String(method)}. Use 'plane' or 'mean'.`);
  }
  const rc = trimComplex(recon, offset);
  const gt = trimComplex(truth, offset);
  // complex64 inputs take numpy's float32 paths: |z| and angle(z) as numpy's float32 loops give
  // them (float32.ts), a float32 'mean' phase, a float32 scaled prediction (below)
  const rc32 = isFloat32(rc);

  const phiP = alignPhase(phase(rc), method, rc32);
  const phiT = alignPhase(phase(gt), method, isFloat32(gt));
  // amp_t = tf.cast(trim(|gt|), tf.float32) whatever the input dtype (evaluation.py:576): a float32
  // value step of the reference's definition; all arithmetic stays float64.
  const ampT = roundToFloat32(amplitude(gt));
  const ampP = amplitude(rc);
  // amp_pred_np * scale_factor: float32 × float32 scalar for a complex64 reconstruction
  const ampPn = scaleImage(ampP, referenceMeanScale(ampT, ampP, rc32), rc32);

  const frcA = frcCutoffs(ampT, ampPn, frcSigma);
  const amp: Scores = {
    mae: orNull(mae(ampT, ampPn)),
    mse: orNull(mse(ampT, ampPn)),
    psnr: orNull(psnr(ampT, ampPn)),
    ssim: orNull(ssim(ampT, ampPn, dataRange(ampT))),
    ms_ssim: orNull(msSsim(ampT, ampPn, { sigma: msSsimSigma })),
    frc50: orNull(frcA.frc50),
    frc1over7: orNull(frcA.frc1over7),
  };

  const sT = scalePhase(phiT);
  const sP = scalePhase(phiP);
  const frcP = frcCutoffs(phiT, phiP, frcSigma);
  const ph: Scores = {
    mae: orNull(mae(phiT, phiP)),
    mse: orNull(mse(phiT, phiP)),
    psnr: orNull(psnr(phiT, phiP)),
    ssim: orNull(ssim(sT, sP, 1.0)),
    ms_ssim: orNull(msSsim(sT, sP)),
    frc50: orNull(frcP.frc50),
    frc1over7: orNull(frcP.frc1over7),
  };
  return { amplitude: amp, phase: ph, frcCurves: { amplitude: frcA.curve, phase: frcP.curve } };
}
