/**
 * Files from a drop (files AND folders: directory entries are walked recursively) or from a file input.
 * Entries must be taken from the DataTransfer synchronously, inside the drop event: call `collectDrop(dt)` there
 * and await its promise afterwards. Where the browser gives file-system handles (Chromium's
 * getAsFileSystemHandle), each file carries its root handle and path, so the worker can link the original on disk
 * instead of copying it (storage 'link').
 */
import type { ImportFile } from '../worker-api/api';

type RootHandle = FileSystemDirectoryHandle | FileSystemFileHandle;

interface Dropped {
  entry: FileSystemEntry | null;
  file: File | null;
  handle: Promise<RootHandle | null> | null;
}

/** DataTransferItem.getAsFileSystemHandle (Chromium 86+; not in TypeScript's DOM types yet). */
type HandleItem = DataTransferItem & { getAsFileSystemHandle?: () => Promise<FileSystemHandle | null> };

/** Takes what the drop holds right away (the DataTransfer is emptied after the event), then walks it. */
export function collectDrop(dt: DataTransfer | null): Promise<ImportFile[]> {
  if (!dt) return Promise.resolve([]);
  const dropped: Dropped[] = [];
  const items = dt.items ? Array.from(dt.items) : [];
  for (const item of items) {
    if (item.kind !== 'file') continue;
    const handle = (item as HandleItem).getAsFileSystemHandle?.().then((h) => h as RootHandle | null, () => null) ?? null;
    dropped.push({ entry: item.webkitGetAsEntry?.() ?? null, file: item.getAsFile(), handle });
  }
  if (!items.length) for (const file of Array.from(dt.files ?? [])) dropped.push({ entry: null, file, handle: null });
  return walkDropped(dropped);
}

/**
 * Every file under a directory handle (a dropped folder, or showDirectoryPicker()), in name order, each with the
 * folder as its root handle and its path under it.
 */
export async function filesFromDirectoryHandle(root: FileSystemDirectoryHandle): Promise<ImportFile[]> {
  const out: ImportFile[] = [];
  const walk = async (dir: FileSystemDirectoryHandle, path: string[]) => {
    const entries: FileSystemHandle[] = [];
    for await (const h of (dir as FileSystemDirectoryHandle & { values(): AsyncIterable<FileSystemHandle> }).values()) entries.push(h);
    entries.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
    for (const h of entries) {
      if (h.kind === 'directory') await walk(h as FileSystemDirectoryHandle, [...path, h.name]);
      else {
        const file = await (h as FileSystemFileHandle).getFile().catch(() => null);
        if (file) out.push({ file, path: [root.name, ...path, h.name].join('/'), handle: { root, path: [...path, h.name] } });
      }
    }
  };
  await walk(root, []);
  return out;
}

async function walkDropped(dropped: Dropped[]): Promise<ImportFile[]> {
  const out: ImportFile[] = [];
  for (const d of dropped) {
    const handle = await d.handle;
    if (handle?.kind === 'directory') {
      out.push(...(await filesFromDirectoryHandle(handle as FileSystemDirectoryHandle).catch(() => [])));
    } else if (handle?.kind === 'file' && d.file) {
      out.push({ file: d.file, path: '', handle: { root: handle, path: [] } });
    } else if (d.entry?.isDirectory) {
      await walkDirectory(d.entry as FileSystemDirectoryEntry, out);
    } else if (d.file) {
      out.push({ file: d.file, path: '' });
    } else if (d.entry?.isFile) {
      const file = await entryFile(d.entry as FileSystemFileEntry).catch(() => null);
      if (file) out.push({ file, path: '' });
    }
  }
  return out;
}

const entryFile = (entry: FileSystemFileEntry) => new Promise<File>((resolve, reject) => entry.file(resolve, reject));

/** All entries of a directory: readEntries returns them in batches (100 in Chromium) until an empty one. */
async function readAll(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) return all;
    all.push(...batch);
  }
}

async function walkDirectory(dir: FileSystemDirectoryEntry, out: ImportFile[]): Promise<void> {
  const entries = await readAll(dir).catch(() => []);
  entries.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  for (const entry of entries) {
    if (entry.isDirectory) await walkDirectory(entry as FileSystemDirectoryEntry, out);
    else if (entry.isFile) {
      const file = await entryFile(entry as FileSystemFileEntry).catch(() => null);
      if (file) out.push({ file, path: entry.fullPath.replace(/^\//, '') });
    }
  }
}

/** Files chosen in an <input type=file> (a folder picker sets webkitRelativePath). */
export function filesFromInput(list: FileList | null): ImportFile[] {
  return Array.from(list ?? [], (file) => ({ file, path: file.webkitRelativePath ?? '' }));
}

/** True while something dragged over the page holds files. */
export const dragHasFiles = (dt: DataTransfer | null): boolean => !!dt && Array.from(dt.types ?? []).includes('Files');
