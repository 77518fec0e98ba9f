import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// `CW_BUILD_TEST_PAGES=1 vite build` also builds the browser test pages of tests/browser/, so the e2e tests can run
// them on a production (minified) build through `vite preview` (tests/e2e/harness.ts does this into test-results/).
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
function testPagesInput(): Record<string, string> {
  const input: Record<string, string> = existsSync(here('index.html')) ? { index: here('index.html') } : {};
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

export default defineConfig({
  plugins: [react(), appShellServiceWorker()],
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
    rolldownOptions: process.env.CW_BUILD_TEST_PAGES ? { input: testPagesInput() } : {},
  },
});
