/** What a search request is checked against before it runs (src/search/controls.ts): the query box and the controls. */
import { describe, expect, it } from 'vitest';
import { clampPixelBox, validateSearchControls, type SearchControls } from '../../src/search/controls';

describe('clampPixelBox (a 400 x 300 photo)', () => {
  const clamp = (x1: number, y1: number, x2: number, y2: number) => clampPixelBox({ x1, y1, x2, y2 }, 400, 300);
  const whole = { x1: 0, y1: 0, x2: 400, y2: 300 };

  it('keeps a box inside the photo as it is, fractions and a 1-pixel box included', () => {
    expect(clamp(10, 20, 110, 220)).toEqual({ x1: 10, y1: 20, x2: 110, y2: 220 });
    expect(clamp(10.25, 0.5, 399.75, 299.5)).toEqual({ x1: 10.25, y1: 0.5, x2: 399.75, y2: 299.5 });
    expect(clamp(0, 0, 1, 1)).toEqual({ x1: 0, y1: 0, x2: 1, y2: 1 });
    expect(clamp(0, 0, 400, 300)).toEqual(whole);
  });

  it('orders reversed corners (a box drawn up and to the left)', () => {
    expect(clamp(110, 220, 10, 20)).toEqual({ x1: 10, y1: 20, x2: 110, y2: 220 });
    expect(clamp(110, 20, 10, 220)).toEqual({ x1: 10, y1: 20, x2: 110, y2: 220 });
  });

  it('clips a box that reaches outside the photo to the photo', () => {
    expect(clamp(-50, -10, 500, 100)).toEqual({ x1: 0, y1: 0, x2: 400, y2: 100 });
    expect(clamp(350, 250, 450, 350)).toEqual({ x1: 350, y1: 250, x2: 400, y2: 300 });
    expect(clamp(-Infinity, 10, Infinity, 20)).toEqual({ x1: 0, y1: 10, x2: 400, y2: 20 });
  });

  it('gives the whole photo for a box with nothing inside it: outside, NaN, zero or sub-pixel area', () => {
    expect(clamp(500, 0, 600, 100)).toEqual(whole); // right of the photo
    expect(clamp(0, -100, 100, -1)).toEqual(whole); // above it
    expect(clamp(NaN, 10, 100, 100)).toEqual(whole);
    expect(clamp(10, 10, 100, NaN)).toEqual(whole);
    expect(clamp(50, 50, 50, 90)).toEqual(whole); // zero width
    expect(clamp(50, 50, 90, 50)).toEqual(whole); // zero height
    expect(clamp(50, 50, 50.5, 90)).toEqual(whole); // half a pixel wide
    expect(clamp(399.5, 0, 500, 100)).toEqual(whole); // half a pixel left inside
  });
});

describe('validateSearchControls', () => {
  const ok: SearchControls = { aggregation: 'offline', nc: 64, qe: 0, rerank: 100 };
  const check = (c: Partial<Record<keyof SearchControls, unknown>>) => () => validateSearchControls({ ...ok, ...c } as SearchControls);

  it('returns the controls, only the four known fields, and accepts every bound', () => {
    expect(validateSearchControls({ ...ok, extra: 'dropped' } as SearchControls)).toEqual(ok);
    expect(validateSearchControls({ aggregation: 'online', nc: 1, qe: 1000, rerank: 0 })).toEqual({ aggregation: 'online', nc: 1, qe: 1000, rerank: 0 });
    expect(validateSearchControls({ aggregation: 'offline', nc: 1000, qe: 0, rerank: 100000 })).toEqual({ aggregation: 'offline', nc: 1000, qe: 0, rerank: 100000 });
  });

  it('names the control, its range and the value for one out of range', () => {
    expect(check({ nc: 0 })).toThrow('NC must be a whole number from 1 to 1000, got 0');
    expect(check({ nc: 1001 })).toThrow('NC must be a whole number from 1 to 1000, got 1001');
    expect(check({ qe: -1 })).toThrow('QE n must be a whole number from 0 to 1000, got -1');
    expect(check({ qe: 1001 })).toThrow('QE n must be a whole number from 0 to 1000, got 1001');
    expect(check({ rerank: -5 })).toThrow('Re-ranking R must be a whole number from 0 to 100000, got -5');
    expect(check({ rerank: 100001 })).toThrow('Re-ranking R must be a whole number from 0 to 100000, got 100001');
  });

  it('refuses fractions, NaN, infinities and numbers sent as text', () => {
    expect(check({ nc: 2.5 })).toThrow('NC must be a whole number from 1 to 1000, got 2.5');
    expect(check({ qe: NaN })).toThrow('QE n must be a whole number from 0 to 1000, got NaN');
    expect(check({ rerank: Infinity })).toThrow('Re-ranking R must be a whole number from 0 to 100000, got Infinity');
    expect(check({ nc: '8' })).toThrow('NC must be a whole number from 1 to 1000, got 8');
  });

  it('keeps the optional steps beyond the paper when given, checked by the same validator as search()', () => {
    const more: SearchControls = { ...ok, aggregation: 'online', onlineShortlist: 100, superGlobal: 100, qeAlpha: 3, qeSource: 'region', qeNeighbours: 'reciprocal', diffusion: 0, diffusionK: 10 };
    expect(validateSearchControls(more)).toEqual(more);
    expect(check({ onlineShortlist: -1 })).toThrow('Online shortlist M must be a whole number from 0 to 100000, got -1');
    expect(check({ superGlobal: 2.5 })).toThrow('SuperGlobal M must be a whole number from 0 to 100000, got 2.5');
    expect(check({ qeAlpha: 11 })).toThrow('QE alpha must be a number from 0 to 10, got 11');
    expect(check({ qeSource: 'both' })).toThrow('QE source must be global or region, got both');
    expect(check({ qeNeighbours: 'nearest' })).toThrow('QE neighbours must be top, reciprocal, gap, got nearest');
    expect(check({ diffusionK: 0 })).toThrow('Diffusion neighbours k must be a whole number from 1 to 1000, got 0');
  });

  it('refuses an unknown aggregation', () => {
    expect(check({ aggregation: 'both' })).toThrow('aggregation must be offline or online, got both');
    expect(check({ aggregation: undefined })).toThrow('aggregation must be offline or online, got undefined');
  });
});
