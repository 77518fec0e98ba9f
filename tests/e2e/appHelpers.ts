/**
 * Helpers for the app's end-to-end tests (tests/e2e/app*.test.ts): the page-driving helpers of scripts/lib/appPage.ts
 * (shared with the scripts that measure the app), and the dev set under the tests' rule for what ../shared must hold.
 */
import { needsDevSet } from '../helpers/requirements';
import { readDevSet, type DevSet } from '../../scripts/lib/appPage';

export { appPhotos, canvasPixels, dropFiles, dropFolder, photoCounts, revealPhoto, waitIndexed, withExifOrientation, type DevSet, type FileSpec } from '../../scripts/lib/appPage';
export { median } from '../../src/util/median';

/**
 * paris6k-mini-dev, or null when ../shared is not there: the tests that need it are then skipped with a message,
 * or fail with it under CI=true (tests/helpers/requirements.ts).
 */
export function devSet(): DevSet | null {
  const dir = needsDevSet();
  return dir ? readDevSet(dir) : null;
}
