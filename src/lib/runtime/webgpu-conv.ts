/**
 * Our WGSL convolution kernels for the tfjs WebGPU backend: the forward convolution (Conv2D and
 * FusedConv2D with bias and ReLU/linear), its input gradient (Conv2DBackpropInput) and its filter
 * gradient (Conv2DBackpropFilter), for what PtychoPINN's generator uses: NHWC, stride 1, dilation 1,
 * pads no wider than the filter, channel counts that are multiples of 4. Anything else goes to the
 * backend's own kernel. Chosen by the kernel profile of a Reference training step
 * (`npm run bench -- --only=webgpu --parts=profile`, docs/lab/2026-12-06-webgpu-kernels.md).
 *
 * All three are implicit GEMMs (no im2col buffer) with register tiles and no workgroup memory or
 * barriers:
 *
 *   forward      y[b,p,o]  = Σ_{ky,kx,i} x[b, p + (ky,kx) − pad, i] · W[ky,kx,i,o]
 *   input grad   dx[b,p,i] = Σ_{ky,kx,o} dy[b, p − (ky,kx) + pad, o] · W[ky,kx,i,o]
 *   filter grad  dW[ky,kx,i,o] = Σ_{b,p} x[b, p + (ky,kx) − pad, i] · dy[b,p,o]
 *
 * Each thread of the first two computes 8 neighbouring pixels of one row × 8 output channels (two
 * vec4s), reading the reduction channels four at a time (vec4 loads of the channels-last data); a
 * thread of the filter gradient computes 8 input × 16 output channels of one filter tap, looping over
 * the batch and the pixels where that tap lands inside the image (so its inner loop has no bounds
 * tests). The tiles were chosen by timing (bench/results/webgpu-tiles-2026-12-06.txt) and shrink to
 * fit channel counts they do not divide.
 * tfjs 4.22's `Conv2DDerFilterProgram` (tfjs-backend-webgpu `conv_backprop_webgpu.ts`) runs one
 * thread per filter weight with one scalar load of x and of dy per multiply-add and a bounds test per
 * pixel; its forward and input-gradient programs use workgroup memory and barriers, which a software
 * adapter such as SwiftShader runs as coroutines.
 *
 * The filter gradient can split its reduction over the batch (slices summed by the backend's Sum
 * kernel) so that a GPU gets enough threads; on a software adapter it does not (see
 * setFilterGradSplitTarget).
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { FlatProgram, i32 } from './webgpu-program';

type Attrs = Record<string, unknown>;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

interface Geometry {
  B: number; H: number; W: number; ci: number; co: number; kh: number; kw: number; outH: number; outW: number;
  top: number; left: number;
}

/** Stride-1, dilation-1, channels-last geometry with channels in fours, or why not. */
export function convGeometry(xShape: number[], filterShape: number[], attrs: Attrs): Geometry | string {
  const { strides, pad, dataFormat, dimRoundingMode, dilations } = attrs as {
    strides: number | [number, number]; pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
    dataFormat?: 'NHWC' | 'NCHW'; dimRoundingMode?: 'floor' | 'round' | 'ceil'; dilations?: number | [number, number];
  };
  if (dataFormat === 'NCHW') return 'channels-first data';
  const info = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number],
    strides, dilations ?? 1, pad, dimRoundingMode, false, 'channelsLast');
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return 'stride';
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return 'dilation';
  const { top, bottom, left, right } = info.padInfo;
  if (top > info.filterHeight - 1 || bottom > info.filterHeight - 1 || left > info.filterWidth - 1 || right > info.filterWidth - 1) return 'pads wider than the filter';
  if (info.inChannels % 4 !== 0 || info.outChannels % 4 !== 0) return 'channels not in fours';
  return {
    B: info.batchSize, H: info.inHeight, W: info.inWidth, ci: info.inChannels, co: info.outChannels,
    kh: info.filterHeight, kw: info.filterWidth, outH: info.outHeight, outW: info.outWidth, top, left,
  };
}

/**
 * Implicit-GEMM convolution over one row of `px` pixels × `ob` vec4s of output channels per thread.
 * mode 'forward': A = x [B,H,W,ci], F = W [kh,kw,ci,co], output [B,outH,outW,co] (+ bias, ReLU).
 * mode 'input': A = dy [B,outH,outW,co], F = W transposed to [kh,kw,co,ci], output dx [B,H,W,ci];
 * the taps are mirrored.
 */
class ConvProgram extends FlatProgram {
  private readonly mode: 'forward' | 'input';
  private readonly bias: boolean;
  private readonly relu: boolean;
  private readonly px: number;
  private readonly ob: number;

  constructor(mode: 'forward' | 'input', outShape: number[], bias: boolean, relu: boolean, px: number, ob: number) {
    const [B, H, W, C] = outShape;
    super({
      key: `ptycho_conv_${mode}_${bias}_${relu}_${px}_${ob}`, outputShape: outShape, inputs: bias ? ['A', 'F', 'bias'] : ['A', 'F'],
      uniforms: 'inH : i32, inW : i32, cin4 : i32, outH : i32, outW : i32, cout4 : i32, kh : i32, kw : i32, padT : i32, padL : i32, xTiles : i32, oTiles : i32, threads : i32,',
      threads: B * H * Math.ceil(W / px) * (C / 4 / ob),
    });
    this.variableComponents = bias ? [4, 4, 4] : [4, 4];
    this.mode = mode;
    this.bias = bias;
    this.relu = relu;
    this.px = px;
    this.ob = ob;
  }

  getUserCode(): string {
    const { px, ob } = this;
    const fwd = this.mode === 'forward';
    const J = Array.from({ length: px }, (_, j) => j);
    const Q = Array.from({ length: ob }, (_, q) => q);
    const acc = J.flatMap((j) => Q.map((q) => `var acc${j}_${q} = vec4<f32>(0.0);`)).join(' ');
    // Per tap: each pixel's input offset (clamped) and whether it lies inside the image.
    const tapSetup = J.map((j) => `
            let c${j} = cBase + ${j};
            let p${j} = rowBase + clamp(c${j}, 0, uniforms.inW - 1) * uniforms.cin4;
            let in${j} = c${j} >= 0 && c${j} < uniforms.inW;`).join('');
    const loads = J.map((j) => `
              let v${j} = select(vec4<f32>(0.0), A[p${j} + k4], in${j});`).join('');
    // F[ky,kx,4k+t, o4+q] for t = 0..3: vec4s over the output channels.
    const wLoads = Q.map((q) => [0, 1, 2, 3].map((t) => `let w${t}_${q} = F[wBase + (k4 * 4 + ${t}) * uniforms.cout4 + ${q}];`).join(' ')).join('\n              ');
    const fmas = J.flatMap((j) => Q.map((q) => `acc${j}_${q} = acc${j}_${q} + v${j}.x * w0_${q} + v${j}.y * w1_${q} + v${j}.z * w2_${q} + v${j}.w * w3_${q};`)).join('\n              ');
    const epilogue = J.flatMap((j) => Q.map((q) => {
      let v = `acc${j}_${q}`;
      if (this.bias) v = `(${v} + bias[o4 + ${q}])`;
      if (this.relu) v = `max(${v}, vec4<f32>(0.0))`;
      return `if (x0 + ${j} < uniforms.outW) { result[outBase + ${j} * uniforms.cout4 + ${q}] = ${v}; }`;
    })).join('\n        ');
    return `
      fn main(index : i32) {
        if (index >= uniforms.threads) { return; }
        let o4 = (index % uniforms.oTiles) * ${ob};
        var r = index / uniforms.oTiles;
        let xt = r % uniforms.xTiles;
        r = r / uniforms.xTiles;
        let y = r % uniforms.outH;
        let b = r / uniforms.outH;
        let x0 = xt * ${px};
        ${acc}
        for (var ky = 0; ky < uniforms.kh; ky++) {
          let yy = ${fwd ? 'y + ky - uniforms.padT' : 'y - ky + uniforms.padT'};
          if (yy < 0 || yy >= uniforms.inH) { continue; }
          let rowBase = (b * uniforms.inH + yy) * uniforms.inW * uniforms.cin4;
          for (var kx = 0; kx < uniforms.kw; kx++) {
            let cBase = ${fwd ? 'x0 + kx - uniforms.padL' : 'x0 - kx + uniforms.padL'};${tapSetup}
            let wBase = (ky * uniforms.kw + kx) * uniforms.cin4 * 4 * uniforms.cout4 + o4;
            for (var k4 = 0; k4 < uniforms.cin4; k4++) {${loads}
              ${wLoads}
              ${fmas}
            }
          }
        }
        let outBase = ((b * uniforms.outH + y) * uniforms.outW + x0) * uniforms.cout4 + o4;
        ${epilogue}
      }
    `;
  }
}

/** Register tiles of the forward and input-gradient kernels: pixels per thread, output vec4s per thread. */
let convTiles = { px: 8, ob: 2 };

/** Set the register tiles (the bench's experiments; docs/lab/2026-12-06-webgpu-kernels.md). */
export function setConvTiles(px: number, ob: number): void {
  convTiles = { px, ob };
}

/**
 * Filter gradient: one thread per (slice, tap, 4 input channels, 4·OB output channels), summing
 * over its batch slice and the pixels where the tap lands inside the image. Output
 * [SPLIT·kh·kw, ci, co] (vec4 over co).
 */
class FilterGradProgram extends FlatProgram {
  private readonly ib: number;
  private readonly ob: number;

  constructor(g: Geometry, split: number, ib: number, ob: number) {
    super({
      key: `ptycho_conv_filter_grad_${ib}_${ob}`, outputShape: [split * g.kh * g.kw, g.ci, g.co], inputs: ['X', 'DY'],
      uniforms: 'B : i32, H : i32, W : i32, ci4 : i32, outH : i32, outW : i32, co4 : i32, kw : i32, taps : i32, padT : i32, padL : i32, bPer : i32, oTiles : i32, iTiles : i32, threads : i32,',
      threads: split * g.kh * g.kw * (g.ci / 4 / ib) * (g.co / 4 / ob),
    });
    this.variableComponents = [4, 4];
    this.ib = ib;
    this.ob = ob;
  }

  getUserCode(): string {
    const { ib, ob } = this;
    const P = Array.from({ length: ib }, (_, p) => p);
    const Q = Array.from({ length: ob }, (_, q) => q);
    const T = [0, 1, 2, 3];
    const comp = ['x', 'y', 'z', 'w'];
    const accs = P.flatMap((p) => T.flatMap((t) => Q.map((q) => `var a${p}${t}_${q} = vec4<f32>(0.0);`))).join(' ');
    const xLoads = P.map((p) => `let xv${p} = X[xIdx + ${p}];`).join(' ');
    const dyLoads = Q.map((q) => `let d${q} = DY[dIdx + ${q}];`).join(' ');
    const fmas = P.flatMap((p) => T.flatMap((t) => Q.map((q) => `a${p}${t}_${q} = a${p}${t}_${q} + xv${p}.${comp[t]} * d${q};`))).join('\n              ');
    const stores = P.flatMap((p) => T.flatMap((t) => Q.map((q) => `result[outBase + ${p * 4 + t} * uniforms.co4 + ${q}] = a${p}${t}_${q};`))).join('\n        ');
    return `
      fn main(index : i32) {
        if (index >= uniforms.threads) { return; }
        let ot = index % uniforms.oTiles;
        var r = index / uniforms.oTiles;
        let it = r % uniforms.iTiles;
        r = r / uniforms.iTiles;
        let tap = r % uniforms.taps;
        let s = r / uniforms.taps;
        let o4 = ot * ${ob};
        let i4 = it * ${ib};
        let ky = tap / uniforms.kw;
        let kx = tap % uniforms.kw;
        let y0 = max(0, uniforms.padT - ky);
        let y1 = min(uniforms.outH, uniforms.H + uniforms.padT - ky);
        let x0 = max(0, uniforms.padL - kx);
        let x1 = min(uniforms.outW, uniforms.W + uniforms.padL - kx);
        let b0 = s * uniforms.bPer;
        let b1 = min(uniforms.B, b0 + uniforms.bPer);
        ${accs}
        for (var b = b0; b < b1; b++) {
          for (var y = y0; y < y1; y++) {
            var xIdx = ((b * uniforms.H + y + ky - uniforms.padT) * uniforms.W + x0 + kx - uniforms.padL) * uniforms.ci4 + i4;
            var dIdx = ((b * uniforms.outH + y) * uniforms.outW + x0) * uniforms.co4 + o4;
            for (var x = x0; x < x1; x++) {
              ${xLoads}
              ${dyLoads}
              ${fmas}
              xIdx += uniforms.ci4;
              dIdx += uniforms.co4;
            }
          }
        }
        let outBase = ((s * uniforms.taps + tap) * uniforms.ci4 * 4 + i4 * 4) * uniforms.co4 + o4;
        ${stores}
      }
    `;
  }
}

/** Register tiles of the filter gradient: input-channel vec4s and output-channel vec4s per thread. */
let filterTiles = { ib: 2, ob: 4 };

/** Set the filter gradient's register tiles (experiments; docs/lab/2026-12-06-webgpu-kernels.md). */
export function setFilterGradTiles(ib: number, ob: number): void {
  filterTiles = { ib, ob };
}

/** The largest tile up to `want` vec4s that divides `n4`. */
function fit(n4: number, want: number): number {
  let t = want;
  while (t > 1 && n4 % t !== 0) t--;
  return t;
}

/**
 * Threads the filter gradient aims for before it splits its batch reduction: none on a software
 * adapter (SwiftShader runs a few hundred threads on its cores already; a split would add a
 * dispatch), 65536 on a GPU (a GPU holds far more threads than one slice of the big layers has:
 * 1152 for the Reference encoder's 64->64 layer). The GPU figure is not measured here (no GPU in the
 * 2026-12-06 session); null: decide from the adapter.
 */
let splitTargetOverride: number | null = null;

/** Set the filter gradient's thread target (0: never split; null: from the adapter). For tests and the bench. */
export function setFilterGradSplitTarget(threads: number | null): void {
  splitTargetOverride = threads;
}

/** Whether tfjs' AdapterInfo names a software adapter (Dawn's SwiftShader, Mesa's llvmpipe, Windows' WARP). */
function softwareAdapter(backend: WebGPUBackend): boolean {
  const info = (backend as unknown as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo;
  return /swiftshader|llvmpipe|lavapipe|warp|software|cpu/i.test(`${info?.vendor ?? ''} ${info?.architecture ?? ''}`);
}

function filterGradSplit(backend: WebGPUBackend, g: Geometry, ib: number, ob: number): number {
  const target = splitTargetOverride ?? (softwareAdapter(backend) ? 0 : 65536);
  if (target <= 0) return 1;
  const threads = g.kh * g.kw * (g.ci / 4 / ib) * (g.co / 4 / ob);
  return Math.max(1, Math.min(g.B, Math.ceil(target / threads)));
}

// ---------------------------------------------------------------------------------------------
// Kernel functions

export function runConvForward(backend: WebGPUBackend, x: tf.TensorInfo, filter: tf.TensorInfo, bias: tf.TensorInfo | null, relu: boolean, g: Geometry): tf.TensorInfo {
  const outShape = [g.B, g.outH, g.outW, g.co];
  const { px } = convTiles;
  const ob = fit(g.co / 4, convTiles.ob);
  const program = new ConvProgram('forward', outShape, bias !== null, relu, px, ob);
  const xTiles = Math.ceil(g.outW / px);
  const threads = g.B * g.outH * xTiles * (g.co / 4 / ob);
  const uniforms = [g.H, g.W, g.ci / 4, g.outH, g.outW, g.co / 4, g.kh, g.kw, g.top, g.left, xTiles, g.co / 4 / ob, threads].map(i32);
  return backend.runWebGPUProgram(program, bias ? [x, filter, bias] : [x, filter], 'float32', uniforms);
}

export function runConvBackpropInput(backend: WebGPUBackend, dy: tf.TensorInfo, filter: tf.TensorInfo, g: Geometry): tf.TensorInfo {
  // The input gradient is the convolution of dy (outH x outW x co) with the mirrored taps of the
  // filter transposed to [kh,kw,co,ci]; its output is dx (H x W x ci). The transpose is one small
  // dispatch; reading the filter untransposed costs the kernel 2x on SwiftShader (strided reads).
  const transpose = tf.getKernel('Transpose', 'webgpu');
  if (!transpose) throw new Error('the WebGPU backend has no Transpose kernel');
  const ft = transpose.kernelFunc({ inputs: { x: filter }, backend: backend as never, attrs: { perm: [0, 1, 3, 2] } }) as tf.TensorInfo;
  const outShape = [g.B, g.H, g.W, g.ci];
  const { px } = convTiles;
  const ob = fit(g.ci / 4, convTiles.ob);
  const program = new ConvProgram('input', outShape, false, false, px, ob);
  const xTiles = Math.ceil(g.W / px);
  const threads = g.B * g.H * xTiles * (g.ci / 4 / ob);
  const uniforms = [g.outH, g.outW, g.co / 4, g.H, g.W, g.ci / 4, g.kh, g.kw, g.top, g.left, xTiles, g.ci / 4 / ob, threads].map(i32);
  const dx = backend.runWebGPUProgram(program, [dy, ft], 'float32', uniforms);
  backend.disposeData(ft.dataId);
  return dx;
}

export function runConvBackpropFilter(backend: WebGPUBackend, x: tf.TensorInfo, dy: tf.TensorInfo, g: Geometry): tf.TensorInfo {
  const ib = fit(g.ci / 4, filterTiles.ib);
  const ob = fit(g.co / 4, filterTiles.ob);
  const split = filterGradSplit(backend, g, ib, ob);
  const program = new FilterGradProgram(g, split, ib, ob);
  const bPer = Math.ceil(g.B / split);
  const oTiles = g.co / 4 / ob;
  const iTiles = g.ci / 4 / ib;
  const threads = split * g.kh * g.kw * iTiles * oTiles;
  const uniforms = [g.B, g.H, g.W, g.ci / 4, g.outH, g.outW, g.co / 4, g.kw, g.kh * g.kw, g.top, g.left, bPer, oTiles, iTiles, threads].map(i32);
  const out = backend.runWebGPUProgram(program, [x, dy], 'float32', uniforms);
  const filterShape = [g.kh, g.kw, g.ci, g.co];
  if (split === 1) return { dataId: out.dataId, shape: filterShape, dtype: 'float32' };
  const sumKernel = tf.getKernel('Sum', 'webgpu');
  if (!sumKernel) throw new Error('the WebGPU backend has no Sum kernel');
  const parts: tf.TensorInfo = { dataId: out.dataId, shape: [split, g.kh * g.kw * g.ci * g.co], dtype: 'float32' };
  const summed = sumKernel.kernelFunc({ inputs: { x: parts }, backend: backend as never, attrs: { axis: 0, keepDims: false } }) as tf.TensorInfo;
  backend.disposeData(out.dataId);
  return { dataId: summed.dataId, shape: filterShape, dtype: 'float32' };
}

// ---------------------------------------------------------------------------------------------
// Registration

const KERNELS = ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'] as const;
const originals = new Map<string, tf.KernelConfig>();
let enabled = () => true;

function original(name: string, args: KernelArgs): tf.TensorInfo {
  return originals.get(name)!.kernelFunc(args as never) as tf.TensorInfo;
}

function conv2D(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs['x'] as tf.TensorInfo;
  const filter = args.inputs['filter'] as tf.TensorInfo;
  const g = enabled() ? convGeometry(x.shape, filter.shape, (args.attrs ?? {}) as Attrs) : 'off';
  if (typeof g === 'string') return original('Conv2D', args);
  return runConvForward(args.backend as WebGPUBackend, x, filter, null, false, g);
}

function fusedConv2D(args: KernelArgs): tf.TensorInfo {
  const attrs = (args.attrs ?? {}) as Attrs;
  const x = args.inputs['x'] as tf.TensorInfo;
  const filter = args.inputs['filter'] as tf.TensorInfo;
  const bias = (args.inputs['bias'] as tf.TensorInfo | undefined) ?? null;
  const act = (attrs['activation'] as string | undefined) ?? 'linear';
  const ok = enabled() && (act === 'linear' || act === 'relu') && !args.inputs['preluActivationWeights'] &&
    (bias === null || (bias.shape.length === 1 && bias.shape[0] === filter.shape[3]));
  const g = ok ? convGeometry(x.shape, filter.shape, attrs) : 'unsupported';
  if (typeof g === 'string') return original('FusedConv2D', args);
  return runConvForward(args.backend as WebGPUBackend, x, filter, bias, act === 'relu', g);
}

function conv2DBackpropInput(args: KernelArgs): tf.TensorInfo {
  const attrs = (args.attrs ?? {}) as Attrs;
  const dy = args.inputs['dy'] as tf.TensorInfo;
  const filter = args.inputs['filter'] as tf.TensorInfo;
  const g = enabled() ? convGeometry(attrs['inputShape'] as number[], filter.shape, attrs) : 'off';
  if (typeof g === 'string') return original('Conv2DBackpropInput', args);
  return runConvBackpropInput(args.backend as WebGPUBackend, dy, filter, g);
}

function conv2DBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const attrs = (args.attrs ?? {}) as Attrs;
  const x = args.inputs['x'] as tf.TensorInfo;
  const dy = args.inputs['dy'] as tf.TensorInfo;
  const g = enabled() ? convGeometry(x.shape, attrs['filterShape'] as number[], attrs) : 'off';
  if (typeof g === 'string') return original('Conv2DBackpropFilter', args);
  return runConvBackpropFilter(args.backend as WebGPUBackend, x, dy, g);
}

const FUNCS: Record<(typeof KERNELS)[number], (a: KernelArgs) => tf.TensorInfo> = {
  Conv2D: conv2D, FusedConv2D: fusedConv2D, Conv2DBackpropInput: conv2DBackpropInput, Conv2DBackpropFilter: conv2DBackpropFilter,
};

/**
 * Register the four convolution kernels for 'webgpu' (idempotent); `isOn` is read at every call,
 * so a switch can send calls back to tfjs' kernels without re-registering.
 */
export function installWebGpuConvKernels(isOn: () => boolean = () => true): void {
  enabled = isOn;
  for (const name of KERNELS) {
    if (originals.has(name)) continue;
    const current = tf.getKernel(name, 'webgpu');
    if (current === undefined) throw new Error(`the WebGPU backend has no ${name} kernel to replace`);
    originals.set(name, current);
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel({ kernelName: name, backendName: 'webgpu', kernelFunc: FUNCS[name] as unknown as tf.KernelFunc });
  }
}

/** Put tfjs' own convolution kernels back. */
export function uninstallWebGpuConvKernels(): void {
  for (const [name, config] of originals) {
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel(config);
  }
  originals.clear();
}
