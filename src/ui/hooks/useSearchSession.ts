// The query and its search: which photo or file, the box, the controls, the response, and the calls that change them.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { PixelRect, QuerySource, SearchControls, SearchRequest, SearchResponse, SearchScope } from '../../worker-api/api';
import type { QueryView } from '../components/QueryPanel';
import type { EngineStore } from '../engineStore';
import { errorMessage } from '../format';

const sameBox = (a: PixelRect | null, b: PixelRect | null) => !!a && !!b && a.x1 === b.x1 && a.y1 === b.y1 && a.x2 === b.x2 && a.y2 === b.y2;

/** A range of result positions (0-based, inclusive). */
export interface ResultRange {
  first: number;
  last: number;
}
/** Until the results grid says what it shows: about a screenful. */
const FIRST_SCREEN: ResultRange = { first: 0, last: 47 };
/** Results asked for per page; the next page is asked for when the grid shows one of the last PAGE_AHEAD loaded. */
const PAGE = 1000;
const PAGE_AHEAD = 200;

/** Where the search looks (SearchRequest.within), with what the page shows of it. */
export type ScopeView = { kind: 'group'; id: string; label: string; within: SearchScope } | { kind: 'class'; index: number; label: string; within: SearchScope };

/** What a search runs with besides the query and box. */
interface Options {
  controls: SearchControls;
  scope: ScopeView | null;
  minScore: number;
}

export interface SearchSession {
  query: QueryView | null;
  source: QuerySource | null;
  queryLoading: boolean;
  box: PixelRect | null;
  setBox: (box: PixelRect) => void;
  /** The box differs from the one the shown results were searched with. */
  boxDirty: boolean;
  /** The user's controls, else the engine's defaults (null until the engine has started). */
  controls: SearchControls | null;
  /** New controls: kept, and the current query searched again with them. */
  changeControls: (c: SearchControls) => void;
  response: SearchResponse | null;
  searching: boolean;
  queryError: string | null;
  /** The results on screen now (first and last rank - 1), as the results grid renders them. */
  inView: ResultRange;
  setInView: (first: number, last: number) => void;
  /** Searches again with the current query, box and controls. */
  search: () => void;
  /** Opens a query (a collection photo or a file) with the whole photo as its box, and searches (within `withScope`). */
  selectQuery: (src: QuerySource, withScope?: ScopeView | null) => Promise<void>;
  /** No query, no results; a search still running is ignored when it ends. */
  clearQuery: () => void;
  /** Drops the results only (the query stays). */
  clearResults: () => void;
  /** Search only a group or a class (null: the whole collection); the current query (else `query`) is searched. */
  scope: ScopeView | null;
  setScope: (scope: ScopeView | null, query?: QuerySource) => void;
  /** Results scoring below this are left out (0: none); the current query is searched again. */
  minScore: number;
  setMinScore: (minScore: number) => void;
}

export function useSearchSession(store: EngineStore, defaultControls: SearchControls | null): SearchSession {
  const [query, setQuery] = useState<QueryView | null>(null);
  const [source, setSource] = useState<QuerySource | null>(null);
  const [queryLoading, setQueryLoading] = useState(false);
  const [box, setBox] = useState<PixelRect | null>(null);
  const [searchedBox, setSearchedBox] = useState<PixelRect | null>(null);
  const [chosenControls, setControls] = useState<SearchControls | null>(null);
  const controls = chosenControls ?? defaultControls;
  const [scope, setScopeState] = useState<ScopeView | null>(null);
  const [minScore, setMinScoreState] = useState(0);
  const [response, setResponse] = useState<SearchResponse | null>(null);
  const [searching, setSearching] = useState(false);
  const [queryError, setQueryError] = useState<string | null>(null);
  const [inView, setRange] = useState<ResultRange>(FIRST_SCREEN);
  const setInView = useCallback((first: number, last: number) => setRange((r) => (r.first === first && r.last === last ? r : { first, last })), []);
  /** Numbers the searches: only the latest one's answer (or error) is shown. */
  const searchSeq = useRef(0);
  /** The request of the shown results (its next pages use the same one, with an offset: the worker kept the ranking). */
  const shownRequest = useRef<SearchRequest | null>(null);
  const loadingPage = useRef(false);

  const runSearch = useCallback(
    async (src: QuerySource, b: PixelRect, o: Options) => {
      const seq = ++searchSeq.current;
      setSearching(true);
      setQueryError(null);
      try {
        const request: SearchRequest = { query: src, box: b, controls: o.controls, limit: PAGE, ...(o.scope ? { within: o.scope.within } : {}), ...(o.minScore > 0 ? { minScore: o.minScore } : {}) };
        const res = await store.api.search(request);
        if (seq !== searchSeq.current) return;
        shownRequest.current = request;
        setResponse(res);
        setSearchedBox(b);
      } catch (e) {
        if (seq === searchSeq.current) setQueryError(`Search failed: ${errorMessage(e)}`);
      } finally {
        if (seq === searchSeq.current) setSearching(false);
      }
    },
    [store],
  );

  const selectQuery = useCallback(
    async (src: QuerySource, withScope: ScopeView | null = scope) => {
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
        const whole = { x1: 0, y1: 0, x2: image.width, y2: image.height };
        setBox(whole);
        setSearchedBox(null);
        await runSearch(src, whole, { controls, scope: withScope, minScore });
      } catch (e) {
        setQueryError(`This photo cannot be used as a query: ${errorMessage(e)}`);
      } finally {
        setQueryLoading(false);
      }
    },
    [controls, scope, minScore, runSearch, store],
  );

  // The whole ranking is reachable: scrolling near the end of what is loaded asks for the next page.
  useEffect(() => {
    const shown = response;
    const request = shownRequest.current;
    if (!shown || !request || loadingPage.current || shown.results.length >= shown.total || inView.last < shown.results.length - PAGE_AHEAD) return;
    loadingPage.current = true;
    const seq = searchSeq.current;
    store.api
      .search({ ...request, offset: shown.results.length })
      .then((page) => {
        if (seq !== searchSeq.current) return;
        const have = new Set(shown.results.map((r) => r.id));
        const added = page.results.filter((r) => !have.has(r.id));
        // Nothing new (the collection changed under the ranking): stop asking.
        const total = added.length ? page.total : shown.results.length;
        setResponse((cur) => (cur === shown ? { ...shown, results: [...shown.results, ...added], total } : cur));
      })
      .catch((e: unknown) => seq === searchSeq.current && setQueryError(`More results could not be loaded: ${errorMessage(e)}`))
      .finally(() => (loadingPage.current = false));
  }, [inView, response, store]);

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

  return {
    query,
    source,
    queryLoading,
    box,
    setBox,
    boxDirty: !sameBox(box, searchedBox),
    controls,
    changeControls: (c) => {
      setControls(c);
      if (source && box) void runSearch(source, box, { controls: c, scope, minScore });
    },
    response,
    searching,
    queryError,
    inView,
    setInView,
    search: () => {
      if (source && box && controls) void runSearch(source, box, { controls, scope, minScore });
    },
    selectQuery,
    clearQuery,
    clearResults: () => setResponse(null),
    scope,
    setScope: (s, q) => {
      setScopeState(s);
      if (source && box && controls) void runSearch(source, box, { controls, scope: s, minScore });
      else if (q) void selectQuery(q, s);
    },
    minScore,
    setMinScore: (m) => {
      setMinScoreState(m);
      if (source && box && controls) void runSearch(source, box, { controls, scope, minScore: m });
    },
  };
}
