/**
 * `npm run bench:demo-job -- [options]`: train one job of the app's demo study (src/lib/sim/demo.ts)
 * through the runner's own steps (loadDataset, groupDataset with seeds 42 / 43, PtychoPinn,
 * trainPinn, reconstruct, scoreReconstruction) and print the test scores every k epochs, so that
 * training settings can be compared on the demo without the app. Settings the reference hard-codes
 * (Adam's learning rate, ReduceLROnPlateau) are flags here, for experiments only.
 *
 *   --size small|standard     demo size (default small: N = 32)
 *   --dose D                  1000, 10000 or 100000 (default 100000)
 *   --view baseline|dense|sparse   (default dense; gridsize 2 unless --gridsize 1)
 *   --gridsize 1|2
 *   --epochs E --batch B --filter-scale F --groups G   (defaults: the Reference preset, 50 / 16 / 2 / 512)
 *   --lr R                    Adam learning rate (default 1e-3, the reference's)
 *   --plateau on|off          ReduceLROnPlateau on the validation loss (default on, the reference's)
 *   --early-stopping on|off   EarlyStopping on the training loss (default off: a fixed budget, so runs compare)
 *   --every K                 score every K epochs (default 5)
 *   --train-score on|off      also score the stitched reconstruction of the training positions (default
 *                             off): a model that reconstructs its training positions but not the test
 *                             ones lacks data, one that reconstructs neither lacks optimisation
 *   --loss nll|mae            the loss (default nll, the reference's)
 *   --object-big on|off       object.big (default on, the reference's)
 *   --lattice L --spacing A --probe-radius R --defocus W --phase P
 *   --object star|lines --spokes K --star-blur B --star-floor A --line-density D
 *                             demo geometry overrides (src/lib/sim/demo.ts DemoGeometryOptions): raster
 *                             positions per side, step and probe disk radius in units of N, defocus waves,
 *                             the object's phase peak in rad; the texture (the star's spokes, edge blur σ in
 *                             units of N and background amplitude; or 'lines' and their density)
 *   --backend wasm|cpu|webgpu (default wasm)
 *   --out DIR                 write DIR/reconstruction.npz and DIR/truth.npz (objectGuess) at the end
 *                             (with --train-score on, the training positions' pair in DIR/train/)
 *
 * Scores: `ref` is the reference's Phase G path (align_for_evaluation + eval_reconstruction), `placed`
 * the canvas placed on the truth by its own origin (README, "Reconstruction quality").
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { demoGeometry, makeDemoStudy, type DemoSize } from '../src/lib/sim/demo.ts';
import { openNpz } from '../src/lib/ingest/index.ts';
import { loadDataset, type Dataset } from '../src/lib/contract/index.ts';
import { groupDataset, trainingBudget } from '../src/lib/model/data.ts';
import { settingsFromParams } from '../src/lib/model/settings.ts';
import { PtychoPinn } from '../src/lib/model/pinn.ts';
import { trainPinn } from '../src/lib/model/train.ts';
import { reconstruct } from '../src/lib/model/infer.ts';
import { scoreReconstruction } from '../src/lib/model/quality.ts';
import { startNodeBackend, describeNodeBackend, type NodeBackendName } from '../src/lib/runtime/node-backend.ts';
import { phaseCPath, phaseDCandidates } from '../src/lib/study/jobs.ts';
import { writeReconstructionAndTruth } from './write-pair.ts';

const argv = process.argv.slice(2);
const flags = new Map<string, string>();
for (let i = 0; i < argv.length; i += 2) {
  if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new Error(`expected --flag value pairs, got '${argv[i]}'`);
  flags.set(argv[i].slice(2), argv[i + 1]);
}
const known = ['size', 'dose', 'view', 'gridsize', 'epochs', 'batch', 'filter-scale', 'groups', 'lr', 'plateau', 'early-stopping', 'every', 'train-score', 'backend', 'out', 'loss', 'object-big', 'lattice', 'spacing', 'probe-radius', 'defocus', 'phase', 'line-density', 'object', 'spokes', 'star-blur', 'star-floor'];
for (const k of flags.keys()) if (!known.includes(k)) throw new Error(`unknown flag --${k} (known: ${known.map((f) => '--' + f).join(' ')})`);
const num = (k: string, d: number, allowZero = false) => {
  const v = flags.get(k);
  if (v === undefined) return d;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !allowZero)) throw new Error(`--${k} must be a positive number, got ${v}`);
  return n;
};
const opt = (k: string, allowZero = false) => (flags.has(k) ? num(k, 0, allowZero) : undefined);
const onOff = (k: string, d: boolean) => {
  const v = flags.get(k);
  if (v === undefined) return d;
  if (v !== 'on' && v !== 'off') throw new Error(`--${k} is on or off, got ${v}`);
  return v === 'on';
};
const oneOf = <T extends string>(k: string, d: T, allowed: readonly T[]): T => {
  const v = (flags.get(k) ?? d) as T;
  if (!allowed.includes(v)) throw new Error(`--${k} must be one of ${allowed.join(', ')}, got ${v}`);
  return v;
};

const size = oneOf<DemoSize>('size', 'small', ['small', 'standard']);
const dose = num('dose', 1e5);
const view = oneOf('view', 'dense', ['baseline', 'dense', 'sparse'] as const);
const gs = num('gridsize', view === 'baseline' ? 1 : 2);
if (gs !== 1 && gs !== 2) throw new Error(`--gridsize is 1 or 2, got ${gs}`);
const gridsize: 1 | 2 = gs;
const epochs = num('epochs', 50);
const batch = num('batch', 16);
const filterScale = num('filter-scale', 2);
const groups = num('groups', 512);
const lr = num('lr', 1e-3);
const plateau = onOff('plateau', true);
const earlyStopping = onOff('early-stopping', false);
const every = num('every', 5);
const trainScore = onOff('train-score', false);
const backend = oneOf<NodeBackendName>('backend', 'wasm', ['wasm', 'cpu', 'webgpu']);
const loss = oneOf('loss', 'nll', ['nll', 'mae'] as const);
const objectBig = onOff('object-big', true);
const geometry = { lattice: opt('lattice'), spacing: opt('spacing'), probeRadius: opt('probe-radius'), defocus: opt('defocus', true), phase: opt('phase', true), lineDensity: opt('line-density'), object: oneOf('object', 'star', ['star', 'lines'] as const), spokes: opt('spokes'), starBlur: opt('star-blur'), starFloor: opt('star-floor', true) };

const started = await startNodeBackend(backend);
const demo = await makeDemoStudy(size, { timestamp: '2026-01-01T00:00:00Z', geometry });
const geo = demoGeometry(size, geometry);
// the demo writes the primary paths of the study's layout (phase_c/..., phase_d/...; E4 training.py:156-157 and LATEST training.py:195-196 build_training_jobs)
const file = (part: 'train' | 'test') => (view === 'baseline' ? phaseCPath('phase_c', dose, part) : phaseDCandidates('phase_d', dose, view, part)[0]);
async function load(part: 'train' | 'test'): Promise<Dataset> {
  const f = demo.files.find((x) => x.path === file(part));
  if (!f) throw new Error(`the ${size} demo has no ${file(part)} (doses: ${demo.summary.doses.join(', ')})`);
  const r = await loadDataset(await openNpz(f.bytes, f.path), { file: f.path, gridsize });
  if (!r.dataset) throw new Error(`${f.path}: ${r.report.errors.map((e) => e.message).join(' ')}`);
  return r.dataset;
}
const train = await load('train');
const test = await load('test');
const truth = test.object;
if (!truth) throw new Error(`${file('test')} has no objectGuess to score against`);
const trainTruth = train.object;
if (trainScore && !trainTruth) throw new Error(`${file('train')} has no objectGuess to score against`);

const settings = settingsFromParams({ N: train.N, gridsize, n_filters_scale: filterScale, batch_size: batch, nepochs: epochs, n_groups: groups, nphotons: dose, 'object.big': objectBig, nll_weight: loss === 'nll' ? 1 : 0, mae_weight: loss === 'mae' ? 1 : 0 });
const g = { gridsize, nGroups: settings.nGroups, neighborCount: settings.neighborCount };
const trainGroups = groupDataset(train, { ...g, seed: 42 });
const testGroups = groupDataset(test, { ...g, seed: 43 });
const model = new PtychoPinn({ settings, probe: train.probe, seed: 42, nPhotons: dose });
console.log(
  `bench:demo-job  ${size} demo, ${file('train')}, gridsize ${gridsize}, backend ${describeNodeBackend(started)}: ${trainGroups.B} train / ${testGroups.B} test groups, ` +
    `${epochs} epochs, batch ${batch} (${trainingBudget(trainGroups.B, { groups: trainGroups.B, batchSize: batch, epochs }).stepsPerEpoch} steps an epoch), filter scale ${filterScale}, lr ${lr}, plateau ${plateau ? 'on' : 'off'}, early stopping ${earlyStopping ? 'on' : 'off'}, loss ${loss}, object.big ${objectBig}; ` +
    `geometry: ${geo.lattice}² raster step ${geo.step.toFixed(2)} px, probe disk radius ${geo.probeRadius.toFixed(2)} px (linear overlap ${(100 * geo.overlap).toFixed(0)} %), defocus ${geo.defocus}, phase peak ${geo.phase}, object ${geo.objectText}${geo.object === 'star' ? `, edge blur σ ${geo.starBlurPx} px, background ${geo.starFloor}` : ` (line density ${geo.lineDensity})`}`,
);
console.log(`epoch      loss  ref amp SSIM  MS-SSIM  FRC50 | placed amp SSIM |${trainScore ? ' train placed |' : ''}     lr  wall s`);
const t0 = performance.now();
let lastLoss: number | null = null;
let lastLr = lr;
const rows: Record<string, number | null>[] = [];
/** Scores the test split (and with --train-score the training split); returns both reconstructions. */
async function score(epoch: number) {
  const rec = await reconstruct(model, testGroups, { batchSize: 16 });
  const m = scoreReconstruction(rec.stitched, truth!, rec.centres, rec.M);
  let trainSsim: number | null = null;
  let trainRec: Awaited<ReturnType<typeof reconstruct>> | null = null;
  if (trainScore) {
    trainRec = await reconstruct(model, trainGroups, { batchSize: 16 });
    trainSsim = scoreReconstruction(trainRec.stitched, trainTruth!, trainRec.centres, trainRec.M).placed?.amplitude.ssim ?? null;
  }
  const f = (v: number | null | undefined, d = 3) => (v === null || v === undefined ? 'n/a' : v.toFixed(d));
  const ref = m.reference?.amplitude;
  console.log(
    `${String(epoch).padStart(5)} ${lastLoss === null ? '        -' : lastLoss.toExponential(3).padStart(9)} ${f(ref?.ssim).padStart(13)} ${f(ref?.ms_ssim).padStart(8)} ${f(ref?.frc50, 1).padStart(6)} | ` +
      `${f(m.placed?.amplitude.ssim).padStart(15)} |${trainScore ? ` ${f(trainSsim).padStart(12)} |` : ''} ${lastLr.toExponential(1)} ${((performance.now() - t0) / 1000).toFixed(0).padStart(7)}`,
  );
  rows.push({
    epoch, loss: lastLoss, ref_amp_ssim: ref?.ssim ?? null, ref_amp_ms_ssim: ref?.ms_ssim ?? null, placed_amp_ssim: m.placed?.amplitude.ssim ?? null,
    ...(trainScore ? { train_placed_amp_ssim: trainSsim } : {}),
  });
  return { rec, trainRec };
}
await score(0);
const outcome = await trainPinn(model, trainGroups, {
  epochs,
  batchSize: batch,
  seed: 42,
  learningRate: lr,
  reduceLrOnPlateau: plateau,
  earlyStopping,
  onProgress: (ev) => {
    if (ev.status === 'epoch') {
      lastLoss = ev.record.train_loss;
      lastLr = ev.record.learning_rate;
    }
  },
  onEpochEnd: async (e) => {
    if (e % every === 0 && e !== epochs) await score(e);
  },
});
const { rec, trainRec } = await score(outcome.epochsCompleted);
const outDir = flags.get('out');
if (outDir) {
  writeReconstructionAndTruth(outDir, rec, model.probeArrays, train.N, { bench: 'demo-job', size, view, dose, gridsize, rows }, truth);
  console.log(`wrote ${path.join(outDir, 'reconstruction.npz')} and truth.npz`);
  if (trainRec && trainTruth) {
    const dir = path.join(outDir, 'train');
    writeReconstructionAndTruth(dir, trainRec, model.probeArrays, train.N, { bench: 'demo-job', size, view, dose, gridsize, split: 'train', rows }, trainTruth);
    console.log(`wrote ${path.join(dir, 'reconstruction.npz')} and truth.npz (training positions)`);
  }
}
model.dispose();
tf.disposeVariables();
