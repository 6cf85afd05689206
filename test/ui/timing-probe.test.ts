import { describe, expect, it } from 'vitest';
import { timingCovers, type TimingNeed } from '../../src/ui/timing-probe';

const shape = { N: 32, gridsize: 2 as const, batch: 4, filterScale: 0.5 };
const need = (o: Partial<TimingNeed> = {}): TimingNeed => ({ backend: 'auto', shapes: [shape], singleThread: true, ...o });

describe('timingCovers (does a step measurement serve the time estimate?)', () => {
  it('serves the same backend choice, WASM build and shapes, and a subset of the shapes', () => {
    expect(timingCovers(need(), need())).toBe(true);
    expect(timingCovers(need({ shapes: [shape, { ...shape, gridsize: 1 }] }), need())).toBe(true);
  });

  it('does not serve another WASM build: jobs side by side train single-threaded, one job may train threaded', () => {
    expect(timingCovers(need({ singleThread: false }), need({ singleThread: true }))).toBe(false);
    expect(timingCovers(need({ singleThread: true }), need({ singleThread: false }))).toBe(false);
  });

  it('does not serve another backend choice, batch or filter scale', () => {
    expect(timingCovers(need({ backend: 'wasm' }), need())).toBe(false);
    expect(timingCovers(need(), need({ shapes: [{ ...shape, batch: 16 }] }))).toBe(false);
    expect(timingCovers(need(), need({ shapes: [{ ...shape, filterScale: 2 }] }))).toBe(false);
  });
});
