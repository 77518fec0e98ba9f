/**
 * The app in a browser, for the end-to-end tests (tests/e2e/harness.ts adds the describe-block setup) and the scripts
 * that measure the app in Chromium: a Vite server (dev, or preview of a built dist/), a production build, headless
 * Chromium through playwright-core, console-error collection and screenshots. See ../../shared/docs/BROWSER-TESTING.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type LaunchOptions, type Page } from 'playwright-core';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const testResultsDir = join(projectRoot, 'test-results');
const viteBin = join(projectRoot, 'node_modules', '.bin', 'vite');

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
