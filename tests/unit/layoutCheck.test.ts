/**
 * The geometric check of group links that eval-groups.ts measures (scripts/collection/layoutCheck.ts): two photos
 * whose cells show the same content in one layout (shifted) share many consistent matches; the same cells in a
 * shuffled layout match one by one but not in any one layout.
 */
import { describe, expect, it } from 'vitest';
import { layoutCells, layoutMatches } from '../../scripts/collection/layoutCheck';
import { prng } from '../../src/util/prng';

const [H, W, K] = [12, 12, 16];
const next = prng(7);
/** Distinct random non-negative cell features. */
const content = Array.from({ length: H * W }, () => Float32Array.from({ length: K }, () => next()));
function maps(cellAt: (y: number, x: number) => Float32Array): Float32Array {
  const X = new Float32Array(H * W * K);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) X.set(cellAt(y, x), (y * W + x) * K);
  return X;
}
const fresh = () => Float32Array.from({ length: K }, () => next());

describe('layout check of a group link', () => {
  const a = maps((y, x) => content[y * W + x]);
  it('finds many matches in one layout when the content is shifted by a cell', () => {
    const shifted = maps((y, x) => (x > 0 ? content[y * W + x - 1] : fresh()));
    expect(layoutMatches(layoutCells(a, H, W, K, 1), layoutCells(shifted, H, W, K, 1))).toBeGreaterThanOrEqual(H * (W - 1) - 2);
  });
  it('finds few when the same cells are shuffled (each matches, but not in one layout)', () => {
    const order = content.map((_, i) => i).sort(() => next() - 0.5);
    const shuffled = maps((y, x) => content[order[y * W + x]]);
    expect(layoutMatches(layoutCells(a, H, W, K, 1), layoutCells(shuffled, H, W, K, 1))).toBeLessThan(H * W / 10);
  });
});
