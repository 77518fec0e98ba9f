/**
 * The worker API's boundary (src/worker/boundary.ts) around a stand-in engine and debug tools that record their
 * calls: calls made while start() runs wait for it and then run in order; a call before start(), or after a failed
 * one, is refused with the reason; wrong arguments are refused with the method, the argument and what is wrong,
 * before the engine sees them; absent optional arguments pass; the debug tools pass the same gate and checks, and
 * the API carries none of them. (The real engine behind it: tests/e2e/app-api.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { guardApis } from '../../src/worker/boundary';
import type { EngineApi } from '../../src/worker-api/api';
import type { DebugApi } from '../../src/worker-api/debugApi';

function standIn(startResult: Promise<unknown>) {
  const calls: string[] = [];
  const recorder = <T extends object>(prefix: string) =>
    new Proxy({} as T, {
      get: (_, method: string) =>
        async (...args: unknown[]) => {
          calls.push(`${prefix}${method}(${args.length})`);
          if (method === 'start') {
            await startResult;
            calls.push('started');
          }
          return method;
        },
    });
  return { ...guardApis(recorder<EngineApi>(''), recorder<DebugApi>('debug.')), calls };
}

const onEvent = () => undefined;
const photo = { kind: 'photo', id: 'a1' } as const;
const refused = (call: Promise<unknown>) => call.then(() => 'resolved', (e: Error) => `${e.name}: ${e.message}`);

describe('worker API boundary', () => {
  it('holds every call made while start() runs until it is done, then runs them in order', async () => {
    let finish!: () => void;
    const { api, debug, calls } = standIn(new Promise<void>((r) => (finish = r)));
    const started = api.start({ backend: 'wasm' }, onEvent);
    const imported = api.importFiles([{ file: new File(['x'], 'a.jpg'), path: '' }]);
    const counted = debug.stats();
    const searched = api.search({ query: photo });
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toEqual(['start(2)']);
    finish();
    await Promise.all([started, imported, counted, searched]);
    expect(calls).toEqual(['start(2)', 'started', 'importFiles(1)', 'debug.stats(0)', 'search(1)']);
  });

  it('refuses a call before start(), a second start(), and every call after a failed start, with the reason', async () => {
    const { api, debug } = standIn(Promise.reject(new Error('IndexedDB is not available')));
    await expect(api.photoFacts(['a1'])).rejects.toThrow('photoFacts: the engine has not been started: call start() first');
    await expect(debug.stats()).rejects.toThrow('stats: the engine has not been started: call start() first');
    await expect(api.start({ backend: 'wasm' }, onEvent)).rejects.toThrow('IndexedDB is not available');
    await expect(api.photoFacts(['a1'])).rejects.toThrow('the app could not start (IndexedDB is not available): reload the page');
    await expect(debug.checkIntegrity()).rejects.toThrow('the app could not start (IndexedDB is not available): reload the page');
    await expect(api.start({ backend: 'wasm' }, onEvent)).rejects.toThrow('start: the engine has been started already');
  });

  it('refuses wrong arguments with the method, the argument and what is wrong, before the engine sees them', async () => {
    const { api, debug, calls } = standIn(Promise.resolve());
    await api.start({ backend: 'wasm' }, onEvent);
    const bad = api as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const badDebug = debug as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    expect(await refused(bad.search({ query: { kind: 'photo', id: 5 } }))).toBe('Error: search: request.query.id: expected a photo id (a string)');
    expect(await refused(bad.search({ query: photo, controls: { aggregation: 'offline', nc: NaN, qe: 0, rerank: 0 } }))).toBe('Error: search: request.controls: NC must be a whole number from 1 to 1000, got NaN');
    expect(await refused(bad.search({ query: { kind: 'url' } }))).toMatch(/^Error: search: request.query.kind: expected \{ kind: "photo", id \} or \{ kind: "file", file: Blob, name \}/);
    expect(await refused(bad.search())).toMatch(/^Error: search: request: expected a search request/);
    expect(await refused(bad.deletePhotos('a1'))).toBe('Error: deletePhotos: ids: expected an array of photo ids (strings)');
    expect(await refused(bad.heatmaps([], 1.5))).toBe('Error: heatmaps: classIndex: expected a whole number');
    expect(await refused(bad.groups({ k: 1e300 }))).toMatch(/^Error: groups: options.k: /);
    expect(await refused(bad.importFiles([{ file: 'a.jpg' }]))).toBe('Error: importFiles: files[0].file: expected a File');
    expect(await refused(bad.start({ backend: 'wasm' }, onEvent))).toBe('Error: start: the engine has been started already (once per worker)');
    expect(await refused(bad.start({ backend: 'gpu' }, onEvent))).toMatch(/^Error: start: options.backend: /);
    expect(await refused(badDebug.photo(7))).toBe('Error: photo: id: expected a photo id (a string)');
    expect(await refused(badDebug.loseGpuDevice('later'))).toMatch(/^Error: loseGpuDevice: when: /);
    expect(await refused(badDebug.forwardTiming(['a1'], {}))).toMatch(/^Error: forwardTiming: options.fullSize: /);
    expect(calls).toEqual(['start(2)', 'started']);
  });

  it('lets absent optional arguments through, and fills what has a default', async () => {
    const { api, debug, calls } = standIn(Promise.resolve());
    await api.start({ backend: 'auto', model: 'resnet50', longSide: 512 }, onEvent);
    await api.search({ query: photo });
    await api.duplicates();
    await api.classCounts({});
    await debug.failForward();
    await (debug as unknown as { stats(extra: unknown): Promise<unknown> }).stats('ignored');
    expect(calls.slice(2)).toEqual(['search(1)', 'duplicates(1)', 'classCounts(1)', 'debug.failForward(1)', 'debug.stats(0)']);
  });

  it('keeps the debug tools out of the API, and the API out of the debug tools', () => {
    const { api, debug } = standIn(Promise.resolve());
    const apiMethods = Object.keys(api);
    const debugMethods = Object.keys(debug).sort();
    expect(debugMethods).toEqual(['checkIntegrity', 'failForward', 'forwardTiming', 'loseGpuDevice', 'measureBackends', 'photo', 'stats']);
    expect(apiMethods).toContain('search');
    expect(apiMethods.filter((m) => debugMethods.includes(m) || m.startsWith('debug'))).toEqual([]);
    expect(Object.keys(debug)).not.toContain('search');
  });
});
