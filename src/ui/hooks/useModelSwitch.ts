// Switching the model: a shipped one from the header, or one the user brings through the model loader dialog.
import { useState } from 'react';
import type { CustomModelOptions, CustomModelSource, EngineInfo } from '../../worker-api/api';
import { LOAD_MODEL } from '../components/Header';
import type { EngineStore } from '../engineStore';
import { errorMessage } from '../format';

export interface ModelSwitch {
  /** The model loader dialog is open. */
  loaderOpen: boolean;
  closeLoader: () => void;
  /** The header's model choice: a model id, or LOAD_MODEL (opens the loader). */
  changeModel: (id: string) => void;
  /** The loader's submit: resolves to an error message, or null when the model was kept and chosen. */
  loadModel: (src: CustomModelSource, opts: CustomModelOptions) => Promise<string | null>;
}

/** A model forced by the URL follows the choice, so reloading this address does not switch back (and re-index). */
function followInUrl(modelId: string): void {
  const url = new URL(location.href);
  if (url.searchParams.has('model')) {
    url.searchParams.set('model', modelId);
    history.replaceState(history.state, '', url);
  }
}

/** `photoCount`: photos that a switch indexes again (the user confirms first); `clearQuery`: the old model's query goes. */
export function useModelSwitch(store: EngineStore, info: EngineInfo | null, photoCount: number, clearQuery: () => void): ModelSwitch {
  const [loaderOpen, setLoaderOpen] = useState(false);

  const changeModel = (id: string) => {
    if (id === LOAD_MODEL) {
      setLoaderOpen(true);
      return;
    }
    if (!info || id === info.model.id) return;
    const name = info.models.find((m) => m.id === id)?.name ?? id;
    if (photoCount && !window.confirm(`Switch to ${name}? All ${photoCount} photos will be indexed again with it.`)) return;
    clearQuery();
    followInUrl(id);
    void store.setModel(id);
  };

  /** A model the user brings: checked in the worker first; nothing changes unless it is usable. */
  const loadModel = async (src: CustomModelSource, opts: CustomModelOptions): Promise<string | null> => {
    try {
      const r = await store.api.addCustomModel(src, opts);
      const labels = r.labels === 'numbered' ? ' No labels.json: its classes are numbered.' : '';
      const summary = `${r.model.name}: ${r.classes} classes, feature layer ${r.featureLayer} (${r.channels} channels, one cell per ${r.stride} px), classifier ${r.classifierLayer}.${labels}`;
      if (photoCount && !window.confirm(`${summary}\n\nUse it? All ${photoCount} photos will be indexed again with it.`)) return null;
      setLoaderOpen(false);
      store.notify('info', `Model checked and kept. ${summary}`);
      clearQuery();
      followInUrl(r.model.id);
      await store.setModel(r.model.id);
      return null;
    } catch (e) {
      return `This model cannot be used: ${errorMessage(e)}`;
    }
  };

  return { loaderOpen, closeLoader: () => setLoaderOpen(false), changeModel, loadModel };
}
