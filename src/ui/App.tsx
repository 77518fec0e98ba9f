import { useCallback, useEffect, useMemo, useRef, useState, type ChangeEvent, type DragEvent } from 'react';
import type { ClassScore, CustomModelOptions, CustomModelSource, Heatmap, HeatmapTarget, PixelRect, QuerySource, ResultItem, SearchControls, SearchResponse } from '../worker/api';
import { CollectionSection } from './components/CollectionSection';
import { Header, LOAD_MODEL } from './components/Header';
import { ModelLoader } from './components/ModelLoader';
import { StorageMeter } from './components/StorageMeter';
import { HeatmapControls, type HeatSettings } from './components/HeatmapControls';
import { Notices } from './components/Notices';
import { ProgressPanel } from './components/ProgressPanel';
import { QueryPanel, type QueryView } from './components/QueryPanel';
import { PAGE, ResultsSection } from './components/ResultsSection';
import { ResultViewer } from './components/ResultViewer';
import { SearchControlsForm } from './components/SearchControlsForm';
import { useEngineState, type EngineStore, type Photo } from './engineStore';
import { collectDrop, dragHasFiles, filesFromInput } from './importFiles';
import type { UrlOptions } from './params';
import type { OverlayContent } from './overlay';

const HEATMAP_CACHE_LIMIT = 400;
const sameBox = (a: PixelRect | null, b: PixelRect | null) => !!a && !!b && a.x1 === b.x1 && a.y1 === b.y1 && a.x2 === b.x2 && a.y2 === b.y2;
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

declare global {
  interface Window {
    /** With ?debug=1: the worker API and the page state, for tests and troubleshooting. */
    cwApp?: { api: EngineStore['api']; state: () => unknown; response: () => SearchResponse | null };
  }
}

export function App({ store, options }: { store: EngineStore; options: UrlOptions }) {
  const state = useEngineState(store);
  const photosById = useMemo(() => new Map(state.photos.map((p) => [p.id, p])), [state.photos]);
  const indexedCount = useMemo(() => state.photos.filter((p) => p.indexed).length, [state.photos]);
  const unindexed = state.photos.length - indexedCount;

  const filesInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const queryInput = useRef<HTMLInputElement>(null);
  const indexInput = useRef<HTMLInputElement>(null);
  const [transferring, setTransferring] = useState(false);

  // ---- query and search ----
  const [query, setQuery] = useState<QueryView | null>(null);
  const [source, setSource] = useState<QuerySource | null>(null);
  const [queryLoading, setQueryLoading] = useState(false);
  const [box, setBox] = useState<PixelRect | null>(null);
  const [searchedBox, setSearchedBox] = useState<PixelRect | null>(null);
  const [controls, setControls] = useState<SearchControls | null>(null);
  const [response, setResponse] = useState<SearchResponse | null>(null);
  const [searching, setSearching] = useState(false);
  const [queryError, setQueryError] = useState<string | null>(null);
  const [shown, setShown] = useState(PAGE);
  const searchSeq = useRef(0);
  const responseRef = useRef<SearchResponse | null>(null);
  responseRef.current = response;

  useEffect(() => {
    if (state.info && !controls) setControls(state.info.defaultControls);
  }, [state.info, controls]);

  const runSearch = useCallback(
    async (src: QuerySource, b: PixelRect, c: SearchControls) => {
      const seq = ++searchSeq.current;
      setSearching(true);
      setQueryError(null);
      try {
        const res = await store.api.search({ query: src, box: b, controls: c });
        if (seq !== searchSeq.current) return;
        setResponse(res);
        setSearchedBox(b);
        setShown(PAGE);
      } catch (e) {
        if (seq === searchSeq.current) setQueryError(`Search failed: ${message(e)}`);
      } finally {
        if (seq === searchSeq.current) setSearching(false);
      }
    },
    [store],
  );

  const selectQuery = useCallback(
    async (src: QuerySource) => {
      if (!controls) return;
      setQueryLoading(true);
      setQueryError(null);
      try {
        const image = await store.api.openQuery(src);
        const url = URL.createObjectURL(image.blob);
        setQuery((old) => {
          if (old) URL.revokeObjectURL(old.url);
          return { image, url };
        });
        setSource(src);
        heatClassPinned.current = false;
        const whole = { x1: 0, y1: 0, x2: image.width, y2: image.height };
        setBox(whole);
        setSearchedBox(null);
        await runSearch(src, whole, controls);
      } catch (e) {
        setQueryError(`This photo cannot be used as a query: ${message(e)}`);
      } finally {
        setQueryLoading(false);
      }
    },
    [controls, runSearch, store],
  );

  const pickPhoto = useCallback((p: Photo) => void selectQuery({ kind: 'photo', id: p.id }), [selectQuery]);

  const clearQuery = () => {
    searchSeq.current++;
    if (query) URL.revokeObjectURL(query.url);
    setQuery(null);
    setSource(null);
    setBox(null);
    setResponse(null);
    setSearching(false);
    setQueryError(null);
  };

  const onControls = (c: SearchControls) => {
    setControls(c);
    if (source && box) void runSearch(source, box, c);
  };

  // ---- heatmaps ----
  const [heatClass, setHeatClass] = useState<number | null>(null);
  /** The user chose the class: keep it while it stays among the query's top 5; else follow the top class. */
  const heatClassPinned = useRef(false);
  const pickHeatClass = (index: number) => {
    setHeatClass(index);
    heatClassPinned.current = true;
  };
  const [heat, setHeat] = useState<HeatSettings>({ show: true, opacity: 0.55, allBoxes: false });
  const [heatmaps, setHeatmaps] = useState<Map<string, Heatmap>>(new Map());
  const requested = useRef(new Set<string>());
  const queryClasses = response?.query.classes ?? [];
  useEffect(() => {
    if (!response) return;
    const keep = (c: number | null) => heatClassPinned.current && c !== null && response.query.classes.some((q) => q.index === c);
    setHeatClass((c) => (keep(c) ? c : (response.query.classes[0]?.index ?? null)));
  }, [response]);

  const visibleResults = useMemo(() => (response ? response.results.filter((r) => photosById.has(r.id)) : []), [response, photosById]);
  const [viewerIndex, setViewerIndex] = useState<number | null>(null);
  const viewerResult = viewerIndex !== null ? visibleResults[viewerIndex] : undefined;

  const queryTarget = response ? `query:${response.query.key}:${response.query.grid.W}x${response.query.grid.H}` : '';
  const viewerId = viewerResult?.id ?? null;
  // Heatmaps are cached per model and class (a model switch re-indexes: same photo ids, new maps).
  const heatPrefix = `${state.info?.model.id}:${heatClass}`;
  const queryKey = query?.image.key ?? null;
  useEffect(() => {
    if (!response || heatClass === null || !heat.show) return;
    const wanted: { key: string; target: HeatmapTarget }[] = [];
    if (response.query.key === queryKey) wanted.push({ key: `${heatPrefix}|${queryTarget}`, target: { kind: 'query' } });
    const ids = visibleResults.slice(0, shown).map((r) => r.id);
    if (viewerId) ids.push(viewerId);
    for (const id of new Set(ids)) wanted.push({ key: `${heatPrefix}|${id}`, target: { kind: 'photo', id } });
    // Each map is asked for once (a photo that left the collection meanwhile gives none back: no retry loop).
    const missing = wanted.filter((w) => !heatmaps.has(w.key) && !requested.current.has(w.key));
    if (!missing.length) return;
    missing.forEach((m) => requested.current.add(m.key));
    // Keys name the class and the exact target, so a late answer is never wrong: it is always kept.
    const keyOf = (t: HeatmapTarget) => missing.find((m) => (t.kind === 'query' ? m.target.kind === 'query' : m.target.kind === 'photo' && m.target.id === t.id))?.key;
    store.api.heatmaps(
      missing.map((m) => m.target),
      heatClass,
    ).then(
      (maps) =>
        setHeatmaps((old) => {
          if (old.size > HEATMAP_CACHE_LIMIT) requested.current.clear();
          const next = new Map(old.size > HEATMAP_CACHE_LIMIT ? [] : old);
          for (const h of maps) {
            const key = keyOf(h.target);
            if (key) next.set(key, h);
          }
          return next;
        }),
      () => missing.forEach((m) => requested.current.delete(m.key)),
    );
  }, [response, heatClass, heatPrefix, heat.show, shown, viewerId, visibleResults, queryKey, queryTarget, heatmaps, store]);

  const resultHeatmaps = useMemo(() => {
    const m = new Map<string, Heatmap>();
    const ids = visibleResults.slice(0, shown).map((r) => r.id);
    if (viewerId) ids.push(viewerId);
    for (const id of ids) {
      const h = heatmaps.get(`${heatPrefix}|${id}`);
      if (h) m.set(id, h);
    }
    return m;
  }, [heatmaps, heatPrefix, visibleResults, shown, viewerId]);

  const queryOverlay: OverlayContent | null = useMemo(() => {
    if (!query || !response || response.query.key !== query.image.key || !heat.show) return null;
    return { imageWidth: query.image.width, imageHeight: query.image.height, heat: heatmaps.get(`${heatPrefix}|${queryTarget}`) ?? null, opacity: heat.opacity, boxes: null };
  }, [query, response, heat, heatmaps, heatPrefix, queryTarget]);

  // ---- viewer ----
  const [viewerUrl, setViewerUrl] = useState<string | null>(null);
  const [viewerClasses, setViewerClasses] = useState<ClassScore[] | null>(null);
  useEffect(() => {
    if (!viewerResult) return;
    let url: string | null = null;
    let cancelled = false;
    setViewerUrl(null);
    setViewerClasses(null);
    store.api.photoBlob(viewerResult.id).then((b) => {
      if (cancelled) return;
      url = URL.createObjectURL(b);
      setViewerUrl(url);
    }, () => undefined);
    store.api.photoClasses(viewerResult.id).then((c) => !cancelled && setViewerClasses(c), () => !cancelled && setViewerClasses([]));
    return () => {
      cancelled = true;
      if (url) URL.revokeObjectURL(url);
    };
  }, [viewerResult, store]);

  // ---- import ----
  const [dragging, setDragging] = useState(false);
  const dragDepth = useRef(0);
  const onDragEnter = (e: DragEvent) => {
    if (!dragHasFiles(e.dataTransfer)) return;
    dragDepth.current++;
    setDragging(true);
  };
  const onDragLeave = () => {
    dragDepth.current = Math.max(0, dragDepth.current - 1);
    if (!dragDepth.current) setDragging(false);
  };
  const onDragOver = (e: DragEvent) => {
    if (!dragHasFiles(e.dataTransfer)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    dragDepth.current = 0;
    setDragging(false);
    void collectDrop(e.dataTransfer).then((files) => store.importFiles(files));
  };

  const [loaderOpen, setLoaderOpen] = useState(false);
  const onModelChange = (id: string) => {
    if (id === LOAD_MODEL) {
      setLoaderOpen(true);
      return;
    }
    if (!state.info || id === state.info.model.id) return;
    const name = state.info.models.find((m) => m.id === id)?.name ?? id;
    if (state.photos.length && !window.confirm(`Switch to ${name}? All ${state.photos.length} photos will be indexed again with it.`)) return;
    clearQuery();
    // A model forced by the URL follows the choice, so reloading this address does not switch back (and re-index).
    const url = new URL(location.href);
    if (url.searchParams.has('model')) {
      url.searchParams.set('model', id);
      history.replaceState(history.state, '', url);
    }
    void store.setModel(id);
  };

  /** A model the user brings: checked in the worker first; nothing changes unless it is usable. */
  const onLoadModel = async (src: CustomModelSource, opts: CustomModelOptions): Promise<string | null> => {
    try {
      const r = await store.api.addCustomModel(src, opts);
      const labels = r.labels === 'numbered' ? ' No labels.json: its classes are numbered.' : '';
      const summary = `${r.model.name}: ${r.classes} classes, feature layer ${r.featureLayer} (${r.channels} channels, one cell per ${r.stride} px), classifier ${r.classifierLayer}.${labels}`;
      if (state.photos.length && !window.confirm(`${summary}\n\nUse it? All ${state.photos.length} photos will be indexed again with it.`)) return null;
      setLoaderOpen(false);
      store.notify('info', `Model checked and kept. ${summary}`);
      clearQuery();
      const url = new URL(location.href);
      if (url.searchParams.has('model')) {
        url.searchParams.set('model', r.model.id);
        history.replaceState(history.state, '', url);
      }
      await store.setModel(r.model.id);
      return null;
    } catch (e) {
      return `This model cannot be used: ${message(e)}`;
    }
  };

  /** The photo and folder pickers: import what was chosen, then reset so the same files can be chosen again. */
  const onPhotosChosen = (e: ChangeEvent<HTMLInputElement>) => {
    store.importFiles(filesFromInput(e.target.files));
    e.target.value = '';
  };

  const onExportIndex = async () => {
    setTransferring(true);
    const exported = await store.run('Exporting the index', (api) => api.exportIndex({ photos: true }));
    setTransferring(false);
    if (!exported) return;
    // A download of a blob: URL made here; nothing leaves the device.
    const url = URL.createObjectURL(exported.file);
    const a = document.createElement('a');
    a.href = url;
    a.download = exported.fileName;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    store.notify('info', `Exported ${exported.photos} indexed photos to ${exported.fileName}.`);
  };

  const onImportIndex = async (file: File) => {
    setTransferring(true);
    const report = await store.run(`Importing ${file.name}`, (api) => api.importIndex(file));
    setTransferring(false);
    if (!report) return;
    store.addProblems(report.problems);
    const parts = [`${report.added} photos added`];
    if (report.indexed) parts.push(`${report.indexed} already here now indexed`);
    if (report.duplicates) parts.push(`${report.duplicates} already in the collection`);
    if (report.problems.length) parts.push(`${report.problems.length} not imported (see the list)`);
    store.notify(report.problems.length ? 'warning' : 'info', `Imported ${file.name}: ${parts.join(', ')}.`);
  };

  const onClear = () => {
    if (!window.confirm(`Remove all ${state.photos.length} photos from this browser's collection?`)) return;
    if (source?.kind === 'photo') clearQuery();
    else setResponse(null);
    void store.run('Clearing the collection', (api) => api.clearCollection());
  };

  // ---- test / debug hook ----
  useEffect(() => {
    if (!options.debug) return;
    window.cwApp = { api: store.api, state: () => store.getSnapshot(), response: () => responseRef.current };
  }, [options.debug, store]);

  const ready = state.phase === 'ready';
  const modelName = state.info?.model.name ?? 'the model';

  return (
    <div className="app" onDragEnter={onDragEnter} onDragLeave={onDragLeave} onDragOver={onDragOver} onDrop={onDrop} data-testid="app" data-phase={state.phase}>
      <a className="skip-link" href="#collection-title">
        Skip to the collection
      </a>
      <Header
        info={state.info}
        model={state.model}
        photoCount={state.photos.length}
        indexedCount={indexedCount}
        onModelChange={onModelChange}
      >
        <StorageMeter refreshKey={`${state.photos.length}:${indexedCount}:${state.storageFull}`} onResult={(level, text) => store.notify(level, text)} />
      </Header>
      {state.fatal && (
        <div className="banner error" role="alert" data-testid="fatal">
          <span>{state.fatal}</span>
          <button type="button" className="btn small" onClick={() => location.reload()}>
            Reload
          </button>
        </div>
      )}
      {state.model.state === 'error' && !state.fatal && (
        <div className="banner error" role="alert" data-testid="model-error-banner">
          <span>{state.model.message}</span>
          <button type="button" className="btn small primary" data-testid="model-retry" onClick={() => store.retryModel()}>
            Try again
          </button>
          <button type="button" className="btn small" onClick={() => location.reload()}>
            Reload
          </button>
        </div>
      )}
      {state.storageFull && (
        <div className="banner error" role="alert" data-testid="storage-full">
          <span>
            {state.storageFull} Everything already in the collection is kept; importing and indexing stopped. Photos waiting to be indexed stay queued: free some
            space, then press Try again.
          </span>
          <button type="button" className="btn small ghost" onClick={() => store.dismissStorageFull()}>
            Dismiss
          </button>
        </div>
      )}
      <ProgressPanel
        progress={state.progress}
        model={state.model}
        modelName={modelName}
        unindexed={unindexed}
        onCancel={() => void store.run('Cancelling', (api) => api.cancelIndexing())}
        onResume={() => void store.run('Resuming', (api) => api.resumeIndexing())}
        onRemoveUnindexed={() => void store.run('Removing photos', (api) => api.removeUnindexed())}
      />
      <main className="layout">
        <aside className="sidebar">
          <QueryPanel
            query={query}
            loading={queryLoading}
            box={box}
            onBox={setBox}
            boxDirty={!sameBox(box, searchedBox)}
            onSearch={() => source && box && controls && void runSearch(source, box, controls)}
            searching={searching}
            canSearch={ready && !!controls}
            onDropFile={(file) => void selectQuery({ kind: 'file', file, name: file.name })}
            onPickFile={() => queryInput.current?.click()}
            onClear={clearQuery}
            overlay={queryOverlay}
            error={queryError}
          >
            {controls && <SearchControlsForm value={controls} onChange={onControls} disabled={!ready} />}
            {response && queryClasses.length > 0 && (
              <HeatmapControls classes={queryClasses} selected={heatClass} onSelect={pickHeatClass} settings={heat} onSettings={setHeat} />
            )}
          </QueryPanel>
        </aside>
        <div className="content">
          {response && (
            <ResultsSection
              response={response}
              photos={photosById}
              heatmaps={resultHeatmaps}
              heat={heat}
              shown={shown}
              onShowMore={() => setShown((s) => s + PAGE)}
              onOpen={(r: ResultItem) => setViewerIndex(visibleResults.indexOf(r))}
              searching={searching}
            />
          )}
          <CollectionSection
            photos={state.photos}
            queryId={source?.kind === 'photo' ? source.id : null}
            problems={state.problems}
            onPick={pickPhoto}
            onAddPhotos={() => filesInput.current?.click()}
            onAddFolder={() => folderInput.current?.click()}
            onDismissProblems={() => store.clearProblems()}
            onClear={onClear}
            onExportIndex={() => void onExportIndex()}
            onImportIndex={() => indexInput.current?.click()}
            transferring={transferring}
            ready={ready}
          />
        </div>
      </main>
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          <div>Drop photos or folders to add them to the collection</div>
        </div>
      )}
      {viewerResult && photosById.get(viewerResult.id) && (
        <ResultViewer
          result={viewerResult}
          photo={photosById.get(viewerResult.id)!}
          fullUrl={viewerUrl}
          heat={resultHeatmaps.get(viewerResult.id)}
          heatSettings={heat}
          heatClassName={[...queryClasses, ...(viewerClasses ?? [])].find((c) => c.index === heatClass)?.name ?? null}
          classes={viewerClasses}
          onSelectClass={pickHeatClass}
          onClose={() => setViewerIndex(null)}
          onStep={(d) => setViewerIndex((i) => (i === null ? null : Math.max(0, Math.min(visibleResults.length - 1, i + d))))}
          onUseAsQuery={() => {
            const id = viewerResult.id;
            setViewerIndex(null);
            void selectQuery({ kind: 'photo', id });
          }}
          hasPrev={(viewerIndex ?? 0) > 0}
          hasNext={(viewerIndex ?? 0) < visibleResults.length - 1}
        />
      )}
      <Notices notices={state.notices} onDismiss={(id) => store.dismiss(id)} />
      {loaderOpen && <ModelLoader onLoad={onLoadModel} onClose={() => setLoaderOpen(false)} />}
      <input
        ref={indexInput}
        type="file"
        accept=".npz,application/zip,application/octet-stream"
        hidden
        data-testid="index-input"
        aria-label="Import an exported index"
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = '';
          if (file) void onImportIndex(file);
        }}
      />
      <input
        ref={filesInput}
        type="file"
        accept="image/*"
        multiple
        hidden
        data-testid="file-input"
        aria-label="Add photos"
        onChange={onPhotosChosen}
      />
      <input
        ref={(el) => {
          folderInput.current = el;
          if (el) el.webkitdirectory = true;
        }}
        type="file"
        multiple
        hidden
        data-testid="folder-input"
        aria-label="Add a folder"
        onChange={onPhotosChosen}
      />
      <input
        ref={queryInput}
        type="file"
        accept="image/*"
        hidden
        data-testid="query-input"
        aria-label="Choose a query photo"
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) void selectQuery({ kind: 'file', file, name: file.name });
          e.target.value = '';
        }}
      />
    </div>
  );
}
