export { dftMatrices, farFieldIntensity, disposePhysicsCache, physicsCacheTensorCount, type DftMatrices } from './dft';
export { shiftMatrix, shiftMatrix64, shiftTaps, translateImage, canvasSize } from './translate';
export {
  buildForwardOperators,
  forwardIntensity,
  mergePatches,
  trimCanvas,
  extractWindows,
  extractWindowsFlat,
  MERGE_NORM_EPS,
  type ForwardOperators,
  type BuildForwardOptions,
} from './forward';
export { complexMul, illuminate, fromAmplitudePhase, type ComplexPair } from './complex';
export {
  defaultProbe,
  defocusedProbe,
  probeMask,
  normalizeProbe,
  gaussianFilter2d,
  gaussianKernel1d,
  gaussianWindow,
  reflectIndex,
  DEFAULT_PROBE_SCALE,
  type ProbeArrays,
} from './probe';
export { stitchPatches, DEFAULT_STITCH_M, type StitchResult } from './stitch';
export { getFftPlan, fft2, farFieldIntensityCpu, type FftPlan } from './fft';
