// What the app keeps of each photo (a link to the file on disk, a bounded copy, or nothing), what that takes per
// photo (measured on this collection), and asking again for folders whose permission lapsed.
import { useCallback, useEffect, useState } from 'react';
import type { EngineInfo, LinkedFolder, StorageMode, StorageReport } from '../../worker-api/api';
import type { EngineStore } from '../engineStore';
import { formatBytes } from '../format';

const MODES: { mode: StorageMode; label: string; help: (copySide: number) => string }[] = [
  { mode: 'link', label: 'Link to the files on disk', help: (s) => `Folders you drop or pick stay where they are (the app asks to read them again on a later visit); other photos get a copy (long side ${s} px).` },
  { mode: 'copy', label: 'A copy in this browser', help: (s) => `Long side up to ${s} px: the collection does not depend on the files staying where they are.` },
  { mode: 'none', label: 'Thumbnails only', help: () => 'Linked where the browser allows, else nothing: the viewer shows the thumbnail and searches use the stored features.' },
];

export function StorageOptions(props: { store: EngineStore; info: EngineInfo | null; refreshKey: unknown }) {
  const { store, info } = props;
  const [report, setReport] = useState<StorageReport | null>(null);
  const [open, setOpen] = useState(false);
  const [folders, setFolders] = useState<LinkedFolder[]>([]);

  const readReport = useCallback(() => void store.run('Measuring the storage', (api) => api.storageReport()).then((r) => r && setReport(r)), [store]);
  // Measured while open (it reads every record), and again when the collection changes meanwhile.
  useEffect(() => {
    if (open) readReport();
  }, [open, readReport, props.refreshKey]);
  useEffect(() => {
    if (info) void store.run('Reading linked folders', (api) => api.linkedFolders()).then((f) => f && setFolders(f));
  }, [info, store]);

  if (!info) return null;
  const { mode, copySide } = info.storage;
  const lapsed = folders.filter((f) => f.permission === 'prompt');
  const allow = async () => {
    // Must run from the click: the browser asks the user once per folder.
    for (const f of lapsed) await (f.handle as unknown as { requestPermission(o: { mode: 'read' }): Promise<PermissionState> }).requestPermission({ mode: 'read' }).catch(() => 'denied');
    await store.run('Reading the linked folders', (api) => api.foldersGranted());
    const f = await store.run('Reading linked folders', (api) => api.linkedFolders());
    if (f) setFolders(f);
  };

  return (
    <>
      {lapsed.length > 0 && (
        <button type="button" className="btn small" data-testid="allow-folders" onClick={() => void allow()} title={lapsed.map((f) => `${f.name}: ${f.photos} photos`).join('\n')}>
          Allow reading {lapsed.length === 1 ? `folder “${lapsed[0].name}”` : `${lapsed.length} folders`} again
        </button>
      )}
      <details className="storage-options" data-testid="storage-options" data-mode={mode} onToggle={(e) => setOpen(e.currentTarget.open)}>
        <summary className="chip">
          <span className="chip-label">Keep</span> {MODES.find((m) => m.mode === mode)?.label ?? mode}
        </summary>
        <div className="storage-options-body">
          <fieldset>
            <legend>What to keep of each photo added from now on</legend>
            {MODES.map((m) => (
              <label key={m.mode} className="storage-mode">
                <input
                  type="radio"
                  name="storage-mode"
                  value={m.mode}
                  checked={mode === m.mode}
                  onChange={() => void store.setStorageMode(m.mode)}
                  data-testid={`storage-mode-${m.mode}`}
                />
                <span>
                  <strong>{m.label}</strong>
                  <span className="muted"> — {m.help(copySide)}</span>
                </span>
              </label>
            ))}
          </fieldset>
          {report && <PerPhoto report={report} />}
        </div>
      </details>
    </>
  );
}

/** Mean bytes per indexed photo by part, measured on this collection, against the budget. */
function PerPhoto({ report }: { report: StorageReport }) {
  const p = report.perPhoto;
  const rows: [string, number][] = [
    ['Thumbnail', p.thumbnail],
    ['Photo (copy)', p.photo],
    ['Feature maps', p.maps],
    ['Descriptor', p.descriptor],
    ['Class probabilities', p.probabilities],
  ];
  return (
    <div className="storage-per-photo" data-testid="storage-per-photo" data-total={Math.round(p.total)}>
      <p>
        <strong>{formatBytes(p.total)} per photo</strong> <span className="muted">(budget {formatBytes(report.budgetPerPhoto)}; {report.photos} photos: {report.bySource.disk} linked, {report.bySource.copy} copied, {report.bySource.none} thumbnail only)</span>
      </p>
      <table>
        <tbody>
          {rows.map(([name, bytes]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td>{formatBytes(bytes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
