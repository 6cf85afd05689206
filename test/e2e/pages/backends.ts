/**
 * Test page for test/e2e/backends.spec.ts: the same PtychoPINN forward pass, loss and gradients on the
 * tfjs 'cpu' backend and on 'webgpu', in one page. The model is built on the CPU from a seed; its
 * weights are copied as arrays into a second model built on WebGPU, so both evaluate exactly the same
 * function on the same batch. Returns the raw figures; the spec decides what is close enough.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { PtychoPinn } from '../../../src/lib/model/pinn';
import { settingsFromParams } from '../../../src/lib/model/settings';
import { installFastCpuKernels } from '../../../src/lib/runtime/cpu-kernels';
import { batchData } from './batch';
import { installAccurateWebGpuTrig, uninstallAccurateWebGpuTrig } from '../../../src/lib/runtime/webgpu-kernels';
import { releaseGpuBufferPool } from '../../../src/lib/runtime/backend';

export interface CompareConfig {
  N: number;
  gridsize: number;
  filterScale: number;
  batch: number;
  seed: number;
  /** WebGPU side: tfjs' own Sin/Cos (WGSL built-ins) instead of the runner's accurate kernels */
  builtinTrig?: boolean;
}

export interface Evaluation {
  backend: string;
  loss: number;
  intensity: Float32Array;
  trimmedRe: Float32Array;
  grads: Float32Array[];
  names: string[];
}

export interface Diff {
  /** max |a − b| / max |a| over the tensor (a: CPU) */
  maxRel: number;
  maxAbs: number;
  scale: number;
}

export interface CompareResult {
  config: CompareConfig;
  backends: [string, string];
  adapter: string;
  parameters: number;
  loss: { cpu: number; webgpu: number; rel: number };
  intensity: Diff;
  trimmed: Diff;
  /** per trainable variable */
  grads: Array<{ name: string; size: number } & Diff>;
  /** the largest gradient difference over all variables */
  gradsMaxRel: number;
  /** relative norm of the difference of the whole gradient vector: ||g_cpu − g_gpu|| / ||g_cpu|| */
  gradsNormRel: number;
  /** ||g_cpu|| for a sanity check that gradients are not all zero */
  gradNorm: number;
  seconds: { cpu: number; webgpu: number };
}

async function evaluate(model: PtychoPinn, cfg: CompareConfig, data: { inputs: Float32Array; offsets: Float32Array }): Promise<Evaluation> {
  const { N, batch } = cfg;
  const C = cfg.gridsize * cfg.gridsize;
  const inputs = tf.tensor4d(data.inputs, [batch, N, N, C]);
  const ops = model.operators(data.offsets, batch);
  const vars = model.trainableVariables();
  try {
    const fwd = model.forward(inputs, ops, true);
    const { value, grads } = tf.variableGrads(() => model.loss(inputs, ops, true), vars);
    const names = vars.map((v) => v.name);
    const out: Evaluation = {
      backend: tf.getBackend(),
      loss: (await value.data())[0],
      intensity: (await fwd.intensity.data()) as Float32Array,
      trimmedRe: (await fwd.trimmedRe.data()) as Float32Array,
      grads: await Promise.all(names.map(async (n) => (await grads[n].data()) as Float32Array)),
      names,
    };
    tf.dispose([value, fwd.intensity, fwd.trimmedRe, fwd.trimmedIm, ...Object.values(grads)]);
    return out;
  } finally {
    ops.dispose();
    inputs.dispose();
  }
}

function diff(a: Float32Array, b: Float32Array): Diff {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) return { maxRel: Infinity, maxAbs: Infinity, scale: NaN };
    maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  return { maxRel: scale > 0 ? maxAbs / scale : maxAbs === 0 ? 0 : Infinity, maxAbs, scale };
}

export async function compare(cfg: CompareConfig): Promise<CompareResult> {
  const settings = settingsFromParams({ N: cfg.N, gridsize: cfg.gridsize, n_filters_scale: cfg.filterScale, batch_size: cfg.batch, nphotons: 1e9 });
  const data = batchData(cfg);

  if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not start');
  installFastCpuKernels(); // as the runner does on the CPU backend (includes the UpSampling2D gradient fix)
  let t = performance.now();
  const cpuModel = new PtychoPinn({ settings, seed: cfg.seed });
  const weights = cpuModel.generator.getWeights().map((w) => ({ shape: w.shape, values: w.dataSync() as Float32Array }));
  const cpu = await evaluate(cpuModel, cfg, data);
  const parameters = cpuModel.generator.countParams();
  cpuModel.dispose();
  const cpuSeconds = (performance.now() - t) / 1000;

  if (!(await tf.setBackend('webgpu'))) throw new Error('the webgpu backend did not start');
  await tf.ready();
  if (cfg.builtinTrig) uninstallAccurateWebGpuTrig();
  else installAccurateWebGpuTrig(); // as the runner does on WebGPU
  t = performance.now();
  const gpuModel = new PtychoPinn({ settings, seed: cfg.seed + 1 }); // different init, then the CPU weights
  const ws = weights.map((w) => tf.tensor(w.values, w.shape));
  gpuModel.generator.setWeights(ws);
  tf.dispose(ws);
  const gpu = await evaluate(gpuModel, cfg, data);
  gpuModel.dispose();
  const gpuSeconds = (performance.now() - t) / 1000;

  const grads = cpu.grads.map((g, i) => ({ name: cpu.names[i], size: g.length, ...diff(g, gpu.grads[i]) }));
  let dn = 0;
  let gn = 0;
  cpu.grads.forEach((g, i) => {
    for (let k = 0; k < g.length; k++) {
      dn += (g[k] - gpu.grads[i][k]) ** 2;
      gn += g[k] ** 2;
    }
  });
  const info = (tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string; description?: string } }).adapterInfo;
  return {
    config: cfg,
    backends: [cpu.backend, gpu.backend],
    adapter: info ? [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ') : 'unknown',
    parameters,
    loss: { cpu: cpu.loss, webgpu: gpu.loss, rel: Math.abs(cpu.loss - gpu.loss) / Math.abs(cpu.loss) },
    intensity: diff(cpu.intensity, gpu.intensity),
    trimmed: diff(cpu.trimmedRe, gpu.trimmedRe),
    grads,
    gradsMaxRel: Math.max(...grads.map((g) => g.maxRel)),
    gradsNormRel: Math.sqrt(dn / gn),
    gradNorm: Math.sqrt(gn),
    seconds: { cpu: cpuSeconds, webgpu: gpuSeconds },
  };
}

export interface TrigAccuracy {
  /** max |f(x) − Math.f(x)| over x in [-π, π] (float32 x), for the WGSL built-ins and for ours */
  builtin: { sin: number; cos: number };
  accurate: { sin: number; cos: number };
  /** the same over [-1000, 1000] */
  accurateWide: { sin: number; cos: number };
  /** whether ours gives exactly sin/cos of ±0 and the exact value at a few non-finite inputs */
  specials: { sinZero: number; cosZero: number; nan: boolean };
}

/** Sin and Cos on WebGPU against float64 Math.sin/Math.cos of the same float32 inputs. */
export async function trigAccuracy(): Promise<TrigAccuracy> {
  if (!(await tf.setBackend('webgpu'))) throw new Error('the webgpu backend did not start');
  await tf.ready();
  const grid = (lo: number, hi: number, n: number) => Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
  const worst = async (x: Float32Array) => {
    const t = tf.tensor1d(x);
    const s = (await tf.sin(t).data()) as Float32Array;
    const c = (await tf.cos(t).data()) as Float32Array;
    t.dispose();
    let es = 0;
    let ec = 0;
    for (let i = 0; i < x.length; i++) {
      es = Math.max(es, Math.abs(s[i] - Math.sin(x[i])));
      ec = Math.max(ec, Math.abs(c[i] - Math.cos(x[i])));
    }
    return { sin: es, cos: ec };
  };
  const narrow = grid(-Math.PI, Math.PI, 200_003);
  uninstallAccurateWebGpuTrig();
  const builtin = await worst(narrow);
  installAccurateWebGpuTrig();
  const accurate = await worst(narrow);
  const accurateWide = await worst(grid(-1000, 1000, 200_003));
  const sp = tf.tensor1d([0, NaN]);
  const spSin = (await tf.sin(sp).data()) as Float32Array;
  const spCos = (await tf.cos(sp).data()) as Float32Array;
  sp.dispose();
  return { builtin, accurate, accurateWide, specials: { sinZero: spSin[0], cosZero: spCos[0], nan: Number.isNaN(spSin[1]) && Number.isNaN(spCos[1]) } };
}

export interface PoolRelease {
  /** numBytesAllocatedInGPU / numBytesInGPU after some work whose tensors were disposed */
  before: { allocated: number; live: number };
  freed: number;
  after: { allocated: number; live: number };
  /** the same computation before and after the release (max |Δ|), and a tensor kept across it */
  sameResult: number;
  keptIntact: boolean;
}

/** releaseGpuBufferPool on WebGPU: frees the pooled buffers, keeps live tensors, and tfjs works on. */
export async function poolRelease(): Promise<PoolRelease> {
  if (!(await tf.setBackend('webgpu'))) throw new Error('the webgpu backend did not start');
  await tf.ready();
  const mem = () => {
    const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number; numBytesAllocatedInGPU: number };
    return { allocated: m.numBytesAllocatedInGPU, live: m.numBytesInGPU };
  };
  const kept = tf.range(0, 4096).reshape([64, 64]);
  const keptValues = (await kept.data()).slice();
  const work = () => tf.tidy(() => {
    const a = tf.add(kept, 1);
    const b = tf.matMul(a, tf.transpose(a));
    return tf.sum(tf.sin(b.div(1e6)));
  });
  const r1 = work();
  const v1 = (await r1.data())[0];
  r1.dispose();
  const before = mem();
  const freed = await releaseGpuBufferPool();
  const after = mem();
  const r2 = work();
  const v2 = (await r2.data())[0];
  r2.dispose();
  const keptNow = await kept.data();
  kept.dispose();
  return { before, freed, after, sameResult: Math.abs(v1 - v2), keptIntact: keptNow.every((x, i) => x === keptValues[i]) };
}

declare global {
  interface Window {
    __backends?: { compare: typeof compare; trigAccuracy: typeof trigAccuracy; poolRelease: typeof poolRelease };
  }
}
// In the page; Node (test/lib/runtime/node-webgpu-compare.ts) imports compare() itself.
if (typeof window !== 'undefined') {
  window.__backends = { compare, trigAccuracy, poolRelease };
  document.getElementById('out')!.textContent = 'ready';
}

