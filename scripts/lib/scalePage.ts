/**
 * bench-scale's page figures: the app itself (its grid) opened on a collection already in the profile, as a user
 * reloading it: start-up to an interactive grid (navigation to the first thumbnail shown in the grid), then the
 * phases of scripts/lib/longTasks.ts (scroll the grid end to end, search from a tile, page the results past the first
 * 1000, open a result), each with its main-thread long tasks (PerformanceObserver 'longtask', > 50 ms); and memory
 * with the grid. The target: no task over LONG_TASK_TARGET_MS in any phase at 10,000 photos on a quiet machine.
 */
import type { BrowserContext } from 'playwright-core';
import { GRID, longTasksOf, longTasksSince, openResult, recordLongTasks, resultsPast1000, scrollThrough, searchFromGrid } from './longTasks';

export interface PageFigures {
  /** Navigation to the first thumbnail in the grid, ms. */
  gridMs: number;
  /** Long tasks by phase, in order ('reload to grid' first): how many, and the longest, ms. */
  phases: { name: string; count: number; maxMs: number }[];
  /** The page's JS heap (performance.memory) after the phases, MiB. */
  heapMiB: number | null;
}

export async function pageFigures(context: BrowserContext, url: string, photos: number): Promise<PageFigures> {
  const page = await context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.addInitScript(recordLongTasks);
  const phases: PageFigures['phases'] = [];
  const record = (name: string, ms: number[]) => phases.push({ name, count: ms.length, maxMs: Math.max(0, ...ms) });
  try {
    await page.goto(url, { waitUntil: 'commit' });
    await page.waitForSelector(`${GRID} img[src^="blob:"]`, { timeout: 600_000 });
    const gridMs = await page.evaluate(() => performance.now());
    await page.waitForTimeout(500);
    record('reload to grid', (await longTasksSince(page, 0)).map(Math.round));
    record('scroll the grid', await longTasksOf(page, () => scrollThrough(page, GRID)));
    record('search from a tile', await longTasksOf(page, () => searchFromGrid(page)));
    // The first page of results is 1000: a next page exists only past that.
    if (photos > 1000) record('results past 1000', await longTasksOf(page, () => resultsPast1000(page)));
    record('open a result', await longTasksOf(page, () => openResult(page)));
    const heap = await page.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null);
    return { gridMs, phases, heapMiB: heap === null ? null : heap / 2 ** 20 };
  } finally {
    await page.close();
  }
}
