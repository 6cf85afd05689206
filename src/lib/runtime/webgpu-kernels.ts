/**
 * Accurate Sin and Cos for the tfjs WebGPU backend.
 *
 * tfjs-backend-webgpu 4.22 computes Sin and Cos with WGSL's built-in sin() and cos(), which the WGSL
 * spec only requires to be accurate to 2^-11 (4.9e-4) absolute on [-π, π]. SwiftShader's WebGPU is off
 * by about 1.8e-4 relative, and other GPUs use hardware approximations of a similar class. The object
 * is O = A·(cos φ + i·sin φ), and the gradients of the training loss are sums of many large terms that
 * nearly cancel: a CPU experiment that perturbs sin/cos by a relative 1e-5 moves single variables'
 * gradients (the biases of the phase head, the border branches) by up to 15 % (bench/sensitivity.ts).
 * So the backend's trig error, not float32 roundoff, decided how far WebGPU training drifted from the
 * CPU's (test/e2e/backends.spec.ts).
 *
 * These kernels compute sin and cos in float32 arithmetic only: Cody–Waite reduction by π/2 with a
 * three-part constant (exact for |x| < ~10^4, where k·P1 and k·P2 are exact in float32), then Cephes'
 * sinf/cosf minimax polynomials on |r| ≤ π/4 (about 1 ulp there), and the quadrant from k mod 4. Inputs
 * beyond the reduction's range (|x| > 8192) and non-finite ones fall back to the built-ins; the model's
 * phases are π·tanh(·), inside [-π, π].
 *
 * The gradients of Sin and Cos are computed by tfjs through Cos and Sin, so they use these kernels too.
 */
import * as tf from '@tensorflow/tfjs';
import { webgpu_util, type WebGPUBackend, type WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { installWebGpuConvKernels } from './webgpu-conv';
import { installWebGpuAdam } from './webgpu-adam';
import { installWebGpuOpKernels } from './webgpu-ops';
import { installWebGpuMatMul } from './webgpu-matmul';

type Trig = 'sin' | 'cos';

const TRIG_WGSL = `
fn accurateTrig(x : f32, wantCos : bool) -> f32 {
  if (!(abs(x) <= 8192.0)) {
    if (wantCos) { return cos(x); }
    return sin(x);
  }
  let k = round(x * 0.63661977236758134);
  // π/2 = P1 + P2 + P3; P1 and P2 have few enough significant bits that k·P1, k·P2 are exact.
  var r = x - k * 1.5703125;
  r = r - k * 4.837512969970703125e-4;
  r = r - k * 7.54978995489188216e-8;
  let z = r * r;
  let s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  var q = i32(k) & 3;
  if (wantCos) { q = (q + 1) & 3; }
  // sin(r + qπ/2): q = 0: sin r; 1: cos r; 2: -sin r; 3: -cos r.
  if (q == 0) { return s; }
  if (q == 1) { return c; }
  if (q == 2) { return -s; }
  return -c;
}
`;

class AccurateTrigProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames = ['A'];
  workgroupSize: [number, number, number] = [128, 1, 1];
  size = true;
  private readonly op: Trig;

  constructor(shape: number[], op: Trig) {
    this.outputShape = shape;
    this.op = op;
    this.dispatchLayout = webgpu_util.flatDispatchLayout(shape);
    this.dispatch = webgpu_util.computeDispatch(this.dispatchLayout, shape, this.workgroupSize);
    this.shaderKey = `ptychopinn_accurate_${op}`;
  }

  getUserCode(): string {
    return `
      ${TRIG_WGSL}
      fn main(index : i32) {
        if (index < uniforms.size) {
          setOutputAtIndex(index, accurateTrig(getAByOutputIndex(index), ${this.op === 'cos'}));
        }
      }
    `;
  }
}

function trigKernel(op: Trig): tf.KernelFunc {
  return ({ inputs, backend }) => {
    const x = inputs['x'] as tf.TensorInfo;
    if (x.dtype !== 'float32') throw new Error(`${op} on the WebGPU backend needs float32, got ${x.dtype}`);
    return (backend as WebGPUBackend).runWebGPUProgram(new AccurateTrigProgram([...x.shape], op), [x], 'float32');
  };
}

const originals = new Map<string, tf.KernelConfig>();

/** Replace the WebGPU backend's Sin and Cos with the accurate ones above (idempotent). */
export function installAccurateWebGpuTrig(): void {
  for (const [name, op] of [['Sin', 'sin'], ['Cos', 'cos']] as const) {
    if (originals.has(name)) continue;
    const current = tf.getKernel(name, 'webgpu');
    if (current === undefined) throw new Error(`the WebGPU backend has no ${name} kernel to replace`);
    originals.set(name, current);
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel({ kernelName: name, backendName: 'webgpu', kernelFunc: trigKernel(op) });
  }
}

/** Put tfjs' own Sin and Cos back (for tests that measure the difference). */
export function uninstallAccurateWebGpuTrig(): void {
  for (const [name, config] of originals) {
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel(config);
  }
  originals.clear();
}

// ---------------------------------------------------------------------------------------------
// Our WebGPU training kernels (docs/lab/2026-12-06-webgpu-kernels.md), chosen by the kernel profile
// of a Reference training step: the convolutions and their gradients (src/lib/runtime/webgpu-conv.ts),
// the bias Add, the bias-gradient Sum and the 2x upsampling gradient (src/lib/runtime/webgpu-ops.ts),
// BatchMatMul (src/lib/runtime/webgpu-matmul.ts) and Adam's update in three dispatches per variable
// (src/lib/runtime/webgpu-adam.ts).

/**
 * The switch: a tfjs flag, true by default. False sends every call back to tfjs' own kernels
 * (the bench's side-by-side runs; `setOurWebGpuKernels(false)`, PTYCHO_OUR_WEBGPU_KERNELS=false in
 * Node's environment, or `?tfjsflags=PTYCHO_OUR_WEBGPU_KERNELS:false` in a page). Read at every
 * kernel call, so it can be flipped between steps.
 */
export const OUR_WEBGPU_KERNELS_FLAG = 'PTYCHO_OUR_WEBGPU_KERNELS';

function flagOn(): boolean {
  return tf.env().getBool(OUR_WEBGPU_KERNELS_FLAG);
}

let flagRegistered = false;

/**
 * Register the switch's flag (idempotent). Its default is true, or false where the process
 * environment says PTYCHO_OUR_WEBGPU_KERNELS=false (Node).
 */
export function registerOurWebGpuKernelsFlag(): void {
  if (flagRegistered) return;
  const fromEnv = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[OUR_WEBGPU_KERNELS_FLAG];
  tf.env().registerFlag(OUR_WEBGPU_KERNELS_FLAG, () => fromEnv !== 'false' && fromEnv !== '0');
  flagRegistered = true;
}

/** Turn our WebGPU training kernels on or off (the accurate Sin/Cos stay: they are about accuracy). */
export function setOurWebGpuKernels(on: boolean): void {
  registerOurWebGpuKernelsFlag();
  tf.env().set(OUR_WEBGPU_KERNELS_FLAG, on);
}

/**
 * Everything we install on WebGPU: the accurate Sin/Cos, and our training kernels behind the switch.
 * `adam: false` leaves tfjs' Adam: in the app's job workers in headless Chromium (SwiftShader) our
 * Adam programs lost the device ('Device was destroyed') on 2026-12-06, while the convolution,
 * elementwise and matrix-product kernels trained there (bisected by installing each group alone; not
 * yet understood). The backend must be registered. Idempotent.
 */
export function installWebGpuTrainingKernels(opts: { adam?: boolean } = {}): void {
  registerOurWebGpuKernelsFlag();
  installAccurateWebGpuTrig();
  installWebGpuConvKernels(flagOn);
  installWebGpuOpKernels(flagOn);
  installWebGpuMatMul(flagOn);
  if (opts.adam ?? true) installWebGpuAdam(flagOn);
}

/**
 * Compile a training step's shaders without running it (tfjs' WEBGPU_ENGINE_COMPILE_ONLY: every
 * program's pipeline is created with createComputePipelineAsync and nothing is recorded), then wait
 * for the compilations. Only the forward pass and the gradients are traced (`grads` must not change
 * any state; the optimizer's few programs compile in the first real step): outputs of programs that
 * never ran are garbage and are disposed unread. Returns the milliseconds it took.
 */
export async function compileOnlyWarmup(grads: () => tf.TensorContainer): Promise<number> {
  const t = performance.now();
  const backend = tf.backend() as WebGPUBackend & { checkCompileCompletionAsync(): Promise<void> };
  tf.env().set('WEBGPU_ENGINE_COMPILE_ONLY', true);
  try {
    tf.dispose(tf.tidy(grads));
    await backend.checkCompileCompletionAsync();
  } finally {
    tf.env().set('WEBGPU_ENGINE_COMPILE_ONLY', false);
  }
  return performance.now() - t;
}
