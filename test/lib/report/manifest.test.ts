import { describe, expect, it } from 'vitest';
import { buildManifest, manifestJob, sanitizeResult, serializeManifest } from '../../../src/lib/report/manifest';
import { havePython, runPython } from '../study/helpers';

const job = {
  dose: 1000, view: 'baseline' as const, gridsize: 1 as const,
  train_data_path: 'phase_c/dose_1000/patched_train.npz', test_data_path: 'phase_c/dose_1000/patched_test.npz',
  artifact_dir: 'artifacts/dose_1000/baseline/gs1', log_path: 'artifacts/dose_1000/baseline/gs1/train.log',
};

describe('training_manifest.json (E4 training.py:445-469; docs/decisions.md, Manifest)', () => {
  const m = buildManifest({
    now: Date.UTC(2025, 10, 4, 6, 0, 41) + 71.179,
    phaseCRoot: 'phase_c', phaseDRoot: 'phase_d', artifactRoot: 'artifacts',
    filters: { dose: 1000, view: 'baseline', gridsize: null }, dryRun: false,
    jobs: [manifestJob(job, {
      status: 'success', final_loss: 3, epochs_completed: 2, samples_per_second: 120,
      history: { train_loss: [4, 3], val_loss: [null, 3.5], learning_rate: [0.001, 0.0005] },
      bundle_path: 'model/model.json', model: { huge: true }, weights: new Float32Array([1, 2]), note: 'Größe ✓',
    })],
    skipped: [{ dose: 10000, view: 'sparse', reason: 'NPZ files not found (train=False, test=False).' }],
    backend: 'webgpu',
  });
  const text = serializeManifest(m);

  it('top-level and job key order are the reference order plus skip reporting and backend', () => {
    expect(Object.keys(m)).toEqual(['timestamp', 'phase_c_root', 'phase_d_root', 'artifact_root', 'filters', 'dry_run', 'jobs',
      'skipped_views', 'skipped_count', 'backend']);
    expect(Object.keys(m.jobs[0])).toEqual(['dose', 'view', 'gridsize', 'train_data_path', 'test_data_path', 'log_path', 'artifact_dir', 'result']);
    expect(m.timestamp).toBe('2025-11-04T06:00:41.071179Z');
    expect(m.skipped_count).toBe(1);
  });

  it('writes Python floats, ints, ensure_ascii and drops model objects like LATEST', () => {
    expect(text).toContain('"dose": 1000.0,\n    "view": "baseline",\n    "gridsize": null');
    expect(text).toContain('      "dose": 1000.0,\n      "view": "baseline",\n      "gridsize": 1,');
    expect(text).toContain('"final_loss": 3.0,');
    expect(text).toContain('"epochs_completed": 2,');
    expect(text).toContain('"samples_per_second": 120.0,');
    expect(text).toContain('"learning_rate": [\n            0.001,\n            0.0005\n          ]');
    expect(text).toContain('"note": "Gr\\u00f6\\u00dfe \\u2713"');
    expect(text).not.toContain('"model"');
    expect(text).toContain('"weights": [\n          1,\n          2\n        ]');
    expect(text).toContain('"skipped_views": [\n    {\n      "dose": 10000.0,');
    expect(text.endsWith('"backend": "webgpu"\n}')).toBe(true);
  });

  it.skipIf(!havePython)('json.load reads it and json.dumps(indent=2) writes back the same text', () => {
    const again = runPython('import json,sys\nm=json.load(sys.stdin)\nassert isinstance(m["jobs"][0]["dose"], float)\nprint(json.dumps(m, indent=2), end="")', text);
    expect(again).toBe(text);
  });

  it('sanitizeResult keeps JSON values and stringifies the rest', () => {
    expect(sanitizeResult({ a: undefined, b: [undefined, 1], c: new Map(), d: 5n, e: new Error('x'), f: { autoencoder: 1, k: 2 } }))
      .toEqual({ b: [null, 1], c: '[object Map]', d: 5n, e: 'Error: x', f: { k: 2 } });
  });
});
