/**
 * Transactions that are all-or-nothing, and a full disk as one error with a message for the user.
 */

export class StorageFullError extends Error {
  constructor(cause: unknown) {
    super('The browser storage for this site is full: free some disk space or clear the collection, then try again.');
    this.name = 'StorageFullError';
    this.cause = cause;
  }
}

const isQuotaError = (e: unknown) => {
  const { name, message } = (e ?? {}) as { name?: unknown; message?: unknown };
  return name === 'QuotaExceededError' || (typeof message === 'string' && /quota/i.test(message));
};

/**
 * Issues the requests of one readwrite transaction and waits for it to commit. On ANY failure (a request that
 * throws or fails, a commit refused for quota) the transaction is aborted, so nothing of it is written.
 */
export async function commit(tx: { done: Promise<void>; abort(): void }, requests: (() => Promise<unknown>)[]): Promise<void> {
  const pending: Promise<unknown>[] = [];
  try {
    for (const request of requests) {
      const p = request();
      p.catch(() => undefined); // reported through Promise.all below, never as an unhandled rejection
      pending.push(p);
    }
    await Promise.all(pending);
    await tx.done;
  } catch (e) {
    try {
      tx.abort();
    } catch {
      /* already aborted or committed */
    }
    await tx.done.catch(() => undefined);
    throw e;
  }
}

export async function writing<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw isQuotaError(e) ? new StorageFullError(e) : e;
  }
}

