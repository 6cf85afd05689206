import { describe, expect, it } from 'vitest';
import { EarlyStopping, ReduceLROnPlateau } from '../../../src/lib/model/callbacks';

function runPlateau(vals: (number | null)[], lr = 1e-3) {
  const p = new ReduceLROnPlateau();
  const lrs: number[] = [];
  for (const v of vals) {
    lrs.push(lr); // the lr used during this epoch
    lr = p.onEpochEnd(v, lr);
  }
  return { lrs, next: lr };
}

describe('ReduceLROnPlateau (val_loss, factor 0.5, patience 2, min_lr 1e-4, min_delta 1e-4)', () => {
  it('halves after two epochs without an improvement larger than min_delta', () => {
    // 10, 9 (improves), 9.00005 (not by 1e-4), 8.99995 (not: 9 - 1e-4 = 8.9999), -> halve
    const { lrs, next } = runPlateau([10, 9, 9.00005, 8.99995]);
    expect(lrs).toEqual([1e-3, 1e-3, 1e-3, 1e-3]);
    expect(next).toBeCloseTo(5e-4, 12);
  });
  it('resets its patience on a real improvement', () => {
    const { next } = runPlateau([10, 10, 9, 9]);
    expect(next).toBe(1e-3);
  });
  it('never goes below min_lr and stops changing there', () => {
    const vals = Array.from({ length: 20 }, () => 5);
    const { lrs, next } = runPlateau(vals);
    expect(Math.min(...lrs)).toBeCloseTo(1e-4, 12);
    // 1e-3 -> 5e-4 -> 2.5e-4 -> 1.25e-4 -> 1e-4 (clamped), each after 2 flat epochs
    expect(lrs.slice(0, 11)).toEqual([1e-3, 1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4, 2.5e-4, 1.25e-4, 1.25e-4, 1e-4, 1e-4]);
    expect(next).toBeCloseTo(1e-4, 12);
  });
  it('ignores epochs with no validation loss', () => {
    const { next } = runPlateau([null, null, null, null]);
    expect(next).toBe(1e-3);
  });
});

describe('EarlyStopping (training loss, patience 3, min_delta 0)', () => {
  const stopAt = (vals: number[]) => {
    const e = new EarlyStopping();
    for (let i = 0; i < vals.length; i++) if (e.onEpochEnd(vals[i], i)) return i + 1;
    return null;
  };
  it('stops after three epochs without any decrease', () => {
    expect(stopAt([5, 4, 4, 4.5, 4])).toBe(5);
  });
  it('any strict decrease resets the patience (min_delta 0)', () => {
    expect(stopAt([5, 4, 4, 4, 3.999999, 4, 4, 4])).toBe(8);
    expect(stopAt([5, 4, 3, 2, 1, 0])).toBe(null);
  });
  it('does not stop on the first epoch', () => {
    const e = new EarlyStopping({ patience: 0 });
    expect(e.onEpochEnd(1, 0)).toBe(false);
  });
});
