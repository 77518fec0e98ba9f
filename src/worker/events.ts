/**
 * The worker's one event channel. Services publish what happened (photos indexed, removed, reset or queued, the
 * progress to show changed, other tabs changed the collection, the collection closed) and subscribe to what they
 * follow, instead of calling back into each other or into the engine; who follows what is written in one place,
 * ./compose.ts. The page's events (EngineEvent) go through it too: the page is one subscriber (`toPage`).
 */
import type { EngineEvent } from '../worker-api/api';
import type { IncomingChanges } from './services/tabSync';

/** Events between services only (never sent to the page). */
type ServiceEvent =
  /** Photos were queued for the network (read in, or restored by undo): indexing starts if it is idle. */
  | { type: 'photos-queued' }
  /** What the progress shows changed outside the indexer (files waiting to be read in): it is sent again. */
  | { type: 'progress-changed' }
  /** Other tabs of this app changed the collection (a batch of their announcements): this tab follows. */
  | { type: 'tabs-changed'; changes: IncomingChanges };

export type WorkerEvent = EngineEvent | ServiceEvent;
export type WorkerEventType = WorkerEvent['type'];
export type EventOf<T extends WorkerEventType> = Extract<WorkerEvent, { type: T }>;

/** How a service publishes. */
export type Emit = (event: WorkerEvent) => void;

/** Every service event's type (a new one does not compile until it is listed): they stay in the worker. */
const SERVICE_ONLY: Record<ServiceEvent['type'], true> = { 'photos-queued': true, 'progress-changed': true, 'tabs-changed': true };
const forThePage = (e: WorkerEvent): e is EngineEvent => !(e.type in SERVICE_ONLY);

export class EventChannel {
  private readonly handlers: { types: ReadonlySet<string> | null; handler: (event: WorkerEvent) => void }[] = [];

  /** Publishes to every subscriber, in the order they subscribed; one that throws does not stop the others. */
  readonly emit: Emit = (event) => {
    for (const { types, handler } of this.handlers) {
      if (types && !types.has(event.type)) continue;
      try {
        handler(event);
      } catch (e) {
        console.warn(`[events] a subscriber to '${event.type}' failed:`, e);
      }
    }
  };

  /** Subscribes to events of these types. */
  on<T extends WorkerEventType>(types: T | readonly T[], handler: (event: EventOf<T>) => void): void {
    this.handlers.push({ types: new Set(typeof types === 'string' ? [types] : types), handler: handler as (event: WorkerEvent) => void });
  }

  /** Subscribes the page: every event meant for it (the service events stay in the worker). */
  toPage(send: (event: EngineEvent) => void): void {
    this.handlers.push({ types: null, handler: (e) => forThePage(e) && send(e) });
  }
}
