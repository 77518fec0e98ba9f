/**
 * The app's state read through ?debug=1 (window.cwApp: its worker API and debug tools), the per-file problems and
 * notices as the page shows them, and the collection's consistency check; for the end-to-end tests and the scripts
 * that measure the app in a browser.
 */
import type { Page } from 'playwright-core';
import type { IntegrityReport } from '../../src/worker-api/debugApi';

export interface ShownProblem {
  kind: string;
  name: string;
  message: string;
}

/** The "files were not imported" list as shown. */
export async function shownProblems(page: Page): Promise<ShownProblem[]> {
  return page.$$eval('[data-testid="file-problems"] li[data-kind]', (items) =>
    items.map((li) => ({
      kind: (li as HTMLElement).dataset.kind ?? '',
      name: li.querySelector('.problem-name')?.textContent ?? '',
      message: (li.querySelector('.muted')?.textContent ?? '').replace(/^\s*—\s*/, ''),
    })),
  );
}

/** Texts of the notices shown (bottom right). */
export async function shownNotices(page: Page): Promise<string[]> {
  return page.$$eval('.notices .notice span', (els) => els.map((e) => e.textContent ?? ''));
}

export type Integrity = IntegrityReport;

type Api = Record<string, (...args: unknown[]) => Promise<unknown>>;

/** Calls a method of the worker API (needs ?debug=1). */
export async function callApi<T>(page: Page, method: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(
    ([m, a]) => ((window as unknown as { cwApp: { api: Api } }).cwApp.api[m as string](...(a as unknown[])) as Promise<unknown>),
    [method, args] as const,
  ) as Promise<T>;
}

/** Calls one of the worker's debug tools (src/worker-api/debugApi.ts; needs ?debug=1). */
export async function callDebug<T>(page: Page, method: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(
    ([m, a]) => ((window as unknown as { cwApp: { debug: Api } }).cwApp.debug[m as string](...(a as unknown[])) as Promise<unknown>),
    [method, args] as const,
  ) as Promise<T>;
}

export const integrity = (page: Page): Promise<Integrity> => callDebug<Integrity>(page, 'checkIntegrity');

export const forwardPasses = async (page: Page): Promise<number> => (await callDebug<{ forwardPasses: number }>(page, 'stats')).forwardPasses;

/** Waits until the page is ready (its worker started and the collection is open). */
export async function waitReady(page: Page, timeout = 60_000): Promise<void> {
  await page.waitForSelector('[data-phase="ready"]', { timeout });
}

/** Waits until the collection holds `count` photos (as the page counts them). */
export async function waitPhotos(page: Page, count: number, timeout = 60_000): Promise<void> {
  await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('[data-testid="app"]')?.dataset.photoCount) === n, count, { timeout, polling: 100 });
}

/** The model is loaded (the header says ready). */
export async function waitModelReady(page: Page, timeout = 120_000): Promise<void> {
  await page.waitForSelector('[data-testid="model-state"][data-state="ready"]', { timeout });
}

/**
 * A tiny HTTP proxy in front of the app's server, whose answers a test can change per path: a file missing,
 * truncated or replaced on "the server". (Playwright's routes do not see the requests of the app's Web Worker, which
 * is where the model files are fetched.) It is another origin than the server, so it starts with empty storage.
 */
export interface Proxy {
  url: string;
  /**
   * path -> what to answer instead of the server's file: a status (with no file), the server's bytes changed by a
   * function, or a file of the test's own (a model "hosted on this site").
   */
  rules: Map<string, number | ((upstream: Buffer) => Buffer) | { body: Buffer; type: string }>;
  /** Paths held back before they are answered (e.g. a slow wasm binary: the engine's start-up waits for it). */
  delays: { match: RegExp; ms: number }[];
  /** Requests seen, by path. */
  seen: string[];
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<Proxy> {
  const { createServer } = await import('node:http');
  const rules: Proxy['rules'] = new Map();
  const delays: Proxy['delays'] = [];
  const seen: string[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      seen.push(path);
      const delay = delays.find((d) => d.match.test(path));
      if (delay) await new Promise((r) => setTimeout(r, delay.ms));
      const rule = rules.get(path);
      if (typeof rule === 'number') {
        res.writeHead(rule, { 'content-type': 'text/plain' });
        res.end(`status ${rule}`);
        return;
      }
      if (rule && typeof rule === 'object') {
        res.writeHead(200, { 'content-type': rule.type, 'cache-control': 'no-store' });
        res.end(rule.body);
        return;
      }
      const upstream = await fetch(`${target}${req.url}`, { headers: { accept: req.headers.accept ?? '*/*' } });
      let body: Buffer = Buffer.from(await upstream.arrayBuffer());
      if (rule) body = rule(body);
      const headers: Record<string, string> = {};
      upstream.headers.forEach((v, k) => {
        if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'etag', 'last-modified'].includes(k)) headers[k] = v;
      });
      headers['cache-control'] = 'no-store';
      res.writeHead(upstream.status, headers);
      res.end(body);
    })().catch((e: unknown) => {
      res.writeHead(502);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    rules,
    delays,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
