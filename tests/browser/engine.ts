/**
 * The app's worker without the app's page (tests/browser/engine.html): what `npm run bench-scale` measures on the
 * worker side (import, start-up, search, memory), free of the grid's own cost, which the UI's figures cover.
 */
import { createEngineClient } from '../../src/worker-api/client';
import type { EngineEvent, StartOptions } from '../../src/worker-api/api';

const client = createEngineClient({ debug: true });
const events = { ids: [] as string[], errors: [] as string[] };
const onEvent = (e: EngineEvent) => {
  if (e.type === 'photos-added') for (const p of e.photos) events.ids.push(p.id);
  if (e.type === 'error' || e.type === 'fatal' || e.type === 'storage-full') events.errors.push(e.message);
};

Object.assign(window, {
  engine: {
    api: client.api,
    /** The worker's debug tools (stats). */
    debug: client.debug,
    events,
    /** Starts the worker on the stored collection; ms until the photo list is in this page. */
    async start(options: StartOptions) {
      const t0 = performance.now();
      const r = await client.api.start(options, client.listen(onEvent));
      return { ms: performance.now() - t0, photos: r.photos.length, ids: r.photos.filter((p) => p.indexed).map((p) => p.id) };
    },
    /** Imports the file chosen in #index-file; seconds. */
    async importChosen() {
      const file = (document.getElementById('index-file') as HTMLInputElement).files![0];
      const t0 = performance.now();
      const report = await client.api.importIndex(file);
      return { s: (performance.now() - t0) / 1000, report: { ...report, problems: report.problems.length } };
    },
  },
});
