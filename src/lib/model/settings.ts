/**
 * The training code's view of the bridged legacy dictionary (CONFIG-001: settings are read from
 * params.cfg after update_legacy_dict, `config.py:560-633`). Every key is read here, typed and checked
 * once, so the network, data path and loop never look at the raw dictionary.
 */

export type AmpActivation = 'sigmoid' | 'swish' | 'softplus' | 'relu';

export interface PinnSettings {
  N: number;
  gridsize: number;
  /** C = gridsize², channels per group. */
  C: number;
  nFiltersScale: number;
  batchSize: number;
  nEpochs: number;
  nGroups: number;
  neighborCount: number;
  nPhotons: number;
  probeBig: boolean;
  probeMask: boolean;
  probeScale: number;
  offset: number;
  maxPositionJitter: number;
  ampActivation: AmpActivation;
  padObject: boolean;
  objectBig: boolean;
  /** The dict's 'intensity_scale.trainable' as bridged; the runner decides whether to honour it (docs/decisions.md (b)). */
  intensityScaleTrainableRequested: boolean;
  nllWeight: number;
  maeWeight: number;
  realspaceWeight: number;
  outputPrefix: string;
  subsampleSeed: number | null;
}

export type LegacyDict = Readonly<Record<string, unknown>>;

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

function num(p: LegacyDict, key: string, fallback?: number): number {
  const v = p[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new SettingsError(`params: required key '${key}' is missing`);
  }
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    throw new SettingsError(`params: '${key}' must be a finite number, got ${JSON.stringify(v)}`);
  }
  return n;
}

function int(p: LegacyDict, key: string, fallback?: number): number {
  const n = num(p, key, fallback);
  if (!Number.isInteger(n)) throw new SettingsError(`params: '${key}' must be an integer, got ${n}`);
  return n;
}

function bool(p: LegacyDict, key: string, fallback: boolean): boolean {
  const v = p[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'boolean') return v;
  throw new SettingsError(`params: '${key}' must be true or false, got ${JSON.stringify(v)}`);
}

/** N values the reference supports (`model.py:316-323`, `config.py:96`), plus 32 as our quick-run extension. */
export const SUPPORTED_N = [32, 64, 128, 256] as const;

/**
 * Read the settings. Fallbacks are the effective CLI defaults (`ptycho/config/config.py` dataclasses; `params.py:62-78` for legacy-only keys) for keys a bridged
 * dict always carries; a missing N or gridsize is an error, since those must come from the job.
 */
export function settingsFromParams(p: LegacyDict): PinnSettings {
  const N = int(p, 'N');
  const gridsize = int(p, 'gridsize');
  if (gridsize < 1 || gridsize > 4) throw new SettingsError(`params: gridsize must be 1..4, got ${gridsize}`);
  const amp = String(p['amp_activation'] ?? 'sigmoid');
  if (!['sigmoid', 'swish', 'softplus', 'relu'].includes(amp)) {
    throw new SettingsError(`params: amp_activation must be sigmoid, swish, softplus or relu, got '${amp}'`);
  }
  const seed = p['subsample_seed'];
  const s: PinnSettings = {
    N,
    gridsize,
    C: gridsize * gridsize,
    nFiltersScale: num(p, 'n_filters_scale', 2), // `config.py:98`: n_filters_scale 2
    batchSize: int(p, 'batch_size', 16), // `config.py:128`: batch 16
    nEpochs: int(p, 'nepochs', 50), // `config.py:129`: nepochs 50 on the CLI path
    nGroups: int(p, 'n_groups', 512), // `config.py:179-180`: n_groups 512
    neighborCount: int(p, 'neighbor_count', 4), // `config.py:139`: K = 4
    nPhotons: num(p, 'nphotons', 1e9), // `config.py:134`: nphotons 1e9
    probeBig: bool(p, 'probe.big', true), // `config.py:114`: probe.big True (CLI)
    probeMask: bool(p, 'probe.mask', false), // `config.py:115`: probe.mask False (CLI)
    probeScale: num(p, 'probe_scale', 4), // `config.py:119`: probe_scale 4.0 (CLI)
    offset: int(p, 'offset', 4), // `params.py:63`: legacy offset 4
    maxPositionJitter: int(p, 'max_position_jitter', 10), // `params.py:66`: legacy jitter 10
    ampActivation: amp as AmpActivation,
    padObject: bool(p, 'pad_object', true),
    objectBig: bool(p, 'object.big', true),
    intensityScaleTrainableRequested: bool(p, 'intensity_scale.trainable', false),
    nllWeight: num(p, 'nll_weight', 1), // `config.py:130-131`, `model.py:869-886`: weights [0, 0, 1]
    maeWeight: num(p, 'mae_weight', 0),
    realspaceWeight: num(p, 'realspace_weight', 0),
    outputPrefix: String(p['output_prefix'] ?? ''),
    subsampleSeed: seed === undefined || seed === null ? null : int(p, 'subsample_seed'),
  };
  if (s.nFiltersScale <= 0) throw new SettingsError(`params: n_filters_scale must be > 0, got ${s.nFiltersScale}`);
  if (s.batchSize < 1) throw new SettingsError(`params: batch_size must be >= 1, got ${s.batchSize}`);
  if (s.nEpochs < 1) throw new SettingsError(`params: nepochs must be >= 1, got ${s.nEpochs}`);
  if (s.nGroups < 1) throw new SettingsError(`params: n_groups must be >= 1, got ${s.nGroups}`);
  if (s.nPhotons <= 0) throw new SettingsError(`params: nphotons must be > 0, got ${s.nPhotons}`);
  if (s.probeScale <= 0) throw new SettingsError(`params: probe_scale must be > 0, got ${s.probeScale}`);
  if (s.C > 1 && s.neighborCount < s.C) {
    throw new SettingsError(`params: neighbor_count (${s.neighborCount}) must be >= gridsize² (${s.C})`);
  }
  return s;
}
