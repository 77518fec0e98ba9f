import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// `CW_BUILD_TEST_PAGES=1 vite build` also builds the browser test pages of tests/browser/, so the e2e tests can run
// them on a production (minified) build through `vite preview` (tests/e2e/harness.ts does this into test-results/).
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
/** The site's pages: the app (index.html) and the benchmark page (bench.html, src/bench/page.ts). */
function appPagesInput(): Record<string, string> {
  const input: Record<string, string> = {};
  for (const page of ['index', 'bench']) if (existsSync(here(`${page}.html`))) input[page] = here(`${page}.html`);
  return input;
}
function testPagesInput(): Record<string, string> {
  const input = appPagesInput();
  for (const f of readdirSync(here('tests/browser')).filter((f) => f.endsWith('.html'))) {
    input[f.replace(/\.html$/, '')] = here(`tests/browser/${f}`);
  }
  return input;
}

// The tfjs packages the app, its module worker and the browser test pages import. Pre-bundling them up front
// keeps the dev server from discovering them on the first page load and reloading that page mid-test.
const tfjsDeps = [
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-layers',
  '@tensorflow/tfjs-converter',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-webgl',
  '@tensorflow/tfjs-backend-webgpu',
  '@tensorflow/tfjs-backend-wasm',
];

/**
 * Production builds get dist/sw.js: the service worker of src/service-worker/sw.template.js with the list of every
 * file of the build (the app shell) to cache on the first visit, so later visits load offline. Not used by the dev
 * server.
 */
function appShellServiceWorker(): Plugin {
  return {
    name: 'cw-app-shell-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle).filter((f) => !f.endsWith('.map') && !f.startsWith('tests/'));
      const precache = ['./', ...files.filter((f) => f !== 'index.html'), 'index.html', 'favicon.svg'];
      const version = createHash('sha256').update(files.sort().join('\n')).digest('hex').slice(0, 12);
      const source = readFileSync(here('src/service-worker/sw.template.js'), 'utf8')
        .replace("'__SW_VERSION__'", JSON.stringify(version))
        .replace('__SW_PRECACHE__', JSON.stringify(precache));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}

/**
 * Photos never leave the device: the built app may only talk to its own origin (connect-src 'self'), load code
 * from it, and run WebAssembly. A <meta> tag in the built index.html covers the page on any static host; `vite
 * preview` also sends it as a header (not for the test and bench pages), which covers the worker too (a worker's
 * policy comes with its script). The dev server is left alone (its client needs inline scripts and a websocket).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  // blob: for the threaded wasm build only: tfjs starts its pthread workers from Blobs it makes of its own bundled code.
  "script-src 'self' 'wasm-unsafe-eval' blob:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "img-src 'self' blob: data:",
  "style-src 'self' 'unsafe-inline'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

function contentSecurityPolicy(): Plugin {
  return {
    name: 'cw-content-security-policy',
    configurePreviewServer(server) {
      server.middlewares.use((req, res, next) => {
        if (!/^\/(tests|bench)/.test(req.url ?? '')) res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
        next();
      });
    },
    transformIndexHtml: {
      order: 'post',
      handler: (html, ctx) =>
        ctx.server === undefined && ctx.filename === here('index.html')
          ? [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY }, injectTo: 'head-prepend' }]
          : html,
    },
  };
}

/**
 * tfjs-backend-wasm's threaded build starts each pthread worker from `factory.toString()` (a Blob the worker
 * imports). Emscripten's factory reads `_scriptDir` from the closure around it; the minifier renames that variable
 * and turns `typeof _scriptDir !== "undefined"` into a plain reference, so in the worker the code throws
 * "ReferenceError: e is not defined", the workers die, and `setBackend('wasm')` never returns. Declaring
 * `_scriptDir` inside the factory makes its source self-contained. The build fails if the file no longer matches.
 */
function selfContainedWasmThreadFactory(): Plugin {
  const head = 'function(WasmBackendModuleThreadedSimd) {';
  return {
    name: 'cw-self-contained-wasm-thread-factory',
    apply: 'build',
    transform(code, id) {
      if (!id.replace(/\\/g, '/').endsWith('/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js')) return null;
      if (code.split(head).length !== 2) this.error(`${id}: Emscripten factory header not found once; update selfContainedWasmThreadFactory`);
      const scriptDir =
        "var _scriptDir = typeof document !== 'undefined' && document.currentScript ? document.currentScript.src : typeof __filename !== 'undefined' ? __filename : undefined;";
      return { code: code.replace(head, `${head}\n  ${scriptDir}`), map: null };
    },
  };
}

/**
 * Cross-origin isolation (SharedArrayBuffer, hence tfjs' threaded wasm build: src/model/wasmThreads.ts) for the page
 * and its worker. Every resource is same-origin, so require-corp blocks nothing. `CW_NO_ISOLATION_HEADERS=1 vite
 * preview` leaves them out, as a static host that cannot set headers would (the service worker adds them then).
 */
export const CROSS_ORIGIN_ISOLATION_HEADERS: Record<string, string> = process.env.CW_NO_ISOLATION_HEADERS
  ? {}
  : { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  plugins: [react(), appShellServiceWorker(), contentSecurityPolicy(), selfContainedWasmThreadFactory()],
  // src/worker/worker.ts is a module worker (`new Worker(new URL(...), { type: 'module' })`).
  worker: { format: 'es', plugins: () => [selfContainedWasmThreadFactory()] },
  optimizeDeps: {
    // index.html plus the browser test pages (served by the dev server in the e2e tests).
    entries: ['index.html', 'tests/browser/*.html'],
    include: tfjsDeps,
  },
  server: { headers: CROSS_ORIGIN_ISOLATION_HEADERS },
  preview: { headers: CROSS_ORIGIN_ISOLATION_HEADERS },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    rolldownOptions: { input: process.env.CW_BUILD_TEST_PAGES ? testPagesInput() : appPagesInput() },
  },
});
