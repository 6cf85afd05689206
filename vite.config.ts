import { defineConfig, type Plugin } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

/**
 * Offline and safe (product.md 9): the built app may load only from its own origin, blob: and
 * data:, with no eval. 'wasm-unsafe-eval' lets WebAssembly compile (tfjs' WASM backend, its .wasm
 * files bundled and served from our origin) and allows nothing else: no eval, no new Function. The
 * dev server is left without it (Vite's HMR injects inline code).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self' blob: data:",
  "img-src 'self' blob: data:",
  "style-src 'self'",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

/**
 * Cross-origin isolation: SharedArrayBuffer, and so the WASM backend's threads, exist only in a page
 * served with these two headers (README, "Hosting"). Every resource the app loads is its own, so
 * `require-corp` blocks nothing.
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

function contentSecurityPolicy(): Plugin {
  return {
    name: 'ptychopinn-csp',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY }, injectTo: 'head-prepend' }],
    },
  };
}

export default defineConfig({
  plugins: [svelte(), contentSecurityPolicy()],
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    // Extra pages built next to the app (dist/<path>): test pages that run library code in the browser.
    rollupOptions: {
      input: {
        main: 'index.html',
        backends: 'test/e2e/pages/backends.html', // test/e2e/backends.spec.ts: CPU vs WebGPU forward/loss/gradients
      },
    },
  },
  server: { host: '127.0.0.1', headers: ISOLATION_HEADERS },
  preview: { host: '127.0.0.1', headers: { ...ISOLATION_HEADERS, 'Content-Security-Policy': CONTENT_SECURITY_POLICY } },
  test: {
    include: ['test/lib/**/*.test.ts', 'test/cli/**/*.test.ts', 'test/workers/**/*.test.ts', 'test/ui/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
