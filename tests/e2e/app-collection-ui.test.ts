/**
 * The collection tools, page side, end to end: production build, wasm, MobileNet v1 0.75 at long side 512,
 * real photos of paris6k-mini-dev plus two generated copies of one of them (smaller files, so the original is the
 * suggested keep), driven through the page as a user would: multi-select (pointer and keyboard) and delete with undo
 * (the query photo among them), the class chips filtering the grid and the results, the results' minimum score and
 * "More like this", the near-duplicate review (slider counts, matched regions, keep the suggested one) and the groups
 * view (members with heatmaps, search within a group). The worker's answers (?debug=1) are the reference. One page
 * through the scenario, in steps that report on their own (a step after a failed one is skipped).
 */
import { describe, expect } from 'vitest';
import type { Page } from 'playwright-core';
import { browserAvailable, saveScreenshot, useE2E } from './harness';
import { devSet, dropFiles, photoCounts, revealPhoto, waitIndexed } from './appHelpers';
import { callApi, integrity } from '../../scripts/lib/appDebug';
import { needsModels } from '../helpers/requirements';
import { nearDuplicateSet } from './nearDuplicateSet';
import { steps } from './steps';
import type { DuplicatesReport, GroupsReport, SearchResponse } from '../../src/worker-api/api';

const data = devSet();
const MODEL = 'mobilenet_v1_0.75';

type AppWindow = { cwApp: { state(): { photos: { id: string; name: string }[] }; response(): SearchResponse | null } };
const pagePhotos = (page: Page) => page.evaluate(() => (window as unknown as AppWindow).cwApp.state().photos.map(({ id, name }) => ({ id, name })));
const response = (page: Page) => page.evaluate(() => (window as unknown as AppWindow).cwApp.response());
const attr = (page: Page, selector: string, name: string) => page.$eval(selector, (el, n) => el.getAttribute(n), name);
const count = (page: Page, selector: string) => page.$$eval(selector, (els) => els.length);

/** Moves a range input as a user's drag would end: the value set, one input event (React's onChange). */
async function setRange(page: Page, selector: string, value: number): Promise<void> {
  await page.$eval(
    selector,
    (el, v) => {
      const input = el as HTMLInputElement;
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, String(v));
      input.dispatchEvent(new Event('input', { bubbles: true }));
    },
    value,
  );
}

/** Waits for a search answer other than `before` (the page's response changed). */
async function nextResponse(page: Page, before: SearchResponse | null): Promise<SearchResponse> {
  const stamp = before ? JSON.stringify([before.query.key, before.searched, before.belowMinScore, before.results.length, before.timings.totalMs]) : '';
  await page.waitForFunction(
    (s) => {
      const r = (window as unknown as AppWindow).cwApp.response();
      return !!r && JSON.stringify([r.query.key, r.searched, r.belowMinScore, r.results.length, r.timings.totalMs]) !== s && !document.querySelector('.results[aria-busy="true"]');
    },
    stamp,
    { timeout: 120_000 },
  );
  return (await response(page))!;
}

describe.skipIf(!browserAvailable() || !data || !needsModels(MODEL))(`app: collection tools in the page (${MODEL}, wasm), production build`, () => {
  const e2e = useE2E({ mode: 'preview', build: true, outDir: 'test-results/dist-collection-ui' });
  const step = steps();
  // What the steps share: one page, the photos (a source with its two copies) in grid order, the last search answer.
  let page: Page;
  let consoleErrors: string[];
  let total: number;
  let order: string[];
  let sourceId: string;
  let copyIds: string[];
  let more: SearchResponse;
  const tile = (id: string) => `[data-testid="collection-grid"] [data-photo-id="${id}"]`;
  const selected = () => count(page, '[data-testid="collection-grid"] [data-selected="true"]');
  /** A step that saves the page as it was when it failed: test-results/collection-ui-failed.png. */
  const uiStep = (name: string, run: () => Promise<void>, timeoutMs?: number) =>
    step(
      name,
      async () => {
        try {
          await run();
        } catch (e) {
          if (page) await saveScreenshot(page, 'collection-ui-failed');
          throw e;
        }
      },
      timeoutMs,
    );

  uiStep('indexes the dev photos and two smaller copies of one of them', async () => {
    const { source, copies, files } = nearDuplicateSet(data!);
    total = files.length;
    ({ page, consoleErrors } = await e2e.openPage(`/?backend=wasm&model=${MODEL}&longSide=512&debug=1`));
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.waitForSelector('[data-phase="ready"]', { timeout: 60_000 });
    await dropFiles(page, '[data-testid="app"]', files);
    await waitIndexed(page, total, 600_000);
    const photos = await pagePhotos(page);
    order = photos.map((p) => p.id);
    const idOf = (name: string) => photos.find((p) => p.name === name)!.id;
    sourceId = idOf(source.fileName);
    copyIds = copies.map((c) => idOf(c.name));
  }, 660_000);

  uiStep('a photo clicked searches with it (the query the later steps delete and cut)', async () => {
    await page.click(await revealPhoto(page, order[3]));
    const first = await nextResponse(page, null);
    expect(first.query.key).toBe(order[3]);
  });

  uiStep('pointer multi-select: Ctrl-click toggles, Shift-click extends from the anchor; a plain click in selection mode toggles', async () => {
    await page.click(tile(order[1]), { modifiers: ['Control'] });
    await page.click(tile(order[4]), { modifiers: ['Shift'] });
    expect(await selected()).toBe(4);
    expect(await attr(page, '[data-testid="selection-bar"]', 'data-count')).toBe('4');
    await page.click(tile(order[2]));
    expect(await selected()).toBe(3);
    expect((await response(page))!.query.key, 'clicks while selecting do not search').toBe(order[3]);
    await page.keyboard.press('Escape');
    expect(await selected()).toBe(0);
  });

  uiStep('keyboard: Space toggles the focused photo (no search), Shift + arrows extend, Delete deletes, Undo restores', async () => {
    await page.focus(tile(order[1]));
    await page.keyboard.press(' ');
    await page.keyboard.press('Shift+ArrowRight');
    await page.keyboard.press('Shift+ArrowRight');
    expect(await selected()).toBe(3);
    expect((await response(page))!.query.key).toBe(order[3]);
    await page.keyboard.press('Delete');
    await page.waitForSelector('[data-testid="undo-bar"][data-count="3"]');
    await expect.poll(() => photoCounts(page), { timeout: 30_000 }).toEqual({ photos: total - 3, indexed: total - 3 }); // photo events reach the page in 50 ms batches
    expect(await count(page, '[data-testid="query-removed"]'), 'the query photo was among them: the page says so').toBe(1);
    await page.waitForSelector('[data-testid="query-deleted"]');
    await page.waitForFunction((ids) => ids.every((id) => !document.querySelector(`[data-result-id="${id}"]`)), order.slice(1, 4));
    expect((await integrity(page)).images).toBe(total - 3);
    await page.click('[data-testid="undo-delete"]');
    await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('[data-testid="app"]')?.dataset.photoCount) === n, total);
    expect((await pagePhotos(page)).map((p) => p.id), 'restored photos come back to their place').toEqual(order);
    expect(await count(page, '[data-testid="undo-bar"]')).toBe(0);
    expect(await count(page, '[data-testid="query-deleted"]')).toBe(0);
  });

  uiStep('results: minimum score (how many it cut), More like this', async () => {
    const all = (await response(page))!;
    const cutAt = Number(all.results[Math.floor(all.results.length / 2)].score.toFixed(2));
    await setRange(page, '[data-testid="min-score"]', cutAt);
    const cut = await nextResponse(page, all);
    expect(cut.results.every((r) => r.score >= cutAt)).toBe(true);
    expect(cut.belowMinScore).toBeGreaterThan(0);
    expect(cut.belowMinScore).toBe(all.results.length - cut.results.length);
    await page.waitForSelector(`[data-testid="below-min-score"][data-count="${cut.belowMinScore}"]`);
    expect(Number(await attr(page, '[data-testid="results-grid"]', 'data-count'))).toBe(cut.results.length);
    await setRange(page, '[data-testid="min-score"]', 0);
    const uncut = await nextResponse(page, cut);
    expect(uncut.belowMinScore).toBe(0);
    const other = uncut.results[1].id;
    await page.hover(`[data-result-id="${other}"]`);
    await page.click(`.result-tile:has([data-result-id="${other}"]) [data-testid="more-like-this"]`);
    more = await nextResponse(page, uncut);
    expect(more.query.key).toBe(other);
  });

  uiStep('classes: a chip filters the grid to the worker\'s list and restricts the search; removing the scope undoes both', async () => {
    await page.waitForSelector('[data-testid="class-chip"]');
    const chip = await page.$eval('[data-testid="class-chip"]', (el) => ({ index: Number(el.getAttribute('data-class-index')), count: Number(el.getAttribute('data-count')) }));
    const withClass = await callApi<string[]>(page, 'photosWithClass', chip.index);
    expect(withClass.length).toBe(chip.count);
    await page.click('[data-testid="class-chip"]');
    await page.waitForSelector(`[data-testid="collection-grid"][data-count="${chip.count}"]`);
    const inClass = await nextResponse(page, more);
    expect(inClass.searched).toBe(chip.count);
    expect(inClass.results.every((r) => withClass.includes(r.id))).toBe(true);
    expect(await attr(page, '[data-testid="search-scope"]', 'data-kind')).toBe('class');
    await page.click('[data-testid="search-scope-clear"]');
    await page.waitForSelector(`[data-testid="collection-grid"][data-count="${total}"]`);
    expect((await nextResponse(page, inClass)).searched).toBe(total);
    expect(await count(page, '[data-testid="search-scope"]')).toBe(0);
  });

  uiStep('viewer: a photo\'s top-5 classes with probabilities', async () => {
    await page.click(`[data-result-id="${(await response(page))!.results[1].id}"]`);
    await page.waitForSelector('[data-testid="viewer-classes"] li');
    expect(await count(page, '[data-testid="viewer-classes"] li')).toBe(5);
    expect(await page.$eval('[data-testid="viewer-classes"] li', (li) => li.textContent)).toMatch(/\d+(\.\d)?%$/);
  });

  uiStep('near-duplicates: the source and its copies, keep = the original; the slider\'s counts are the worker\'s', async () => {
    await page.click('[data-testid="viewer"] .btn.ghost:not(.danger)');
    await page.click('[data-testid="view-tab-duplicates"]');
    await page.waitForSelector('[data-testid="dup-groups"][data-threshold="0.85"] [data-testid="dup-group"]', { timeout: 120_000 });
    const report = await callApi<DuplicatesReport>(page, 'duplicates', { wait: true });
    await page.waitForSelector('[data-testid="graph-progress"][data-complete="true"]', { timeout: 120_000 });
    expect(await count(page, '[data-testid="dup-group"]')).toBe(1);
    expect(await attr(page, '[data-testid="dup-group"]', 'data-keep')).toBe(sourceId);
    const members = await page.$$eval('[data-testid="dup-member"]', (els) => els.map((el) => el.getAttribute('data-photo-id')!));
    expect(members.sort()).toEqual([sourceId, ...copyIds].sort());
    expect(await count(page, '[data-testid="dup-member"][data-keep="true"]')).toBe(1);
    expect(await count(page, '[data-testid="dup-member"] [data-testid="matched-cells"]')).toBe(3);
    expect(await count(page, '[data-testid="dup-member"] [data-testid="matched-cells"] [data-cosine]')).toBe(48);
    const at = (t: number) => report.counts.find((c) => Math.abs(c.threshold - t) < 0.005)!;
    expect(await attr(page, '[data-testid="dup-counts"]', 'data-groups')).toBe(String(at(0.85).groups));
    await setRange(page, '[data-testid="dup-threshold"]', 1);
    expect(await attr(page, '[data-testid="dup-counts"]', 'data-groups'), 'the counts follow the slider at once').toBe(String(at(1).groups));
    expect(at(1).groups).toBeLessThan(at(0.85).groups);
    await page.waitForSelector('[data-testid="dup-groups"][data-threshold="1"]', { state: 'attached' });
    expect(await count(page, '[data-testid="dup-group"]')).toBe(at(1).groups);
    await setRange(page, '[data-testid="dup-threshold"]', 0.85);
    await page.waitForSelector('[data-testid="dup-groups"][data-threshold="0.85"] [data-testid="dup-group"]');
    await saveScreenshot(page, 'collection-ui-duplicates');
    await page.click('[data-testid="dup-keep-suggested"]');
    await page.waitForSelector('[data-testid="undo-bar"][data-count="2"]');
    await expect.poll(() => photoCounts(page), { timeout: 30_000 }).toEqual({ photos: total - 2, indexed: total - 2 }); // photo events reach the page in 50 ms batches
    expect((await pagePhotos(page)).some((p) => copyIds.includes(p.id)), 'the copies are gone, the original stays').toBe(false);
    await page.waitForSelector('[data-testid="dup-none"]');
    await page.click('[data-testid="undo-delete"]');
    await page.waitForSelector('[data-testid="dup-groups"] [data-testid="dup-group"]');
    await expect.poll(() => photoCounts(page), { timeout: 30_000 }).toEqual({ photos: total, indexed: total }); // photo events reach the page in 50 ms batches
  }, 300_000);

  uiStep('groups: largest first with their counts, members with heatmaps, search within one', async () => {
    await page.click('[data-testid="view-tab-groups"]');
    const groups = await callApi<GroupsReport>(page, 'groups', { wait: true });
    expect(groups.groups.length).toBeGreaterThan(0);
    await page.waitForSelector(`[data-testid="group-cards"][data-count="${groups.groups.length}"]`, { timeout: 120_000 });
    const cards = await page.$$eval('[data-testid="group-card"]', (els) => els.map((el) => Number(el.getAttribute('data-count'))));
    expect(cards).toEqual(groups.groups.map((g) => g.count));
    const largest = groups.groups[0];
    await page.click(`[data-testid="group-card"][data-group-id="${largest.id}"]`);
    await page.waitForSelector('[data-testid="group-member"][data-heatmap="true"]', { timeout: 60_000 });
    expect(await count(page, '[data-testid="group-member"]')).toBe(largest.count);
    const before = await response(page);
    await page.click('[data-testid="group-search-within"]');
    const inGroup = await nextResponse(page, before);
    expect(inGroup.searched).toBe(largest.count);
    expect(inGroup.results.every((r) => largest.members.includes(r.id))).toBe(true);
    expect(await attr(page, '[data-testid="search-scope"]', 'data-kind')).toBe('group');
    await page.evaluate(() => scrollTo(0, 0));
    await saveScreenshot(page, 'collection-ui-groups');
  }, 300_000);

  step('no console errors', async () => {
    expect(consoleErrors).toEqual([]);
  });
});
