/**
 * Shared helpers for the end-to-end tests: a Vite server (dev, or preview of a built dist/), headless Chromium
 * through playwright-core, console-error collection and screenshots. See ../../shared/docs/BROWSER-TESTING.md.
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
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { chromium, type Browser, type BrowserContext, type LaunchOptions, type Page } from 'playwright-core';
import { needs } from '../helpers/requirements';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const testResultsDir = join(projectRoot, 'test-results');
const viteBin = join(projectRoot, 'node_modules', '.bin', 'vite');

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
// Vite server

export interface ViteServer {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  pid: number;
  mode: 'dev' | 'preview';
  /** Everything the server printed so far (stdout and stderr), for failure messages. */
  output(): string;
  /** Stops the server by pid (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

export interface StartServerOptions {
  /** 'dev' (default): `vite` serving sources. 'preview': `vite preview` serving a production build. */
  mode?: 'dev' | 'preview';
  /** With mode 'preview': run `vite build` first (default false: the build must already exist). */
  build?: boolean;
  /**
   * With mode 'preview': the build includes the test pages of tests/browser/ (CW_BUILD_TEST_PAGES=1), served at
   * the same paths as on the dev server. Default outDir then: test-results/dist-test-pages (git-ignored).
   */
  testPages?: boolean;
  /** Build/preview folder, relative to the project root (default 'dist'). */
  outDir?: string;
  /** Fixed port; default a free one. */
  port?: number;
  /** How long to wait for the first HTTP answer (default 60 s). */
  timeoutMs?: number;
  /** Extra CLI arguments for vite. */
  args?: string[];
  /** Extra environment variables for the server process. */
  env?: Record<string, string>;
}

/** A TCP port that was free a moment ago (the OS picks it). */
async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

const running = new Set<ChildProcess>();
// Last resort if a test run dies without afterAll: never leave a server holding a port.
process.once('exit', () => {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
});

/** Collects a child's stdout and stderr; the returned function gives everything so far. */
function captureOutput(child: ChildProcess): () => string {
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  return () => log;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((done) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done(true);
    });
  });
}

/**
 * Runs `vite build` (a production build into `outDir`, default dist/) and resolves when it succeeds.
 * `testPages`: also build tests/browser/*.html (see vite.config.ts).
 */
export async function buildApp(options: { outDir?: string; testPages?: boolean; args?: string[] } = {}): Promise<void> {
  const args = ['build', '--outDir', options.outDir ?? 'dist', '--emptyOutDir', ...(options.args ?? [])];
  // NODE_ENV: vitest sets it to 'test', and a `vite build` that inherits it is not a production build
  // (import.meta.env.PROD false, React in development mode).
  const env = { ...process.env, NODE_ENV: 'production', ...(options.testPages ? { CW_BUILD_TEST_PAGES: '1' } : {}) };
  const child = spawn(viteBin, args, { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = captureOutput(child);
  const code = await new Promise<number | null>((done) => child.once('exit', (c) => done(c)));
  if (code !== 0) throw new Error(`vite build failed (exit ${code}):\n${log()}`);
}

/**
 * Spawns node_modules/.bin/vite directly (never through npx: killing npx leaves the real server holding the port)
 * on 127.0.0.1, and resolves once it answers HTTP.
 */
export async function startServer(options: StartServerOptions = {}): Promise<ViteServer> {
  const mode = options.mode ?? 'dev';
  const outDir = options.outDir ?? (options.testPages ? 'test-results/dist-test-pages' : 'dist');
  if (mode === 'preview') {
    if (options.build) await buildApp({ outDir, testPages: options.testPages });
    if (!existsSync(join(projectRoot, outDir))) {
      throw new Error(`vite preview needs a build in ${outDir}/: run \`npm run build\` or pass { build: true }`);
    }
  }
  const port = options.port ?? (await freePort());
  const cliArgs = [...(mode === 'preview' ? ['preview', '--outDir', outDir] : []), '--host', '127.0.0.1', '--port', String(port), '--strictPort'];
  if (mode === 'dev') cliArgs.push('--clearScreen', 'false');
  cliArgs.push(...(options.args ?? []));

  const child = spawn(viteBin, cliArgs, {
    cwd: projectRoot,
    env: { ...process.env, ...options.env, BROWSER: 'none', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const log = captureOutput(child);
  const url = `http://127.0.0.1:${port}`;

  const server: ViteServer = {
    url,
    port,
    pid: child.pid ?? -1,
    mode,
    output: log,
    async stop() {
      if (!(await waitForExit(child, 0))) {
        child.kill('SIGTERM');
        if (!(await waitForExit(child, 5_000))) {
          child.kill('SIGKILL');
          await waitForExit(child, 5_000);
        }
      }
      running.delete(child);
    },
  };

  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`vite ${mode} exited with code ${child.exitCode} before answering:\n${log()}`);
    try {
      const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(5_000) });
      await res.arrayBuffer();
      return server; // any HTTP answer (even a 404 with no index.html) means it is listening
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`vite ${mode} did not answer on ${url} within ${options.timeoutMs ?? 60_000} ms:\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Chromium

/** Arguments every launch gets: WebGPU needs --enable-unsafe-webgpu (SwiftShader here); QUIC off (no internet). */
const CHROMIUM_ARGS = ['--enable-unsafe-webgpu', '--disable-quic'];

/**
 * Headless Debian Chromium through playwright-core (never `playwright install`). `webgpu: false` leaves out
 * --enable-unsafe-webgpu, so `navigator.gpu.requestAdapter()` gives null: a browser without WebGPU.
 */
export async function launchBrowser(options: LaunchOptions & { webgpu?: boolean } = {}): Promise<Browser> {
  const { webgpu = true, ...launch } = options;
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    ...launch,
    args: [...CHROMIUM_ARGS.filter((a) => webgpu || a !== '--enable-unsafe-webgpu'), ...(launch.args ?? [])],
  });
}

/**
 * A persistent context (its IndexedDB and storage survive closing and relaunching with the same userDataDir).
 * Close it with `context.close()`.
 */
export async function launchPersistentContext(userDataDir: string, options: LaunchOptions = {}): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    ...options,
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
  });
}

/**
 * Starts recording a page's console errors and uncaught exceptions into the returned array (live: it keeps
 * filling as the page runs). `ignore` drops known-harmless messages.
 */
export function collectConsoleErrors(page: Page, ignore: RegExp[] = []): string[] {
  const errors: string[] = [];
  const keep = (text: string) => !ignore.some((re) => re.test(text));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && keep(msg.text())) errors.push(`console.error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => {
    const text = `${err.name}: ${err.message}`;
    if (keep(text)) errors.push(`pageerror: ${text}`);
  });
  return errors;
}

/** Saves a full-page PNG as test-results/<name>.png (git-ignored) and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(testResultsDir, { recursive: true });
  const file = join(testResultsDir, `${name.replace(/[^\w.-]+/g, '_')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
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
