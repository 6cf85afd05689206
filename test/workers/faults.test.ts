import { describe, expect, it } from 'vitest';
import { parseFaults } from '../../src/workers/train-protocol';

const q = (v: unknown) => `?faults=${encodeURIComponent(JSON.stringify(v))}`;

describe('parseFaults (the ?faults= test hook)', () => {
  it('is null without the parameter', () => {
    expect(parseFaults('')).toBeNull();
    expect(parseFaults('?other=1')).toBeNull();
  });

  it('reads each fault with its own count field', () => {
    expect(parseFaults(q({
      nanLossAt: { job: 'a', step: 2 },
      loseDeviceAt: { job: 'b', step: 1 },
      crashWorkerAt: { job: 'c', step: 3 },
      quotaBytes: { job: 'd', bytes: 20000 },
      holdAfterCheckpoint: { job: 'e', epoch: 1 },
    }))).toEqual({
      nanLossAt: { job: 'a', step: 2 },
      loseDeviceAt: { job: 'b', step: 1 },
      crashWorkerAt: { job: 'c', step: 3 },
      quotaBytes: { job: 'd', bytes: 20000 },
      holdAfterCheckpoint: { job: 'e', epoch: 1 },
    });
  });

  it('names what is wrong', () => {
    expect(() => parseFaults(q({ sleepAt: { job: 'a', step: 1 } }))).toThrow("unknown fault 'sleepAt'");
    expect(() => parseFaults(q({ holdAfterCheckpoint: { job: 'a', step: 1 } }))).toThrow("fault 'holdAfterCheckpoint' needs a whole epoch number");
    expect(() => parseFaults(q({ quotaBytes: { job: 'a', step: 1 } }))).toThrow("fault 'quotaBytes' needs a whole bytes number");
    expect(() => parseFaults(q({ nanLossAt: { job: 'a', step: 1.5 } }))).toThrow("fault 'nanLossAt' needs a whole step number");
    expect(() => parseFaults(q({ nanLossAt: { step: 1 } }))).toThrow("fault 'nanLossAt' needs a job key");
    expect(() => parseFaults(q([1]))).toThrow('faults must be a JSON object');
  });
});
