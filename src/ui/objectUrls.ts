/**
 * Object URLs for blobs (thumbnails, photos), made only while something on screen shows them and revoked when the
 * last one goes: a 50,000-photo collection never holds 50,000 URLs, only those of the tiles in view.
 */
import { useCallback, useSyncExternalStore } from 'react';

const live = new Map<Blob, { url: string; users: number }>();

function acquire(blob: Blob): void {
  const entry = live.get(blob);
  if (entry) entry.users++;
  else live.set(blob, { url: URL.createObjectURL(blob), users: 1 });
}

function release(blob: Blob): void {
  const entry = live.get(blob);
  if (!entry || --entry.users > 0) return;
  live.delete(blob);
  URL.revokeObjectURL(entry.url);
}

/** The object URL of `blob` while the calling component is mounted (null on its first render, and for no blob). */
export function useObjectUrl(blob: Blob | null | undefined): string | null {
  const subscribe = useCallback(
    (changed: () => void) => {
      if (!blob) return () => undefined;
      acquire(blob);
      changed();
      return () => release(blob);
    },
    [blob],
  );
  return useSyncExternalStore(subscribe, () => (blob ? (live.get(blob)?.url ?? null) : null));
}
