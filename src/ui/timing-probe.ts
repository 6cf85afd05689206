/**
 * The step measurement behind the time estimate before a run: the page's side of the estimate
 * worker (src/workers/estimate.worker.ts, ./estimate-protocol.ts). When the data, the selection,
 * the step's shapes or the backend change, the probe waits for the changes to settle (debounce),
 * then measures a step in a fresh worker; it reports a sentence while it measures or why it cannot,
 * and the measurement once it is in. Answers to an older request (sequence numbers) or for a need
 * that changed meanwhile are dropped. Training stops it: the measurement never competes with a run.
 */
import type { StepShape } from '../lib/model/step-timing';
import type { StudyTiming, TimingEvent, TimingRequest } from '../workers/estimate-protocol';

/** What the estimate worker is asked to measure (TimingRequest without its envelope). */
export type TimingNeed = Omit<TimingRequest, 'type' | 'id'>;

/** The same step shape: N, gridsize, batch and filter scale. */
export const sameShape = (a: StepShape, b: StepShape): boolean =>
  a.N === b.N && a.gridsize === b.gridsize && a.batch === b.batch && a.filterScale === b.filterScale;

/** Whether a measurement made for `had` serves `need`: same backend choice and WASM build, every shape measured at the same batch and filter scale. */
export function timingCovers(had: TimingNeed, need: TimingNeed): boolean {
  return had.backend === need.backend && had.singleThread === need.singleThread &&
    need.shapes.every((s) => had.shapes.some((h) => sameShape(h, s)));
}

/** How long to wait after the last change of data or settings before measuring (ms). */
const TIMING_DEBOUNCE_MS = 800;

export interface TimingReports {
  /** The sentence to show instead of an estimate (measuring, or why there is none); null: none. */
  status(text: string | null): void;
  /** A measurement is in, for this need. */
  measured(need: TimingNeed, result: StudyTiming): void;
}

/** What the probe needs to know besides the need itself, read when the need changes. */
export interface TimingContext {
  /** A training run is going (nothing is measured, and a measurement under way stops). */
  running: boolean;
  /** What the measurement in hand was made for; null: none. */
  measuredFor: TimingNeed | null;
  /** The WebGPU adapter is a software one (its first step compiles shaders for a long time). */
  softwareAdapter: boolean;
}

export class TimingProbe {
  private worker: Worker | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private seq = 0;
  /** JSON of the need being measured now (or waiting for its debounce). */
  private measuringKey: string | null = null;

  constructor(private readonly report: TimingReports) {}

  /** The need or the context changed: measure for it (debounced), keep measuring, or stop. */
  schedule(need: TimingNeed | null, ctx: TimingContext): void {
    if (ctx.running || !need) {
      this.stop();
      return;
    }
    if (ctx.measuredFor && timingCovers(ctx.measuredFor, need)) {
      this.stop();
      this.report.status(null);
      return;
    }
    const key = JSON.stringify(need);
    if (key === this.measuringKey) return;
    this.stop();
    if (need.backend === 'webgpu' && ctx.softwareAdapter) {
      this.report.status('No time estimate on the software WebGPU adapter (its first step compiles shaders for a long time); the time left is shown once training runs.');
      return;
    }
    if (need.backend === 'cpu') {
      this.report.status('No time estimate on the CPU backend (a step of it can take a minute); the time left is shown once training runs.');
      return;
    }
    this.measuringKey = key;
    this.report.status('Measuring a training step for the time estimate…');
    const snapshot: TimingNeed = JSON.parse(key);
    this.timer = setTimeout(() => this.measure(snapshot, key), TIMING_DEBOUNCE_MS);
  }

  /** Stop measuring (terminating the estimate worker) and forget the pending measurement. */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.worker?.terminate();
    this.worker = null;
    this.measuringKey = null;
  }

  private measure(need: TimingNeed, key: string): void {
    this.timer = null;
    const id = ++this.seq;
    const w = new Worker(new URL('../workers/estimate.worker.ts', import.meta.url), { type: 'module' });
    this.worker = w;
    const fail = (why: string) => {
      if (this.worker !== w) return;
      this.stop();
      this.report.status(`No time estimate: the step could not be measured (${why}).`);
    };
    w.onmessage = (m: MessageEvent<TimingEvent>) => {
      const ev = m.data;
      if (ev.id !== id || this.worker !== w || this.measuringKey !== key) return;
      if (ev.type === 'progress') this.report.status(`Measuring a training step for the time estimate (${ev.message})…`);
      else if (ev.type === 'done') {
        this.stop();
        this.report.measured(need, ev.timing);
        this.report.status(null);
      } else fail(ev.message);
    };
    w.onerror = (e) => {
      e.preventDefault();
      fail(e.message || 'the estimate worker crashed');
    };
    w.postMessage({ type: 'time', id, ...need } satisfies TimingRequest);
  }
}
