// With ?debug=1: window.cwApp, the worker API, its debug tools and the page state for tests and troubleshooting.
import { useEffect } from 'react';
import type { SearchResponse } from '../../worker-api/api';
import type { EngineStore } from '../engineStore';

declare global {
  interface Window {
    /** With ?debug=1: the worker API, its debug tools (src/worker-api/debugApi.ts) and the page state, for tests and troubleshooting. */
    cwApp?: { api: EngineStore['api']; debug: EngineStore['debug']; state: () => unknown; response: () => SearchResponse | null };
  }
}

/** Keeps window.cwApp up to date (set again after each render that changed the response). */
export function useDebugHandle(enabled: boolean, store: EngineStore, response: SearchResponse | null): void {
  useEffect(() => {
    if (!enabled) return;
    window.cwApp = { api: store.api, debug: store.debug, state: () => store.getSnapshot(), response: () => response };
  }, [enabled, store, response]);
}
