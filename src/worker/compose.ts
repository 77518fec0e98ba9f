/**
 * The composition root: starts the tfjs backend, opens the collection's store, creates every service with only
 * what it needs, and writes down who follows which event (./events.ts). The engine (./engine.ts) and the debug
 * tools (./debug/debugTools.ts) only call into what this returns.
 */
import { openCollection, type CollectionStore } from '../index/db';
import type { EngineEvent, EngineInfo, StartOptions } from '../worker-api/api';
import { EventChannel } from './events';
import { Lock } from './lock';
import { ClassCounts } from './services/classCounts';
import { CollectionGraph } from './services/collectionGraph';
import { CollectionState } from './services/collectionState';
import { Deletion } from './services/deletion';
import { engineInfo } from './services/engineInfo';
import { GpuRuntime } from './services/gpuRuntime';
import { Indexer } from './services/indexer';
import { IndexTransfer } from './services/indexTransfer';
import { Intake } from './services/intake';
import { CollectionLifecycle } from './services/lifecycle';
import { ModelRegistry } from './services/modelRegistry';
import { NetworkManager } from './services/networkManager';
import { Photos } from './services/photos';
import { QuerySession } from './services/querySession';
import { scopeResolver } from './services/searchScopes';
import { Session, Settings } from './services/session';
import { TabFollower } from './services/tabFollower';
import { TabSync } from './services/tabSync';
import { ThumbnailUrls } from './services/thumbnailUrls';

export interface Services {
  store: CollectionStore;
  session: Session;
  lock: Lock;
  runtime: GpuRuntime;
  settings: Settings;
  registry: ModelRegistry;
  state: CollectionState;
  photos: Photos;
  network: NetworkManager;
  intake: Intake;
  indexer: Indexer;
  query: QuerySession;
  transfer: IndexTransfer;
  deletion: Deletion;
  graph: CollectionGraph;
  classes: ClassCounts;
  thumbUrls: ThumbnailUrls;
  lifecycle: CollectionLifecycle;
  /** The engine's description for the page. */
  info: () => EngineInfo;
}

/** Starts the backend, opens the store and creates the services; `onEvent` (the page) hears every event first. */
export async function composeServices(options: StartOptions, onEvent: (event: EngineEvent) => void): Promise<Services> {
  const events = new EventChannel();
  events.toPage(onEvent);
  const { emit } = events;
  const session = new Session();
  const lock = new Lock();
  const runtime = new GpuRuntime(emit);
  await runtime.start(options.backend, options.threads ?? null);
  /** The collection cannot be used in this tab any more: every service stops ('fatal', below), the page is told. */
  const shutDown = (message: string) => {
    if (session.closed) return;
    session.closed = message;
    emit({ type: 'fatal', message });
  };
  const store = await openCollection({
    onVersionChange: () => shutDown('This collection was upgraded by a newer version of the app in another tab: reload this page to go on.'),
    onBlocked: () =>
      emit({ type: 'notice', level: 'warning', message: 'The collection is being upgraded to a new version of the app: close the other tabs of this app (they use the old version) to finish.' }),
    onTerminated: () => shutDown("The browser closed this collection's storage (site data cleared, or a disk error): reload this page."),
  });

  const settings = new Settings(() => store);
  const registry = new ModelRegistry(() => store);
  const info = () => engineInfo({ settings, registry, runtime });
  const state = new CollectionState(store, settings, registry, emit);
  const tabs = new TabSync(session, emit);
  const photos = new Photos(store);
  const intake = new Intake({ store, session, settings, state, photos, tabs, emit });
  const network = new NetworkManager({ settings, registry, lock, emit, runtime, info, intakeIdle: () => intake.idle() });
  const indexer = new Indexer({ store, session, settings, state, network, runtime, intake, photos, tabs, lock, emit });
  const graph = new CollectionGraph({ state, settings, network, lock, emit, facts: (ids) => photos.facts(ids) });
  const classes = new ClassCounts(state, network);
  const query = new QuerySession(store, state, network, photos, lock, scopeResolver(graph, classes));
  const deletion = new Deletion({ store, session, settings, state, tabs, lock, emit, query });
  const transfer = new IndexTransfer({ store, session, settings, registry, state, tabs, lock, emit });
  const lifecycle = new CollectionLifecycle({ store, session, settings, registry, state, tabs, network, intake, indexer, query, photos, lock, emit, runtime, info });
  const follower = new TabFollower({ store, settings, registry, state, indexer, lifecycle, lock, emit, info });
  const thumbUrls = new ThumbnailUrls(() => store);

  // Who follows what. The page heard each event first (above).
  events.on('photos-indexed', () => lifecycle.onIndexed());
  // The collection tools follow every change of the collection, whichever service (or tab) made it.
  events.on(['photos-indexed', 'photos-removed', 'photos-reset'], (e) => {
    graph.onCollectionChanged(e.type === 'photos-reset', e.type === 'photos-indexed');
    classes.onCollectionChanged(e.type === 'photos-reset');
  });
  events.on('photos-queued', () => indexer.kickIfQueued());
  events.on('progress-changed', () => indexer.emitProgress());
  events.on('tabs-changed', (e) => follower.follow(e.changes));
  events.on('fatal', () => {
    void indexer.stop();
    intake.abandon();
    tabs.close();
  });
  // Tensors of a backend that goes away (another backend starts, or the GPU device was lost).
  runtime.onRelease(() => network.release());
  runtime.onRelease(() => query.release());
  runtime.onRelease(() => state.index.releaseTensors());

  return { store, session, lock, runtime, settings, registry, state, photos, network, intake, indexer, query, transfer, deletion, graph, classes, thumbUrls, lifecycle, info };
}
