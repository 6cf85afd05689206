import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  DEFAULT_CFG, KEY_MAPPINGS, LEGACY_FLOAT_KEYS, MODEL_DEFAULTS, dataclassToLegacyDict, getBigN, getPaddedSize,
  getPaddingSize, makeLegacyParams, makeModelConfig, makeTrainingConfig, updateLegacyDict,
} from '../../../src/lib/config/config';
import { pyJsonDumps } from '../../../src/lib/report/pyjson';

// Written by test/fixtures/study/bridge_reference.py: real Python dataclasses, dict and json.dumps.
const expected = JSON.parse(readFileSync(new URL('../../fixtures/study/bridge_expected.json', import.meta.url), 'utf8')) as {
  after_dense_1000: string; after_baseline_10000: string;
};

function jobConfig(dose: number, gridsize: number, train: string, test: string, out: string) {
  return makeTrainingConfig({
    train_data_file: train, test_data_file: test, output_dir: out,
    model: makeModelConfig({ gridsize, N: 64 }), nphotons: dose,
  });
}

describe('ModelConfig / TrainingConfig defaults (config.py:93-180)', () => {
  it('has the reference defaults and differs from DEFAULT_CFG where config.py and params.py differ', () => {
    const m = makeModelConfig();
    expect(m.N).toBe(64);
    expect(m.gridsize).toBe(1);
    expect(m.probe_scale).toBe(4.0);
    expect(m.probe_big).toBe(true);
    expect(m.probe_mask).toBe(false);
    expect(Object.isFrozen(m)).toBe(true);
    const t = makeTrainingConfig();
    expect(t.nepochs).toBe(50);
    expect(t.batch_size).toBe(16);
    expect(t.nphotons).toBe(1e9);
    expect(t.neighbor_count).toBe(4);
    expect(t.output_dir).toBe('training_outputs');
    expect(t.intensity_scale_trainable).toBe(true);
    expect(DEFAULT_CFG.N).toBe(128);
    expect(DEFAULT_CFG.nepochs).toBe(60);
    expect(DEFAULT_CFG['probe.mask']).toBe(true);
  });

  it('n_groups: None -> 512; n_images is an alias when n_groups is not given', () => {
    expect(makeTrainingConfig().n_groups).toBe(512);
    expect(makeTrainingConfig({ n_images: 100 }).n_groups).toBe(100);
    expect(makeTrainingConfig({ n_images: 100, n_groups: 7 }).n_groups).toBe(7);
    expect(makeTrainingConfig({ n_groups: undefined }).n_groups).toBe(512);
  });

  it('rejects unknown fields', () => {
    expect(() => makeModelConfig({ nope: 1 } as never)).toThrow(/no field 'nope'/);
    expect(() => makeTrainingConfig({ nope: 1 } as never)).toThrow(/no field 'nope'/);
  });

  it('DEFAULT_CFG has the 40 reference keys in order', () => {
    expect(Object.keys(DEFAULT_CFG)).toEqual([
      'N', 'offset', 'gridsize', 'outer_offset_train', 'outer_offset_test', 'batch_size', 'nepochs',
      'n_filters_scale', 'output_prefix', 'big_gridsize', 'max_position_jitter', 'sim_jitter_scale',
      'default_probe_scale', 'mae_weight', 'nll_weight', 'tv_weight', 'realspace_mae_weight',
      'realspace_weight', 'nphotons', 'nimgs_train', 'nimgs_test', 'data_source', 'probe.trainable',
      'intensity_scale.trainable', 'positions.provided', 'object.big', 'probe.big', 'probe_scale', 'set_phi',
      'probe.mask', 'pad_object', 'model_type', 'label', 'size', 'amp_activation', 'h5_path', 'npseed', 'debug',
      'gaussian_smoothing_sigma', 'use_xla_translate',
    ]);
  });
});

describe('updateLegacyDict (config.py:560-633, as E4 run_training_job calls it)', () => {
  it('one dense dose-1000 bridge gives exactly what the Python reference gives (keys, order, values, float text)', () => {
    const cfg = makeLegacyParams();
    updateLegacyDict(cfg, jobConfig(1000, 2, 'phase_d/dose_1000/dense/dense_train.npz',
      'phase_d/dose_1000/dense/dense_test.npz', 'artifacts/dose_1000/dense/gs2'));
    expect(pyJsonDumps(cfg, { floatKeys: LEGACY_FLOAT_KEYS })).toBe(expected.after_dense_1000);
    // The effect on an E4 dense job (E4 training.py:268-281), spelled out.
    expect(cfg).toMatchObject({
      N: 64, gridsize: 2, nphotons: 1000, nepochs: 50, output_prefix: 'artifacts/dose_1000/dense/gs2',
      train_data_file_path: 'phase_d/dose_1000/dense/dense_train.npz', n_groups: 512, neighbor_count: 4,
      sequential_sampling: false, 'probe.big': true, 'probe.mask': false, probe_scale: 4.0,
      'intensity_scale.trainable': true, 'positions.provided': true, batch_size: 16, 'object.big': true,
    });
    for (const k of ['n_images', 'n_subsample', 'subsample_seed', 'neighbor_pool_size', 'gradient_clip_val',
      'max_hidden_channels', 'resnet_width', 'probe_mask_diameter', 'object_big', 'output_dir', 'train_data_file']) {
      expect(k in cfg, k).toBe(false);
    }
  });

  it('values persist across jobs and None never erases (second job on the same dict)', () => {
    const cfg = makeLegacyParams();
    updateLegacyDict(cfg, jobConfig(1000, 2, 'phase_d/dose_1000/dense/dense_train.npz',
      'phase_d/dose_1000/dense/dense_test.npz', 'artifacts/dose_1000/dense/gs2'));
    updateLegacyDict(cfg, jobConfig(10000, 1, 'phase_c/dose_10000/patched_train.npz',
      'phase_c/dose_10000/patched_test.npz', 'artifacts/dose_10000/baseline/gs1'));
    expect(pyJsonDumps(cfg, { floatKeys: LEGACY_FLOAT_KEYS })).toBe(expected.after_baseline_10000);
  });

  it('None/undefined never erase an existing legacy value; unknown keys are added', () => {
    const cfg = makeLegacyParams();
    cfg.n_images = 99;
    cfg.outer_offset_train = 8;
    updateLegacyDict(cfg, makeTrainingConfig({ n_images: null, train_data_file: null, subsample_seed: null }));
    expect(cfg.n_images).toBe(99);
    expect(cfg.outer_offset_train).toBe(8);
    expect('train_data_file_path' in cfg).toBe(false);
    expect(cfg.n_groups).toBe(512);
    const cfg2: Record<string, unknown> = { subsample_seed: 5 };
    updateLegacyDict(cfg2, makeTrainingConfig({ subsample_seed: null }));
    expect(cfg2.subsample_seed).toBe(5);
  });

  it('the nine renames, renamed keys at the end of the flattened dict in KEY_MAPPINGS order', () => {
    const d = dataclassToLegacyDict(makeTrainingConfig({ train_data_file: 'a.npz', test_data_file: 'b.npz' }));
    const keys = Object.keys(d);
    expect(keys.slice(-9)).toEqual(KEY_MAPPINGS.map(([, n]) => n));
    for (const [o] of KEY_MAPPINGS) expect(keys).not.toContain(o);
    expect(keys).not.toContain('model');
    // model fields follow the training fields (dict.update appends)
    expect(keys.indexOf('N')).toBeGreaterThan(keys.indexOf('plateau_threshold'));
    expect(d.train_data_file_path).toBe('a.npz');
    expect(d.output_prefix).toBe('training_outputs');
    expect(typeof d.output_prefix).toBe('string');
    // A ModelConfig alone is flattened and renamed too
    const m = dataclassToLegacyDict(makeModelConfig({ probe_mask: true }));
    expect(m['probe.mask']).toBe(true);
    expect(Object.keys(m).slice(-3)).toEqual(['object.big', 'probe.big', 'probe.mask']);
    expect(Object.keys(MODEL_DEFAULTS)).toContain('probe_mask');
  });

  it('bigN and padding helpers (params.py:106-122)', () => {
    const cfg = makeLegacyParams();
    expect(getBigN(cfg)).toBe(128 + 4);
    updateLegacyDict(cfg, makeTrainingConfig({ model: makeModelConfig({ N: 64, gridsize: 2 }) }));
    expect(getBigN(cfg)).toBe(68);
    expect(getPaddingSize(cfg)).toBe(14);
    expect(getPaddedSize(cfg)).toBe(78); // params.py:106-122: P = 64 + 4 + 10 = 78 for N=64, g=2
    updateLegacyDict(cfg, makeTrainingConfig({ model: makeModelConfig({ N: 64, gridsize: 1 }) }));
    expect(getPaddedSize(cfg)).toBe(74);
  });
});
