import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { installFastCpuKernels, originalBackpropFilter } from '../../../src/lib/runtime/cpu-kernels';

beforeAll(async () => {
  await tf.setBackend('cpu');
  installFastCpuKernels();
});

describe('fast CPU Conv2DBackpropFilter', () => {
  it('is bit-identical to the tfjs kernel it replaces (same, valid, stride 1 and 2)', () => {
    const orig = originalBackpropFilter();
    expect(orig).toBeDefined();
    const cases: Array<{ x: [number, number, number, number]; f: [number, number, number, number]; s: number; pad: 'same' | 'valid' }> = [
      { x: [2, 9, 7, 3], f: [3, 3, 3, 5], s: 1, pad: 'same' },
      { x: [3, 8, 8, 2], f: [3, 3, 2, 4], s: 2, pad: 'same' },
      { x: [1, 6, 5, 4], f: [2, 3, 4, 3], s: 1, pad: 'valid' },
    ];
    for (const c of cases) {
      const x = tf.randomNormal(c.x, 0, 1, 'float32', 1) as tf.Tensor4D;
      const f = tf.randomNormal(c.f, 0, 1, 'float32', 2) as tf.Tensor4D;
      const y = tf.conv2d(x, f, c.s, c.pad);
      const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 3) as tf.Tensor4D;
      // the filter gradient of conv2d dispatches to the (installed) Conv2DBackpropFilter kernel
      const g = tf.grad((ff: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, ff as tf.Tensor4D, c.s, c.pad), dy)))(f);
      const backend = tf.backend();
      const info = orig!({
        inputs: { x, dy },
        backend,
        attrs: { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined as unknown as string, filterShape: c.f },
      }) as tf.TensorInfo;
      const ref = tf.engine().makeTensorFromTensorInfo(info);
      expect(Array.from(g.dataSync())).toEqual(Array.from(ref.dataSync()));
      tf.dispose([x, f, y, dy, g, ref]);
    }
  });
});

describe('CPU ResizeNearestNeighborGrad (UpSampling2D gradient)', () => {
  it('sums dy over each 2x2 block for every sample of a batch (tfjs 4.22 used the wrong batch stride)', () => {
    for (const [b, h, c] of [[1, 4, 3], [3, 4, 2], [2, 8, 5]]) {
      const x = tf.zeros([b, h, h, c]) as tf.Tensor4D;
      const wv = Float32Array.from({ length: b * 4 * h * h * c }, (_, i) => ((i * 7919) % 101) - 50);
      const w = tf.tensor4d(wv, [b, 2 * h, 2 * h, c]);
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(a as tf.Tensor4D, [2 * h, 2 * h]), w)))(x).dataSync();
      for (let bb = 0; bb < b; bb++) for (let i = 0; i < h; i++) for (let j = 0; j < h; j++) for (let cc = 0; cc < c; cc++) {
        let s = 0;
        for (const di of [0, 1]) for (const dj of [0, 1]) s += wv[((bb * 2 * h + 2 * i + di) * 2 * h + 2 * j + dj) * c + cc];
        expect(g[((bb * h + i) * h + j) * c + cc]).toBe(s);
      }
      tf.dispose([x, w]);
    }
  });
});
