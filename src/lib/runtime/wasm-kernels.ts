/**
 * Training kernels for the tfjs WASM backend (the browser's training worker, the CLI and `npm run bench:train`).
 *
 * tfjs-backend-wasm 4.22 runs Conv2D through XNNPACK (SIMD) at 12–21 GFLOP/s on one core of this
 * machine, against about 0.3 GFLOP/s for the pure-JavaScript CPU backend, but it cannot train a
 * convolution: it has no Conv2DBackpropFilter kernel, and its Conv2DBackpropInput is a plain loop
 * (0.5–2.3 GFLOP/s). Both gradients are rewritten here in terms of the backend's own fast kernels:
 *
 *   dx = conv2d_valid(pad(dy, kh−1−top, kh−1−bottom, kw−1−left, kw−1−right), flip(W)ᵀ)   (W flipped in
 *        both spatial axes, in/out channels swapped): one XNNPACK convolution;
 *   dW = conv2d_valid(xpad as (ci, Hp, Wp, B), dy as (outH, outW, B, co)), transposed to
 *        (kh, kw, ci, co): one XNNPACK convolution with the roles of batch and channels swapped and
 *        dy as the filter (xpad = x with the forward pads; see backpropFilter). (It replaced one
 *        matrix product per filter tap on sliced windows: the backend's Slice copies in JavaScript,
 *        3x slower in Chromium than in Node.)
 *
 * Only stride 1, dilation 1, NHWC (everything PtychoPINN's generator uses); anything else goes to the
 * backend's original kernel (Conv2DBackpropInput) or fails with a clear message (Conv2DBackpropFilter,
 * which the backend does not have at all). Intermediates are created and released through the
 * backend's kernels, as tfjs' own composite kernels do, so the engine's tensor count is unaffected.
 *
 * This module does not import the WASM backend: whoever uses it registers the backend
 * (src/lib/runtime/backend.ts imports '@tensorflow/tfjs-backend-wasm'; in the browser its .wasm files
 * come from our own origin, src/workers/wasm-assets.ts).
 */
import * as tf from '@tensorflow/tfjs';

interface WasmBackendLike {
  disposeData(dataId: object): boolean;
}

type Attrs = Record<string, unknown>;

function kernel(name: string): tf.KernelFunc {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`the WASM backend has no ${name} kernel`);
  return k.kernelFunc;
}

function run(name: string, inputs: tf.NamedTensorInfoMap, attrs: Attrs, backend: unknown): tf.TensorInfo {
  return kernel(name)({ inputs, backend: backend as never, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
}

/** The same data under another shape (no copy, no reference taken: never dispose a view). */
function view(t: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

interface ConvGeometry {
  B: number; inH: number; inW: number; ci: number; co: number; kh: number; kw: number; outH: number; outW: number;
  top: number; bottom: number; left: number; right: number;
}

/** Stride-1, dilation-1, channels-last geometry of a convolution, or a reason why it is not one. */
function geometry(xShape: number[], filterShape: number[], attrs: Attrs): ConvGeometry | string {
  const { strides, pad, dataFormat, dimRoundingMode } = attrs as {
    strides: number | [number, number]; pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding; dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  if (dataFormat === 'NCHW') return 'channels-first data';
  const info = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number],
    strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return `stride ${info.strideHeight}x${info.strideWidth}`;
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return `dilation ${info.dilationHeight}x${info.dilationWidth}`;
  const { top, bottom, left, right } = info.padInfo;
  const g: ConvGeometry = {
    B: info.batchSize, inH: info.inHeight, inW: info.inWidth, ci: info.inChannels, co: info.outChannels,
    kh: info.filterHeight, kw: info.filterWidth, outH: info.outHeight, outW: info.outWidth, top, bottom, left, right,
  };
  if (g.outH !== g.inH + top + bottom - g.kh + 1 || g.outW !== g.inW + left + right - g.kw + 1) return 'an output size that does not follow from the pads';
  if (top > g.kh - 1 || bottom > g.kh - 1 || left > g.kw - 1 || right > g.kw - 1) return 'pads wider than the filter';
  return g;
}

function padded(x: tf.TensorInfo, top: number, bottom: number, left: number, right: number, backend: unknown): { t: tf.TensorInfo; owned: boolean } {
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return { t: x, owned: false };
  return { t: run('PadV2', { x }, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 }, backend), owned: true };
}

let originalBackpropInput: tf.KernelConfig | undefined;

function backpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { backend } = args;
  const attrs = (args.attrs ?? {}) as Attrs;
  const dy = args.inputs['dy'] as tf.TensorInfo;
  const filter = args.inputs['filter'] as tf.TensorInfo;
  const g = geometry(attrs['inputShape'] as number[], filter.shape, attrs);
  if (typeof g === 'string') {
    // Its setup binds it to the wasm module it first saw; the backend may have been restarted since
    // (src/lib/runtime/choose.ts restarts it on another build), so bind it to this one.
    originalBackpropInput!.setupFunc?.(backend as never);
    return originalBackpropInput!.kernelFunc(args as never) as tf.TensorInfo;
  }
  const b = backend as WasmBackendLike;
  const flipped = run('Reverse', { x: filter }, { dims: [0, 1] }, backend);
  const swapped = run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] }, backend); // (kh, kw, co, ci)
  b.disposeData(flipped.dataId);
  const dyPad = padded(dy, g.kh - 1 - g.top, g.kh - 1 - g.bottom, g.kw - 1 - g.left, g.kw - 1 - g.right, backend);
  const dx = run('Conv2D', { x: dyPad.t, filter: swapped }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] }, backend);
  if (dyPad.owned) b.disposeData(dyPad.t.dataId);
  b.disposeData(swapped.dataId);
  return dx;
}

function backpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { backend } = args;
  const attrs = (args.attrs ?? {}) as Attrs;
  const x = args.inputs['x'] as tf.TensorInfo;
  const dy = args.inputs['dy'] as tf.TensorInfo;
  const filterShape = attrs['filterShape'] as number[];
  const g = geometry(x.shape, filterShape, attrs);
  if (typeof g === 'string') throw new Error(`Conv2DBackpropFilter on the WASM backend supports stride 1, dilation 1, NHWC only; got ${g}`);
  const b = backend as WasmBackendLike;
  const xPad = padded(x, g.top, g.bottom, g.left, g.right, backend);
  // dW as ONE convolution on the backend's own XNNPACK kernel, the roles swapped: images are the
  // input channels (ci), the batch is the channels (B), and dy is the filter, outH x outW wide:
  //   dW[a, c, i, o] = Σ_{b,y,x} xpad[b, y+a, x+c, i] · dy[b, y, x, o]
  //                  = conv2d_valid(xpad as (ci, Hp, Wp, B), dy as (outH, outW, B, co))[i, a, c, o].
  // No JavaScript copies: the backend's Slice is a JavaScript loop of typed-array copies, which cost
  // 3x more in Chromium than in Node (bench/run.ts --parts=profile); Transpose and Conv2D run in wasm.
  const xc = run('Transpose', { x: xPad.t }, { perm: [3, 1, 2, 0] }, backend); // (ci, Hp, Wp, B)
  if (xPad.owned) b.disposeData(xPad.t.dataId);
  const f = run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }, backend); // (outH, outW, B, co)
  let out: tf.TensorInfo;
  try {
    out = run('Conv2D', { x: xc, filter: f }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] }, backend); // (ci, kh, kw, co)
  } finally {
    b.disposeData(xc.dataId);
    b.disposeData(f.dataId);
  }
  const dW = run('Transpose', { x: out }, { perm: [1, 2, 0, 3] }, backend); // (kh, kw, ci, co)
  b.disposeData(out.dataId);
  return dW;
}

let installed = false;

/** Register the two gradient kernels on the WASM backend (idempotent). The backend must be registered. */
export function installWasmTrainingKernels(): void {
  if (installed) return;
  originalBackpropInput = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (!originalBackpropInput) throw new Error('the WASM backend is not registered (import @tensorflow/tfjs-backend-wasm first)');
  tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel({ kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: backpropInput as unknown as tf.KernelFunc });
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: backpropFilter as unknown as tf.KernelFunc });
  installed = true;
}
