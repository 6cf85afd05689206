/**
 * Adam's update in three WebGPU dispatches per variable instead of fourteen.
 *
 * tfjs-core 4.22's `AdamOptimizer.applyGradients` (tfjs-core `optimizers/adam_optimizer.ts`) builds
 * each variable's update from elementwise ops: m' = m·β1 + g·(1−β1) (mul, mul, add), v' = v·β2 +
 * g²·(1−β2) (square, mul, mul, add), then value + (m'/(1−β1ᵗ)) / (√(v'/(1−β2ᵗ)) + ε) · (−lr) (div,
 * div, sqrt, add, div, mul, add): 14 dispatches per variable on WebGPU, 616 of the Reference step's
 * dispatches for its 44 variables (docs/lab/2026-12-06-webgpu-kernels.md). Here each of m', v' and
 * the new value is one WGSL program computing the same expression in the same order (float32), and
 * 1 − β1ᵗ, 1 − β2ᵗ are read from the optimizer's own accBeta variables inside the third program.
 *
 * The optimizer's state is tfjs' own (accumulatedFirstMoment, accumulatedSecondMoment, accBeta1/2,
 * iterations), so getWeights/setWeights, checkpoints and resume are unchanged. The patch replaces
 * `AdamOptimizer.prototype.applyGradients` while installed and only while the current backend is
 * 'webgpu' and the switch says on; otherwise tfjs' own method runs.
 */
import * as tf from '@tensorflow/tfjs';
import { webgpu_util, type WebGPUBackend, type WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

type Which = 'first' | 'second' | 'update';

/** AdamOptimizer.applyGradients' argument (tfjs-core's NamedVariableMap | NamedTensor[]). */
type Grads = Parameters<tf.AdamOptimizer['applyGradients']>[0];

class AdamProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  variableComponents?: number[];
  outputComponent: number;
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;
  uniforms: string;
  private readonly which: Which;

  constructor(which: Which, n: number) {
    this.which = which;
    const vec = n % 4 === 0 ? 4 : 1;
    this.outputComponent = vec;
    this.outputShape = [n];
    this.dispatchLayout = webgpu_util.flatDispatchLayout(this.outputShape);
    this.dispatch = webgpu_util.computeDispatch(this.dispatchLayout, this.outputShape, this.workgroupSize, [vec, 1, 1]);
    if (which === 'update') {
      this.variableNames = ['value', 'm', 'v', 'acc1', 'acc2'];
      this.variableComponents = [vec, vec, vec, 1, 1];
      this.uniforms = 'negLr : f32, eps : f32,';
    } else {
      this.variableNames = ['state', 'g'];
      this.uniforms = 'beta : f32, oneMinusBeta : f32,';
    }
    this.shaderKey = `ptycho_adam_${which}_${vec}`;
  }

  getUserCode(): string {
    const t = this.outputComponent === 4 ? 'vec4<f32>' : 'f32';
    let expr: string;
    if (this.which === 'first') expr = 'state[i] * uniforms.beta + g[i] * uniforms.oneMinusBeta';
    else if (this.which === 'second') expr = 'state[i] * uniforms.beta + (g[i] * g[i]) * uniforms.oneMinusBeta';
    else {
      // tfjs: add(mul(div(div(m', 1 − acc1), add(sqrt(div(v', 1 − acc2)), ε)), −lr), value)
      expr = `((m[i] / ${t}(1.0 - acc1[0])) / (sqrt(v[i] / ${t}(1.0 - acc2[0])) + ${t}(uniforms.eps))) * ${t}(uniforms.negLr) + value[i]`;
    }
    return `
      fn main(i : i32) {
        if (i < uniforms.size) {
          result[i] = ${expr};
        }
      }
    `;
  }
}

interface AdamLike {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  incrementIterations(): void;
}

function run(backend: WebGPUBackend, which: Which, inputs: tf.TensorInfo[], n: number, uniforms: number[]): tf.Tensor {
  const info = backend.runWebGPUProgram(new AdamProgram(which, n), inputs, 'float32', uniforms.map((v) => ({ type: 'float32', data: [v] })));
  return tf.engine().makeTensorFromTensorInfo({ ...info, shape: inputs[0].shape });
}

function flat(t: tf.Tensor): tf.TensorInfo {
  return { dataId: t.dataId, shape: t.shape, dtype: t.dtype };
}

/** The same state changes as tfjs' AdamOptimizer.applyGradients, three programs per variable. */
function fusedApplyGradients(opt: AdamLike, variableGradients: Grads): void {
  const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
  const backend = tf.backend() as WebGPUBackend;
  tf.tidy(() => {
    names.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name];
      if (opt.accumulatedFirstMoment[i] == null) {
        opt.accumulatedFirstMoment[i] = { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
      }
      if (opt.accumulatedSecondMoment[i] == null) {
        opt.accumulatedSecondMoment[i] = { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
      }
      const gradient: tf.Tensor | undefined = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
      if (gradient == null) return;
      const m = opt.accumulatedFirstMoment[i]!.variable;
      const v = opt.accumulatedSecondMoment[i]!.variable;
      const n = value.size;
      if (gradient.dtype !== 'float32' || value.dtype !== 'float32' || gradient.size !== n) {
        throw new Error(`fused Adam: variable ${name} and its gradient must be float32 of the same size`);
      }
      const g = flat(gradient);
      const newM = run(backend, 'first', [flat(m), g], n, [opt.beta1, 1 - opt.beta1]);
      const newV = run(backend, 'second', [flat(v), g], n, [opt.beta2, 1 - opt.beta2]);
      const newValue = run(backend, 'update', [flat(value), flat(newM), flat(newV), flat(opt.accBeta1), flat(opt.accBeta2)], n, [-opt.learningRate, opt.epsilon]);
      m.assign(newM);
      v.assign(newV);
      value.assign(newValue);
    });
    opt.accBeta1.assign(tf.mul(opt.accBeta1, opt.beta1));
    opt.accBeta2.assign(tf.mul(opt.accBeta2, opt.beta2));
  });
  opt.incrementIterations();
}

type ApplyGradients = tf.AdamOptimizer['applyGradients'];
let originalApply: ApplyGradients | null = null;
let enabled = () => true;

/** Route Adam's applyGradients through the fused programs on 'webgpu' while `isOn()` (idempotent). */
export function installWebGpuAdam(isOn: () => boolean = () => true): void {
  enabled = isOn;
  if (originalApply) return;
  const proto = tf.AdamOptimizer.prototype;
  const orig = proto.applyGradients;
  originalApply = orig;
  proto.applyGradients = function (this: tf.AdamOptimizer, variableGradients: Grads): void {
    if (tf.getBackend() !== 'webgpu' || !enabled()) return orig.call(this, variableGradients);
    fusedApplyGradients(this as unknown as AdamLike, variableGradients);
  };
}

/** Put tfjs' own applyGradients back. */
export function uninstallWebGpuAdam(): void {
  if (!originalApply) return;
  tf.AdamOptimizer.prototype.applyGradients = originalApply;
  originalApply = null;
}
