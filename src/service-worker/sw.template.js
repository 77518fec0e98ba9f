/* Service worker of the app shell (generated into dist/sw.js by the `appShellServiceWorker` plugin of
 * vite.config.ts, which fills in the build's file list). The first visit caches every file of the build; later
 * visits load the app from the cache when offline. Pages: network first, cache as fallback (a new deployment is
 * picked up when online). Everything else of this origin: cache first. The model files are cached by the worker
 * itself (Cache API, cache `cw-models-v1`); caches.match finds them there too. Nothing goes to another origin.
 * Every response it gives gets the cross-origin isolation headers (COOP/COEP) when the server sent none, so on a
 * static host that cannot set headers the app is isolated, and wasm runs threaded, from the second visit on
 * (src/model/wasmThreads.ts). All of the app is same-origin, so require-corp blocks nothing. */
const VERSION = '__SW_VERSION__';
const PRECACHE = __SW_PRECACHE__;
const SHELL = `cw-shell-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(SHELL)
      .then((cache) => cache.addAll(PRECACHE.map((p) => new URL(p, self.registration.scope).href)))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('cw-shell-') && k !== SHELL).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

function isolated(response) {
  if (!response || response.status === 0 || response.headers.has('Cross-Origin-Embedder-Policy')) return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ISOLATION)) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    event.respondWith(
      fetch(request)
        .catch(
          async () =>
            (await caches.match(request, { ignoreSearch: true, ignoreVary: true })) ??
            (await caches.match(new URL('index.html', self.registration.scope).href, { ignoreVary: true })),
        )
        .then(isolated),
    );
    return;
  }
  // ignoreVary: servers answer `Vary: Origin`, and the page's crossorigin module scripts send an Origin header
  // that the precache requests did not; the files are static and the same whoever asks.
  event.respondWith(caches.match(request, { ignoreVary: true }).then((hit) => hit ?? fetch(request)).then(isolated));
});
