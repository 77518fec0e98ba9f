/**
 * Main-thread long tasks of a page, and the phases that exercise the app at scale (scroll the windowed grid, search
 * from a tile, page the results past the first 1000, open a result): shared by the scale e2e test, bench-scale's page
 * figures and scripts/profile-long-tasks.ts, so all three measure the same thing. The bounds on them are
 * benchmark targets (BENCHMARKS.md), not test assertions: a test keeps only a guard against collapse.
 */
import type { Page } from 'playwright-core';

type Tasks = { __longTasks: { start: number; ms: number }[] };

/** The longest main-thread task the app aims at in every phase at 10,000 photos, on a quiet machine (ms). */
export const LONG_TASK_TARGET_MS = 100;

/** An init script (page.addInitScript / context.addInitScript): records every long task from the page's start. */
export const recordLongTasks = (): void => {
  const w = window as unknown as Tasks;
  w.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) w.__longTasks.push({ start: e.startTime, ms: e.duration });
  }).observe({ type: 'longtask', buffered: true });
};

/** The page's clock (performance.now()), to ask for the tasks since a moment. */
const pageNow = (page: Page): Promise<number> => page.evaluate(() => performance.now());

/** Durations (ms) of the long tasks that started at or after t (page clock). */
export const longTasksSince = (page: Page, t: number): Promise<number[]> =>
  page.evaluate((t0) => (window as unknown as Tasks).__longTasks.filter((l) => l.start >= t0).map((l) => l.ms), t);

/** Runs `work` and returns the durations (ms, rounded) of the long tasks it caused (300 ms after it are included: tasks are reported when they end). */
export async function longTasksOf(page: Page, work: () => Promise<unknown>): Promise<number[]> {
  const t = await pageNow(page);
  await work();
  await page.waitForTimeout(300);
  return (await longTasksSince(page, t)).map((ms) => Math.round(ms));
}

export const GRID = '[data-testid="collection-grid"]';
export const RESULTS = '[data-testid="results-grid"]';

/** Scrolls the window through `grid` to its end, a viewport per frame (+20 ms). */
export async function scrollThrough(page: Page, grid: string): Promise<void> {
  await page.evaluate(async (g) => {
    const el = document.querySelector<HTMLElement>(g)!;
    const top = el.getBoundingClientRect().top + window.scrollY;
    const end = top + el.offsetHeight - window.innerHeight;
    for (let y = top; y < end; y += window.innerHeight) {
      window.scrollTo(0, y);
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 20)));
    }
    window.scrollTo(0, end);
  }, grid);
}

/** Clicks the first tile in view of the collection grid (a search with it) and waits for the first page of results. */
export async function searchFromGrid(page: Page): Promise<void> {
  await page.evaluate((g) => document.querySelector(g)!.scrollIntoView(), GRID);
  await page.locator(`${GRID} [data-photo-id]`).first().click();
  await page.waitForFunction((r) => Number(document.querySelector<HTMLElement>(r)?.dataset.count) === 1000 && !document.querySelector('.results.is-stale'), RESULTS, { timeout: 60_000 });
}

/** Scrolls the results to their end: the next page of the ranking (past the first 1000) loads. */
export async function resultsPast1000(page: Page): Promise<void> {
  await scrollThrough(page, RESULTS);
  await page.waitForFunction((r) => Number(document.querySelector<HTMLElement>(r)?.dataset.count) > 1000, RESULTS, { timeout: 60_000 });
}

/** Opens the first result in the viewer (its photo shown), then closes it. */
export async function openResult(page: Page): Promise<void> {
  await page.evaluate((r) => document.querySelector(r)!.scrollIntoView(), RESULTS);
  await page.locator(`${RESULTS} [data-result-id]`).first().click();
  await page.waitForSelector('[data-testid="viewer"] img[src^="blob:"]', { timeout: 30_000 });
  await page.keyboard.press('Escape');
  await page.waitForSelector('[data-testid="viewer"]', { state: 'detached' });
}
