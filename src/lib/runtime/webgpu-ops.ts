/**
 * Our WGSL kernels for three elementwise/reduction patterns of the training step where tfjs 4.22's
 * WebGPU kernels were slow in the kernel profile (docs/lab/2026-12-06-webgpu-kernels.md):
 *
 * - Add of a bias over the last axis ([..., C] + [C]): tfjs-core does not fuse conv + bias + ReLU
 *   under a gradient tape (its `fused_util.shouldFuse` fuses only 'linear' while gradientDepth > 0),
 *   so each ReLU layer's bias is a broadcasting Add, which tfjs' BinaryOpProgram computes one element
 *   per thread with coordinate arithmetic; here one vec4 per thread, bias index i mod C/4.
 * - Sum over a run of axes that does not include the last (the bias gradients: all axes but the
 *   channels; the merge's sum over a group's C patches, src/lib/physics/forward.ts): tfjs' reduce
 *   transposes the whole tensor so that the reduced axes come last, then reduces; here x is read as
 *   [outer, R, inner] and summed over R in slices (vec4 over inner), with a second small pass over the
 *   slices where there is more than one.
 * - ResizeNearestNeighborGrad for an exact 2x upsampling (the decoder's UpSampling2D): each dx pixel
 *   is the sum of its 2 x 2 dy block (vec4 over C), where tfjs' program searches a window per pixel.
 *
 * Every kernel falls back to tfjs' own for any other shape or attribute.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { FlatProgram, i32 } from './webgpu-program';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

class BiasAddProgram extends FlatProgram {
  constructor(shape: number[]) {
    super({ key: 'ptycho_bias_add', outputShape: shape, inputs: ['X', 'b'], uniforms: 'n4 : i32, c4 : i32,', threads: tf.util.sizeFromShape(shape) / 4 });
  }

  getUserCode(): string {
    return `
      fn main(i : i32) {
        if (i < uniforms.n4) { result[i] = X[i] + b[i % uniforms.c4]; }
      }
    `;
  }
}

/**
 * Sums over the middle axis of [outer, R, inner] (vec4 over inner) in `slices` slices of R:
 * output [slices, outer, inner].
 */
class AxisSumProgram extends FlatProgram {
  constructor(slices: number, outer: number, inner: number) {
    super({
      key: 'ptycho_axis_sum', outputShape: [slices, outer, inner], inputs: ['X'],
      uniforms: 'rows : i32, outer : i32, c4 : i32, perSlice : i32, threads : i32,', threads: (slices * outer * inner) / 4,
    });
  }

  getUserCode(): string {
    return `
      fn main(i : i32) {
        if (i >= uniforms.threads) { return; }
        let c = i % uniforms.c4;
        var q = i / uniforms.c4;
        let o = q % uniforms.outer;
        let s = q / uniforms.outer;
        let r0 = s * uniforms.perSlice;
        let r1 = min(uniforms.rows, r0 + uniforms.perSlice);
        let base = o * uniforms.rows * uniforms.c4 + c;
        var a0 = vec4<f32>(0.0);
        var a1 = vec4<f32>(0.0);
        var r = r0;
        for (; r + 1 < r1; r += 2) {
          a0 = a0 + X[base + r * uniforms.c4];
          a1 = a1 + X[base + (r + 1) * uniforms.c4];
        }
        if (r < r1) { a0 = a0 + X[base + r * uniforms.c4]; }
        result[i] = a0 + a1;
      }
    `;
  }
}

/** dx[b,y,x,:] = Σ of dy's 2x2 block at (2y, 2x) (vec4 over C). */
class Upsample2GradProgram extends FlatProgram {
  constructor(shape: number[]) {
    super({ key: 'ptycho_upsample2_grad', outputShape: shape, inputs: ['dy'], uniforms: 'H : i32, W : i32, c4 : i32, threads : i32,', threads: tf.util.sizeFromShape(shape) / 4 });
  }

  getUserCode(): string {
    return `
      fn main(i : i32) {
        if (i >= uniforms.threads) { return; }
        let c = i % uniforms.c4;
        var r = i / uniforms.c4;
        let x = r % uniforms.W;
        r = r / uniforms.W;
        let y = r % uniforms.H;
        let b = r / uniforms.H;
        let row = uniforms.W * 2 * uniforms.c4;
        let p = ((b * uniforms.H * 2 + y * 2) * uniforms.W * 2 + x * 2) * uniforms.c4 + c;
        result[i] = (dy[p] + dy[p + uniforms.c4]) + (dy[p + row] + dy[p + row + uniforms.c4]);
      }
    `;
  }
}

// ---------------------------------------------------------------------------------------------

/** [..., C] + [C] (either order; the bias may carry leading 1s), float32, C a multiple of 4. */
function biasAddOperands(a: tf.TensorInfo, b: tf.TensorInfo): { x: tf.TensorInfo; bias: tf.TensorInfo } | null {
  for (const [x, bias] of [[a, b], [b, a]] as const) {
    if (x.dtype !== 'float32' || bias.dtype !== 'float32' || x.shape.length < 2) continue;
    const C = x.shape[x.shape.length - 1];
    if (C % 4 !== 0 || bias.shape.length > x.shape.length) continue;
    if (bias.shape.length === 0 || bias.shape[bias.shape.length - 1] !== C || tf.util.sizeFromShape(bias.shape) !== C) continue;
    if (tf.util.sizeFromShape(x.shape) === C) continue; // same size: not a broadcast
    return { x, bias };
  }
  return null;
}

export function runBiasAdd(backend: WebGPUBackend, x: tf.TensorInfo, bias: tf.TensorInfo): tf.TensorInfo {
  const C = x.shape[x.shape.length - 1];
  const n4 = tf.util.sizeFromShape(x.shape) / 4;
  return backend.runWebGPUProgram(new BiasAddProgram([...x.shape]), [x, { ...bias, shape: [C] }], 'float32', [i32(n4), i32(C / 4)]);
}

/** Slices of R for a sum over [outer, R, inner]: enough threads for every core, at most two passes. */
function sumSlices(outer: number, R: number, inner: number): number {
  const want = Math.ceil(2048 / ((outer * inner) / 4));
  return Math.max(1, Math.min(want, Math.ceil(R / 16)));
}

/** Σ over the middle axis of x viewed as [outer, R, inner] (inner a multiple of 4): [outer, inner]. */
export function runAxisSum(backend: WebGPUBackend, x: tf.TensorInfo, outer: number, R: number, inner: number): tf.TensorInfo {
  const pass = (input: tf.TensorInfo, o: number, rows: number, n: number, slices: number): tf.TensorInfo => {
    const perSlice = Math.ceil(rows / slices);
    const threads = (slices * o * n) / 4;
    return backend.runWebGPUProgram(new AxisSumProgram(slices, o, n), [{ ...input, shape: [o, rows, n] }], 'float32',
      [i32(rows), i32(o), i32(n / 4), i32(perSlice), i32(threads)]);
  };
  const slices = sumSlices(outer, R, inner);
  const partial = pass(x, outer, R, inner, slices);
  if (slices === 1) return { ...partial, shape: [outer, inner] };
  const total = pass(partial, 1, slices, outer * inner, 1);
  backend.disposeData(partial.dataId);
  return { ...total, shape: [outer, inner] };
}

export function runUpsample2Grad(backend: WebGPUBackend, dy: tf.TensorInfo, outShape: number[]): tf.TensorInfo {
  const [, H, W, C] = outShape;
  const threads = tf.util.sizeFromShape(outShape) / 4;
  return backend.runWebGPUProgram(new Upsample2GradProgram(outShape), [dy], 'float32', [i32(H), i32(W), i32(C / 4), i32(threads)]);
}

// ---------------------------------------------------------------------------------------------
// Registration

const originals = new Map<string, tf.KernelConfig>();
let enabled = () => true;

function original(name: string, args: KernelArgs): tf.TensorInfo {
  return originals.get(name)!.kernelFunc(args as never) as tf.TensorInfo;
}

function add(args: KernelArgs): tf.TensorInfo {
  const ops = enabled() ? biasAddOperands(args.inputs['a'] as tf.TensorInfo, args.inputs['b'] as tf.TensorInfo) : null;
  if (!ops) return original('Add', args);
  return runBiasAdd(args.backend as WebGPUBackend, ops.x, ops.bias);
}

function sum(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs['x'] as tf.TensorInfo;
  const attrs = (args.attrs ?? {}) as { axis?: number | number[]; keepDims?: boolean };
  const shape = x.shape;
  const axes = attrs.axis === undefined ? null : tf.util.parseAxisParam(attrs.axis, shape).sort((p, q) => p - q);
  // A run of consecutive axes a0..a1, not the last one: x is [outer, R, inner] with inner > 1.
  const contiguous = axes !== null && axes.length > 0 && axes.every((a, i) => a === axes[0] + i) && axes[axes.length - 1] < shape.length - 1;
  if (!enabled() || !contiguous || x.dtype !== 'float32' || tf.util.sizeFromShape(shape) === 0) return original('Sum', args);
  const a0 = axes![0];
  const a1 = axes![axes!.length - 1];
  const outer = tf.util.sizeFromShape(shape.slice(0, a0));
  const R = tf.util.sizeFromShape(shape.slice(a0, a1 + 1));
  const inner = tf.util.sizeFromShape(shape.slice(a1 + 1));
  if (inner % 4 !== 0) return original('Sum', args);
  const out = runAxisSum(args.backend as WebGPUBackend, x, outer, R, inner);
  const kept = shape.map((d, i) => (i >= a0 && i <= a1 ? 1 : d));
  return { ...out, shape: attrs.keepDims ? kept : shape.filter((_, i) => i < a0 || i > a1) };
}

function resizeNearestNeighborGrad(args: KernelArgs): tf.TensorInfo {
  const images = args.inputs['images'] as tf.TensorInfo;
  const dy = args.inputs['dy'] as tf.TensorInfo;
  const attrs = (args.attrs ?? {}) as { alignCorners?: boolean; halfPixelCenters?: boolean };
  const [B, H, W, C] = images.shape;
  const ok = enabled() && !attrs.alignCorners && !attrs.halfPixelCenters && dy.dtype === 'float32' && images.shape.length === 4 &&
    C % 4 === 0 && dy.shape[0] === B && dy.shape[1] === 2 * H && dy.shape[2] === 2 * W && dy.shape[3] === C;
  if (!ok) return original('ResizeNearestNeighborGrad', args);
  return runUpsample2Grad(args.backend as WebGPUBackend, dy, [B, H, W, C]);
}

const FUNCS: Record<string, (a: KernelArgs) => tf.TensorInfo> = { Add: add, Sum: sum, ResizeNearestNeighborGrad: resizeNearestNeighborGrad };

/** Register the three kernels for 'webgpu' (idempotent); `isOn` is read at every call. */
export function installWebGpuOpKernels(isOn: () => boolean = () => true): void {
  enabled = isOn;
  for (const [name, f] of Object.entries(FUNCS)) {
    if (originals.has(name)) continue;
    const current = tf.getKernel(name, 'webgpu');
    if (current === undefined) throw new Error(`the WebGPU backend has no ${name} kernel to replace`);
    originals.set(name, current);
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel({ kernelName: name, backendName: 'webgpu', kernelFunc: f as unknown as tf.KernelFunc });
  }
}

/** Put tfjs' own kernels back. */
export function uninstallWebGpuOpKernels(): void {
  for (const [name, config] of originals) {
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel(config);
  }
  originals.clear();
}
