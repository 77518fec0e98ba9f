// The class activation maps drawn over the query and the results: which class, fetched once each, kept in a cache.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ClassScore, Heatmap, HeatmapTarget, ResultItem, SearchResponse } from '../../worker-api/api';
import type { HeatSettings } from '../components/HeatmapControls';
import type { QueryView } from '../components/QueryPanel';
import type { EngineStore } from '../engineStore';
import type { OverlayContent } from '../overlay';
import type { ResultRange } from './useSearchSession';

const HEATMAP_CACHE_LIMIT = 400;
const NO_CLASSES: ClassScore[] = [];

export interface HeatmapsInput {
  store: EngineStore;
  /** The model the maps come from (a model switch re-indexes: same photo ids, new maps). */
  modelId: string | undefined;
  query: QueryView | null;
  response: SearchResponse | null;
  /** The results still in the collection, best first; those in `inView` are on screen. */
  visibleResults: ResultItem[];
  inView: ResultRange;
  /** The result open in the viewer, if any (its map is wanted too). */
  viewerId: string | null;
}

export interface Heatmaps {
  /** The class whose maps are drawn: the query box's top class, unless the user chose another. */
  heatClass: number | null;
  pickHeatClass: (index: number) => void;
  /** The query box's top classes. */
  queryClasses: ClassScore[];
  heat: HeatSettings;
  setHeat: (s: HeatSettings) => void;
  /** Maps of the shown results and the viewer's, by photo id. */
  resultHeatmaps: Map<string, Heatmap>;
  /** What to draw over the query photo (null: nothing). */
  queryOverlay: OverlayContent | null;
}

export function useHeatmaps({ store, modelId, query, response, visibleResults, inView, viewerId }: HeatmapsInput): Heatmaps {
  const [heatClass, setHeatClass] = useState<number | null>(null);
  /**
   * The user chose the class for this query (a new query, a new object, ends it): it is kept while it stays among
   * the query's top 5; otherwise the top class is followed.
   */
  const [pinnedTo, setPinnedTo] = useState<QueryView | null>(null);
  // A new response picks the class at once, in the same render (React's "adjust state when a prop changes").
  const [classesFrom, setClassesFrom] = useState<SearchResponse | null>(null);
  if (response !== classesFrom) {
    setClassesFrom(response);
    if (response) {
      const keep = pinnedTo !== null && pinnedTo === query && heatClass !== null && response.query.classes.some((q) => q.index === heatClass);
      if (!keep) setHeatClass(response.query.classes[0]?.index ?? null);
    }
  }
  const pickHeatClass = (index: number) => {
    setHeatClass(index);
    setPinnedTo(query);
  };

  const [heat, setHeat] = useState<HeatSettings>({ show: true, opacity: 0.55, allBoxes: false });
  const [heatmaps, setHeatmaps] = useState<Map<string, Heatmap>>(new Map());
  /** Keys asked for (answered or not): each map is asked for once. */
  const requested = useRef(new Set<string>());

  const queryTarget = response ? `query:${response.query.key}:${response.query.grid.W}x${response.query.grid.H}` : '';
  // Heatmaps are cached per model and class.
  const heatPrefix = `${modelId}:${heatClass}`;
  const queryKey = query?.image.key ?? null;
  useEffect(() => {
    if (!response || heatClass === null || !heat.show) return;
    const wanted: { key: string; target: HeatmapTarget }[] = [];
    if (response.query.key === queryKey) wanted.push({ key: `${heatPrefix}|${queryTarget}`, target: { kind: 'query' } });
    const ids = visibleResults.slice(inView.first, inView.last + 1).map((r) => r.id);
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
          const next = new Map(old);
          for (const h of maps) {
            const key = keyOf(h.target);
            if (key) next.set(key, h);
          }
          // The oldest maps go first (those scrolled past long ago), never all at once: clearing the whole cache
          // took the maps of the cards on screen too, which then redrew their canvases (profiled at 2000 results).
          for (const key of next.keys()) {
            if (next.size <= HEATMAP_CACHE_LIMIT) break;
            next.delete(key);
            requested.current.delete(key);
          }
          return next;
        }),
      () => missing.forEach((m) => requested.current.delete(m.key)),
    );
  }, [response, heatClass, heatPrefix, heat.show, inView, viewerId, visibleResults, queryKey, queryTarget, heatmaps, store]);

  const resultHeatmaps = useMemo(() => {
    const m = new Map<string, Heatmap>();
    const ids = visibleResults.slice(inView.first, inView.last + 1).map((r) => r.id);
    if (viewerId) ids.push(viewerId);
    for (const id of ids) {
      const h = heatmaps.get(`${heatPrefix}|${id}`);
      if (h) m.set(id, h);
    }
    return m;
  }, [heatmaps, heatPrefix, visibleResults, inView, viewerId]);

  const queryOverlay: OverlayContent | null = useMemo(() => {
    if (!query || !response || response.query.key !== query.image.key || !heat.show) return null;
    return { imageWidth: query.image.width, imageHeight: query.image.height, heat: heatmaps.get(`${heatPrefix}|${queryTarget}`) ?? null, opacity: heat.opacity, boxes: null };
  }, [query, response, heat, heatmaps, heatPrefix, queryTarget]);

  return { heatClass, pickHeatClass, queryClasses: response?.query.classes ?? NO_CLASSES, heat, setHeat, resultHeatmaps, queryOverlay };
}
