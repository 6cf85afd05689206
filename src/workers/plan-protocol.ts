/**
 * The typed messages between the UI and the plan worker (src/workers/plan.worker.ts). Every
 * request carries an id; every response echoes it. Blobs (Files) are structured-cloned, not copied.
 */
import type { StudyFilters } from '../lib/study/jobs';
import type { PlanProgress, StudyPlan } from '../lib/study/plan';

export interface PlanRequestOptions {
  /** Default 'artifacts' (DEFAULT_ARTIFACT_ROOT). */
  artifactRoot?: string;
  /** The user's choice of roots when detection found several (StudyPlan.tree.phaseCCandidates). */
  phaseCRoot?: string | null;
  phaseDRoot?: string | null;
  /** Override the dose list (default: the doses present, else the design's). */
  doses?: number[];
}

export type PlanRequest =
  /** Detect the tree, enumerate, validate every file the jobs need, filter. Replaces the worker's current plan. */
  | { type: 'plan'; id: number; files: { path: string; blob: Blob }[]; filters: StudyFilters; options?: PlanRequestOptions }
  /** Re-apply filters to the worker's current plan (no file is read again). */
  | { type: 'refilter'; id: number; filters: StudyFilters }
  /** Stop the 'plan' request with this id at the next file; it answers with an error of code 'cancelled'. */
  | { type: 'cancel'; id: number };

export type PlanErrorCode = 'cancelled' | 'invalid_filter' | 'no_plan' | 'internal';

export type PlanResponse =
  | { type: 'progress'; id: number; progress: PlanProgress }
  | { type: 'plan'; id: number; plan: StudyPlan }
  | { type: 'error'; id: number; code: PlanErrorCode; message: string };
