import { describe, it, expect } from 'vitest';
import { Rng, poisson, logGamma } from '../../../src/lib/sim';

/** log pmf of Poisson(λ) at k, summed exactly (independent of the sampler's logGamma). */
function logPmf(k: number, lam: number): number {
  let lf = 0;
  for (let i = 2; i <= k; i++) lf += Math.log(i);
  return -lam + k * Math.log(lam) - lf;
}

/**
 * Pearson chi-square of n draws against the exact pmf, cells with expected count >= 20, tails pooled.
 * Returns [statistic, degrees of freedom].
 */
function chiSquare(lam: number, n: number, seed: number): [number, number] {
  const rng = new Rng(seed, 7);
  const counts = new Map<number, number>();
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const k = poisson(rng, lam);
    if (!(Number.isInteger(k) && k >= 0)) bad++;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  expect(bad).toBe(0);
  const mode = Math.floor(lam);
  let lo = mode;
  let hi = mode;
  while (lo > 0 && n * Math.exp(logPmf(lo - 1, lam)) >= 20) lo--;
  while (n * Math.exp(logPmf(hi + 1, lam)) >= 20) hi++;
  let stat = 0;
  let pIn = 0;
  let obsIn = 0;
  for (let k = lo; k <= hi; k++) {
    const p = Math.exp(logPmf(k, lam));
    const o = counts.get(k) ?? 0;
    stat += (o - n * p) ** 2 / (n * p);
    pIn += p;
    obsIn += o;
  }
  let pLow = 0;
  for (let k = 0; k < lo; k++) pLow += Math.exp(logPmf(k, lam));
  let oLow = 0;
  for (const [k, o] of counts) if (k < lo) oLow += o;
  const pHigh = 1 - pIn - pLow;
  const oHigh = n - obsIn - oLow;
  let cells = hi - lo + 1;
  for (const [p, o] of [[pLow, oLow], [pHigh, oHigh]]) {
    if (n * p >= 5) {
      stat += (o - n * p) ** 2 / (n * p);
      cells++;
    }
  }
  return [stat, cells - 1];
}

/** Upper bound for a chi-square with df degrees of freedom at p ≈ 1e-4 (Wilson–Hilferty). */
function chiCrit(df: number): number {
  const z = 3.719; // standard normal quantile 1 − 1e-4
  return df * (1 - 2 / (9 * df) + z * Math.sqrt(2 / (9 * df))) ** 3;
}

describe('poisson sampler', () => {
  for (const lam of [0.05, 0.7, 3, 9.99, 10, 14.5, 30, 200]) {
    it(`matches the exact pmf at λ = ${lam} (chi-square, 200k draws, fixed seed)`, () => {
      const [stat, df] = chiSquare(lam, 200_000, 1234);
      expect(df).toBeGreaterThanOrEqual(1);
      expect(stat).toBeLessThan(chiCrit(df));
    });
  }

  it('detects a wrong distribution (the chi-square check can fail)', () => {
    // draws at λ = 3.3 tested against the pmf of λ = 3
    const rng = new Rng(5, 7);
    const n = 200_000;
    const c = new Array(40).fill(0);
    for (let i = 0; i < n; i++) c[Math.min(39, poisson(rng, 3.3))]++;
    let stat = 0;
    for (let k = 0; k < 12; k++) {
      const e = n * Math.exp(logPmf(k, 3));
      stat += (c[k] - e) ** 2 / e;
    }
    expect(stat).toBeGreaterThan(chiCrit(11));
  });

  for (const lam of [1e3, 1e5, 1e8]) {
    it(`has mean and variance λ at λ = ${lam.toExponential(0)}`, () => {
      const rng = new Rng(99, 3);
      const n = 100_000;
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const k = poisson(rng, lam);
        s += k;
        s2 += k * k;
      }
      const mean = s / n;
      const variance = s2 / n - mean * mean;
      expect(Math.abs(mean - lam)).toBeLessThan(5 * Math.sqrt(lam / n)); // 5 standard errors
      expect(Math.abs(variance / lam - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    });
  }

  it('gives 0 at rate 0 and rejects negative or non-finite rates', () => {
    const rng = new Rng(1);
    expect(poisson(rng, 0)).toBe(0);
    expect(() => poisson(rng, -1)).toThrow(/rate/);
    expect(() => poisson(rng, NaN)).toThrow(/rate/);
    expect(() => poisson(rng, Infinity)).toThrow(/rate/);
  });

  it('logGamma(k + 1) equals log k! (the PTRS acceptance test needs it)', () => {
    for (const k of [0, 1, 2, 5, 6, 7, 10, 50, 1000]) {
      let lf = 0;
      for (let i = 2; i <= k; i++) lf += Math.log(i);
      expect(Math.abs(logGamma(k + 1) - lf)).toBeLessThan(1e-10 * Math.max(1, lf));
    }
  });
});

describe('Rng', () => {
  it('is reproducible per (seed, stream) and streams differ', () => {
    const a = new Rng(42, 1);
    const b = new Rng(42, 1);
    const c = new Rng(42, 2);
    const va = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(va);
    expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(va);
  });

  it('random() is uniform on [0, 1) (mean, variance, 10-bin chi-square)', () => {
    const r = new Rng(7);
    const n = 100_000;
    const bins = new Array(10).fill(0);
    let s = 0;
    let s2 = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = r.random();
      if (!(u >= 0 && u < 1)) outside++;
      s += u;
      s2 += u * u;
      bins[Math.floor(u * 10)]++;
    }
    expect(outside).toBe(0);
    expect(Math.abs(s / n - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(s2 / n - (s / n) ** 2 - 1 / 12)).toBeLessThan(0.002);
    const chi = bins.reduce((a, o) => a + (o - n / 10) ** 2 / (n / 10), 0);
    expect(chi).toBeLessThan(chiCrit(9));
  });

  it('int(n) stays in range and hits every value', () => {
    const r = new Rng(3);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = r.int(7);
      expect(v >= 0 && v < 7 && Number.isInteger(v)).toBe(true);
      seen.add(v);
    }
    expect(seen.size).toBe(7);
  });
});
