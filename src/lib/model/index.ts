/** The model stage: PtychoPINN network, loss, data path, training loop, inference and the job runner. */
export { buildGenerator, expectedParameterCount, filterPlan, borderMask, type NetworkConfig, type FilterPlan } from './network';
export { PtychoPinn, type PinnOptions } from './pinn';
export { settingsFromParams, SettingsError, SUPPORTED_N, type PinnSettings, type AmpActivation } from './settings';
export { poissonNll, amplitudeMae, totalLoss, NLL_EPSILON } from './loss';
export {
  groupDataset,
  groupIndices,
  groupGeometry,
  nearestNeighbours,
  normalisationFactor,
  intensityScale,
  subsampleIndices,
  validationSplit,
  DataError,
  type DiffractionData,
  type GroupedData,
  type GroupOptions,
} from './data';
export { trainPinn, evaluateLoss, makeBatch, type TrainOptions, type TrainOutcome } from './train';
export { ReduceLROnPlateau, EarlyStopping } from './callbacks';
export { isTrainingCheckpoint, type TrainingCheckpoint, type TrainingHistory } from './checkpoint';
export { predictPatches, reconstruct, reconstructionNpz, type Reconstruction } from './infer';
export { encodePng, reconstructionPreview } from './png';
export { modelFiles, zipBundle, sha256Hex, loadGeneratorFromBundle } from './bundle';
export { Rng, type RngState } from './rng';
