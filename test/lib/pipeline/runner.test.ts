import { beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { unzipSync, unzlibSync } from 'fflate';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { makeDemoStudy } from '../../../src/lib/sim';
import { openNpz, writeNpz } from '../../../src/lib/ingest';
import { makeLegacyParams, makeModelConfig, makeTrainingConfig, updateLegacyDict } from '../../../src/lib/config/config';
import { createPtychoPinnRunner } from '../../../src/lib/pipeline/runner';
import { loadGeneratorFromBundle } from '../../../src/lib/model/bundle';
import type { ArtifactSink, FileSource, RunnerArgs, RunnerProgress, TrainingJob } from '../../../src/lib/study/runner';
import type { CommonScoreSet } from '../../../src/lib/eval/types';

class MemFiles implements FileSource {
  constructor(readonly map: Map<string, Uint8Array>) {}
  has(p: string) { return this.map.has(p); }
  async get(p: string) { return new Blob([this.map.get(p)! as Uint8Array<ArrayBuffer>]); }
}

class MemSink implements ArtifactSink {
  files = new Map<string, Uint8Array>();
  text = new Map<string, string>();
  dirs = new Set<string>();
  async mkdir(p: string) { this.dirs.add(p); }
  async writeText(p: string, t: string) { this.text.set(p, t); }
  async appendText(p: string, t: string) { this.text.set(p, (this.text.get(p) ?? '') + t); }
  async writeBytes(p: string, b: Uint8Array) { this.files.set(p, b.slice()); }
  async exists(p: string) { return this.files.has(p) || this.text.has(p) || this.dirs.has(p); }
  async readBytes(p: string) { return this.files.get(p); }
}

let files: Map<string, Uint8Array>;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const demo = await makeDemoStudy('small', { timestamp: '2026-01-01T00:00:00Z' });
  files = new Map(demo.files.map((f) => [f.path, f.bytes]));
}, 120_000);

function job(view: 'baseline' | 'dense', over: Partial<TrainingJob> = {}): TrainingJob {
  const g = view === 'baseline' ? 1 : 2;
  return {
    dose: 1000, view, gridsize: g,
    train_data_path: view === 'baseline' ? 'phase_c/dose_1000/patched_train.npz' : 'phase_d/dose_1000/dense/dense_train.npz',
    test_data_path: view === 'baseline' ? 'phase_c/dose_1000/patched_test.npz' : 'phase_d/dose_1000/dense/dense_test.npz',
    artifact_dir: `artifacts/dose_1000/${view}/gs${g}`,
    log_path: `artifacts/dose_1000/${view}/gs${g}/train.log`,
    ...over,
  };
}

/** The real bridge: DEFAULT_CFG, then update_legacy_dict with the job's TrainingConfig (CONFIG-001). */
function bridged(j: TrainingJob, extra: Record<string, unknown>) {
  const config = makeTrainingConfig({ model: makeModelConfig({ N: 32 as 64, gridsize: j.gridsize }), nphotons: j.dose, output_dir: j.artifact_dir, train_data_file: j.train_data_path, test_data_file: j.test_data_path });
  const params = updateLegacyDict(makeLegacyParams(), config);
  return { config, params: { ...params, ...extra } };
}

function args(j: TrainingJob, sink: MemSink, extra: Record<string, unknown> = {}, more: Partial<RunnerArgs> = {}): RunnerArgs {
  const { config, params } = bridged(j, extra);
  return { job: j, config, params, files: new MemFiles(files), sink, ...more };
}

describe('createPtychoPinnRunner on the demo study (N=32)', () => {
  it('scores the test reconstruction against objectGuess: result.metrics (reference and placed), metrics.json, comparison.png, live SSIM events', async () => {
    const sink = new MemSink();
    const j = job('dense');
    const events: RunnerProgress[] = [];
    const runner = createPtychoPinnRunner({ epochsOverride: 2, nGroupsOverride: 48, batchSizeOverride: 8, previewEveryEpochs: 1, previewGroups: 8 });
    const r = await runner(args(j, sink, { n_filters_scale: 0.25 }, { onProgress: (p) => events.push(p), phaseCRoot: 'phase_c' }));
    expect(r.error).toBeUndefined();
    expect(r.status).toBe('success');
    const m = r.metrics as { reference: { amplitude: Record<string, number | null>; phase: Record<string, number | null>; stitch_M: number }; placed: { amplitude: Record<string, number | null> }; coverage: number; ssim_history: { epoch: number; amplitude_ssim: number }[] };
    for (const set of [m.reference, m.placed]) {
      for (const k of ['mae', 'mse', 'psnr', 'ssim', 'ms_ssim', 'frc50', 'frc1over7']) expect(typeof set.amplitude[k], k).toBe('number');
    }
    expect(m.reference.stitch_M).toBe(10);
    expect(m.reference.amplitude.ssim!).toBeGreaterThan(-1);
    expect(m.reference.amplitude.ssim!).toBeLessThan(1);
    expect(typeof m.reference.phase.ssim).toBe('number'); // the demo's object carries phase (src/lib/sim/demo.ts)
    expect(m.coverage).toBeGreaterThan(0);
    expect(m.coverage).toBeLessThanOrEqual(1);
    expect(JSON.parse(sink.text.get(`${j.artifact_dir}/metrics.json`)!)).toEqual(JSON.parse(JSON.stringify(m)));
    const png = sink.files.get(`${j.artifact_dir}/comparison.png`)!;
    expect(Array.from(png.subarray(1, 4))).toEqual([80, 78, 71]); // 'PNG'
    const scores = events.filter((e) => e.status === 'score');
    expect(scores.length).toBeGreaterThanOrEqual(1);
    expect(m.ssim_history.map((h) => h.epoch)).toEqual(scores.map((e) => (e as { epoch: number }).epoch));
    const preview = events.find((e) => e.status === 'preview') as Extract<RunnerProgress, { status: 'preview' }>;
    expect(preview.truthAmplitude!.length).toBe(preview.width * preview.height);
    expect(preview.positions!.x.length).toBeGreaterThan(0);
    expect(sink.text.get(j.log_path)).toMatch(/scores vs objectGuess: reference amplitude SSIM/);
    // the common region: the bounding box of the dose's Phase C test scan, read from its coordinates
    const c = (r.metrics as { common: CommonScoreSet }).common;
    const pc = await openNpz(new Blob([files.get('phase_c/dose_1000/patched_test.npz')! as Uint8Array<ArrayBuffer>]));
    const xs = Array.from((await pc.read('xcoords')).data as Float64Array), ys = Array.from((await pc.read('ycoords')).data as Float64Array);
    expect(c.region).toEqual({
      x0: Math.ceil(Math.min(...xs)), x1: Math.floor(Math.max(...xs)), y0: Math.ceil(Math.min(...ys)), y1: Math.floor(Math.max(...ys)),
      source: 'phase_c test scan', path: 'phase_c/dose_1000/patched_test.npz',
    });
    expect([c.width, c.height]).toEqual([c.region.x1 - c.region.x0 + 1, c.region.y1 - c.region.y0 + 1]);
    expect(c.coverage).toBeGreaterThan(0);
    expect(c.coverage).toBeLessThanOrEqual(1);
    expect(typeof c.amplitude.ssim).toBe('number');
    // the demo's object carries phase, so the phase is scored (a flat-phase truth gets "-" and the
    // reason instead: test/lib/model/quality.test.ts and test/e2e/study-table.spec.ts)
    expect(typeof c.phase!.ssim).toBe('number');
    expect(c.phase_note ?? null).toBeNull();
    expect(sink.text.get(j.log_path)).toMatch(/common region x \d+\.\.\d+, y \d+\.\.\d+ \(phase_c test scan, phase_c\/dose_1000\/patched_test\.npz\)/);
  }, 300_000);

  it('trains a baseline job and writes history, reconstruction (npz + png) and a hashed tfjs bundle', async () => {
    const sink = new MemSink();
    const j = job('baseline');
    const events: RunnerProgress[] = [];
    const checkpoints: number[] = [];
    const runner = createPtychoPinnRunner({ epochsOverride: 2, nGroupsOverride: 24, batchSizeOverride: 8, previewEveryEpochs: 1, previewGroups: 8 });
    const r = await runner(args(j, sink, { n_filters_scale: 0.25 }, { onProgress: (p) => events.push(p), onCheckpoint: (e) => { checkpoints.push(e); } }));
    expect(r.error).toBeUndefined();
    expect(r.status).toBe('success');
    expect(r.epochs_completed).toBe(2);
    expect(r.history!.train_loss.length).toBe(2);
    expect(r.final_loss).toBe(r.history!.train_loss[1]);
    expect(Number.isFinite(r.final_loss as number)).toBe(true);
    expect(checkpoints).toEqual([1, 2]);
    expect(r.samples_per_second).toBeGreaterThan(0);
    expect(r.duration_seconds).toBeGreaterThan(0);
    expect(Date.parse(r.finished_at!)).toBeGreaterThanOrEqual(Date.parse(r.started_at!));
    // bundle: relative path, sha256 and size of the bytes actually written
    expect(r.bundle_path).toBe('model.zip');
    const zip = sink.files.get(`${j.artifact_dir}/model.zip`)!;
    expect(r.bundle_size_bytes).toBe(zip.length);
    expect(r.bundle_sha256).toBe(createHash('sha256').update(zip).digest('hex'));
    expect(Object.keys(unzipSync(zip)).sort()).toEqual(['history.json', 'model.json', 'probe.npz', 'weights.bin']);
    const { model, metadata } = await loadGeneratorFromBundle(zip);
    expect((metadata as { ptychopinn: { N: number } }).ptychopinn.N).toBe(32);
    model.dispose();
    // reconstruction.npz readable by our reader (np.load-compatible writer)
    const npz = await openNpz(new Blob([sink.files.get(`${j.artifact_dir}/reconstruction.npz`)! as Uint8Array<ArrayBuffer>]), 'reconstruction.npz');
    const amp = await npz.read('amplitude');
    const obj = await npz.read('object');
    const ph = await npz.read('phase');
    expect(amp.dtype).toBe('float32');
    expect(obj.dtype).toBe('complex64');
    expect(obj.shape).toEqual(amp.shape);
    expect(amp.shape[0]).toBeGreaterThan(20);
    const a = amp.data as Float32Array, o = obj.data as Float32Array, p = ph.data as Float32Array;
    for (let k = 0; k < a.length; k += 97) {
      expect(a[k]).toBeCloseTo(Math.hypot(o[2 * k], o[2 * k + 1]), 5);
      if (a[k] > 1e-6) expect(p[k]).toBeCloseTo(Math.atan2(o[2 * k + 1], o[2 * k]), 5);
    }
    // PNG preview: signature + IHDR width = 2W + 2
    const png = sink.files.get(`${j.artifact_dir}/reconstruction.png`)!;
    expect(Array.from(png.subarray(1, 4))).toEqual([80, 78, 71]);
    expect(new DataView(png.buffer, png.byteOffset).getUint32(16)).toBe(2 * amp.shape[1] + 2);
    expect(unzlibSync(png.subarray(41, 41 + new DataView(png.buffer, png.byteOffset).getUint32(33))).length).toBe(amp.shape[0] * (2 * amp.shape[1] + 2 + 1));
    // history.json and train.log
    const hist = JSON.parse(sink.text.get(`${j.artifact_dir}/history.json`)!);
    expect(hist.train_loss).toEqual(r.history!.train_loss);
    const log = sink.text.get(j.log_path)!;
    expect(log).toMatch(/epoch 1\/2: loss/);
    expect(log).toMatch(/epoch 2\/2: loss/);
    expect(log).toMatch(/saved model.zip/);
    // one preview per epoch (8 groups) plus the final one over all test groups
    expect(events.filter((e) => e.status === 'preview').map((e) => (e as { epoch: number }).epoch)).toEqual([1, 2, 2]);
    expect(events.filter((e) => e.status === 'epoch').length).toBe(2);
  });

  it('trains a gridsize-2 dense job (K-NN groups, per-sample merge)', async () => {
    const sink = new MemSink();
    const j = job('dense');
    const r = await createPtychoPinnRunner({ epochsOverride: 1, nGroupsOverride: 16, batchSizeOverride: 8 })(args(j, sink, { n_filters_scale: 0.25 }));
    expect(r.error).toBeUndefined();
    expect(r.status).toBe('success');
    expect(r.epochs_completed).toBe(1);
    expect(sink.files.has(`${j.artifact_dir}/reconstruction.npz`)).toBe(true);
  });

  it('trains the same job on the WASM backend (the CLI\'s) as on the CPU backend: same losses, same reconstruction', async () => {
    const run = async (backend: 'cpu' | 'wasm') => {
      const sink = new MemSink();
      const j = job('dense');
      const r = await createPtychoPinnRunner({ backend, epochsOverride: 2, nGroupsOverride: 16, batchSizeOverride: 8 })(args(j, sink, { n_filters_scale: 0.25 }));
      const rec = await (await openNpz(sink.files.get(`${j.artifact_dir}/reconstruction.npz`)!, 'r.npz')).read('amplitude');
      return { r, log: sink.text.get(j.log_path)!, amplitude: rec.data as Float32Array };
    };
    try {
      const cpu = await run('cpu');
      const wasm = await run('wasm');
      expect(wasm.r.error).toBeUndefined();
      expect(wasm.r.status).toBe('success');
      expect(wasm.log).toMatch(/backend: wasm/);
      expect(cpu.log).toMatch(/backend: cpu/);
      const [lc, lw] = [cpu.r.history!.train_loss, wasm.r.history!.train_loss];
      expect(lw.length).toBe(2);
      for (let e = 0; e < 2; e++) expect(Math.abs(lw[e] - lc[e]) / Math.abs(lc[e])).toBeLessThan(1e-4);
      let d = 0;
      let m = 0;
      for (let k = 0; k < cpu.amplitude.length; k++) {
        d = Math.max(d, Math.abs(cpu.amplitude[k] - wasm.amplitude[k]));
        m = Math.max(m, Math.abs(cpu.amplitude[k]));
      }
      expect(wasm.amplitude.length).toBe(cpu.amplitude.length);
      expect(d / m).toBeLessThan(1e-2);
    } finally {
      await tf.setBackend('cpu');
    }
  });

  it('fails with the validation messages when a file is broken, and writes no bundle', async () => {
    const sink = new MemSink();
    const j = job('baseline', { train_data_path: 'broken/patched_train.npz' });
    const broken = new Map(files);
    broken.set('broken/patched_train.npz', new Uint8Array([1, 2, 3, 4, 5]));
    const { config, params } = bridged(j, { n_filters_scale: 0.25 });
    const r = await createPtychoPinnRunner({ epochsOverride: 1 })({ job: j, config, params, files: new MemFiles(broken), sink });
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/^load train: .*broken\/patched_train\.npz/);
    expect(r.bundle_path).toBeNull();
    expect(sink.files.size).toBe(0);
    expect(sink.text.get(j.log_path)).toMatch(/FAILED: load train/);
  });

  it('fails with the contract\'s messages when a required key is missing', async () => {
    const sink = new MemSink();
    const j = job('baseline', { train_data_path: 'bad/patched_train.npz' });
    const bad = new Map(files);
    const n = 6;
    bad.set('bad/patched_train.npz', writeNpz({
      diffraction: { dtype: 'float32', shape: [n, 32, 32], data: new Float32Array(n * 32 * 32).fill(0.5) },
      xcoords: { dtype: 'float64', shape: [n], data: Float64Array.from({ length: n }, (_, i) => 40 + 3 * i) },
      ycoords: { dtype: 'float64', shape: [n], data: Float64Array.from({ length: n }, (_, i) => 40 + 2 * i) },
    }));
    const { config, params } = bridged(j, { n_filters_scale: 0.25 });
    const r = await createPtychoPinnRunner({ epochsOverride: 1 })({ job: j, config, params, files: new MemFiles(bad), sink });
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/^load train: In bad\/patched_train\.npz, 'probeGuess'/);
    expect(r.epochs_completed).toBe(0);
  });

  it('fails clearly on a missing file and on a gridsize the data contract does not cover', async () => {
    const sink = new MemSink();
    const r1 = await createPtychoPinnRunner()(args(job('baseline', { test_data_path: 'nope/test.npz' }), sink, { n_filters_scale: 0.25 }));
    expect(r1.status).toBe('failed');
    expect(r1.error).toMatch(/load test: the file nope\/test\.npz is not among the dropped files/);
    // the gridsize reaches the runner only through the bridged params (the run loop bridges the job's)
    const r2 = await createPtychoPinnRunner()(args(job('dense'), sink, { gridsize: 3, neighbor_count: 9 }));
    expect(r2.status).toBe('failed');
    expect(r2.error).toMatch(/^config: the study's data contract covers gridsize 1 and 2, params say 3/);
  });

  it('is cancelled by an abort signal', async () => {
    const sink = new MemSink();
    const ac = new AbortController();
    let steps = 0;
    const r = await createPtychoPinnRunner({ epochsOverride: 3, nGroupsOverride: 24, batchSizeOverride: 8 })(
      args(job('baseline'), sink, { n_filters_scale: 0.25 }, { signal: ac.signal, onProgress: (p) => { if (p.status === 'step' && ++steps === 1) ac.abort(); } }),
    );
    expect(r.status).toBe('cancelled');
    expect(steps).toBe(1);
    expect(r.bundle_path).toBeNull();
  });
});

describe('metadataNphotons (the reference scripts/training/train.py:379-398)', () => {
  it('reads top-level or physics_parameters.nphotons, ignores anything else', async () => {
    const { metadataNphotons } = await import('../../../src/lib/pipeline/runner');
    expect(metadataNphotons({ physics_parameters: { nphotons: 1000 } })).toBe(1000);
    expect(metadataNphotons({ nphotons: '1e5' })).toBe(1e5);
    expect(metadataNphotons({ nphotons: -1 })).toBeUndefined();
    expect(metadataNphotons('x')).toBeUndefined();
    expect(metadataNphotons(undefined)).toBeUndefined();
  });
});
