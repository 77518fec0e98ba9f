/**
 * Tab sync: tabs of this app on one collection (same origin) coordinate through Web Locks and a BroadcastChannel.
 * One tab at a time runs the network over the queue (INDEXER_LOCK); each tab holds a lock named after its session
 * while it lives (so files it is still reading in are not reported as lost by another tab); every write is
 * announced on the channel, and what other tabs announce is published in batches ('tabs-changed': TabFollower
 * applies them).
 */
import { noop } from '../errors';
import type { Emit } from '../events';
import type { Session } from './session';

const INDEXER_LOCK = 'cw-instance-search:indexer';
const sessionLock = (session: string) => `cw-instance-search:session:${session}`;
const CHANNEL = 'cw-instance-search';

export type Broadcast = { type: 'added' | 'indexed' | 'removed'; ids: string[] } | { type: 'reset' | 'settings' };

/** What other tabs changed since the last batch: photos, or everything (settings, clear). */
export interface IncomingChanges {
  added: Set<string>;
  indexed: Set<string>;
  removed: Set<string>;
  full: boolean;
}

interface LockManagerLike {
  request(name: string, options: { ifAvailable?: boolean; signal?: AbortSignal }, callback: (lock: unknown) => Promise<void>): Promise<void>;
  request(name: string, callback: (lock: unknown) => Promise<void>): Promise<void>;
  query(): Promise<{ held?: { name?: string }[] }>;
}
const webLocks = (): LockManagerLike | null => (self.navigator as unknown as { locks?: LockManagerLike }).locks ?? null;

const noChanges = (): IncomingChanges => ({ added: new Set(), indexed: new Set(), removed: new Set(), full: false });

export class TabSync {
  private channel: BroadcastChannel | null = null;
  private incoming = noChanges();
  private incomingTimer: ReturnType<typeof setTimeout> | null = null;
  private lockWait: AbortController | null = null;

  constructor(
    private readonly session: Session,
    private readonly emit: Emit,
  ) {}

  /** Holds this session's lock for as long as the worker lives, and listens to the other tabs. */
  start(): void {
    webLocks()
      ?.request(sessionLock(this.session.id), () => new Promise<void>(noop))
      .catch(noop);
    if (typeof BroadcastChannel === 'undefined') return;
    this.channel = new BroadcastChannel(CHANNEL);
    this.channel.onmessage = (e: MessageEvent<Broadcast>) => this.onMessage(e.data);
  }

  close(): void {
    this.lockWait?.abort();
    this.channel?.close();
  }

  broadcast(message: Broadcast): void {
    try {
      this.channel?.postMessage(message);
    } catch {
      /* channel closed */
    }
  }

  /** Another tab wrote to the collection: published in batches. */
  private onMessage(m: Broadcast): void {
    if (this.session.closed || !m || typeof m !== 'object') return;
    if (m.type === 'reset' || m.type === 'settings') this.incoming.full = true;
    else if (m.type === 'added' || m.type === 'indexed' || m.type === 'removed') for (const id of m.ids ?? []) this.incoming[m.type].add(id);
    this.incomingTimer ??= setTimeout(() => {
      this.incomingTimer = null;
      const changes = this.incoming;
      this.incoming = noChanges();
      this.emit({ type: 'tabs-changed', changes });
    }, 100);
  }

  /**
   * Runs `work` holding the cross-tab indexer lock. When another tab holds it, calls `onWait` and waits, then
   * `onTakeOver` (bring the collection up to date) and `work`, when that tab finishes or closes; `abortWait` ends the
   * wait. Returns false when the wait was aborted (nothing ran).
   */
  async withIndexerLock(work: () => Promise<void>, hooks: { onWait: () => void; onTakeOver: () => Promise<void>; stopped: () => boolean }): Promise<boolean> {
    const locks = webLocks();
    if (!locks) {
      await work();
      return true;
    }
    let got = false;
    await locks.request(INDEXER_LOCK, { ifAvailable: true }, async (lock) => {
      if (!lock) return;
      got = true;
      await work();
    });
    if (got || hooks.stopped()) return got;
    hooks.onWait();
    const abort = new AbortController();
    this.lockWait = abort;
    try {
      await locks.request(INDEXER_LOCK, { signal: abort.signal }, async () => {
        if (hooks.stopped()) return;
        await hooks.onTakeOver();
        await work();
      });
      return true;
    } catch (e) {
      if (!(e instanceof Error && e.name === 'AbortError')) throw e;
      return false;
    } finally {
      this.lockWait = null;
    }
  }

  /** Stops waiting for the indexer lock. */
  abortWait(): void {
    this.lockWait?.abort();
  }

  /** Of these sessions, those whose tab is gone (no live lock); null when Web Locks cannot tell. */
  async deadSessions(sessions: readonly string[]): Promise<Set<string> | null> {
    const locks = webLocks();
    if (!locks) return null;
    const held = await locks.query().then((q) => new Set((q.held ?? []).map((l) => l.name ?? '')), () => null);
    if (!held) return null;
    return new Set(sessions.filter((s) => !held.has(sessionLock(s))));
  }
}
