import type { ReactNode } from 'react';
import type { EngineInfo, ModelStatus } from '../../worker-api/api';
import { formatBytes } from '../format';

/** The model menu's last entry: opens the dialog to load a model of one's own. */
export const LOAD_MODEL = '__load-model__';

export function Header(props: {
  info: EngineInfo | null;
  model: ModelStatus;
  photoCount: number;
  indexedCount: number;
  onModelChange: (id: string) => void;
  /** Extra status at the right (storage). */
  children?: ReactNode;
}) {
  const { info, model } = props;
  const modelState =
    model.state === 'loading'
      ? `loading${model.bytes ? ` ${formatBytes(model.bytes)}` : ''}…`
      : model.state === 'error'
        ? 'failed to load'
        : model.state === 'ready'
          ? 'ready'
          : '';
  return (
    <header className="app-header">
      <div className="brand">
        <svg className="logo" viewBox="0 0 32 32" aria-hidden="true">
          <rect x="3" y="3" width="26" height="26" rx="7" fill="currentColor" opacity="0.15" />
          <circle cx="14" cy="14" r="6.5" fill="none" stroke="currentColor" strokeWidth="2.6" />
          <path d="M19 19l6 6" stroke="currentColor" strokeWidth="2.6" strokeLinecap="round" />
        </svg>
        <div>
          <h1>Instance Search</h1>
          <p className="tagline">Class-weighted CNN features · runs entirely in your browser</p>
        </div>
      </div>
      <div className="header-status" aria-label="Engine">
        <span
          className={`chip ${info?.backendNote ? 'chip-warning' : ''}`}
          data-testid="backend"
          data-note={info?.backendNote ?? undefined}
          title={[info?.adapter ? `WebGPU adapter: ${info.adapter}` : '', info?.backendNote ?? ''].filter(Boolean).join('\n') || undefined}
        >
          <span className="chip-label">Backend</span> {info?.backend ?? '…'}
        </span>
        {info && <span className="model-state" data-testid="backend-reason">{info.backendReason}</span>}
        <label className="chip select-chip">
          <span className="chip-label">Model</span>
          <select
            data-testid="model-select"
            value={info?.model.id ?? ''}
            disabled={!info}
            onChange={(e) => props.onModelChange(e.target.value)}
            aria-describedby="model-state"
          >
            {(info?.models ?? []).map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}
                {m.custom ? ' (yours)' : ''}
              </option>
            ))}
            <option value={LOAD_MODEL}>Load a model…</option>
          </select>
        </label>
        <span className="chip" title="Network input: long side in pixels">
          <span className="chip-label">Input</span> {info ? `${info.longSide} px` : '…'}
        </span>
        <span id="model-state" className={`model-state ${model.state}`} data-testid="model-state" data-state={model.state}>
          {modelState}
        </span>
      </div>
      <div className="header-actions">
        {props.children}
        <span className="count" data-testid="collection-count">
          {props.photoCount} {props.photoCount === 1 ? 'photo' : 'photos'}
          {props.photoCount > 0 && ` · ${props.indexedCount} indexed`}
        </span>
      </div>
    </header>
  );
}
