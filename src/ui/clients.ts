/** The page's side of the plan and demo workers: promise-returning calls over their typed protocols. */
import type { StudyFilters } from '../lib/study/jobs';
import type { PlanProgress, StudyPlan } from '../lib/study/plan';
import { WorkerClient } from '../workers/client';
import type { PlanRequest, PlanResponse } from '../workers/plan-protocol';
import type { DemoEvent, DemoRequest, DemoSize } from '../workers/demo-protocol';

export class PlanClient {
  private client = new WorkerClient<PlanRequest, PlanResponse>('the planning worker',
    () => new Worker(new URL('../workers/plan.worker.ts', import.meta.url), { type: 'module' }));
  private lastPlanId = 0;

  private call(req: PlanRequest, onProgress?: (p: PlanProgress) => void): Promise<StudyPlan> {
    return this.client.request<StudyPlan>(req, (r) => {
      if (r.type === 'progress') { onProgress?.(r.progress); return null; }
      return r.type === 'plan' ? { value: r.plan } : { error: r.message };
    });
  }

  /** Plan a new set of files; an earlier plan still running is cancelled. */
  plan(files: { path: string; blob: Blob }[], filters: StudyFilters, onProgress?: (p: PlanProgress) => void): Promise<StudyPlan> {
    if (this.client.waiting(this.lastPlanId)) this.client.post({ type: 'cancel', id: this.lastPlanId });
    const id = this.client.nextId();
    this.lastPlanId = id;
    return this.call({ type: 'plan', id, files: files.map((f) => ({ path: f.path, blob: f.blob })), filters }, onProgress);
  }

  /** Re-apply filters to the current plan without reading any file again. */
  refilter(filters: StudyFilters): Promise<StudyPlan> {
    return this.call({ type: 'refilter', id: this.client.nextId(), filters });
  }
}

export class DemoClient {
  private client = new WorkerClient<DemoRequest, DemoEvent>('the demo worker',
    () => new Worker(new URL('../workers/demo.worker.ts', import.meta.url), { type: 'module' }));

  /** Simulate the demo study of this size in the worker; its NPZ files. */
  make(size: DemoSize, onProgress?: (message: string) => void): Promise<{ path: string; bytes: Uint8Array }[]> {
    return this.client.request<{ path: string; bytes: Uint8Array }[]>({ type: 'make', id: this.client.nextId(), size }, (r) => {
      if (r.type === 'progress') { onProgress?.(r.message); return null; }
      return r.type === 'done' ? { value: r.files } : { error: r.message };
    });
  }
}
