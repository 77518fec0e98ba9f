// The page's four file pickers (photos, a folder, a query photo, an exported index), opened from buttons elsewhere.
import { useImperativeHandle, useRef, type ChangeEvent, type Ref } from 'react';
import type { ImportFile } from '../../worker-api/api';
import { filesFromDirectoryHandle, filesFromInput } from '../importFiles';

/** Opens one of the pickers (what is chosen goes to the matching callback). */
export interface FilePickers {
  photos: () => void;
  folder: () => void;
  query: () => void;
  index: () => void;
}

export function HiddenInputs({
  ref,
  onPhotos,
  onQueryFile,
  onIndexFile,
}: {
  ref: Ref<FilePickers>;
  /** Photos or a folder chosen for the collection. */
  onPhotos: (files: ImportFile[]) => void;
  /** A photo chosen as the query (searched, not added). */
  onQueryFile: (file: File) => void;
  /** An exported index (.npz) to import. */
  onIndexFile: (file: File) => void;
}) {
  const filesInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const queryInput = useRef<HTMLInputElement>(null);
  const indexInput = useRef<HTMLInputElement>(null);
  useImperativeHandle(ref, () => ({
    photos: () => filesInput.current?.click(),
    // Where the browser has a folder picker with handles, the photos can be linked on disk (storage 'link').
    folder: () => (directoryPicker ? void pickDirectory(onPhotos, () => folderInput.current?.click()) : folderInput.current?.click()),
    query: () => queryInput.current?.click(),
    index: () => indexInput.current?.click(),
  }));

  /** The photo and folder pickers: import what was chosen, then reset so the same files can be chosen again. */
  const onPhotosChosen = (e: ChangeEvent<HTMLInputElement>) => {
    onPhotos(filesFromInput(e.target.files));
    e.target.value = '';
  };

  return (
    <>
      <input
        ref={indexInput}
        type="file"
        accept=".npz,application/zip,application/octet-stream"
        hidden
        data-testid="index-input"
        aria-label="Import an exported index"
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = '';
          if (file) onIndexFile(file);
        }}
      />
      <input ref={filesInput} type="file" accept="image/*" multiple hidden data-testid="file-input" aria-label="Add photos" onChange={onPhotosChosen} />
      <input
        ref={(el) => {
          folderInput.current = el;
          if (el) el.webkitdirectory = true;
        }}
        type="file"
        multiple
        hidden
        data-testid="folder-input"
        aria-label="Add a folder"
        onChange={onPhotosChosen}
      />
      <input
        ref={queryInput}
        type="file"
        accept="image/*"
        hidden
        data-testid="query-input"
        aria-label="Choose a query photo"
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) onQueryFile(file);
          e.target.value = '';
        }}
      />
    </>
  );
}

type DirectoryPicker = (options?: { mode?: 'read' }) => Promise<FileSystemDirectoryHandle>;
const directoryPicker = typeof window !== 'undefined' ? (window as unknown as { showDirectoryPicker?: DirectoryPicker }).showDirectoryPicker : undefined;

/** showDirectoryPicker (Chromium): the folder's files with its handle. Cancelled: nothing; refused: the plain input. */
async function pickDirectory(onPhotos: (files: ImportFile[]) => void, fallback: () => void): Promise<void> {
  let root: FileSystemDirectoryHandle;
  try {
    root = await directoryPicker!.call(window, { mode: 'read' });
  } catch (e) {
    if ((e as Error)?.name !== 'AbortError') fallback();
    return;
  }
  onPhotos(await filesFromDirectoryHandle(root));
}
