/**
 * Main-thread long tasks of a page, and the scroll that exercises a windowed grid: shared by the scale e2e test,
 * bench-scale's page figures and scripts/profile-long-tasks.ts, so all three measure the same thing.
 */
import type { Page } from 'playwright-core';

type Tasks = { __longTasks: { start: number; ms: number }[] };

/** An init script (page.addInitScript / context.addInitScript): records every long task from the page's start. */
export const recordLongTasks = (): void => {
  const w = window as unknown as Tasks;
  w.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) w.__longTasks.push({ start: e.startTime, ms: e.duration });
  }).observe({ type: 'longtask', buffered: true });
};

/** The page's clock (performance.now()), to ask for the tasks since a moment. */
export const pageNow = (page: Page): Promise<number> => page.evaluate(() => performance.now());

/** Durations (ms) of the long tasks that started at or after t (page clock). */
export const longTasksSince = (page: Page, t: number): Promise<number[]> =>
  page.evaluate((t0) => (window as unknown as Tasks).__longTasks.filter((l) => l.start >= t0).map((l) => l.ms), t);

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
