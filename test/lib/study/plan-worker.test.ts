import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanRequest, PlanResponse } from '../../../src/workers/plan-protocol';
import { loadTree } from './helpers';

// The worker file is a thin shell; drive it through its message protocol with a stand-in `self`.
const posted: PlanResponse[] = [];
const fakeSelf: { postMessage(m: PlanResponse): void; onmessage: ((ev: { data: PlanRequest }) => void) | null } = {
  postMessage: (m) => { posted.push(structuredClone(m)); },
  onmessage: null,
};
const g = globalThis as unknown as { self?: unknown };
const had = 'self' in g;
const previous = g.self;

beforeAll(async () => {
  g.self = fakeSelf;
  await import('../../../src/workers/plan.worker');
});
afterAll(() => { if (had) g.self = previous; else delete g.self; });

function send(req: PlanRequest): Promise<PlanResponse> {
  return new Promise((resolve) => {
    const start = posted.length;
    const poll = () => {
      const hit = posted.slice(start).find((m) => m.id === req.id && m.type !== 'progress');
      if (hit) resolve(hit); else setTimeout(poll, 5);
    };
    fakeSelf.onmessage!({ data: req });
    poll();
  });
}

describe('plan worker protocol', () => {
  it('refilter before any plan answers no_plan', async () => {
    expect(await send({ type: 'refilter', id: 1, filters: {} })).toMatchObject({ type: 'error', id: 1, code: 'no_plan' });
  });

  it('plans a dropped tree (echoing the id, with progress), refilters, reports bad filters', async () => {
    const files = (await loadTree('sparse_missing', 'drop/')) as { path: string; blob: Blob }[];
    const res = await send({ type: 'plan', id: 7, files, filters: { view: 'dense' } });
    expect(res.type).toBe('plan');
    if (res.type !== 'plan') return;
    expect(res.plan.phaseCRoot).toBe('drop/phase_c');
    expect(res.plan.jobs).toHaveLength(6);
    expect(res.plan.selected).toHaveLength(3);
    expect(res.plan.reports).toHaveLength(12);
    expect(posted.some((m) => m.type === 'progress' && m.id === 7 && m.progress.status === 'validating')).toBe(true);
    const again = await send({ type: 'refilter', id: 8, filters: { dose: '1e5' } });
    expect(again.type === 'plan' && again.plan.selected.map((j) => j.job.view)).toEqual(['baseline', 'dense']);
    expect(await send({ type: 'refilter', id: 9, filters: { gridsize: 5 } })).toMatchObject({ type: 'error', id: 9, code: 'invalid_filter' });
  });
});
