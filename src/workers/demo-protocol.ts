/** Messages between the page and the demo-study worker (which runs the simulator off the main thread). */

export type DemoSize = 'small' | 'standard';

export type DemoRequest = { type: 'make'; id: number; size: DemoSize; seed?: number };

export type DemoEvent =
  | { type: 'progress'; id: number; message: string; fraction: number }
  | { type: 'done'; id: number; files: { path: string; bytes: Uint8Array }[]; description: string }
  | { type: 'error'; id: number; message: string };
