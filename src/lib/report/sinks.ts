/**
 * An in-memory ArtifactSink: the app writes a run's artifacts here (and zips or persists them),
 * tests read them back. The CLI has a disk sink with the same behaviour (src/cli/node-io.ts).
 */
import type { ArtifactSink } from '../study/runner';
import { pyPathStr } from '../study/pyformat';

const encoder = new TextEncoder();

function parentOf(p: string): string | null {
  const i = p.lastIndexOf('/');
  if (i < 0) return null;
  return i === 0 ? '/' : p.slice(0, i);
}

export class MemorySink implements ArtifactSink {
  /** Files by normalised POSIX path, in the order they were first written. */
  readonly files = new Map<string, Uint8Array>();
  readonly dirs = new Set<string>();

  private key(path: string): string {
    return pyPathStr(path);
  }

  private ensureParent(path: string): void {
    const parent = parentOf(path);
    if (parent !== null && !this.dirs.has(parent)) {
      throw new Error(`No such directory: ${parent} (writing ${path})`);
    }
  }

  async mkdir(path: string): Promise<void> {
    let p: string | null = this.key(path);
    while (p !== null && p !== '.' && p !== '/' && !this.dirs.has(p)) {
      this.dirs.add(p);
      p = parentOf(p);
    }
  }

  async writeText(path: string, text: string): Promise<void> {
    await this.writeBytes(path, encoder.encode(text));
  }

  async appendText(path: string, text: string): Promise<void> {
    const k = this.key(path);
    this.ensureParent(k);
    const old = this.files.get(k) ?? new Uint8Array(0);
    const add = encoder.encode(text);
    const out = new Uint8Array(old.length + add.length);
    out.set(old, 0);
    out.set(add, old.length);
    this.files.set(k, out);
  }

  async writeBytes(path: string, bytes: Uint8Array): Promise<void> {
    const k = this.key(path);
    this.ensureParent(k);
    this.files.set(k, bytes.slice());
  }

  async exists(path: string): Promise<boolean> {
    const k = this.key(path);
    return this.files.has(k) || this.dirs.has(k);
  }

  async readBytes(path: string): Promise<Uint8Array | undefined> {
    const b = this.files.get(this.key(path));
    return b?.slice();
  }

  /** Convenience for tests and the UI: a file's text, or undefined. */
  readText(path: string): string | undefined {
    const b = this.files.get(this.key(path));
    return b === undefined ? undefined : new TextDecoder().decode(b);
  }
}
