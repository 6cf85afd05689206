/**
 * Run by test/lib/runtime/webgpu-kernels.test.ts in a child process (the Vulkan loader reads
 * LD_LIBRARY_PATH only when a process starts): each of our WebGPU kernels (src/lib/runtime/webgpu-*.ts,
 * installed by startNodeBackend) against the CPU backend (with the runner's CPU kernels,
 * src/lib/runtime/cpu-kernels.ts) on the same inputs: the op's value and its gradients with respect to
 * every input, through the same tfjs ops training uses. Each case also records which WebGPU programs
 * ran, so the test can tell our kernels from tfjs' fallbacks. Prints one JSON line: {"skip": reason}
 * where Dawn finds no adapter, else {"adapter", "cases", "adam", "switchOff"}.
 */
import * as tf from '@tensorflow/tfjs';
import { startWebGpuOrSkip } from './webgpu-child';
import { describeAdapter } from '../../../src/lib/runtime/adapter';
import { installFastCpuKernels } from '../../../src/lib/runtime/cpu-kernels';
import { countDispatches } from '../../../src/lib/runtime/webgpu-profile';
import { setOurWebGpuKernels } from '../../../src/lib/runtime/webgpu-kernels';
import { setFilterGradSplitTarget } from '../../../src/lib/runtime/webgpu-conv';

export interface CaseResult {
  name: string;
  /** max |cpu − webgpu| / max |cpu| of the value, then of each gradient */
  value: number;
  grads: number[];
  /** max |cpu| of the value (the test checks it is not all zeros) */
  scale: number;
  programs: string[];
}

const info = await startWebGpuOrSkip();
await tf.setBackend('cpu');
installFastCpuKernels();
await tf.setBackend('webgpu');
const counter = countDispatches();

function rel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(a[i]));
  }
  return s === 0 ? d : d / s;
}

/** Inputs from a seed, the same numbers on both backends. */
function inputs(shapes: number[][], seed: number): tf.Tensor[] {
  return shapes.map((s, i) => tf.randomUniform(s, -1, 1, 'float32', seed + i));
}

/**
 * f(...inputs) on the CPU and on WebGPU: the value, and the gradients of Σ f · r (r a fixed random
 * weighting, so every output element matters) with respect to every input.
 */
async function compareOp(name: string, shapes: number[][], f: (...xs: tf.Tensor[]) => tf.Tensor, seed = 1): Promise<CaseResult> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const xs = inputs(shapes, seed);
    counter.reset();
    const y = f(...xs);
    const r = tf.randomUniform(y.shape, -1, 1, 'float32', seed + 100);
    const g = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), r)))(xs);
    const out = { value: await y.data(), grads: await Promise.all(g.map((t) => t.data())), programs: Object.keys(counter.byProgram()) };
    tf.dispose([...xs, y, r, ...g]);
    return out;
  };
  const cpu = await run('cpu');
  const gpu = await run('webgpu');
  return {
    name, value: rel(cpu.value, gpu.value), grads: cpu.grads.map((c, i) => rel(c, gpu.grads[i])),
    scale: Math.max(...Array.from(cpu.value, Math.abs)), programs: gpu.programs,
  };
}

const conv = (pad: 'same' | 'valid', activation: 'relu' | 'linear') => (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
  tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad, bias: b, activation });

const cases: CaseResult[] = [];
// Convolutions: 8 pixels a row per thread (W = 11 leaves a partial tile), 2 and 4 vec4s of channels.
cases.push(await compareOp('conv same relu 8->16 (Conv2D + Add + Relu under the tape)', [[2, 9, 11, 8], [3, 3, 8, 16], [16]], conv('same', 'relu')));
cases.push(await compareOp('conv valid linear 16->8 (FusedConv2D)', [[2, 7, 10, 16], [3, 3, 16, 8], [8]], conv('valid', 'linear')));
cases.push(await compareOp('conv same relu 4->12 (odd vec4 counts)', [[3, 6, 5, 4], [3, 3, 4, 12], [12]], conv('same', 'relu')));
setFilterGradSplitTarget(1 << 20); // the GPU path: the filter gradient split over the batch, summed
cases.push(await compareOp('conv same relu 8->16, filter gradient split over the batch', [[3, 9, 11, 8], [3, 3, 8, 16], [16]], conv('same', 'relu')));
setFilterGradSplitTarget(null);
cases.push(await compareOp('conv 1->8 (tfjs fallback: channels not in fours)', [[2, 6, 6, 1], [3, 3, 1, 8], [8]], conv('same', 'relu')));
// Matrix products: vec4 path (dims in fours) and the general one, every transpose, batch broadcast.
for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
  const sh = (t: boolean, b: number, r: number, c: number) => (t ? [b, c, r] : [b, r, c]);
  cases.push(await compareOp(`matMul 3x8x12 · 12x16 ta=${ta} tb=${tb}`, [sh(ta, 3, 8, 12), sh(tb, 3, 12, 16)], (a, b) => tf.matMul(a, b, ta, tb)));
  // The batch-1 operand is a constant, as the physics' DFT matrix is (tfjs' BatchMatMul gradient
  // does not reduce over a broadcast batch).
  cases.push(await compareOp(`matMul 7x9 · 9x5 (general) ta=${ta} tb=${tb}, batch 1 broadcast`, [sh(tb, 4, 9, 5)],
    (b) => tf.matMul(tf.randomUniform(sh(ta, 1, 7, 9), -1, 1, 'float32', 77), b, ta, tb)));
}
// Bias add over the channels, and its gradient (Sum over all axes but the last).
cases.push(await compareOp('bias add [2,5,3,8] + [8]', [[2, 5, 3, 8], [8]], (x, b) => tf.add(x, b)));
// Sum over a middle run of axes (the merge's Σ over a group's patches), keepDims both ways.
cases.push(await compareOp('sum [3,4,6,8] over axis 1', [[3, 4, 6, 8]], (x) => tf.sum(x, 1)));
cases.push(await compareOp('sum [3,4,5,2,8] over axes 1,2 keepDims', [[3, 4, 5, 2, 8]], (x) => tf.sum(x, [1, 2], true)));
// 2x nearest-neighbour upsampling (the decoder's UpSampling2D) with batch > 1.
cases.push(await compareOp('upsample 2x [2,3,5,8]', [[2, 3, 5, 8]], (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [6, 10])));

/** Adam, three steps, on both backends: the variables and the first moment after them. */
async function adam(): Promise<{ value: number; moment: number; accBeta1: number; programs: string[]; tensorsGrew: number }> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const a = tf.variable(tf.randomUniform([7, 12], -1, 1, 'float32', 11), true, `adam_a_${backend}`);
    const b = tf.variable(tf.randomUniform([5], -1, 1, 'float32', 12), true, `adam_b_${backend}`);
    const opt = tf.train.adam(0.01);
    const loss = () => tf.add(tf.sum(tf.square(tf.sin(a))), tf.sum(tf.mul(tf.mul(b, b), 3))) as tf.Scalar;
    tf.dispose(opt.minimize(loss, true)!);
    const tensors = tf.memory().numTensors;
    counter.reset();
    for (let i = 0; i < 2; i++) tf.dispose(opt.minimize(loss, true)!);
    const programs = Object.keys(counter.byProgram());
    const grew = tf.memory().numTensors - tensors;
    const w = await opt.getWeights();
    const out = {
      value: [...(await a.data()), ...(await b.data())], moment: [...(await w[1].tensor.data())],
      accBeta1: (await (opt as unknown as { accBeta1: tf.Variable }).accBeta1.data())[0], programs, grew,
    };
    opt.dispose();
    tf.dispose([a, b]);
    return out;
  };
  const cpu = await run('cpu');
  const gpu = await run('webgpu');
  return { value: rel(cpu.value, gpu.value), moment: rel(cpu.moment, gpu.moment), accBeta1: Math.abs(cpu.accBeta1 - gpu.accBeta1), programs: gpu.programs, tensorsGrew: gpu.grew };
}
const adamResult = await adam();

// The switch: with our kernels off, a convolution runs on tfjs' programs only.
setOurWebGpuKernels(false);
counter.reset();
{
  const [x, w, b] = inputs([[1, 6, 6, 8], [3, 3, 8, 8], [8]], 3);
  const y = conv('same', 'relu')(x, w, b);
  await y.data();
  tf.dispose([x, w, b, y]);
}
const switchOff = Object.keys(counter.byProgram());
setOurWebGpuKernels(true);

process.stdout.write(`${JSON.stringify({ adapter: describeAdapter(info.adapter), cases, adam: adamResult, switchOff })}\n`);
process.exit(0); // Dawn keeps the event loop alive
