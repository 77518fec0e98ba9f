/**
 * bench.html (the in-browser benchmark page, src/bench/page.ts) runs to the end on wasm in headless Chromium with a
 * tiny configuration and publishes finite figures. No timing is asserted: on a shared machine timings are whatever
 * they are (BENCHMARKS.md holds the measured figures).
 */
import { describe, expect, it } from 'vitest';
import type { BenchPageState } from '../../src/bench/page';
import { needsModels } from '../helpers/requirements';
import { browserAvailable, useE2E } from './harness';

const TINY = new URLSearchParams({
  backend: 'wasm',
  quick: '1',
  models: 'mobilenet_v1_0.75',
  longSides: '128',
  repeats: '1',
  warmup: '1',
  cwRepeats: '2',
  memoryImages: '3',
  ofaSizes: '500',
  ofaRepeats: '2',
  onaSizes: '12',
  shortlist: '4',
  onaRepeats: '1',
  onaLongSide: '128',
});

const finite = (x: unknown) => typeof x === 'number' && Number.isFinite(x);

describe.skipIf(!browserAvailable() || !needsModels('mobilenet_v1_0.75'))('bench.html in headless Chromium', () => {
  const e2e = useE2E();

  it('runs every section on wasm and reports finite figures', async () => {
    const { page, consoleErrors } = await e2e.openPage(`/bench.html?${TINY}`);
    await page.waitForFunction(() => window.__bench && window.__bench.status !== 'running', null, { timeout: 110_000, polling: 250 });
    const state = (await page.evaluate(() => window.__bench)) as BenchPageState;
    expect(state.error).toBeUndefined();
    expect(state.status).toBe('done');
    expect(state.backend).toBe('wasm');
    const r = state.report!;
    expect(r.meta.platform).toBe('browser');
    expect(r.meta.realPhotos).toBe(false);

    expect(r.forward).toHaveLength(1);
    const f = r.forward[0];
    expect(f.maps).toEqual([3, 4, 768]);
    for (const v of [f.bare.median, f.app.median, f.appDeviceTopk.median, f.encodeUint8.median, f.appRatio]) expect(finite(v)).toBe(true);
    for (const nc of [1, 8, 64]) {
      expect([f.withCw[nc].median, f.cwOnly[nc].median, f.ratio[nc], f.ratioFromCwOnly[nc]].every(finite)).toBe(true);
    }

    expect(r.storage[0].mapsBytes.uint8).toBe(3 * 4 * 768 + 8);
    expect(r.memory[0].images).toBe(3);
    expect(finite(r.memory[0].peak.peakBytesAbove)).toBe(true);
    expect(r.memory[0].leakedTensors).toBe(0);

    expect(r.ofa.map((o) => o.variant)).toEqual(['appSort', 'deviceTopk', 'transposedTopk', 'transposedJsTopk', 'blockedTopk', 'product']);
    for (const o of r.ofa) {
      expect(o.error).toBeUndefined();
      expect(finite(o.ms.median)).toBe(true);
      expect(o.agrees).toBe(true);
    }

    expect(r.ona.map((o) => o.variant)).toEqual(['decode', 'decodeUpload', 'product', 'shortlist']);
    expect(r.ona.every((o) => finite(o.ms.median) && finite(o.perImageMs))).toBe(true);
    expect(r.onaChecks[0].maxAbsDiff).toBeLessThan(1e-5);

    // No section left tensors behind.
    expect(Object.keys(r.tensorsLeft).sort()).toEqual(['forward', 'memory', 'ofa', 'ona']);
    expect(Object.values(r.tensorsLeft).every((n) => n === 0)).toBe(true);

    // The page rendered its tables.
    expect(await page.locator('table[data-table]').count()).toBe(7);
    expect(consoleErrors).toEqual([]);
  });
});
