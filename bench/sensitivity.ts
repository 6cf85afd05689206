/**
 * `npx tsx bench/sensitivity.ts [N,gridsize,batch,seed]`: how much the PtychoPINN loss gradients move
 * when one kind of elementwise result is perturbed, on the tfjs CPU backend alone.
 *
 * Why: test/e2e/backends.spec.ts compares WebGPU against CPU gradients variable by variable. This asks
 * what differences float32-sized and WGSL-sized errors alone produce, with no second backend involved:
 * each case wraps the CPU kernels named below so that every output element is multiplied by
 * (1 + eps·u), u uniform in [-1, 1] (seeded), then recomputes all gradients of the same seeded model on
 * the same batch as the browser test and prints the loss change, the relative 2-norm of the whole
 * gradient difference, and the five variables with the largest max |Δg| / max |g|.
 *
 * Measured (N = 32, gridsize 1, batch 2, seed 5, this machine): Sin/Cos at 2e-4 (about SwiftShader's
 * built-in error): vector 4.1e-2, worst variable 2.8 (phase_conv1/bias); Sin/Cos at 1e-5: vector 2.5e-3,
 * worst 1.5e-1; Sin/Cos at 1e-7 (float32 roundoff): vector 3.5e-5, worst 1.8e-3 (phase_conv2/bias);
 * matMul and conv outputs at 1e-7: vector 1.5e-5, worst 2.3e-4; Exp at 1e-7: worst 7.0e-4. The gradients are sums of large terms that nearly cancel, so a trig error far
 * above roundoff decides the comparison: hence src/lib/runtime/webgpu-kernels.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { PtychoPinn } from '../src/lib/model/pinn.ts';
import { settingsFromParams } from '../src/lib/model/settings.ts';
import { Rng } from '../src/lib/model/rng.ts';
import { installFastCpuKernels } from '../src/lib/runtime/cpu-kernels.ts';
import { batchData } from '../test/e2e/pages/batch.ts';

const [N, gridsize, batch, seed] = (process.argv[2] ?? '32,1,2,5').split(',').map(Number);
const C = gridsize * gridsize;

let noise = new Rng(7);
const eps: Record<string, number> = {};

/** Wrap a CPU kernel so that its output is perturbed by eps[name] (0: untouched). */
function perturbable(name: string): void {
  const kernel = tf.getKernel(name, 'cpu');
  if (!kernel) throw new Error(`no cpu kernel ${name}`);
  const run = kernel.kernelFunc;
  tf.unregisterKernel(name, 'cpu');
  tf.registerKernel({
    ...kernel,
    kernelFunc: (args) => {
      const out = run(args) as tf.TensorInfo;
      const e = eps[name] ?? 0;
      if (e > 0) {
        const values = (args.backend as unknown as { data: { get(id: object): { values: Float32Array } } }).data.get(out.dataId).values;
        for (let i = 0; i < values.length; i++) values[i] *= 1 + e * (2 * noise.next() - 1);
      }
      return out;
    },
  });
}

interface Grads {
  loss: number;
  g: Array<{ name: string; v: Float32Array }>;
}

await tf.setBackend('cpu');
installFastCpuKernels();
const KERNELS = ['Sin', 'Cos', 'BatchMatMul', 'Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'Exp'];
for (const k of KERNELS) perturbable(k);
const model = new PtychoPinn({ settings: settingsFromParams({ N, gridsize, n_filters_scale: 0.25, batch_size: batch, nphotons: 1e9 }), seed });
const data = batchData({ N, gridsize, batch, seed }); // the batch of test/e2e/pages/backends.ts

function gradients(): Grads {
  const inputs = tf.tensor4d(data.inputs, [batch, N, N, C]);
  const ops = model.operators(data.offsets, batch);
  const vars = model.trainableVariables();
  const { value, grads } = tf.variableGrads(() => model.loss(inputs, ops, true), vars);
  const out = { loss: value.dataSync()[0], g: vars.map((v) => ({ name: v.name, v: grads[v.name].dataSync() as Float32Array })) };
  tf.dispose([value, ...Object.values(grads)]);
  ops.dispose();
  inputs.dispose();
  return out;
}

function report(label: string, a: Grads, b: Grads): void {
  let dn = 0;
  let gn = 0;
  const rows: Array<[string, number]> = a.g.map((x, i) => {
    let maxAbs = 0;
    let scale = 0;
    for (let k = 0; k < x.v.length; k++) {
      const d = x.v[k] - b.g[i].v[k];
      dn += d * d;
      gn += x.v[k] ** 2;
      maxAbs = Math.max(maxAbs, Math.abs(d));
      scale = Math.max(scale, Math.abs(x.v[k]));
    }
    return [x.name, maxAbs / scale];
  });
  rows.sort((p, q) => q[1] - p[1]);
  const worst = rows.slice(0, 5).map(([n, v]) => `${n} ${v.toExponential(2)}`).join(', ');
  console.log(`${label.padEnd(24)} loss ${(Math.abs(a.loss - b.loss) / Math.abs(a.loss)).toExponential(2)}  vector ${Math.sqrt(dn / gn).toExponential(2)}  worst ${worst}`);
}

console.log(`N=${N} gridsize ${gridsize} batch ${batch} seed ${seed}: relative change of the gradients under perturbed kernels`);
const base = gradients();
report('none (repeat)', base, gradients());
const CASES: Array<[string, Record<string, number>]> = [
  ['Sin/Cos 2e-4', { Sin: 2e-4, Cos: 2e-4 }],
  ['Sin/Cos 1e-5', { Sin: 1e-5, Cos: 1e-5 }],
  ['Sin/Cos 1e-7', { Sin: 1e-7, Cos: 1e-7 }],
  ['matMul+conv 1e-7', { BatchMatMul: 1e-7, Conv2D: 1e-7, Conv2DBackpropInput: 1e-7, Conv2DBackpropFilter: 1e-7 }],
  ['Exp 1e-7', { Exp: 1e-7 }],
];
for (const [label, set] of CASES) {
  for (const k of Object.keys(eps)) delete eps[k];
  Object.assign(eps, set);
  noise = new Rng(7);
  report(label, base, gradients());
}
