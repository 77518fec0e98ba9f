/** Small helpers for the failures the worker handles. */

export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The disk is full (src/index/db.ts throws a StorageFullError): what is stored is kept, writing stops. */
export const isStorageFull = (e: unknown): e is Error => e instanceof Error && e.name === 'StorageFullError';

/** For a failure that does not matter (`.catch(noop)`), or a promise that never settles (`new Promise(noop)`). */
export const noop = (): void => undefined;
