import { defineConfig } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import base from '../playwright.config';

/** `npm run screenshots`: the app in four states, written to docs/screenshots/ (not part of npm test). */
const PORT = 4175;
export default defineConfig({
  ...base,
  testDir: '.',
  testMatch: 'screenshots.spec.ts',
  use: { ...base.use, baseURL: `http://127.0.0.1:${PORT}`, viewport: { width: 1280, height: 900 } },
  webServer: { ...base.webServer, cwd: fileURLToPath(new URL('..', import.meta.url)), command: `npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort`, url: `http://127.0.0.1:${PORT}` },
});
