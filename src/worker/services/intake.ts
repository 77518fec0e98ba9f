/**
 * Intake: reading dropped files in, one at a time, before the network sees them — type check, content sniffing,
 * SHA-256 content id (duplicates are skipped), thumbnail, and a link to the original on disk or a bounded copy
 * (the storage setting) — and storing each photo with its queue
 * entry in one transaction. Every dropped file is recorded as pending first, so a tab closed half-way can tell the
 * next visit what was never read in.
 */
import type { CollectionStore, SourceWrite } from '../../index/db';
import { DEFAULT_STORAGE } from '../../index/settings';
import { sha256Hex } from '../../index/hash';
import type { FileProblem, ImportFile } from '../../worker-api/api';
import { ImportProblem, preparePhoto } from '../images';
import { sniffImage } from '../imageSniff';
import type { CollectionState } from './collectionState';
import type { Photos } from './photos';
import { errorMessage, isStorageFull, noop } from '../errors';
import type { Emit } from '../events';
import type { Session, Settings } from './session';
import type { TabSync } from './tabSync';

/** Extensions imported from dropped folders even when the browser gives no MIME type. */
const IMAGE_NAME = /\.(jpe?g|jfif|pjpe?g|png|webp|gif|bmp|avif|ico|heic|heif|tiff?)$/i;

type IntakeFile = ImportFile & { pendingKey: string };

export interface IntakeDeps {
  store: CollectionStore;
  session: Session;
  settings: Settings;
  state: CollectionState;
  photos: Photos;
  tabs: TabSync;
  /** Publishes the page's events, 'progress-changed' (files waiting to be read in) and 'photos-queued'. */
  emit: Emit;
}

export class Intake {
  private files: IntakeFile[] = [];
  private running: Promise<void> | null = null;
  /** Bumped by "clear collection": a file read in meanwhile is dropped instead of reappearing after the clear. */
  private generation = 0;

  constructor(private readonly deps: IntakeDeps) {}

  /** Files dropped but not read in yet (the one being read included). */
  get waiting(): number {
    return this.files.length + (this.running ? 1 : 0);
  }

  /** Resolves when nothing is being read in. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  add(files: ImportFile[]): Promise<void> {
    const { store, session } = this.deps;
    const entries: IntakeFile[] = files.map((f) => ({ ...f, pendingKey: session.nextPendingKey() }));
    this.files.push(...entries);
    this.deps.emit({ type: 'progress-changed' });
    // Recorded before anything is read: if this tab closes half-way, the next visit lists what was not read in.
    // (This transaction is created now, so it commits before any photo's write below, which deletes its entry.)
    const now = Date.now();
    store
      .addPending(entries.map((e) => ({ key: e.pendingKey, session: session.id, name: e.file.name, path: e.path, size: e.file.size, addedAt: now })))
      .catch((e: unknown) => console.warn('[import] the files to read in could not be recorded:', e));
    return this.drain();
  }

  /** Empties the files waiting to be read in (cancel, clear, closed) and forgets them as pending. */
  drop(): void {
    const keys = this.files.splice(0).map((f) => f.pendingKey);
    this.deps.store.removePending(keys).catch(noop);
  }

  /** The collection closed in this tab for good: forget the waiting files (their pending records stay for the next visit). */
  abandon(): void {
    this.files.length = 0;
  }

  /** The collection is being cleared: files read in from now on belong to the old one and are dropped. */
  newGeneration(): void {
    this.drop();
    this.generation++;
  }

  /** Files another visit dropped but never read in (the tab closed meanwhile): listed so they can be added again. */
  async reportInterrupted(): Promise<void> {
    const { store, tabs, emit } = this.deps;
    const pending = await store.listPending().catch(() => []);
    // Without Web Locks there is no telling a live tab from a closed one: leave its files alone.
    const dead = await tabs.deadSessions([...new Set(pending.map((p) => p.session))]);
    if (!dead) return;
    const orphans = pending.filter((p) => dead.has(p.session));
    if (!orphans.length) return;
    emit({
      type: 'file-problems',
      problems: orphans.map((p) => ({
        name: p.name,
        path: p.path,
        kind: 'interrupted' as const,
        message: 'not read in: the page was closed during the import. Add it again (photos already in the collection are skipped).',
      })),
    });
    await store.removePending(orphans.map((p) => p.key)).catch(noop);
  }

  private drain(): Promise<void> {
    // Nothing to read (an empty import): readAll would end before `running` is set, and `running` would stay set.
    if (!this.files.length) return this.running ?? Promise.resolve();
    this.running ??= this.readAll(); // which sets `running` back to null when it ends
    return this.running;
  }

  private async readAll(): Promise<void> {
    const { settings, emit } = this.deps;
    const counts = { duplicates: 0, notImages: 0, added: 0 };
    /** Content id -> name, for the files read in by this drain. */
    const seen = new Map<string, string>();
    try {
      while (this.files.length) {
        await this.readOne(this.files.shift()!, seen, counts);
        emit({ type: 'progress-changed' });
      }
    } finally {
      this.running = null;
      if (counts.duplicates || counts.notImages) emit({ type: 'skipped', duplicates: counts.duplicates, notImages: counts.notImages });
      if (counts.added && settings.current.paused) await settings.save({ paused: false }).catch(noop);
      emit({ type: 'photos-queued' });
      emit({ type: 'progress-changed' });
    }
  }

  private async readOne({ file, path, handle, pendingKey }: IntakeFile, seen: Map<string, string>, counts: { duplicates: number; notImages: number; added: number }): Promise<void> {
    const { store, state, settings, tabs, emit } = this.deps;
    const problem = (p: FileProblem) => emit({ type: 'file-problems', problems: [p] });
    if (!file.type.startsWith('image/') && !IMAGE_NAME.test(file.name)) {
      counts.notImages++;
      problem({ name: file.name, path, kind: 'skipped', message: `skipped: not an image${file.type ? ` (${file.type})` : ' (by its name)'}` });
      await store.removePending([pendingKey]).catch(noop);
      return;
    }
    const generation = this.generation;
    try {
      let bytes: ArrayBuffer;
      try {
        bytes = await file.arrayBuffer();
      } catch (e) {
        throw new ImportProblem('the file could not be read (moved, deleted or no longer readable)', e);
      }
      if (!bytes.byteLength) throw new ImportProblem('the file is empty (0 bytes)');
      const header = sniffImage(new Uint8Array(bytes));
      const id = await sha256Hex(bytes);
      const same = seen.get(id) ?? state.names.get(id);
      if (same !== undefined) {
        counts.duplicates++;
        problem({ name: file.name, path, kind: 'duplicate', message: `the same photo as "${same}", already in the collection: not added again` });
        await store.removePending([pendingKey]).catch(noop);
        return;
      }
      seen.set(id, file.name);
      // What is kept of the photo itself: a link to the original on disk where there is a handle (unless copies are
      // asked for), else a bounded copy, or nothing but the thumbnail.
      const mode = settings.current.storage ?? DEFAULT_STORAGE;
      // ('none' keeps a copy until the photo is indexed: the network has to read it once.)
      const link = handle && mode !== 'copy';
      const p = await preparePhoto(file, header, !link);
      const source: SourceWrite = link ? { disk: { root: await this.deps.photos.linkRoot(handle.root), path: handle.path } } : mode === 'none' ? { blob: p.blob!, temporary: true } : { blob: p.blob! };
      const record = await store.addImage(
        {
          id,
          name: file.name,
          path,
          addedAt: Date.now(),
          width: p.width,
          height: p.height,
          originalBytes: file.size,
          originalType: file.type,
          originalWidth: p.originalWidth,
          originalHeight: p.originalHeight,
          stored: p.stored,
          source: link ? 'disk' : mode === 'none' ? 'none' : 'copy',
          thumb: p.thumb,
          thumbWidth: p.thumbWidth,
          thumbHeight: p.thumbHeight,
        },
        source,
        pendingKey,
      );
      if (!record) {
        // Added meanwhile by another tab.
        counts.duplicates++;
        problem({ name: file.name, path, kind: 'duplicate', message: 'the same photo is already in the collection: not added again' });
        return;
      }
      if (generation !== this.generation) {
        await store.removeImages([id]);
        return;
      }
      counts.added++;
      state.names.set(id, record.name);
      state.queue.push(id);
      emit({ type: 'photos-added', photos: [state.photoItem(record)] });
      tabs.broadcast({ type: 'added', ids: [id] });
    } catch (e) {
      const full = isStorageFull(e);
      problem({ name: file.name, path, message: errorMessage(e), kind: full ? 'storage' : 'error' });
      await store.removePending([pendingKey]).catch(noop);
      if (full) {
        // Nothing more fits: report the rest of this import in one go; what is stored stays.
        const rest = this.files.splice(0);
        if (rest.length) {
          emit({
            type: 'file-problems',
            problems: rest.map((r) => ({ name: r.file.name, path: r.path, kind: 'storage' as const, message: 'not imported: the browser storage for this site is full' })),
          });
        }
        await store.removePending(rest.map((r) => r.pendingKey)).catch(noop);
        emit({ type: 'storage-full', message: errorMessage(e) });
      }
    }
  }
}
