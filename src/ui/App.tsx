/**
 * The page: composes the engine's state (engineStore), the page's own state (hooks/) and the panels (components/).
 * The state logic lives in the hooks; this file only wires them to each other and to the components.
 */
import { useCallback, useMemo, useRef, useState } from 'react';
import type { ClassCount, PlaceGroup } from '../worker-api/api';
import { Banners } from './components/Banners';
import { ClassChips } from './components/ClassChips';
import { CollectionSection } from './components/CollectionSection';
import { DuplicatesView } from './components/DuplicatesView';
import { GroupsView } from './components/GroupsView';
import { Header } from './components/Header';
import { HeatmapControls } from './components/HeatmapControls';
import { HiddenInputs, type FilePickers } from './components/HiddenInputs';
import { ModelLoader } from './components/ModelLoader';
import { Notices } from './components/Notices';
import { ProgressPanel } from './components/ProgressPanel';
import { QueryPanel } from './components/QueryPanel';
import { ResultsSection } from './components/ResultsSection';
import { ResultViewer } from './components/ResultViewer';
import { SearchControlsForm } from './components/SearchControlsForm';
import { StorageMeter } from './components/StorageMeter';
import { StorageOptions } from './components/StorageOptions';
import { UndoBar } from './components/UndoBar';
import { ViewTabs, type CollectionView } from './components/ViewTabs';
import { useEngineState, type EngineStore, type Photo } from './engineStore';
import { useClassFilter } from './hooks/useClassFilter';
import { useDebugHandle } from './hooks/useDebugHandle';
import { useDeletion } from './hooks/useDeletion';
import { useFileDrop } from './hooks/useFileDrop';
import { useHeatmaps } from './hooks/useHeatmaps';
import { useIndexTransfer } from './hooks/useIndexTransfer';
import { useModelSwitch } from './hooks/useModelSwitch';
import { useSearchSession } from './hooks/useSearchSession';
import { useSelection } from './hooks/useSelection';
import { useViewer } from './hooks/useViewer';
import type { UrlOptions } from './params';

export function App({ store, options }: { store: EngineStore; options: UrlOptions }) {
  const state = useEngineState(store);
  const { photoIndex: photosById, indexedCount } = state;
  const pickers = useRef<FilePickers>(null);

  const session = useSearchSession(store, state.info?.defaultControls ?? null);
  const { query, source, response, selectQuery, clearQuery } = session;
  /** The results whose photos are still in the collection. */
  const visibleResults = useMemo(() => (response ? response.results.filter((r) => photosById.has(r.id)) : []), [response, photosById]);
  const viewer = useViewer(store, visibleResults);
  const heatmaps = useHeatmaps({ store, modelId: state.info?.model.id, query, response, visibleResults, inView: session.inView, viewerId: viewer.result?.id ?? null });
  const drop = useFileDrop(store);
  const models = useModelSwitch(store, state.info, state.photos.length, clearQuery);
  const transfer = useIndexTransfer(store);
  useDebugHandle(options.debug, store, response);

  // Collection tools: views, class filter, selection, delete with undo, scoped searches.
  const [view, setView] = useState<CollectionView>('collection');
  const classFilter = useClassFilter(store, state.photos, indexedCount);
  const shownIds = useMemo(() => classFilter.photos.map((p) => p.id), [classFilter.photos]);
  const selection = useSelection(shownIds);
  const deletions = useDeletion(store);
  /** Changes whenever photos come, go or get indexed: the duplicates and groups views ask again then. */
  const photosKey = `${state.photos.length}:${indexedCount}`;
  const deleteIds = (ids: string[]) => {
    const label = ids.length === 1 ? (photosById.get(ids[0])?.name ?? '1 photo') : `${ids.length} photos`;
    void deletions.remove(ids, label).then((ok) => ok && selection.clear());
  };
  const pickClass = (c: ClassCount | null) => {
    classFilter.pick(c);
    selection.clear();
    // The results follow the class filter; a group scope stays until removed.
    if (session.scope?.kind !== 'group') session.setScope(c ? { kind: 'class', index: c.index, label: `class ${c.name}`, within: { class: c.index } } : null);
  };
  const searchWithin = (g: PlaceGroup) => {
    const scope = { kind: 'group' as const, id: g.id, label: `a group of ${g.count} photos`, within: { group: g.id } };
    // With no query yet, the group's representative is the query.
    session.setScope(scope, source ?? { kind: 'photo', id: g.representative });
    window.scrollTo({ top: 0, behavior: 'smooth' });
  };
  const clearScope = () => {
    if (session.scope?.kind === 'class') classFilter.pick(null);
    session.setScope(null);
  };

  // Stable, so the memoised photo tiles do not all re-render with the page.
  const pickPhoto = useCallback((p: Photo) => void selectQuery({ kind: 'photo', id: p.id }), [selectQuery]);
  const onClear = () => {
    if (!window.confirm(`Remove all ${state.photos.length} photos from this browser's collection?`)) return;
    if (source?.kind === 'photo') clearQuery();
    else session.clearResults();
    void store.run('Clearing the collection', (api) => api.clearCollection());
  };

  const ready = state.phase === 'ready';
  const opened = viewer.result;
  const openedPhoto = opened && photosById.get(opened.id);
  const { heat, heatClass, queryClasses } = heatmaps;

  return (
    <div className="app" {...drop.handlers} data-testid="app" data-phase={state.phase} data-photo-count={state.photos.length} data-indexed-count={indexedCount}>
      <a className="skip-link" href="#collection-title">
        Skip to the collection
      </a>
      <Header info={state.info} model={state.model} photoCount={state.photos.length} indexedCount={indexedCount} onModelChange={models.changeModel}>
        <StorageMeter refreshKey={`${state.photos.length}:${indexedCount}:${state.storageFull}`} onResult={(level, text) => store.notify(level, text)} />
        <StorageOptions store={store} info={state.info} refreshKey={`${state.photos.length}:${indexedCount}`} />
      </Header>
      <Banners fatal={state.fatal} model={state.model} storageFull={state.storageFull} onRetryModel={() => store.retryModel()} onDismissStorageFull={() => store.dismissStorageFull()} />
      <ProgressPanel
        progress={state.progress}
        model={state.model}
        modelName={state.info?.model.name ?? 'the model'}
        unindexed={state.photos.length - indexedCount}
        onCancel={() => void store.run('Cancelling', (api) => api.cancelIndexing())}
        onResume={() => void store.run('Resuming', (api) => api.resumeIndexing())}
        onRemoveUnindexed={() => void store.run('Removing photos', (api) => api.removeUnindexed())}
      />
      <main className="layout">
        <aside className="sidebar">
          <QueryPanel
            query={query}
            loading={session.queryLoading}
            box={session.box}
            onBox={session.setBox}
            boxDirty={session.boxDirty}
            onSearch={session.search}
            searching={session.searching}
            canSearch={ready && !!session.controls}
            onDropFile={(file) => void selectQuery({ kind: 'file', file, name: file.name })}
            onPickFile={() => pickers.current?.query()}
            onClear={clearQuery}
            overlay={heatmaps.queryOverlay}
            error={session.queryError}
            deleted={source?.kind === 'photo' && ready && !photosById.has(source.id)}
          >
            {session.controls && <SearchControlsForm value={session.controls} onChange={session.changeControls} disabled={!ready} />}
            {response && queryClasses.length > 0 && (
              <HeatmapControls classes={queryClasses} selected={heatClass} onSelect={heatmaps.pickHeatClass} settings={heat} onSettings={heatmaps.setHeat} />
            )}
          </QueryPanel>
        </aside>
        <div className="content">
          {response && (
            <ResultsSection
              response={response}
              photos={photosById}
              heatmaps={heatmaps.resultHeatmaps}
              heat={heat}
              onRange={session.setInView}
              onOpen={viewer.open}
              onMoreLikeThis={(id) => void selectQuery({ kind: 'photo', id })}
              searching={session.searching}
              scope={session.scope}
              onClearScope={clearScope}
              minScore={session.minScore}
              onMinScore={session.setMinScore}
            />
          )}
          <ViewTabs view={view} onView={setView} photoCount={state.photos.length} disabled={!ready || indexedCount === 0} />
          {view === 'duplicates' && <DuplicatesView store={store} photos={photosById} photosKey={photosKey} grouping={state.grouping} deletions={deletions} />}
          {view === 'groups' && <GroupsView store={store} photos={photosById} photosKey={photosKey} grouping={state.grouping} onSearchWithin={searchWithin} onPickPhoto={(id) => void selectQuery({ kind: 'photo', id })} />}
          {view === 'collection' && (
            <CollectionSection
              photos={classFilter.photos}
              total={state.photos.length}
              selection={selection}
              onDelete={deleteIds}
              filters={<ClassChips counts={classFilter.counts} active={classFilter.active} onPick={pickClass} />}
              queryId={source?.kind === 'photo' ? source.id : null}
              problems={state.problems}
              onPick={pickPhoto}
              onAddPhotos={() => pickers.current?.photos()}
              onAddFolder={() => pickers.current?.folder()}
              onDismissProblems={() => store.clearProblems()}
              onClear={onClear}
              onExportIndex={() => void transfer.exportIndex()}
              onImportIndex={() => pickers.current?.index()}
              transferring={transfer.transferring}
              ready={ready}
            />
          )}
        </div>
      </main>
      {drop.dragging && (
        <div className="drop-overlay" aria-hidden="true">
          <div>Drop photos or folders to add them to the collection</div>
        </div>
      )}
      {opened && openedPhoto && (
        <ResultViewer
          result={opened}
          photo={openedPhoto}
          fullUrl={viewer.fullUrl}
          fileNote={viewer.fileNote}
          heat={heatmaps.resultHeatmaps.get(opened.id)}
          heatSettings={heat}
          heatClassName={[...queryClasses, ...(viewer.classes ?? [])].find((c) => c.index === heatClass)?.name ?? null}
          classes={viewer.classes}
          onSelectClass={heatmaps.pickHeatClass}
          onClose={viewer.close}
          onStep={viewer.step}
          onUseAsQuery={() => {
            viewer.close();
            void selectQuery({ kind: 'photo', id: opened.id });
          }}
          onDelete={() => deleteIds([opened.id])}
          hasPrev={viewer.hasPrev}
          hasNext={viewer.hasNext}
        />
      )}
      <Notices notices={state.notices} onDismiss={(id) => store.dismiss(id)} />
      <UndoBar deletions={deletions} />
      {models.loaderOpen && <ModelLoader onLoad={models.loadModel} onClose={models.closeLoader} />}
      <HiddenInputs
        ref={pickers}
        onPhotos={(files) => store.importFiles(files)}
        onQueryFile={(file) => void selectQuery({ kind: 'file', file, name: file.name })}
        onIndexFile={(file) => void transfer.importIndex(file)}
      />
    </div>
  );
}
