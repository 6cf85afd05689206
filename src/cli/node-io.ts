/**
 * Node's side of the study pipeline: listing dataset files under the roots, reading them as lazily
 * sliced Blobs (fs.openAsBlob, so a large NPZ is read by random access like a browser File), and
 * writing artifacts to disk. Paths are POSIX strings exactly as the jobs carry them (relative to
 * the working directory, or absolute when the user gave absolute roots).
 */
import { accessSync, constants, existsSync, mkdirSync, openAsBlob, readdirSync, statSync } from 'node:fs';
import { appendFile, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { ArtifactSink, FileSource } from '../lib/study/runner';
import { pyPathJoin } from '../lib/study/pyformat';

/** Every `.npz` file under `root` (recursively), as POSIX paths joined onto `root` the way Python's Path does. */
export function listNpzFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string[]) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = `${dir}/${e.name}`;
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        try { const s = statSync(full); isDir = s.isDirectory(); isFile = s.isFile(); } catch { continue; }
      }
      if (isDir && rel.length < 6) walk(full, [...rel, e.name]);
      else if (isFile && e.name.endsWith('.npz')) out.push(pyPathJoin(root, ...rel, e.name));
    }
  };
  walk(root === '' ? '.' : root, []);
  return out;
}

export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Reads files from disk through Blobs that slice lazily (Node >= 19.8 fs.openAsBlob). */
export function diskFileSource(): FileSource {
  return {
    has: (p) => existsSync(p),
    get: (p) => openAsBlob(p),
  };
}

export function openDiskBlob(p: string): Promise<Blob> {
  return openAsBlob(p);
}

/** Writes artifacts to disk under the given POSIX paths. */
export function diskSink(): ArtifactSink {
  return {
    mkdir: async (p) => { await mkdir(p, { recursive: true }); },
    writeText: (p, text) => writeFile(p, text, 'utf8'),
    appendText: (p, text) => appendFile(p, text, 'utf8'),
    writeBytes: (p, bytes) => writeFile(p, bytes),
    exists: async (p) => existsSync(p),
    readBytes: async (p) => {
      try {
        return new Uint8Array(await readFile(p));
      } catch {
        return undefined;
      }
    },
  };
}

export function mkdirpSync(p: string): void {
  mkdirSync(p, { recursive: true });
}

/**
 * Write a file so that a reader never sees half of it: write a temporary file next to it, flush
 * it to disk, then rename it over the target (atomic on POSIX file systems, NFS included).
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

export async function removeFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** The first executable `name` on a PATH string, or null (what `command -v` finds). */
export function findExecutable(name: string, pathVar: string | undefined): string | null {
  for (const dir of (pathVar ?? '').split(':')) {
    if (!dir) continue;
    const full = `${dir}/${name}`;
    try {
      if (statSync(full).isFile()) {
        accessSync(full, constants.X_OK);
        return full;
      }
    } catch {
      // not here
    }
  }
  return null;
}
