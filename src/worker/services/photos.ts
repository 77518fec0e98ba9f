/**
 * Photos: where each photo itself is and reading it when needed — a stored copy, or the original on disk through a
 * file-system handle (the folder or file the user gave access to), or nothing but the thumbnail. The indexer, the
 * query and the viewer get a photo's bytes only through `read`/`file` here. A photo missing on disk, or a folder
 * whose permission lapsed, is a PhotoUnavailable with a message for the user, never a crash.
 *
 * Permission: handles kept in IndexedDB come back on a later visit with permission 'prompt'. Only the page can ask
 * again (requestPermission needs a click), so `folders()` hands the page the handles and their state; after the
 * page asked, `recheck()` reads the states again.
 */
import type { CollectionStore } from '../../index/db';
import type { DiskLink, ImageRecord, RootRecord } from '../../index/schema';
import type { LinkedFolder, PhotoFacts, PhotoFile } from '../../worker-api/api';

/** Why a photo's original cannot be read now. */
export type UnavailableReason = 'permission' | 'missing' | 'none';

export class PhotoUnavailable extends Error {
  constructor(
    message: string,
    readonly reason: UnavailableReason,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'PhotoUnavailable';
  }
}

/** The File System Access permission calls (Chromium; not in TypeScript's DOM types yet). */
interface PermissionHandle {
  queryPermission?(descriptor: { mode: 'read' }): Promise<PermissionState>;
}

/** What the network decodes: the photo's bytes, and the upright size to decode them to (absent: as they are). */
export interface PhotoBytes {
  blob: Blob;
  size?: { width: number; height: number };
}

export const isUnavailable = (e: unknown): e is PhotoUnavailable => e instanceof Error && e.name === 'PhotoUnavailable';

export class Photos {
  private roots = new Map<string, RootRecord>();

  constructor(private readonly store: CollectionStore) {}

  /** Loads the linked roots (start-up). */
  async load(): Promise<void> {
    this.roots = new Map((await this.store.listRoots()).map((r) => [r.key, r]));
  }

  /** Size, resolution and date of photos, as the duplicate review shows them (undefined where not in the collection). */
  async facts(ids: string[]): Promise<(PhotoFacts | undefined)[]> {
    const records = await this.store.getImages(ids);
    return records.map((r) =>
      r ? { id: r.id, name: r.name, path: r.path, bytes: r.originalBytes, type: r.originalType, width: r.originalWidth, height: r.originalHeight, addedAt: r.addedAt } : undefined,
    );
  }

  /** Forgets the roots (the collection was cleared: they were deleted with it). */
  clear(): void {
    this.roots.clear();
  }

  /**
   * A photo as the network reads it (indexing, a query that needs a forward pass): its stored copy, or its
   * original from disk decoded to the photo's pixel space. Null when the photo is no longer in the collection.
   * Throws PhotoUnavailable when there is no photo (kept as thumbnail only), or it cannot be read from disk.
   */
  async read(id: string): Promise<PhotoBytes | null> {
    const [source, image] = await Promise.all([this.store.getSource(id), this.store.getImage(id)]);
    if (!source || !image) return null;
    if ('blob' in source) return { blob: source.blob };
    if ('disk' in source) return { blob: await this.readDisk(source.disk, image), size: { width: image.width, height: image.height } };
    throw new PhotoUnavailable(`only the thumbnail of "${image.name}" is kept (storage setting "none")`, 'none');
  }

  /**
   * A photo to show (the viewer, the query panel): the original or the stored copy, else its thumbnail with the
   * reason (linked file missing or permission needed, or only the thumbnail kept). Never throws for a photo of the
   * collection.
   */
  async file(id: string): Promise<PhotoFile> {
    const image = await this.store.getImage(id);
    if (!image) throw new Error('this photo is no longer in the collection');
    try {
      const photo = await this.read(id);
      if (!photo) throw new Error('this photo is no longer in the collection');
      return { blob: photo.blob, kind: photo.size ? 'original' : 'copy' };
    } catch (e) {
      if (!isUnavailable(e)) throw e;
      return { blob: image.thumb, kind: 'thumbnail', ...(e.reason === 'none' ? {} : { problem: e.message, reason: e.reason }) };
    }
  }

  /**
   * The key of a root the user gave access to (a dropped or picked folder, or a single file), stored once: the same
   * folder dropped again (isSameEntry) reuses its key.
   */
  async linkRoot(handle: FileSystemDirectoryHandle | FileSystemFileHandle): Promise<string> {
    for (const r of this.roots.values()) {
      if (r.handle.kind === handle.kind && (await r.handle.isSameEntry(handle).catch(() => false))) return r.key;
    }
    const root: RootRecord = { key: crypto.randomUUID(), name: handle.name, handle, addedAt: Date.now() };
    await this.store.putRoot(root);
    this.roots.set(root.key, root);
    return root.key;
  }

  /** The linked folders and files, with their permission now and how many photos each holds. */
  async folders(): Promise<LinkedFolder[]> {
    const counts = new Map<string, number>();
    for (const s of await this.store.listSources()) if ('disk' in s) counts.set(s.disk.root, (counts.get(s.disk.root) ?? 0) + 1);
    return Promise.all(
      [...this.roots.values()].map(async (r) => ({
        key: r.key,
        name: r.name,
        kind: r.handle.kind,
        handle: r.handle,
        permission: await permission(r.handle),
        photos: counts.get(r.key) ?? 0,
      })),
    );
  }

  private async readDisk(link: DiskLink, image: ImageRecord): Promise<File> {
    const root = this.roots.get(link.root) ?? (await this.store.getRoot(link.root));
    if (!root) throw new PhotoUnavailable(`the folder "${image.path || image.name}" was linked but its access is no longer stored: add the photo again`, 'missing');
    const state = await permission(root.handle);
    if (state !== 'granted') {
      throw new PhotoUnavailable(`"${root.name}" needs your permission again to read "${image.name}" from disk: allow access to it (a click on the page)`, 'permission');
    }
    try {
      let dir = root.handle;
      const folders = link.path.slice(0, -1);
      if (dir.kind === 'file') return await dir.getFile();
      for (const name of folders) dir = await (dir as FileSystemDirectoryHandle).getDirectoryHandle(name);
      const file = await (dir as FileSystemDirectoryHandle).getFileHandle(link.path.at(-1)!);
      return await file.getFile();
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name === 'NotAllowedError' || name === 'SecurityError') {
        throw new PhotoUnavailable(`"${root.name}" needs your permission again to read "${image.name}" from disk: allow access to it (a click on the page)`, 'permission', e);
      }
      const where = [root.name, ...link.path].join('/');
      throw new PhotoUnavailable(`the original of "${image.name}" is no longer on disk at ${where} (moved, renamed or deleted)`, 'missing', e);
    }
  }
}

/** The read permission of a handle now ('granted' where the browser has no permission API, e.g. the origin-private file system). */
async function permission(handle: FileSystemHandle): Promise<PermissionState> {
  const h = handle as FileSystemHandle & PermissionHandle;
  return h.queryPermission ? h.queryPermission({ mode: 'read' }) : 'granted';
}
