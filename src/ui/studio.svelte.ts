/**
 * The app's state and the actions the components call. Heavy work never runs here: planning, the
 * demo simulator, the time estimate's step and training each live in a worker, behind a client
 * (./clients.ts), the timing probe (./timing-probe.ts) or the training channel
 * (./training-channel.ts); what a run's events mean for the page is ./run-view.ts, the estimate's
 * sentences ./time-estimate.ts, downloads ./downloads.ts and the restore after a reload
 * ./restore.ts. Nothing reactive crosses postMessage ($state.snapshot / plain data).
 */
import { untrack } from 'svelte';
import { probeWebGPU, type AdapterReport } from '../lib/runtime/adapter';
import { describeBackend, type BackendChoice, type BackendInfo } from '../lib/runtime/backend';
import type { StudyPlan } from '../lib/study/plan';
import type { RunnerProgress, TrainingJob } from '../lib/study/runner';
import { collect, type DroppedFile } from './intake';
import { DemoClient, PlanClient } from './clients';
import { matchPreset, presetSettings, settingsProblems, type PresetName, type TrainingSettings } from '../lib/pipeline/settings';
import type { DemoSize } from '../workers/demo-protocol';
import { parseFaults, type FaultPlan, type RunPlan } from '../workers/train-protocol';
import type { ManifestJob } from '../lib/report/manifest';
import { studySummary, type StudySummary } from '../lib/report/summary';
import { commonRegionPaths } from '../lib/study/jobs';
import * as store from '../workers/store';
import type { StepShape } from '../lib/model/step-timing';
import { studyEstimate, type EstimateJob, type RemainingEstimate, type StudyEstimate } from '../lib/model/estimate';
import type { RunClock } from '../lib/pipeline/run-clock';
import { defaultConcurrency, trainsSideBySide } from '../lib/pipeline/pool';
import { saveRunFiles, loadRunFiles } from '../workers/opfs';
import { TrainingChannel, type RunEvent } from './training-channel';
import { TimingProbe, timingCovers, type TimingNeed } from './timing-probe';
import { estimateSentence, remainingSentence, runClock, type TimeLine, type Timing } from './time-estimate';
import { emptyLive, endedJob, jobStartLine, progressed, startedLive, type JobCode, type LiveView } from './run-view';
import * as downloads from './downloads';
import { neededPaths, restoreLastRun, type InterruptedRun } from './restore';

export type { JobCode, LiveView } from './run-view';

const newRunId = () => `run-${new Date().toISOString().replace(/[:.]/g, '-')}-${Math.random().toString(36).slice(2, 8)}`;

export class Studio {
  adapter = $state<AdapterReport | null>(null);
  files = $state.raw<DroppedFile[]>([]);
  demoFiles = $state.raw<{ path: string; bytes: Uint8Array }[] | null>(null);
  plan = $state.raw<StudyPlan | null>(null);
  intakeError = $state<string | null>(null);
  busy = $state(false);
  filters = $state({ dose: '', view: '', gridsize: '' });
  dryRun = $state(false);
  settings = $state<TrainingSettings>(presetSettings('Reference'));
  running = $state(false);
  status = $state('Drop a study folder, choose a dataset folder, or load the demo study.');
  backendNotice = $state<string | null>(null);
  /** The Backend select: Auto (the fastest measured at the start of a run) or one backend. */
  backendChoice = $state<BackendChoice>('auto');
  /** Which backend trains the current run and why, once the training worker has started it. */
  backendInUse = $state.raw<BackendInfo | null>(null);
  readonly backendLine = $derived(this.backendInUse ? `${describeBackend(this.backendInUse)}: ${this.backendInUse.reason ?? ''}` : null);
  /** Each running or finished job's live view (jobs train side by side on WASM and CPU). */
  lives = $state.raw<Record<string, LiveView>>({});
  /** The job the live panel shows: the earliest started of those running, or the last one that ran. */
  liveKey = $state<string | null>(null);
  get live(): LiveView {
    return (this.liveKey !== null ? this.lives[this.liveKey] : undefined) ?? emptyLive();
  }
  /** Jobs to train at once on WASM/CPU (one job worker each); null: Auto, the cores. */
  parallelJobs = $state<number | null>(null);
  /** The cores the browser reports (navigator.hardwareConcurrency). */
  readonly cores = typeof navigator !== 'undefined' ? Math.max(1, navigator.hardwareConcurrency || 1) : 1;
  jobs = $state.raw<Record<string, { code: JobCode; label: string }>>({});
  manifest = $state<string | null>(null);
  runId = $state<string | null>(null);
  /** A previous run found in IndexedDB that did not finish (shown after a reload). */
  interrupted = $state.raw<InterruptedRun | null>(null);
  /** The step costs measured for the time estimate (estimate worker), with what was asked. */
  timing = $state.raw<Timing | null>(null);
  /** While measuring, or why there is no measurement: a sentence; null otherwise. */
  timingStatus = $state<string | null>(null);
  /** How long the running study has left (updated on every step, epoch and job event). */
  remaining = $state.raw<RemainingEstimate | null>(null);
  /** Jobs of the running study whose size is unknown (not counted in `remaining`). */
  remainingUnknown = $state(0);

  /** Test hook: faults to inject into training runs, from the URL's `?faults=` (train-protocol.ts). */
  private faults: FaultPlan | null = null;

  private planClient = new PlanClient();
  private demoClient = new DemoClient();
  private training = new TrainingChannel();
  private timingProbe = new TimingProbe({
    status: (text) => (this.timingStatus = text),
    measured: (need, result) => (this.timing = { need, result }),
  });
  private clock: RunClock | null = null;

  readonly settingsErrors = $derived(settingsProblems(this.settings));
  readonly hasResults = $derived(this.manifest !== null);
  /** The study's answer (study_summary.json) of the manifest's jobs; null before any job has a result. */
  readonly summary = $derived.by((): StudySummary | null => {
    if (this.manifest === null) return null;
    try {
      const m = JSON.parse(this.manifest) as { dry_run?: boolean; jobs?: ManifestJob[] };
      return m.dry_run === true || !Array.isArray(m.jobs) ? null : studySummary(m.jobs);
    } catch {
      return null;
    }
  });
  /** The selected jobs as the time estimate sees them (src/lib/model/estimate.ts). */
  readonly estimateJobs = $derived.by((): EstimateJob[] => (this.plan?.selected ?? []).map((pj) => ({
    key: this.jobKey(pj.job), gridsize: pj.job.gridsize, N: pj.N, trainPositions: pj.trainPositions,
    testPositions: pj.testPositions, blocked: pj.blocked,
  })));
  /** How many of the selected jobs will train (not blocked). */
  readonly trainingCount = $derived(this.estimateJobs.filter((j) => !j.blocked).length);

  /** What the estimate needs measured: the backend choice and the (N, gridsize) shapes of the jobs to train; null when nothing is to be estimated. */
  readonly timingNeed = $derived.by((): TimingNeed | null => {
    if (this.dryRun || this.settingsErrors.length > 0) return null;
    const shapes: StepShape[] = [];
    for (const j of this.estimateJobs) {
      if (j.blocked || j.N === undefined || shapes.some((s) => s.N === j.N && s.gridsize === j.gridsize)) continue;
      shapes.push({ N: j.N, gridsize: j.gridsize, filterScale: this.settings.filterScale, batch: this.settings.batchSize });
    }
    const singleThread = trainsSideBySide(this.cores, this.trainingCount, this.parallelJobs);
    return shapes.length ? { backend: this.backendChoice, shapes, singleThread } : null;
  });

  /** How long the selected jobs will take with these settings; null until a step is measured for them. */
  readonly estimate = $derived.by((): StudyEstimate | null => {
    const need = this.timingNeed;
    const t = this.timing;
    if (!need || !t || !timingCovers(t.need, need)) return null;
    const lanes = defaultConcurrency(t.result.backendName, this.cores, this.trainingCount, this.parallelJobs);
    return studyEstimate(this.estimateJobs, this.settings, t.result.shapes, t.result.startupSeconds, lanes);
  });

  /** The sentence before a run: the estimate, or what the measurement is doing. */
  readonly estimateLine = $derived.by((): TimeLine | null => {
    if (this.dryRun || this.running || !this.plan) return null;
    const e = this.estimate;
    const t = this.timing;
    const need = this.timingNeed;
    if (e && t && need && e.training > 0) {
      const blocked = this.estimateJobs.filter((j) => j.blocked).length;
      return { text: estimateSentence(e, t.result, need, blocked), seconds: e.totalSeconds };
    }
    return this.timingNeed && this.timingStatus ? { text: this.timingStatus, seconds: null } : null;
  });

  /** The sentence while a run goes: how long is left. */
  readonly remainingLine = $derived.by((): TimeLine | null =>
    this.running && this.remaining ? remainingSentence(this.remaining, this.remainingUnknown) : null);

  readonly canStart = $derived(
    !this.running && !this.busy && this.plan !== null && this.plan.selected.length > 0 && (this.dryRun || this.settingsErrors.length === 0),
  );

  constructor() {
    try {
      this.faults = parseFaults(globalThis.location?.search ?? '');
    } catch (err) {
      console.warn(`Ignoring the 'faults' URL parameter: ${err instanceof Error ? err.message : String(err)}`);
    }
    void probeWebGPU().then((a) => (this.adapter = a));
    void this.restore();
    // Measure a step for the time estimate when the data, the selection, the step's shapes or the
    // backend change (debounced), never while training.
    $effect(() => {
      const need = this.timingNeed;
      const running = this.running;
      untrack(() => this.timingProbe.schedule(need, {
        running, measuredFor: this.timing?.need ?? null, softwareAdapter: this.adapter?.software === true,
      }));
    });
  }

  // ---------------------------------------------------------------- time left

  /** Start the time bookkeeping of a run (launch): the jobs it trains, their prior costs. */
  private startSession(plan: RunPlan, resume: boolean): void {
    this.clock = null;
    this.remaining = null;
    this.remainingUnknown = 0;
    if (plan.dryRun) return;
    const sizes = new Map((this.plan?.jobs ?? []).map((pj) => [this.jobKey(pj.job), pj]));
    const finished = (key: string) => resume && (this.jobs[key]?.code === 'success' || this.jobs[key]?.code === 'failed');
    this.clock = runClock(plan, sizes, finished, this.timing);
    this.updateRemaining();
  }

  private updateRemaining(): void {
    if (!this.clock) return;
    const { remaining, unknown } = this.clock.left();
    this.remaining = remaining;
    this.remainingUnknown = unknown;
  }

  /** The running study's bookkeeping from a training worker event. */
  private trackTime(ev: RunEvent): void {
    if (this.clock?.track(ev)) this.updateRemaining();
  }

  /** Show this job's live view (its curves, preview and status) in the training panel. */
  watch(key: string): void {
    if (!this.lives[key]) return;
    this.liveKey = key;
    const l = this.lives[key];
    this.status = l.subtitle ? `${l.title}: ${l.subtitle}` : l.title;
  }

  jobKey(job: TrainingJob): string {
    return `dose_${job.dose}/${job.view}/gs${job.gridsize}`;
  }

  jobStatus(key: string): { code: JobCode; label: string } {
    const s = this.jobs[key];
    if (s) return s;
    const pj = this.plan?.jobs.find((p) => this.jobKey(p.job) === key);
    if (pj?.blocked) return { code: 'blocked', label: 'blocked (invalid data)' };
    return { code: 'pending', label: 'ready' };
  }

  private setJob(key: string, code: JobCode, label: string = code): void {
    this.jobs = { ...this.jobs, [key]: { code, label } };
  }

  // ---------------------------------------------------------------- data in

  async addFiles(dropped: DroppedFile[], source: 'drop' | 'folder' | 'files' | 'demo'): Promise<void> {
    this.intakeError = null;
    if (dropped.length === 0) {
      this.intakeError = 'Nothing to load: the selection held no files.';
      return;
    }
    this.busy = true;
    try {
      const files = await collect(dropped);
      if (!files.some((f) => /\.npz$/i.test(f.path))) {
        this.intakeError = `No .npz files among the ${files.length} file(s) received.`;
        return;
      }
      this.files = files;
      if (source !== 'demo') this.demoFiles = null;
      this.jobs = {};
      this.manifest = null;
      this.status = `Checking ${files.length} files…`;
      await this.replan();
    } catch (err) {
      this.intakeError = err instanceof Error ? err.message : String(err);
    } finally {
      this.busy = false;
    }
  }

  private async replan(): Promise<void> {
    const plan = await this.planClient.plan(this.files, $state.snapshot(this.filters), (p) => {
      if (p.status === 'validating') this.status = `Validating ${p.done + 1} of ${p.total}: ${p.file}`;
    });
    this.plan = plan;
    const invalid = plan.reports.filter((r) => !r.ok).length;
    this.status = plan.blocking.length
      ? `Cannot plan: ${plan.blocking[0]}`
      : `${plan.jobs.length} jobs enumerated, ${plan.selected.length} selected` +
        (plan.skipped.length ? `, ${plan.skipped.length} skipped` : '') +
        (invalid ? `; ${invalid} file(s) failed validation` : '') + '.';
  }

  async refilter(): Promise<void> {
    if (this.files.length === 0) return;
    this.busy = true;
    try {
      const plan = await this.planClient.refilter($state.snapshot(this.filters));
      this.plan = plan;
      this.status = plan.empty ? plan.empty.message : `${plan.selected.length} of ${plan.jobs.length} jobs selected.`;
    } catch (err) {
      this.status = err instanceof Error ? err.message : String(err);
    } finally {
      this.busy = false;
    }
  }

  applyPreset(name: PresetName): void {
    this.settings = presetSettings(name);
  }

  settingsEdited(): void {
    this.settings.preset = matchPreset(this.settings);
  }

  async loadDemo(size: DemoSize): Promise<void> {
    this.busy = true;
    this.intakeError = null;
    this.status = `Simulating the ${size} demo study in a worker…`;
    try {
      const files = await this.demoClient.make(size, (message) => { this.status = `Demo study: ${message}`; });
      this.demoFiles = files;
      this.busy = false;
      this.applyPreset('Demo'); // the demo's own preset, both sizes (src/lib/pipeline/settings.ts)
      await this.addFiles(files.map((f) => ({ path: f.path, blob: new Blob([f.bytes as Uint8Array<ArrayBuffer>]) })), 'demo');
    } catch (err) {
      this.intakeError = `The demo study could not be made: ${err instanceof Error ? err.message : String(err)}`;
      this.status = 'Demo study failed.';
    } finally {
      this.busy = false;
    }
  }

  // ---------------------------------------------------------------- training

  private runPlanFromSelection(): RunPlan {
    const plan = this.plan!;
    return {
      phaseCRoot: plan.phaseCRoot,
      phaseDRoot: plan.phaseDRoot,
      artifactRoot: plan.artifactRoot,
      filters: plan.filters,
      dryRun: this.dryRun,
      settings: $state.snapshot(this.settings),
      backend: this.backendChoice,
      parallelJobs: this.parallelJobs,
      jobs: plan.selected.map((pj) => ({ job: pj.job, key: this.jobKey(pj.job), blocked: pj.blocked ? pj.reasons : [] })),
      skipped: plan.skipped,
    };
  }

  async start(): Promise<void> {
    if (!this.canStart || !this.plan) return;
    const plan = this.runPlanFromSelection();
    const runId = newRunId();
    // the jobs' own files, and each dose's Phase C test file where it exists: the common score region
    // (src/lib/study/jobs.ts commonRegionPaths) even when the baseline jobs are filtered out
    const region = commonRegionPaths(plan.phaseCRoot, plan.jobs.map((j) => j.job), (p) => this.files.some((f) => f.path === p));
    const needed = new Set([...neededPaths(plan), ...region]);
    const files = this.files.filter((f) => needed.has(f.path)).map((f) => ({ path: f.path, blob: f.blob }));
    await store.putRun({ id: runId, created: new Date().toISOString(), state: 'running', plan });
    if (!plan.dryRun) {
      this.status = 'Saving the datasets for resumption…';
      await saveRunFiles(runId, files);
    }
    this.launch(runId, plan, files, false);
  }

  async resumeInterrupted(): Promise<void> {
    const it = this.interrupted;
    if (!it) return;
    const files = await loadRunFiles(it.runId, neededPaths(it.plan));
    if (!files) {
      this.status = 'The datasets of the interrupted run are not stored in this browser: drop the same study again, then press Resume.';
      return;
    }
    // the common score region's files, where the run stored them (not required: without one a job scores its own scan)
    const have = new Set(files.map((f) => f.path));
    for (const p of commonRegionPaths(it.plan.phaseCRoot, it.plan.jobs.map((j) => j.job), (q) => !have.has(q))) files.push(...((await loadRunFiles(it.runId, [p])) ?? []));
    this.interrupted = null;
    this.launch(it.runId, it.plan, files, true);
  }

  private launch(runId: string, plan: RunPlan, files: { path: string; blob: Blob }[], resume: boolean): void {
    this.timingProbe.stop(); // the estimate's measurement never competes with training
    this.runId = runId;
    this.running = true;
    this.lives = {};
    this.liveKey = null;
    for (const j of plan.jobs) if (!this.jobs[j.key] || !resume) this.setJob(j.key, 'queued', 'queued');
    this.startSession(plan, resume);
    this.status = plan.dryRun ? 'Dry run: writing train.log files and the manifest…' : 'Starting the training worker…';
    this.backendInUse = null;
    this.backendNotice = null;
    const faults = this.faults ? $state.snapshot(this.faults) : null;
    this.training.start({ runId, plan, files, resume, faults }, {
      event: (ev) => {
        this.onTrainEvent(ev, plan);
        this.trackTime(ev);
      },
      crashed: (reason) => void this.onTrainCrash(reason, runId, plan, files),
    });
  }

  /**
   * The training worker died (an uncaught error, or a fatal one it reported; the channel has
   * terminated it). The job it was running is recorded as failed with the reason, in the store like
   * any result, and the worker is started again on the jobs still to run (each restart follows a
   * failed job, so this ends). The manifest is rebuilt from the stored results: finished jobs plus
   * the failed one.
   */
  private async onTrainCrash(reason: string, runId: string, plan: RunPlan, files: { path: string; blob: Blob }[]): Promise<void> {
    const hit = plan.jobs.filter((j) => this.jobs[j.key]?.code === 'running');
    for (const j of hit) {
      const error = `worker: ${reason}`;
      this.setJob(j.key, 'failed', `failed: ${error}`);
      await store.putResult(runId, j.key, { status: 'failed', error });
      await store.deleteCheckpoint(runId, j.key);
    }
    const results = new Map((await store.resultsOf(runId)).map((r) => [r.jobKey, r.result]));
    const left = plan.jobs.filter((j) => !results.has(j.key) || results.get(j.key)!.status === 'cancelled');
    this.manifest = await downloads.manifestFromStore(runId, plan);
    if (hit.length > 0 && left.length > 0) {
      this.launch(runId, plan, files, true);
      this.status = `Training stopped: ${reason}. That job is marked failed; continuing with the ${left.length} job(s) left.`;
      return;
    }
    this.running = false;
    this.clock = null;
    this.remaining = null;
    if (left.length > 0) {
      for (const j of left) this.setJob(j.key, 'interrupted', 'interrupted');
      await store.setRunState(runId, 'interrupted');
      this.interrupted = { runId, plan, done: plan.jobs.length - left.length, total: plan.jobs.length, filesSaved: !plan.dryRun };
    } else {
      await store.setRunState(runId, 'finished');
    }
    this.status = `Training stopped: ${reason}. Finished results are kept; the manifest covers them.`;
  }

  private onTrainEvent(ev: RunEvent, plan: RunPlan): void {
    switch (ev.type) {
      case 'choosing':
        this.status = 'Choosing the fastest backend…';
        break;
      case 'backend':
        this.backendInUse = ev.info;
        this.backendNotice = ev.info.notice ?? null;
        this.status = `Training on ${describeBackend(ev.info)}.`;
        break;
      case 'job-start': {
        const j = plan.jobs.find((x) => x.key === ev.key)!;
        // A blocked job is only recorded, never run: it must not take the live view (and the last
        // trained job's reconstruction) away.
        if (j.blocked.length > 0) break;
        this.setJob(ev.key, 'running', 'running');
        const taken = this.liveKey !== null && this.jobs[this.liveKey]?.code === 'running' && this.liveKey !== ev.key;
        if (!taken) this.liveKey = ev.key;
        this.lives = { ...this.lives, [ev.key]: startedLive(ev, j.job) };
        if (!taken) this.status = jobStartLine(ev, j.job, plan.dryRun);
        break;
      }
      case 'progress':
        this.onProgress(ev.key, ev.progress);
        break;
      case 'preview': {
        const l = this.lives[ev.key];
        if (l) this.lives = { ...this.lives, [ev.key]: { ...l, preview: ev } };
        break;
      }
      case 'job-end': {
        const { code, label } = endedJob(ev.result);
        this.setJob(ev.key, code, label);
        this.manifest = ev.manifest;
        if (this.liveKey === ev.key) {
          // the live panel moves on to a job still running, if any
          const next = plan.jobs.find((x) => this.jobs[x.key]?.code === 'running' && this.lives[x.key]);
          if (next) this.watch(next.key);
        }
        break;
      }
      case 'done':
        // (the channel gives the worker up once this event is handled)
        this.manifest = ev.manifest;
        this.running = false;
        this.clock = null;
        this.remaining = null;
        this.status = ev.state === 'cancelled'
          ? 'Cancelled. The manifest records the cancelled job and everything that finished.'
          : `Finished ${plan.jobs.length} job(s). Download the manifest and the artifacts.`;
        break;
    }
  }

  private onProgress(key: string, p: RunnerProgress): void {
    const old = this.lives[key];
    if (!old) return;
    const { live, line } = progressed(old, p);
    if (line !== null && key === this.liveKey) this.status = line;
    this.lives = { ...this.lives, [key]: live };
    if (p.status === 'epoch') this.setJob(key, 'running', `running, epoch ${p.record.epoch} of ${p.epochs}`);
  }

  cancel(): void {
    if (!this.running || !this.training.active) return;
    this.status = 'Cancelling at the next step…';
    this.training.cancel();
  }

  // ---------------------------------------------------------------- results out (./downloads.ts)

  downloadDemoZip(): void {
    if (this.demoFiles) downloads.downloadDemoZip(this.demoFiles);
  }

  /** "Run on a cluster" is possible: jobs selected and usable settings. */
  readonly canExportCluster = $derived(
    this.plan !== null && this.plan.selected.length > 0 && (this.dryRun || this.settingsErrors.length === 0),
  );

  /** "Run on a cluster": the sbatch scripts and README for the current filters and training settings. */
  downloadClusterZip(): void {
    if (this.plan && this.canExportCluster) downloads.downloadClusterZip(this.plan, this.settings, this.dryRun);
  }

  downloadManifest(): void {
    if (this.manifest) downloads.downloadManifest(this.manifest);
  }

  async downloadArtifacts(): Promise<void> {
    if (this.runId) await downloads.downloadArtifacts(this.runId, () => this.manifest);
  }

  /** A job's truth-vs-reconstruction picture (comparison.png) from the stored artifacts; null when absent. */
  async comparisonImage(artifactDir: string): Promise<Blob | null> {
    return this.runId ? downloads.comparisonImage(this.runId, artifactDir) : null;
  }

  // ---------------------------------------------------------------- never lose work (./restore.ts)

  private async restore(): Promise<void> {
    const run = await restoreLastRun();
    if (!run) return;
    this.runId = run.runId;
    for (const j of run.jobs) this.setJob(j.key, j.code, j.label);
    this.manifest = run.manifest;
    if (run.interrupted) this.interrupted = run.interrupted;
    if (run.status !== null) this.status = run.status;
  }
}
