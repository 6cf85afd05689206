/**
 * The typed configuration (ModelConfig, TrainingConfig), the legacy `params.cfg` dictionary
 * (DEFAULT_CFG) and the one-way bridge between them (updateLegacyDict), CONFIG-001.
 *
 * Field sets follow ptycho/config/config.py at the reference's HEAD. Fields marked
 * `(*)` below were added after the October-2025 version the E4 training CLI ran against; they are
 * kept because the bridge at HEAD writes them and the training code may read them (e.g. the
 * ReduceLROnPlateau settings). Their presence only *adds* keys to the legacy dict; every key that
 * existed at E4 gets exactly the value E4 wrote (`config.py:560-633` `update_legacy_dict`).
 *
 * Python -> TypeScript: `Optional[X] = None` is `X | null`; `Path` fields are plain POSIX strings
 * (the bridge stringifies paths, which here is the identity); ModelConfig is frozen like the
 * `@dataclass(frozen=True)`; TrainingConfig is a plain mutable object.
 */

export type ModelType = 'pinn' | 'supervised';
export type Architecture = 'cnn' | 'ffno' | 'fno' | 'fno_vanilla' | 'neuralop_uno';
export type AmpActivation = 'sigmoid' | 'swish' | 'softplus' | 'relu';

/** ModelConfig (`ptycho/config/config.py:93-120` ModelConfig, frozen). */
export interface ModelConfig {
  readonly N: number;                              // Literal[64, 128, 256], not checked at runtime
  readonly gridsize: number;
  readonly n_filters_scale: number;
  readonly model_type: ModelType;
  readonly architecture: Architecture;             // (*)
  readonly fno_modes: number;                      // (*)
  readonly fno_width: number;                      // (*)
  readonly fno_blocks: number;                     // (*)
  readonly fno_cnn_blocks: number;                 // (*)
  readonly learned_input_channels: number;         // (*)
  readonly max_hidden_channels: number | null;     // (*)
  readonly resnet_width: number | null;            // (*)
  readonly fno_input_transform: 'none' | 'sqrt' | 'log1p' | 'instancenorm'; // (*)
  readonly generator_output_mode: 'real_imag' | 'amp_phase_logits' | 'amp_phase'; // (*)
  readonly amp_activation: AmpActivation;
  readonly object_big: boolean;
  readonly probe_big: boolean;
  readonly probe_mask: boolean;
  readonly probe_mask_sigma: number;               // (*) float
  readonly probe_mask_diameter: number | null;     // (*) Optional[float]
  readonly pad_object: boolean;
  readonly probe_scale: number;                    // float
  readonly gaussian_smoothing_sigma: number;       // float
}

/** TrainingConfig (`ptycho/config/config.py` TrainingConfig, a mutable dataclass). */
export interface TrainingConfig {
  model: ModelConfig;
  train_data_file: string | null;                  // Optional[Path]
  test_data_file: string | null;                   // Optional[Path]
  batch_size: number;
  nepochs: number;
  mae_weight: number;                              // float
  nll_weight: number;                              // float
  realspace_mae_weight: number;                    // float
  realspace_weight: number;                        // float
  nphotons: number;                                // float
  n_groups: number | null;                         // None -> 512 after construction
  n_images: number | null;                         // deprecated alias of n_groups
  n_subsample: number | null;
  subsample_seed: number | null;
  neighbor_count: number;                          // 4 (NOT the study's 7, trap 8.9)
  enable_oversampling: boolean;                    // (*)
  neighbor_pool_size: number | null;               // (*)
  positions_provided: boolean;
  probe_trainable: boolean;
  intensity_scale_trainable: boolean;
  output_dir: string;                              // Path
  sequential_sampling: boolean;
  backend: 'tensorflow' | 'pytorch';               // (*)
  torch_loss_mode: 'poisson' | 'mae';              // (*)
  torch_mae_pred_l2_match_target: boolean;         // (*)
  gradient_clip_val: number | null;                // (*) Optional[float]
  gradient_clip_algorithm: 'norm' | 'value' | 'agc'; // (*)
  optimizer: 'adam' | 'adamw' | 'sgd';             // (*)
  momentum: number;                                // (*) float
  weight_decay: number;                            // (*) float
  adam_beta1: number;                              // (*) float
  adam_beta2: number;                              // (*) float
  scheduler: 'Default' | 'Exponential' | 'WarmupCosine' | 'ReduceLROnPlateau'; // (*)
  lr_warmup_epochs: number;                        // (*)
  lr_min_ratio: number;                            // (*) float
  plateau_factor: number;                          // (*) float
  plateau_patience: number;                        // (*)
  plateau_min_lr: number;                          // (*) float
  plateau_threshold: number;                       // (*) float
}

/** The fields marked (*) above: absent from the October-2025 config.py the E4 CLI used (`ptycho/config/config.py`; added between commits `14f48a8` and `7a61a0a`). */
export const POST_E4_MODEL_FIELDS: readonly (keyof ModelConfig)[] = [
  'architecture', 'fno_modes', 'fno_width', 'fno_blocks', 'fno_cnn_blocks', 'learned_input_channels',
  'max_hidden_channels', 'resnet_width', 'fno_input_transform', 'generator_output_mode',
  'probe_mask_sigma', 'probe_mask_diameter',
];
export const POST_E4_TRAINING_FIELDS: readonly (keyof TrainingConfig)[] = [
  'enable_oversampling', 'neighbor_pool_size', 'backend', 'torch_loss_mode',
  'torch_mae_pred_l2_match_target', 'gradient_clip_val', 'gradient_clip_algorithm', 'optimizer',
  'momentum', 'weight_decay', 'adam_beta1', 'adam_beta2', 'scheduler', 'lr_warmup_epochs',
  'lr_min_ratio', 'plateau_factor', 'plateau_patience', 'plateau_min_lr', 'plateau_threshold',
];

/** ModelConfig defaults in dataclass field order (`ptycho/config/config.py`). Order matters: asdict() order. */
export const MODEL_DEFAULTS: ModelConfig = Object.freeze({
  N: 64,
  gridsize: 1,
  n_filters_scale: 2,
  model_type: 'pinn',
  architecture: 'cnn',
  fno_modes: 12,
  fno_width: 32,
  fno_blocks: 4,
  fno_cnn_blocks: 2,
  learned_input_channels: 1,
  max_hidden_channels: null,
  resnet_width: null,
  fno_input_transform: 'none',
  generator_output_mode: 'real_imag',
  amp_activation: 'sigmoid',
  object_big: true,
  probe_big: true,
  probe_mask: false,
  probe_mask_sigma: 1.0,
  probe_mask_diameter: null,
  pad_object: true,
  probe_scale: 4.0,
  gaussian_smoothing_sigma: 0.0,
} satisfies ModelConfig);

/** TrainingConfig defaults (without `model`) in dataclass field order (`ptycho/config/config.py`). */
export const TRAINING_DEFAULTS: Readonly<Omit<TrainingConfig, 'model'>> = Object.freeze({
  train_data_file: null,
  test_data_file: null,
  batch_size: 16,
  nepochs: 50,
  mae_weight: 0.0,
  nll_weight: 1.0,
  realspace_mae_weight: 0.0,
  realspace_weight: 0.0,
  nphotons: 1e9,
  n_groups: null,
  n_images: null,
  n_subsample: null,
  subsample_seed: null,
  neighbor_count: 4,
  enable_oversampling: false,
  neighbor_pool_size: null,
  positions_provided: true,
  probe_trainable: false,
  intensity_scale_trainable: true,
  output_dir: 'training_outputs',
  sequential_sampling: false,
  backend: 'tensorflow',
  torch_loss_mode: 'poisson',
  torch_mae_pred_l2_match_target: false,
  gradient_clip_val: null,
  gradient_clip_algorithm: 'norm',
  optimizer: 'adam',
  momentum: 0.9,
  weight_decay: 0.0,
  adam_beta1: 0.9,
  adam_beta2: 0.999,
  scheduler: 'Default',
  lr_warmup_epochs: 0,
  lr_min_ratio: 0.1,
  plateau_factor: 0.5,
  plateau_patience: 2,
  plateau_min_lr: 5e-5,
  plateau_threshold: 0.0,
} satisfies Omit<TrainingConfig, 'model'>);

/** The n_groups default applied by TrainingConfig.__post_init__ (`ptycho/config/config.py:165-180`). */
export const DEFAULT_N_GROUPS = 512;

/** Overrides drop `undefined` (a field that is not given keeps its default), like a keyword argument left out. */
function withoutUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** `ModelConfig(**overrides)`: defaults for everything not given; the result is frozen. Unknown keys are rejected. */
export function makeModelConfig(overrides: Partial<ModelConfig> = {}): ModelConfig {
  for (const k of Object.keys(overrides)) {
    if (!(k in MODEL_DEFAULTS)) throw new TypeError(`ModelConfig has no field '${k}'`);
  }
  return Object.freeze({ ...MODEL_DEFAULTS, ...withoutUndefined(overrides) });
}

/**
 * `TrainingConfig(model=..., **overrides)` including `__post_init__`: when `n_images` is set and
 * `n_groups` is not, `n_groups` takes the `n_images` value (the reference also warns that the
 * alias is deprecated); then a still-missing `n_groups` becomes 512. `model` defaults to
 * `makeModelConfig()` here for convenience (the reference makes it required).
 */
export function makeTrainingConfig(
  overrides: Partial<Omit<TrainingConfig, 'model'>> & { model?: ModelConfig } = {},
): TrainingConfig {
  const { model, ...rest } = overrides;
  for (const k of Object.keys(rest)) {
    if (!(k in TRAINING_DEFAULTS)) throw new TypeError(`TrainingConfig has no field '${k}'`);
  }
  // `model` is the first dataclass field (it has no default), which fixes asdict() order.
  const cfg: TrainingConfig = { model: model ?? makeModelConfig(), ...TRAINING_DEFAULTS, ...withoutUndefined(rest) };
  if (cfg.n_images !== null && cfg.n_groups === null) cfg.n_groups = cfg.n_images;
  if (cfg.n_groups === null) cfg.n_groups = DEFAULT_N_GROUPS;
  return cfg;
}

/** The legacy `params.cfg` dictionary. Insertion order is meaningful (it is what params.json shows). */
export type LegacyParams = Record<string, unknown>;

/** `ptycho/params.py` DEFAULT_CFG, exactly, in its order (`ptycho/params.py:62-78`). */
export const DEFAULT_CFG: Readonly<LegacyParams> = Object.freeze({
  N: 128,
  offset: 4,
  gridsize: 2,
  outer_offset_train: null,
  outer_offset_test: null,
  batch_size: 16,
  nepochs: 60,
  n_filters_scale: 2,
  output_prefix: 'outputs',
  big_gridsize: 10,
  max_position_jitter: 10,
  sim_jitter_scale: 0.0,
  default_probe_scale: 0.7,
  mae_weight: 0.0,
  nll_weight: 1.0,
  tv_weight: 0.0,
  realspace_mae_weight: 0.0,
  realspace_weight: 0.0,
  nphotons: 1e9,
  nimgs_train: 9,
  nimgs_test: 3,
  data_source: 'generic',
  'probe.trainable': false,
  'intensity_scale.trainable': false,
  'positions.provided': false,
  'object.big': true,
  'probe.big': false,
  probe_scale: 10.0,
  set_phi: false,
  'probe.mask': true,
  pad_object: true,
  model_type: 'pinn',
  label: '',
  size: 392,
  amp_activation: 'sigmoid',
  h5_path: 'wts.h5',
  npseed: 42,
  debug: true,
  gaussian_smoothing_sigma: 0.0,
  use_xla_translate: true,
});

/** A fresh `params.cfg` (a copy of DEFAULT_CFG). Each study run starts from one (the reference's process-global dict). */
export function makeLegacyParams(): LegacyParams {
  return { ...DEFAULT_CFG };
}

/**
 * Legacy keys whose values are Python floats (so params.json writes `1000.0`, not `1000`).
 * DEFAULT_CFG's float literals plus the float-typed dataclass fields.
 */
export const LEGACY_FLOAT_KEYS: ReadonlySet<string> = new Set([
  'sim_jitter_scale', 'default_probe_scale', 'mae_weight', 'nll_weight', 'tv_weight',
  'realspace_mae_weight', 'realspace_weight', 'nphotons', 'probe_scale', 'gaussian_smoothing_sigma',
  'probe_mask_sigma', 'probe_mask_diameter', 'gradient_clip_val', 'momentum', 'weight_decay',
  'adam_beta1', 'adam_beta2', 'lr_min_ratio', 'plateau_factor', 'plateau_min_lr', 'plateau_threshold',
]);

/** KEY_MAPPINGS in the reference's order (`config.py:570-580`). */
export const KEY_MAPPINGS: readonly (readonly [string, string])[] = [
  ['object_big', 'object.big'],
  ['probe_big', 'probe.big'],
  ['probe_mask', 'probe.mask'],
  ['probe_trainable', 'probe.trainable'],
  ['intensity_scale_trainable', 'intensity_scale.trainable'],
  ['positions_provided', 'positions.provided'],
  ['output_dir', 'output_prefix'],
  ['train_data_file', 'train_data_file_path'],
  ['test_data_file', 'test_data_file_path'],
];

/**
 * `dataclass_to_legacy_dict(obj)` (`config.py:560-633`): asdict(); pop `model` and merge its fields at
 * the end (model fields win on a clash); rename through KEY_MAPPINGS, each renamed key moving to
 * the end of the dict, Path values stringified.
 */
export function dataclassToLegacyDict(config: TrainingConfig | ModelConfig): LegacyParams {
  const d: LegacyParams = {};
  for (const [k, v] of Object.entries(config)) d[k] = v;
  if ('model' in d && d.model !== null && typeof d.model === 'object') {
    const model = d.model as Record<string, unknown>;
    delete d.model;
    for (const [k, v] of Object.entries(model)) {
      delete d[k]; // dict.update keeps an existing key's position; none clash today, so this is moot
      d[k] = v;
    }
  }
  for (const [oldKey, newKey] of KEY_MAPPINGS) {
    if (oldKey in d) {
      const value = d[oldKey];
      delete d[oldKey];
      delete d[newKey];
      // Path -> str: our path fields already hold POSIX strings (and the reference keeps a str as given).
      d[newKey] = value;
    }
  }
  return d;
}

/**
 * `update_legacy_dict(cfg, config)` (`config.py:560-633`): every non-None (here: non-null, non-undefined)
 * value is written into `cfg`. An existing key keeps its position (Python dict assignment), a new
 * key is appended. None never erases; nothing is deleted; no validation. Mutates and returns `cfg`.
 */
export function updateLegacyDict(cfg: LegacyParams, config: TrainingConfig | ModelConfig): LegacyParams {
  const values = dataclassToLegacyDict(config);
  for (const [k, v] of Object.entries(values)) {
    if (v === null || v === undefined) continue;
    cfg[k] = v;
  }
  return cfg;
}

/** The signature a run loop uses to bridge; injectable so tests can count calls. */
export type BridgeFn = (cfg: LegacyParams, config: TrainingConfig) => void;

function num(cfg: LegacyParams, key: string): number {
  const v = cfg[key];
  if (typeof v !== 'number') throw new TypeError(`params.cfg['${key}'] is not a number: ${String(v)}`);
  return v;
}

/** `params.get_bigN()` = N + (gridsize - 1) * offset (params.py:106-111). */
export function getBigN(cfg: LegacyParams): number {
  return num(cfg, 'N') + (num(cfg, 'gridsize') - 1) * num(cfg, 'offset');
}

/** `params.get_padding_size()` = (gridsize - 1) * offset + max_position_jitter (params.py:113-117). */
export function getPaddingSize(cfg: LegacyParams): number {
  return (num(cfg, 'gridsize') - 1) * num(cfg, 'offset') + num(cfg, 'max_position_jitter');
}

/** `params.get_padded_size()` = bigN + max_position_jitter (params.py:119-122). */
export function getPaddedSize(cfg: LegacyParams): number {
  return getBigN(cfg) + num(cfg, 'max_position_jitter');
}
