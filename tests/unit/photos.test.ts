/**
 * Where a photo is and reading it (src/worker/services/photos.ts) on fake-indexeddb: a stored copy, the original on
 * disk through a file-system handle (granted, permission lapsed, file gone), only the thumbnail. The handles here
 * are small in-memory stand-ins with the File System Access methods the app calls; the e2e test
 * (tests/e2e/app-storage.test.ts) runs the same code on real handles of the origin-private file system.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { openCollection, type CollectionStore, type SourceWrite } from '../../src/index/db';
import type { ImageRecord } from '../../src/index/schema';
import { Photos, isUnavailable } from '../../src/worker/services/photos';

class FakeFile {
  readonly kind = 'file';
  constructor(
    readonly name: string,
    private readonly bytes: string,
  ) {}
  async getFile(): Promise<File> {
    return new File([this.bytes], this.name, { type: 'image/jpeg' });
  }
  async isSameEntry(other: unknown): Promise<boolean> {
    return other === this;
  }
}

class FakeDirectory {
  readonly kind = 'directory';
  permission: PermissionState = 'granted';
  readonly entries = new Map<string, FakeDirectory | FakeFile>();
  constructor(readonly name: string) {}
  async queryPermission(): Promise<PermissionState> {
    return this.permission;
  }
  async isSameEntry(other: unknown): Promise<boolean> {
    return other === this;
  }
  private entry(name: string) {
    const e = this.entries.get(name);
    if (!e) throw new DOMException(`${name} not found`, 'NotFoundError');
    return e;
  }
  async getDirectoryHandle(name: string) {
    return this.entry(name) as FakeDirectory;
  }
  async getFileHandle(name: string) {
    return this.entry(name) as FakeFile;
  }
}

function image(id: string, source: ImageRecord['source']): Omit<ImageRecord, 'seq'> {
  return {
    id, name: `${id}.jpg`, path: '', addedAt: 1, width: 800, height: 600, originalBytes: 5, originalType: 'image/jpeg', originalWidth: 4000,
    originalHeight: 3000, stored: 'original', source, thumb: new Blob([`thumb ${id}`], { type: 'image/jpeg' }), thumbWidth: 320, thumbHeight: 240,
  };
}

let store: CollectionStore;
let photos: Photos;
let holiday: FakeDirectory;

beforeEach(async () => {
  globalThis.indexedDB = new IDBFactory();
  store = await openCollection();
  photos = new Photos(store);
  holiday = new FakeDirectory('holiday');
  const day1 = new FakeDirectory('day 1');
  holiday.entries.set('day 1', day1);
  day1.entries.set('a.jpg', new FakeFile('a.jpg', 'original a'));
});

async function add(id: string, source: SourceWrite, kind: ImageRecord['source']) {
  await store.addImage(image(id, kind), source);
}

describe('Photos', () => {
  it('reads a linked original from disk, decoded to the photo\'s pixel space; the same folder is linked once', async () => {
    const root = await photos.linkRoot(holiday as unknown as FileSystemDirectoryHandle);
    expect(await photos.linkRoot(holiday as unknown as FileSystemDirectoryHandle)).toBe(root);
    await add('a', { disk: { root, path: ['day 1', 'a.jpg'] } }, 'disk');
    const read = await photos.read('a');
    expect(await read!.blob.text()).toBe('original a');
    expect(read!.size).toEqual({ width: 800, height: 600 });
    const shown = await photos.file('a');
    expect([shown.kind, await shown.blob.text(), shown.problem]).toEqual(['original', 'original a', undefined]);
    const [folder] = await photos.folders();
    expect([folder.name, folder.kind, folder.permission, folder.photos]).toEqual(['holiday', 'directory', 'granted', 1]);
    expect(await photos.read('not-there')).toBeNull();
  });

  it('a lapsed permission and a file gone from disk are PhotoUnavailable with a message; the viewer gets the thumbnail and the reason', async () => {
    const root = await photos.linkRoot(holiday as unknown as FileSystemDirectoryHandle);
    await add('a', { disk: { root, path: ['day 1', 'a.jpg'] } }, 'disk');
    await add('b', { disk: { root, path: ['day 1', 'b.jpg'] } }, 'disk');

    const gone = await photos.read('b').catch((e: unknown) => e);
    expect(isUnavailable(gone) && gone.reason).toBe('missing');
    expect((gone as Error).message).toBe('the original of "b.jpg" is no longer on disk at holiday/day 1/b.jpg (moved, renamed or deleted)');
    expect(await photos.file('b')).toMatchObject({ kind: 'thumbnail', reason: 'missing' });
    expect(await (await photos.file('b')).blob.text()).toBe('thumb b');

    holiday.permission = 'prompt'; // a later visit: the handle came back from IndexedDB without permission
    const asked = await photos.read('a').catch((e: unknown) => e);
    expect(isUnavailable(asked) && asked.reason).toBe('permission');
    expect((asked as Error).message).toMatch(/"holiday" needs your permission again to read "a.jpg" from disk/);
    expect(await photos.file('a')).toMatchObject({ kind: 'thumbnail', reason: 'permission' });
    expect((await photos.folders())[0].permission).toBe('prompt');
    holiday.permission = 'granted'; // the page asked again (a click)
    expect(await (await photos.read('a'))!.blob.text()).toBe('original a');
  });

  it('a copy is read as it is; a photo kept as its thumbnail only shows the thumbnail without a problem, and cannot feed the network', async () => {
    await add('c', { blob: new Blob(['copy c']) }, 'copy');
    await add('n', { none: true }, 'none');
    expect(await photos.read('c')).toEqual({ blob: expect.any(Blob) });
    expect(await photos.file('c')).toMatchObject({ kind: 'copy' });
    expect(await photos.file('n')).toEqual({ blob: expect.any(Blob), kind: 'thumbnail' });
    const none = await photos.read('n').catch((e: unknown) => e);
    expect(isUnavailable(none) && none.reason).toBe('none');
    await expect(photos.file('zz')).rejects.toThrow(/no longer in the collection/);
  });
});
