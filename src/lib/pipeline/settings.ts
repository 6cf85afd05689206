/**
 * Training settings the user edits, and the two presets (README.md "Presets"; docs/demo-study.md "The Demo preset"). They become TrainingConfig /
 * ModelConfig overrides for every job before the bridge, so params.json records what was used.
 */

export type PresetName = 'Reference' | 'Demo';

export interface TrainingSettings {
  preset: PresetName | 'Custom';
  epochs: number;        // TrainingConfig.nepochs
  groups: number;        // TrainingConfig.n_groups
  batchSize: number;     // TrainingConfig.batch_size
  /**
   * ModelConfig.n_filters_scale. The reference uses whole numbers (default 2); quarter steps below 1
   * (0.25, 0.5, 0.75) are an extension for quick looks on slow (software or CPU) backends: every layer
   * keeps a whole number of filters at these values.
   */
  filterScale: number;
}

export const PRESETS: Record<PresetName, Omit<TrainingSettings, 'preset'>> = {
  // The reference defaults (`ptycho/config/config.py:98, 128-129, 179-180`: nepochs 50, n_groups 512, batch_size 16, n_filters_scale 2).
  Reference: { epochs: 50, groups: 512, batchSize: 16, filterScale: 2 },
  // The demo study's own preset, chosen by measurement (docs/decisions/2026-12-06-demo-study.md):
  // every one of the demo's 288 positions a split as a group, batch 4 (four times the optimizer
  // steps per group seen: far faster learning at this budget), a half-width network (as fast to
  // learn per epoch as filter scale 1 on the demo, at half the time), and the epochs that fit the
  // 9-job study into about 45 minutes on a 2-core machine without a GPU.
  Demo: { epochs: 40, groups: 288, batchSize: 4, filterScale: 0.5 },
};

export function presetSettings(name: PresetName): TrainingSettings {
  return { preset: name, ...PRESETS[name] };
}

/** The preset whose values these are, or 'Custom'. */
export function matchPreset(s: Omit<TrainingSettings, 'preset'>): TrainingSettings['preset'] {
  for (const [name, p] of Object.entries(PRESETS) as [PresetName, Omit<TrainingSettings, 'preset'>][]) {
    if (p.epochs === s.epochs && p.groups === s.groups && p.batchSize === s.batchSize && p.filterScale === s.filterScale) return name;
  }
  return 'Custom';
}

/** Problems with user-entered values, as sentences; empty when the settings can be used. */
export function settingsProblems(s: TrainingSettings): string[] {
  const out: string[] = [];
  const posInt = (v: number) => Number.isInteger(v) && v > 0;
  if (!posInt(s.epochs)) out.push('Epochs must be a whole number of at least 1.');
  if (!posInt(s.groups)) out.push('Groups must be a whole number of at least 1.');
  if (!posInt(s.batchSize)) out.push('Batch size must be a whole number of at least 1.');
  if (!(s.filterScale >= 0.25) || !Number.isInteger(s.filterScale * 4)) {
    out.push('Filter scale must be a multiple of 0.25, at least 0.25 (the reference default is 2).');
  }
  return out;
}

/** The overrides applied to each job's configs (field names of TrainingConfig / ModelConfig). */
export function configOverrides(s: TrainingSettings): { training: Record<string, number>; model: Record<string, number> } {
  return {
    training: { nepochs: s.epochs, n_groups: s.groups, batch_size: s.batchSize },
    model: { n_filters_scale: s.filterScale },
  };
}
