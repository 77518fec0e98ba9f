/**
 * bench-scale's page figures: the app itself (its grid) opened on a collection already in the profile, as a user
 * reloading it: start-up to an interactive grid (navigation to the first thumbnail shown in the grid), main-thread
 * long tasks (PerformanceObserver 'longtask') while scrolling the grid end to end, and memory with the grid.
 */
import type { BrowserContext } from 'playwright-core';
import { longTasksSince, pageNow, recordLongTasks, scrollThrough } from '../../tests/e2e/longTasks';

export interface PageFigures {
  /** Navigation to the first thumbnail in the grid, ms. */
  gridMs: number;
  /** Long tasks during start-up (to the grid) and while scrolling the whole grid: count, longest, ms. */
  startupTasks: { count: number; maxMs: number };
  scrollTasks: { count: number; maxMs: number; over200: number };
  /** The page's JS heap (performance.memory) after scrolling, MiB. */
  heapMiB: number | null;
}

const summary = (ms: number[]) => ({ count: ms.length, maxMs: Math.round(Math.max(0, ...ms)) });

export async function pageFigures(context: BrowserContext, url: string): Promise<PageFigures> {
  const page = await context.newPage();
  await page.addInitScript(recordLongTasks);
  try {
    await page.goto(url, { waitUntil: 'commit' });
    await page.waitForSelector('[data-testid="collection-grid"] img[src^="blob:"]', { timeout: 600_000 });
    const gridMs = await page.evaluate(() => performance.now());
    await page.waitForTimeout(500);
    const startup = await longTasksSince(page, 0);
    const t0 = await pageNow(page);
    await scrollThrough(page, '[data-testid="collection-grid"]');
    await page.waitForTimeout(500);
    const scroll = await longTasksSince(page, t0);
    const heap = await page.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null);
    return { gridMs, startupTasks: summary(startup), scrollTasks: { ...summary(scroll), over200: scroll.filter((m) => m > 200).length }, heapMiB: heap === null ? null : heap / 2 ** 20 };
  } finally {
    await page.close();
  }
}
