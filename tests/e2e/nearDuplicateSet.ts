/**
 * The collection the collection-tools tests use: 5 dev photos each of Eiffel, Louvre and Moulin Rouge, plus two
 * generated copies of the first (resized and re-encoded, smaller files: the original is the one to keep).
 */
import jpeg from 'jpeg-js';
import { applyTransform, TRANSFORMS } from '../../scripts/lib/nearDuplicateTransforms';
import type { DevSet, FileSpec } from './appHelpers';

const COPIES = ['resize60-q70', 'q35'];

export function nearDuplicateSet(set: DevSet) {
  const pick = (landmark: string, n: number) => set.images.filter((i) => i.name.startsWith(`paris_${landmark}_`)).slice(0, n).map((i) => i.name);
  const names = [...pick('eiffel', 5), ...pick('louvre', 5), ...pick('moulinrouge', 5)];
  const source = set.photo(names[0]);
  const decoded = jpeg.decode(source.bytes, { useTArray: true, formatAsRGBA: true });
  const copies: FileSpec[] = COPIES.map((t) => ({ name: `copy-${t}.jpg`, type: 'image/jpeg', bytes: applyTransform(decoded, TRANSFORMS.find((x) => x.name === t)!) }));
  const files: FileSpec[] = [...names.map((n) => set.photo(n)).map((p) => ({ name: p.fileName, type: 'image/jpeg', bytes: p.bytes })), ...copies];
  return { names, source, copies, files };
}
