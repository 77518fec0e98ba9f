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
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-webgl',
  '@tensorflow/tfjs-backend-webgpu',
  '@tensorflow/tfjs-backend-wasm',
];

/**
 * Production builds get dist/sw.js: the service worker of src/worker/sw.template.js with the list of every file of
 * the build (the app shell) to cache on the first visit, so later visits load offline. Not used by the dev server.
 */
function appShellServiceWorker(): Plugin {
  return {
    name: 'cw-app-shell-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle).filter((f) => !f.endsWith('.map') && !f.startsWith('tests/'));
      const precache = ['./', ...files.filter((f) => f !== 'index.html'), 'index.html', 'favicon.svg'];
      const version = createHash('sha256').update(files.sort().join('\n')).digest('hex').slice(0, 12);
      const source = readFileSync(here('src/worker/sw.template.js'), 'utf8')
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
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
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

export default defineConfig({
  plugins: [react(), appShellServiceWorker(), contentSecurityPolicy()],
  // src/worker/worker.ts is a module worker (`new Worker(new URL(...), { type: 'module' })`).
  worker: { format: 'es' },
  optimizeDeps: {
    // index.html plus the browser test pages (served by the dev server in the e2e tests).
    entries: ['index.html', 'tests/browser/*.html'],
    include: tfjsDeps,
  },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    rolldownOptions: { input: process.env.CW_BUILD_TEST_PAGES ? testPagesInput() : appPagesInput() },
  },
});
