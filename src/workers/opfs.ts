/**
 * Dataset copies in the origin-private file system, so an interrupted run can resume after a
 * reload without the user dropping the data again. Best effort: where OPFS is missing or full,
 * the run still works and resuming asks for the files again.
 */

async function root(): Promise<FileSystemDirectoryHandle | null> {
  try {
    return (await navigator.storage?.getDirectory?.()) ?? null;
  } catch {
    return null;
  }
}

async function dirFor(base: FileSystemDirectoryHandle, parts: string[], create: boolean): Promise<FileSystemDirectoryHandle> {
  let d = base;
  for (const p of parts) d = await d.getDirectoryHandle(p, { create });
  return d;
}

/** Copy the files a run needs under runs/<runId>/; returns false when OPFS is unavailable or fails. */
export async function saveRunFiles(runId: string, files: { path: string; blob: Blob }[]): Promise<boolean> {
  const base = await root();
  if (!base) return false;
  try {
    const runDir = await dirFor(base, ['runs', runId], true);
    for (const f of files) {
      const parts = f.path.split('/');
      const name = parts.pop()!;
      const dir = await dirFor(runDir, parts, true);
      const handle = await dir.getFileHandle(name, { create: true });
      const w = await handle.createWritable();
      await w.write(f.blob);
      await w.close();
    }
    return true;
  } catch {
    return false;
  }
}

/** The files saved for a run, or null when they are not (all) there. */
export async function loadRunFiles(runId: string, paths: string[]): Promise<{ path: string; blob: Blob }[] | null> {
  const base = await root();
  if (!base) return null;
  try {
    const runDir = await dirFor(base, ['runs', runId], false);
    const out: { path: string; blob: Blob }[] = [];
    for (const path of paths) {
      const parts = path.split('/');
      const name = parts.pop()!;
      const dir = await dirFor(runDir, parts, false);
      out.push({ path, blob: await (await dir.getFileHandle(name)).getFile() });
    }
    return out;
  } catch {
    return null;
  }
}

export async function deleteRunFiles(runId: string): Promise<void> {
  const base = await root();
  if (!base) return;
  try {
    const runs = await base.getDirectoryHandle('runs');
    await runs.removeEntry(runId, { recursive: true });
  } catch {
    /* nothing saved */
  }
}
