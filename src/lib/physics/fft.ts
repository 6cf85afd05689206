/**
 * The CPU FFT of the project (float64; no gradients: the simulator, the benchmark's objects and the
 * evaluation's FRC, `diffsim.py:79-86`): a forward complex FFT of any length (kernel e^{−2πi jk/n},
 * unnormalised, like numpy.fft.fft). Iterative radix-2 for powers of two; mixed radix (kissfft-style
 * decimation in time: a radix-2 butterfly and a generic one for odd primes) when every prime factor
 * is small; Bluestein's chirp-z otherwise (whose inner FFT is a power of two). Plans are cached.
 * Also the far-field intensity of the forward model on the CPU.
 */

export interface FftPlan {
  readonly n: number;
  /** In place on re/im[off + k·stride], k < n. */
  forward(re: Float64Array, im: Float64Array, off?: number, stride?: number): void;
}

const MAX_DIRECT_PRIME = 61;

function factorize(n: number): number[] {
  const f: number[] = [];
  let m = n;
  while (m % 2 === 0) {
    f.push(2);
    m /= 2;
  }
  for (let p = 3; p * p <= m; p += 2) {
    while (m % p === 0) {
      f.push(p);
      m /= p;
    }
  }
  if (m > 1) f.push(m);
  return f;
}

class MixedRadixPlan implements FftPlan {
  readonly n: number;
  private readonly factors: number[]; // pairs (p, m): radix and remaining length
  private readonly twr: Float64Array;
  private readonly twi: Float64Array;
  private readonly ir: Float64Array;
  private readonly ii: Float64Array;
  private readonly or: Float64Array;
  private readonly oi: Float64Array;
  private readonly sr: Float64Array;
  private readonly si: Float64Array;

  constructor(n: number, primes: number[]) {
    this.n = n;
    this.factors = [];
    let m = n;
    for (const p of primes) {
      m /= p;
      this.factors.push(p, m);
    }
    this.twr = new Float64Array(n);
    this.twi = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const a = (-2 * Math.PI * k) / n;
      this.twr[k] = Math.cos(a);
      this.twi[k] = Math.sin(a);
    }
    this.ir = new Float64Array(n);
    this.ii = new Float64Array(n);
    this.or = new Float64Array(n);
    this.oi = new Float64Array(n);
    const pmax = Math.max(2, ...primes);
    this.sr = new Float64Array(pmax);
    this.si = new Float64Array(pmax);
  }

  forward(re: Float64Array, im: Float64Array, off = 0, stride = 1): void {
    const { n, ir, ii, or, oi } = this;
    if (n === 1) return;
    for (let k = 0; k < n; k++) {
      ir[k] = re[off + k * stride];
      ii[k] = im[off + k * stride];
    }
    this.work(0, 0, 1, 0);
    for (let k = 0; k < n; k++) {
      re[off + k * stride] = or[k];
      im[off + k * stride] = oi[k];
    }
  }

  private work(oOff: number, iOff: number, fstride: number, fi: number): void {
    const { ir, ii, or, oi, twr, twi, n } = this;
    const p = this.factors[fi];
    const m = this.factors[fi + 1];
    if (m === 1) {
      for (let q = 0; q < p; q++) {
        or[oOff + q] = ir[iOff + q * fstride];
        oi[oOff + q] = ii[iOff + q * fstride];
      }
    } else {
      for (let q = 0; q < p; q++) this.work(oOff + q * m, iOff + q * fstride, fstride * p, fi + 2);
    }
    if (p === 2) {
      for (let u = 0; u < m; u++) {
        const a = oOff + u;
        const b = a + m;
        const wr = twr[u * fstride];
        const wi = twi[u * fstride];
        const xr = or[b] * wr - oi[b] * wi;
        const xi = or[b] * wi + oi[b] * wr;
        or[b] = or[a] - xr;
        oi[b] = oi[a] - xi;
        or[a] += xr;
        oi[a] += xi;
      }
      return;
    }
    // odd prime p: pre-twiddle t_q = Y_q[u]·W_N^{fstride·u·q}, then a p-point DFT that pairs q with
    // p − q (W_p^{qs} and W_p^{−qs} are conjugates), about half the multiplies of the direct sum
    const { sr, si } = this;
    const half = (p - 1) / 2;
    const pstep = n / p; // W_p^j = W_N^{j·N/p}
    for (let u = 0; u < m; u++) {
      sr[0] = or[oOff + u];
      si[0] = oi[oOff + u];
      const step = (fstride * u) % n;
      let tw = 0;
      for (let q = 1; q < p; q++) {
        tw += step;
        if (tw >= n) tw -= n;
        const xr = or[oOff + u + q * m];
        const xi = oi[oOff + u + q * m];
        sr[q] = xr * twr[tw] - xi * twi[tw];
        si[q] = xr * twi[tw] + xi * twr[tw];
      }
      let x0r = sr[0];
      let x0i = si[0];
      for (let q = 1; q < p; q++) {
        x0r += sr[q];
        x0i += si[q];
      }
      or[oOff + u] = x0r;
      oi[oOff + u] = x0i;
      for (let s = 1; s <= half; s++) {
        let ar = sr[0];
        let ai = si[0];
        let br = sr[0];
        let bi = si[0];
        let j = 0;
        for (let q = 1; q <= half; q++) {
          j += s;
          if (j >= p) j -= p;
          const c = twr[j * pstep]; // cos(2π qs/p)
          const sn = -twi[j * pstep]; // sin(2π qs/p)
          const pr = sr[q] + sr[p - q];
          const pi = si[q] + si[p - q];
          const mr = sr[q] - sr[p - q];
          const mi = si[q] - si[p - q];
          // X_s += (t_q + t_{p−q})·c − i·sn·(t_q − t_{p−q});  X_{p−s} += (…)·c + i·sn·(…)
          ar += pr * c + sn * mi;
          ai += pi * c - sn * mr;
          br += pr * c - sn * mi;
          bi += pi * c + sn * mr;
        }
        or[oOff + u + s * m] = ar;
        oi[oOff + u + s * m] = ai;
        or[oOff + u + (p - s) * m] = br;
        oi[oOff + u + (p - s) * m] = bi;
      }
    }
  }
}

class BluesteinPlan implements FftPlan {
  readonly n: number;
  private readonly m: number;
  private readonly inner: FftPlan;
  private readonly wr: Float64Array; // chirp e^{−iπk²/n}
  private readonly wi: Float64Array;
  private readonly br: Float64Array; // FFT of the conjugate chirp, wrapped to length m, divided by m
  private readonly bi: Float64Array;
  private readonly ar: Float64Array;
  private readonly ai: Float64Array;

  constructor(n: number) {
    this.n = n;
    let m = 1;
    while (m < 2 * n - 1) m *= 2;
    this.m = m;
    this.inner = getFftPlan(m);
    this.wr = new Float64Array(n);
    this.wi = new Float64Array(n);
    const n2 = 2 * n;
    for (let k = 0; k < n; k++) {
      const k2 = (k * k) % n2; // exact for n < 2^26
      const a = (-Math.PI * k2) / n;
      this.wr[k] = Math.cos(a);
      this.wi[k] = Math.sin(a);
    }
    this.br = new Float64Array(m);
    this.bi = new Float64Array(m);
    for (let k = 0; k < n; k++) {
      this.br[k] = this.wr[k];
      this.bi[k] = -this.wi[k];
      if (k > 0) {
        this.br[m - k] = this.wr[k];
        this.bi[m - k] = -this.wi[k];
      }
    }
    this.inner.forward(this.br, this.bi);
    for (let k = 0; k < m; k++) {
      this.br[k] /= m;
      this.bi[k] /= m;
    }
    this.ar = new Float64Array(m);
    this.ai = new Float64Array(m);
  }

  forward(re: Float64Array, im: Float64Array, off = 0, stride = 1): void {
    const { n, m, wr, wi, br, bi, ar, ai } = this;
    ar.fill(0);
    ai.fill(0);
    for (let k = 0; k < n; k++) {
      const xr = re[off + k * stride];
      const xi = im[off + k * stride];
      ar[k] = xr * wr[k] - xi * wi[k];
      ai[k] = xr * wi[k] + xi * wr[k];
    }
    this.inner.forward(ar, ai);
    // pointwise product, then inverse FFT as conj(FFT(conj(·)))
    for (let k = 0; k < m; k++) {
      const r = ar[k] * br[k] - ai[k] * bi[k];
      const i = ar[k] * bi[k] + ai[k] * br[k];
      ar[k] = r;
      ai[k] = -i;
    }
    this.inner.forward(ar, ai);
    for (let k = 0; k < n; k++) {
      const cr = ar[k];
      const ci = -ai[k];
      re[off + k * stride] = cr * wr[k] - ci * wi[k];
      im[off + k * stride] = cr * wi[k] + ci * wr[k];
    }
  }
}

/** Powers of two: iterative radix-2 with a bit-reversal permutation (the simulator's sizes, fastest). */
class Radix2Plan implements FftPlan {
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly rev: Uint32Array;

  constructor(readonly n: number) {
    this.cos = new Float64Array(n / 2);
    this.sin = new Float64Array(n / 2);
    for (let k = 0; k < n / 2; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / n);
      this.sin[k] = Math.sin((2 * Math.PI * k) / n);
    }
    this.rev = new Uint32Array(n);
    let bits = 0;
    while (1 << bits < n) bits++;
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) if (i & (1 << b)) r |= 1 << (bits - 1 - b);
      this.rev[i] = r;
    }
  }

  forward(re: Float64Array, im: Float64Array, off = 0, stride = 1): void {
    const { n, cos, sin, rev } = this;
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
}

const plans = new Map<number, FftPlan>();

/** A cached forward FFT plan for length n (any positive integer). */
export function getFftPlan(n: number): FftPlan {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`FFT length must be a positive integer, got ${n}`);
  let p = plans.get(n);
  if (p) return p;
  const primes = factorize(n);
  p = n > 1 && (n & (n - 1)) === 0 ? new Radix2Plan(n)
    : n === 1 || primes[primes.length - 1] <= MAX_DIRECT_PRIME ? new MixedRadixPlan(n, primes) : new BluesteinPlan(n);
  plans.set(n, p);
  return p;
}

/** In-place unnormalised 2-D forward FFT of a row-major h×w complex field (numpy.fft.fft2). */
export function fft2(re: Float64Array, im: Float64Array, h: number, w: number): void {
  const pw = getFftPlan(w);
  for (let r = 0; r < h; r++) pw.forward(re, im, r * w, 1);
  const ph = getFftPlan(h);
  for (let c = 0; c < w; c++) ph.forward(re, im, c, w);
}

/**
 * fftshift(|DFT2 Ψ|²)/N² (`tf_helper.py:346-367`) of an N x N field; inputs are not modified.
 * `out` (length N²) may be passed to avoid an allocation.
 */
export function farFieldIntensityCpu(re: ArrayLike<number>, im: ArrayLike<number>, N: number, out?: Float64Array): Float64Array {
  const fr = Float64Array.from(re as ArrayLike<number>);
  const fi = Float64Array.from(im as ArrayLike<number>);
  fft2(fr, fi, N, N);
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
