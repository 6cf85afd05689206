/**
 * Plain CPU FFT for the simulator (model spec 6 row 9: no gradients needed there).
 * Iterative radix-2 for powers of two, a direct O(n²) DFT otherwise. Float64 throughout.
 */

const twiddleCache = new Map<number, { cos: Float64Array; sin: Float64Array; rev: Uint32Array }>();

function plan(n: number) {
  let p = twiddleCache.get(n);
  if (p) return p;
  const cos = new Float64Array(n / 2);
  const sin = new Float64Array(n / 2);
  for (let k = 0; k < n / 2; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = Math.sin((2 * Math.PI * k) / n);
  }
  const rev = new Uint32Array(n);
  let bits = 0;
  while (1 << bits < n) bits++;
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) if (i & (1 << b)) r |= 1 << (bits - 1 - b);
    rev[i] = r;
  }
  p = { cos, sin, rev };
  twiddleCache.set(n, p);
  return p;
}

const isPow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;

/** Forward DFT (kernel e^{−2πi kn/n}, unnormalised) of n values at re[off + k·stride], in place. */
export function fft1dInPlace(re: Float64Array, im: Float64Array, n: number, off = 0, stride = 1): void {
  if (!isPow2(n)) {
    const tr = new Float64Array(n);
    const ti = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      let sr = 0;
      let si = 0;
      for (let j = 0; j < n; j++) {
        const a = (-2 * Math.PI * ((k * j) % n)) / n;
        const c = Math.cos(a);
        const s = Math.sin(a);
        const xr = re[off + j * stride];
        const xi = im[off + j * stride];
        sr += xr * c - xi * s;
        si += xr * s + xi * c;
      }
      tr[k] = sr;
      ti[k] = si;
    }
    for (let k = 0; k < n; k++) {
      re[off + k * stride] = tr[k];
      im[off + k * stride] = ti[k];
    }
    return;
  }
  const { cos, sin, rev } = plan(n);
  for (let i = 0; i < n; i++) {
    const j = rev[i];
    if (j > i) {
      const a = off + i * stride;
      const b = off + j * stride;
      let t = re[a];
      re[a] = re[b];
      re[b] = t;
      t = im[a];
      im[a] = im[b];
      im[b] = t;
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1;
    const step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step];
        const wi = -sin[k * step];
        const a = off + (start + k) * stride;
        const b = off + (start + k + half) * stride;
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}

/** In-place unnormalised 2-D DFT of a row-major H x W field. */
export function fft2d(re: Float64Array, im: Float64Array, H: number, W: number): void {
  for (let r = 0; r < H; r++) fft1dInPlace(re, im, W, r * W, 1);
  for (let c = 0; c < W; c++) fft1dInPlace(re, im, H, c, W);
}

/**
 * fftshift(|DFT2 Ψ|²)/N² (model spec 2.8) of an N x N field; inputs are not modified.
 * `out` (length N²) may be passed to avoid an allocation.
 */
export function farFieldIntensityCpu(re: ArrayLike<number>, im: ArrayLike<number>, N: number, out?: Float64Array): Float64Array {
  const fr = Float64Array.from(re as ArrayLike<number>);
  const fi = Float64Array.from(im as ArrayLike<number>);
  fft2d(fr, fi, N, N);
  const I = out ?? new Float64Array(N * N);
  const h = N / 2;
  const inv = 1 / (N * N);
  for (let k = 0; k < N; k++) {
    const ks = (k + h) % N; // fftshift: DC to (N/2, N/2) for even N
    for (let l = 0; l < N; l++) {
      const ls = (l + h) % N;
      const i = k * N + l;
      I[ks * N + ls] = (fr[i] * fr[i] + fi[i] * fi[i]) * inv;
    }
  }
  return I;
}
