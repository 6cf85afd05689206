/// <reference lib="webworker" />
/**
 * The estimate worker: before a study starts, measure what one training step and one forward pass
 * cost at the settings' shapes, on the backend the run would train on, so that the page can say how
 * long the study will take (src/lib/model/estimate.ts). It runs while the user looks at the job table,
 * off the main thread, and the page terminates it as soon as training starts (so it never competes
 * with training) or the settings it measures change.
 *
 * The backend: one the user picked starts by name (initBackend), as in the training worker. Auto is
 * chosen as the training worker chooses it (chooseBackend, src/lib/runtime/choose.ts, on the
 * first job's shapes, on the WASM build the job workers get: single-threaded where jobs train side by
 * side), but timed at a batch of at most CHOICE_BATCH and a smaller budget, to keep this
 * cheap; the run makes its own choice at the settings' batch, and where that is another backend the
 * running estimate follows the run's measured rate. The steps are then timed for each (N, gridsize)
 * the jobs need (measureShape, src/lib/model/step-timing.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { chooseBackend } from '../lib/runtime/choose';
import { installTrainingKernels } from '../lib/runtime/kernels';
import { stepTimer } from '../lib/model/step-timing';
import { backendChoiceSeconds } from '../lib/model/estimate';
import { measureShape } from '../lib/model/step-timing';
import { initBackend, describeBackend, type BackendInfo } from '../lib/runtime/backend';
import { useBundledWasm } from './wasm-assets';
import type { StudyTiming, TimingEvent, TimingRequest } from './estimate-protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (ev: TimingEvent) => scope.postMessage(ev);

/** Largest batch the Auto choice is timed at here. */
const CHOICE_BATCH = 4;
scope.onmessage = async (m: MessageEvent<TimingRequest>) => {
  const req = m.data;
  if (req.type !== 'time' || req.shapes.length === 0) return;
  // the WASM build the job workers will train on: single-threaded where jobs run side by side
  useBundledWasm({ threads: !req.singleThread });
  const t0 = performance.now();
  try {
    let info: BackendInfo;
    let startupSeconds = 0;
    if (req.backend === 'auto') {
      const first = req.shapes[0];
      const batch = Math.min(first.batch, CHOICE_BATCH);
      const chosen = await chooseBackend({
        ...stepTimer({ ...first, batch }),
        budgetMs: 1000,
        wasmSingleThread: !req.singleThread,
        onTiming: () => post({ type: 'progress', id: req.id, message: 'choosing the backend' }),
      });
      startupSeconds = backendChoiceSeconds(chosen.timings, first.batch / batch);
      info = chosen;
    } else {
      info = await initBackend(req.backend);
    }
    installTrainingKernels(tf.getBackend());
    const shapes = [];
    for (const s of req.shapes) {
      post({ type: 'progress', id: req.id, message: `timing a step at N=${s.N}, gridsize ${s.gridsize}` });
      shapes.push(await measureShape(s));
    }
    const timing: StudyTiming = {
      backend: describeBackend(info), backendName: info.name, startupSeconds, shapes,
      measuredSeconds: (performance.now() - t0) / 1000,
    };
    post({ type: 'done', id: req.id, timing });
  } catch (e) {
    post({ type: 'error', id: req.id, message: e instanceof Error ? e.message : String(e) });
  }
};
