/**
 * A faster Conv2DBackpropFilter for the tfjs CPU backend (the fallback, docs/backends.md).
 *
 * tfjs-backend-cpu 4.22 computes the filter gradient through TensorBuffer.get(b, r, c, d) calls in
 * its innermost loop; profiling one training step of the N=32 generator showed ~95% of the step in
 * that one kernel (35 s of 37 s). This version does the same arithmetic with flat index offsets.
 * Every output element accumulates the same terms, in the same (batch, row, column) order, in a
 * float64 accumulator as the original does, so the results are bit-identical (a test checks that
 * against the original kernel). channelsFirst falls back to the original kernel.
 */
import * as tf from '@tensorflow/tfjs';

interface CpuBackendLike {
  data: { get(dataId: object): { values: ArrayLike<number> } };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): tf.TensorInfo;
}

interface BackpropFilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

let original: tf.KernelConfig | undefined;
let originalResizeGrad: tf.KernelConfig | undefined;
let installed = false;

/**
 * ResizeNearestNeighborGrad (the gradient of UpSampling2D) for the CPU backend. tfjs-backend-cpu 4.22
 * reads dy at `b · imagesStrides[0] + …`, i.e. with the INPUT's batch stride, so for batch > 1 every
 * sample after the first sums the wrong part of dy (found by test/e2e/backends.spec.ts: CPU and WebGPU
 * gradients disagreed by O(1); WebGPU matches the exact 2x2-block sum). This is the same algorithm with
 * dy's own batch stride; alignCorners as in tfjs (halfPixelCenters is ignored there too).
 */
function resizeNearestNeighborGrad(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as CpuBackendLike;
  const images = args.inputs['images'] as tf.TensorInfo;
  const dy = args.inputs['dy'] as tf.TensorInfo;
  const alignCorners = Boolean(args.attrs?.['alignCorners']);
  const [batch, xH, xW, depth] = images.shape;
  const [, yH, yW] = dy.shape;
  const dyv = backend.data.get(dy.dataId).values;
  const out = new Float32Array(batch * xH * xW * depth);
  const hScale = (alignCorners && yH > 1 ? xH - 1 : xH) / (alignCorners && yH > 1 ? yH - 1 : yH);
  const wScale = (alignCorners && yW > 1 ? xW - 1 : xW) / (alignCorners && yW > 1 ? yW - 1 : yW);
  // Every dy pixel goes to exactly one source pixel: the forward's nearest index (as the tfjs kernel).
  const srcRow = Int32Array.from({ length: yH }, (_, r) => Math.min(xH - 1, alignCorners ? Math.round(r * hScale) : Math.floor(r * hScale)));
  const srcCol = Int32Array.from({ length: yW }, (_, c) => Math.min(xW - 1, alignCorners ? Math.round(c * wScale) : Math.floor(c * wScale)));
  const acc = new Float64Array(out.length);
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < yH; r++) {
      for (let c = 0; c < yW; c++) {
        const o = ((b * xH + srcRow[r]) * xW + srcCol[c]) * depth;
        const i = ((b * yH + r) * yW + c) * depth;
        for (let d = 0; d < depth; d++) acc[o + d] += dyv[i + d];
      }
    }
  }
  for (let k = 0; k < out.length; k++) out[k] = acc[k];
  return backend.makeTensorInfo(images.shape, images.dtype, out);
}

function fastBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { inputs } = args;
  const backend = args.backend as CpuBackendLike;
  const attrs = args.attrs as unknown as BackpropFilterAttrs;
  const x = inputs['x'] as tf.TensorInfo;
  const dy = inputs['dy'] as tf.TensorInfo;
  const dataFormat = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat);
  if (dataFormat !== 'channelsLast' || x.dtype !== 'float32' || dy.dtype !== 'float32') {
    return (original!.kernelFunc as (a: typeof args) => tf.TensorInfo)(args);
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    dataFormat,
  );
  const { strideHeight: sH, strideWidth: sW, filterHeight: fH, filterWidth: fW } = info;
  const { batchSize: B, inHeight: inH, inWidth: inW, inChannels: inC, outHeight: outH, outWidth: outW, outChannels: outC } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const xv = backend.data.get(x.dataId).values;
  const dyv = backend.data.get(dy.dataId).values;
  const dW = new Float32Array(fH * fW * inC * outC);
  const acc = new Float64Array(inC * outC);
  for (let wR = 0; wR < fH; ++wR) {
    const yRMin = Math.max(0, Math.ceil((top - wR) / sH));
    const yRMax = Math.min(outH, (inH + top - wR) / sH);
    for (let wC = 0; wC < fW; ++wC) {
      const yCMin = Math.max(0, Math.ceil((left - wC) / sW));
      const yCMax = Math.min(outW, (inW + left - wC) / sW);
      acc.fill(0);
      for (let b = 0; b < B; ++b) {
        for (let yR = yRMin; yR < yRMax; ++yR) {
          const xR = wR + yR * sH - top;
          for (let yC = yCMin; yC < yCMax; ++yC) {
            const xC = wC + yC * sW - left;
            const xBase = ((b * inH + xR) * inW + xC) * inC;
            const dyBase = ((b * outH + yR) * outW + yC) * outC;
            for (let d1 = 0; d1 < inC; ++d1) {
              const xval = xv[xBase + d1];
              const aBase = d1 * outC;
              for (let d2 = 0; d2 < outC; ++d2) acc[aBase + d2] += xval * dyv[dyBase + d2];
            }
          }
        }
      }
      const base = (wR * fW + wC) * inC * outC;
      for (let k = 0; k < inC * outC; ++k) dW[base + k] = acc[k];
    }
  }
  return backend.makeTensorInfo(info.filterShape, 'float32', dW);
}

/**
 * Replace the CPU backend's Conv2DBackpropFilter by the flat-indexed version above, and its
 * ResizeNearestNeighborGrad by the corrected one (wrong for batch > 1 in tfjs 4.22). Idempotent.
 * Affects only the 'cpu' backend; WebGPU/WebGL kernels are untouched.
 */
export function installFastCpuKernels(): void {
  if (installed) return;
  const k = tf.getKernel('Conv2DBackpropFilter', 'cpu');
  if (!k) return; // CPU backend not registered in this bundle
  original = k;
  tf.unregisterKernel('Conv2DBackpropFilter', 'cpu');
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'cpu', kernelFunc: fastBackpropFilter as unknown as tf.KernelFunc });
  originalResizeGrad = tf.getKernel('ResizeNearestNeighborGrad', 'cpu');
  if (originalResizeGrad) tf.unregisterKernel('ResizeNearestNeighborGrad', 'cpu');
  tf.registerKernel({ kernelName: 'ResizeNearestNeighborGrad', backendName: 'cpu', kernelFunc: resizeNearestNeighborGrad as unknown as tf.KernelFunc });
  installed = true;
}

/** The kernel function tfjs shipped, for comparison in tests (undefined before install). */
export function originalBackpropFilter(): tf.KernelFunc | undefined {
  return original?.kernelFunc;
}
