/** The page's side of the plan worker: promise-returning calls over the typed protocol. */
import type { StudyFilters } from '../lib/study/jobs';
import type { PlanProgress, StudyPlan } from '../lib/study/plan';
import type { PlanRequest, PlanResponse } from '../workers/plan-protocol';

type Pending = { resolve: (p: StudyPlan) => void; reject: (e: Error) => void; onProgress?: (p: PlanProgress) => void };

export class PlanClient {
  private worker: Worker | null = null;
  private seq = 0;
  private pending = new Map<number, Pending>();
  private lastPlanId = 0;

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('../workers/plan.worker.ts', import.meta.url), { type: 'module' });
    w.onmessage = (m: MessageEvent<PlanResponse>) => {
      const r = m.data;
      const p = this.pending.get(r.id);
      if (!p) return;
      if (r.type === 'progress') p.onProgress?.(r.progress);
      else {
        this.pending.delete(r.id);
        if (r.type === 'plan') p.resolve(r.plan);
        else p.reject(new Error(r.message));
      }
    };
    w.onerror = (e) => {
      e.preventDefault();
      const err = new Error(`The planning worker crashed: ${e.message || 'no message'}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.worker?.terminate();
      this.worker = null;
    };
    this.worker = w;
    return w;
  }

  private call(req: PlanRequest, onProgress?: (p: PlanProgress) => void): Promise<StudyPlan> {
    return new Promise((resolve, reject) => {
      this.pending.set(req.id, { resolve, reject, onProgress });
      this.ensure().postMessage(req);
    });
  }

  /** Plan a new set of files; an earlier plan still running is cancelled. */
  plan(files: { path: string; blob: Blob }[], filters: StudyFilters, onProgress?: (p: PlanProgress) => void): Promise<StudyPlan> {
    if (this.pending.has(this.lastPlanId)) this.ensure().postMessage({ type: 'cancel', id: this.lastPlanId } satisfies PlanRequest);
    const id = ++this.seq;
    this.lastPlanId = id;
    return this.call({ type: 'plan', id, files: files.map((f) => ({ path: f.path, blob: f.blob })), filters }, onProgress);
  }

  /** Re-apply filters to the current plan without reading any file again. */
  refilter(filters: StudyFilters): Promise<StudyPlan> {
    return this.call({ type: 'refilter', id: ++this.seq, filters });
  }
}
