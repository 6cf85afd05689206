/**
 * The plan worker: a thin shell around planStudy / refilterPlan (src/lib/study/plan.ts) so that
 * detecting the tree and opening every NPZ never blocks the page. Protocol: ./plan-protocol.ts.
 */
import { planStudy, refilterPlan, type StudyPlan } from '../lib/study/plan';
import { inspectNpz } from '../lib/study/inspect';
import { isStudyError } from '../lib/study/errors';
import type { PlanErrorCode, PlanRequest, PlanResponse } from './plan-protocol';

const scope = self as unknown as {
  postMessage(msg: PlanResponse): void;
  onmessage: ((ev: MessageEvent<PlanRequest>) => void) | null;
};

let current: StudyPlan | null = null;
const running = new Map<number, AbortController>();

function post(msg: PlanResponse): void {
  scope.postMessage(msg);
}

function fail(id: number, err: unknown, aborted = false): void {
  const code: PlanErrorCode = aborted ? 'cancelled' : isStudyError(err) && err.code === 'invalid_filter' ? 'invalid_filter' : 'internal';
  post({ type: 'error', id, code, message: err instanceof Error ? err.message : String(err) });
}

async function handle(req: PlanRequest): Promise<void> {
  if (req.type === 'cancel') {
    running.get(req.id)?.abort();
    return;
  }
  if (req.type === 'refilter') {
    if (!current) return post({ type: 'error', id: req.id, code: 'no_plan', message: 'No study has been planned yet.' });
    try {
      current = refilterPlan(current, req.filters);
      post({ type: 'plan', id: req.id, plan: current });
    } catch (err) {
      fail(req.id, err);
    }
    return;
  }
  const controller = new AbortController();
  running.set(req.id, controller);
  try {
    const plan = await planStudy(req.files, {
      ...req.options,
      filters: req.filters,
      inspect: inspectNpz,
      validate: 'all',
      signal: controller.signal,
      onProgress: (progress) => post({ type: 'progress', id: req.id, progress }),
    });
    current = plan;
    post({ type: 'plan', id: req.id, plan });
  } catch (err) {
    fail(req.id, err, controller.signal.aborted);
  } finally {
    running.delete(req.id);
  }
}

scope.onmessage = (ev) => {
  void handle(ev.data);
};
