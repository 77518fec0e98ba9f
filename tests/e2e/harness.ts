/**
 * The end-to-end tests' harness: the app's server and Chromium (scripts/lib/appServer.ts, shared with the scripts
 * that measure the app in a browser), started and stopped around a describe block, and the rule that skips the
 * tests without Chromium (fails them under CI=true). See ../../shared/docs/BROWSER-TESTING.md.
 *
 *   import { describe, it, expect } from 'vitest';
 *   import { browserAvailable, useE2E } from './harness';
 *
 *   describe.skipIf(!browserAvailable())('my page', () => {
 *     const e2e = useE2E();                        // beforeAll: server + browser; afterAll: both stopped
 *     it('works', async () => {
 *       const { page, consoleErrors } = await e2e.openPage('/tests/browser/golden.html?backend=wasm');
 *       ...
 *       expect(consoleErrors).toEqual([]);
 *     });
 *   });
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import type { Browser, BrowserContext, LaunchOptions, Page } from 'playwright-core';
import { needs } from '../helpers/requirements';
import { CHROMIUM_PATH, collectConsoleErrors, launchBrowser, startServer, type StartServerOptions, type ViteServer } from '../../scripts/lib/appServer';

export { collectConsoleErrors, launchBrowser, saveScreenshot, startServer, testResultsDir } from '../../scripts/lib/appServer';

// ---------------------------------------------------------------------------------------------------------------
// Browser availability

/**
 * True when Chromium is installed. When it is missing: outside CI, warns and returns false (use with
 * `describe.skipIf(!browserAvailable())`, so the e2e tests are skipped); under CI=true, throws, so the test file
 * fails loudly instead of passing with nothing run (tests/helpers/requirements.ts).
 */
export function browserAvailable(executablePath: string = CHROMIUM_PATH): boolean {
  return needs(
    `Chromium at ${executablePath}`,
    existsSync(executablePath),
    'install it with `apt-get install -y chromium` (never `playwright install`), or set CHROMIUM_PATH',
  );
}

// ---------------------------------------------------------------------------------------------------------------
// One-call setup for a describe block

interface OpenedPage {
  page: Page;
  /** Live list of console errors and uncaught exceptions on this page. */
  consoleErrors: string[];
}

interface OpenPageOptions {
  sharedContext?: boolean;
  /** Console messages matching any of these are not collected. */
  ignoreConsole?: RegExp[];
  /** Navigation timeout (default 120 s). */
  timeoutMs?: number;
}

export interface E2E {
  readonly server: ViteServer;
  readonly browser: Browser;
  /**
   * A new page, console errors collected, navigated to `path` (relative to the server URL). Each page gets its own
   * browser context (own storage, own IndexedDB, cold HTTP cache) unless `sharedContext` is set: then it opens in one
   * context shared by all such pages of this block, whose warm cache saves re-fetching the app's modules.
   */
  openPage(path: string, options?: OpenPageOptions): Promise<OpenedPage>;
}

/**
 * Registers beforeAll/afterAll in the calling describe block: starts the Vite server and Chromium before the
 * tests, closes every page and context opened through `openPage`, the browser and the server (by pid) after.
 * Call it at the top of a describe body; read `server` and `browser` only inside tests.
 */
export function useE2E(options: StartServerOptions & { launch?: LaunchOptions } = {}): E2E {
  let server: ViteServer | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  let shared: BrowserContext | undefined;

  beforeAll(async () => {
    server = await startServer(options);
    browser = await launchBrowser(options.launch);
  });
  afterAll(async () => {
    for (const ctx of contexts) await ctx.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  return {
    get server() {
      if (!server) throw new Error('useE2E: the server is only available inside tests');
      return server;
    },
    get browser() {
      if (!browser) throw new Error('useE2E: the browser is only available inside tests');
      return browser;
    },
    async openPage(path, pageOptions = {}) {
      let ctx = pageOptions.sharedContext ? shared : undefined;
      if (!ctx) {
        ctx = await this.browser.newContext();
        contexts.push(ctx);
        if (pageOptions.sharedContext) shared = ctx;
      }
      const page = await ctx.newPage();
      const consoleErrors = collectConsoleErrors(page, pageOptions.ignoreConsole);
      await page.goto(`${this.server.url}${path.startsWith('/') ? '' : '/'}${path}`, {
        timeout: pageOptions.timeoutMs ?? 120_000,
      });
      return { page, consoleErrors };
    },
  };
}
