/**
 * `npm run bench:torch`: our training step against PyTorch's on the same machine, in one run, side
 * by side (the native anchor of docs/benchmarks.md). For each shape, in turn:
 *
 *   1. ours: the app's PtychoPinn at the shape's settings (stepSettings, as the backend chooser and
 *      the study estimate time it), on one synthetic batch (timingBatch), `--warmup` untimed and
 *      `--steps` timed training steps (syncedTrainStep: gradients, Adam, the loss and the last
 *      variable read back), on WASM in Node (one thread, XNNPACK SIMD, our convolution gradients)
 *      or with `--backend webgpu` on Dawn;
 *   2. the PyTorch twin (bench/torch/twin.py, run with `--python`): the same network layer for layer
 *      (the parameter counts are printed and must match), the same physics, loss, Adam and batch.
 *      It gets our inputs, offsets, probe and initial weights in one file and must reproduce our
 *      first loss and predicted intensities (relative difference under 1e-3 on the CPU) before it
 *      is timed, on one CPU thread (`cpu1`), on every core (`cpu`) and on CUDA (`cuda`, skipped
 *      where torch.cuda.is_available() is false).
 *
 * Both sides time the same thing: one optimizer step on a batch and operators made before the
 * timing, waited for to its end; samples/s = batch / the median timed step (wall clock). Each step's
 * CPU seconds (the whole process, every thread) are recorded too: on a machine whose cores other
 * work shares, batch / the median CPU seconds of a one-thread step is the per-core rate that the
 * load does not change much (multi-thread CPU time also counts OpenMP's spin-waiting).
 *
 * Shapes (`--only`, comma list): reference-gs1, reference-gs2 (the Reference preset: N = 64, filter
 * scale 2, batch 16) and demo-gs1, demo-gs2 (the Demo preset's filter scale 0.5 and batch 4 on the
 * small demo's N = 32; src/lib/pipeline/settings.ts).
 *
 * Flags: --only LIST --warmup 2 --steps 6 --backend wasm|webgpu --torch cpu1,cpu[,cuda]
 *        --python PATH (default $PYTHON, else /usr/bin/python3) --far-field fft|dft --no-write
 * Needs PyTorch for that Python (Debian: apt-get install python3-torch); `npm test` never runs it.
 * Writes bench/results/torch-<date>.json.
 */
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { startNodeBackend, describeNodeBackend } from '../src/lib/runtime/node-backend.ts';
import { stepSettings, syncedTrainStep, timingBatch, type StepShape } from '../src/lib/model/step-timing.ts';
import { PtychoPinn } from '../src/lib/model/pinn.ts';
import { expectedParameterCount } from '../src/lib/model/network.ts';
import { PRESETS } from '../src/lib/pipeline/settings.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

interface Shape extends StepShape {
  key: string;
  label: string;
}

const SHAPES: Shape[] = [
  { key: 'reference-gs1', label: 'Reference, gridsize 1', N: 64, gridsize: 1, filterScale: PRESETS.Reference.filterScale, batch: PRESETS.Reference.batchSize },
  { key: 'reference-gs2', label: 'Reference, gridsize 2', N: 64, gridsize: 2, filterScale: PRESETS.Reference.filterScale, batch: PRESETS.Reference.batchSize },
  { key: 'demo-gs1', label: 'Demo (small, N=32), gridsize 1', N: 32, gridsize: 1, filterScale: PRESETS.Demo.filterScale, batch: PRESETS.Demo.batchSize },
  { key: 'demo-gs2', label: 'Demo (small, N=32), gridsize 2', N: 32, gridsize: 2, filterScale: PRESETS.Demo.filterScale, batch: PRESETS.Demo.batchSize },
];

const TORCH_SETTINGS = ['cpu1', 'cpu', 'cuda'] as const;
type TorchSetting = (typeof TORCH_SETTINGS)[number];

interface Args {
  only: string[];
  warmup: number;
  steps: number;
  backend: 'wasm' | 'webgpu';
  torch: TorchSetting[];
  python: string;
  farField: 'fft' | 'dft';
  write: boolean;
}

function defaultPython(): string {
  if (process.env.PYTHON) return process.env.PYTHON;
  return fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

function parseArgs(argv: string[]): Args {
  const a: Args = { only: SHAPES.map((s) => s.key), warmup: 2, steps: 6, backend: 'wasm', torch: ['cpu1', 'cpu'], python: defaultPython(), farField: 'fft', write: true };
  const list = (v: string | undefined, flag: string): string[] => {
    if (!v) throw new Error(`${flag} needs a value`);
    return v.split(',').map((x) => x.trim()).filter(Boolean);
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--no-write') a.write = false;
    else if (k === '--only') {
      a.only = list(v, k);
      const bad = a.only.filter((o) => !SHAPES.some((s) => s.key === o));
      if (bad.length) throw new Error(`--only: unknown shape ${bad.join(', ')} (${SHAPES.map((s) => s.key).join(', ')})`);
      i++;
    } else if (k === '--torch') {
      const t = list(v, k);
      const bad = t.filter((x) => !(TORCH_SETTINGS as readonly string[]).includes(x));
      if (bad.length) throw new Error(`--torch: unknown setting ${bad.join(', ')} (${TORCH_SETTINGS.join(', ')})`);
      a.torch = t as TorchSetting[];
      i++;
    } else if (k === '--backend') {
      if (v !== 'wasm' && v !== 'webgpu') throw new Error(`--backend is wasm or webgpu, got ${v}`);
      a.backend = v;
      i++;
    } else if (k === '--far-field') {
      if (v !== 'fft' && v !== 'dft') throw new Error(`--far-field is fft or dft, got ${v}`);
      a.farField = v;
      i++;
    } else if (k === '--python') {
      if (!v) throw new Error('--python needs a path');
      a.python = v;
      i++;
    } else if (k === '--warmup' || k === '--steps') {
      const n = Number(v);
      if (!Number.isInteger(n) || n < (k === '--steps' ? 1 : 0)) throw new Error(`${k} needs a whole number, got ${v}`);
      a[k === '--warmup' ? 'warmup' : 'steps'] = n;
      i++;
    } else throw new Error(`unknown flag ${k}`);
  }
  return a;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** What twin.py prints for one device setting. */
interface TorchConfig {
  torch: TorchSetting;
  skipped?: string;
  device?: string;
  cuda_device?: string;
  threads?: number;
  parameters?: number;
  median_step_s?: number;
  samples_per_second?: number;
  step_s?: number[];
  warmup_s?: number[];
  step_cpu_s?: number[];
  median_step_cpu_s?: number;
  check?: { loss: number; ours_loss: number; loss_rel_diff: number; intensity_max_rel_diff: number };
}

interface TorchResult {
  torch_version: string;
  python: string;
  cuda_available: boolean;
  far_field: string;
  expected_parameters: number;
  configs: TorchConfig[];
}

/** Largest relative difference between our first loss / intensities and the twin's we accept. */
const CHECK_TOLERANCE = 1e-3;

/**
 * Write the batch, the probe, λ, our initial weights and our first forward pass (intensity, loss)
 * for the twin: <stem>.json (shapes, offsets into the .bin) and <stem>.bin (float32 little-endian).
 */
async function writeTwinData(stem: string, s: Shape, model: PtychoPinn, inputs: tf.Tensor4D, offsets: Float32Array, ops: ReturnType<PtychoPinn['operators']>): Promise<number> {
  const arrays: Record<string, [number, number[]]> = {};
  const parts: Float32Array[] = [];
  let at = 0;
  const put = (name: string, data: Float32Array, shape: number[]): void => {
    arrays[name] = [at, shape];
    parts.push(data);
    at += data.length;
  };
  const { intensity, loss } = tf.tidy(() => ({ intensity: model.forward(inputs, ops, true).intensity, loss: model.loss(inputs, ops, true) }));
  const lossValue = (await loss.data())[0];
  put('inputs', (await inputs.data()) as Float32Array, inputs.shape);
  put('offsets', offsets, [offsets.length]);
  put('probe_re', model.probeArrays.re, [s.N, s.N]);
  put('probe_im', model.probeArrays.im, [s.N, s.N]);
  put('intensity', (await intensity.data()) as Float32Array, intensity.shape);
  tf.dispose([intensity, loss]);
  const layers: string[] = [];
  for (const layer of model.generator.layers) {
    if (layer.getClassName() !== 'Conv2D') continue;
    const [kernel, bias] = layer.getWeights();
    layers.push(layer.name);
    put(`${layer.name}/kernel`, (await kernel.data()) as Float32Array, kernel.shape);
    put(`${layer.name}/bias`, (await bias.data()) as Float32Array, bias.shape);
  }
  const bin = new Float32Array(at);
  let o = 0;
  for (const p of parts) {
    bin.set(p, o);
    o += p.length;
  }
  fs.writeFileSync(`${stem}.bin`, new Uint8Array(bin.buffer)); // x86-64 and Arm Linux: little-endian
  const header = { N: s.N, gridsize: s.gridsize, filterScale: s.filterScale, batch: s.batch, P: model.P, logScale: model.lambda(), loss: lossValue, layers, arrays };
  fs.writeFileSync(`${stem}.json`, JSON.stringify(header));
  return lossValue;
}

interface OursResult {
  backend: string;
  parameters: number;
  firstLoss: number;
  warmupSeconds: number[];
  stepSeconds: number[];
  medianStepSeconds: number;
  samplesPerSecond: number;
  /** CPU seconds of the Node process during each timed step (user + system, every thread). */
  stepCpuSeconds: number[];
  samplesPerCpuSecond: number;
}

/** Our side of one shape: check the parameter count, write the twin's data, time the steps. */
async function runOurs(s: Shape, args: Args, stem: string, backend: string): Promise<OursResult> {
  const model = new PtychoPinn({ settings: stepSettings(s), seed: 1 });
  const { inputs, offsets } = timingBatch(s, s.batch);
  const ops = model.operators(offsets, s.batch);
  const opt = tf.train.adam(1e-3);
  try {
    const parameters = model.generator.countParams();
    const expected = expectedParameterCount({ N: s.N, C: s.gridsize * s.gridsize, nFiltersScale: s.filterScale, objectBig: true, probeBig: true, padObject: true });
    if (parameters !== expected) throw new Error(`${s.key}: our generator has ${parameters} parameters, the Conv2D formula gives ${expected}`);
    const firstLoss = await writeTwinData(stem, s, model, inputs, offsets, ops);
    const vars = model.trainableVariables();
    const stepCpuSeconds: number[] = [];
    const time = async (): Promise<number> => {
      const c = process.cpuUsage();
      const t = performance.now();
      await syncedTrainStep(model, opt, vars, inputs, ops);
      const wall = (performance.now() - t) / 1000;
      const cpu = process.cpuUsage(c);
      stepCpuSeconds.push((cpu.user + cpu.system) / 1e6);
      return wall;
    };
    const warmupSeconds: number[] = [];
    const stepSeconds: number[] = [];
    for (let i = 0; i < args.warmup; i++) warmupSeconds.push(await time());
    stepCpuSeconds.length = 0;
    for (let i = 0; i < args.steps; i++) stepSeconds.push(await time());
    const med = median(stepSeconds);
    const medCpu = median(stepCpuSeconds);
    console.error(`  ours ${backend}: ${(1000 * med).toFixed(1)} ms a step (${(1000 * medCpu).toFixed(1)} ms CPU), ${(s.batch / med).toFixed(2)} samples/s (first loss ${firstLoss.toPrecision(8)})`);
    return {
      backend, parameters, firstLoss, warmupSeconds, stepSeconds, medianStepSeconds: med, samplesPerSecond: s.batch / med,
      stepCpuSeconds, samplesPerCpuSecond: s.batch / medCpu,
    };
  } finally {
    opt.dispose();
    ops.dispose();
    inputs.dispose();
    model.dispose();
  }
}

function runTwin(s: Shape, args: Args, stem: string): TorchResult {
  const twin = path.join(HERE, 'torch', 'twin.py');
  const r = spawnSync(args.python, [twin, '--data', stem, '--warmup', String(args.warmup), '--steps', String(args.steps), '--devices', args.torch.join(','), '--far-field', args.farField], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.error) throw new Error(`${s.key}: could not run ${args.python} ${twin}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${s.key}: the PyTorch twin exited with ${r.status ?? r.signal}`);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as TorchResult;
}

/** Stop on a twin that is not our network or does not compute what ours computes. */
function verify(s: Shape, ours: OursResult, t: TorchResult): void {
  if (t.expected_parameters !== ours.parameters) throw new Error(`${s.key}: the twin's plan has ${t.expected_parameters} parameters, ours ${ours.parameters}`);
  for (const c of t.configs) {
    if (c.skipped) continue;
    if (c.parameters !== ours.parameters) throw new Error(`${s.key}: torch ${c.torch} has ${c.parameters} parameters, ours ${ours.parameters}`);
    const ck = c.check!;
    const worst = Math.max(ck.loss_rel_diff, ck.intensity_max_rel_diff);
    // CUDA may run convolutions in TF32 (PyTorch's default for cuDNN): recorded, not enforced there.
    if (c.torch !== 'cuda' && !(worst < CHECK_TOLERANCE)) {
      throw new Error(`${s.key}: torch ${c.torch} does not reproduce our first pass (loss ${ck.loss} vs ${ck.ours_loss}, relative ${ck.loss_rel_diff.toExponential(2)}; intensity max relative ${ck.intensity_max_rel_diff.toExponential(2)})`);
    }
  }
}

function torchLabel(c: TorchConfig): string {
  if (c.torch === 'cuda') return `torch CUDA${c.cuda_device ? ` (${c.cuda_device})` : ''}`;
  return `torch CPU ${c.threads ?? '?'} thread${c.threads === 1 ? '' : 's'}`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const probe = spawnSync(args.python, ['-c', 'import torch, sys; sys.stdout.write(torch.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(`bench:torch needs PyTorch in ${args.python} (Debian: apt-get install python3-torch; or --python / $PYTHON): ${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()}`);
  }
  const info = await startNodeBackend(args.backend);
  const backend = describeNodeBackend(info);
  const cpus = os.cpus();
  console.log(`bench:torch  ours: ${backend}; torch ${probe.stdout} (${args.python}), settings ${args.torch.join(', ')}, far field ${args.farField}; ` +
    `${cpus.length} CPUs (${cpus[0]?.model ?? '?'}), node ${process.version}; ${args.warmup} warm-up + ${args.steps} timed steps each`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-torch-'));
  const rows: Array<{ shape: Shape; parameters: number; loadBefore: number[]; loadAfter: number[]; ours: OursResult; torch: TorchResult }> = [];
  try {
    for (const s of SHAPES.filter((x) => args.only.includes(x.key))) {
      console.error(`${s.key}: N=${s.N} gridsize=${s.gridsize} filter scale=${s.filterScale} batch=${s.batch}`);
      const loadBefore = os.loadavg();
      const stem = path.join(dir, s.key);
      const ours = await runOurs(s, args, stem, backend);
      const t = runTwin(s, args, stem);
      verify(s, ours, t);
      console.error(`  parameters: ours ${ours.parameters}, torch ${t.configs.find((c) => !c.skipped)?.parameters ?? '-'}`);
      rows.push({ shape: s, parameters: ours.parameters, loadBefore, loadAfter: os.loadavg(), ours, torch: t });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // The table: samples/s of each side, and torch / ours.
  const settings = rows[0]?.torch.configs ?? [];
  const head = ['shape', 'parameters', `ours (${backend})`, ...settings.flatMap((c) => [torchLabel(c), 'torch / ours'])];
  console.log(`\n| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|`);
  for (const r of rows) {
    const cells = [`${r.shape.label} (N=${r.shape.N}, f=${r.shape.filterScale}, batch ${r.shape.batch})`, String(r.parameters), r.ours.samplesPerSecond.toFixed(2)];
    for (const c of r.torch.configs) {
      if (c.skipped || c.samples_per_second === undefined) cells.push(`skipped: ${c.skipped}`, '-');
      else cells.push(c.samples_per_second.toFixed(2), (c.samples_per_second / r.ours.samplesPerSecond).toFixed(2));
    }
    console.log(`| ${cells.join(' | ')} |`);
  }
  console.log('samples/s = batch / median timed step; torch / ours > 1: PyTorch is that many times faster.');
  // Per CPU second: the one-thread rows, whose CPU time is their work whatever else runs.
  const one = settings.filter((c) => c.torch === 'cpu1');
  if (rows.length && one.length && info.name === 'wasm') {
    console.log(`\nPer CPU second (one thread each; less sensitive to other work on the machine; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} now):`);
    console.log('| shape | ours samples/CPU-s | torch 1 thread samples/CPU-s | torch / ours |\n|---|---|---|---|');
    for (const r of rows) {
      const c = r.torch.configs.find((x) => x.torch === 'cpu1');
      if (!c?.median_step_cpu_s) continue;
      const t = r.shape.batch / c.median_step_cpu_s;
      console.log(`| ${r.shape.key} | ${r.ours.samplesPerCpuSecond.toFixed(2)} | ${t.toFixed(2)} | ${(t / r.ours.samplesPerCpuSecond).toFixed(2)} |`);
    }
  }

  const result = {
    bench: 'torch',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus.length,
    cpu: cpus[0]?.model,
    ours: backend,
    python: args.python,
    args: process.argv.slice(2),
    config: { warmup: args.warmup, steps: args.steps, torch: args.torch, farField: args.farField, checkTolerance: CHECK_TOLERANCE },
    rows: rows.map((r) => ({
      shape: r.shape,
      parameters: r.parameters,
      loadAverageBefore: r.loadBefore,
      loadAverageAfter: r.loadAfter,
      ours: r.ours,
      torch: r.torch,
      ratios: Object.fromEntries(r.torch.configs.filter((c) => c.samples_per_second !== undefined).map((c) => [c.torch, c.samples_per_second! / r.ours.samplesPerSecond])),
      cpuSecondRatios: Object.fromEntries(r.torch.configs.filter((c) => c.torch === 'cpu1' && c.median_step_cpu_s).map((c) => [c.torch, r.shape.batch / c.median_step_cpu_s! / r.ours.samplesPerCpuSecond])),
    })),
  };
  if (args.write) {
    const date = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
    const out = path.join(HERE, 'results', `torch-${date}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
  }
}

// Dawn (--backend webgpu) keeps the event loop alive: end when main() is done.
main().then(() => process.exit(0), (e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
