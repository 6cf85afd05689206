/**
 * npm run bench:quality: does the model reconstruct? The reference's synthetic 'lines' benchmark
 * (eval spec 5: grid-sampled groups, two train and two test images, nphotons 1e9), trained per
 * gridsize and scored after every epoch with src/lib/eval on test image 0 exactly as the reference's
 * comparison does (stitch with M, align_for_evaluation, eval_reconstruction: plane phase alignment,
 * MS-SSIM σ 1), plus the 'placed' scores (canvas on the truth grid by its own origin).
 *
 *   --preset small|paper   small (default): N = 32, 196-px objects, sized to run here in ~30 min for
 *                          both gridsizes; paper: N = 64, 392-px objects, 60 epochs (a GPU machine)
 *   --gridsize 1|2|both    (default both)
 *   --seed S               objects, noise, initialisation and shuffling (default 42)
 *   --object lines|grf     (default lines)
 *   --dose D               nphotons (default 1e9)
 *   --epochs E             (default: the preset's)
 *   --backend wasm|cpu|webgpu   (default wasm; webgpu through Dawn, src/lib/runtime/node-backend.ts)
 *   --filter-scale F, --batch B, --train-outer O, --test-outer O, --loss nll|mae   preset overrides
 *   --offset D             spacing of the 2x2 grid groups' members, px (default 4, the benchmark's; the
 *                          demo's dense groups are 0.305·N apart: 10 at N = 32); sets the canvas too
 *   --lr L                 Adam learning rate (default 1e-3, the reference's)
 *   --object-big           train gridsize 2 with object.big True (default False: the lines workflow's)
 *   --plateau              ReduceLROnPlateau on the validation loss (default off: eval spec 5 streams)
 *   --early-stopping       EarlyStopping on the train loss, patience 3 (default off: a fixed budget)
 *   --defocus W            defocus the default probe by W waves at its disk edge (the demo's probe: 1)
 *   --out DIR              also write per gridsize the stitched test reconstruction.npz (as the runner
 *                          writes it) and truth.npz (objectGuess) under DIR/gs<g>/
 *   --serial               train the gridsizes one after the other in this process. By default, with
 *                          both gridsizes and at least two CPUs, each trains in its own child process
 *                          at the same time (the WASM backend runs one thread per process in Node, so
 *                          side by side halves the wall time on two cores); their lines are prefixed
 *                          [gs1] / [gs2] as they come and the tables are printed again, whole, at the end.
 *
 * Prints a table per gridsize (epoch, loss, amplitude and phase SSIM, MS-SSIM, FRC50, wall time),
 * writes JSON under bench/results/, and ends with exactly `final amplitude SSIM: gs1=<x> gs2=<y>`.
 */
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { startNodeBackend, describeNodeBackend, type NodeBackendName } from '../src/lib/runtime/node-backend.ts';
import { PtychoPinn } from '../src/lib/model/pinn.ts';
import { settingsFromParams } from '../src/lib/model/settings.ts';
import { trainPinn } from '../src/lib/model/train.ts';
import { reconstruct } from '../src/lib/model/infer.ts';
import { scoreReconstruction, type JobMetrics } from '../src/lib/model/quality.ts';
import { benchmarkObject, concatGroups, simulateGridGroups, type BenchmarkObject } from '../src/lib/model/benchmark.ts';
import { defaultProbe, defocusedProbe } from '../src/lib/physics/probe.ts';
import { Rng } from '../src/lib/sim/rng.ts';
import { writeReconstructionAndTruth } from './write-pair.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

interface Preset {
  N: number;
  size: number;
  nimgsTrain: number;
  nimgsTest: number;
  offset: number;
  outerTrain: number;
  outerTest: number;
  epochs: number;
  filterScale: number;
  batch: number;
}

/** eval spec 5: GridLinesConfig defaults (size 392, offset 4, outer offsets 8 / 20, 2 + 2 images, 60 epochs, batch 16). */
const PRESETS: Record<'small' | 'paper', Preset> = {
  paper: { N: 64, size: 392, nimgsTrain: 2, nimgsTest: 2, offset: 4, outerTrain: 8, outerTest: 20, epochs: 60, filterScale: 2, batch: 16 },
  // The same protocol at half the scale (N, object side and test stride: 33² = 1089 test groups per
  // image as in the paper, each stitched pixel averaged over the overlapping M = 10 crops of about
  // four groups), with a lighter network and a coarser training grid so that both gridsizes train
  // here in about 30 minutes on two cores (side by side).
  // Batch 4, not 16: this budget streams ~26k groups, 3 % of the paper's ~800k, and per group seen
  // four times the optimizer steps learn far faster (gridsize 2 after 3 epochs: amplitude SSIM 0.434
  // at batch 4 against 0.335 at batch 16; after 11 epochs 0.708 against 0.540; an epoch costs ~1.3x).
  small: { N: 32, size: 196, nimgsTrain: 2, nimgsTest: 2, offset: 4, outerTrain: 16, outerTest: 10, epochs: 40, filterScale: 1, batch: 4 },
};

interface Args {
  preset: 'small' | 'paper';
  gridsizes: (1 | 2)[];
  seed: number;
  object: BenchmarkObject;
  dose: number;
  epochs?: number;
  backend: NodeBackendName;
  filterScale?: number;
  batch?: number;
  trainOuter?: number;
  offset?: number;
  testOuter?: number;
  /** per gridsize, default: the paper's (gs1 MAE, gs2 NLL; eval spec 5) */
  loss?: 'nll' | 'mae';
  /** object.big (default false: the reference's lines workflow, grid_lines_workflow.py:504) */
  objectBig: boolean;
  /** ReduceLROnPlateau (default off: the benchmark streams > 10k samples, eval spec 5) */
  plateau: boolean;
  /** EarlyStopping(loss, patience 3) (default off: a fixed budget of epochs, so runs compare) */
  earlyStopping: boolean;
  lr?: number;
  /** waves of defocus on the default probe (the demo study's probe: 1); default 0 */
  defocus?: number;
  out?: string;
  write: boolean;
  serial: boolean;
  /** internal: run as a child of a side-by-side run, writing the result JSON here */
  childResult?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { preset: 'small', gridsizes: [1, 2], seed: 42, object: 'lines', dose: 1e9, backend: 'wasm', objectBig: false, plateau: false, earlyStopping: false, write: true, serial: false };
  const num = (k: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n)) throw new Error(`${k} needs a number, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    switch (k) {
      case '--preset':
        if (v !== 'small' && v !== 'paper') throw new Error(`--preset is small or paper, got ${v}`);
        a.preset = v; i++; break;
      case '--gridsize':
        if (v === 'both') a.gridsizes = [1, 2];
        else if (v === '1' || v === '2') a.gridsizes = [Number(v) as 1 | 2];
        else throw new Error(`--gridsize is 1, 2 or both, got ${v}`);
        i++; break;
      case '--object':
        if (v !== 'lines' && v !== 'grf') throw new Error(`--object is lines or grf, got ${v}`);
        a.object = v; i++; break;
      case '--loss':
        if (v !== 'nll' && v !== 'mae') throw new Error(`--loss is nll or mae, got ${v}`);
        a.loss = v; i++; break;
      case '--seed': a.seed = num(k, v); i++; break;
      case '--dose': a.dose = num(k, v); i++; break;
      case '--epochs': a.epochs = num(k, v); i++; break;
      case '--filter-scale': a.filterScale = num(k, v); i++; break;
      case '--batch': a.batch = num(k, v); i++; break;
      case '--train-outer': a.trainOuter = num(k, v); i++; break;
      case '--offset': a.offset = num(k, v); i++; break;
      case '--test-outer': a.testOuter = num(k, v); i++; break;
      case '--backend':
        if (v !== 'wasm' && v !== 'cpu' && v !== 'webgpu') throw new Error(`--backend must be wasm, cpu or webgpu, got ${v}`);
        a.backend = v; i++; break;
      case '--out': a.out = String(v); i++; break;
      case '--no-write': a.write = false; break;
      case '--serial': a.serial = true; break;
      case '--child-result': a.childResult = String(v); i++; break;
      case '--object-big': a.objectBig = true; break;
      case '--plateau': a.plateau = true; break;
      case '--early-stopping': a.earlyStopping = true; break;
      case '--no-early-stopping': a.earlyStopping = false; break;
      case '--lr': a.lr = num(k, v); i++; break;
      case '--defocus': a.defocus = num(k, v); i++; break;
      default: throw new Error(`unknown flag ${k}`);
    }
  }
  return a;
}

const fmt = (v: number | null | undefined, d = 3) => (v === null || v === undefined ? 'n/a' : v.toFixed(d));

interface EpochRow {
  epoch: number;
  train_loss: number | null;
  val_loss: number | null;
  seconds: number;
  wall_seconds: number;
  metrics: JobMetrics;
}

async function runGridsize(args: Args, p: Preset, gridsize: 1 | 2) {
  const { N } = p;
  const log: string[] = [];
  const say = (line: string) => {
    log.push(line);
    console.log(line);
  };
  const epochs = args.epochs ?? p.epochs;
  const outerTrain = args.trainOuter ?? p.outerTrain;
  const outerTest = args.testOuter ?? p.outerTest;
  const probe = args.defocus ? defocusedProbe(N, args.defocus) : defaultProbe(N);
  const t0 = performance.now();
  // train images from stream 1.., test images from stream 101.. (the reference seeds train 1, test 2)
  const trainObjects = Array.from({ length: p.nimgsTrain }, (_, i) => benchmarkObject(args.object, p.size, new Rng(args.seed, 1 + i)));
  const testObjects = Array.from({ length: p.nimgsTest }, (_, i) => benchmarkObject(args.object, p.size, new Rng(args.seed, 101 + i)));
  const offset = args.offset ?? p.offset;
  const geo = { N, gridsize, size: p.size, offset, nphotons: args.dose, probe };
  const train = concatGroups(trainObjects.map((o, i) => simulateGridGroups(o, { ...geo, outerOffset: outerTrain }, new Rng(args.seed, 201 + i))));
  const tests = testObjects.map((o, i) => simulateGridGroups(o, { ...geo, outerOffset: outerTest }, new Rng(args.seed, 301 + i)));
  const simSeconds = (performance.now() - t0) / 1000;

  const loss = args.loss ?? (gridsize === 1 ? 'mae' : 'nll'); // the paper's SIM-LINES-4X runs (eval spec 5)
  const settings = settingsFromParams({
    N, gridsize, n_filters_scale: args.filterScale ?? p.filterScale, batch_size: args.batch ?? p.batch, nepochs: epochs,
    n_groups: train.B, nphotons: args.dose, offset, 'object.big': args.objectBig,
    nll_weight: loss === 'nll' ? 1 : 0, mae_weight: loss === 'mae' ? 1 : 0,
  });
  const model = new PtychoPinn({ settings, probe, seed: args.seed, nPhotons: args.dose });
  const truth = { height: p.size, width: p.size, re: Float32Array.from(testObjects[0].re), im: Float32Array.from(testObjects[0].im) };
  const test0 = tests[0];
  say(
    `\ngridsize ${gridsize}: N=${N}, ${p.size}-px '${args.object}' objects, ${train.B} train groups (${p.nimgsTrain} images, stride ${outerTrain / 2}), ` +
      `${test0.B} test groups per image (stride ${outerTest / 2}), ${model.generator.countParams()} parameters, n_filters_scale ${settings.nFiltersScale}, ` +
      `batch ${settings.batchSize}, loss ${loss}, object.big ${settings.objectBig}, ` +
      `LR plateau ${args.plateau ? 'on' : 'off'}, nphotons ${args.dose.toExponential(0)}; simulated in ${simSeconds.toFixed(1)} s`,
  );
  const score = async (): Promise<{ metrics: JobMetrics; rec: Awaited<ReturnType<typeof reconstruct>> }> => {
    const rec = await reconstruct(model, test0, { batchSize: settings.batchSize });
    return { metrics: scoreReconstruction(rec.stitched, truth, rec.centres, rec.M), rec };
  };
  const header = 'epoch      loss   amp SSIM  MS-SSIM  FRC50 | phase SSIM MS-SSIM | placed amp SSIM | epoch s  wall s';
  say(header);
  const rows: EpochRow[] = [];
  const wall0 = performance.now();
  const print = (r: EpochRow) => {
    const ref = r.metrics.reference;
    const pl = r.metrics.placed;
    say(
      `${String(r.epoch).padStart(5)} ${r.train_loss === null ? '         -' : r.train_loss.toExponential(3).padStart(10)}  ` +
        `${fmt(ref?.amplitude.ssim).padStart(8)} ${fmt(ref?.amplitude.ms_ssim).padStart(8)} ${fmt(ref?.amplitude.frc50, 1).padStart(6)} | ` +
        `${fmt(ref?.phase.ssim).padStart(10)} ${fmt(ref?.phase.ms_ssim).padStart(7)} | ${fmt(pl?.amplitude.ssim).padStart(15)} | ` +
        `${r.seconds.toFixed(1).padStart(7)} ${r.wall_seconds.toFixed(0).padStart(7)}`,
    );
  };
  const first = await score();
  rows.push({ epoch: 0, train_loss: null, val_loss: null, seconds: 0, wall_seconds: 0, metrics: first.metrics });
  print(rows[0]);
  let last = first;
  let lastLoss: { train: number; val: number | null; seconds: number } = { train: NaN, val: null, seconds: 0 };
  const outcome = await trainPinn(model, train, {
    epochs,
    batchSize: settings.batchSize,
    seed: args.seed,
    learningRate: args.lr,
    reduceLrOnPlateau: args.plateau,
    earlyStopping: args.earlyStopping,
    onProgress: (ev) => {
      if (ev.status === 'epoch') lastLoss = { train: ev.record.train_loss, val: ev.record.val_loss, seconds: ev.record.seconds };
    },
    onEpochEnd: async (epoch) => {
      last = await score();
      const r: EpochRow = { epoch, train_loss: lastLoss.train, val_loss: lastLoss.val, seconds: lastLoss.seconds, wall_seconds: (performance.now() - wall0) / 1000, metrics: last.metrics };
      rows.push(r);
      print(r);
    },
  });
  if (outcome.status !== 'success') throw new Error(`gridsize ${gridsize}: training ${outcome.status}: ${outcome.error ?? ''}`);
  if (outcome.stoppedEarly) say(`(early stopping after epoch ${outcome.epochsCompleted})`);
  if (args.out) {
    const dir = path.join(args.out, `gs${gridsize}`);
    const meta = { bench: 'quality', preset: args.preset, gridsize, object: args.object, seed: args.seed, N, epochs: outcome.epochsCompleted, test_image: 0 };
    writeReconstructionAndTruth(dir, last.rec, model.probeArrays, N, meta, truth);
    say(`wrote ${path.join(dir, 'reconstruction.npz')} and truth.npz`);
  }
  const result = {
    gridsize,
    parameters: model.generator.countParams(),
    trainGroups: train.B,
    testGroups: test0.B,
    epochsCompleted: outcome.epochsCompleted,
    stoppedEarly: outcome.stoppedEarly,
    samplesPerSecond: outcome.samplesPerSecond,
    wallSeconds: (performance.now() - wall0) / 1000,
    history: outcome.history,
    epochs: rows,
    final: last.metrics,
    log,
  };
  model.dispose();
  return result;
}

type GridsizeResult = Awaited<ReturnType<typeof runGridsize>>;

/** Train one gridsize in a child process (this script with --gridsize g --child-result F), its lines prefixed [gs<g>]. */
function runChild(gridsize: 1 | 2, argv: string[], tmp: string): Promise<GridsizeResult> {
  const file = path.join(tmp, `gs${gridsize}.json`);
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--gridsize') i++;
    else if (argv[i] !== '--serial') rest.push(argv[i]);
  }
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...rest, '--gridsize', String(gridsize), '--no-write', '--child-result', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (stream: NodeJS.ReadableStream, out: NodeJS.WriteStream) =>
    readline.createInterface({ input: stream }).on('line', (line) => out.write(`[gs${gridsize}] ${line}\n`));
  prefix(child.stdout, process.stdout);
  prefix(child.stderr, process.stderr);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code !== 0) reject(new Error(`gridsize ${gridsize}: the child process ended with ${signal ?? `exit code ${code}`}`));
      else resolve(JSON.parse(fs.readFileSync(file, 'utf8')) as GridsizeResult);
    });
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv);
  const preset = PRESETS[args.preset];
  const sideBySide = !args.serial && !args.childResult && args.gridsizes.length > 1 && os.cpus().length >= 2;
  const started = await startNodeBackend(args.backend);
  if (!args.childResult) {
    console.log(
      `bench:quality  preset ${args.preset}, backend ${describeNodeBackend(started)}, ${os.cpus().length} CPUs, node ${process.version}, seed ${args.seed}, object ${args.object}` +
        (sideBySide ? `; gridsizes ${args.gridsizes.join(' and ')} side by side in child processes` : ''),
    );
  }
  const wall0 = performance.now();
  let results: GridsizeResult[];
  if (sideBySide) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-quality-'));
    try {
      results = await Promise.all(args.gridsizes.map((g) => runChild(g, argv, tmp)));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    for (const r of results) console.log(r.log.join('\n'));
  } else {
    results = [];
    for (const g of args.gridsizes) results.push(await runGridsize(args, preset, g));
  }
  if (args.childResult) {
    fs.writeFileSync(args.childResult, JSON.stringify(results[0]));
    return;
  }
  const wallSeconds = (performance.now() - wall0) / 1000;
  const record = {
    bench: 'quality', date: new Date().toISOString(), args: argv, preset: { name: args.preset, ...preset }, backend: tf.getBackend(), cpus: os.cpus().length,
    sideBySide, wallSeconds, results: results.map(({ log: _log, ...r }) => r),
  };
  console.log(`\nwall time ${(wallSeconds / 60).toFixed(1)} min${sideBySide ? ' (gridsizes side by side)' : ''}`);
  if (args.write) {
    const date = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
    const out = path.join(HERE, 'results', `quality-${date}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(record, null, 2) + '\n');
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
  }
  console.log(`final amplitude SSIM: ${results.map((r) => `gs${r.gridsize}=${fmt(r.final.reference?.amplitude.ssim)}`).join(' ')}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
