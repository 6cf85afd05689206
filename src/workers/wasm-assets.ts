/**
 * Where tfjs' WASM backend finds its files in the browser: bundled with the app and served from our
 * own origin (docs/hosting.md: nothing is fetched from elsewhere). Browser workers only (Vite `?url`
 * imports); Node reads the same files from node_modules by itself.
 *
 * The threaded build (SIMD + threads, used where the page is cross-origin isolated) starts its
 * threads as workers made from blob: URLs, which the CSP's `worker-src blob:` allows, and each of
 * them then loads the backend's Emscripten script with importScripts(). tfjs hands them that script
 * as a Blob (a blob: URL), which `script-src 'self'` refuses. So the thread workers get the same
 * script as a file of ours instead: a URL string on our origin, which the Emscripten thread worker
 * imports as it is (its `load` message takes a URL or a Blob). Nothing else about the message changes.
 *
 * Threads: tfjs 4.22 caps XNNPACK's pool at half of navigator.hardwareConcurrency (its C code
 * assumes two hyperthreads per core), whatever setThreadsCount asks: one thread on a 2-core machine.
 * We ask for one thread per logical core (at most the 8 workers the Emscripten build keeps ready;
 * the pool counts the calling thread) and let the backend's start-up read twice the count, so that
 * its halving gives it back. `npm run bench` measures what the threads bring.
 */
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import plainWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simdWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threadedSimdWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import threadedSimdScript from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js?url';

let done = false;

/**
 * Point tfjs at the bundled .wasm files and route the thread workers' script to our origin
 * (idempotent). `threads: false` keeps the single-threaded SIMD build even in an isolated page (the
 * benchmark's comparison with Node, which has no WASM threads).
 */
export function useBundledWasm(opts: { threads?: boolean } = {}): void {
  if (done) return;
  done = true;
  if (opts.threads === false) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  const abs = (u: string) => new URL(u, self.location.href).href;
  setWasmPaths({
    'tfjs-backend-wasm.wasm': abs(plainWasm),
    'tfjs-backend-wasm-simd.wasm': abs(simdWasm),
    'tfjs-backend-wasm-threaded-simd.wasm': abs(threadedSimdWasm),
  });
  const cores = Math.max(1, Math.min(8, self.navigator?.hardwareConcurrency ?? 1));
  setThreadsCount(cores);
  if (self.navigator) Object.defineProperty(self.navigator, 'hardwareConcurrency', { value: 2 * cores, configurable: true });
  const script = abs(threadedSimdScript);
  const Base = self.Worker;
  if (typeof Base !== 'function') return;
  class ThreadWorker extends Base {
    override postMessage(message: unknown, options?: Transferable[] | StructuredSerializeOptions): void {
      const m = message as { cmd?: unknown; urlOrBlob?: unknown } | null;
      if (m && typeof m === 'object' && m.cmd === 'load' && m.urlOrBlob instanceof Blob) {
        message = { ...m, urlOrBlob: script };
      }
      super.postMessage(message, options as StructuredSerializeOptions);
    }
  }
  self.Worker = ThreadWorker;
}
