/**
 * What the page shows of a run, as plain functions of the training worker's events
 * (src/workers/train-protocol.ts): each job's status in the job table, and each job's live view in
 * the training panel (its curves, preview and status line). Studio (./studio.svelte.ts) holds the
 * state and applies these.
 */
import type { RunnerProgress, TrainingJob } from '../lib/study/runner';
import type { TrainEvent } from '../workers/train-protocol';

export type JobCode = 'pending' | 'queued' | 'running' | 'success' | 'failed' | 'cancelled' | 'dry-run' | 'blocked' | 'interrupted';

export interface LiveView {
  key: string | null;
  title: string;
  subtitle: string;
  fraction: number;
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  eta: number | null;
  loss: number | null;
  lr: number | null;
  sps: number | null;
  gpuBytes?: number;
  stepX: number[];
  stepLoss: number[];
  epochX: number[];
  trainLoss: number[];
  valLoss: (number | null)[];
  /** Live amplitude SSIM against the truth (placed), every few epochs. */
  scoreX: number[];
  scoreSsim: number[];
  preview: Extract<TrainEvent, { type: 'preview' }> | null;
}

export const emptyLive = (): LiveView => ({
  key: null, title: 'No job running', subtitle: '', fraction: 0, epoch: 0, epochs: 0, step: 0, steps: 0,
  eta: null, loss: null, lr: null, sps: null, stepX: [], stepLoss: [], epochX: [], trainLoss: [], valLoss: [],
  scoreX: [], scoreSsim: [], preview: null,
});

type JobStart = Extract<TrainEvent, { type: 'job-start' }>;

/** A job's fresh live view when it starts. */
export function startedLive(ev: JobStart, job: TrainingJob): LiveView {
  return {
    ...emptyLive(), key: ev.key,
    title: `[${ev.index + 1}/${ev.total}] ${job.view} (dose=${job.dose}, gridsize=${job.gridsize})` +
      (ev.resumedFromEpoch ? `, resumed after epoch ${ev.resumedFromEpoch}` : ''),
    subtitle: '',
  };
}

/** The status line when a job starts and takes the live panel. */
export function jobStartLine(ev: JobStart, job: TrainingJob, dryRun: boolean): string {
  return `Job ${ev.index + 1} of ${ev.total}: ${job.view} at dose ${job.dose}${dryRun ? ' (dry run)' : ''}.`;
}

/** A job's live view after one progress event, and the status line it gives while the job is shown (null: none). */
export function progressed(old: LiveView, p: RunnerProgress): { live: LiveView; line: string | null } {
  const l = { ...old };
  let line: string | null = null;
  switch (p.status) {
    case 'loading': case 'compiling': case 'saving': case 'done':
      line = p.message;
      l.subtitle = p.message;
      break;
    case 'step': {
      l.epoch = p.epoch; l.epochs = p.epochs; l.step = p.step; l.steps = p.steps;
      l.subtitle = 'training';
      l.loss = p.loss; l.sps = p.samples_per_second; l.eta = p.eta_seconds;
      l.fraction = ((p.epoch - 1) + p.step / p.steps) / p.epochs;
      l.gpuBytes = p.gpu_bytes;
      l.stepX = [...l.stepX, (p.epoch - 1) + p.step / p.steps];
      l.stepLoss = [...l.stepLoss, p.loss];
      break;
    }
    case 'epoch':
      l.epochX = [...l.epochX, p.record.epoch];
      l.trainLoss = [...l.trainLoss, p.record.train_loss];
      l.valLoss = [...l.valLoss, p.record.val_loss];
      l.lr = p.record.learning_rate;
      l.epochs = p.epochs;
      l.fraction = p.record.epoch / p.epochs;
      line = `Epoch ${p.record.epoch} of ${p.epochs}: train loss ${p.record.train_loss.toPrecision(6)}` +
        (p.record.val_loss !== null ? `, validation ${p.record.val_loss.toPrecision(6)}` : '') + '.';
      break;
    case 'score':
      l.scoreX = [...l.scoreX, p.epoch];
      l.scoreSsim = [...l.scoreSsim, p.amplitude_ssim];
      break;
  }
  return { live: l, line };
}

/** A finished job's row in the job table, from its result (the 'job-end' event's). */
export function endedJob(result: Record<string, unknown>): { code: JobCode; label: string } {
  const st = String(result.status ?? (result.dry_run ? 'dry-run' : 'success'));
  const code: JobCode = result.dry_run === true ? 'dry-run' : (st as JobCode);
  const label = code === 'failed' ? `failed: ${String(result.error ?? '')}` : code === 'success'
    ? `done, loss ${typeof result.final_loss === 'number' ? result.final_loss.toPrecision(5) : '–'}` : code;
  return { code, label };
}

/** A job's row from its stored result, after a reload. */
export function restoredJob(result: Record<string, unknown>): { code: JobCode; label: string } {
  const code: JobCode = result.dry_run === true ? 'dry-run' : (String(result.status) as JobCode);
  return { code, label: code === 'failed' ? `failed: ${String(result.error ?? '')}` : code };
}
