/**
 * The worker API at its boundary (src/worker/boundary.ts), through the app's production build with ?debug=1:
 *  - calls made while the engine starts wait for it: photos dropped and an index chosen at the page's first paint
 *    (start-up held back by a slow wasm binary, so they surely come first) all arrive;
 *  - a property test (fast-check) over every EngineApi method's and debug tool's arguments — fields missing, wrong types, unknown
 *    ids, huge numbers, NaN, empty lists — against a small indexed collection: each call gives a result or an Error
 *    that says what is wrong (never a TypeError or an engine internal), and the stored collection is the same after
 *    it (a deletion that went through is undone first).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { browserAvailable, testResultsDir, useE2E } from './harness';
import { needsDevSet, needsModels } from '../helpers/requirements';
import { devSet, dropFiles, type FileSpec } from './appHelpers';
import { callApi, callDebug, integrity, startProxy, waitPhotos, waitReady } from '../../scripts/lib/appDebug';
import { writeIndex } from '../../src/index/exportFormat';
import { syntheticCollection } from '../../scripts/lib/syntheticIndex';
import type { EngineStats, IntegrityReport } from '../../src/worker-api/debugApi';
import { apiArguments, type Revivable } from './apiArbitraries';

const MODEL = 'mobilenet_v1_0.75';
const APP = `/?backend=wasm&model=${MODEL}&longSide=512&debug=1`;
const INDEXED = 24;
/** The same cases on every run (CI stays deterministic); CW_FC_SEED=n explores others. */
const SEED = Number(process.env.CW_FC_SEED ?? 20261201);
/** Cases per method (8 by default): more where the arguments have more shapes; few where each runs the network. */
const RUNS: Record<string, number> = { search: 40, openQuery: 12, heatmaps: 12, importFiles: 12, addCustomModel: 12, deletePhotos: 12, duplicates: 12, groups: 12, 'debug.forwardTiming': 3 };

/** A synthetic exported index of n photos for the app's model (no forward pass to import it). */
async function syntheticIndex(n: number, seed: number): Promise<string> {
  mkdirSync(testResultsDir, { recursive: true });
  const file = join(testResultsDir, `api-synthetic-${n}-${seed}.npz`);
  const chunks: Uint8Array[] = [];
  const reader = writeIndex(syntheticCollection({ photos: n, model: MODEL, longSide: 512, seed })).getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
  writeFileSync(file, Buffer.concat(chunks));
  return file;
}

const noticeShown = (page: Page, re: RegExp, timeout = 120_000) =>
  page.waitForFunction((source) => new RegExp(source).test(document.querySelector('.notices')?.textContent ?? ''), re.source, { timeout, polling: 100 });

interface Outcome {
  ok: boolean;
  name?: string;
  message?: string;
  undoToken?: string;
}
type Snapshot = { integrity: IntegrityReport; stats: Pick<EngineStats, 'photos' | 'indexedPhotos' | 'queued'> };

/**
 * Calls api[method](...args), or debug[name](...args) for 'debug.' + name, in the page (markers made into Blobs and
 * Files there), then reads the collection's state.
 */
async function probe(page: Page, method: string, args: Revivable[]): Promise<{ outcome: Outcome } & Snapshot> {
  return page.evaluate(
    async ([m, raw]) => {
      type Api = Record<string, (...a: unknown[]) => Promise<unknown>>;
      const revive = (v: unknown): unknown => {
        if (Array.isArray(v)) return v.map(revive);
        if (v && typeof v === 'object') {
          const o = v as Record<string, unknown>;
          if ('$blob' in o) return new Blob([o.$blob as string]);
          if ('$file' in o) {
            const f = o.$file as { name: string; content: string; type: string };
            return new File([f.content], f.name, { type: f.type });
          }
          return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, revive(x)]));
        }
        return v;
      };
      const { api, debug } = (window as unknown as { cwApp: { api: Api; debug: Api } }).cwApp;
      const [target, name] = m.startsWith('debug.') ? [debug, m.slice('debug.'.length)] : [api, m];
      let outcome: { ok: boolean; name?: string; message?: string; undoToken?: string };
      try {
        // A call that never settles is a failure too (a minute: generous on a loaded machine).
        const hung = new Promise((_, reject) => setTimeout(() => reject(new Error(`${m} did not answer within a minute`)), 60_000));
        const r = await Promise.race([target[name](...(revive(raw) as unknown[])), hung]);
        outcome = { ok: true, ...(m === 'deletePhotos' ? { undoToken: (r as { undoToken: string }).undoToken } : {}) };
      } catch (e) {
        outcome = { ok: false, name: (e as Error)?.name, message: (e as Error)?.message ?? String(e) };
      }
      const [check, stats] = (await Promise.all([debug.checkIntegrity(), debug.stats()])) as [unknown, { photos: number; indexedPhotos: number; queued: number }];
      return { outcome, integrity: check, stats: { photos: stats.photos, indexedPhotos: stats.indexedPhotos, queued: stats.queued } };
    },
    [method, args] as const,
  ) as Promise<{ outcome: Outcome } & Snapshot>;
}

/** Errors that say what is wrong: the app's own (each with its message); never a TypeError, RangeError, DOMException... */
const APP_ERRORS = ['Error', 'ImportProblem', 'DecodeError', 'PhotoUnavailable', 'StorageFullError'];
/** What an engine bug looks like from outside: V8's words for a TypeError and friends. */
const INTERNAL = /Cannot read propert|Cannot set propert|is not a function|is not iterable|is not a constructor|Cannot convert|Invalid array length|Maximum call stack|could not be cloned/;

describe.skipIf(!browserAvailable() || !needsModels(MODEL))('the worker API at its boundary (production build, wasm)', () => {
  const e2e = useE2E({ mode: 'preview', build: true, outDir: 'test-results/dist-app' });

  it.skipIf(!needsDevSet())('photos dropped and an index chosen at first paint, while the engine starts, all arrive', async () => {
    const set = devSet()!;
    const photos: FileSpec[] = set.images.slice(0, 3).map((i) => {
      const p = set.photo(i.name);
      return { name: p.fileName, type: 'image/jpeg', bytes: p.bytes };
    });
    const index = await syntheticIndex(5, 7);
    // The app through a proxy (another origin: a fresh profile's storage) that holds the wasm binary back 4 s: the
    // engine's start-up waits for it, so what the test does at first paint surely comes before it is done.
    const proxy = await startProxy(e2e.server.url);
    proxy.delays.push({ match: /\.wasm$/, ms: 4000 });
    const context = await e2e.browser.newContext({ serviceWorkers: 'block' });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    try {
      await page.goto(`${proxy.url}${APP}`, { waitUntil: 'commit' });
      await page.waitForSelector('[data-testid="app"][data-phase="starting"]', { timeout: 60_000 });
      await dropFiles(page, '[data-testid="app"]', photos);
      await page.setInputFiles('[data-testid="index-input"]', index);
      expect(await page.getAttribute('[data-testid="app"]', 'data-phase'), 'the photos came while the engine was starting').toBe('starting');
      await waitReady(page);
      await waitPhotos(page, 8);
      await noticeShown(page, /Imported api-synthetic-5-7\.npz: 5 photos added\./);
      const notices = await page.textContent('.notices');
      expect(notices).not.toMatch(/failed/i);
      const check = await integrity(page);
      expect(check.problems).toEqual([]);
      expect(check).toMatchObject({ images: 8, blobs: 8 });
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
      await proxy.close();
    }
  }, 300_000);

  it('every method: a result or a clear error for any arguments, and the collection unchanged', async () => {
    const file = await syntheticIndex(INDEXED, 3);
    const context = await e2e.browser.newContext();
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${e2e.server.url}${APP}`);
    await waitReady(page);
    await page.setInputFiles('[data-testid="index-input"]', file);
    await noticeShown(page, new RegExp(`Imported api-synthetic-${INDEXED}-3\\.npz: ${INDEXED} photos added\\.`));
    await waitPhotos(page, INDEXED);
    const ids = await page.evaluate(() => (window as unknown as { cwApp: { state(): { photos: { id: string }[] } } }).cwApp.state().photos.map((p) => p.id));
    expect(ids).toHaveLength(INDEXED);
    const baseline: Snapshot = {
      integrity: await integrity(page),
      stats: await callDebug<EngineStats>(page, 'stats').then((s) => ({ photos: s.photos, indexedPhotos: s.indexedPhotos, queued: s.queued })),
    };
    expect(baseline.integrity.problems).toEqual([]);

    const args = apiArguments(ids);
    const seen: Record<string, { ok: number; refused: number }> = {};
    // A few cases per method, every method: about 400 calls in all.
    for (const [method, arbitrary] of Object.entries(args)) {
      seen[method] = { ok: 0, refused: 0 };
      await fc.assert(
        fc.asyncProperty(arbitrary, async (a) => {
          const { outcome, ...state } = await probe(page, method, a);
          if (process.env.CW_API_TRACE) console.log(`[api boundary] ${method}(${JSON.stringify(a).slice(0, 300)}) -> ${outcome.ok ? 'ok' : `${outcome.name}: ${outcome.message}`}`);
          let after: Snapshot = state;
          if (outcome.ok && outcome.undoToken) {
            const undone = await probe(page, 'undoDelete', [outcome.undoToken]);
            expect(undone.outcome, 'a deletion that went through is undone').toMatchObject({ ok: true });
            after = { integrity: undone.integrity, stats: undone.stats };
          }
          seen[method][outcome.ok ? 'ok' : 'refused']++;
          if (!outcome.ok) {
            expect(APP_ERRORS, `${method}: ${outcome.name}: ${outcome.message}`).toContain(outcome.name);
            expect(outcome.message).toMatch(/\w{3}/);
            expect(outcome.message).not.toMatch(INTERNAL);
          }
          expect(after, `the collection after ${method}(${JSON.stringify(a).slice(0, 300)})`).toEqual(baseline);
        }),
        { numRuns: RUNS[method] ?? 8, seed: SEED, endOnFailure: true },
      );
    }
    console.log(`[api boundary] calls per method (ok / refused): ${Object.entries(seen).map(([m, s]) => `${m} ${s.ok}/${s.refused}`).join(', ')}`);
    // The issue's example: a search with no controls and no box is the app's search over the whole photo.
    const search = await callApi<{ results: unknown[]; controls: unknown }>(page, 'search', { query: { kind: 'photo', id: ids[0] } });
    expect(search.results.length).toBeGreaterThan(0);
    const defaults = await page.evaluate(() => (window as unknown as { cwApp: { state(): { info: { defaultControls: unknown } } } }).cwApp.state().info.defaultControls);
    expect(search.controls, 'a search without controls uses the app\'s').toEqual(defaults);
    // Clearing is the one call that changes the collection whatever it is given (extra arguments are ignored).
    await callApi(page, 'clearCollection', 'everything?', NaN);
    expect(await integrity(page)).toMatchObject({ images: 0, features: 0, problems: [] });
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 600_000);
});
