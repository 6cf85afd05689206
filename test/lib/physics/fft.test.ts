import { describe, expect, it } from 'vitest';
import { fft2, getFftPlan } from '../../../src/lib/physics/fft';

/** The definition, summed directly: X_k = Σ_j x_j e^{−2πi jk/n}. */
function dft(re: Float64Array, im: Float64Array): [Float64Array, Float64Array] {
  const n = re.length;
  const xr = new Float64Array(n), xi = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < n; j++) {
      const a = (-2 * Math.PI * ((j * k) % n)) / n;
      xr[k] += re[j] * Math.cos(a) - im[j] * Math.sin(a);
      xi[k] += re[j] * Math.sin(a) + im[j] * Math.cos(a);
    }
  }
  return [xr, xi];
}

let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;

describe('the one CPU FFT (radix-2, mixed radix, Bluestein)', () => {
  // 1, powers of two (radix-2), small-prime composites (mixed radix), a large prime (Bluestein).
  for (const n of [1, 2, 8, 64, 128, 12, 196, 97, 131]) {
    it(`length ${n}, strided inside a larger buffer, equals the summed definition`, () => {
      const stride = 3, off = 2;
      const re = new Float64Array(off + n * stride + 1).map(rand), im = new Float64Array(re.length).map(rand);
      const x = Float64Array.from({ length: n }, (_, k) => re[off + k * stride]);
      const y = Float64Array.from({ length: n }, (_, k) => im[off + k * stride]);
      const [er, ei] = dft(x, y);
      const before = Float64Array.from(re);
      getFftPlan(n).forward(re, im, off, stride);
      const scale = Math.max(1, ...er.map(Math.abs), ...ei.map(Math.abs));
      for (let k = 0; k < n; k++) {
        expect(Math.abs(re[off + k * stride] - er[k]) / scale).toBeLessThan(1e-12);
        expect(Math.abs(im[off + k * stride] - ei[k]) / scale).toBeLessThan(1e-12);
      }
      // Values between the strided ones are untouched.
      expect(re[off + 1]).toBe(before[off + 1]);
    });
  }

  it('fft2 of a 8 x 12 field is rows then columns of the definition (numpy.fft.fft2)', () => {
    const h = 8, w = 12;
    const re = new Float64Array(h * w).map(rand), im = new Float64Array(h * w).map(rand);
    const er = Float64Array.from(re), ei = Float64Array.from(im);
    for (let r = 0; r < h; r++) {
      const [a, b] = dft(er.slice(r * w, r * w + w), ei.slice(r * w, r * w + w));
      er.set(a, r * w); ei.set(b, r * w);
    }
    for (let c = 0; c < w; c++) {
      const [a, b] = dft(Float64Array.from({ length: h }, (_, r) => er[r * w + c]), Float64Array.from({ length: h }, (_, r) => ei[r * w + c]));
      for (let r = 0; r < h; r++) { er[r * w + c] = a[r]; ei[r * w + c] = b[r]; }
    }
    fft2(re, im, h, w);
    for (let i = 0; i < h * w; i++) {
      expect(re[i]).toBeCloseTo(er[i], 10);
      expect(im[i]).toBeCloseTo(ei[i], 10);
    }
  });
});
