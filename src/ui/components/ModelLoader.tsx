import { useEffect, useRef, useState, type DragEvent, type FormEvent } from 'react';
import type { CustomModelOptions, CustomModelSource } from '../../worker-api/api';

/**
 * Loading a model the user brings: the files of a TensorFlow.js layers model (model.json, its weight files,
 * optionally labels.json), chosen or dropped here, or the address of a model.json ON THIS SITE (the app may not
 * connect to other sites). The worker checks it before anything changes (`onLoad` resolves to an error message, or
 * null when the model was kept and chosen).
 */
export function ModelLoader(props: { onLoad: (source: CustomModelSource, options: CustomModelOptions) => Promise<string | null>; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [files, setFiles] = useState<File[]>([]);
  const [url, setUrl] = useState('');
  const [name, setName] = useState('');
  const [preprocessing, setPreprocessing] = useState<CustomModelOptions['preprocessing']>('inception');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const source: CustomModelSource | null = files.length ? { kind: 'files', files } : url.trim() ? { kind: 'url', url: url.trim() } : null;
    if (!source) {
      setError('Choose the model files, or give the address of its model.json.');
      return;
    }
    setBusy(true);
    setError(null);
    const problem = await props.onLoad(source, { name: name.trim() || undefined, preprocessing });
    setBusy(false);
    if (problem) setError(problem);
  };

  // Files dropped here are the model's, never photos for the collection.
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    e.stopPropagation();
    setFiles(Array.from(e.dataTransfer.files ?? []));
  };
  const stop = (e: DragEvent) => {
    e.preventDefault();
    e.stopPropagation();
  };

  return (
    <dialog ref={ref} className="model-loader" data-testid="model-loader" onClose={props.onClose} onDragEnter={stop} onDragOver={stop} onDrop={onDrop} aria-labelledby="model-loader-title">
      <form method="dialog" onSubmit={(e) => void submit(e)}>
        <h2 id="model-loader-title">Load a model</h2>
        <p className="muted">
          A TensorFlow.js layers model whose last convolutional layer feeds global average pooling and one linear classifier (the head that gives class
          activation maps). It is checked before it is used; your photos are then indexed again with it.
        </p>
        <label className="field">
          <span>Files: model.json, its weight files (.bin) and, optionally, labels.json (one name per class; without it the classes are numbered)</span>
          <input type="file" multiple accept=".json,.bin,application/json,application/octet-stream" data-testid="model-files" onChange={(e) => setFiles(Array.from(e.target.files ?? []))} />
        </label>
        {files.length > 0 && (
          <p className="muted" data-testid="model-files-chosen">
            {files.length} {files.length === 1 ? 'file' : 'files'}: {files.map((f) => f.name).join(', ')}
          </p>
        )}
        <label className="field">
          <span>or the address of its model.json on this site (models on other sites cannot be loaded: the app only talks to this site)</span>
          <input type="text" inputMode="url" placeholder="/models/my-model/model.json" value={url} onChange={(e) => setUrl(e.target.value)} data-testid="model-url" />
        </label>
        <div className="field-row">
          <label className="field">
            <span>Input scaling it was trained with</span>
            <select value={preprocessing} onChange={(e) => setPreprocessing(e.target.value as CustomModelOptions['preprocessing'])} data-testid="model-preprocessing">
              <option value="inception">RGB scaled to [-1, 1] (MobileNet, Inception, Keras "tf")</option>
              <option value="caffe">BGR minus the ImageNet mean (ResNet-50 from Keras, "caffe")</option>
            </select>
          </label>
          <label className="field">
            <span>Name (optional)</span>
            <input type="text" value={name} maxLength={80} onChange={(e) => setName(e.target.value)} data-testid="model-name" />
          </label>
        </div>
        {error && (
          <p className="error-text" role="alert" data-testid="model-error">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={() => ref.current?.close()}>
            Cancel
          </button>
          <button type="submit" className="btn primary" disabled={busy} data-testid="model-load">
            {busy ? 'Checking…' : 'Check and use'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
