/**
 * Getting files in: a folder picker, dropped folders (walked with webkitGetAsEntry), loose files,
 * or one dropped .zip of the tree. Everything becomes a list of { path, blob } with POSIX paths
 * relative to what the user dropped, so planning sees one shape whatever the source.
 */
import { unzip } from 'fflate';

export interface DroppedFile {
  path: string;
  blob: Blob;
}

function normalise(path: string): string {
  return path.replace(/\\/g, '/').replace(/^\.\/+/, '').replace(/\/{2,}/g, '/').replace(/^\/+/, '');
}

/** From an <input type=file webkitdirectory> (or a plain multi-file input). */
export function fromFileList(list: FileList | File[]): DroppedFile[] {
  const out: DroppedFile[] = [];
  for (const f of Array.from(list)) {
    const rel = (f as File & { webkitRelativePath?: string }).webkitRelativePath;
    out.push({ path: normalise(rel && rel.length > 0 ? rel : f.name), blob: f });
  }
  return out;
}

function readAllEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  // readEntries returns batches (Chromium: 100 at a time) until an empty batch.
  return new Promise((resolve, reject) => {
    const all: FileSystemEntry[] = [];
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(all);
        else {
          all.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walk(entry: FileSystemEntry, prefix: string, out: DroppedFile[]): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    out.push({ path: normalise(path), blob: await entryFile(entry as FileSystemFileEntry) });
  } else if (entry.isDirectory) {
    const children = await readAllEntries((entry as FileSystemDirectoryEntry).createReader());
    for (const child of children) await walk(child, path, out);
  }
}

/** From a drop: folders are walked recursively, loose files keep their names. */
export async function fromDataTransfer(dt: DataTransfer): Promise<DroppedFile[]> {
  const out: DroppedFile[] = [];
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  for (const item of Array.from(dt.items)) {
    if (item.kind !== 'file') continue;
    const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  for (const e of entries) await walk(e, '', out);
  out.push(...fromFileList(loose));
  return out;
}

/** True when the drop is exactly one .zip archive, which is then expanded. */
export function isSingleZip(files: DroppedFile[]): boolean {
  return files.length === 1 && /\.zip$/i.test(files[0].path);
}

/** Expand one .zip of the tree into its .npz members (and any JSON beside them). */
export async function expandZip(file: DroppedFile): Promise<DroppedFile[]> {
  const bytes = new Uint8Array(await file.blob.arrayBuffer());
  const members = await new Promise<Record<string, Uint8Array>>((resolve, reject) =>
    unzip(bytes, { filter: (f) => !f.name.endsWith('/') && /\.(npz|npy|json)$/i.test(f.name) }, (err, data) =>
      err ? reject(new Error(`${file.path}: not a readable zip archive (${err.message})`)) : resolve(data),
    ),
  );
  return Object.entries(members)
    .map(([name, data]) => ({ path: normalise(name), blob: new Blob([data as Uint8Array<ArrayBuffer>]) }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

/** Whatever came in, the files planning should see. Hidden files and OS clutter are dropped. */
export async function collect(files: DroppedFile[]): Promise<DroppedFile[]> {
  const expanded = isSingleZip(files) ? await expandZip(files[0]) : files;
  return expanded.filter((f) => !f.path.split('/').some((seg) => seg.startsWith('.') || seg === '__MACOSX'));
}
