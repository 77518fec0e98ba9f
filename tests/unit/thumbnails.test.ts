/**
 * The page's thumbnail cache (src/ui/thumbnails.ts): tiles shown together are fetched in one worker call once the
 * asks settle, a tile scrolled past before that is not fetched, a steady stream of asks is still fetched in time, the
 * cache stays within its size but never drops a thumbnail on screen, every URL it drops (evicted, fetched twice,
 * cleared) is released to the worker once, and a failed read is asked again when the tile shows again.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ThumbnailCache } from '../../src/ui/thumbnails';

/** The worker's answer: a URL per id (null: gone). */
const url = (id: string) => `blob:test/${id}`;
const noRelease = () => undefined;

describe('ThumbnailCache', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('fetches what is shown together in one call, not what was scrolled past, and tells the tiles', async () => {
    const calls: string[][] = [];
    const cache = new ThumbnailCache(async (ids) => (calls.push(ids), ids.map((id) => (id === 'gone' ? null : url(id)))), noRelease);
    const seen: string[] = [];
    cache.watch('a', () => seen.push('a'));
    cache.watch('gone', () => seen.push('gone'));
    const passed = cache.watch('b', () => seen.push('b'));
    passed(); // scrolled past before the asks settled
    await vi.advanceTimersByTimeAsync(60);
    expect(calls).toEqual([['a', 'gone']]);
    expect(seen).toEqual(['a', 'gone']);
    expect(cache.get('a')).toBe(url('a'));
    expect(cache.get('gone')).toBeNull();
    expect(cache.get('b')).toBeUndefined();
    cache.watch('a', () => undefined); // cached: no new call
    await vi.advanceTimersByTimeAsync(60);
    expect(calls).toHaveLength(1);
  });

  it('asks that keep coming (a steady scroll) are fetched within the longest wait, those still shown', async () => {
    const calls: string[][] = [];
    const cache = new ThumbnailCache(async (ids) => (calls.push(ids), ids.map(url)), noRelease);
    let shown = cache.watch('t0', () => undefined);
    for (let i = 1; i <= 10; i++) {
      await vi.advanceTimersByTimeAsync(20); // a new screen every 20 ms, the last one scrolled past
      shown();
      shown = cache.watch(`t${i}`, () => undefined);
    }
    // 200 ms of asks 20 ms apart: not one call per ask, nor none until the scroll stops.
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(calls.length).toBeLessThan(4);
    expect(calls.flat().length).toBeLessThan(5);
  });

  it('keeps at most its size, dropping the least recently shown, never a thumbnail on screen', async () => {
    const released: string[][] = [];
    const cache = new ThumbnailCache(async (ids) => ids.map(url), (urls) => released.push(urls), 3);
    const stop = ['a', 'b', 'c', 'd'].map((id) => cache.watch(id, () => undefined));
    await vi.advanceTimersByTimeAsync(60);
    expect(cache.cached).toBe(4); // all four on screen
    stop.forEach((s) => s());
    cache.watch('a', () => undefined); // shown again: most recent
    cache.watch('e', () => undefined);
    await vi.advanceTimersByTimeAsync(60);
    expect(cache.cached).toBe(3);
    expect(['a', 'b', 'c', 'd', 'e'].filter((id) => cache.get(id))).toEqual(['a', 'd', 'e']);
    expect(released, 'the dropped URLs go back to the worker').toEqual([[url('b'), url('c')]]);
    cache.clear();
    expect(released.flat().sort()).toEqual(['a', 'b', 'c', 'd', 'e'].map(url));
  });

  it('a photo fetched twice at once keeps its first URL and releases the second', async () => {
    const released: string[] = [];
    let n = 0;
    const slow = (ids: string[]) => new Promise<string[]>((done) => setTimeout(() => done(ids.map((id) => `${url(id)}#${++n}`)), 200));
    const cache = new ThumbnailCache(slow, (urls) => released.push(...urls));
    cache.watch('a', () => undefined);
    await vi.advanceTimersByTimeAsync(60); // the first fetch is on its way
    cache.watch('a', () => undefined); // a second tile of it asks before the URL came
    await vi.advanceTimersByTimeAsync(400);
    expect(cache.get('a')).toBe(`${url('a')}#1`);
    expect(released).toEqual([`${url('a')}#2`]);
  });

  it('a failed read is not cached: the tile asks again when shown again', async () => {
    let fail = true;
    const cache = new ThumbnailCache(async (ids) => {
      if (fail) throw new Error('the collection is closed');
      return ids.map(url);
    }, noRelease);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    cache.watch('a', () => undefined)();
    cache.watch('a', () => undefined);
    await vi.advanceTimersByTimeAsync(60);
    expect(cache.get('a')).toBeUndefined();
    expect(warn).toHaveBeenCalled();
    fail = false;
    cache.watch('a', () => undefined);
    await vi.advanceTimersByTimeAsync(60);
    expect(cache.get('a')).toBe(url('a'));
    warn.mockRestore();
  });
});
