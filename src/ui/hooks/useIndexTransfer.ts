// Export of the whole index as one .npz download, and import of such a file, with what happened told in notices.
import { useState } from 'react';
import type { EngineStore } from '../engineStore';

export interface IndexTransfer {
  /** An export or import is running. */
  transferring: boolean;
  exportIndex: () => Promise<void>;
  importIndex: (file: File) => Promise<void>;
}

export function useIndexTransfer(store: EngineStore): IndexTransfer {
  const [transferring, setTransferring] = useState(false);

  const exportIndex = async () => {
    setTransferring(true);
    const exported = await store.run('Exporting the index', (api) => api.exportIndex({ photos: true }));
    setTransferring(false);
    if (!exported) return;
    // A download of a blob: URL made here; nothing leaves the device.
    const url = URL.createObjectURL(exported.file);
    const a = document.createElement('a');
    a.href = url;
    a.download = exported.fileName;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    store.notify('info', `Exported ${exported.photos} indexed photos to ${exported.fileName}.`);
  };

  const importIndex = async (file: File) => {
    setTransferring(true);
    const report = await store.run(`Importing ${file.name}`, (api) => api.importIndex(file));
    setTransferring(false);
    if (!report) return;
    store.addProblems(report.problems);
    const parts = [`${report.added} photos added`];
    if (report.indexed) parts.push(`${report.indexed} already here now indexed`);
    if (report.duplicates) parts.push(`${report.duplicates} already in the collection`);
    if (report.problems.length) parts.push(`${report.problems.length} not imported (see the list)`);
    store.notify(report.problems.length ? 'warning' : 'info', `Imported ${file.name}: ${parts.join(', ')}.`);
  };

  return { transferring, exportIndex, importIndex };
}
