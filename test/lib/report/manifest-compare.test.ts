import { describe, expect, it } from 'vitest';
import { jsonDifferences, manifestDifferences, MANIFEST_TIMING_KEYS, withoutTimings } from '../../../src/lib/report/manifest-compare';

/** A small manifest in the shape runStudy writes; `t` changes every timing, `change` anything else. */
function manifest(t: number, change: (m: Record<string, any>) => void = () => {}): Record<string, unknown> {
  const m: Record<string, any> = {
    timestamp: `2026-01-0${t}T00:00:00Z`,
    phase_c_root: 'demo/phase_c',
    artifact_root: 'art',
    filters: { dose: 100000, view: null, gridsize: null },
    dry_run: false,
    jobs: [{
      dose: 100000, view: 'dense', gridsize: 2, artifact_dir: 'art/dose_100000/dense/gs2',
      params: { nepochs: 2, n_groups: 16, batch_size: 4 },
      result: {
        status: 'success', final_loss: 0.125, epochs_completed: 2,
        history: { train_loss: [0.25, 0.125], val_loss: [0.3, 0.2], learning_rate: [0.001, 0.001],
          epochs: [{ epoch: 1, train_loss: 0.25, seconds: 1.5 * t, samples_per_second: 10 / t }] },
        started_at: `2026-01-0${t}T00:00:01Z`, finished_at: `2026-01-0${t}T00:00:09Z`, duration_seconds: 8 * t,
        samples_per_second: 20 / t, training_seconds: 7 * t, step_seconds: 0.1 * t, epoch_seconds: 3 * t,
        bundle_path: 'wts.h5.zip', bundle_sha256: `${t}`.repeat(64), bundle_size_bytes: 1000 + t,
        metrics: { common: { amplitude: { ssim: 0.75, frc50: 12 } }, ssim_history: t === 1 ? [{ epoch: 1, amplitude_ssim: 0.5 }] : [] },
        backend: 'wasm',
      },
    }],
    skipped_views: [],
    skipped_count: 0,
    backend: 'wasm',
  };
  change(m);
  return m;
}

describe('manifests apart from timings', () => {
  it('two manifests that differ only in timings compare equal', () => {
    const a = manifest(1);
    const b = manifest(2);
    expect(jsonDifferences(a, b).length).toBeGreaterThan(10);
    expect(manifestDifferences(a, b)).toEqual([]);
    expect(withoutTimings(a)).toEqual(withoutTimings(b));
    const stripped = JSON.stringify(withoutTimings(a));
    for (const k of MANIFEST_TIMING_KEYS) expect(stripped).not.toContain(`"${k}"`);
    // a copy: the manifest itself keeps its timings
    expect((a.jobs as { result: Record<string, unknown> }[])[0].result.duration_seconds).toBe(8);
  });

  it('a loss, a score or a parameter is not a timing', () => {
    const a = manifest(1);
    expect(manifestDifferences(a, manifest(2, (m) => { m.jobs[0].result.final_loss = 0.126; })))
      .toEqual(['/jobs/0/result/final_loss: 0.125 vs 0.126']);
    expect(manifestDifferences(a, manifest(2, (m) => { m.jobs[0].result.history.train_loss[1] = 0.5; })))
      .toEqual(['/jobs/0/result/history/train_loss/1: 0.125 vs 0.5']);
    expect(manifestDifferences(a, manifest(2, (m) => { m.jobs[0].result.metrics.common.amplitude.ssim = 0.7; })))
      .toEqual(['/jobs/0/result/metrics/common/amplitude/ssim: 0.75 vs 0.7']);
    expect(manifestDifferences(a, manifest(2, (m) => { m.jobs[0].params.n_groups = 32; })))
      .toEqual(['/jobs/0/params/n_groups: 16 vs 32']);
    expect(manifestDifferences(a, manifest(2, (m) => { m.jobs[0].result.status = 'failed'; })))
      .toEqual(['/jobs/0/result/status: "success" vs "failed"']);
    expect(manifestDifferences(a, manifest(2, (m) => { delete m.jobs[0].result.bundle_path; })))
      .toEqual(['/jobs/0/result/bundle_path: "wts.h5.zip" vs undefined']);
    expect(manifestDifferences(a, manifest(2, (m) => { m.jobs.push(m.jobs[0]); }))).toHaveLength(1);
  });

  it('numbers within relTol count as equal; max caps the list', () => {
    const a = manifest(1);
    const b = manifest(2, (m) => { m.jobs[0].result.metrics.common.amplitude.ssim = 0.75 * (1 + 1e-14); m.jobs[0].result.final_loss = 0.2; });
    expect(manifestDifferences(a, b)).toHaveLength(2);
    expect(manifestDifferences(a, b, { relTol: 1e-12 })).toEqual(['/jobs/0/result/final_loss: 0.125 vs 0.2']);
    expect(manifestDifferences(a, b, { max: 1 })).toHaveLength(1);
    expect(jsonDifferences([1], { 0: 1 })).toEqual([': array vs object']);
  });
});
